//! Visitors' secrets and their requests: the server keeps only a keyed hash (pseudonym) of
//! the secret a browser holds; the history and request endpoints take the secret.

mod common;

use axum::http::StatusCode;
use common::*;

async fn post_choice(app: &TestApp, secret: &str, analytics: bool) -> serde_json::Value {
    let res = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), secret, analytics, false),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    body_json(res).await["receipt"].clone()
}

async fn history(app: &TestApp, secret: &str) -> Vec<serde_json::Value> {
    let res = app
        .get(&format!("/v1/sites/demo/subjects/{secret}/receipts"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    body_json(res).await.as_array().expect("array").clone()
}

/// Receipts carry the pseudonym, never the secret; the history endpoint still takes the
/// secret, and the chain runs on the pseudonym; no table holds the secret in clear.
#[tokio::test]
async fn the_secret_is_never_stored_and_the_history_still_works() {
    let app = app().await;
    let secret = "Secret-Of-A-Browser-0001";
    let first = post_choice(&app, secret, true).await;
    let second = post_choice(&app, secret, false).await;
    post_choice(&app, "secret-of-another-one-02", true).await;
    let pseudonym = app.pseudonym(secret);
    assert_eq!(pseudonym.len(), 32);
    assert_eq!(first["subject_id"], pseudonym.as_str());
    assert!(
        second["previous"].is_string(),
        "the chain runs on the pseudonym"
    );

    let mine = history(&app, secret).await;
    assert_eq!(mine.len(), 2);
    assert!(
        mine.iter()
            .all(|e| e["receipt"]["subject_id"] == pseudonym.as_str())
    );
    // The pseudonym is not a secret: it does not open the history.
    assert!(history(&app, &pseudonym).await.is_empty());

    let text = dump::text(&app.state.store).await;
    assert!(text.contains(&pseudonym), "the dump reads the tables");
    assert!(
        !text.contains("secret-of-a-browser-0001"),
        "the secret is stored nowhere"
    );
    assert!(!text.contains("secret-of-another-one-02"));
    assert!(!text.contains(&hex::encode("secret-of-a-browser-0001")));
}

/// After the upgrade, receipts issued before it keep the raw id they were signed with;
/// the history finds them by the secret and the new ones by its pseudonym, and the
/// console search finds the visitor by the pseudonym or by the secret pasted.
#[tokio::test]
async fn receipts_from_before_the_upgrade_stay_under_the_raw_id_and_are_found() {
    let c = console::console().await;
    let app = &c.app;
    let secret = "visitor-before-upgrade-01";
    let old = post_choice(app, secret, true).await;
    let pseudonym = app.pseudonym(secret);
    dump::unpack(&app.state.store).await;
    // What an older server stored: the raw id in the row and in the signed JSON.
    for sql in [
        format!(
            "update receipts set subject_id = '{secret}', receipt_json = replace(receipt_json, '{pseudonym}', '{secret}') where subject_id = '{pseudonym}'"
        ),
        format!("update subjects set subject_id = '{secret}' where subject_id = '{pseudonym}'"),
    ] {
        dump::exec(&app.state.store, &sql).await;
    }
    let new = post_choice(app, secret, false).await;
    assert_eq!(new["subject_id"], pseudonym.as_str());
    assert!(
        new["previous"].is_null(),
        "the chain starts afresh under the pseudonym"
    );

    let mine = history(app, secret).await;
    let ids: Vec<&str> = mine
        .iter()
        .filter_map(|e| e["receipt"]["receipt_id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            new["receipt_id"].as_str().expect("id"),
            old["receipt_id"].as_str().expect("id")
        ]
    );
    assert_eq!(mine[1]["receipt"]["subject_id"], secret);

    // The pseudonym names the new receipts; the secret pasted finds both.
    for (typed, n) in [(pseudonym.as_str(), 1), (secret, 2)] {
        let found = body_json(
            console::get_as(
                app,
                &c.dpo,
                &format!("/v1/admin/sites/demo/receipts?subject={typed}"),
            )
            .await,
        )
        .await;
        assert_eq!(found["total"], n, "search by {typed}");
    }
}

fn requests_uri(site: &str, secret: &str) -> String {
    format!("/v1/sites/{site}/subjects/{secret}/requests")
}

/// The Thailand date `days` after now, as `YYYY-MM-DD`.
fn thai_date_in(days: i64) -> String {
    let t = time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(7, 0, 0).expect("offset"))
        + time::Duration::days(days);
    t.date().to_string()
}

/// A visitor files a request with their secret: 201 with exactly
/// `{reference, kind, received_at, due, status}`, due 30 Thailand days later; they (and
/// only they) see it with its status; the secret is not stored; bad bodies are refused.
#[tokio::test]
async fn a_visitor_files_a_request_and_sees_it_with_its_due_date() {
    let app = app().await;
    let secret = "0f9e8d7c-visitor-request-01";
    let before = thai_date_in(30);
    let res = app
        .post_json(
            &requests_uri("demo", secret),
            &serde_json::json!({"kind": "access", "message": "ขอสำเนาความยินยอมทั้งหมด", "contact": "somchai@example.th"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let filed = body_json(res).await;
    let after = thai_date_in(30);
    let keys: Vec<&str> = filed
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["due", "kind", "received_at", "reference", "status"]);
    assert_eq!(filed["kind"], "access");
    assert_eq!(filed["status"], "received");
    let due = filed["due"].as_str().expect("due");
    assert!(
        due == before || due == after,
        "due {due}, expected {before}"
    );
    assert!(
        filed["received_at"]
            .as_str()
            .is_some_and(|t| t.ends_with("+07:00")),
        "{filed}"
    );
    let reference = filed["reference"].as_str().expect("reference").to_owned();
    let be_year = time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(7, 0, 0).expect("offset"))
        .year()
        + 543;
    assert_eq!(reference, format!("{be_year}-000001"));

    // A second one gets the next number.
    let second = body_json(
        app.post_json(
            &requests_uri("demo", secret),
            &serde_json::json!({"kind": "erasure"}),
        )
        .await,
    )
    .await;
    assert_eq!(second["reference"], format!("{be_year}-000002"));

    let mine = body_json(app.get(&requests_uri("demo", secret)).await).await;
    let mine = mine.as_array().expect("array");
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[1], filed);
    // Someone else, or the pseudonym from a receipt, sees nothing; another site is 404.
    let other = body_json(
        app.get(&requests_uri("demo", "someone-else-entirely-01"))
            .await,
    )
    .await;
    assert_eq!(other, serde_json::json!([]));
    let by_pseudonym =
        body_json(app.get(&requests_uri("demo", &app.pseudonym(secret))).await).await;
    assert_eq!(by_pseudonym, serde_json::json!([]));
    let res = app.get(&requests_uri("nosuch", secret)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let text = dump::text(&app.state.store).await;
    assert!(text.contains(&app.pseudonym(secret)));
    assert!(!text.contains(secret), "the secret is stored nowhere");

    for (body, status) in [
        (
            serde_json::json!({"kind": "delete"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            serde_json::json!({"kind": "access", "extra": 1}),
            StatusCode::BAD_REQUEST,
        ),
        (
            serde_json::json!({"kind": "access", "contact": "x".repeat(201)}),
            StatusCode::BAD_REQUEST,
        ),
        (
            serde_json::json!({"kind": "access", "message": "x".repeat(9000)}),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ] {
        let res = app.post_json(&requests_uri("demo", secret), &body).await;
        assert_eq!(res.status(), status, "{body}");
    }
    let res = app
        .post_json(
            &requests_uri("demo", "short"),
            &serde_json::json!({"kind": "access"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

fn yinyom(app: &TestApp, url: &str, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yinyom"))
        .args(["--database-url", url, "requests"])
        .args(args)
        .envs(binary::key_env(app.dir.path()))
        .output()
        .expect("run yinyom");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        (true, stdout)
    } else {
        (false, stdout + &String::from_utf8_lossy(&out.stderr))
    }
}

/// Staff enter a request that came by post with the identity check they made; the case
/// is listed by due date, shown, checked and closed from the CLI; a refusal needs a
/// reason PDPA allows; every step is audited; a
/// case of one site is not found under another.
#[tokio::test]
async fn staff_intake_and_case_steps_from_the_cli() {
    let app = app().await;
    let url = database_url(&app).await;
    let secret = "visitor-who-wrote-a-letter-1";
    // The visitor's web request, then one by post for the same visitor.
    let web = body_json(
        app.post_json(
            &requests_uri("demo", secret),
            &serde_json::json!({"kind": "objection"}),
        )
        .await,
    )
    .await;
    let web_ref = web["reference"].as_str().expect("reference").to_owned();
    let (ok, out) = yinyom(
        &app,
        &url,
        &[
            "add",
            "--site",
            "demo",
            "--subject",
            secret,
            "--kind",
            "access",
            "--channel",
            "post",
            "--identity-check",
            "สำเนาบัตรประชาชนแนบมากับจดหมาย",
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("status:         identity_checked"), "{out}");
    assert!(out.contains(&app.pseudonym(secret)), "{out}");
    let post_ref = out
        .lines()
        .find_map(|l| l.strip_prefix("reference:"))
        .map(|r| r.trim().to_owned())
        .expect("reference");
    // The visitor sees both, whatever the channel.
    let mine = body_json(app.get(&requests_uri("demo", secret)).await).await;
    assert_eq!(mine.as_array().expect("array").len(), 2);

    let (ok, out) = yinyom(
        &app,
        &url,
        &[
            "add",
            "--site",
            "demo",
            "--subject",
            secret,
            "--kind",
            "access",
            "--channel",
            "web",
        ],
    );
    assert!(!ok, "web is the widget's channel: {out}");

    let (ok, list) = yinyom(&app, &url, &["list", "--site", "demo"]);
    assert!(ok, "{list}");
    assert_eq!(list.lines().count(), 2, "{list}");
    assert!(
        list.contains(&web_ref) && list.contains(&post_ref),
        "{list}"
    );
    assert!(!list.contains("OVERDUE"), "{list}");

    // The web request: answered before identity is checked is refused; refused without
    // a reason too.
    let close = |reference: &str, extra: &[&str]| {
        let mut args = vec!["close", "--site", "demo", "--reference"];
        args.push(reference);
        args.extend_from_slice(extra);
        let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        args
    };
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        yinyom(&app, &url, &args)
    };
    let (ok, out) = run(close(&web_ref, &["--outcome", "answered"]));
    assert!(!ok && out.contains("received"), "{out}");
    let (ok, out) = run(close(&web_ref, &["--outcome", "refused"]));
    assert!(!ok && out.contains("--reason"), "{out}");
    let (ok, out) = run(close(
        &web_ref,
        &["--outcome", "refused", "--reason", "i_am_busy"],
    ));
    assert!(!ok, "{out}");
    let (ok, out) = run(close(
        &web_ref,
        &[
            "--outcome",
            "refused",
            "--reason",
            "identity_not_established",
        ],
    ));
    assert!(ok, "{out}");
    assert!(out.contains("status:         refused"), "{out}");

    // The letter is answered (closing a case as erased: see the next test).
    let (ok, out) = run(close(&post_ref, &["--outcome", "answered"]));
    assert!(ok, "{out}");
    let (ok, out) = yinyom(
        &app,
        &url,
        &["show", "--site", "demo", "--reference", &post_ref],
    );
    assert!(
        ok && out.contains("status:         answered") && out.contains("closed:"),
        "{out}"
    );
    let mine = body_json(app.get(&requests_uri("demo", secret)).await).await;
    let statuses: Vec<&str> = mine
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(statuses, ["answered", "refused"]);

    // Another site has no such case.
    let (ok, out) = yinyom(
        &app,
        &url,
        &["show", "--site", "nosuch", "--reference", &post_ref],
    );
    assert!(!ok && out.contains("no site"), "{out}");

    let audit = app
        .state
        .store
        .audit_entries(None, None, 100)
        .await
        .expect("audit");
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "request.close",
            "request.close",
            "request.file",
            "request.file"
        ],
        "{audit:?}"
    );
    assert!(
        audit
            .iter()
            .any(|a| a.detail.contains("reason=identity_not_established"))
    );
}

/// Closing a case as erased carries the erasure out: the visitor's receipts lose their
/// content, the history endpoint answers nothing, `log verify` passes and names the case,
/// and the case says what was erased. A case whose identity is not checked cannot be.
#[tokio::test]
async fn closing_a_case_as_erased_erases_and_the_log_still_verifies() {
    let app = app().await;
    let url = database_url(&app).await;
    let secret = "visitor-who-asked-erasure-01";
    for analytics in [true, false] {
        let res = app
            .post_json(
                "/v1/sites/demo/receipts",
                &choice(&uuid(), secret, analytics, false),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let filed = body_json(
        app.post_json(
            &requests_uri("demo", secret),
            &serde_json::json!({"kind": "erasure"}),
        )
        .await,
    )
    .await;
    let reference = filed["reference"].as_str().expect("reference").to_owned();
    let close = [
        "close",
        "--site",
        "demo",
        "--reference",
        &reference,
        "--outcome",
        "erased",
    ];
    let (ok, out) = yinyom(&app, &url, &close);
    assert!(
        !ok && out.contains("received"),
        "not before the identity check: {out}"
    );
    let (ok, out) = yinyom(
        &app,
        &url,
        &[
            "check",
            "--site",
            "demo",
            "--reference",
            &reference,
            "--identity-check",
            "ตรวจบัตรประชาชนที่เคาน์เตอร์",
        ],
    );
    assert!(ok, "{out}");
    let (ok, out) = yinyom(&app, &url, &close);
    assert!(ok, "{out}");
    assert!(out.contains("erased: 2 receipts"), "{out}");
    assert!(out.contains("status:         erased"), "{out}");

    let history = body_json(
        app.get(&format!("/v1/sites/demo/subjects/{secret}/receipts"))
            .await,
    )
    .await;
    assert_eq!(history.as_array().map(Vec::len), Some(0), "{history}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yinyom"))
        .args(["--database-url", &url, "log", "verify", "--site", "demo"])
        .envs(binary::key_env(app.dir.path()))
        .output()
        .expect("run yinyom");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("erased: 2 receipts under case {reference}")),
        "{text}"
    );
    assert!(!text.contains("TAMPERED"), "{text}");
}
