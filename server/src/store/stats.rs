//! Statistics of a site's receipts over a time range.

use super::{Result, Store, heads::decisions};
use crate::dates::{DAY_MS, TH_OFFSET_MS, thailand_day, thailand_day_start};
use std::collections::BTreeMap;

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

    /// Granted and denied counts per category or purpose in `[from_ms, to_ms)`: the
    /// receipts grouped by their decisions (`choice`; a site has few distinct ones), each
    /// group's count then added to every item it decides.
    pub async fn stats_by_item(
        &self,
        site: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(String, String, i64, i64)>> {
        let groups: Vec<(String, i64)> = on_pool!(self, pool => sqlx::query_as(
            "select choice, count(*) from receipts
             where site_id = $1 and issued_at >= $2 and issued_at < $3 group by choice",
        )
        .bind(site)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(pool)
        .await)?;
        let mut items: BTreeMap<(&str, &str), (i64, i64)> = BTreeMap::new();
        for (choice, n) in &groups {
            for (kind, item, granted) in decisions(choice) {
                let (yes, no) = items.entry((kind, item)).or_default();
                *(if granted { yes } else { no }) += n;
            }
        }
        Ok(items
            .into_iter()
            .map(|((kind, item), (yes, no))| (kind.to_owned(), item.to_owned(), yes, no))
            .collect())
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

impl Store {
    /// The current consent on `site` at `now_ms` ([`CurrentRow`]), from each visitor's
    /// latest receipt (its own validity end decides expiry): the `consent_now` counts of
    /// the heads whose validity ends on another Thailand day than today, and the heads
    /// ending today one by one (store/heads.rs). A few hundred rows at any number of
    /// receipts.
    pub async fn current_consent(&self, site: &str, now_ms: i64) -> Result<CurrentRow> {
        let today = thailand_day(now_ms);
        let counted: Vec<(i64, i64, String, i64)> = on_pool!(self, pool => sqlx::query_as(
            "select cast(case when until_day > $2 then 1 else 0 end as bigint), withdrawn, choice,
                    cast(sum(n) as bigint)
             from consent_now where site_id = $1 and until_day <> $2 and n <> 0
             group by 1, withdrawn, choice",
        )
        .bind(site)
        .bind(today)
        .fetch_all(pool)
        .await)?;
        let ending_today: Vec<(i64, i64, String, i64)> = on_pool!(self, pool => sqlx::query_as(
            "select cast(case when head_until > $4 then 1 else 0 end as bigint), head_withdrawn,
                    head_choice, cast(count(*) as bigint)
             from subjects where site_id = $1 and head_until >= $2 and head_until < $3
             group by 1, head_withdrawn, head_choice",
        )
        .bind(site)
        .bind(thailand_day_start(today))
        .bind(thailand_day_start(today + 1))
        .bind(now_ms)
        .fetch_all(pool)
        .await)?;
        let mut row = CurrentRow::default();
        let mut items: BTreeMap<(&'static str, String), (i64, i64)> = BTreeMap::new();
        for (valid, withdrawn, choice, n) in counted.iter().chain(&ending_today) {
            let (valid, withdrawn, n) = (*valid == 1, *withdrawn == 1, *n);
            let mut grants = false;
            for (kind, item, granted) in decisions(choice) {
                let e = items.entry((kind, item.to_owned())).or_default();
                e.1 += n;
                if valid && granted {
                    e.0 += n;
                }
                grants |= granted;
            }
            row.visitors += n;
            if valid {
                row.valid += n;
                if grants {
                    row.opted_in += n;
                }
            }
            if withdrawn {
                row.withdrawn += n;
            } else if !valid {
                row.expired += n;
            }
        }
        row.items = items
            .into_iter()
            .map(|((kind, item), (consenting, decided))| {
                (kind.to_owned(), item, consenting, decided)
            })
            .collect();
        Ok(row)
    }

    /// Visitors of `site` whose latest receipt is under notice `version` and who also made
    /// a receipt under an earlier version: those who consented again after it changed
    /// (the heads' `mixed`, counted in `consent_now`).
    pub async fn reconsented(&self, site: &str, version: &str) -> Result<i64> {
        let n: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
            "select cast(sum(n) as bigint) from consent_now
             where site_id = $1 and version = $2 and mixed = 1",
        )
        .bind(site)
        .bind(version)
        .fetch_one(pool)
        .await)?;
        Ok(n.unwrap_or(0))
    }
}
