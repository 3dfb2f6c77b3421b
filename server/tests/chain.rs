//! Each visitor's receipts on a site form a chain (`previous`), written under the
//! visitor's lock so concurrent writers cannot fork it.

mod common;

use axum::http::StatusCode;
use common::*;
use yinyom_server::log;

/// Posts a receipt for `subject` and returns its JSON (the `receipt` object).
async fn post(app: &TestApp, subject: &str, withdraw: bool) -> serde_json::Value {
    let mut body = choice(&uuid(), subject, !withdraw, false);
    if withdraw {
        body["method"] = serde_json::json!("withdraw");
    }
    let res = app.post_json("/v1/sites/demo/receipts", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    body_json(res).await["receipt"].clone()
}

/// The canonical JSON the receipt was signed over, read back from the store.
async fn stored_json(app: &TestApp, id: &str) -> String {
    let (stored, _) = app
        .state
        .store
        .receipt("demo", id)
        .await
        .expect("read")
        .expect("stored");
    stored.json
}

/// A visitor's first receipt has no `previous`; each later one names the one before it
/// (base64url SHA-256 of its canonical JSON); another visitor's chain is separate.
#[tokio::test]
async fn a_visitors_receipts_chain_to_each_other() {
    let app = app().await;
    let first = post(&app, "subject-chain-aaaa", false).await;
    let other = post(&app, "subject-chain-bbbb", false).await;
    let second = post(&app, "subject-chain-aaaa", false).await;
    let withdrawal = post(&app, "subject-chain-aaaa", true).await;

    assert!(first.get("previous").is_none(), "{first}");
    assert!(other.get("previous").is_none(), "{other}");
    let id = |r: &serde_json::Value| r["receipt_id"].as_str().expect("id").to_owned();
    let first_json = stored_json(&app, &id(&first)).await;
    let second_json = stored_json(&app, &id(&second)).await;
    assert_eq!(
        second["previous"].as_str(),
        Some(log::chain_hash(&first_json).as_str())
    );
    assert_eq!(
        withdrawal["previous"].as_str(),
        Some(log::chain_hash(&second_json).as_str())
    );
    // The hash is plain SHA-256 of the canonical JSON, base64url without padding.
    use base64::Engine as _;
    use sha2::Digest as _;
    assert_eq!(
        log::chain_hash(&first_json),
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(first_json.as_bytes()))
    );
    // The signed payload carries it too.
    assert!(second_json.contains(&format!(
        "\"previous\":\"{}\"",
        log::chain_hash(&first_json)
    )));
}

/// Many receipts of one visitor at once (grouped by the writers, four of them on
/// PostgreSQL): one chain, no fork, every link names a receipt of that visitor.
#[tokio::test]
async fn concurrent_receipts_of_one_visitor_form_one_chain() {
    let app = std::sync::Arc::new(app().await);
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            post(&app, "subject-chain-busy", false).await
        }));
    }
    let mut receipts = Vec::new();
    for t in tasks {
        receipts.push(t.await.expect("task"));
    }
    let mut hashes = std::collections::HashMap::new();
    for r in &receipts {
        let id = r["receipt_id"].as_str().expect("id");
        hashes.insert(log::chain_hash(&stored_json(&app, id).await), id.to_owned());
    }
    let roots = receipts
        .iter()
        .filter(|r| r.get("previous").is_none())
        .count();
    assert_eq!(roots, 1, "exactly one first receipt");
    let mut named = std::collections::HashSet::new();
    for r in &receipts {
        if let Some(p) = r["previous"].as_str() {
            assert!(
                hashes.contains_key(p),
                "previous names a receipt of the visitor"
            );
            assert!(
                named.insert(p.to_owned()),
                "two receipts name the same previous: a fork"
            );
        }
    }
    assert_eq!(named.len(), receipts.len() - 1);
}

async fn exec(store: &yinyom_server::store::Store, sql: &str) {
    match store {
        yinyom_server::store::Store::Sqlite(pool) => {
            sqlx::query(sql).execute(pool).await.expect(sql);
        }
        yinyom_server::store::Store::Postgres(pool) => {
            sqlx::query(sql).execute(pool).await.expect(sql);
        }
    }
}

/// A site with three visitors (the first with a choice, an update and a withdrawal), all
/// in the log; returns the app and the receipt ids in order.
async fn logged_site() -> (TestApp, Vec<String>) {
    let app = app().await;
    let mut ids = Vec::new();
    for (subject, withdraw) in [
        ("subject-chain-aaaa", false),
        ("subject-chain-bbbb", false),
        ("subject-chain-aaaa", false),
        ("subject-chain-cccc", false),
        ("subject-chain-aaaa", true),
    ] {
        let r = post(&app, subject, withdraw).await;
        ids.push(r["receipt_id"].as_str().expect("id").to_owned());
    }
    let signer = log::LogSigner::of(&app.state).await.expect("log key");
    log::sequence(&app.state.store, &signer, "demo")
        .await
        .expect("sequence");
    (app, ids)
}

/// `yinyom log verify`, its exit status and output.
fn cli_verify(url: &str, extra: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yinyom"))
        .args(["--database-url", url, "log", "verify", "--site", "demo"])
        .args(extra)
        .output()
        .expect("run yinyom");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// An untouched store verifies; every tampering scenario is named with a `TAMPERED:` line
/// and a non-zero exit.
#[tokio::test]
async fn log_verify_names_every_tampering() {
    let (app, _) = logged_site().await;
    let url = database_url(&app).await;
    let (ok, out) = cli_verify(&url, &[]);
    assert!(ok, "an untouched log verifies: {out}");
    assert!(!out.contains("TAMPERED"), "{out}");

    type Check = fn(&[String]) -> (Vec<String>, &'static str);
    let scenarios: Vec<(&str, Check)> = vec![
        ("every checkpoint deleted", |_| {
            (
                vec!["delete from log_checkpoints".into()],
                "checkpoints were deleted",
            )
        }),
        ("the log emptied", |_| {
            (
                vec![
                    "delete from log_cosignatures".into(),
                    "delete from log_checkpoints".into(),
                    "delete from log_tiles".into(),
                    "delete from log_leaves".into(),
                ],
                "is not in the log and not waiting for it",
            )
        }),
        ("a receipt dropped from the log, not the table", |ids| {
            (
                vec![format!(
                    "delete from log_leaves where receipt_id = '{}'",
                    ids[1]
                )],
                "is not in the log and not waiting for it",
            )
        }),
        ("a receipt dropped from the table, not the log", |ids| {
            (
                vec![format!(
                    "delete from receipts where receipt_id = '{}'",
                    ids[3]
                )],
                "was deleted",
            )
        }),
        ("receipts.method edited", |ids| {
            (
                vec![format!(
                    "update receipts set method = 'accept_all' where receipt_id = '{}'",
                    ids[0]
                )],
                "method (stored `accept_all`",
            )
        }),
        ("receipts.site_id edited", |ids| {
            (
                vec![
                    "insert into sites (id, name_json, origins_json, created_at, updated_at)
                     select 'other', name_json, origins_json, created_at, updated_at from sites
                     where id = 'demo'"
                        .into(),
                    format!(
                        "update receipts set site_id = 'other' where receipt_id = '{}'",
                        ids[0]
                    ),
                ],
                "site_id (stored `other`, signed `demo`)",
            )
        }),
        ("receipts.choice edited", |ids| {
            (
                vec![format!(
                    "update receipts set choice = choice || ' p:extra=1' where receipt_id = '{}'",
                    ids[2]
                )],
                "choice (stored `",
            )
        }),
        ("a stored notice text edited", |_| {
            (
                vec!["update notice_versions set content_json = replace(content_json, 'analytics', 'analytix')".into()],
                "the text was edited",
            )
        }),
        ("a stored notice text edited with its hash", |_| {
            (
                vec![
                    "update notice_versions set content_json = '{}',
                      sha256 = '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'"
                        .into(),
                ],
                "not the text the receipts signed",
            )
        }),
        ("a visitor's middle receipt dropped with its leaf", |ids| {
            (
                vec![
                    format!("delete from log_leaves where receipt_id = '{}'", ids[2]),
                    format!("delete from receipts where receipt_id = '{}'", ids[2]),
                ],
                "previous receipt it names is missing",
            )
        }),
        (
            "a visitor's withdrawal dropped with its leaf and checkpoints",
            |ids| {
                (
                    vec![
                        "delete from log_cosignatures".into(),
                        "delete from log_checkpoints".into(),
                        "delete from log_tiles".into(),
                        format!("delete from log_leaves where receipt_id = '{}'", ids[4]),
                        format!("delete from receipts where receipt_id = '{}'", ids[4]),
                    ],
                    "the visitor's newest receipt is missing",
                )
            },
        ),
    ];
    for (name, scenario) in scenarios {
        let (app, ids) = logged_site().await;
        let (sqls, expect) = scenario(&ids);
        for sql in &sqls {
            exec(&app.state.store, sql).await;
        }
        let url = database_url(&app).await;
        let (ok, out) = cli_verify(&url, &[]);
        assert!(!ok, "{name}: verify must fail: {out}");
        assert!(
            out.lines()
                .any(|l| l.starts_with("TAMPERED:") && l.contains(expect)),
            "{name}: expected `{expect}`: {out}"
        );
    }
}

/// The newest receipts deleted with their leaves, tiles and checkpoints: the store agrees
/// with itself, but a checkpoint an auditor kept (checked with the served vkey) shows the
/// log was truncated.
#[tokio::test]
async fn a_checkpoint_kept_outside_catches_a_truncated_log() {
    let (app, ids) = logged_site().await;
    let store = &app.state.store;
    let kept = store
        .latest_checkpoint("demo")
        .await
        .expect("read")
        .expect("a checkpoint")
        .note;
    let vkey = body_text(app.get("/v1/sites/demo/log/vkey").await).await;
    let dir = tempfile::tempdir().expect("tmp");
    let (cp_file, vkey_file) = (dir.path().join("checkpoint"), dir.path().join("vkey"));
    std::fs::write(&cp_file, &kept).expect("write");
    std::fs::write(&vkey_file, &vkey).expect("write");
    let url = database_url(&app).await;
    let args = [
        "--checkpoint",
        cp_file.to_str().expect("path"),
        "--vkey",
        vkey_file.to_str().expect("path"),
    ];
    let (ok, out) = cli_verify(&url, &args);
    assert!(ok, "the log extends the kept checkpoint: {out}");

    // Truncate: the newest receipt goes with its leaf, the tiles and every checkpoint,
    // and the visitor's chain head is rolled back.
    for sql in [
        "delete from log_cosignatures".to_owned(),
        "delete from log_checkpoints".to_owned(),
        "delete from log_tiles".to_owned(),
        format!(
            "update subjects set last_receipt = null where subject_id = '{}'",
            app.pseudonym("subject-chain-aaaa")
        ),
        format!("delete from log_leaves where receipt_id = '{}'", ids[4]),
        format!("delete from receipts where receipt_id = '{}'", ids[4]),
    ] {
        exec(store, &sql).await;
    }
    let (_, out) = cli_verify(&url, &[]);
    assert!(
        !out.contains("only"),
        "without the kept checkpoint nothing shows the truncation: {out}"
    );
    let (ok, out) = cli_verify(&url, &args);
    assert!(!ok, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("TAMPERED:") && l.contains("it was truncated")),
        "{out}"
    );
}
