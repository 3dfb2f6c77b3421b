//! Receipt search of the console and the pages that exports stream, with an exact total
//! that stays fast at millions of receipts.

use super::conn::Statement;
use super::{Result, Store, StoredReceipt, receipts::ReceiptRow};
use crate::dates::{DAY_MS, thailand_day, thailand_day_start};

/// Receipt search filters of the console.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    /// Site id.
    pub site: String,
    /// From (unix ms, inclusive).
    pub from_ms: Option<i64>,
    /// To (unix ms, exclusive).
    pub to_ms: Option<i64>,
    /// Notice version.
    pub notice_version: Option<String>,
    /// Collection method.
    pub method: Option<String>,
    /// Category or purpose id decided…
    pub item: Option<String>,
    /// …granted (true) or denied (false).
    pub granted: Option<bool>,
    /// Subject id (the pseudonym receipts carry)…
    pub subject_id: Option<String>,
    /// …or this one: the pseudonym of `subject_id` when what was typed is a visitor's
    /// secret (a citizen reads it from their browser).
    pub subject_alias: Option<String>,
    /// Receipt id.
    pub receipt_id: Option<String>,
}

impl SearchFilter {
    /// Reads a decision filter: `granted`, `denied`, or `any` / empty for either.
    pub fn decision(v: Option<&str>) -> std::result::Result<Option<bool>, String> {
        match v.map(str::trim) {
            None | Some("" | "any") => Ok(None),
            Some("granted") => Ok(Some(true)),
            Some("denied") => Ok(Some(false)),
            Some(other) => Err(format!(
                "decision must be granted, denied or any, not `{other}`"
            )),
        }
    }
}

/// Appends the receipt search as SQL conditions on `receipts r` (the same text for both
/// stores), binding its values.
fn push_filter(q: &mut Statement, f: &SearchFilter) {
    q.push("r.site_id = ").bind(&f.site);
    if let Some(v) = f.from_ms {
        q.push(" and r.issued_at >= ").bind(v);
    }
    if let Some(v) = f.to_ms {
        q.push(" and r.issued_at < ").bind(v);
    }
    if let Some(v) = &f.notice_version {
        q.push(" and r.notice_version = ").bind(v);
    }
    if let Some(v) = &f.method {
        q.push(" and r.method = ").bind(v);
    }
    match (&f.subject_id, &f.subject_alias) {
        (Some(v), Some(alias)) => {
            q.push(" and r.subject_id in ")
                .tuple([v.into(), alias.into()]);
        }
        (Some(v), None) => {
            q.push(" and r.subject_id = ").bind(v);
        }
        (None, _) => {}
    }
    if let Some(v) = &f.receipt_id {
        q.push(" and r.receipt_id = ").bind(v);
    }
    if let Some(item) = &f.item {
        // The receipt's `choice` (`c:<category>=1 p:<purpose>=0 …`, heads::choice_of) holds
        // `<kind>:<item>=<0|1>` between spaces: read on the candidate rows themselves,
        // newest first, so the first page stops after a few dozen. `_` stands for either
        // decision; what was typed is escaped (ids may hold `_`, a `like` wildcard) and
        // lowercased (ids are; SQLite's `like` ignores case and PostgreSQL's does not).
        // PostgreSQL keeps statistics of this very expression (migration 0024): written
        // otherwise, its planner would guess how many receipts match, and guess wrong.
        let item = item
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let granted = f.granted.map_or("_", |g| if g { "1" } else { "0" });
        q.push(" and (' ' || r.choice || ' ' like ")
            .bind(format!("% c:{item}={granted} %"))
            .push(" escape '\\' or ' ' || r.choice || ' ' like ")
            .bind(format!("% p:{item}={granted} %"))
            .push(" escape '\\')");
    }
}

/// Appends one statement giving the exact number of receipts matching `f`. Counting rows
/// would take seconds at millions of receipts, so whole Thailand days come from
/// `receipt_counts` (kept by the log sequencer); receipts not yet in the log, and those in
/// the partial days at the edges of the time range, are counted row by row (few). A
/// subject or receipt id filter is counted directly (it is indexed).
fn push_total(q: &mut Statement, f: &SearchFilter) {
    // Whole days [first_day, end_day).
    let first_day = f.from_ms.map(|ms| thailand_day(ms + DAY_MS - 1));
    let end_day = f.to_ms.map(thailand_day);
    let no_whole_days = matches!((first_day, end_day), (Some(a), Some(b)) if a >= b);
    if f.subject_id.is_some() || f.receipt_id.is_some() || no_whole_days {
        q.push("select count(*) from receipts r where ");
        push_filter(q, f);
        return;
    }

    q.push("select (select cast(coalesce(sum(c.n), 0) as bigint) from receipt_counts c where c.site_id = ")
        .bind(&f.site);
    if let Some(d) = first_day {
        q.push(" and c.day >= ").bind(d);
    }
    if let Some(d) = end_day {
        q.push(" and c.day < ").bind(d);
    }
    if let Some(v) = &f.notice_version {
        q.push(" and c.notice_version = ").bind(v);
    }
    if let Some(m) = &f.method {
        q.push(" and c.method = ").bind(m);
    }
    let (item, granted) = match &f.item {
        Some(i) => (i.clone(), f.granted.map_or(-1, i64::from)),
        None => (String::new(), -1),
    };
    q.push(" and c.item = ")
        .bind(item)
        .push(" and c.granted = ")
        .bind(granted)
        .push(")");
    // Receipts of the whole days that the log has not appended yet: one probe per queued
    // receipt. (A join let PostgreSQL, with a freshly emptied queue and stale statistics,
    // hash-join the whole receipts table: 4 s at 1M; SQLite, without statistics, started
    // from the receipts side.)
    q.push(" + (select count(*) from log_pending p where p.site_id = ")
        .bind(&f.site)
        .push(" and (select 1 from receipts r where r.receipt_id = p.receipt_id and ");
    push_filter(q, f);
    if let Some(d) = first_day {
        q.push(" and r.issued_at >= ").bind(thailand_day_start(d));
    }
    if let Some(d) = end_day {
        q.push(" and r.issued_at < ").bind(thailand_day_start(d));
    }
    q.push(") is not null)");
    // The partial days at the edges.
    if let (Some(from), Some(d)) = (f.from_ms, first_day)
        && from < thailand_day_start(d)
    {
        q.push(" + (select count(*) from receipts r where ");
        push_filter(q, f);
        q.push(" and r.issued_at < ")
            .bind(thailand_day_start(d))
            .push(")");
    }
    if let (Some(to), Some(d)) = (f.to_ms, end_day)
        && to > thailand_day_start(d)
    {
        q.push(" + (select count(*) from receipts r where ");
        push_filter(q, f);
        q.push(" and r.issued_at >= ")
            .bind(thailand_day_start(d))
            .push(")");
    }
}

/// The keyset condition of a page after (`forward`) or before the cursor `(issue time,
/// receipt id)`. The first bound is implied by the second; it lets the index start there.
fn push_cursor(q: &mut Statement, (ms, id): (i64, String), forward: bool) {
    let (or_equal, beyond) = if forward { (">=", ">") } else { ("<=", "<") };
    q.push(&format!(" and r.issued_at {or_equal} "))
        .bind(ms)
        .push(&format!(" and (r.issued_at {beyond} "))
        .bind(ms)
        .push(" or (r.issued_at = ")
        .bind(ms)
        .push(&format!(" and r.receipt_id {beyond} "))
        .bind(id)
        .push("))");
}

/// The columns of an export row and its `from` clause: the body as stored (see
/// [`super::packing::Templates`]), no template joined to every row.
const EXPORT_FROM: &str = "select r.receipt_id, r.issued_at, r.receipt_json, r.packed,
    r.template_id, r.jws from receipts r where ";

/// The columns of an export row as selected ([`EXPORT_FROM`]).
#[derive(sqlx::FromRow)]
struct ExportColumns {
    receipt_id: String,
    issued_at: i64,
    receipt_json: String,
    packed: Option<Vec<u8>>,
    template_id: Option<i64>,
    jws: String,
}

/// One export page: receipts matching `f` after the cursor, oldest first ((issue time,
/// id) order), at most `limit`.
pub(super) fn export_page(f: &SearchFilter, after: Option<(i64, String)>, limit: i64) -> Statement {
    let mut q = Statement::new(EXPORT_FROM);
    push_filter(&mut q, f);
    if let Some(cursor) = after {
        push_cursor(&mut q, cursor, true);
    }
    q.push(" order by r.issued_at, r.receipt_id limit ")
        .bind(limit);
    q
}

/// One receipt of an export: its id, issue time (unix ms), canonical JSON and JWS.
pub type ExportRow = (String, i64, String, String);

impl Store {
    /// One page of receipts matching `f`, newest first, after the keyset cursor, and the
    /// total number matching.
    pub async fn search_receipts(
        &self,
        f: &SearchFilter,
        before: Option<(i64, String)>,
        limit: i64,
    ) -> Result<(Vec<StoredReceipt>, i64)> {
        let mut page = Statement::new(concat!(
            "select ",
            super::receipts::receipt_columns!(),
            " from receipts r",
            super::packing::template_join!(),
            "where "
        ));
        push_filter(&mut page, f);
        if let Some(cursor) = before {
            push_cursor(&mut page, cursor, false);
        }
        page.push(" order by r.issued_at desc, r.receipt_id desc limit ")
            .bind(limit);
        let rows: Vec<ReceiptRow> = self.fetch_all(&page).await?;
        let total = self.count_matching(f).await?;
        let receipts = rows
            .into_iter()
            .map(StoredReceipt::try_from)
            .collect::<Result<Vec<_>>>()?;
        Ok((receipts, total))
    }

    /// How many receipts match `f` (the search's exact total, fast at millions: see
    /// [`push_total`]).
    pub async fn count_matching(&self, f: &SearchFilter) -> Result<i64> {
        let mut count = Statement::new("");
        push_total(&mut count, f);
        self.fetch_int(&count).await
    }

    /// [`Self::export_rows`], parsed.
    pub async fn receipts_page(
        &self,
        f: &SearchFilter,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<StoredReceipt>> {
        self.export_rows(f, after, limit)
            .await?
            .into_iter()
            .map(|(_, ms, json, jws)| StoredReceipt::parse(json, jws, ms))
            .collect()
    }

    /// One page of the receipts matching `f` (every filter of the search), oldest first
    /// ((issue time, id) order), after the keyset cursor `after`: what exports stream.
    pub async fn export_rows(
        &self,
        f: &SearchFilter,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<ExportRow>> {
        let rows: Vec<ExportColumns> = self.fetch_all(&export_page(f, after, limit)).await?;
        // After the rows: every template they name was written before them.
        let templates = self.templates().await?;
        rows.into_iter()
            .map(|c| {
                let (json, jws) = templates.body(c.receipt_json, c.packed, c.template_id, c.jws)?;
                Ok((c.receipt_id, c.issued_at, json, jws))
            })
            .collect()
    }
}
