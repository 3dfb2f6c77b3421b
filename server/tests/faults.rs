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

/// The database's disk fills up under load (a 3 MB tmpfs), then space is freed.
#[test]
fn a_full_disk_acknowledges_nothing_it_did_not_store_and_recovers() {
    if std::env::var("YINYOM_TEST_DATABASE_URL").is_ok() {
        eprintln!("skipped: the full-disk test is for SQLite (PostgreSQL: see the restart test)");
        return;
    }
    if !is_root() {
        eprintln!("skipped: mounting a small tmpfs needs root (CI runs as root)");
        return;
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
