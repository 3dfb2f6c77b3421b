//! `cargo xtask test`: every check and test, one line per stage, then `N passed, N failed`.
//!
//! Stages: rustfmt; clippy (host and wasm32); the JavaScript's type check (`tsc
//! --checkJs`); unit and integration tests on SQLite; the widget's state (natively); the
//! server's tests again on a throwaway PostgreSQL cluster; the widget's tests in headless
//! Chromium; the widget build (`dist`); end-to-end tests (real server, real widget, real
//! Chromium); and `bench --quick`, a short run of the benchmark so it cannot rot. A
//! stage's full output goes to `target/xtask/<stage>.log`; a failing stage prints its tail.

use crate::{pg::Cluster, tools};
use anyhow::{Result, bail};
use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    broken_stages: Vec<String>,
}

pub(crate) fn run() -> Result<()> {
    let root = crate::root();
    let logs = root.join("target/xtask");
    fs::create_dir_all(&logs)?;
    let started = Instant::now();

    // Tools first, so a missing one fails fast with the command to install it.
    let chromedriver = tools::ensure_chromium()?;
    tools::ensure_wasm_target()?;
    tools::ensure_wasm_bindgen()?;
    tools::ensure_wasm_opt()?;
    let webdriver_json = root.join("widget/webdriver.json");
    // The accessibility tests (tests/tests/widget_a11y.rs) install axe-core from npm into
    // target/axe on first use: npm must be there.
    if !tools::has("npm") {
        tools::apt_install(&["npm"], "axe-core for the accessibility tests")?;
    }

    // The HSM test (server/tests/hsm.rs) signs receipts with a key in SoftHSM2 and checks
    // them with outside JOSE libraries: it runs in every test run, never skipped…
    if !tools::on_path("softhsm2-util") {
        tools::apt_install(&["softhsm2"], "SoftHSM2, for the PKCS#11 signing test")?;
    }
    // …and Python's PyJWT verifies what it signed.
    if tools::output(Command::new("/usr/bin/python3").args(["-c", "import jwt"])).is_none() {
        tools::apt_install(&["python3-jwt"], "PyJWT, for the PKCS#11 signing test")?;
    }

    let mut t = Tally::default();
    let cargo = |args: &[&str]| {
        let mut c = Command::new("cargo");
        c.current_dir(&root).args(args);
        c
    };

    stage(
        &mut t,
        &logs,
        "fmt",
        &mut cargo(&["fmt", "--all", "--", "--check"]),
    );
    stage(
        &mut t,
        &logs,
        "clippy",
        &mut cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    );
    stage(
        &mut t,
        &logs,
        "clippy-wasm32",
        &mut cargo(&[
            "clippy",
            "--package",
            "yinyom-widget",
            "--package",
            "yinyom-model",
            "--target",
            "wasm32-unknown-unknown",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    );
    // The loader and banner are plain JavaScript: type-checked against widget/js/yinyom.d.ts
    // (JSDoc types; the configuration's keys are the model's, model/src/loader.rs).
    match tools::ensure_tsc() {
        Ok(tsc) => {
            stage(
                &mut t,
                &logs,
                "js-check",
                Command::new("node").arg(tsc).args([
                    "--project",
                    &root.join("widget/js/tsconfig.json").to_string_lossy(),
                ]),
            );
        }
        Err(e) => fail_stage(&mut t, "js-check", &format!("{e:#}")),
    }
    stage(
        &mut t,
        &logs,
        "tests-sqlite",
        cargo(&[
            "test",
            "--no-fail-fast",
            "--workspace",
            "--exclude",
            "yinyom-e2e",
            "--exclude",
            "yinyom-widget",
        ])
        .env_remove("YINYOM_TEST_DATABASE_URL"),
    );
    // The widget's state changes (widget/src/state.rs) are pure: tested natively.
    stage(
        &mut t,
        &logs,
        "widget-state",
        &mut cargo(&["test", "--package", "yinyom-widget", "--lib"]),
    );
    match Cluster::start() {
        Ok(pg) => {
            stage(
                &mut t,
                &logs,
                "tests-postgres",
                cargo(&["test", "--no-fail-fast", "--package", "yinyom-server"])
                    .env("YINYOM_TEST_DATABASE_URL", pg.url())
                    .envs(pg.control_env()),
            );
            let _ = pg.dir();
        }
        Err(e) => fail_stage(&mut t, "tests-postgres", &format!("{e:#}")),
    }
    stage(
        &mut t,
        &logs,
        "widget-chromium",
        cargo(&[
            "test",
            "--package",
            "yinyom-widget",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .env("CHROMEDRIVER", &chromedriver)
        .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &webdriver_json)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
    );
    let xtask = std::env::current_exe()?;
    let dist_ok = stage(&mut t, &logs, "dist", Command::new(xtask).arg("dist"));
    if dist_ok {
        stage(
            &mut t,
            &logs,
            "e2e-chromium",
            cargo(&[
                "test",
                "--no-fail-fast",
                "--package",
                "yinyom-e2e",
                "--",
                "--test-threads=1",
            ])
            .env("YINYOM_DIST", root.join("dist"))
            .env("CHROMEDRIVER", &chromedriver),
        );
        // The benchmark, briefly, so it cannot rot (its numbers are not kept).
        stage(
            &mut t,
            &logs,
            "bench-quick",
            Command::new(std::env::current_exe()?).args(["bench", "--quick"]),
        );
    } else {
        fail_stage(&mut t, "e2e-chromium", "skipped: the widget did not build");
    }

    println!(
        "{} passed, {} failed   ({:.0}s)",
        t.passed,
        t.failed,
        started.elapsed().as_secs_f64()
    );
    if t.failed > 0 || !t.broken_stages.is_empty() {
        bail!("failing: {}", t.broken_stages.join(", "));
    }
    Ok(())
}

fn fail_stage(t: &mut Tally, name: &str, why: &str) {
    println!("FAIL {name:<16} {why}");
    t.failed += 1;
    t.broken_stages.push(name.to_owned());
}

/// Runs one stage with its output in `logs/<name>.log`; prints one line; returns success.
fn stage(t: &mut Tally, logs: &Path, name: &str, cmd: &mut Command) -> bool {
    let log: PathBuf = logs.join(format!("{name}.log"));
    let started = Instant::now();
    let result = fs::File::create(&log).and_then(|f| {
        let err = f.try_clone()?;
        cmd.stdout(Stdio::from(f)).stderr(Stdio::from(err)).status()
    });
    let secs = started.elapsed().as_secs_f64();
    let text = fs::read_to_string(&log).unwrap_or_default();
    let (passed, failed) = count(&text);
    let ok = matches!(result, Ok(s) if s.success());
    let tests = if passed + failed > 0 {
        format!("{passed} passed, {failed} failed")
    } else {
        "check".to_owned()
    };
    println!(
        "{} {name:<16} {tests:<24} {secs:>6.1}s",
        if ok { "ok  " } else { "FAIL" }
    );
    if passed + failed > 0 {
        t.passed += passed;
        t.failed += failed;
    } else if ok {
        t.passed += 1;
    }
    if !ok {
        if passed + failed == 0 || failed == 0 {
            t.failed += 1;
        }
        t.broken_stages.push(name.to_owned());
        // Error lines first, so a cause (a linker's "No space left on device", a panic)
        // survives whatever truncates this output; every line clipped, because a failed link
        // prints its whole command line as one.
        let lines: Vec<&str> = text.lines().collect();
        let errors: Vec<&&str> = lines
            .iter()
            .filter(|l| {
                let l = l.trim_start();
                l.starts_with("error") || l.contains("panicked at") || l.contains("No space left")
            })
            .take(20)
            .collect();
        if !errors.is_empty() {
            println!("---- errors in {} ----", log.display());
            for l in errors {
                println!("     {}", clip(l));
            }
        }
        let from = lines.len().saturating_sub(40);
        println!("---- last lines of {} ----", log.display());
        for l in &lines[from..] {
            println!("     {}", clip(l));
        }
        if let Err(e) = result {
            println!("     cannot run: {e}");
        }
        println!("----");
    }
    ok
}

/// A log line cut to 240 characters (on a character boundary).
fn clip(line: &str) -> String {
    match line.char_indices().nth(240) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_owned(),
    }
}

/// Sums libtest's `test result: … N passed; M failed` lines.
fn count(text: &str) -> (usize, usize) {
    let mut passed = 0;
    let mut failed = 0;
    for line in text.lines().filter(|l| l.contains("test result:")) {
        let num_before = |word: &str| {
            line.split(';')
                .find(|p| p.trim_end().ends_with(word))
                .and_then(|p| p.split_whitespace().rev().nth(1))
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(0)
        };
        passed += num_before("passed");
        failed += num_before("failed");
    }
    (passed, failed)
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_libtest_summaries() {
        let out = "test result: ok. 12 passed; 0 failed; 0 ignored\n\
                   test result: FAILED. 3 passed; 2 failed; 1 ignored; 0 measured\n";
        assert_eq!(count(out), (15, 2));
    }
}
