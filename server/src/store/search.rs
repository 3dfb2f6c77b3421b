//! Receipt search of the console and the pages that exports stream, with an exact total
//! that stays fast at millions of receipts.

use super::{Result, Store, StoredReceipt, receipts::ReceiptRow};
use crate::dates::{DAY_MS, thailand_day, thailand_day_start};
use sqlx::{Database, Encode, QueryBuilder, Type};

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

/// A piece of a statement built from a search: SQL text, or a value bound in its place.
/// One list of pieces feeds both sqlx's [`QueryBuilder`] and the export's own SQLite reader
/// ([`export_reader`]), so the filter is written once.
pub(super) enum Piece {
    Sql(String),
    Text(String),
    Int(i64),
}

/// The receipt search as SQL conditions on `receipts r` (the same text for both dialects).
fn filter_pieces(f: &SearchFilter) -> Vec<Piece> {
    let mut p = vec![
        Piece::Sql("r.site_id = ".into()),
        Piece::Text(f.site.clone()),
    ];
    let mut and = |sql: &str, v: Piece| {
        p.push(Piece::Sql(sql.into()));
        p.push(v);
    };
    if let Some(v) = f.from_ms {
        and(" and r.issued_at >= ", Piece::Int(v));
    }
    if let Some(v) = f.to_ms {
        and(" and r.issued_at < ", Piece::Int(v));
    }
    if let Some(v) = &f.notice_version {
        and(" and r.notice_version = ", Piece::Text(v.clone()));
    }
    if let Some(v) = &f.method {
        and(" and r.method = ", Piece::Text(v.clone()));
    }
    match (&f.subject_id, &f.subject_alias) {
        (Some(v), Some(alias)) => {
            and(" and r.subject_id in (", Piece::Text(v.clone()));
            and(", ", Piece::Text(alias.clone()));
            and(")", Piece::Sql(String::new()));
        }
        (Some(v), None) => and(" and r.subject_id = ", Piece::Text(v.clone())),
        (None, _) => {}
    }
    if let Some(v) = &f.receipt_id {
        and(" and r.receipt_id = ", Piece::Text(v.clone()));
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
        and(
            " and (' ' || r.choice || ' ' like ",
            Piece::Text(format!("% c:{item}={granted} %")),
        );
        and(
            " escape '\\' or ' ' || r.choice || ' ' like ",
            Piece::Text(format!("% p:{item}={granted} %")),
        );
        p.push(Piece::Sql(" escape '\\')".into()));
    }
    p
}

/// Appends `pieces` to `q`, binding their values.
fn push_pieces<'a, DB>(q: &mut QueryBuilder<'a, DB>, pieces: Vec<Piece>)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    for piece in pieces {
        match piece {
            Piece::Sql(s) => q.push(s),
            Piece::Text(v) => q.push_bind(v),
            Piece::Int(v) => q.push_bind(v),
        };
    }
}

/// Appends the receipt search as SQL conditions on `receipts r`, binding its values.
fn push_filter<'a, DB>(q: &mut QueryBuilder<'a, DB>, f: &SearchFilter)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    push_pieces(q, filter_pieces(f));
}

/// Appends one statement giving the exact number of receipts matching `f`. Counting rows
/// would take seconds at millions of receipts, so whole Thailand days come from
/// `receipt_counts` (kept by the log sequencer); receipts not yet in the log, and those in
/// the partial days at the edges of the time range, are counted row by row (few). A
/// subject or receipt id filter is counted directly (it is indexed).
fn push_total<'a, DB>(q: &mut QueryBuilder<'a, DB>, f: &SearchFilter)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
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
        .push_bind(f.site.clone());
    if let Some(d) = first_day {
        q.push(" and c.day >= ").push_bind(d);
    }
    if let Some(d) = end_day {
        q.push(" and c.day < ").push_bind(d);
    }
    if let Some(v) = &f.notice_version {
        q.push(" and c.notice_version = ").push_bind(v.clone());
    }
    if let Some(m) = &f.method {
        q.push(" and c.method = ").push_bind(m.clone());
    }
    let (item, granted) = match &f.item {
        Some(i) => (i.clone(), f.granted.map_or(-1, i64::from)),
        None => (String::new(), -1),
    };
    q.push(" and c.item = ")
        .push_bind(item)
        .push(" and c.granted = ")
        .push_bind(granted)
        .push(")");
    // Receipts of the whole days that the log has not appended yet: one probe per queued
    // receipt. (A join let PostgreSQL, with a freshly emptied queue and stale statistics,
    // hash-join the whole receipts table: 4 s at 1M; SQLite, without statistics, started
    // from the receipts side.)
    q.push(" + (select count(*) from log_pending p where p.site_id = ")
        .push_bind(f.site.clone())
        .push(" and (select 1 from receipts r where r.receipt_id = p.receipt_id and ");
    push_filter(q, f);
    if let Some(d) = first_day {
        q.push(" and r.issued_at >= ")
            .push_bind(thailand_day_start(d));
    }
    if let Some(d) = end_day {
        q.push(" and r.issued_at < ")
            .push_bind(thailand_day_start(d));
    }
    q.push(") is not null)");
    // The partial days at the edges.
    if let (Some(from), Some(d)) = (f.from_ms, first_day)
        && from < thailand_day_start(d)
    {
        q.push(" + (select count(*) from receipts r where ");
        push_filter(q, f);
        q.push(" and r.issued_at < ")
            .push_bind(thailand_day_start(d))
            .push(")");
    }
    if let (Some(to), Some(d)) = (f.to_ms, end_day)
        && to > thailand_day_start(d)
    {
        q.push(" + (select count(*) from receipts r where ");
        push_filter(q, f);
        q.push(" and r.issued_at >= ")
            .push_bind(thailand_day_start(d))
            .push(")");
    }
}

/// The keyset condition of a page after (`forward`) or before the cursor `(issue time,
/// receipt id)`. The first bound is implied by the second; it lets the index start there.
fn cursor_pieces((ms, id): (i64, String), forward: bool) -> Vec<Piece> {
    let (or_equal, beyond) = if forward { (">=", ">") } else { ("<=", "<") };
    vec![
        Piece::Sql(format!(" and r.issued_at {or_equal} ")),
        Piece::Int(ms),
        Piece::Sql(format!(" and (r.issued_at {beyond} ")),
        Piece::Int(ms),
        Piece::Sql(" or (r.issued_at = ".into()),
        Piece::Int(ms),
        Piece::Sql(format!(" and r.receipt_id {beyond} ")),
        Piece::Text(id),
        Piece::Sql("))".into()),
    ]
}

/// Appends the keyset condition of [`cursor_pieces`].
fn push_cursor<'a, DB>(q: &mut QueryBuilder<'a, DB>, cursor: (i64, String), forward: bool)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    push_pieces(q, cursor_pieces(cursor, forward));
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

/// The pieces of one export page: receipts matching `f` after the cursor, oldest first
/// ((issue time, id) order), at most `limit`.
pub(super) fn export_page(
    f: &SearchFilter,
    after: Option<(i64, String)>,
    limit: i64,
) -> Vec<Piece> {
    let mut p = vec![Piece::Sql(EXPORT_FROM.into())];
    p.extend(filter_pieces(f));
    if let Some(cursor) = after {
        p.extend(cursor_pieces(cursor, true));
    }
    p.push(Piece::Sql(
        " order by r.issued_at, r.receipt_id limit ".into(),
    ));
    p.push(Piece::Int(limit));
    p
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
        let (rows, total) = on_pool!(self, pool => {
            let mut page = QueryBuilder::new(concat!(
                "select ",
                super::receipts::receipt_columns!(),
                " from receipts r",
                super::packing::template_join!(),
                "where "
            ));
            push_filter(&mut page, f);
            if let Some(cursor) = before.clone() {
                push_cursor(&mut page, cursor, false);
            }
            page.push(" order by r.issued_at desc, r.receipt_id desc limit ")
                .push_bind(limit);
            let rows: Vec<ReceiptRow> = page.build_query_as().fetch_all(pool).await?;
            let mut count = QueryBuilder::new("");
            push_total(&mut count, f);
            let total: i64 = count.build_query_scalar().fetch_one(pool).await?;
            (rows, total)
        });
        let receipts = rows
            .into_iter()
            .map(StoredReceipt::try_from)
            .collect::<Result<Vec<_>>>()?;
        Ok((receipts, total))
    }

    /// How many receipts match `f` (the search's exact total, fast at millions: see
    /// [`push_total`]).
    pub async fn count_matching(&self, f: &SearchFilter) -> Result<i64> {
        Ok(on_pool!(self, pool => {
            let mut count = QueryBuilder::new("");
            push_total(&mut count, f);
            count.build_query_scalar().fetch_one(pool).await?
        }))
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
        let rows = on_pool!(self, pool => {
            let mut q = QueryBuilder::new("");
            push_pieces(&mut q, export_page(f, after, limit));
            q.build_query_as::<ExportColumns>().fetch_all(pool).await?
        });
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
