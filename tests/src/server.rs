//! A real server for one test.

use std::{net::SocketAddr, path::PathBuf, time::Duration};
use tokio::{runtime::Runtime, sync::oneshot};
use yinyom_server::{
    Server,
    admin::auth,
    config::ServeArgs,
    sites,
    store::{Role, Store},
};

/// `yinyom serve` on a fresh SQLite file, with the given example sites imported and the
/// example pages on a second origin. Stops when dropped.
pub struct TestServer {
    /// The runtime the server runs on (also used to query the store).
    pub rt: Runtime,
    /// The database.
    pub store: Store,
    /// The API's base URL.
    pub api: String,
    /// The host pages' base URL.
    pub pages: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    args: Option<ServeArgs>,
    subjects: yinyom_server::subjects::SubjectKey,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server with the example folders `examples` (relative to `examples/`).
    pub fn start(examples: &[&str]) -> anyhow::Result<Self> {
        let root = crate::root();
        let dist = std::env::var_os("YINYOM_DIST")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("dist"));
        anyhow::ensure!(
            dist.join("manifest.json").is_file(),
            "the widget is not built in {}: run the end-to-end tests with `cargo xtask test`",
            dist.display()
        );
        let dir = tempfile::tempdir()?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let url = format!("sqlite://{}", dir.path().join("e2e.db").display());
        let store = rt.block_on(Store::connect(&url))?;
        for ex in examples {
            rt.block_on(sites::import(&store, &root.join("examples").join(ex)))?;
        }
        let args = ServeArgs {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            dist,
            pages: Some(root.join("examples")),
            pages_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            pages_webhook_secrets: Some(dir.path().join("webhook-secrets")),
            checkpoint_secs: 1,
            self_check_interval: 0,
            witnesses: Vec::new(),
            witness_quorum: None,
            signing_key: vec![key_file(dir.path(), "receipt-key.pem")?],
            log_key: vec![key_file(dir.path(), "log-key.pem")?],
            subject_key: dir.path().join("subject.key"),
            pkcs11_module: None,
            rate_limit: 0,
            rate_burst: 1,
            trusted_proxies: 0,
            trust_forwarded_for: false,
            header_timeout_secs: 10,
            body_timeout_secs: 30,
        };
        let subjects = yinyom_server::subjects::SubjectKey::generate(&args.subject_key)?;
        let server = rt.block_on(Server::bind(store.clone(), &args))?;
        let api = format!("http://{}", server.api_addr()?);
        let pages = format!(
            "http://{}",
            server
                .pages_addr()
                .ok_or_else(|| anyhow::anyhow!("no pages listener"))?
        );
        let (tx, rx) = oneshot::channel::<()>();
        let task = rt.spawn(server.run(async {
            let _ = rx.await;
        }));
        let args = ServeArgs {
            listen: api.trim_start_matches("http://").parse()?,
            pages_listen: pages.trim_start_matches("http://").parse()?,
            ..args
        };
        Ok(Self {
            rt,
            store,
            api,
            pages,
            stop: Some(tx),
            task: Some(task),
            args: Some(args),
            subjects,
            _dir: dir,
        })
    }

    /// The pseudonym the server gives a browser's subject secret (receipts carry it).
    pub fn pseudonym(&self, secret: &str) -> String {
        self.subjects.pseudonym(secret)
    }

    /// Imports one more example folder (relative to `examples/`, e.g. a `v2/` version).
    pub fn import(&self, example: &str) -> anyhow::Result<()> {
        let dir = crate::root().join("examples").join(example);
        self.rt.block_on(sites::import(&self.store, &dir))?;
        Ok(())
    }

    /// Registers the demo's webhook receiver (the pages server's `/_webhooks/{site}`) as an
    /// endpoint of `site`, as `cargo xtask demo` does, and hands it the secret; the events
    /// it got are listed at `{pages}/_webhooks`.
    pub fn demo_webhooks(&self, site: &str) -> anyhow::Result<()> {
        let url = format!("{}/_webhooks/{site}", self.pages);
        let key = yinyom_server::webhooks::SealKey::of(&self.subjects);
        let (_, secret) = self.rt.block_on(yinyom_server::webhooks::add(
            &self.store,
            &key,
            "test",
            "local",
            site,
            &url,
        ))?;
        let file = self._dir.path().join("webhook-secrets");
        let mut lines = std::fs::read_to_string(&file).unwrap_or_default();
        lines.push_str(&format!("{site} {secret}\n"));
        std::fs::write(&file, lines)?;
        Ok(())
    }

    /// Lets pages of `origin` use `site`'s API too (receipts, the banner), as a webmaster
    /// adding an origin to the site file would; for a host page a test serves itself.
    pub fn allow_origin(&self, site: &str, origin: &str) -> anyhow::Result<()> {
        self.rt.block_on(async {
            let mut s = self
                .store
                .site(site)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no site {site}"))?;
            s.origins.push(origin.to_owned());
            self.store.upsert_site(&s).await?;
            anyhow::Ok(())
        })
    }

    /// Creates a console account (`role`: `admin`, `dpo` or `auditor`) with access to
    /// `sites`, as `yinyom users add` does.
    pub fn add_user(
        &self,
        email: &str,
        password: &str,
        role: &str,
        sites: &[&str],
    ) -> anyhow::Result<()> {
        let role = match role {
            "admin" => Role::Admin,
            "dpo" => Role::Dpo,
            "auditor" => Role::Auditor,
            other => anyhow::bail!("unknown role `{other}`"),
        };
        let hash = auth::hash_password(password).map_err(|e| anyhow::anyhow!(e))?;
        let sites: Vec<String> = sites.iter().map(|s| (*s).to_owned()).collect();
        self.rt
            .block_on(self.store.create_user(email, &hash, role, &sites))?;
        Ok(())
    }

    /// Stops serving (API and pages) and waits until the ports are closed; the database
    /// stays. [`TestServer::restart`] serves it again on the same ports.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            self.rt
                .block_on(async { tokio::time::timeout(Duration::from_secs(20), task).await })
                .map_err(|_| anyhow::anyhow!("the server did not stop within 20 s"))???;
        }
        Ok(())
    }

    /// Serves the same database again on the same ports, after [`TestServer::stop`].
    pub fn restart(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.task.is_none(), "the server is still running");
        let args = self
            .args
            .clone()
            .ok_or_else(|| anyhow::anyhow!("no arguments to restart with"))?;
        let server = self.rt.block_on(Server::bind(self.store.clone(), &args))?;
        let (tx, rx) = oneshot::channel::<()>();
        self.task = Some(self.rt.spawn(server.run(async {
            let _ = rx.await;
        })));
        self.stop = Some(tx);
        Ok(())
    }

    /// Polls `f` on the runtime until it returns `Some`, for up to `secs` seconds.
    pub fn wait_for<T, F, Fut>(&self, secs: u64, mut f: F) -> Option<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(v) = self.rt.block_on(f()) {
                return Some(v);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A key file `name` in `dir` (made on first use), as `serve --signing-key` takes it.
fn key_file(dir: &std::path::Path, name: &str) -> anyhow::Result<String> {
    let path = dir.join(name);
    if !path.exists() {
        yinyom_server::signing::keys::generate(&path.display().to_string(), None)?;
    }
    Ok(path.display().to_string())
}
