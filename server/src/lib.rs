//! yinyom-server: the consent server behind the Yinyom widget.
//!
//! Start at [`serve`] (what `yinyom serve` runs) and [`routes::router`] (every URL).
//!
//! # Layout
//! - [`admin`]: the DPO console and admin API (roles, sessions, tokens, audit log).
//! - [`config`]: command line and environment (`yinyom --help`).
//! - [`routes`]: HTTP handlers, one module per resource; thin.
//! - [`receipts`]: a choice becomes a signed, stored receipt; [`ingest`] commits them in groups.
//! - [`render`]: server-rendered HTML (the public notice page), sanitized.
//! - [`sites`]: importing a site folder and publishing notice versions.
//! - [`signing`]: Ed25519 JWS and the JWKS.
//! - [`log`]: the tamper-evident Merkle log, its sequencer, proofs and verification.
//! - [`store`]: every SQL statement; SQLite and PostgreSQL. [`catalog`] keeps sites and
//!   notice versions in memory for the receipt path.
//! - [`export`]: streamed receipt exports (JSONL, CSV, Kantara CR v1.1, ISO/IEC TS 27560).
//! - [`limits`], [`metrics`]: rate limiting and `/metrics`.
//! - [`error`]: the API error type and its status codes.
//! - [`stats`]: acceptance statistics (console, open data).
//! - [`dates`]: Thailand time, Thai dates in the Buddhist era (pages people read).
//! - [`state`]: what handlers share.

pub mod admin;
pub mod catalog;
pub mod config;
pub mod dates;
pub mod error;
pub mod export;
pub mod ingest;
pub mod limits;
pub mod log;
pub mod metrics;
pub mod receipts;
pub mod render;
pub mod routes;
pub mod signing;
pub mod sites;
pub mod state;
pub mod stats;
pub mod store;

use crate::{
    config::ServeArgs,
    signing::Signer,
    state::{AppState, Settings, WidgetBuild},
    store::Store,
};
use std::sync::Arc;

/// Builds the application state for `store` with the given settings.
pub async fn app_state(store: Store, settings: Settings) -> anyhow::Result<AppState> {
    let signer = Signer::load_or_create(&store).await?;
    let limiter =
        limits::RateLimiter::new(settings.rate_limit_per_minute, settings.rate_limit_burst);
    let signer = Arc::new(signer);
    Ok(AppState {
        store: store.clone(),
        signer: signer.clone(),
        settings: Arc::new(settings),
        metrics: Arc::default(),
        limiter: Arc::new(limiter),
        ingest: Arc::new(ingest::Ingest::start(store.clone(), signer)),
        catalog: Arc::new(catalog::Catalog::new(store.clone())),
    })
}

/// A bound, not yet running `yinyom serve`: the API and, in demo mode, the host pages.
#[derive(Debug)]
pub struct Server {
    api: tokio::net::TcpListener,
    pages: Option<(tokio::net::TcpListener, std::path::PathBuf)>,
    state: AppState,
    checkpoint_secs: u64,
}

impl Server {
    /// Binds the listeners and prepares the state (creating a signing key if none exists).
    pub async fn bind(store: Store, args: &ServeArgs) -> anyhow::Result<Self> {
        let api = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
        let public_url = args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", api.local_addr().unwrap_or(args.listen)))
            .trim_end_matches('/')
            .to_owned();
        let widget = WidgetBuild::load(&args.dist)?;
        if widget.is_none() {
            tracing::warn!(dist = %args.dist.display(), "the widget is not built: run `cargo xtask dist`; yinyom.js answers 503 until then");
        }
        let mut extra_origins = Vec::new();
        let pages = match &args.pages {
            Some(dir) => {
                let pl = tokio::net::TcpListener::bind(args.pages_listen)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.pages_listen))?;
                let addr = pl.local_addr()?;
                extra_origins.push(format!("http://{addr}"));
                if addr.ip().is_loopback() {
                    extra_origins.push(format!("http://localhost:{}", addr.port()));
                }
                Some((pl, dir.clone()))
            }
            None => None,
        };
        let settings = Settings {
            public_url,
            dist: args.dist.clone(),
            widget,
            extra_origins,
            rate_limit_per_minute: args.rate_limit,
            rate_limit_burst: args.rate_burst,
            trust_forwarded_for: args.trust_forwarded_for,
        };
        let state = app_state(store, settings).await?;
        Ok(Self {
            api,
            pages,
            state,
            checkpoint_secs: args.checkpoint_secs,
        })
    }

    /// The API's address.
    pub fn api_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.api.local_addr()
    }

    /// The host pages' address, in demo mode.
    pub fn pages_addr(&self) -> Option<std::net::SocketAddr> {
        self.pages.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    /// The handlers' state (the tests read the store through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then finishes requests in flight.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let public_url = self.state.settings.public_url.clone();
        tracing::info!(%public_url, store = self.state.store.kind(), "yinyom is listening");
        let sequencer = tokio::spawn(log::run_sequencer(
            self.state.store.clone(),
            self.state.signer.clone(),
            std::time::Duration::from_secs(self.checkpoint_secs.max(1)),
        ));
        println!("yinyom: API on {public_url}");
        let (tx, _) = tokio::sync::broadcast::channel::<()>(1);
        let stop = {
            let tx = tx.clone();
            async move {
                shutdown.await;
                let _ = tx.send(());
            }
        };
        tokio::spawn(stop);
        let wait = |mut rx: tokio::sync::broadcast::Receiver<()>| async move {
            let _ = rx.recv().await;
        };
        let app = routes::router(self.state)
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        let api = axum::serve(self.api, app).with_graceful_shutdown(wait(tx.subscribe()));
        match self.pages {
            Some((listener, dir)) => {
                println!("yinyom: example pages on http://{}", listener.local_addr()?);
                let router = routes::pages::router(dir, public_url);
                let pages =
                    axum::serve(listener, router).with_graceful_shutdown(wait(tx.subscribe()));
                tokio::try_join!(api, pages)?;
            }
            None => api.await?,
        }
        sequencer.abort();
        Ok(())
    }
}

/// Runs `yinyom serve` until Ctrl-C or SIGTERM, finishing requests in flight.
pub async fn serve(store: Store, args: ServeArgs) -> anyhow::Result<()> {
    Server::bind(store, &args)
        .await?
        .run(shutdown_signal())
        .await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
