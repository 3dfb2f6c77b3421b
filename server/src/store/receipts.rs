//! Consent receipts: written in groups (with their decisions, the visitors first seen and
//! the log queue), read back by request, by visitor or by id.

use super::{ROWS_PER_STATEMENT, Result, Store, StoreError, from_json, now_ms, to_u64};
use sqlx::QueryBuilder;
use yinyom_model::receipt::Receipt;

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

/// The receipt columns of a row: `receipt_json, jws, issued_at`.
#[derive(sqlx::FromRow)]
pub(super) struct ReceiptRow {
    receipt_json: String,
    jws: String,
    issued_at: i64,
}

impl TryFrom<ReceiptRow> for StoredReceipt {
    type Error = StoreError;

    /// A receipt row read back: its stored canonical JSON, JWS and issue time.
    fn try_from(r: ReceiptRow) -> Result<Self> {
        Ok(Self {
            receipt: from_json(&r.receipt_json)?,
            json: r.receipt_json,
            jws: r.jws,
            issued_at_ms: r.issued_at,
        })
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
    /// A receipt with the same `request_id` already existed: here it is.
    Existing(Box<StoredReceipt>),
}

impl Store {
    /// The receipt made for `request_id` on `site`, if any.
    pub async fn receipt_by_request(
        &self,
        site: &str,
        request_id: &str,
    ) -> Result<Option<StoredReceipt>> {
        let row: Option<ReceiptRow> = on_pool!(self, pool => sqlx::query_as(
            "select receipt_json, jws, issued_at from receipts where site_id = $1 and request_id = $2",
        )
        .bind(site)
        .bind(request_id)
        .fetch_optional(pool)
        .await)?;
        row.map(StoredReceipt::try_from).transpose()
    }

    /// The visitor's receipts on `site`, newest first, at most `limit`.
    pub async fn subject_receipts(
        &self,
        site: &str,
        subject_id: &str,
        limit: i64,
    ) -> Result<Vec<StoredReceipt>> {
        let rows: Vec<ReceiptRow> = on_pool!(self, pool => sqlx::query_as(
            "select receipt_json, jws, issued_at from receipts
             where site_id = $1 and subject_id = $2
             order by issued_at desc, receipt_id desc limit $3",
        )
        .bind(site)
        .bind(subject_id)
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
            "select r.receipt_json, r.jws, r.issued_at, l.seq
             from receipts r left join log_leaves l on l.receipt_id = r.receipt_id
             where r.site_id = $1 and r.receipt_id = $2",
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

    /// Writes a receipt and returns only once it is committed. If a receipt with the same
    /// `(site, request_id)` exists (a retry, or a concurrent duplicate), nothing is written
    /// and the existing receipt is returned.
    pub async fn insert_receipt(&self, r: &StoredReceipt) -> Result<Inserted> {
        let rc = &r.receipt;
        let mut one = Some(r.clone());
        let written = self
            .write_receipts(&[(rc.site.as_str(), rc.subject_id.as_str())], |_, _| {
                one.take()
            })
            .await?;
        if matches!(written.first(), Some(Some((_, true)))) {
            return Ok(Inserted::New);
        }
        self.existing_receipt(rc.site.as_str(), &rc.request_id)
            .await
            .map(|e| Inserted::Existing(Box::new(e)))
    }

    /// The receipt whose insert conflicted on `(site, request_id)`.
    pub async fn existing_receipt(&self, site: &str, request_id: &str) -> Result<StoredReceipt> {
        self.receipt_by_request(site, request_id)
            .await?
            .ok_or_else(|| {
                StoreError::Corrupt("receipt conflicted on request_id but none was found".into())
            })
    }

    /// Writes a group of receipts (and their decision rows and log queue entries) in one
    /// transaction: one commit, one fsync, a few multi-row statements.
    ///
    /// `subjects[i]` is the (site, subject id) of the i-th receipt. Inside the transaction
    /// the visitors not seen before are registered (`subjects` table), and only then
    /// `finish(i, first)` makes the i-th receipt, knowing whether it is that visitor's
    /// first on the site (so its event is decided where it commits: two first choices of
    /// one visitor written by two processes at once are one `given` and one `updated`).
    /// `finish` returning `None` leaves the receipt out. Returns, per receipt, what was
    /// made and whether it was written (`false`: a receipt with the same
    /// `(site, request_id)` already existed, maybe earlier in this very group).
    pub async fn write_receipts<F>(
        &self,
        subjects: &[(&str, &str)],
        mut finish: F,
    ) -> Result<Vec<Option<(StoredReceipt, bool)>>>
    where
        F: FnMut(usize, bool) -> Option<StoredReceipt>,
    {
        // One lock order for every writer (PostgreSQL: no deadlock between two groups
        // that register the same new visitors).
        let mut register: Vec<(&str, &str)> = subjects.to_vec();
        register.sort_unstable();
        register.dedup();
        let now = now_ms();
        let _turn = self.write_turn().await;
        on_pool!(self, pool => in_transaction!(pool, |tx| {
            let mut new_subjects = std::collections::HashSet::new();
            for chunk in register.chunks(ROWS_PER_STATEMENT) {
                let mut q = QueryBuilder::new("insert into subjects (site_id, subject_id, first_at) ");
                q.push_values(chunk, |mut row, (site, subject)| {
                    row.push_bind(*site).push_bind(*subject).push_bind(now);
                });
                q.push(
                    " on conflict (site_id, subject_id) do nothing
                     returning site_id, subject_id",
                );
                new_subjects.extend(
                    q.build_query_as::<(String, String)>()
                        .fetch_all(&mut *tx)
                        .await?,
                );
            }
            let made: Vec<Option<StoredReceipt>> = subjects
                .iter()
                .enumerate()
                .map(|(i, (site, subject))| {
                    let first = new_subjects.remove(&((*site).to_owned(), (*subject).to_owned()));
                    finish(i, first)
                })
                .collect();
            let receipts: Vec<&StoredReceipt> = made.iter().flatten().collect();
            let mut written = std::collections::HashSet::new();
            for chunk in receipts.chunks(ROWS_PER_STATEMENT) {
                let mut q = QueryBuilder::new(
                    "insert into receipts
                        (receipt_id, site_id, request_id, subject_id, issued_at, event, method,
                         notice_version, consent_revision, receipt_json, jws) ",
                );
                q.push_values(chunk, |mut row, r| {
                    let rc = &r.receipt;
                    row.push_bind(&rc.receipt_id)
                        .push_bind(rc.site.as_str())
                        .push_bind(&rc.request_id)
                        .push_bind(&rc.subject_id)
                        .push_bind(r.issued_at_ms)
                        .push_bind(rc.event.as_str())
                        .push_bind(rc.method.as_str())
                        .push_bind(&rc.notice.version)
                        .push_bind(i64::from(rc.notice.consent_revision))
                        .push_bind(&r.json)
                        .push_bind(&r.jws);
                });
                q.push(" on conflict (site_id, request_id) do nothing returning receipt_id");
                written.extend(q.build_query_scalar::<String>().fetch_all(&mut *tx).await?);
            }
            let queued: Vec<&StoredReceipt> = receipts
                .iter()
                .copied()
                .filter(|r| written.contains(&r.receipt.receipt_id))
                .collect();
            for chunk in queued.chunks(ROWS_PER_STATEMENT) {
                let mut q = QueryBuilder::new("insert into log_pending (receipt_id, site_id, issued_at) ");
                q.push_values(chunk, |mut row, r| {
                    row.push_bind(&r.receipt.receipt_id)
                        .push_bind(r.receipt.site.as_str())
                        .push_bind(r.issued_at_ms);
                });
                q.build().execute(&mut *tx).await?;
            }
            let decisions: Vec<(&str, &str, &str, &str, bool)> = queued
                .iter()
                .map(|r| &r.receipt)
                .flat_map(|rc| {
                    let cats = rc.categories.iter().map(|(i, g)| ("category", i, g));
                    let purposes = rc.purposes.iter().map(|(i, g)| ("purpose", i, g));
                    cats.chain(purposes).map(|(kind, item, granted)| {
                        (rc.receipt_id.as_str(), rc.site.as_str(), kind, item.as_str(), *granted)
                    })
                })
                .collect();
            for chunk in decisions.chunks(ROWS_PER_STATEMENT) {
                let mut q = QueryBuilder::new(
                    "insert into receipt_decisions (receipt_id, site_id, kind, item, granted) ",
                );
                q.push_values(chunk, |mut row, (receipt_id, site, kind, item, granted)| {
                    row.push_bind(*receipt_id)
                        .push_bind(*site)
                        .push_bind(*kind)
                        .push_bind(*item)
                        .push_bind(i64::from(*granted));
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(made
                .into_iter()
                .map(|m| {
                    m.map(|r| {
                        let new = written.contains(&r.receipt.receipt_id);
                        (r, new)
                    })
                })
                .collect())
        }))
    }

    /// Writes many receipts (and their decision rows) in one transaction: for seeding
    /// benchmarks and demos, not for the receipt path (which is one receipt per request,
    /// idempotent). Their events are kept as they are.
    pub async fn seed_receipts(&self, receipts: &[StoredReceipt]) -> Result<()> {
        let subjects: Vec<(&str, &str)> = receipts
            .iter()
            .map(|r| (r.receipt.site.as_str(), r.receipt.subject_id.as_str()))
            .collect();
        self.write_receipts(&subjects, |i, _| receipts.get(i).cloned())
            .await
            .map(|_| ())
    }
}
