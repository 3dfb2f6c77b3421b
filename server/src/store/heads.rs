//! Each visitor's latest choice on a site (its head), kept on the visitor's `subjects` row
//! in the transaction that writes the receipt, and `consent_now`: how many heads there
//! are per (Thailand day their validity ends, withdrawal, notice version, an earlier
//! receipt under another version, decisions). The current-consent statistics add up
//! those few rows instead of finding every visitor's latest receipt; only the heads whose
//! validity ends today are read one by one, so expiry stays exact to the millisecond.
//! `log verify` recomputes both from the receipts.
//!
//! A key's count is kept in shards (`consent_now.shard`): on PostgreSQL each receipt group
//! adds to the next of [`SHARDS`] rows, so the receipt writers' transactions, which all
//! touch the same few keys (today's Accept all …), do not queue behind each other on one
//! row lock until each commits. Readers add the shards up. SQLite has one writer: shard 0.

use super::conn::{Conn, Row, Statement, Value};
use super::{Backend, ROWS_PER_STATEMENT, Result, Store, StoreError};
use crate::dates::thailand_day;
use std::collections::BTreeMap;
use yinyom_model::receipt::{Event, Receipt};

/// How many rows a `consent_now` key is spread over by the PostgreSQL receipt writers
/// (`ingest.rs` runs four; a fleet of processes shares the same shards).
pub const SHARDS: i64 = 8;

/// The `consent_now` shard the next receipt group adds to: round robin on PostgreSQL, so
/// groups committing at the same time hold different rows; 0 on SQLite.
pub fn next_shard(backend: super::Backend) -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static NEXT: AtomicI64 = AtomicI64::new(0);
    match backend {
        super::Backend::Sqlite => 0,
        super::Backend::Postgres => NEXT.fetch_add(1, Ordering::Relaxed).rem_euclid(SHARDS),
    }
}

/// A visitor's latest choice on a site, as its `subjects` row keeps it (`head_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The latest receipt's `valid_until`, unix ms.
    pub until_ms: i64,
    /// 1 when the latest receipt is a withdrawal.
    pub withdrawn: i64,
    /// The notice version it was made under.
    pub version: String,
    /// 1 when an earlier receipt of the visitor was made under another version (the
    /// visitor consented again after the notice changed).
    pub mixed: i64,
    /// Its decisions ([`choice_of`]).
    pub choice: String,
}

/// The `head_*` columns of a `subjects` row (all empty: none recorded).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeadColumns {
    pub(super) head_until: Option<i64>,
    pub(super) head_withdrawn: Option<i64>,
    pub(super) head_version: Option<String>,
    pub(super) head_mixed: Option<i64>,
    pub(super) head_choice: Option<String>,
}

impl HeadColumns {
    /// The head columns of `row` from column `first` on, in [`HEAD_COLUMNS`]' order.
    pub(super) fn of_row(row: &Row, first: usize) -> Result<Self> {
        Self::read(row, first, false)
    }

    /// [`HeadColumns::of_row`] for `log verify`: each column read whatever its type
    /// ([`Row::opt_any_int`], [`Row::opt_any_text`]), so one rewritten with another type
    /// is named as differing from the signed receipts instead of failing the audit.
    pub(super) fn of_audited_row(row: &Row, first: usize) -> Result<Self> {
        Self::read(row, first, true)
    }

    /// The columns, strictly typed or (`any`) whatever their type.
    fn read(row: &Row, first: usize, any: bool) -> Result<Self> {
        let int = |i| {
            if any {
                row.opt_any_int(i)
            } else {
                row.opt_int(i)
            }
        };
        let text = |i| {
            if any {
                row.opt_any_text(i)
            } else {
                row.opt_text(i)
            }
        };
        Ok(Self {
            head_until: int(first)?,
            head_withdrawn: int(first + 1)?,
            head_version: text(first + 2)?,
            head_mixed: int(first + 3)?,
            head_choice: text(first + 4)?,
        })
    }

    /// Its latest choice, if recorded.
    pub fn head(&self) -> Option<Head> {
        Some(Head {
            until_ms: self.head_until?,
            withdrawn: self.head_withdrawn?,
            version: self.head_version.clone()?,
            mixed: self.head_mixed?,
            choice: self.head_choice.clone()?,
        })
    }
}

/// The head columns, for a `select`.
pub const HEAD_COLUMNS: &str =
    "subject_id, head_until, head_withdrawn, head_version, head_mixed, head_choice";

/// A receipt's decisions in one short text: `c:<category>=1 p:<purpose>=0 …`, categories
/// then purposes, each in id order.
pub fn choice_of(r: &Receipt) -> String {
    let cats = r.categories.iter().map(|(i, g)| ('c', i, g));
    let purposes = r.purposes.iter().map(|(i, g)| ('p', i, g));
    cats.chain(purposes)
        .map(|(k, i, g)| format!("{k}:{}={}", i.as_str(), u8::from(*g)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A visitor's choice once `receipt` is written after `before`: the receipt's decisions,
/// and for what it does not decide (a form decides only its purposes, a banner choice
/// only what the banner asks) the earlier choice, as the consent-check answer reads it
/// (`consent::Answer::of_history`). A withdrawal, and anything after one, starts afresh.
fn merged_choice(before: Option<&Head>, receipt: &Receipt) -> String {
    let own = choice_of(receipt);
    let Some(before) = before.filter(|b| b.withdrawn == 0 && receipt.event != Event::Withdrawn)
    else {
        return own;
    };
    let mut all: BTreeMap<(&str, &str), bool> = decisions(&before.choice)
        .map(|(kind, id, g)| ((kind, id), g))
        .collect();
    all.extend(decisions(&own).map(|(kind, id, g)| ((kind, id), g)));
    // `category` sorts before `purpose`: categories, then purposes, each in id order.
    all.iter()
        .map(|((kind, id), g)| format!("{}:{id}={}", &kind[..1], u8::from(*g)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The decisions of a [`choice_of`] text: (kind, id, granted).
pub fn decisions(choice: &str) -> impl Iterator<Item = (&'static str, &str, bool)> {
    choice.split(' ').filter_map(|d| {
        let (k, rest) = d.split_once(':')?;
        let (item, g) = rest.rsplit_once('=')?;
        let kind = match k {
            "c" => "category",
            "p" => "purpose",
            _ => return None,
        };
        Some((kind, item, g == "1"))
    })
}

impl Head {
    /// The visitor's head once `receipt` is written after `before` (its head until then).
    pub fn after(before: Option<&Head>, receipt: &Receipt) -> Result<Head> {
        let version = receipt.notice.version.clone();
        let until_ms = crate::config::parse_time_ms(&receipt.valid_until)
            .map_err(|e| StoreError::Corrupt(format!("receipt {}: {e}", receipt.receipt_id)))?;
        Ok(Head {
            until_ms,
            withdrawn: i64::from(receipt.event == Event::Withdrawn),
            mixed: before.map_or(0, |b| i64::from(b.mixed == 1 || b.version != version)),
            version,
            choice: merged_choice(before, receipt),
        })
    }

    /// Its `consent_now` key.
    pub fn key(&self) -> NowKey {
        (
            thailand_day(self.until_ms),
            self.withdrawn,
            self.version.clone(),
            self.mixed,
            self.choice.clone(),
        )
    }
}

/// A `consent_now` key: (Thailand day the validity ends, withdrawn, notice version, mixed,
/// choice).
pub type NowKey = (i64, i64, String, i64, String);

/// Changes to `consent_now` (or, from nothing, its whole content): heads added and taken
/// away per key.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct NowCounts(pub BTreeMap<NowKey, i64>);

impl NowCounts {
    /// A visitor's head moved from `before` to `after`.
    pub fn moved(&mut self, before: Option<&Head>, after: Option<&Head>) {
        if let Some(b) = before {
            *self.0.entry(b.key()).or_default() -= 1;
        }
        if let Some(a) = after {
            *self.0.entry(a.key()).or_default() += 1;
        }
    }

    /// The keys that change (no zero rows).
    pub fn changes(&self) -> impl Iterator<Item = (&NowKey, i64)> {
        self.0
            .iter()
            .filter(|(_, n)| **n != 0)
            .map(|(k, n)| (k, *n))
    }
}

/// Every visitor's head from their receipts: `receipts` are (visitor, issue time ms,
/// receipt id, canonical JSON) in any order; the latest by (time, id) is the head. A
/// receipt whose JSON cannot be read is passed over (`log verify` names it).
pub fn heads_of(mut receipts: Vec<ReceiptOfHead>) -> BTreeMap<String, Head> {
    receipts.sort_by(|a, b| (&a.0, a.1, &a.2).cmp(&(&b.0, b.1, &b.2)));
    let mut heads: BTreeMap<String, Head> = BTreeMap::new();
    for (subject, _, _, json) in receipts {
        let Ok(receipt) = super::from_json::<Receipt>(&json) else {
            continue;
        };
        if let Ok(head) = Head::after(heads.get(&subject), &receipt) {
            heads.insert(subject, head);
        }
    }
    heads
}

/// (visitor, issue time ms, receipt id, canonical JSON): what [`heads_of`] reads.
pub type ReceiptOfHead = (String, i64, String, String);

/// The receipts of a site's visitors, for [`heads_of`] (the site and the visitors follow).
const RECEIPTS_OF_HEADS: &str = concat!(
    "select r.subject_id, r.issued_at, r.receipt_id, ",
    super::packing::json_columns!(),
    " from receipts r",
    super::packing::template_join!(),
    "where r.site_id = "
);

/// Recomputes the heads of `subjects` of `site` from the receipts they have now, inside
/// the caller's transaction, and moves `consent_now` with them (after an erasure, or as a
/// repair; `only_empty`: only the visitors with no head yet). Returns how many heads it
/// changed.
pub async fn recompute_heads<C: Conn>(
    conn: &mut C,
    site: &str,
    subjects: &[String],
    only_empty: bool,
) -> Result<u64> {
    let mut counts = NowCounts::default();
    let mut changed = 0;
    for chunk in subjects.chunks(ROWS_PER_STATEMENT) {
        let of_chunk = |sql: &str| {
            let mut q = Statement::new(sql);
            q.bind(site).push(" and subject_id in ");
            q.tuple(chunk.iter().map(Value::from));
            q
        };
        let before = conn
            .rows(&of_chunk(&format!(
                "select {HEAD_COLUMNS} from subjects where site_id = "
            )))
            .await?;
        let receipts = conn
            .rows(&of_chunk(RECEIPTS_OF_HEADS))
            .await?
            .iter()
            .map(|r| {
                // A body that cannot be unpacked reads as empty, and `heads_of` passes it
                // over (`log verify` names it).
                let json = super::packing::decode(r.opt_text(3)?, r.opt_blob(4)?, r.opt_blob(5)?)
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                Ok((r.text(0)?, r.int(1)?, r.text(2)?, json))
            })
            .collect::<Result<Vec<ReceiptOfHead>>>()?;
        let after = heads_of(receipts);
        for row in before {
            let subject = row.text(0)?;
            let old = HeadColumns::of_row(&row, 1)?.head();
            if only_empty && old.is_some() {
                continue;
            }
            let new = after.get(&subject);
            if old.as_ref() == new {
                continue;
            }
            conn.run(&Statement::with(
                "update subjects set head_until = $3, head_withdrawn = $4, head_version = $5,
                    head_mixed = $6, head_choice = $7
                 where site_id = $1 and subject_id = $2",
                vec![
                    site.into(),
                    (&subject).into(),
                    new.map(|h| h.until_ms).into(),
                    new.map(|h| h.withdrawn).into(),
                    new.map(|h| h.version.as_str()).into(),
                    new.map(|h| h.mixed).into(),
                    new.map(|h| h.choice.as_str()).into(),
                ],
            ))
            .await?;
            counts.moved(old.as_ref(), new);
            changed += 1;
        }
    }
    let changes: Vec<(&NowKey, i64)> = counts.changes().collect();
    for chunk in changes.chunks(ROWS_PER_STATEMENT) {
        add_consent_now(&mut *conn, site, 0, chunk).await?;
    }
    Ok(changed)
}

impl Store {
    /// Fills the head of every visitor that has none yet (visitors from before migration
    /// `storage`) from their receipts, with their `consent_now` counts, a few hundred
    /// visitors per transaction. Idempotent: a head once set is left alone, so every start
    /// runs it and, after the first, finds nothing to do. Returns how many it filled.
    pub async fn backfill_heads(&self) -> Result<u64> {
        let mut filled = 0;
        loop {
            let batch: Vec<(String, String)> = on_pool!(self, pool => sqlx::query_as(
                "select s.site_id, s.subject_id from subjects s
                 where s.head_until is null and exists (select 1 from receipts r
                     where r.site_id = s.site_id and r.subject_id = s.subject_id)
                 order by s.site_id, s.subject_id limit 500",
            )
            .fetch_all(pool)
            .await)?;
            let Some(site) = batch.first().map(|b| b.0.clone()) else {
                return Ok(filled);
            };
            let subjects: Vec<String> = batch
                .into_iter()
                .filter(|(s, _)| *s == site)
                .map(|(_, subject)| subject)
                .collect();
            let _turn = self.write_turn().await;
            let n = on_pool!(self, pool => in_transaction!(pool, |tx| {
                let n = recompute_heads(&mut *tx, &site, &subjects, true).await?;
                tx.commit().await?;
                Ok(n)
            }))?;
            if n == 0 {
                // Receipts that cannot be read: `log verify` names them.
                return Ok(filled);
            }
            filled += n;
        }
    }
}

/// Adds `changes` (at most [`super::ROWS_PER_STATEMENT`]) to shard `shard` of
/// `consent_now` of `site` inside the caller's transaction, in key order (one lock order
/// for every writer). A shard's count may go below zero (a head counted in one shard,
/// moved away in another); only the sum of a key's shards means anything.
pub async fn add_consent_now<C: Conn>(
    conn: &mut C,
    site: &str,
    shard: i64,
    changes: &[(&NowKey, i64)],
) -> Result<()> {
    if let Some(q) = consent_now_added(conn.backend(), site, shard, changes) {
        conn.run(&q).await?;
    }
    Ok(())
}

/// The statement of [`add_consent_now`], if there are changes.
pub fn consent_now_added(
    backend: Backend,
    site: &str,
    shard: i64,
    changes: &[(&NowKey, i64)],
) -> Option<Statement> {
    if changes.is_empty() {
        return None;
    }
    let mut q = Statement::new(
        "insert into consent_now (site_id, until_day, withdrawn, version, mixed, choice, shard, n)",
    );
    q.rows(
        backend,
        changes,
        |((day, withdrawn, version, mixed, choice), n)| {
            vec![
                site.into(),
                (*day).into(),
                (*withdrawn).into(),
                version.into(),
                (*mixed).into(),
                choice.into(),
                shard.into(),
                (*n).into(),
            ]
        },
    );
    q.push(
        " on conflict (site_id, until_day, withdrawn, version, mixed, choice, shard)
         do update set n = consent_now.n + excluded.n",
    );
    Some(q)
}

impl Store {
    /// Recomputes every head of `site` from its receipts, and `consent_now` from the
    /// heads: a repair after receipts or these tables were changed by hand (`log verify`
    /// says when). Returns how many heads changed.
    pub async fn recompute_site_heads(&self, site: &str) -> Result<u64> {
        let subjects: Vec<String> = on_pool!(self, pool => sqlx::query_scalar(
            "select subject_id from subjects where site_id = $1 order by subject_id",
        )
        .bind(site)
        .fetch_all(pool)
        .await)?;
        let mut changed = 0;
        for chunk in subjects.chunks(500) {
            let _turn = self.write_turn().await;
            changed += on_pool!(self, pool => in_transaction!(pool, |tx| {
                let n = recompute_heads(&mut *tx, site, chunk, false).await?;
                tx.commit().await?;
                Ok(n)
            }))?;
        }
        let _turn = self.write_turn().await;
        on_pool!(self, pool => in_transaction!(pool, |tx| {
            sqlx::query("delete from consent_now where site_id = $1")
                .bind(site)
                .execute(&mut *tx)
                .await?;
            // The Thailand day in SQL, as `dates::thailand_day` computes it (validity ends
            // after 1970, so division rounds down).
            sqlx::query(
                "insert into consent_now (site_id, until_day, withdrawn, version, mixed, choice, n)
                 select site_id, (head_until + $2) / $3, head_withdrawn, head_version, head_mixed,
                        head_choice, count(*)
                 from subjects where site_id = $1 and head_until is not null
                 group by 1, 2, 3, 4, 5, 6",
            )
            .bind(site)
            .bind(crate::dates::TH_OFFSET_MS)
            .bind(crate::dates::DAY_MS)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        }))?;
        Ok(changed)
    }

    /// The stored `consent_now` of `site` (no zero rows), for `log verify`.
    pub async fn consent_now_counts(&self, site: &str) -> Result<NowCounts> {
        // Read whatever the columns' types (`log verify` compares them with the signed
        // receipts: a column rewritten with another type is a difference, not a failure).
        let rows = self
            .read_rows(&Statement::with(
                "select until_day, withdrawn, version, mixed, choice, cast(sum(n) as bigint)
                 from consent_now where site_id = $1
                 group by until_day, withdrawn, version, mixed, choice having sum(n) <> 0",
                vec![site.into()],
            ))
            .await?;
        let count = |r: &Row| {
            let key = (
                r.any_int(0)?,
                r.any_int(1)?,
                r.any_text(2)?,
                r.any_int(3)?,
                r.any_text(4)?,
            );
            Ok((key, r.any_int(5)?))
        };
        Ok(NowCounts(rows.iter().map(count).collect::<Result<_>>()?))
    }
}
