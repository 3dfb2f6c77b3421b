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
}
