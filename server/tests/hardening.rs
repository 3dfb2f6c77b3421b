//! The console and the admin API resist abuse: security headers, bounded and throttled
//! sign-in, timeouts on slow clients, the client address behind proxies, and one error
//! shape everywhere.

mod common;

use axum::{
    body::Body,
    http::{Request, Response, StatusCode, header},
};
use base64::Engine;
use common::{console::*, *};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use yinyom_server::{admin::auth, state::Settings};

fn assert_secure(res: &Response<Body>, what: &str) {
    let h = |n: header::HeaderName| {
        res.headers()
            .get(&n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no {n}"))
            .to_owned()
    };
    let csp = h(header::CONTENT_SECURITY_POLICY);
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    assert!(
        !csp.contains("script-src"),
        "{what}: no script at all: {csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(h(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{what}");
    assert_eq!(h(header::REFERRER_POLICY), "no-referrer", "{what}");
    assert_eq!(h(header::CACHE_CONTROL), "no-store", "{what}");
}

/// Every console page and admin response carries the headers; the pages have no script
/// and no style attribute, and their one stylesheet is the one the policy allows.
#[tokio::test]
async fn console_pages_and_admin_json_carry_security_headers() {
    let c = console().await;
    let app = &c.app;
    let login = app.get("/admin/login").await;
    assert_secure(&login, "/admin/login");
    for uri in [
        "/admin",
        "/admin/sites/demo/receipts?subject=nobody-at-all-000",
        "/admin/sites/demo/stats",
        "/admin/sites/demo/notices",
        "/admin/audit",
        "/admin/accounts",
        "/admin/sites/nope/receipts",
        "/admin/nothing-here",
        "/v1/admin/sites",
        "/v1/admin/sites/demo/receipts",
        "/v1/admin/audit",
        "/v1/admin/sites/demo/export?format=csv&purpose=test&reference=TEST-0001",
    ] {
        let res = get_as(app, &c.admin, uri).await;
        assert_secure(&res, uri);
        let is_html = res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/html"));
        let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("csp")
            .to_owned();
        let text = body_text(res).await;
        if is_html {
            assert!(!text.contains("<script"), "{uri}");
            assert!(!text.contains(" style="), "{uri}");
            let css = text
                .split("<style>")
                .nth(1)
                .and_then(|s| s.split("</style>").next())
                .expect("a stylesheet");
            let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(css));
            assert!(csp.contains(&format!("'sha256-{hash}'")), "{uri}: {csp}");
        }
    }
}

async fn audit_rows(app: &TestApp) -> (i64, i64) {
    match &app.state.store {
        yinyom_server::store::Store::Sqlite(p) => {
            sqlx::query_as("select count(*), coalesce(sum(length(actor) + length(detail)), 0) from audit_log")
                .fetch_one(p)
                .await
                .expect("audit")
        }
        yinyom_server::store::Store::Postgres(p) => sqlx::query_as(
            "select count(*), cast(coalesce(sum(length(actor) + length(detail)), 0) as bigint) from audit_log",
        )
        .fetch_one(p)
        .await
        .expect("audit"),
    }
}

async fn post_login(app: &TestApp, email: &str, password: &str, address: &str) -> Response<Body> {
    let page = app.get("/admin/login").await;
    let login = cookie_value(&page, auth::LOGIN_COOKIE).expect("login cookie");
    app.send(
        Request::post("/admin/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(
                header::COOKIE,
                format!("{}={login}; yinyom_lang=en", auth::LOGIN_COOKIE),
            )
            .header("x-forwarded-for", address)
            .body(Body::from(form(&[
                ("email", email),
                ("password", password),
                ("csrf", &login),
            ])))
            .expect("request"),
    )
    .await
}

/// Oversized e-mails and passwords are refused before anything is stored: no audit row,
/// no throttling row.
#[tokio::test]
async fn sign_in_fields_are_bounded_before_anything_is_stored() {
    let c = console().await;
    let app = &c.app;
    let before = audit_rows(app).await;
    let huge = format!("{}@x.go.th", "a".repeat(1 << 20));
    let long = format!("{}@x.go.th", "a".repeat(250));
    for (email, password) in [
        (huge.as_str(), "wrong password!!"),
        (long.as_str(), "wrong password!!"),
        ("dpo@demo.go.th", &"p".repeat(1025)),
    ] {
        let res = post_login(app, email, password, "198.51.100.40").await;
        assert!(
            res.status().is_client_error() && res.status() != StatusCode::UNAUTHORIZED,
            "{}",
            res.status()
        );
        assert_secure(&res, "refused sign-in");
    }
    assert_eq!(audit_rows(app).await, before, "nothing was written");
    // At the limits, an ordinary failure (audited, bounded).
    let at_limit = format!("{}@x.go.th", "a".repeat(254 - 9));
    assert_eq!(
        post_login(app, &at_limit, &"p".repeat(1024), "198.51.100.40")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let (rows, bytes) = audit_rows(app).await;
    assert_eq!(rows, before.0 + 1);
    assert!(bytes - before.1 <= 254 + 16, "{}", bytes - before.1);
}

/// 30 parallel wrong passwords for one account (from 30 addresses): five are checked,
/// the rest refused without a check and without an audit row, with a short wait (not a
/// 15-minute lock); `yinyom users unlock` lets the owner in at once.
#[tokio::test]
async fn parallel_wrong_passwords_are_throttled_atomically() {
    let c = console().await;
    let app = Arc::new(c.app);
    let mut tasks = Vec::new();
    for i in 0..30 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let res = post_login(
                &app,
                "dpo@demo.go.th",
                "wrong password!!",
                &format!("203.0.113.{i}"),
            )
            .await;
            let retry = res
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            (res.status(), retry)
        }));
    }
    let mut checked = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.expect("task") {
            (StatusCode::UNAUTHORIZED, _) => checked += 1,
            (StatusCode::TOO_MANY_REQUESTS, Some(secs)) => {
                refused += 1;
                assert!(
                    (1..=60).contains(&secs),
                    "a short wait, not a lock: {secs} s"
                );
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((checked, refused), (5, 25));
    let audit = body_json(get_as(&app, &c.admin, "/v1/admin/audit").await).await;
    let failed = audit
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["action"] == "login.failed")
        .count();
    assert_eq!(failed, 5, "refused attempts write nothing");
    assert!(
        audit
            .as_array()
            .expect("rows")
            .iter()
            .any(|r| r["action"] == "login.throttled")
    );
    // The owner is refused too, until an admin unlocks the account.
    assert_eq!(
        session(&app, "dpo@demo.go.th", PASSWORD, "192.0.2.1").await,
        Err(StatusCode::TOO_MANY_REQUESTS)
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yinyom"))
        .args(["--database-url", &database_url(&app).await])
        .args(["users", "unlock", "--email", "dpo@demo.go.th"])
        .output()
        .expect("run yinyom");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        session(&app, "dpo@demo.go.th", PASSWORD, "192.0.2.1")
            .await
            .is_ok()
    );
}

/// One address trying many accounts is throttled as well.
#[tokio::test]
async fn one_address_is_throttled_across_accounts() {
    let c = console().await;
    for i in 0..5 {
        let res = post_login(
            &c.app,
            &format!("guess{i}@x.go.th"),
            "wrong password!!",
            "198.51.100.77",
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = post_login(&c.app, "dpo@demo.go.th", PASSWORD, "198.51.100.77").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another address is not affected.
    assert!(
        session(&c.app, "dpo@demo.go.th", PASSWORD, "198.51.100.78")
            .await
            .is_ok()
    );
}

/// The address comes from the right of X-Forwarded-For, as many hops as there are
/// trusted proxies; a client-written entry on the left is never taken.
#[tokio::test]
async fn trusted_proxies_count_from_the_right() {
    let c = console().await;
    let res = post_login(
        &c.app,
        "dpo@demo.go.th",
        "wrong password!!",
        "6.6.6.6, 198.51.100.9",
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let audit = body_json(get_as(&c.app, &c.admin, "/v1/admin/audit").await).await;
    let failed = audit
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["action"] == "login.failed")
        .expect("audited");
    assert_eq!(failed["client"], "198.51.100.9");

    let peer = Some("192.0.2.50:4000".parse().expect("addr"));
    let mut headers = axum::http::HeaderMap::new();
    headers.append("x-forwarded-for", "6.6.6.6, 10.0.0.1".parse().expect("h"));
    headers.append("x-forwarded-for", "10.0.0.2".parse().expect("h"));
    for (hops, want) in [
        (0, "192.0.2.50"),
        (1, "10.0.0.2"),
        (2, "10.0.0.1"),
        (3, "6.6.6.6"),
        (4, "192.0.2.50"),
    ] {
        let state = yinyom_server::state::AppState {
            settings: Arc::new(Settings {
                trusted_proxies: hops,
                ..(*c.app.state.settings).clone()
            }),
            ..c.app.state.clone()
        };
        assert_eq!(
            state.client_ip(&headers, peer).to_string(),
            want,
            "{hops} hops"
        );
    }
}

fn json_error(v: &serde_json::Value) -> (&str, &str) {
    (
        v["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error body: {v}")),
        v["error"]["message"].as_str().expect("message"),
    )
}

/// Errors the framework answers by itself are the JSON error body too; on the console
/// they are pages in the visitor's language.
#[tokio::test]
async fn every_error_is_the_json_body_or_a_console_page() {
    let c = console().await;
    let app = &c.app;
    // A query string that does not parse.
    let res = get_as(app, &c.admin, "/v1/admin/audit?before=yesterday").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_error(&body_json(res).await).0, "bad_request");
    let res = app
        .get("/v1/sites/demo/log/consistency?first=one&second=2")
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_error(&body_json(res).await).0, "bad_request");
    // A multipart body that is not one.
    let res = app
        .send(
            Request::post("/v1/admin/sites/demo/notices")
                .header(header::AUTHORIZATION, format!("Bearer {}", c.admin))
                .header(header::CONTENT_TYPE, "multipart/form-data")
                .body(Body::from("garbage"))
                .expect("request"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_error(&body_json(res).await).0, "bad_request");
    // A missing file under /assets: JSON, and not cached for a year.
    let res = app.get("/assets/b1/nothing.js").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    assert_eq!(json_error(&body_json(res).await).0, "not_found");
    // A method not allowed.
    let res = app
        .post_json("/v1/admin/sites", &serde_json::json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(json_error(&body_json(res).await).0, "method_not_allowed");

    // The console: a page in the visitor's language.
    for (lang, words) in [("en", "Invalid input"), ("th", "ข้อมูลไม่ถูกต้อง")]
    {
        let res = get_as(
            app,
            &c.admin,
            &format!("/admin/audit?before=yesterday&lang={lang}"),
        )
        .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_secure(&res, "console error");
        let html = body_text(res).await;
        assert!(html.contains(&format!("<html lang=\"{lang}\"")), "{html}");
        assert!(html.contains(words), "{html}");
    }
}

/// A failed sign-in and a bad search filter show the same form again, in the visitor's
/// language, with what was entered.
#[tokio::test]
async fn console_errors_keep_the_form() {
    let c = console().await;
    let res = post_login(
        &c.app,
        "dpo@demo.go.th",
        "wrong password!!",
        "198.51.100.20",
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let html = body_text(res).await;
    assert!(html.contains("<html lang=\"en\""), "{html}");
    assert!(html.contains("Wrong e-mail or password"), "{html}");
    assert!(html.contains("value=\"dpo@demo.go.th\""), "{html}");
    assert!(html.contains("name=\"csrf\""), "a fresh form: {html}");

    let res = get_as(
        &c.app,
        &c.dpo,
        "/admin/sites/demo/receipts?from=31-12-2568&subject=subject-kept-000001&lang=en",
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = body_text(res).await;
    assert!(html.contains("A filter is not valid"), "{html}");
    assert!(html.contains("value=\"subject-kept-000001\""), "{html}");
    assert!(html.contains("value=\"31-12-2568\""), "{html}");
}
