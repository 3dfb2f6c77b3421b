//! Finding and installing the tools the build needs.

use anyhow::{Context, Result, bail};
use std::{
    path::Path,
    process::{Command, Stdio},
};

/// `npm install package` into `prefix` (its `node_modules`), quietly, saving nothing.
pub(crate) fn npm_install(prefix: &Path, package: &str) -> Result<()> {
    std::fs::create_dir_all(prefix)?;
    run(Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--no-save",
            "--loglevel=error",
            "--prefix",
        ])
        .arg(prefix)
        .arg(package))
    .with_context(|| format!("npm install {package} (Debian: apt-get install npm)"))
}

/// TypeScript's version, for `tsc --checkJs` on the loader and banner: pinned, so a check
/// is reproducible.
const TYPESCRIPT: &str = "typescript@5.9.3";

/// `tsc` (TypeScript's command line script, plain JavaScript run by node), installed from
/// npm into `target/typescript` on first use.
pub(crate) fn ensure_tsc() -> Result<std::path::PathBuf> {
    let prefix = crate::root().join("target/typescript");
    let bin = prefix.join("node_modules/typescript/bin/tsc");
    if !bin.is_file() {
        npm_install(&prefix, TYPESCRIPT)?;
    }
    Ok(bin)
}

/// Runs `cmd`, failing with its command line if it fails.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

/// The stdout of `cmd`, or `None` if it cannot run or fails.
pub(crate) fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

pub(crate) fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0")
}

fn is_debian() -> bool {
    Path::new("/etc/debian_version").exists()
}

/// Installs Debian `packages` with apt-get when root on Debian; otherwise fails with the
/// exact command to run.
pub(crate) fn apt_install(packages: &[&str], why: &str) -> Result<()> {
    let line = format!("sudo apt-get install -y {}", packages.join(" "));
    if !(is_root() && is_debian()) {
        bail!("{why} is missing. Install it with:\n    {line}");
    }
    eprintln!(
        "xtask: installing {} with apt-get ({why})",
        packages.join(" ")
    );
    let quiet = |c: &mut Command| {
        c.env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null());
    };
    let mut update = Command::new("apt-get");
    update.arg("update");
    quiet(&mut update);
    run(&mut update)?;
    let mut install = Command::new("apt-get");
    install.args(["install", "-y"]).args(packages);
    quiet(&mut install);
    run(&mut install).with_context(|| format!("install failed; try:\n    {line}"))
}

pub(crate) fn has(program: &str) -> bool {
    output(Command::new(program).arg("--version")).is_some() || on_path(program)
}

/// Whether `program` is an executable file on PATH (for tools without `--version`).
pub(crate) fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Makes sure `rustup` has the wasm32-unknown-unknown target.
pub(crate) fn ensure_wasm_target() -> Result<()> {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    eprintln!("xtask: adding the wasm32-unknown-unknown target");
    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The wasm-bindgen version pinned in Cargo.lock.
pub(crate) fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string(crate::root().join("Cargo.lock"))
        .context("cannot read Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    bail!("Cargo.lock has no wasm-bindgen package")
}

/// Makes sure `wasm-bindgen` (and `wasm-bindgen-test-runner`) match Cargo.lock.
pub(crate) fn ensure_wasm_bindgen() -> Result<()> {
    let want = locked_wasm_bindgen()?;
    let have = output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(want.as_str()) {
        return Ok(());
    }
    eprintln!(
        "xtask: installing wasm-bindgen-cli {want} (matches Cargo.lock; takes a few minutes once)"
    );
    run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &want]))
}

/// The extra features rustc's wasm output uses, which Debian's binaryen 108 needs named.
pub(crate) const WASM_OPT_FEATURES: [&str; 5] = [
    "--enable-bulk-memory",
    "--enable-reference-types",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
];

/// Makes sure `wasm-opt` is installed.
pub(crate) fn ensure_wasm_opt() -> Result<()> {
    if has("wasm-opt") {
        return Ok(());
    }
    apt_install(&["binaryen"], "wasm-opt (binaryen)")
}

/// Makes sure Chromium and ChromeDriver are installed; returns chromedriver's path.
pub(crate) fn ensure_chromium() -> Result<String> {
    if !(Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists()) {
        apt_install(&["chromium", "chromium-driver"], "Chromium or ChromeDriver")?;
    }
    Ok("/usr/bin/chromedriver".to_owned())
}
