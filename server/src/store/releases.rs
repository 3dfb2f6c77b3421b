//! The release log: one row per record-level export of consent receipts (who, under which
//! access tier, for what purpose, on which reference, how many records). Rows are only
//! ever appended.

use super::{Result, Store, now_ms};

/// One release, as stored.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct ReleaseRow {
    /// Id (increasing).
    pub id: i64,
    /// Unix ms.
    pub at: i64,
    /// Who released the records (e-mail, or `token:<name>`).
    pub actor: String,
    /// Their console role.
    pub role: String,
    /// The access tier the role maps to (1–5).
    pub tier: i64,
    /// Which site's receipts.
    pub site_id: String,
    /// Export format.
    pub format: String,
    /// The purpose stated for the release.
    pub purpose: String,
    /// The memo or letter number the release rests on.
    pub reference: String,
    /// How many receipts were released.
    pub records: i64,
    /// From where (client address).
    pub client: String,
}

/// A release to write (the id and time are the store's).
#[derive(Debug, Clone)]
pub struct NewRelease<'a> {
    /// Who.
    pub actor: &'a str,
    /// Their role.
    pub role: &'a str,
    /// Their tier.
    pub tier: i64,
    /// Which site.
    pub site_id: &'a str,
    /// Export format.
    pub format: &'a str,
    /// Stated purpose.
    pub purpose: &'a str,
    /// Memo or letter number.
    pub reference: &'a str,
    /// How many receipts.
    pub records: i64,
    /// From where.
    pub client: &'a str,
}

impl Store {
    /// Appends a release to the log.
    pub async fn record_release(&self, r: &NewRelease<'_>) -> Result<()> {
        let now = now_ms();
        on_pool!(self, pool => sqlx::query(
            "insert into release_log (at, actor, role, tier, site_id, format, purpose, reference, records, client) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(now)
        .bind(r.actor)
        .bind(r.role)
        .bind(r.tier)
        .bind(r.site_id)
        .bind(r.format)
        .bind(r.purpose)
        .bind(r.reference)
        .bind(r.records)
        .bind(r.client)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Releases, newest first, of the given sites (`None`: every site), before `before_id`.
    pub async fn releases(
        &self,
        sites: Option<&[String]>,
        before_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ReleaseRow>> {
        self.newest_first(
            "select id, at, actor, role, tier, site_id, format, purpose, reference, records, client \
             from release_log",
            sites,
            before_id,
            limit,
        )
        .await
    }
}
