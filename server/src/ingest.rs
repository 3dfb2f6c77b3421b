//! Drafts become signed receipts, committed in groups: handlers hand their validated
//! [`Draft`] to a writer task, which
//! takes everything waiting and writes the group in one transaction (one commit, one
//! fsync). Inside that transaction the store reads and locks the rows of the visitors
//! seen before; only then is each receipt's event decided (given/refused, or updated for a
//! visitor with an earlier receipt) and the receipt signed. Each handler is answered only
//! after the commit. Under load this turns hundreds of commits a second into a few,
//! without weakening the rule that an acknowledged receipt is durable. A receipt handler
//! itself makes no database round trip.
//!
//! Most receipts are a visitor's first. So each handler, before it hands its draft over,
//! already signs the receipt as a first one (no earlier receipt, no `previous`), on its
//! own task; the writer uses that signature when the transaction finds the visitor new,
//! and signs again inside it otherwise. The signature, the costliest step of a receipt,
//! thus leaves the one writer SQLite allows for the handlers on every core: the writer
//! keeps the statements.
//!
//! If the group fails because the store cannot commit (full, read-only, unreachable),
//! every receipt of it fails with that error (503 to the widget, which retries later). If
//! it fails for another reason, each receipt is written alone, so one bad receipt does not
//! fail the others.
//!
//! SQLite has one writer task (it has one writer anyway); PostgreSQL several.

use crate::{
    health::StoreHealth,
    metrics::Metrics,
    signing::Signer,
    store::{Inserted, ReceiptKey, SqliteWriter, Store, StoreError, StoredReceipt},
};
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};
use yinyom_model::{canonical::to_canonical_json, receipt::Receipt};

/// A validated receipt not yet signed: its event is provisional until [`finish`].
#[derive(Debug, Clone)]
pub struct Draft {
    /// The receipt; `event` says given, refused or withdrawn.
    pub receipt: Receipt,
    /// `receipt.issued_at` in unix milliseconds.
    pub issued_at_ms: i64,
}

/// Completes a draft: a choice (not a withdrawal) by a visitor who already has a receipt on
/// the site is an update; it names the visitor's previous receipt (`previous`, the chain
/// hash the store read under the visitor's lock); then the receipt is serialized
/// canonically and signed.
pub fn finish(
    mut draft: Draft,
    has_earlier: bool,
    previous: Option<String>,
    signer: &Signer,
) -> Result<StoredReceipt, StoreError> {
    draft.receipt.event = draft.receipt.event.after_earlier(has_earlier);
    draft.receipt.previous = previous;
    let json =
        to_canonical_json(&draft.receipt).map_err(|e| StoreError::Canonical(e.to_string()))?;
    // Signed by the key whose validity period covers the receipt's date.
    let jws = signer.sign_at(json.as_bytes(), draft.issued_at_ms)?;
    Ok(StoredReceipt {
        receipt: draft.receipt,
        json,
        jws,
        issued_at_ms: draft.issued_at_ms,
    })
}

/// Receipts written per transaction at most.
const GROUP: usize = 256;

type Reply = Result<(Inserted, StoredReceipt), StoreError>;

/// Per receipt of a group: what was made, and whether it was written anew.
type Written = Vec<Option<(StoredReceipt, bool)>>;

struct Job {
    draft: Draft,
    /// The receipt signed as the visitor's first ([`Ingest::insert`]).
    as_first: Option<StoredReceipt>,
    done: oneshot::Sender<Reply>,
}

/// The writer tasks' mailbox.
#[derive(Debug)]
pub struct Ingest {
    tx: mpsc::Sender<Job>,
    signer: Arc<Signer>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.draft.receipt.receipt_id)
    }
}

/// What the writers share.
struct Writer {
    store: Store,
    /// On a SQLite file, the writer's own connection (see [`SqliteWriter`]).
    own: Option<SqliteWriter>,
    signer: Arc<Signer>,
    health: Arc<StoreHealth>,
    metrics: Arc<Metrics>,
}

impl Ingest {
    /// Starts the writer tasks on the current runtime.
    pub fn start(
        store: Store,
        signer: Arc<Signer>,
        health: Arc<StoreHealth>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let (tx, rx) = mpsc::channel::<Job>(4 * GROUP);
        let rx = Arc::new(Mutex::new(rx));
        let writers = match store {
            Store::Sqlite(_) => 1,
            Store::Postgres(_) => 4,
        };
        let writer = Arc::new(Writer {
            own: store.sqlite_writer(),
            store,
            signer: signer.clone(),
            health,
            metrics,
        });
        for _ in 0..writers {
            tokio::spawn(run(writer.clone(), rx.clone()));
        }
        Self { tx, signer }
    }

    /// Signs and writes `draft` (with others waiting at the same time) and returns once it
    /// is committed, with the stored receipt; idempotent on the visitor's `request_id` like
    /// [`Store::insert_receipt`] (then the existing receipt comes back as well).
    pub async fn insert(&self, draft: Draft) -> Reply {
        let (done, wait) = oneshot::channel();
        // Signed here as the visitor's first receipt, on this task (see the module's
        // documentation); a failure here is met again, and reported, by the writer.
        let as_first = finish(draft.clone(), false, None, &self.signer).ok();
        self.tx
            .send(Job {
                draft,
                as_first,
                done,
            })
            .await
            .map_err(|_| StoreError::Stopped("the receipt writer".into()))?;
        wait.await
            .map_err(|_| StoreError::Stopped("the receipt writer".into()))?
    }
}

async fn run(writer: Arc<Writer>, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
    loop {
        let mut jobs = Vec::new();
        {
            let mut rx = rx.lock().await;
            match rx.recv().await {
                Some(j) => jobs.push(j),
                None => return,
            }
            while jobs.len() < GROUP {
                match rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
        }
        writer.commit_group(jobs).await;
    }
}

impl Writer {
    async fn commit_group(&self, mut jobs: Vec<Job>) {
        let mut as_first: Vec<Option<StoredReceipt>> =
            jobs.iter_mut().map(|j| j.as_first.take()).collect();
        let keys: Vec<ReceiptKey<'_>> = jobs
            .iter()
            .map(|j| ReceiptKey::of(&j.draft.receipt))
            .collect();
        let mut failed: Vec<(usize, StoreError)> = Vec::new();
        let outcome = self
            .write(&keys, |i, first, previous| {
                // A new visitor's receipt was signed by its handler, as it is made here.
                if first
                    && previous.is_none()
                    && let Some(stored) = as_first.get_mut(i).and_then(Option::take)
                {
                    return Some(stored);
                }
                let draft = jobs.get(i)?.draft.clone();
                match finish(draft, !first, previous, &self.signer) {
                    Ok(stored) => Some(stored),
                    Err(e) => {
                        failed.push((i, e));
                        None
                    }
                }
            })
            .await;
        self.health.observe(&outcome);
        match outcome {
            Ok(written) => {
                let mut failed: std::collections::HashMap<usize, StoreError> =
                    failed.into_iter().collect();
                for (i, (job, made)) in jobs.into_iter().zip(written).enumerate() {
                    let result = match made {
                        Some((stored, true)) => Ok((Inserted::New, stored)),
                        Some((stored, false)) => self.existing(stored).await,
                        None => Err(failed.remove(&i).unwrap_or_else(|| {
                            StoreError::Corrupt("a receipt of the group was not made".into())
                        })),
                    };
                    let _ = job.done.send(result);
                }
            }
            Err(e) if e.unavailable().is_some() => {
                // Nothing of the group was committed, and nothing else would be now.
                let cause = e.to_string();
                for job in jobs {
                    let _ = job.done.send(Err(StoreError::Unavailable(cause.clone())));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, n = jobs.len(), "group commit failed; writing one by one");
                for job in jobs {
                    let result = self.write_alone(job.draft).await;
                    let _ = job.done.send(result);
                }
            }
        }
    }

    /// Writes a group in one transaction, on the writer's own connection if it has one.
    async fn write<F>(&self, keys: &[ReceiptKey<'_>], finish: F) -> Result<Written, StoreError>
    where
        F: FnMut(usize, bool, Option<String>) -> Option<StoredReceipt> + Send,
    {
        let written = match &self.own {
            Some(own) => self.store.write_receipts_on(own, keys, finish).await,
            None => self.store.write_receipts(keys, finish).await,
        };
        if written.is_ok() {
            self.metrics
                .receipt_commits
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        written
    }

    /// Writes one receipt in a transaction of its own (its event decided there too).
    async fn write_alone(&self, draft: Draft) -> Reply {
        let receipt = draft.receipt.clone();
        let mut draft = Some(draft);
        let mut error = None;
        let outcome = self
            .write(&[ReceiptKey::of(&receipt)], |_, first, previous| {
                finish(draft.take()?, !first, previous, &self.signer)
                    .map_err(|e| error = Some(e))
                    .ok()
            })
            .await;
        self.health.observe(&outcome);
        match outcome?.into_iter().next().flatten() {
            Some((stored, true)) => Ok((Inserted::New, stored)),
            Some((stored, false)) => self.existing(stored).await,
            None => {
                Err(error.unwrap_or_else(|| StoreError::Corrupt("the receipt was not made".into())))
            }
        }
    }

    async fn existing(&self, stored: StoredReceipt) -> Reply {
        let found = self
            .store
            .existing_receipt(&ReceiptKey::of(&stored.receipt))
            .await?;
        Ok((Inserted::Existing(Box::new(found)), stored))
    }
}
