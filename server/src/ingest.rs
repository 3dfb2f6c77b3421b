//! Group commit for receipts: handlers hand their signed receipt to a writer task, which
//! writes everything waiting in one transaction (one commit, one fsync) and answers each
//! handler only after that commit. Under load this turns hundreds of commits a second
//! into a few, without weakening the rule that an acknowledged receipt is durable.
//!
//! SQLite has one writer task (it has one writer anyway); PostgreSQL several.

use crate::store::{Inserted, Store, StoreError, StoredReceipt};
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

/// Receipts written per transaction at most.
const GROUP: usize = 256;

struct Job {
    receipt: StoredReceipt,
    done: oneshot::Sender<Result<Inserted, StoreError>>,
}

/// The writer tasks' mailbox.
#[derive(Debug)]
pub struct Ingest {
    tx: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.receipt.receipt.receipt_id)
    }
}

impl Ingest {
    /// Starts the writer tasks on the current runtime.
    pub fn start(store: Store) -> Self {
        let (tx, rx) = mpsc::channel::<Job>(4 * GROUP);
        let rx = Arc::new(Mutex::new(rx));
        let writers = if store.kind() == "postgres" { 4 } else { 1 };
        for _ in 0..writers {
            tokio::spawn(writer(store.clone(), rx.clone()));
        }
        Self { tx }
    }

    /// Writes `receipt` (with others waiting at the same time) and returns once it is
    /// committed; idempotent on `(site, request_id)` like [`Store::insert_receipt`].
    pub async fn insert(&self, receipt: StoredReceipt) -> Result<Inserted, StoreError> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Job { receipt, done })
            .await
            .map_err(|_| StoreError::Corrupt("the receipt writer has stopped".into()))?;
        wait.await
            .map_err(|_| StoreError::Corrupt("the receipt writer has stopped".into()))?
    }
}

async fn writer(store: Store, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
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
        let refs: Vec<&StoredReceipt> = jobs.iter().map(|j| &j.receipt).collect();
        match store.insert_receipts_group(&refs).await {
            Ok(written) => {
                for (job, new) in jobs.into_iter().zip(written) {
                    let result = if new {
                        Ok(Inserted::New)
                    } else {
                        existing(&store, &job.receipt).await
                    };
                    let _ = job.done.send(result);
                }
            }
            Err(e) => {
                // Something in the group failed: nothing of it was committed. Write each
                // alone, so one bad receipt does not fail the others.
                tracing::warn!(error = %e, n = jobs.len(), "group commit failed; writing one by one");
                for job in jobs {
                    let result = store.insert_receipt(&job.receipt).await;
                    let _ = job.done.send(result);
                }
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
