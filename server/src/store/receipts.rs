//! Consent receipts: written in groups (with the visitors first seen, their heads, the
//! log queue and the webhook outbox), read back by request, by visitor or by id.

use super::conn::{Batch, Conn, Statement, Value};
use super::heads::{Head, HeadColumns, NowCounts, NowKey, consent_now_added, next_shard};
use super::packing;
use super::{Backend, Result, Store, StoreError, from_json, now_ms, to_u64};
pub use crate::log::chain_hash;
use base64::Engine as _;
use yinyom_model::receipt::Receipt;

/// base64url without padding, the JWS encoding.
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The JWS as a receipt row keeps it: without its payload (`header..signature`, the
/// detached form of RFC 7515 appendix F), because the payload is the receipt's canonical
/// JSON, base64url-encoded, and the row keeps that JSON already. A JWS whose payload is
/// not exactly `json` is kept whole (nothing given to a visitor is ever lost).
pub fn detach_jws(jws: &str, json: &str) -> String {
    let mut parts = jws.splitn(3, '.');
    if let (Some(header), Some(payload), Some(signature)) =
        (parts.next(), parts.next(), parts.next())
        && payload == B64.encode(json)
    {
        return format!("{header}..{signature}");
    }
    jws.to_owned()
}

/// The compact JWS of a stored row ([`detach_jws`]): the payload put back, byte for byte
/// the JWS answered when the receipt was made. A whole JWS is returned as it is.
pub fn attach_jws(stored: &str, json: &str) -> String {
    let mut jws = String::new();
    attach_jws_into(&mut jws, stored, json);
    jws
}

/// [`attach_jws`] into `out` (cleared first): an export reuses one buffer for every row.
pub fn attach_jws_into(out: &mut String, stored: &str, json: &str) {
    out.clear();
    match stored.split_once("..") {
        Some((header, signature)) => {
            out.reserve(stored.len() + json.len().div_ceil(3) * 4 + 1);
            out.push_str(header);
            out.push('.');
            B64.encode_string(json, out);
            out.push('.');
            out.push_str(signature);
        }
        None => out.push_str(stored),
    }
}

/// A receipt as stored: the receipt, the exact canonical JSON that was signed, the JWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReceipt {
    /// The receipt.
    pub receipt: Receipt,
    /// Its canonical JSON (the JWS payload).
    pub json: String,
    /// Compact JWS.
    pub jws: String,
    /// Issue time in unix milliseconds (indexed copy of `receipt.issued_at`).
    pub issued_at_ms: i64,
}

/// The columns of a [`ReceiptRow`] (`r`: the receipts table, joined with
/// [`packing::template_join!`]).
macro_rules! receipt_columns {
    () => {
        concat!(
            $crate::store::packing::json_columns!(),
            ", ",
            $crate::store::packing::jws_column!(),
            ", r.issued_at"
        )
    };
}
pub(super) use receipt_columns;

/// The receipt columns of a row ([`receipt_columns!`]): its JSON, JWS and issue time.
#[derive(sqlx::FromRow)]
pub(super) struct ReceiptRow {
    #[sqlx(flatten)]
    json: packing::ReceiptJson,
    jws: String,
    issued_at: i64,
}

impl TryFrom<ReceiptRow> for StoredReceipt {
    type Error = StoreError;

    /// A receipt row read back: its stored canonical JSON, JWS and issue time.
    fn try_from(r: ReceiptRow) -> Result<Self> {
        Self::parse(r.json.0, r.jws, r.issued_at)
    }
}

impl StoredReceipt {
    /// A receipt read back from its stored canonical JSON, JWS (whole, or as the row
    /// keeps it: [`detach_jws`]) and issue time.
    pub fn parse(json: String, jws: String, issued_at_ms: i64) -> Result<Self> {
        Ok(Self {
            receipt: from_json(&json)?,
            jws: attach_jws(&jws, &json),
            json,
            issued_at_ms,
        })
    }
}

/// Names a receipt about to be written: its site, visitor and request id.
#[derive(Debug, Clone, Copy)]
pub struct ReceiptKey<'a> {
    /// Site id.
    pub site: &'a str,
    /// Visitor id.
    pub subject: &'a str,
    /// The widget's request id.
    pub request_id: &'a str,
}

impl<'a> ReceiptKey<'a> {
    /// The key of `receipt`.
    pub fn of(receipt: &'a Receipt) -> Self {
        Self {
            site: receipt.site.as_str(),
            subject: &receipt.subject_id,
            request_id: &receipt.request_id,
        }
    }
}

/// A receipt row with its log position, if sequenced.
#[derive(sqlx::FromRow)]
struct SequencedRow {
    #[sqlx(flatten)]
    receipt: ReceiptRow,
    seq: Option<i64>,
}

/// What happened to an inserted receipt.
#[derive(Debug)]
pub enum Inserted {
    /// A new row was written and committed.
    New,
    /// The visitor had a receipt with the same `request_id` already: here it is.
    Existing(Box<StoredReceipt>),
}

impl Store {
    /// The receipt made for the visitor `subject`'s `request_id` on `site`, if any. A
    /// request id is the widget's idempotency key for one visitor: the same id from
    /// another visitor is another request. Read by `receipts_subject_latest` (the
    /// visitor's few receipts); no index is kept on request ids.
    pub async fn receipt_by_request(
        &self,
        site: &str,
        subject: &str,
        request_id: &str,
    ) -> Result<Option<StoredReceipt>> {
        let row: Option<ReceiptRow> = on_pool!(self, pool => sqlx::query_as(
            concat!(
                "select ", receipt_columns!(), " from receipts r", packing::template_join!(),
                "where r.site_id = $1 and r.subject_id = $2 and r.request_id = $3"
            ),
        )
        .bind(site)
        .bind(subject)
        .bind(request_id)
        .fetch_optional(pool)
        .await)?;
        row.map(StoredReceipt::try_from).transpose()
    }

    /// The visitor's receipts on `site` under either of `subject_ids` (the pseudonym and,
    /// for receipts from before pseudonyms, the raw id), newest first, at most `limit`.
    pub async fn subject_receipts(
        &self,
        site: &str,
        subject_ids: &[String; 2],
        limit: i64,
    ) -> Result<Vec<StoredReceipt>> {
        let rows: Vec<ReceiptRow> = on_pool!(self, pool => sqlx::query_as(
            // `+issued_at`: SQLite without statistics otherwise walks the site's whole
            // time index newest first to skip a sort of a handful of rows (146 ms at
            // 100,000 receipts); this way it reads the visitor's own receipts by
            // `receipts_subject_latest` and sorts those.
            concat!(
                "select ", receipt_columns!(), " from receipts r", packing::template_join!(),
                "where r.site_id = $1 and r.subject_id in ($2, $3)
                 order by +r.issued_at desc, r.receipt_id desc limit $4"
            ),
        )
        .bind(site)
        .bind(&subject_ids[0])
        .bind(&subject_ids[1])
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(StoredReceipt::try_from).collect()
    }

    /// One receipt of a site, and its log position if sequenced.
    pub async fn receipt(
        &self,
        site: &str,
        receipt_id: &str,
    ) -> Result<Option<(StoredReceipt, Option<u64>)>> {
        let row: Option<SequencedRow> = on_pool!(self, pool => sqlx::query_as(
            concat!(
                "select ", receipt_columns!(), ", l.seq
                 from receipts r left join log_leaves l on l.receipt_id = r.receipt_id",
                packing::template_join!(),
                "where r.site_id = $1 and r.receipt_id = $2"
            ),
        )
        .bind(site)
        .bind(receipt_id)
        .fetch_optional(pool)
        .await)?;
        row.map(|r| {
            Ok((
                StoredReceipt::try_from(r.receipt)?,
                r.seq.map(to_u64).transpose()?,
            ))
        })
        .transpose()
    }

    /// Whether the visitor `subject_id` already has a receipt on `site`.
    pub async fn subject_has_receipts(&self, site: &str, subject_id: &str) -> Result<bool> {
        let found: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
                "select 1 from receipts where site_id = $1 and subject_id = $2 limit 1",
            )
            .bind(site)
            .bind(subject_id)
            .fetch_optional(pool)
            .await)?;
        Ok(found.is_some())
    }

    /// Number of receipts of `site`.
    pub async fn count_receipts(&self, site: &str) -> Result<i64> {
        let n: i64 = on_pool!(self, pool => sqlx::query_scalar("select count(*) from receipts where site_id = $1")
            .bind(site)
            .fetch_one(pool)
            .await)?;
        Ok(n)
    }

    /// Writes a receipt and returns only once it is committed. If the visitor has a
    /// receipt with the same `request_id` on the site (a retry, or a concurrent
    /// duplicate), nothing is written and that receipt is returned.
    pub async fn insert_receipt(&self, r: &StoredReceipt) -> Result<Inserted> {
        let rc = &r.receipt;
        let mut one = Some(r.clone());
        let written = self
            .write_receipts(&[ReceiptKey::of(rc)], |_, _, _| one.take())
            .await?;
        if matches!(written.first(), Some(Some((_, true)))) {
            return Ok(Inserted::New);
        }
        self.existing_receipt(&ReceiptKey::of(rc))
            .await
            .map(|e| Inserted::Existing(Box::new(e)))
    }

    /// The receipt the group write found already made for `key` (its visitor's request).
    pub async fn existing_receipt(&self, key: &ReceiptKey<'_>) -> Result<StoredReceipt> {
        self.receipt_by_request(key.site, key.subject, key.request_id)
            .await?
            .ok_or_else(|| {
                StoreError::Corrupt("a receipt of the same request was found but is gone".into())
            })
    }

    /// Writes a group of receipts (and their log queue entries) in one transaction: one
    /// commit, one fsync, a few multi-row statements. See [`write_group`]
    /// for what `keys` and `finish` are and what comes back. The receipt writer of
    /// `yinyom serve` writes on its own SQLite connection instead
    /// ([`Store::write_receipts_on`]), the same statements.
    pub async fn write_receipts<F>(
        &self,
        keys: &[ReceiptKey<'_>],
        finish: F,
    ) -> Result<Vec<Option<(StoredReceipt, bool)>>>
    where
        F: FnMut(usize, bool, Option<String>) -> Option<StoredReceipt> + Send,
    {
        let now = now_ms();
        let backend = self.backend();
        let _turn = self.write_turn().await;
        match self {
            Store::Sqlite(pool) => in_transaction!(pool, |tx| {
                let written = write_group(&mut *tx, backend, keys, finish, now).await?;
                tx.commit().await?;
                Ok(written)
            }),
            Store::Postgres(pool) => in_transaction!(pool, begin = PG_GROUP_BEGIN, |tx| {
                let written = write_group(&mut *tx, backend, keys, finish, now).await?;
                tx.commit().await?;
                Ok(written)
            }),
        }
    }

    /// Writes many receipts in one transaction: for seeding benchmarks and demos, not for
    /// the receipt path (which is one receipt per request, idempotent). Their events are kept as they are.
    pub async fn seed_receipts(&self, receipts: &[StoredReceipt]) -> Result<()> {
        let keys: Vec<ReceiptKey<'_>> = receipts
            .iter()
            .map(|r| ReceiptKey::of(&r.receipt))
            .collect();
        self.write_receipts(&keys, |i, _, _| receipts.get(i).cloned())
            .await
            .map(|_| ())
    }
}

/// How a receipt group's transaction starts on PostgreSQL: its statements take their rows
/// as arrays ([`Statement::rows`]), and PostgreSQL, which plans a prepared statement for
/// its values the first five times and then compares, finds those plans (which know each
/// array's length) cheaper than the plan for any length, and so would plan every group's
/// statements anew: a third more of its CPU per receipt, at a few receipts per group. The
/// plan for any length is right for them. Sent with `BEGIN`, in the same round trip.
const PG_GROUP_BEGIN: &str = "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan";

/// The receipt group write, once for every connection ([`Conn`]), inside the caller's
/// transaction.
///
/// `keys[i]` names the i-th receipt. The rows of the visitors seen before are read and
/// locked (`subjects`; PostgreSQL: row locks, SQLite: the one writer), and only then
/// `finish(i, first, previous)` makes the i-th receipt, knowing
/// whether it is that visitor's first on the site (so its event is decided where it
/// commits: two first choices of one visitor written by two processes at once are one
/// `given` and one `updated`) and the hash of the visitor's previous receipt
/// ([`chain_hash`]; `None` for the first), which the receipt must carry as `previous`.
/// Two receipts of one visitor in the group chain to each other in order. `finish`
/// returning `None` leaves the receipt out. New visitors are registered at the end, with
/// their head; if another process registered one of them meanwhile, the group fails (the
/// writer then writes each receipt alone, and that visitor's is an update). Returns, per
/// receipt, what was made and
/// whether it was written (`false`: the visitor had a receipt with the same `request_id`
/// already, maybe earlier in this very group). That look-up is race-free because it comes
/// after the visitor's row is locked, or, for a new visitor, before a registration that
/// fails the group if another process registered the visitor meanwhile.
pub(super) async fn write_group<C: Conn, F>(
    tx: &mut C,
    backend: Backend,
    keys: &[ReceiptKey<'_>],
    mut finish: F,
    now: i64,
) -> Result<Vec<Option<(StoredReceipt, bool)>>>
where
    F: FnMut(usize, bool, Option<String>) -> Option<StoredReceipt> + Send,
{
    use std::collections::{BTreeMap, HashMap, HashSet};
    // One lock order for every writer (PostgreSQL: no deadlock between two groups that
    // register or lock the same visitors).
    let mut register: Vec<(&str, &str)> = keys.iter().map(|k| (k.site, k.subject)).collect();
    register.sort_unstable();
    register.dedup();
    let requests: Vec<(&str, &str, &str)> = keys
        .iter()
        .map(|k| (k.site, k.subject, k.request_id))
        .collect();
    let pair = |(a, b): &(&str, &str)| vec![Value::from(*a), Value::from(*b)];
    // The visitors known, with their chain heads and latest choices, read under their
    // locks. The others are new: registered below with their receipts' head in one row
    // version (a registration first and an update after left a dead row and index
    // entries per new visitor on PostgreSQL).
    let mut known: HashSet<(String, String)> = HashSet::new();
    let mut heads: HashMap<(String, String), String> = HashMap::new();
    let mut choices: HashMap<(String, String), Head> = HashMap::new();
    for chunk in super::pieces(backend, &register) {
        let q = lookup(
            backend,
            chunk,
            pair,
            "t.site_id, t.subject_id, t.last_receipt, t.head_until, t.head_withdrawn,
             t.head_version, t.head_mixed, t.head_choice",
            "subjects t",
            "t.site_id = v.column1 and t.subject_id = v.column2",
            true,
        );
        for row in tx.rows(&q).await? {
            let key = (row.text(0)?, row.text(1)?);
            let head = HeadColumns::of_row(&row, 3)?;
            if let Some(head) = head.head() {
                choices.insert(key.clone(), head);
            }
            if let Some(last) = row.opt_text(2)? {
                heads.insert(key.clone(), last);
            }
            known.insert(key);
        }
    }
    let mut new_subjects: HashSet<(String, String)> = register
        .iter()
        .map(|(site, subject)| ((*site).to_owned(), (*subject).to_owned()))
        .filter(|k| !known.contains(k))
        .collect();
    // Retries of receipts already written: they are not written again and do not move
    // the chain. A new visitor has none, so only the known ones are looked up.
    let mut seen: HashSet<(String, String, String)> = HashSet::new();
    let retried: Vec<&(&str, &str, &str)> = requests
        .iter()
        .filter(|(site, subject, _)| known.contains(&((*site).to_owned(), (*subject).to_owned())))
        .collect();
    for chunk in super::pieces(backend, &retried) {
        // A join rather than `(site_id, subject_id, request_id) in (…)`, which SQLite
        // answers by scanning the whole table: no index holds all three columns.
        let q = lookup(
            backend,
            chunk,
            |(site, subject, request)| vec![(*site).into(), (*subject).into(), (*request).into()],
            "t.site_id, t.subject_id, t.request_id",
            "receipts t",
            "t.site_id = v.column1 and t.subject_id = v.column2 and t.request_id = v.column3",
            false,
        );
        for row in tx.rows(&q).await? {
            seen.insert((row.text(0)?, row.text(1)?, row.text(2)?));
        }
    }
    let mut moved: Vec<(String, String)> = Vec::new();
    let mut expected = HashSet::new();
    let made: Vec<Option<StoredReceipt>> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let subject = (k.site.to_owned(), k.subject.to_owned());
            if !seen.insert((
                k.site.to_owned(),
                k.subject.to_owned(),
                k.request_id.to_owned(),
            )) {
                return finish(i, false, None);
            }
            let first = new_subjects.remove(&subject);
            let made = finish(i, first, heads.get(&subject).cloned())?;
            expected.insert(made.receipt.receipt_id.clone());
            heads.insert(subject.clone(), chain_hash(&made.json));
            moved.push(subject);
            Some(made)
        })
        .collect();
    // The receipts to write: the new ones (a retry's `made` is only its reply).
    let receipts: Vec<&StoredReceipt> = made
        .iter()
        .flatten()
        .filter(|r| expected.contains(&r.receipt.receipt_id))
        .collect();
    // Each receipt's template (see `packing`): found, or made from this receipt.
    let mut templates: HashMap<(&str, &str, &str), (i64, Vec<u8>)> = HashMap::new();
    for r in &receipts {
        let Some((header, _)) = r.jws.split_once('.') else {
            continue;
        };
        let key = (
            r.receipt.site.as_str(),
            r.receipt.notice.version.as_str(),
            header,
        );
        if templates.contains_key(&key) {
            continue;
        }
        let mut find =
            Statement::new("select id, template from receipt_templates where site_id = ");
        find.bind(key.0)
            .push(" and notice_version = ")
            .bind(key.1)
            .push(" and header = ")
            .bind(key.2);
        let mut found = tx.rows(&find).await?;
        if found.is_empty() {
            let mut q = Statement::new(
                "insert into receipt_templates (site_id, notice_version, header, template, created_at)",
            );
            q.push(" values ").tuple([
                key.0.into(),
                key.1.into(),
                key.2.into(),
                packing::template_of(&r.receipt)?.into_bytes().into(),
                now.into(),
            ]);
            q.push(" on conflict (site_id, notice_version, header) do nothing");
            tx.run(&q).await?;
            found = tx.rows(&find).await?;
        }
        let row = found
            .first()
            .ok_or_else(|| StoreError::Corrupt("a receipt template was not written".into()))?;
        templates.insert(key, (row.int(0)?, row.blob(1)?));
    }
    let stored: Vec<packing::RowForm> = receipts
        .iter()
        .map(|r| {
            let jws = detach_jws(&r.jws, &r.json);
            let template = jws.split_once("..").and_then(|(h, _)| {
                let key = (
                    r.receipt.site.as_str(),
                    r.receipt.notice.version.as_str(),
                    h,
                );
                templates.get(&key).map(|(id, t)| (*id, h, t.as_slice()))
            });
            packing::RowForm::of(&r.json, &jws, template)
        })
        .collect::<Result<_>>()?;
    let rows: Vec<_> = receipts.iter().zip(stored).collect();
    // What the group writes, in one batch (PostgreSQL: one round trip).
    let mut batch = Batch::default();
    for chunk in super::pieces(backend, &rows) {
        let mut q = Statement::new(
            "insert into receipts
                (receipt_id, site_id, request_id, subject_id, issued_at, event, method,
                 notice_version, consent_revision, receipt_json, jws, template_id, packed,
                 choice)",
        );
        q.rows(backend, chunk, |(r, form)| {
            let rc = &r.receipt;
            vec![
                (&rc.receipt_id).into(),
                rc.site.as_str().into(),
                (&rc.request_id).into(),
                (&rc.subject_id).into(),
                r.issued_at_ms.into(),
                rc.event.as_str().into(),
                rc.method.as_str().into(),
                (&rc.notice.version).into(),
                i64::from(rc.notice.consent_revision).into(),
                form.json.clone().into(),
                (&form.jws).into(),
                form.template_id.into(),
                form.packed.clone().into(),
                super::heads::choice_of(rc).into(),
            ]
        });
        batch.push(q);
    }
    // The visitors' new latest choices, in the group's order, and what that changes in
    // `consent_now`.
    let mut now_counts: BTreeMap<&str, NowCounts> = BTreeMap::new();
    for r in &receipts {
        let key = (
            r.receipt.site.as_str().to_owned(),
            r.receipt.subject_id.clone(),
        );
        let before = choices.get(&key);
        let after = Head::after(before, &r.receipt)?;
        now_counts
            .entry(r.receipt.site.as_str())
            .or_default()
            .moved(before, Some(&after));
        choices.insert(key, after);
    }
    moved.sort_unstable();
    moved.dedup();
    // Existing visitors get their new head; new ones are registered with it. A new
    // visitor some other process registered meanwhile (PostgreSQL) makes the chain read
    // above stale: rolled back, and the writer retries each receipt alone.
    let (old_ones, new_ones): (Vec<_>, Vec<_>) = moved.iter().partition(|s| known.contains(*s));
    let mut registrations = Vec::new();
    for (subjects, new) in [(old_ones, false), (new_ones, true)] {
        for chunk in super::pieces(backend, &subjects) {
            let mut q = Statement::new(
                "insert into subjects (site_id, subject_id, first_at, last_receipt, head_until,
                                       head_withdrawn, head_version, head_mixed, head_choice)",
            );
            q.rows(backend, chunk, |subject| {
                let head = choices.get(*subject);
                vec![
                    (&subject.0).into(),
                    (&subject.1).into(),
                    now.into(),
                    heads.get(*subject).into(),
                    head.map(|h| h.until_ms).into(),
                    head.map(|h| h.withdrawn).into(),
                    head.map(|h| h.version.as_str()).into(),
                    head.map(|h| h.mixed).into(),
                    head.map(|h| h.choice.as_str()).into(),
                ]
            });
            if new {
                q.push(" on conflict (site_id, subject_id) do nothing");
                registrations.push((batch.push_counted(q), chunk.len() as u64));
            } else {
                q.push(
                    " on conflict (site_id, subject_id)
                     do update set last_receipt = excluded.last_receipt,
                        head_until = excluded.head_until, head_withdrawn = excluded.head_withdrawn,
                        head_version = excluded.head_version, head_mixed = excluded.head_mixed,
                        head_choice = excluded.head_choice",
                );
                batch.push(q);
            }
        }
    }
    let shard = next_shard(backend);
    for (site, counts) in &now_counts {
        let changes: Vec<(&NowKey, i64)> = counts.changes().collect();
        for chunk in super::pieces(backend, &changes) {
            batch.extend(consent_now_added(backend, site, shard, chunk));
        }
    }
    for chunk in super::pieces(backend, &receipts) {
        let mut q =
            Statement::new("insert into log_pending (receipt_id, site_id, issued_at, leaf_hash)");
        q.rows(backend, chunk, |r| {
            vec![
                (&r.receipt.receipt_id).into(),
                r.receipt.site.as_str().into(),
                r.issued_at_ms.into(),
                crate::log::receipt_leaf(&r.json).to_vec().into(),
            ]
        });
        batch.push(q);
    }
    let written = batch.run(tx).await?;
    if registrations
        .iter()
        .any(|(at, n)| written.get(*at) != Some(n))
    {
        return Err(StoreError::Contended(
            "the first receipt of a visitor of the group".into(),
        ));
    }
    // The webhook outbox, in this same transaction: an event per new receipt of a site
    // that has endpoints (one look-up per group when none has).
    let mut sites: Vec<&str> = receipts.iter().map(|r| r.receipt.site.as_str()).collect();
    sites.sort_unstable();
    sites.dedup();
    if !sites.is_empty() {
        let mut q = Statement::new(
            "select distinct site_id from webhook_endpoints where removed_at is null and site_id in ",
        );
        q.tuple(sites.iter().map(|s| Value::from(*s)));
        let mut hooked = Vec::new();
        for row in tx.rows(&q).await? {
            hooked.push(row.text(0)?);
        }
        for r in receipts
            .iter()
            .filter(|r| hooked.iter().any(|h| h == r.receipt.site.as_str()))
        {
            super::webhooks::enqueue(tx, &super::webhooks::Event::of_receipt(&r.receipt)).await?;
        }
    }
    Ok(made
        .into_iter()
        .map(|m| {
            m.map(|r| {
                let new = expected.contains(&r.receipt.receipt_id);
                (r, new)
            })
        })
        .collect())
}

/// `select {columns}` of each of `rows` (`v`, its columns `column1`…) with its rows of
/// `table` (`… t`) where `on`, in `rows`' order:
/// - on SQLite a join, which looks each row up by index;
/// - on PostgreSQL a lateral sub-select per row, so an index look-up whatever the planner
///   thinks of the table's size. A join there is planned once per connection and kept: a
///   plan made while the table was nearly empty joined by hash and read the whole table
///   for every group after (1.3 ms per group at 20,000 visitors). With `lock`, the rows
///   found are locked (`for update`), in `rows`' order.
fn lookup<T>(
    backend: Backend,
    rows: &[T],
    row: impl Fn(&T) -> Vec<Value>,
    columns: &str,
    table: &str,
    on: &str,
    lock: bool,
) -> Statement {
    let mut q = Statement::new(&format!("select {columns} from ("));
    q.rows(backend, rows, row);
    match backend {
        Backend::Sqlite => q.push(&format!(") v join {table} on {on}")),
        Backend::Postgres => q
            .push(&format!(
                ") v cross join lateral (select * from {table} where {on}"
            ))
            .push(if lock { " for update) t" } else { ") t" }),
    };
    q
}
