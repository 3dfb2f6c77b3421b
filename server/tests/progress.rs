//! Long commands (`receipts export`, `log verify`, `sites import`) show a progress bar
//! with the rate and the time left on a terminal, and stay quiet when standard error is
//! piped or `--quiet` is given. The terminal is a real pseudo-terminal (util-linux
//! `script`), the binary the real `yinyom`.

mod common;

use axum::http::StatusCode;
use common::*;
use std::process::Command;
use yinyom_server::log;

/// The demo site with `n` receipts, all in the log; the app and its database URL.
async fn site_with_receipts(n: usize) -> (TestApp, String) {
    let app = app().await;
    for i in 0..n {
        let subject = format!("subject-progress-{i:06}");
        let res = app
            .post_json(
                "/v1/sites/demo/receipts",
                &choice(&uuid(), &subject, i % 2 == 0, true),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let signer = log::LogSigner::of(&app.state).await.expect("log key");
    log::sequence(&app.state.store, &signer, "demo")
        .await
        .expect("sequence");
    let url = database_url(&app).await;
    (app, url)
}

fn quoted(args: &[&str]) -> String {
    args.iter()
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `yinyom ARGS` with its standard error (and input) on a pseudo-terminal and its
/// standard output in a file; returns (success, what the terminal showed, the output).
fn on_terminal(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let stdout = dir.join("stdout.txt");
    let command = format!(
        "{} {} > {}",
        quoted(&[env!("CARGO_BIN_EXE_yinyom")]),
        quoted(args),
        quoted(&[&stdout.display().to_string()])
    );
    let out = Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .env("TERM", "xterm")
        .output()
        .expect("util-linux script (a pseudo-terminal)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        std::fs::read_to_string(&stdout).unwrap_or_default(),
    )
}

/// Runs `yinyom ARGS` with both outputs piped; returns (success, stdout, stderr).
fn piped(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_yinyom"))
        .args(args)
        .output()
        .expect("run yinyom");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What a drawn bar leaves on the terminal: its label, its bar and the count.
fn has_bar(shown: &str, label: &str, total: usize) -> bool {
    shown.contains(label) && shown.contains('[') && shown.contains(&format!("{total}/{total}"))
}

/// What any of the bars draws: its label and its bar. (Not carriage returns or colours:
/// the log lines a store prints on a terminal have them too.)
fn no_bar(stderr: &str) {
    for sign in [
        "ส่งออกใบรับ",
        "ตรวจบันทึก",
        "นำเข้าเว็บไซต์",
        "ตรวจระยะเวลาเก็บรักษา",
        "exporting receipts",
        "[=",
        "=>",
    ] {
        assert!(!stderr.contains(sign), "{sign:?} in {stderr:?}");
    }
}

#[tokio::test]
async fn long_commands_show_progress_on_a_terminal_only() {
    let (app, url) = site_with_receipts(7).await;
    let dir = app.dir.path();
    let fixture = fixture().display().to_string();
    let export = [
        "--database-url",
        &url,
        "receipts",
        "export",
        "--site",
        "demo",
        "--format",
        "csv",
    ];
    let verify = ["--database-url", &url, "log", "verify", "--site", "demo"];
    let import = ["--database-url", &url, "sites", "import", &fixture];
    let retention = [
        "--database-url",
        &url,
        "retention",
        "apply",
        "--dry-run",
        "--site",
        "demo",
        "--as-of",
        "2100-01-01",
    ];

    // On a terminal: a bar with the count (the rate and time left beside it).
    let (ok, shown, csv) = on_terminal(dir, &export);
    assert!(ok, "{shown}");
    assert!(
        has_bar(&shown, "ส่งออกใบรับ / exporting receipts", 7),
        "{shown:?}"
    );
    assert_eq!(csv.lines().count(), 8, "the export itself is whole: {csv}");
    let (ok, shown, _) = on_terminal(dir, &verify);
    assert!(ok, "{shown}");
    // Two passes over the site: its 7 leaves, then its 7 receipt rows.
    assert!(
        has_bar(&shown, "ตรวจบันทึก / checking the log", 14),
        "{shown:?}"
    );
    let (ok, shown, out) = on_terminal(dir, &import);
    assert!(ok, "{shown}");
    assert!(
        has_bar(&shown, "นำเข้าเว็บไซต์ / importing sites", 1),
        "{shown:?}"
    );
    assert!(!out.is_empty(), "what was imported is still printed");
    let (ok, shown, out) = on_terminal(dir, &retention);
    assert!(ok, "{shown}");
    assert!(
        has_bar(&shown, "ตรวจระยะเวลาเก็บรักษา / checking retention", 7),
        "{shown:?}"
    );
    // By then every receipt's consent has long ended: each one is read, and listed.
    assert!(out.contains("7 receipts would be erased"), "{out}");

    // `--quiet` on a terminal: no bar, no summary.
    for args in [&export[..], &verify, &import, &retention] {
        let quiet: Vec<&str> = args.iter().copied().chain(["--quiet"]).collect();
        let (ok, shown, _) = on_terminal(dir, &quiet);
        assert!(ok, "{shown}");
        no_bar(&shown);
        assert!(!shown.contains("exported"), "{shown:?}");
    }

    // Piped: no bar, and the output is the same as on a terminal.
    let (ok, out, err) = piped(&export);
    assert!(ok, "{err}");
    no_bar(&err);
    assert_eq!(out, csv);
    assert!(err.contains("exported 7 receipts"), "{err}");
    for args in [&verify[..], &import, &retention] {
        let (ok, out, err) = piped(args);
        assert!(ok, "{err}");
        no_bar(&err);
        no_bar(&out);
    }
}
