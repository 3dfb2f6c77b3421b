//! Group commit for receipts: handlers hand their validated draft to a writer task, which
//! takes everything waiting, decides for the whole group which visitors already have a
//! receipt (one query), signs, writes the group in one transaction (one commit, one fsync)
//! and answers each handler only after that commit. Under load this turns hundreds of
//! commits and lookups a second into a few, without weakening the rule that an
//! acknowledged receipt is durable. A receipt handler itself makes no database round trip.
//!
//! SQLite has one writer task (it has one writer anyway); PostgreSQL several.

use crate::{
    receipts::{Draft, finish},
    signing::Signer,
    store::{Inserted, Store, StoreError, StoredReceipt},
};
use std::{collections::HashSet, sync::Arc};
use tokio::sync::{Mutex, mpsc, oneshot};

/// Receipts written per transaction at most.
const GROUP: usize = 256;

type Reply = Result<(Inserted, StoredReceipt), StoreError>;

/// Signed receipts of a group, each with where its answer goes.
type Signed = Vec<(StoredReceipt, oneshot::Sender<Reply>)>;

struct Job {
    draft: Draft,
    done: oneshot::Sender<Reply>,
}

/// The writer tasks' mailbox.
#[derive(Debug)]
pub struct Ingest {
    tx: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.draft.receipt.receipt_id)
    }
}

impl Ingest {
    /// Starts the writer tasks on the current runtime.
    pub fn start(store: Store, signer: Arc<Signer>) -> Self {
        let (tx, rx) = mpsc::channel::<Job>(4 * GROUP);
        let rx = Arc::new(Mutex::new(rx));
        let writers = if store.kind() == "postgres" { 4 } else { 1 };
        for _ in 0..writers {
            tokio::spawn(writer(store.clone(), signer.clone(), rx.clone()));
        }
        Self { tx }
    }

    /// Signs and writes `draft` (with others waiting at the same time) and returns once it
    /// is committed, with the stored receipt; idempotent on `(site, request_id)` like
    /// [`Store::insert_receipt`] (then the existing receipt comes back as well).
    pub async fn insert(&self, draft: Draft) -> Reply {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Job { draft, done })
            .await
            .map_err(|_| StoreError::Corrupt("the receipt writer has stopped".into()))?;
        wait.await
            .map_err(|_| StoreError::Corrupt("the receipt writer has stopped".into()))?
    }
}

async fn writer(store: Store, signer: Arc<Signer>, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
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
        match sign_group(&store, &signer, jobs).await {
            Ok(signed) => commit_group(&store, signed).await,
            Err((e, jobs)) => {
                for job in jobs {
                    let _ = job.done.send(Err(StoreError::Corrupt(e.to_string())));
                }
            }
        }
    }
}

/// Decides each draft's event (a visitor with an earlier receipt, in the database or
/// earlier in this group, is updating) and signs it.
async fn sign_group(
    store: &Store,
    signer: &Signer,
    jobs: Vec<Job>,
) -> Result<Signed, (StoreError, Vec<Job>)> {
    let mut earlier: HashSet<(String, String)> = HashSet::new();
    let mut sites: Vec<&str> = jobs.iter().map(|j| j.draft.receipt.site.as_str()).collect();
    sites.sort_unstable();
    sites.dedup();
    for site in sites {
        let subjects: Vec<&str> = jobs
            .iter()
            .filter(|j| j.draft.receipt.site.as_str() == site)
            .map(|j| j.draft.receipt.subject_id.as_str())
            .collect();
        match store.subjects_with_receipts(site, &subjects).await {
            Ok(found) => earlier.extend(found.into_iter().map(|s| (site.to_owned(), s))),
            Err(e) => return Err((e, jobs)),
        }
    }
    let mut signed = Vec::with_capacity(jobs.len());
    for job in jobs {
        let key = (
            job.draft.receipt.site.as_str().to_owned(),
            job.draft.receipt.subject_id.clone(),
        );
        let has_earlier = !earlier.insert(key);
        match finish(job.draft, has_earlier, signer) {
            Ok(stored) => signed.push((stored, job.done)),
            Err(e) => {
                let _ = job.done.send(Err(e));
            }
        }
    }
    Ok(signed)
}

async fn commit_group(store: &Store, signed: Signed) {
    let refs: Vec<&StoredReceipt> = signed.iter().map(|(r, _)| r).collect();
    match store.insert_receipts_group(&refs).await {
        Ok(written) => {
            for ((stored, done), new) in signed.into_iter().zip(written) {
                let result = if new {
                    Ok(Inserted::New)
                } else {
                    existing(store, &stored).await
                };
                let _ = done.send(result.map(|i| (i, stored)));
            }
        }
        Err(e) => {
            // Something in the group failed: nothing of it was committed. Write each
            // alone, so one bad receipt does not fail the others.
            tracing::warn!(error = %e, n = signed.len(), "group commit failed; writing one by one");
            for (stored, done) in signed {
                let result = store.insert_receipt(&stored).await;
                let _ = done.send(result.map(|i| (i, stored)));
            }
        }
    }
}

async fn existing(store: &Store, r: &StoredReceipt) -> Result<Inserted, StoreError> {
    match store
        .receipt_by_request(r.receipt.site.as_str(), &r.receipt.request_id)
        .await?
    {
        Some(found) => Ok(Inserted::Existing(Box::new(found))),
        None => Err(StoreError::Corrupt(
            "receipt conflicted on request_id but none was found".into(),
        )),
    }
}
