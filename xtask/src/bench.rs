//! `cargo xtask bench [--quick] [--only PARTS]`: builds what the benchmark needs, installs
//! what it uses when missing (wrk; vanilla-cookieconsent 3.1.0 and c15t's backend from
//! npm, pinned, into target/bench; Patroni and etcd from Debian for the failover), starts a
//! throwaway PostgreSQL, runs `yinyom-bench` (tests/src/bin/yinyom-bench.rs) and writes
//! BENCHMARKS.md.
//!
//! `--quick` runs the parts briefly on debug builds and writes
//! `target/bench/BENCHMARKS.quick.md` instead: the test suite runs it so the bench cannot
//! rot; its numbers mean nothing. It leaves out the c15t and failover parts unless they
//! are named with `--only` (c15t's native SQLite module compiles for minutes).

use crate::{pg::Cluster, tools};
use anyhow::{Context, Result};
use std::{path::Path, process::Command};

const COOKIECONSENT: &str = "vanilla-cookieconsent@3.1.0";

/// c15t's self-hosted backend and what it runs on, pinned (the versions the comparison in
/// BENCHMARKS.md was made with). better-sqlite3 compiles a native module (minutes).
const C15T: [&str; 5] = [
    "@c15t/backend@2.2.1",
    "kysely@0.28.19",
    "better-sqlite3@12.11.1",
    "pg@8.23.1",
    "@hono/node-server@2.1.9",
];

/// Whether `part` runs: every part in a full run; `--quick` leaves out c15t and failover
/// unless named (as `yinyom-bench` decides too).
fn runs(part: &str, quick: bool, only: &[String]) -> bool {
    if only.is_empty() {
        !(quick && matches!(part, "c15t" | "failover"))
    } else {
        only.iter().any(|p| p == part)
    }
}

/// Installs the pinned c15t packages into `dir` unless they are there already.
fn ensure_c15t(dir: &Path) -> Result<()> {
    let installed = |pkg: &str| -> Option<String> {
        let (name, version) = pkg.rsplit_once('@')?;
        let text =
            std::fs::read_to_string(dir.join("node_modules").join(name).join("package.json"))
                .ok()?;
        let json: serde_json::Value = serde_json::from_str(&text).ok()?;
        (json["version"] == version).then(|| name.to_owned())
    };
    let native = dir.join("node_modules/better-sqlite3/build/Release/better_sqlite3.node");
    if C15T.iter().all(|p| installed(p).is_some()) && native.is_file() {
        return Ok(());
    }
    eprintln!("xtask: installing c15t's backend from npm (better-sqlite3 compiles; minutes)");
    std::fs::create_dir_all(dir)?;
    // A package of its own: without one npm installs into the nearest folder above that
    // has a node_modules (target/bench), and prunes what it finds there that its new
    // package.json does not list (vanilla-cookieconsent).
    let manifest = dir.join("package.json");
    if !manifest.is_file() {
        std::fs::write(
            &manifest,
            "{\"name\": \"yinyom-bench-c15t\", \"private\": true}\n",
        )?;
    }
    tools::run(
        Command::new("npm")
            .current_dir(dir)
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--save-exact",
                "--prefix",
            ])
            .arg(dir)
            .args(C15T),
    )
    .context("npm install of c15t's backend")
}

pub(crate) fn run(quick: bool, receipts: u64, only: &[String]) -> Result<()> {
    let root = crate::root();
    if runs("failover", quick, only) && !(tools::on_path("patroni") && tools::on_path("etcd")) {
        tools::apt_install(
            &["patroni", "etcd-server"],
            "Patroni and etcd (for the failover bench)",
        )?;
    }
    tools::ensure_chromium()?;
    if !tools::has("wrk") {
        tools::apt_install(&["wrk"], "wrk (the load generator)")?;
    }
    if !tools::has("npm") {
        tools::apt_install(&["npm"], "npm (for vanilla-cookieconsent)")?;
    }
    crate::dist::run()?;
    let profile = if quick { "debug" } else { "release" };
    let mut build = Command::new("cargo");
    build.current_dir(&root).args([
        "build",
        "--package",
        "yinyom-server",
        "--bin",
        "yinyom",
        "--package",
        "yinyom-e2e",
        "--bin",
        "yinyom-bench",
    ]);
    if !quick {
        build.arg("--release");
    }
    tools::run(&mut build)?;

    let bench_dir = root.join("target/bench");
    let cc = bench_dir.join("node_modules/vanilla-cookieconsent/dist");
    if !cc.join("cookieconsent.umd.js").is_file() {
        tools::npm_install(&bench_dir, COOKIECONSENT)?;
    }
    let c15t = bench_dir.join("c15t");
    if runs("c15t", quick, only) {
        ensure_c15t(&c15t)?;
    }
    let pg = if quick {
        Cluster::start()?
    } else {
        Cluster::start_durable()?
    };
    let out = if quick {
        bench_dir.join("BENCHMARKS.quick.md")
    } else if !only.is_empty() {
        bench_dir.join("BENCHMARKS.partial.md")
    } else {
        root.join("BENCHMARKS.md")
    };
    let mut command = if quick {
        "cargo xtask bench --quick".to_owned()
    } else {
        format!("cargo xtask bench --receipts {receipts}")
    };
    if !only.is_empty() {
        command += &format!(" --only {}", only.join(","));
    }
    let mut cmd = Command::new(root.join(format!("target/{profile}/yinyom-bench")));
    cmd.current_dir(&root)
        .arg("--yinyom")
        .arg(root.join(format!("target/{profile}/yinyom")))
        .arg("--dist")
        .arg(root.join("dist"))
        .arg("--cookieconsent")
        .arg(&cc)
        .arg("--postgres")
        .arg(pg.url())
        .arg("--out")
        .arg(&out)
        .arg("--receipts")
        .arg(receipts.to_string())
        .arg("--command")
        .arg(&command)
        .arg("--c15t")
        .arg(&c15t)
        .arg("--pg-bin")
        .arg(crate::pg::bindir()?)
        .env("CHROMEDRIVER", "/usr/bin/chromedriver");
    if quick {
        cmd.arg("--quick");
    }
    if !only.is_empty() {
        cmd.arg("--only").arg(only.join(","));
    }
    tools::run(&mut cmd)?;
    println!("wrote {}", out.display());
    Ok(())
}
