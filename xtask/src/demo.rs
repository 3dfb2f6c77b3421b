//! `cargo xtask demo`: the product, running, with every example site.

use crate::tools::run as exec;
use anyhow::{Context, Result};
use std::process::Command;

pub(crate) fn run(port: u16, pages_port: u16) -> Result<()> {
    let root = crate::root();
    crate::dist::run()?;
    eprintln!("xtask: building the server");
    exec(Command::new("cargo").current_dir(&root).args([
        "build",
        "--package",
        "yinyom-server",
        "--bin",
        "yinyom",
    ]))?;
    let bin = root.join("target/debug/yinyom");
    let db = "sqlite://yinyom-demo.db";

    // Every example, and its later notice versions (v2/, v3/…) in order.
    let mut folders = Vec::new();
    let mut sites: Vec<_> = std::fs::read_dir(root.join("examples"))
        .context("cannot read examples/")?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("site.toml").is_file())
        .collect();
    sites.sort();
    for site in &sites {
        folders.push(site.clone());
        let mut versions: Vec<_> = std::fs::read_dir(site)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join("site.toml").is_file())
            .collect();
        versions.sort();
        folders.extend(versions);
    }
    exec(
        Command::new(&bin)
            .current_dir(&root)
            .args(["--database-url", db, "sites", "import"])
            .args(&folders),
    )?;

    let api = format!("http://127.0.0.1:{port}");
    let pages = format!("http://127.0.0.1:{pages_port}");
    println!();
    println!("Yinyom demo — กด Ctrl-C เพื่อหยุด / press Ctrl-C to stop");
    println!("  example sites (host pages): {pages}/");
    for site in &sites {
        if let Some(name) = site.file_name().and_then(|n| n.to_str()) {
            println!("    {pages}/{name}/   notice JSON: {api}/v1/sites/{name}/notice");
        }
    }
    println!("  signing keys (JWKS):        {api}/.well-known/jwks.json");
    println!(
        "  database:                   {}",
        root.join("yinyom-demo.db").display()
    );
    println!();
    let mut child = Command::new(&bin)
        .current_dir(&root)
        .args(["--database-url", db, "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--dist")
        .arg(root.join("dist"))
        .arg("--pages")
        .arg(root.join("examples"))
        .arg("--pages-listen")
        .arg(format!("127.0.0.1:{pages_port}"))
        .spawn()
        .context("cannot start yinyom serve")?;
    // Ctrl-C reaches the server too (same process group); it finishes requests in
    // flight and exits.
    let status = child.wait()?;
    if !status.success() {
        anyhow::bail!("yinyom serve stopped: {status}");
    }
    Ok(())
}
