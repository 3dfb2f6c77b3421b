//! Shared state of the HTTP handlers.

use crate::{limits::RateLimiter, metrics::Metrics, signing::Signer, store::Store};
use serde::Deserialize;
use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

/// What every handler may use. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The receipt signer (`--signing-key`).
    pub signer: Arc<Signer>,
    /// The log checkpoint signer (`--log-key`).
    pub log_signer: Arc<Signer>,
    /// Settings fixed at start.
    pub settings: Arc<Settings>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Per-client limit on receipt posts.
    pub limiter: Arc<RateLimiter>,
    /// Group commit of receipts.
    pub ingest: Arc<crate::ingest::Ingest>,
    /// Sites and notice versions kept in memory.
    pub catalog: Arc<crate::catalog::Catalog>,
    /// Turns visitors' secrets into pseudonyms (`--subject-key`).
    pub subjects: Arc<crate::subjects::SubjectKey>,
    /// Whether the store can commit (`/readyz`).
    pub health: Arc<crate::health::StoreHealth>,
}

impl AppState {
    /// The client's address. Behind `trusted_proxies` reverse proxies, each of which
    /// appends the address it received the request from to `X-Forwarded-For`, the
    /// client is the entry the first proxy added: the `trusted_proxies`-th from the
    /// right. Entries further left were written by the client and are ignored. Without
    /// trusted proxies, or when the header has fewer entries, the peer address.
    pub fn client_ip(
        &self,
        headers: &axum::http::HeaderMap,
        peer: Option<std::net::SocketAddr>,
    ) -> std::net::IpAddr {
        let hops = usize::from(self.settings.trusted_proxies);
        if hops > 0 {
            let added: Vec<&str> = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .collect();
            if let Some(ip) = added
                .len()
                .checked_sub(hops)
                .and_then(|i| added.get(i))
                .and_then(|v| v.parse::<std::net::IpAddr>().ok())
            {
                return ip;
            }
        }
        peer.map_or(std::net::IpAddr::from([127, 0, 0, 1]), |a| a.ip())
    }
}

/// Settings fixed at start.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Public base URL without a trailing slash, e.g. `https://consent.agency.go.th`.
    pub public_url: String,
    /// The dist folder (`cargo xtask dist` writes it): `manifest.json` and `assets/`.
    pub dist: PathBuf,
    /// The built widget, if `cargo xtask dist` was run.
    pub widget: Option<WidgetBuild>,
    /// Origins trusted for every site (the demo's host-page server).
    pub extra_origins: Vec<String>,
    /// Receipt posts allowed per client per minute (0: no limit).
    pub rate_limit_per_minute: u32,
    /// Receipt posts a client may send at once.
    pub rate_limit_burst: u32,
    /// Reverse proxies in front of the server that append to `X-Forwarded-For` (0: the
    /// header is ignored); see [`AppState::client_ip`].
    pub trusted_proxies: u8,
    /// The witnesses that cosign the log's checkpoints, and how many must.
    pub witnesses: crate::log::witness::Witnesses,
}

/// `dist/manifest.json`, written by `cargo xtask dist`.
#[derive(Debug, Clone, Deserialize)]
pub struct WidgetBuild {
    /// Build id (content hash).
    pub build: String,
    /// Path of the widget's JS glue, under `/assets/`.
    pub js: String,
    /// Path of the widget's wasm, under `/assets/`.
    pub wasm: String,
}

impl WidgetBuild {
    /// Reads `manifest.json` from the dist folder; `None` if the widget was not built.
    pub fn load(dist: &Path) -> anyhow::Result<Option<Self>> {
        let path = dist.join("manifest.json");
        match std::fs::read_to_string(&path) {
            Ok(s) => Ok(Some(serde_json::from_str(&s).map_err(|e| {
                anyhow::anyhow!("{}: not a widget manifest: {e}", path.display())
            })?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
        }
    }
}
