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

    // The demo's receipt and log keys: PEM files (mode 0600) made once by `yinyom keys
    // generate`. A demo database signed by other keys is started afresh.
    let keys = root.join("yinyom-demo-keys");
    let (receipt_key, log_key) = (keys.join("receipts.pem"), keys.join("log.pem"));
    if !receipt_key.is_file() || !log_key.is_file() {
        std::fs::create_dir_all(&keys)?;
        for file in [&receipt_key, &log_key] {
            let _ = std::fs::remove_file(file);
            exec(
                Command::new(&bin)
                    .args(["keys", "generate", "--out"])
                    .arg(file),
            )?;
        }
        for f in ["yinyom-demo.db", "yinyom-demo.db-wal", "yinyom-demo.db-shm"] {
            if std::fs::remove_file(root.join(f)).is_ok() {
                eprintln!("xtask: new demo keys: the demo database starts afresh");
            }
        }
    }
    // The subject key (visitors' secrets become pseudonyms under it), made once.
    let subject_key = keys.join("subject.key");
    if !subject_key.is_file() {
        exec(
            Command::new(&bin)
                .args(["keys", "generate-subject", "--out"])
                .arg(&subject_key),
        )?;
    }

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

    // A console account for the demo (kept if it exists already).
    const DEMO_ADMIN: &str = "admin@yinyom.demo";
    const DEMO_PASSWORD: &str = "yinyom-demo-2568";
    let mut add = Command::new(&bin)
        .current_dir(&root)
        .args([
            "--database-url",
            db,
            "users",
            "add",
            "--email",
            DEMO_ADMIN,
            "--role",
            "admin",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("cannot run yinyom users add")?;
    if let Some(mut stdin) = add.stdin.take() {
        use std::io::Write;
        writeln!(stdin, "{DEMO_PASSWORD}")?;
    }
    let out = add.wait_with_output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && !err.contains("already exists") {
        anyhow::bail!("cannot create the demo account: {err}");
    }

    let api = format!("http://127.0.0.1:{port}");
    let pages = format!("http://127.0.0.1:{pages_port}");

    // The webhook loop: each site's events go to the demo's receiver (the pages server's
    // `/_webhooks/{site}`, which checks their signatures and lists them at `/_webhooks`).
    // Fresh endpoints and secrets on every start; the previous demo endpoints are removed.
    let yinyom = |args: &[&str]| {
        let mut c = Command::new(&bin);
        c.current_dir(&root).args(["--database-url", db]).args(args);
        c
    };
    let listed = crate::tools::output(&mut yinyom(&["webhooks", "list"])).unwrap_or_default();
    for line in listed.lines().filter(|l| !l.contains(" removed ")) {
        if let [id, site, url, ..] = line.split_whitespace().collect::<Vec<_>>()[..]
            && url.contains("/_webhooks/")
        {
            exec(&mut yinyom(&[
                "webhooks", "remove", "--site", site, "--id", id,
            ]))?;
        }
    }
    let mut secrets = String::from("# cargo xtask demo: the demo receiver's webhook secrets\n");
    for site in &sites {
        let Some(name) = site.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let url = format!("{pages}/_webhooks/{name}");
        let key = subject_key.to_string_lossy();
        let secret = crate::tools::output(&mut yinyom(&[
            "webhooks",
            "add",
            "--site",
            name,
            "--url",
            &url,
            "--subject-key",
            &key,
        ]))
        .with_context(|| format!("cannot add the demo webhook of {name}"))?;
        secrets.push_str(&format!("{name} {}\n", secret.trim()));
    }
    let secrets_file = keys.join("webhook-secrets");
    std::fs::write(&secrets_file, secrets)?;
    println!();
    println!("Yinyom demo — กด Ctrl-C เพื่อหยุด / press Ctrl-C to stop");
    println!("  example sites (host pages): {pages}/");
    for site in &sites {
        if let Some(name) = site.file_name().and_then(|n| n.to_str()) {
            println!("    {pages}/{name}/   notice: {api}/sites/{name}/notice");
        }
    }
    println!("  webhooks received:          {pages}/_webhooks");
    println!("  DPO console:                {api}/admin   ({DEMO_ADMIN} / {DEMO_PASSWORD})");
    println!("  signing keys (JWKS):        {api}/.well-known/jwks.json");
    println!("  private key files:          {}", keys.display());
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
        .arg("--signing-key")
        .arg(&receipt_key)
        .arg("--log-key")
        .arg(&log_key)
        .arg("--subject-key")
        .arg(&subject_key)
        .arg("--pages")
        .arg(root.join("examples"))
        .arg("--pages-listen")
        .arg(format!("127.0.0.1:{pages_port}"))
        .arg("--pages-webhook-secrets")
        .arg(&secrets_file)
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
