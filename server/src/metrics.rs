//! `/metrics` in the Prometheus text format: requests by route and status, latency
//! histogram, receipts stored, errors.

use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    /// Receipts written (not replays).
    pub receipts_stored: AtomicU64,
    /// Transactions of the receipt writer that committed (one per group of receipts).
    pub receipt_commits: AtomicU64,
    /// Requests answered with a 5xx.
    pub errors: AtomicU64,
    /// The background self-check's last result per site: whether the store agreed with
    /// itself, and when (unix ms) it was checked.
    consistency: Mutex<BTreeMap<String, (bool, i64)>>,
}

impl Metrics {
    /// Records one request.
    pub fn observe(&self, method: &str, route: &str, status: u16, took: Duration) {
        {
            let mut r = self.requests.lock().unwrap_or_else(|e| e.into_inner());
            *r.entry((method.to_owned(), route.to_owned(), status))
                .or_default() += 1;
        }
        let secs = took.as_secs_f64();
        let mut l = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        let h = l.entry(route.to_owned()).or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
        if status >= 500 {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records the self-check of `site`: consistent or not, checked at `at_ms`.
    pub fn checked(&self, site: &str, consistent: bool, at_ms: i64) {
        self.consistency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(site.to_owned(), (consistent, at_ms));
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP yinyom_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE yinyom_http_requests_total counter");
        for ((m, r, s), n) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "yinyom_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{s}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP yinyom_http_request_duration_seconds Request latency by route."
        );
        let _ = writeln!(out, "# TYPE yinyom_http_request_duration_seconds histogram");
        for (r, h) in self
            .latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "yinyom_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "yinyom_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "yinyom_http_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "yinyom_http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP yinyom_receipts_stored_total Consent receipts written."
        );
        let _ = writeln!(out, "# TYPE yinyom_receipts_stored_total counter");
        let _ = writeln!(
            out,
            "yinyom_receipts_stored_total {}",
            self.receipts_stored.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP yinyom_receipt_commits_total Transactions that committed receipts (receipts stored / commits = receipts per group commit)."
        );
        let _ = writeln!(out, "# TYPE yinyom_receipt_commits_total counter");
        let _ = writeln!(
            out,
            "yinyom_receipt_commits_total {}",
            self.receipt_commits.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP yinyom_http_errors_total Requests answered with a server error."
        );
        let _ = writeln!(out, "# TYPE yinyom_http_errors_total counter");
        let _ = writeln!(
            out,
            "yinyom_http_errors_total {}",
            self.errors.load(Ordering::Relaxed)
        );
        let consistency = self.consistency.lock().unwrap_or_else(|e| e.into_inner());
        if !consistency.is_empty() {
            let _ = writeln!(
                out,
                "# HELP yinyom_store_consistent 1 when the last self-check of the site's store found nothing wrong (log verify), else 0."
            );
            let _ = writeln!(out, "# TYPE yinyom_store_consistent gauge");
            for (site, (ok, _)) in consistency.iter() {
                let _ = writeln!(
                    out,
                    "yinyom_store_consistent{{site=\"{site}\"}} {}",
                    u8::from(*ok)
                );
            }
            let _ = writeln!(
                out,
                "# HELP yinyom_store_checked_timestamp_seconds When the site's store was last self-checked (unix time)."
            );
            let _ = writeln!(out, "# TYPE yinyom_store_checked_timestamp_seconds gauge");
            for (site, (_, at)) in consistency.iter() {
                let _ = writeln!(
                    out,
                    "yinyom_store_checked_timestamp_seconds{{site=\"{site}\"}} {}",
                    *at as f64 / 1000.0
                );
            }
        }
        out
    }
}
