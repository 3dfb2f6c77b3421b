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

/// The current consent of a site's visitors: each visitor's latest receipt, valid when
/// its `valid_until` is after `now` (an expired or withdrawn choice consents to nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CurrentRow {
    /// Visitors with at least one receipt.
    pub visitors: i64,
    /// Of those, visitors whose latest choice has not expired.
    pub valid: i64,
    /// Of those, visitors whose latest valid choice grants at least one item.
    pub opted_in: i64,
    /// Visitors whose latest receipt is a withdrawal.
    pub withdrawn: i64,
    /// Visitors whose latest choice (not a withdrawal) is past its validity.
    pub expired: i64,
    /// Per category or purpose: (kind, id, visitors consenting now, visitors who decided it).
    pub items: Vec<ItemRow>,
}

/// (kind, id, visitors consenting now, visitors who decided it).
pub type ItemRow = (String, String, i64, i64);

/// Each visitor's latest receipt on site `$1` (the newest by time; the greatest id on a
/// tie), and whether it is still valid at `$2` (RFC 3339 UTC with milliseconds, like
/// `valid_until`, so the strings compare as times). `{valid_until}` is the database's way
/// of reading the field out of the signed JSON. The grouping walks the
/// `receipts_subject_latest (site_id, subject_id, issued_at, receipt_id)` index (migration `evidence`).
const LATEST: &str = "with last_at as (
        select subject_id, max(issued_at) as at from receipts where site_id = $1 group by subject_id
    ), latest as (
        select max(r.receipt_id) as receipt_id from receipts r
        join last_at l on r.site_id = $1 and r.subject_id = l.subject_id and r.issued_at = l.at
        group by r.subject_id
    ), now_state as (
        select r.receipt_id, r.event, case when {valid_until} > $2 then 1 else 0 end as valid
        from latest x join receipts r on r.receipt_id = x.receipt_id
    )";

impl Store {
    /// The current consent on `site` at `now_ms` ([`CurrentRow`]), from each visitor's
    /// latest receipt (its own validity end decides expiry).
    pub async fn current_consent(&self, site: &str, now_ms: i64) -> Result<CurrentRow> {
        let now = crate::dates::rfc3339_ms(now_ms);
        let sql = |valid_until: &str, tail: &str| {
            format!("{} {tail}", LATEST.replace("{valid_until}", valid_until))
        };
        let totals = "select cast(count(*) as bigint), cast(coalesce(sum(c.valid), 0) as bigint),
                cast(coalesce(sum(case when c.valid = 1 and exists (select 1 from receipt_decisions d
                    where d.receipt_id = c.receipt_id and d.granted = 1) then 1 else 0 end), 0) as bigint),
                cast(coalesce(sum(case when c.event = 'withdrawn' then 1 else 0 end), 0) as bigint),
                cast(coalesce(sum(case when c.event <> 'withdrawn' and c.valid = 0 then 1 else 0 end), 0) as bigint)
            from now_state c";
        let items = "select d.kind, d.item,
                cast(sum(case when c.valid = 1 and d.granted = 1 then 1 else 0 end) as bigint),
                cast(count(*) as bigint)
            from now_state c join receipt_decisions d on d.receipt_id = c.receipt_id
            group by d.kind, d.item order by d.kind, d.item";
        let (totals, items): ((i64, i64, i64, i64, i64), Vec<ItemRow>) = match self {
            Store::Sqlite(pool) => {
                let v = "json_extract(r.receipt_json, '$.valid_until')";
                (
                    sqlx::query_as(&sql(v, totals))
                        .bind(site)
                        .bind(&now)
                        .fetch_one(pool)
                        .await?,
                    sqlx::query_as(&sql(v, items))
                        .bind(site)
                        .bind(&now)
                        .fetch_all(pool)
                        .await?,
                )
            }
            Store::Postgres(pool) => {
                let v = "(r.receipt_json::json ->> 'valid_until')";
                (
                    sqlx::query_as(&sql(v, totals))
                        .bind(site)
                        .bind(&now)
                        .fetch_one(pool)
                        .await?,
                    sqlx::query_as(&sql(v, items))
                        .bind(site)
                        .bind(&now)
                        .fetch_all(pool)
                        .await?,
                )
            }
        };
        Ok(CurrentRow {
            visitors: totals.0,
            valid: totals.1,
            opted_in: totals.2,
            withdrawn: totals.3,
            expired: totals.4,
            items,
        })
    }

    /// Visitors of `site` whose latest receipt is under notice `version` and who also made
    /// a receipt under an earlier version: those who consented again after it changed.
    pub async fn reconsented(&self, site: &str, version: &str) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, pool => sqlx::query_as(
            "with last_at as (
                select subject_id, max(issued_at) as at from receipts where site_id = $1 group by subject_id
            )
            select cast(count(distinct l.subject_id) as bigint) from last_at l
            join receipts r on r.site_id = $1 and r.subject_id = l.subject_id and r.issued_at = l.at
            where r.notice_version = $2 and exists (
                select 1 from receipts o where o.site_id = $1 and o.subject_id = l.subject_id
                and o.notice_version <> $2 and o.issued_at < l.at)",
        )
        .bind(site)
        .bind(version)
        .fetch_one(pool)
        .await)?;
        Ok(n)
    }
}
