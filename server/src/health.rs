//! Whether the store can commit. Every receipt write reports its outcome here, and so does
//! `/readyz`'s one-row probe when it fails. `/readyz` fails while writes fail for a reason
//! that passes by itself (a full disk, a read-only file system, PostgreSQL down or failing
//! over: see [`StoreError::unavailable`]) and for 5 s after the last such failure: a
//! passing probe writes a few bytes where a receipt group needs more, so it clears a
//! failure only after that. The log says the real cause once when it starts and once when
//! the store commits again.

use crate::store::StoreError;
use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

/// How long after a failed write `/readyz` still fails, even if its own probe passed: a
/// probe writes a few bytes where a receipt group needs more.
const SETTLE: Duration = Duration::from_secs(5);

/// Seconds a client is asked to wait (`Retry-After`) while the store cannot commit.
pub const RETRY_AFTER_SECS: u64 = 5;

/// The store's write health, shared by the writers and `/readyz`.
#[derive(Debug, Default)]
pub struct StoreHealth {
    failure: Mutex<Option<Failure>>,
}

#[derive(Debug)]
struct Failure {
    cause: String,
    at: Instant,
}

impl StoreHealth {
    /// Records the outcome of a write. Errors that are not about availability (a bug, bad
    /// data) say nothing about the store's health and are ignored here.
    pub fn observe<T>(&self, outcome: &Result<T, StoreError>) {
        let mut failure = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            Ok(_) => {
                if let Some(f) = failure.take() {
                    tracing::info!(was = %f.cause, "the store commits again");
                }
            }
            Err(e) => {
                if let Some(cause) = e.unavailable() {
                    if failure.is_none() {
                        tracing::error!(%cause, "the store cannot commit: receipts are answered 503 and /readyz fails until it can");
                    }
                    *failure = Some(Failure {
                        cause,
                        at: Instant::now(),
                    });
                }
            }
        }
    }

    /// Records that `/readyz`'s small probe committed. A probe writes a few bytes where a
    /// receipt group needs more, so it clears a failure only once no write has failed
    /// for a few seconds.
    pub fn probe_committed(&self) {
        let mut failure = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        if failure.as_ref().is_some_and(|f| f.at.elapsed() >= SETTLE)
            && let Some(f) = failure.take()
        {
            tracing::info!(was = %f.cause, "the store commits again");
        }
    }

    /// Why the store is not ready, if a write failed for an availability reason in the
    /// last few seconds.
    pub fn recent_failure(&self) -> Option<String> {
        let failure = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        failure
            .as_ref()
            .filter(|f| f.at.elapsed() < SETTLE)
            .map(|f| f.cause.clone())
    }
}
