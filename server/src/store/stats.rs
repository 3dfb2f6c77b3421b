//! Statistics of a site's receipts over a time range.

use super::{Result, Store};
use crate::dates::{DAY_MS, TH_OFFSET_MS};

/// One day's counts for the statistics.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct StatsRow {
    /// Day number since the epoch, in Thailand time (UTC+7).
    pub day: i64,
    /// Notice version.
    pub notice_version: String,
    /// Collection method.
    pub method: String,
    /// Receipts.
    pub count: i64,
}

impl Store {
    /// Receipts per Thailand day, notice version and method, in `[from_ms, to_ms)`.
    pub async fn stats_by_day(
        &self,
        site: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<StatsRow>> {
        // The Thailand day in SQL, as `dates::thailand_day` computes it (issue times are
        // after 1970, so division rounds down).
        let rows = on_pool!(self, pool => sqlx::query_as(
            "select (issued_at + $4) / $5 as day, notice_version, method, count(*) as count
             from receipts where site_id = $1 and issued_at >= $2 and issued_at < $3
             group by day, notice_version, method order by day, notice_version, method",
        )
        .bind(site)
        .bind(from_ms)
        .bind(to_ms)
        .bind(TH_OFFSET_MS)
        .bind(DAY_MS)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// Granted and denied counts per category or purpose in `[from_ms, to_ms)`.
    pub async fn stats_by_item(
        &self,
        site: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(String, String, i64, i64)>> {
        let rows = on_pool!(self, pool => sqlx::query_as(
            "select d.kind, d.item, cast(sum(d.granted) as bigint), cast(count(*) - sum(d.granted) as bigint)
             from receipt_decisions d join receipts r on r.receipt_id = d.receipt_id
             where d.site_id = $1 and r.issued_at >= $2 and r.issued_at < $3
             group by d.kind, d.item order by d.kind, d.item",
        )
        .bind(site)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// Each visitor's newest receipt on the site, counted per (notice version, event):
    /// `(version, event, visitors, of them past validity)`. A receipt is past validity when
    /// issued at or before its version's cutoff in `cutoffs` (`now` minus the version's
    /// consent validity); versions not listed are never past.
    pub async fn newest_per_visitor(
        &self,
        site: &str,
        cutoffs: &[(String, i64)],
    ) -> Result<Vec<(String, String, i64, i64)>> {
        let rows = on_pool!(self, pool => {
            let mut q = sqlx::QueryBuilder::new(
                "with newest as (
                    select notice_version, event, issued_at,
                           row_number() over (partition by subject_id
                                              order by issued_at desc, receipt_id desc) as rn
                    from receipts where site_id = ",
            );
            q.push_bind(site);
            q.push(
                ") select notice_version, event, count(*),
                          cast(sum(case when issued_at <= (case notice_version",
            );
            for (version, cutoff) in cutoffs {
                q.push(" when ")
                    .push_bind(version.as_str())
                    .push(" then ")
                    .push_bind(*cutoff);
            }
            q.push(
                " else -1 end) then 1 else 0 end) as bigint)
                 from newest where rn = 1 group by notice_version, event
                 order by notice_version, event",
            );
            q.build_query_as().fetch_all(pool).await?
        });
        Ok(rows)
    }
}
