//! The background self-check of `yinyom serve` (`--self-check-interval`): every interval,
//! the same checks as `yinyom log verify` on every site; disagreement is logged (one
//! warning per finding) and shown in `/metrics` as `yinyom_store_consistent{site} 0`,
//! with `yinyom_store_checked_timestamp_seconds{site}` the time of the last check.
//!
//! Each round is a full check, not an incremental one: it reads every receipt and leaf of
//! the site (streamed: its memory is about 100 bytes per receipt), so on a large store
//! choose an interval of hours (the default, 1 hour). The first round comes one interval
//! after start, and only one process of a fleet runs it (a lease).

use crate::{log, state::AppState, store::now_ms};

/// The lease that makes one process of a fleet run the self-check.
pub const SELF_CHECK_LEASE: &str = "self-check";

/// Checks every site once and records the result in the metrics; returns how many
/// findings there were in all.
pub async fn round(state: &AppState) -> usize {
    let sites = match state.store.site_ids().await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "self-check: cannot list sites");
            return 0;
        }
    };
    let mut findings = 0;
    for site in sites {
        match log::verify(&state.store, &site).await {
            Ok(report) => {
                for f in &report.findings {
                    tracing::error!(%site, finding = %f, "self-check: TAMPERED: the store disagrees with itself");
                }
                findings += report.findings.len();
                state
                    .metrics
                    .checked(&site, report.findings.is_empty(), now_ms());
            }
            Err(e) => {
                tracing::warn!(%site, error = %e, "self-check could not run; will retry");
            }
        }
    }
    findings
}

/// Runs [`round`] every `every` in the process that holds the lease, until the process
/// ends.
pub async fn run(state: AppState, every: std::time::Duration) {
    let holder = uuid::Uuid::now_v7().to_string();
    let lease_ms = i64::try_from((every * 2).as_millis()).unwrap_or(i64::MAX);
    // The first round one interval after start, not at start: a check reads the whole
    // store, and a process just started (a deploy, a restart after a crash) has receipts
    // to take and a log to catch up first.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match state
            .store
            .take_lease(SELF_CHECK_LEASE, &holder, lease_ms)
            .await
        {
            Ok(true) => {
                round(&state).await;
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "self-check: cannot take its lease; will retry"),
        }
    }
}
