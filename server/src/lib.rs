//! yinyom-server: the consent server behind the Yinyom widget.
//!
//! Start at [`serve`] (what `yinyom serve` runs) and [`routes::router`] (every URL).
//!
//! # Layout
//! - [`admin`]: the DPO console (HTML) and the admin API (JSON): two doors onto the same
//!   operations, each site's access checked by an extractor (roles, sessions, tokens,
//!   audit log).
//! - [`config`]: command line and environment (`yinyom --help`); [`cli`]: progress bars
//!   of long commands.
//! - [`routes`]: HTTP handlers, one module per resource; thin. [`routes::demo`] serves the
//!   example host pages in demo mode.
//! - [`receipts`]: a choice is checked against its notice (rules in `yinyom_model::receipt`)
//!   and drafted; [`ingest`] signs the drafts and commits them in groups.
//! - [`consent`]: the consent-check API's answer (a subject's current consent, or the
//!   person an agency's reference names); [`paper`]: consent signed on paper, entered by staff;
//!   [`webhooks`]: Standard Webhooks, the outbox's delivery worker.
//! - [`render`]: server-rendered HTML (the public notice page), sanitized.
//! - [`sites`]: importing a site folder and publishing notice versions.
//! - [`signing`]: Ed25519 JWS and the JWKS.
//! - [`log`]: the tamper-evident Merkle log in C2SP formats (signed-note checkpoints,
//!   hash tiles, tlog-proofs), its sequencer, witnessing and verification; [`witness`]:
//!   `yinyom witness serve`, a C2SP tlog-witness.
//! - [`store`]: every SQL statement; SQLite and PostgreSQL. [`catalog`] keeps sites and
//!   notice versions in memory for the receipt path.
//! - [`export`]: streamed receipt exports (JSONL, CSV, Kantara CR v1.1, ISO/IEC TS 27560).
//! - [`limits`], [`metrics`], [`health`]: rate limiting, `/metrics`, whether the store can
//!   commit (`/readyz`).
//! - [`error`]: the API error type and its status codes.
//! - [`stats`]: acceptance statistics (console, open data).
//! - [`dates`]: Thailand time, Thai dates in the Buddhist era (pages people read).
//! - [`state`]: what handlers share.
//!
//! Dependencies point one way: the doors ([`routes`], [`admin`]) → the work ([`receipts`],
//! [`ingest`], [`stats`], [`sites`], [`export`], [`log`]) → the parts ([`catalog`],
//! [`signing`], [`store`], [`dates`]) → `yinyom_model`.

pub mod admin;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod consent;
pub mod dates;
pub mod erasure;
pub mod error;
pub mod export;
pub mod health;
pub mod ingest;
pub mod limits;
pub mod log;
pub mod metrics;
pub mod paper;
pub mod receipts;
pub mod render;
pub mod requests;
pub mod routes;
pub mod selfcheck;
pub mod signing;
pub mod sites;
pub mod state;
pub mod stats;
pub mod store;
pub mod subjects;
pub mod webhooks;
pub mod witness;

use crate::{
    config::ServeArgs,
    signing::Signer,
    state::{AppState, Settings, WidgetBuild},
    store::Store,
};
use std::sync::Arc;

/// Builds the application state for `store` with the given settings, signing receipts and
/// log checkpoints with `keys` (see [`Signer::load`]).
pub async fn app_state(
    store: Store,
    settings: Settings,
    keys: &signing::Keys,
) -> anyhow::Result<AppState> {
    let signer = Signer::load(&store, signing::KeyPurpose::Receipt, &keys.receipts).await?;
    let log_signer = Arc::new(Signer::load(&store, signing::KeyPurpose::Log, &keys.log).await?);
    let limiter = limits::RateLimiter::new(
        settings.rate_limit_per_minute,
        settings.rate_limit_burst,
        &store,
    );
    let signer = Arc::new(signer);
    let health = Arc::new(health::StoreHealth::default());
    let subjects = keys.subjects.clone().ok_or_else(|| {
        anyhow::anyhow!(
            "no subject key: give `--subject-key FILE` (yinyom keys generate-subject --out FILE)"
        )
    })?;
    let metrics = Arc::new(metrics::Metrics::default());
    let ingest = ingest::Ingest::start(
        store.clone(),
        signer.clone(),
        health.clone(),
        metrics.clone(),
    );
    Ok(AppState {
        subjects: Arc::new(subjects),
        store: store.clone(),
        signer,
        log_signer,
        settings: Arc::new(settings),
        metrics,
        limiter: Arc::new(limiter),
        ingest: Arc::new(ingest),
        health,
        catalog: Arc::new(catalog::Catalog::new(store.clone())),
    })
}

/// A bound, not yet running `yinyom serve`: the API and, in demo mode, the host pages.
#[derive(Debug)]
pub struct Server {
    api: tokio::net::TcpListener,
    pages: Option<(
        tokio::net::TcpListener,
        std::path::PathBuf,
        Option<std::path::PathBuf>,
    )>,
    state: AppState,
    checkpoint_secs: u64,
    self_check_secs: u64,
    timeouts: Timeouts,
}

/// How long a client may take: to send a request's head (also the longest an idle
/// keep-alive connection stays open) and its body. A connection that overruns is closed.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Request line and headers; idle keep-alive.
    pub head: std::time::Duration,
    /// Request body.
    pub body: std::time::Duration,
}

impl Server {
    /// Binds the listeners, opens the keys and prepares the state.
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
                Some((pl, dir.clone(), args.pages_webhook_secrets.clone()))
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
            trusted_proxies: match (args.trusted_proxies, args.trust_forwarded_for) {
                (0, true) => 1,
                (n, _) => n,
            },
            witnesses: log::witness::Witnesses::parse(&args.witnesses, args.witness_quorum)
                .map_err(|e| anyhow::anyhow!(e))?,
        };
        let keys = signing::Keys::load(
            &args.signing_key,
            &args.log_key,
            args.pkcs11_module.as_deref(),
        )?
        .with_subject_key(&args.subject_key)?;
        let state = app_state(store, settings, &keys).await?;
        Ok(Self {
            api,
            pages,
            state,
            checkpoint_secs: args.checkpoint_secs,
            self_check_secs: args.self_check_interval,
            timeouts: Timeouts {
                head: std::time::Duration::from_secs(args.header_timeout_secs.max(1)),
                body: std::time::Duration::from_secs(args.body_timeout_secs.max(1)),
            },
        })
    }

    /// The API's address.
    pub fn api_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.api.local_addr()
    }

    /// The host pages' address, in demo mode.
    pub fn pages_addr(&self) -> Option<std::net::SocketAddr> {
        self.pages
            .as_ref()
            .and_then(|(l, _, _)| l.local_addr().ok())
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
        tracing::info!(%public_url, store = self.state.store.backend().as_str(), "yinyom is listening");
        let log_signer = log::LogSigner::of(&self.state).await?;
        // Witnesses are configured with each log's vkey: say it where operators look.
        for site in self.state.store.site_ids().await? {
            tracing::info!(%site, vkey = %log_signer.vkey(&site)?, "log");
        }
        let keys = {
            let (store, signer) = (self.state.store.clone(), self.state.signer.clone());
            tokio::spawn(async move {
                let mut every = tokio::time::interval(signing::KEY_REFRESH);
                loop {
                    every.tick().await;
                    if let Err(e) = signer.refresh(&store).await {
                        tracing::warn!(error = %e, "cannot reload the signing keys' periods");
                    }
                }
            })
        };
        let sequencer = tokio::spawn(log::run_sequencer(
            self.state.store.clone(),
            log_signer,
            self.state.settings.witnesses.clone(),
            std::time::Duration::from_secs(self.checkpoint_secs.max(1)),
        ));
        // Once a day, retention erases the consent records whose time is up.
        let retention = tokio::spawn(erasure::run_retention(self.state.clone()));
        let self_check = (self.self_check_secs > 0).then(|| {
            tokio::spawn(selfcheck::run(
                self.state.clone(),
                std::time::Duration::from_secs(self.self_check_secs),
            ))
        });
        let sweeper = {
            let limiter = self.state.limiter.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
                loop {
                    every.tick().await;
                    limiter.sweep().await;
                }
            })
        };
        // Webhooks: every process delivers; each delivery is claimed by one of them.
        let webhooks = tokio::spawn(webhooks::run(
            self.state.store.clone(),
            webhooks::SealKey::of(&self.state.subjects),
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
        let app = routes::router(self.state).layer(
            tower_http::timeout::RequestBodyTimeoutLayer::new(self.timeouts.body),
        );
        let api = serve_http(self.api, app, self.timeouts, wait(tx.subscribe()));
        match self.pages {
            Some((listener, dir, secrets)) => {
                println!("yinyom: example pages on http://{}", listener.local_addr()?);
                let router = routes::demo::router(dir, public_url, secrets);
                let pages = serve_http(listener, router, self.timeouts, wait(tx.subscribe()));
                tokio::join!(api, pages);
            }
            None => api.await,
        }
        sequencer.abort();
        retention.abort();
        if let Some(task) = self_check {
            task.abort();
        }
        webhooks.abort();
        sweeper.abort();
        keys.abort();
        Ok(())
    }
}

/// Serves `app` on `listener` over HTTP/1.1 until `stop` resolves, then lets the requests
/// in flight finish. Each connection gets the client's address (`ConnectInfo`) and the
/// head timeout, which hyper applies to the request head and to an idle keep-alive
/// connection waiting for its next request (the body timeout is a layer of `app`).
async fn serve_http(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    timeouts: Timeouts,
    stop: impl std::future::Future<Output = ()>,
) {
    use hyper_util::{
        rt::{TokioIo, TokioTimer},
        server::graceful::GracefulShutdown,
        service::TowerToHyperService,
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(timeouts.head)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let service = tower::ServiceExt::map_request(
            app.clone(),
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req.map(axum::body::Body::new)
            },
        );
        let conn = graceful
            .watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection closed");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
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
