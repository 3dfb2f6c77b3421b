//! The last `yinyom scan` report of each site (one row per site, replaced by each upload).

use super::{Result, Store};

/// A stored scan report.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScanRow {
    /// The site.
    pub site: String,
    /// When it was uploaded (unix ms).
    pub uploaded_at: i64,
    /// Who uploaded it (an account's e-mail).
    pub uploaded_by: String,
    /// How many violations it lists.
    pub violations: i64,
    /// The report, as `yinyom scan --json` wrote it (checked on upload).
    pub report_json: String,
}

impl Store {
    /// Stores `row` as its site's last scan, replacing the one before.
    pub async fn put_scan(&self, row: &ScanRow) -> Result<()> {
        let _turn = self.write_turn().await;
        on_pool!(self, pool => sqlx::query(
                "insert into scan_reports (site, uploaded_at, uploaded_by, violations, report_json)
                 values ($1, $2, $3, $4, $5)
                 on conflict (site) do update set uploaded_at = excluded.uploaded_at,
                    uploaded_by = excluded.uploaded_by, violations = excluded.violations,
                    report_json = excluded.report_json",
            )
            .bind(&row.site)
            .bind(row.uploaded_at)
            .bind(&row.uploaded_by)
            .bind(row.violations)
            .bind(&row.report_json)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The last scan of `site`, if one was uploaded.
    pub async fn last_scan(&self, site: &str) -> Result<Option<ScanRow>> {
        Ok(on_pool!(self, pool => sqlx::query_as::<_, ScanRow>(
                "select site, uploaded_at, uploaded_by, violations, report_json
                 from scan_reports where site = $1",
            )
            .bind(site)
            .fetch_optional(pool)
            .await)?)
    }
}
