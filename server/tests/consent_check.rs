//! The consent-check API for agencies' back-office systems:
//! `GET /v1/sites/{site}/subjects/{subject}/consent` answers a subject's current decision
//! per purpose and category from the latest receipt, to a service token of the site (made
//! with `yinyom tokens create --role service`) or the site's DPO or an admin. Withdrawn or
//! expired consent answers denied; another site 404; no token 401; every call audited.

mod common;

use axum::http::StatusCode;
use common::{console::*, *};
use yinyom_server::store::{StoredReceipt, now_ms, rfc3339_ms};

fn yinyom(url: &str, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yinyom"))
        .args(["--database-url", url])
        .args(args)
        .output()
        .expect("run yinyom");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A service token of `site`, made by the CLI.
async fn service_token(c: &Console, site: &str, name: &str) -> String {
    let url = database_url(&c.app).await;
    let (ok, out, err) = yinyom(
        &url,
        &[
            "tokens", "create", "--role", "service", "--site", site, "--name", name,
        ],
    );
    assert!(ok, "tokens create: {err}");
    let token = out.trim().to_owned();
    assert!(token.starts_with("yy_"), "{out}");
    token
}

async fn record(app: &TestApp, subject: &str, analytics: bool, newsletter: bool) -> String {
    let res = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), subject, analytics, newsletter),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    body_json(res).await["receipt"]["receipt_id"]
        .as_str()
        .expect("id")
        .to_owned()
}

fn consent_uri(site: &str, subject: &str) -> String {
    format!("/v1/sites/{site}/subjects/{subject}/consent")
}

#[tokio::test]
async fn a_service_token_reads_the_latest_consent_and_denied_after_withdrawal() {
    let c = console().await;
    let app = &c.app;
    let token = service_token(&c, "demo", "registry").await;
    let subject = "subject-consent-check-0001";

    let first = record(app, subject, true, false).await;
    let res = get_as(app, &token, &consent_uri("demo", subject)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let a = body_json(res).await;
    // The answer names the subject as its receipts do: by the pseudonym.
    assert_eq!(a["subject"], app.state.subjects.pseudonym(subject));
    assert_eq!(a["status"], "active");
    assert_eq!(a["receipt_id"], first.as_str());
    assert_eq!(a["notice_version"], "v1");
    assert_eq!(a["categories"]["analytics"], true);
    assert_eq!(a["purposes"]["newsletter"], false);
    assert!(
        a["valid_until"]
            .as_str()
            .is_some_and(|v| v > rfc3339_ms(now_ms()).as_str())
    );

    // A later choice is the answer now.
    let second = record(app, subject, false, true).await;
    let a = body_json(get_as(app, &token, &consent_uri("demo", subject)).await).await;
    assert_eq!(a["receipt_id"], second.as_str());
    assert_eq!(a["categories"]["analytics"], false);
    assert_eq!(a["purposes"]["newsletter"], true);

    // Withdrawn: everything denied, and said so.
    let mut withdraw = choice(&uuid(), subject, false, false);
    withdraw["method"] = serde_json::json!("withdraw");
    let res = app.post_json("/v1/sites/demo/receipts", &withdraw).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let a = body_json(get_as(app, &token, &consent_uri("demo", subject)).await).await;
    assert_eq!(a["status"], "withdrawn");
    assert_eq!(a["purposes"]["newsletter"], false);
    assert_eq!(a["categories"]["analytics"], false);

    // Subject ids compare case-insensitively, as the visitor's own history does.
    let res = get_as(app, &token, &consent_uri("demo", &subject.to_uppercase())).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn consent_past_its_validity_answers_denied_and_expired() {
    let c = console().await;
    let app = &c.app;
    let token = service_token(&c, "demo", "registry").await;
    let subject = "subject-consent-expired-01";
    record(app, subject, true, true).await;
    // The same choice, made long ago: its validity has run out (seeded as a benchmark
    // seeds, so it need not be re-signed).
    let mut old: StoredReceipt = app
        .state
        .store
        .subject_receipts("demo", &app.state.subjects.lookup_ids(subject), 1)
        .await
        .expect("read")
        .into_iter()
        .next()
        .expect("receipt");
    old.receipt.receipt_id = uuid();
    old.receipt.request_id = uuid();
    old.receipt.valid_until = rfc3339_ms(now_ms() - 60_000);
    old.issued_at_ms = now_ms() + 1;
    old.json = serde_json::to_string(&old.receipt).expect("json");
    app.state
        .store
        .seed_receipts(&[old.clone()])
        .await
        .expect("seed");
    let a = body_json(get_as(app, &token, &consent_uri("demo", subject)).await).await;
    assert_eq!(a["receipt_id"], old.receipt.receipt_id.as_str());
    assert_eq!(a["status"], "expired");
    assert_eq!(a["categories"]["analytics"], false);
    assert_eq!(a["purposes"]["newsletter"], false);
}

#[tokio::test]
async fn only_the_site_s_service_tokens_dpo_and_admins_may_ask() {
    let c = console().await;
    let app = &c.app;
    let token = service_token(&c, "demo", "registry").await;
    let other_token = service_token(&c, "other", "other-registry").await;
    let subject = "subject-consent-access-01";
    record(app, subject, true, false).await;
    let uri = consent_uri("demo", subject);

    for (who, t, status) in [
        ("service token", token.as_str(), StatusCode::OK),
        ("admin", c.admin.as_str(), StatusCode::OK),
        ("site's DPO", c.dpo.as_str(), StatusCode::OK),
        (
            "auditor (aggregates only)",
            c.auditor.as_str(),
            StatusCode::NOT_FOUND,
        ),
        (
            "other site's DPO",
            c.other_dpo.as_str(),
            StatusCode::NOT_FOUND,
        ),
        (
            "other site's service token",
            other_token.as_str(),
            StatusCode::NOT_FOUND,
        ),
        ("an unknown token", "yy_nobody", StatusCode::UNAUTHORIZED),
    ] {
        assert_eq!(get_as(app, t, &uri).await.status(), status, "{who}");
    }
    // The demo site's token about another site, and about a subject with no receipt.
    let res = get_as(app, &token, &consent_uri("other", subject)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = get_as(app, &token, &consent_uri("demo", "subject-never-seen-0001")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // No token at all.
    let res = app.get(&uri).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // A service token opens nothing else: not the admin API, not the console.
    let res = get_as(app, &token, "/v1/admin/sites").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = get_as(app, &token, "/v1/admin/sites/demo/receipts").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Revoked: it stops working at once.
    let url = database_url(app).await;
    let (_, list, _) = yinyom(&url, &["tokens", "list"]);
    let line = list
        .lines()
        .find(|l| l.contains("registry") && l.contains("service:demo"))
        .unwrap_or_else(|| panic!("service token listed: {list}"));
    let id = line.split_whitespace().next().expect("id");
    let (ok, _, err) = yinyom(&url, &["tokens", "revoke", id]);
    assert!(ok, "{err}");
    assert_eq!(
        get_as(app, &token, &uri).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn every_consent_check_is_audited() {
    let c = console().await;
    let app = &c.app;
    let token = service_token(&c, "demo", "registry").await;
    let subject = "subject-consent-audit-001";
    let receipt = record(app, subject, true, false).await;
    get_as(app, &token, &consent_uri("demo", subject)).await;
    get_as(app, &token, &consent_uri("demo", "subject-never-seen-0002")).await;
    get_as(app, &c.dpo, &consent_uri("demo", subject)).await;

    let audit = body_json(get_as(app, &c.admin, "/v1/admin/audit").await).await;
    let checks: Vec<(String, String, String)> = audit
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["action"] == "consent.check")
        .map(|r| {
            (
                r["actor"].as_str().unwrap_or("").to_owned(),
                r["site_id"].as_str().unwrap_or("").to_owned(),
                r["detail"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        checks,
        vec![
            (
                format!("token:test ({DPO})"),
                "demo".to_owned(),
                receipt.clone()
            ),
            (
                "service:registry".to_owned(),
                "demo".to_owned(),
                "none".to_owned()
            ),
            ("service:registry".to_owned(), "demo".to_owned(), receipt),
        ],
        "newest first"
    );
    // The subject itself is never written to the audit log.
    assert!(!audit.to_string().contains(subject));
}
