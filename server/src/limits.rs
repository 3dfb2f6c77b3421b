//! Per-client rate limiting of receipt posts, with GCRA (the generic cell rate algorithm):
//! per client, the theoretical arrival time (TAT) of its next request. A request at `now`
//! is allowed when `max(tat, now) - now <= (burst - 1) * interval`, and moves the TAT one
//! interval on. That is a token bucket of `burst` tokens refilled at `per_minute`, kept as
//! one number.
//!
//! Where the TATs live follows the store: with SQLite (one process) in this process's
//! memory; with PostgreSQL in the database (`rate_limits`, an unlogged table), updated by
//! one atomic statement per request, so the limit holds for the whole fleet behind a load
//! balancer and not once per process.

use crate::store::Store;
use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

/// A GCRA limiter keyed by client address.
#[derive(Debug)]
pub struct RateLimiter {
    /// Milliseconds between requests at the sustained rate.
    interval_ms: i64,
    /// How far ahead of now a client's TAT may be: `(burst - 1) * interval`.
    tolerance_ms: i64,
    tats: Tats,
}

#[derive(Debug)]
enum Tats {
    /// Limiting is off.
    Off,
    /// In this process, measured from `epoch`.
    Local {
        epoch: Instant,
        tats: Mutex<HashMap<IpAddr, i64>>,
    },
    /// In the database, shared by every process.
    Shared(Store),
}

impl RateLimiter {
    /// Allows `per_minute` requests a minute per client on average, `burst` at once, kept
    /// where `store` says (see the module docs). `per_minute = 0` turns limiting off.
    pub fn new(per_minute: u32, burst: u32, store: &Store) -> Self {
        let interval_ms = 60_000 / i64::from(per_minute.max(1));
        let tolerance_ms = i64::from(burst.max(1) - 1) * interval_ms;
        let tats = match store {
            _ if per_minute == 0 => Tats::Off,
            Store::Sqlite(_) => Tats::Local {
                epoch: Instant::now(),
                tats: Mutex::default(),
            },
            Store::Postgres(_) => Tats::Shared(store.clone()),
        };
        Self {
            interval_ms,
            tolerance_ms,
            tats,
        }
    }

    /// Counts a request of `client`; `Err(retry_after)` when it is over the limit. If the
    /// database cannot be asked, the request is let through (the receipt write that
    /// follows meets the same database and says so).
    pub async fn check(&self, client: IpAddr) -> Result<(), Duration> {
        let over_by_ms = match &self.tats {
            Tats::Off => return Ok(()),
            Tats::Local { epoch, tats } => {
                let now = i64::try_from(epoch.elapsed().as_millis()).unwrap_or(i64::MAX);
                let mut tats = tats.lock().unwrap_or_else(|e| e.into_inner());
                if tats.len() > 100_000 {
                    // Forget clients whose TAT is in the past: they start afresh anyway.
                    tats.retain(|_, tat| *tat > now);
                }
                let tat = tats.entry(client).or_insert(now);
                let start = (*tat).max(now);
                if start - now <= self.tolerance_ms {
                    *tat = start + self.interval_ms;
                    None
                } else {
                    Some(start - now - self.tolerance_ms)
                }
            }
            Tats::Shared(store) => {
                match store
                    .rate_limit(&client.to_string(), self.interval_ms, self.tolerance_ms)
                    .await
                {
                    Ok(over) => over,
                    Err(e) => {
                        tracing::warn!(error = %e, "rate limit not checked");
                        None
                    }
                }
            }
        };
        match over_by_ms {
            None => Ok(()),
            Some(ms) => Err(Duration::from_millis(u64::try_from(ms).unwrap_or(0))),
        }
    }

    /// Forgets clients whose limit has fully recovered (the shared table; the local map
    /// cleans itself).
    pub async fn sweep(&self) {
        if let Tats::Shared(store) = &self.tats
            && let Err(e) = store.sweep_rate_limits().await
        {
            tracing::warn!(error = %e, "cannot sweep the rate limits");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn allows_a_burst_then_refuses_per_client() {
        let store = Store::connect("sqlite::memory:").await.expect("store");
        let l = RateLimiter::new(60, 3, &store);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..3 {
            assert!(l.check(a).await.is_ok());
        }
        let wait = l.check(a).await.expect_err("fourth is refused");
        assert!(wait > Duration::from_millis(500) && wait <= Duration::from_secs(1));
        assert!(l.check(b).await.is_ok(), "another client is not affected");
        assert!(RateLimiter::new(0, 1, &store).check(a).await.is_ok());
    }
}
