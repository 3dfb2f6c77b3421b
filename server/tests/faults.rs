//! Faults injected for real into the running `yinyom` binary while visitors post
//! receipts: the SQLite file's disk fills up and is freed again; PostgreSQL is stopped and
//! started again. In each case no receipt is acknowledged that was not committed, the
//! server answers 503 `store_unavailable` (with `Retry-After`) meanwhile and `/readyz`
//! fails, and it recovers by itself: new receipts succeed afterwards. (SIGKILL:
//! `durability.rs`.)

mod common;

use common::binary::{
    Seen, assert_all_stored, free_port, fresh_url, start, start_logging, stop_visitors, visitors,
    wait_readyz, wait_until,
};
use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::atomic::Ordering,
    time::Duration,
};
use yinyom_server::store::Store;

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A tmpfs of `size` mounted at a new directory, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Self {
        std::fs::create_dir_all(at).expect("mount point");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .expect("mount")
            .success();
        assert!(ok, "mounting a tmpfs failed");
        Self(at.to_owned())
    }

    fn resize(&self, size: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .expect("remount")
            .success();
        assert!(ok, "resizing the tmpfs failed");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn unexpected(seen: &Seen) -> Vec<String> {
    seen.unexpected.lock().expect("lock").clone()
}

/// The database's disk fills up under load (a 3 MB tmpfs), then space is freed. Without
/// root, or with `YINYOM_TEST_NO_ROOT` set, a page cap stands in for the disk.
#[test]
fn a_full_disk_acknowledges_nothing_it_did_not_store_and_recovers() {
    if std::env::var("YINYOM_TEST_DATABASE_URL").is_ok() {
        eprintln!("skipped: the full-disk test is for SQLite (PostgreSQL: see the restart test)");
        return;
    }
    if !is_root() || std::env::var("YINYOM_TEST_NO_ROOT").is_ok() {
        eprintln!("not root: the disk is a page cap instead of a small tmpfs");
        return full_database_without_root();
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tmp");
    let disk = Tmpfs::mount(&dir.path().join("disk"), "3m");
    let url = fresh_url(&rt, &disk.0);
    let port = free_port();
    let log = dir.path().join("server.log");
    let mut server = start_logging(&url, port, dir.path(), Some(&log));
    assert!(wait_readyz(port, 200, Duration::from_secs(10)));

    let (seen, stop, workers) = visitors(port, 8, "full", false);
    let filled = wait_until(Duration::from_secs(120), || {
        seen.unavailable.load(Ordering::Relaxed) >= 20
    });
    assert!(
        filled,
        "the disk never filled: {} acknowledged, unexpected answers {:?}",
        seen.acked(),
        unexpected(&seen)
    );
    assert!(
        wait_readyz(port, 503, Duration::from_secs(10)),
        "/readyz must fail while the disk is full"
    );
    let before = seen.acked();

    disk.resize("64m");
    let recovered = wait_until(Duration::from_secs(60), || seen.acked() >= before + 100);
    assert!(
        recovered,
        "receipts did not succeed again after space was freed ({} acknowledged after)",
        seen.acked() - before
    );
    assert!(
        wait_readyz(port, 200, Duration::from_secs(15)),
        "/readyz must pass again once space is back"
    );
    stop_visitors(&stop, workers);
    assert_eq!(
        unexpected(&seen),
        Vec::<String>::new(),
        "only 201 or 503 store_unavailable"
    );

    // Every acknowledged receipt is on disk: after a SIGKILL and a restart too.
    server.kill().expect("SIGKILL");
    let _ = server.wait();
    let mut server = start(&url, port, dir.path());
    let acked = seen.acked.lock().expect("lock").clone();
    assert_all_stored(&rt, &url, &acked);
    server.kill().expect("stop");
    let _ = server.wait();
    eprintln!(
        "full disk: {} acknowledged (all stored), {} answered 503 store_unavailable",
        acked.len(),
        seen.unavailable.load(Ordering::Relaxed)
    );
}

/// Without root (no tmpfs to mount), the same story in process: the SQLite file capped
/// with `max_page_count` on every connection, then the cap raised on each of them.
fn full_database_without_root() {
    use tower::ServiceExt;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tmp");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let opts = Store::sqlite_options(&url)
            .expect("options")
            .pragma("max_page_count", "600");
        let store = Store::sqlite_with(opts, Some(8)).await.expect("store");
        let app = common::app_on(store.clone(), dir, 0, 1).await;
        let post = |i: usize| {
            let router = app.router.clone();
            async move {
                let request_id = common::uuid();
                let body = common::choice(&request_id, &format!("subject-cap-{i:06}"), true, true);
                let req = axum::http::Request::post("/v1/sites/demo/receipts")
                    .header("origin", common::ORIGIN)
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(body.to_string()))
                    .expect("request");
                let res = router.oneshot(req).await.expect("infallible");
                let status = res.status().as_u16();
                let retry = res.headers().contains_key("retry-after");
                let v = common::body_json(res).await;
                (request_id, status, retry, v)
            }
        };
        let mut acked = Vec::new();
        let (mut full, mut i) = (0, 0);
        // Until a whole batch is refused: near the cap a small write may still fit in a
        // page that has room, so refusals and acknowledgements alternate for a while.
        let mut refused_in_batch = 0;
        while refused_in_batch < 8 {
            assert!(i < 20_000, "the capped database never filled");
            let batch: Vec<_> = (0..8).map(|k| post(i + k)).collect();
            i += 8;
            refused_in_batch = 0;
            for (request_id, status, retry, v) in futures_util::future::join_all(batch).await {
                match status {
                    201 => acked.push((
                        request_id,
                        v["receipt"]["receipt_id"].as_str().expect("id").to_owned(),
                    )),
                    503 => {
                        assert!(retry && v["error"]["code"] == "store_unavailable", "{v}");
                        full += 1;
                        refused_in_batch += 1;
                    }
                    other => panic!("only 201 or 503 store_unavailable, got {other}: {v}"),
                }
            }
        }
        assert_eq!(
            app.get("/readyz").await.status(),
            503,
            "/readyz fails while full"
        );
        // Space returns: raise the cap on every connection of the pool.
        let Store::Sqlite(pool) = &store else {
            unreachable!("sqlite")
        };
        let mut conns = Vec::new();
        for _ in 0..8 {
            let mut c = pool.acquire().await.expect("connection");
            sqlx::query("pragma max_page_count = 1000000")
                .execute(&mut *c)
                .await
                .expect("pragma");
            conns.push(c);
        }
        drop(conns);
        let before = acked.len();
        for k in 0..100 {
            let (request_id, status, _, v) = post(i + k).await;
            assert_eq!(
                status, 201,
                "receipts succeed again once there is room: {v}"
            );
            acked.push((
                request_id,
                v["receipt"]["receipt_id"].as_str().expect("id").to_owned(),
            ));
        }
        tokio::time::sleep(std::time::Duration::from_secs(6)).await;
        assert_eq!(
            app.get("/readyz").await.status(),
            200,
            "/readyz passes again"
        );
        for (request_id, receipt_id) in &acked {
            let found = store.receipt("demo", receipt_id).await.expect("db");
            assert_eq!(
                found.map(|(r, _)| r.receipt.request_id).as_ref(),
                Some(request_id),
                "acknowledged and stored"
            );
        }
        assert_eq!(
            common::requests_stored_twice(&store).await,
            0,
            "a request was stored twice"
        );
        eprintln!(
            "capped database: {} acknowledged before the cap ({} all stored), {full} answered 503",
            before,
            acked.len()
        );
    });
}

/// A PostgreSQL server we may stop: `cargo xtask test` sets these for its cluster.
struct PgControl {
    pg_ctl: Vec<String>,
    data: String,
}

impl PgControl {
    fn from_env() -> Option<Self> {
        let bin = std::env::var("YINYOM_TEST_PG_BIN").ok()?;
        let data = std::env::var("YINYOM_TEST_PG_DATA").ok()?;
        let mut pg_ctl = Vec::new();
        if let Ok(user) = std::env::var("YINYOM_TEST_PG_USER") {
            pg_ctl.extend(["runuser".to_owned(), "-u".to_owned(), user, "--".to_owned()]);
        }
        pg_ctl.push(format!("{bin}/pg_ctl"));
        Some(Self { pg_ctl, data })
    }

    fn run(&self, args: &[&str]) {
        let ok = Command::new(&self.pg_ctl[0])
            .args(&self.pg_ctl[1..])
            .args(["-D", &self.data, "-w"])
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("pg_ctl")
            .success();
        assert!(ok, "pg_ctl {args:?} failed");
    }
}

/// PostgreSQL stops (immediate shutdown, as a crash or a failover looks to clients) under
/// load and comes back seconds later.
#[test]
fn postgres_stopped_and_started_again_loses_nothing_and_recovers() {
    if std::env::var("YINYOM_TEST_DATABASE_URL").is_err() {
        eprintln!("skipped: needs PostgreSQL (cargo xtask test runs it)");
        return;
    }
    let Some(pg) = PgControl::from_env() else {
        eprintln!(
            "skipped: set YINYOM_TEST_PG_BIN and YINYOM_TEST_PG_DATA (cargo xtask test does) to let this test stop the server"
        );
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tmp");
    let url = fresh_url(&rt, dir.path());
    let port = free_port();
    let mut server = start(&url, port, dir.path());
    assert!(wait_readyz(port, 200, Duration::from_secs(10)));

    let (seen, stop, workers) = visitors(port, 8, "pgstop", false);
    assert!(wait_until(Duration::from_secs(30), || seen.acked() >= 100));
    pg.run(&["-m", "immediate", "stop"]);
    // Each post waits for a connection at most 3 s, then gets its 503.
    let refused = wait_until(Duration::from_secs(30), || {
        seen.unavailable.load(Ordering::Relaxed) >= 8
    });
    let not_ready = wait_readyz(port, 503, Duration::from_secs(10));
    let before = seen.acked();
    pg.run(&["start"]);
    assert!(
        refused,
        "no 503 store_unavailable while PostgreSQL was down: {:?}",
        unexpected(&seen)
    );
    assert!(not_ready, "/readyz must fail while PostgreSQL is down");
    let recovered = wait_until(Duration::from_secs(60), || seen.acked() >= before + 100);
    assert!(
        recovered,
        "receipts did not succeed again after PostgreSQL came back"
    );
    assert!(wait_readyz(port, 200, Duration::from_secs(15)));
    stop_visitors(&stop, workers);
    assert_eq!(
        unexpected(&seen),
        Vec::<String>::new(),
        "only 201 or 503 store_unavailable"
    );

    let acked = seen.acked.lock().expect("lock").clone();
    assert_all_stored(&rt, &url, &acked);
    server.kill().expect("stop");
    let _ = server.wait();
    eprintln!(
        "PostgreSQL restart: {} acknowledged (all stored), {} answered 503 store_unavailable",
        acked.len(),
        seen.unavailable.load(Ordering::Relaxed)
    );
}
