//! The `yinyom` binary as `cargo build --workspace` makes it logs like any other build.
//!
//! A workspace build resolves features for every member at once: when the widget asked
//! `tracing` for `max_level_off`, the server built beside it logged nothing at all and
//! every CLI call warned that its filter was "disabled statically". This test builds the
//! binary exactly that way (in its own target folder, `target/workspace-build`, so the
//! binaries the other tests run are left alone; the first run compiles the server once),
//! starts it and reads its startup line. It leaves out the default `scan` feature
//! (`--no-default-features`), so that folder does not compile headless Chromium's
//! DevTools client a second time; logging does not depend on it.

mod common;

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::mpsc,
    time::Duration,
};
use yinyom_server::store::Store;

/// Builds `yinyom` with `cargo build --workspace` and returns the executable.
fn workspace_binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(&root)
        .args([
            "build",
            "--workspace",
            "--no-default-features",
            "--bin",
            "yinyom",
            "--message-format=json-render-diagnostics",
        ])
        .env(
            "CARGO_TARGET_DIR",
            root.join("target").join("workspace-build"),
        )
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo");
    assert!(out.status.success(), "cargo build --workspace failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "yinyom")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the yinyom executable")
}

#[test]
fn the_workspace_built_server_logs_its_startup() {
    let exe = workspace_binary();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tmp");
    let store = rt.block_on(common::store(dir.path()));
    let url = match &store {
        Store::Sqlite(_) => format!("sqlite://{}", dir.path().join("test.db").display()),
        Store::Postgres(pool) => {
            let name: String = rt
                .block_on(sqlx::query_scalar("select current_database()").fetch_one(pool))
                .expect("db name");
            let admin = std::env::var("YINYOM_TEST_DATABASE_URL").expect("url");
            format!(
                "{}/{name}",
                admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b)
            )
        }
    };

    // A CLI call: no warning about a filter the build cannot honour.
    let import = Command::new(&exe)
        .args(["--database-url", &url, "sites", "import"])
        .arg(common::fixture())
        .output()
        .expect("yinyom sites import");
    let stderr = String::from_utf8_lossy(&import.stderr);
    assert!(import.status.success(), "{stderr}");
    assert!(!stderr.contains("disabled statically"), "{stderr}");

    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut child = Command::new(&exe)
        .args(["--database-url", &url, "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--dist")
        .arg(dir.path().join("no-dist"))
        .envs(common::binary::key_env(dir.path()))
        .env_remove("YINYOM_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start yinyom serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let started = loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.contains("yinyom is listening") => break Some(line),
            Ok(line) => seen.push(line),
            Err(_) => break None,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let started = started.unwrap_or_else(|| {
        panic!(
            "no startup line from the workspace-built server; it logged:\n{}",
            seen.join("\n")
        )
    });
    assert!(started.contains("INFO"), "{started}");
    assert!(started.contains(&format!("127.0.0.1:{port}")), "{started}");
}
