//! `cargo xtask bench [--quick]`: builds what the benchmark needs, installs wrk and
//! vanilla-cookieconsent 3.1.0 (npm) when missing, starts a throwaway PostgreSQL, runs
//! `yinyom-bench` (tests/src/bin/yinyom-bench.rs) and writes BENCHMARKS.md.
//!
//! `--quick` runs every part briefly on debug builds and writes
//! `target/bench/BENCHMARKS.quick.md` instead: the test suite runs it so the bench cannot
//! rot; its numbers mean nothing.

use crate::{pg::Cluster, tools};
use anyhow::Result;
use std::process::Command;

const COOKIECONSENT: &str = "vanilla-cookieconsent@3.1.0";

pub(crate) fn run(quick: bool, receipts: u64, only: &[String]) -> Result<()> {
    let root = crate::root();
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
