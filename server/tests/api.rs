//! The HTTP API against a real database: SQLite by default, PostgreSQL when
//! `YINYOM_TEST_DATABASE_URL` is set (`cargo xtask test` runs both).

mod common;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use common::*;
use yinyom_model::canonical::to_canonical_json;
use yinyom_server::signing::{Jwks, verify};

/// The widget reads the current notice; the ETag lets a browser revalidate for free.
#[tokio::test]
async fn serves_the_current_notice_with_etag_and_cors() {
    let app = app().await;
    let res = app.get("/v1/sites/demo/notice").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
    let etag = res.headers()[header::ETAG]
        .to_str()
        .expect("etag")
        .to_owned();
    let body = body_json(res).await;
    assert_eq!(body["notice"]["version"], "v1");
    assert_eq!(body["notice"]["title"]["th"], "เราใช้คุกกี้");
    assert_eq!(
        format!("\"{}\"", body["sha256"].as_str().expect("sha")),
        etag
    );

    let again = app
        .send(
            Request::get("/v1/sites/demo/notice")
                .header(header::ORIGIN, ORIGIN)
                .header(header::IF_NONE_MATCH, &etag)
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
}

/// Unknown sites are 404 and pages of other origins are refused, with JSON errors.
#[tokio::test]
async fn refuses_unknown_sites_and_foreign_origins() {
    let app = app().await;
    let res = app.get("/v1/sites/nope/notice").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_json(res).await["error"]["code"], "unknown_site");

    for req in [
        Request::get("/v1/sites/demo/notice"),
        Request::post("/v1/sites/demo/receipts"),
    ] {
        let res = app
            .send(
                req.header(header::ORIGIN, "https://evil.example")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(
                        choice(&uuid(), "subject-0123456789", true, true).to_string(),
                    ))
                    .expect("request"),
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(
            res.headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none()
        );
        assert_eq!(body_json(res).await["error"]["code"], "foreign_origin");
    }
    assert_eq!(
        app.state.store.count_receipts("demo").await.expect("count"),
        0
    );
}

/// A browser's preflight for the JSON POST is answered for the site's origins.
#[tokio::test]
async fn answers_cors_preflight() {
    let app = app().await;
    let res = app
        .send(
            Request::options("/v1/sites/demo/receipts")
                .header(header::ORIGIN, ORIGIN)
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
    assert!(
        res.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .expect("text")
            .contains("content-type")
    );
}

/// A choice becomes a receipt signed with a key from the JWKS, over its canonical JSON;
/// a retry returns the same receipt and writes nothing.
#[tokio::test]
async fn records_a_signed_receipt_once() {
    let app = app().await;
    let id = uuid();
    let res = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&id, "subject-0123456789", false, true),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
    let body = body_json(res).await;
    let r = &body["receipt"];
    assert_eq!(r["request_id"], id.as_str());
    assert_eq!(r["event"], "given");
    assert_eq!(r["method"], "save_preferences");
    assert_eq!(r["jurisdiction"], "TH");
    assert_eq!(r["categories"]["analytics"], false);
    assert_eq!(r["purposes"]["newsletter"], true);
    assert_eq!(r["page"]["origin"], ORIGIN);
    assert_eq!(r["page"]["path"], "/services");
    assert_eq!(r["notice"]["version"], "v1");
    assert_eq!(
        r["notice"]["url"],
        "http://yinyom.test/sites/demo/notice/v1"
    );
    assert_eq!(r["notice"]["sha256"].as_str().map(str::len), Some(64));

    let jwks: Jwks =
        serde_json::from_value(body_json(app.get("/.well-known/jwks.json").await).await)
            .expect("jwks");
    let payload = verify(body["jws"].as_str().expect("jws"), &jwks).expect("valid signature");
    assert_eq!(
        String::from_utf8(payload).expect("utf8"),
        to_canonical_json(r).expect("canonical")
    );

    let replay = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&id, "subject-0123456789", false, true),
        )
        .await;
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(
        body_json(replay).await["receipt"]["receipt_id"],
        r["receipt_id"]
    );
    assert_eq!(
        app.state.store.count_receipts("demo").await.expect("count"),
        1
    );
}

/// Posts `body` as a receipt `n` times at once; the receipt ids answered, in order.
async fn post_at_once(app: &TestApp, body: &serde_json::Value, n: usize) -> Vec<serde_json::Value> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let app_router = app.router.clone();
            let body = body.clone();
            tokio::spawn(async move {
                use tower::ServiceExt;
                let req = Request::post("/v1/sites/demo/receipts")
                    .header(header::ORIGIN, ORIGIN)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body.to_string()))
                    .expect("request");
                let res = app_router.oneshot(req).await.expect("infallible");
                assert!(res.status().is_success(), "status {}", res.status());
                body_json(res).await["receipt"]["receipt_id"].clone()
            })
        })
        .collect();
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.expect("task"));
    }
    ids
}

/// Concurrent retries of one request (a flaky network) still make exactly one receipt.
#[tokio::test]
async fn concurrent_retries_make_one_receipt() {
    let app = app().await;
    let id = uuid();
    let body = choice(&id, "subject-concurrent-1", true, true);
    let ids = post_at_once(&app, &body, 8).await;
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    assert_eq!(
        app.state.store.count_receipts("demo").await.expect("count"),
        1
    );
}

/// Concurrent retries of a returning visitor's request (the visitor's row is locked, not
/// registered) also make exactly one receipt, chained once.
#[tokio::test]
async fn concurrent_retries_of_a_returning_visitor_make_one_receipt() {
    let app = app().await;
    let subject = "subject-concurrent-2";
    let first = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), subject, true, true),
        )
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first_id = body_json(first).await["receipt"]["receipt_id"].clone();
    let body = choice(&uuid(), subject, false, false);
    let ids = post_at_once(&app, &body, 8).await;
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    assert_ne!(ids[0], first_id);
    assert_eq!(
        app.state.store.count_receipts("demo").await.expect("count"),
        2
    );
}

/// A request id is one visitor's idempotency key: another visitor sending the same id
/// (by chance, or having read it from someone's receipt) makes a receipt of their own,
/// and is never answered with the first visitor's.
#[tokio::test]
async fn a_request_id_belongs_to_its_visitor() {
    let app = app().await;
    let id = uuid();
    let first = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&id, "subject-owner-0001", true, true),
        )
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = body_json(first).await;
    let other = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&id, "subject-other-0002", true, true),
        )
        .await;
    assert_eq!(other.status(), StatusCode::CREATED);
    let other = body_json(other).await;
    assert_ne!(
        other["receipt"]["receipt_id"],
        first["receipt"]["receipt_id"]
    );
    assert_ne!(
        other["receipt"]["subject_id"],
        first["receipt"]["subject_id"]
    );
    // Each visitor's retry still finds their own receipt.
    for (subject, made) in [
        ("subject-owner-0001", &first),
        ("subject-other-0002", &other),
    ] {
        let retry = app
            .post_json("/v1/sites/demo/receipts", &choice(&id, subject, true, true))
            .await;
        assert_eq!(retry.status(), StatusCode::OK);
        assert_eq!(
            body_json(retry).await["receipt"]["receipt_id"],
            made["receipt"]["receipt_id"]
        );
    }
    assert_eq!(
        app.state.store.count_receipts("demo").await.expect("count"),
        2
    );
}

/// Reusing a request id for a different choice is a client bug: 409, nothing written.
#[tokio::test]
async fn refuses_a_reused_request_id_with_another_choice() {
    let app = app().await;
    let id = uuid();
    let first = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&id, "subject-0123456789", true, true),
        )
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let other = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&id, "subject-0123456789", false, false),
        )
        .await;
    assert_eq!(other.status(), StatusCode::CONFLICT);
    assert_eq!(
        body_json(other).await["error"]["code"],
        "request_id_conflict"
    );
    assert_eq!(
        app.state.store.count_receipts("demo").await.expect("count"),
        1
    );
}

/// Decisions must cover exactly what the notice version asks; the error names what is off.
#[tokio::test]
async fn refuses_decisions_that_do_not_match_the_notice() {
    let app = app().await;
    let mut missing = choice(&uuid(), "subject-0123456789", true, true);
    missing["categories"] = serde_json::json!({});
    let mut extra = choice(&uuid(), "subject-0123456789", true, true);
    extra["categories"]["marketing"] = serde_json::json!(true);
    let mut required = choice(&uuid(), "subject-0123456789", true, true);
    required["categories"]["necessary"] = serde_json::json!(false);
    let mut version = choice(&uuid(), "subject-0123456789", true, true);
    version["notice_version"] = serde_json::json!("v9");
    let mut revision = choice(&uuid(), "subject-0123456789", true, true);
    revision["consent_revision"] = serde_json::json!(2);

    for (body, code, names) in [
        (missing, "invalid_decisions", "category `analytics`"),
        (extra, "invalid_decisions", "category `marketing`"),
        (required, "invalid_decisions", "category `necessary`"),
        (version, "unknown_notice_version", "v9"),
        (revision, "wrong_consent_revision", "consent_revision 1"),
    ] {
        let res = app.post_json("/v1/sites/demo/receipts", &body).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let err = body_json(res).await;
        assert_eq!(err["error"]["code"], code);
        let message = err["error"]["message"].as_str().expect("message");
        assert!(message.contains(names), "{message}");
    }
    assert_eq!(
        app.state.store.count_receipts("demo").await.expect("count"),
        0
    );
}

/// Malformed, oversized and origin-less bodies get a clear 400 / 413 / 403.
#[tokio::test]
async fn refuses_malformed_oversized_and_originless_requests() {
    let app = app().await;
    let post = |body: Body, origin: bool| {
        let mut req = Request::post("/v1/sites/demo/receipts")
            .header(header::CONTENT_TYPE, "application/json");
        if origin {
            req = req.header(header::ORIGIN, ORIGIN);
        }
        req.body(body).expect("request")
    };
    let res = app.send(post(Body::from("{\"request_id\": 5"), true)).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(
        body_json(res).await["error"]["message"]
            .as_str()
            .expect("message")
            .contains("not a valid receipt request")
    );

    let mut bad_id = choice("not-a-uuid", "subject-0123456789", true, true);
    let res = app.send(post(Body::from(bad_id.to_string()), true)).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    bad_id["request_id"] = serde_json::json!(uuid());
    bad_id["subject_id"] = serde_json::json!("short");
    let res = app.send(post(Body::from(bad_id.to_string()), true)).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    let big = "x".repeat(20_000);
    let res = app.send(post(Body::from(big), true)).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body_json(res).await["error"]["code"], "body_too_large");

    let ok = choice(&uuid(), "subject-0123456789", true, true);
    let res = app.send(post(Body::from(ok.to_string()), false)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.state.store.count_receipts("demo").await.expect("count"),
        0
    );
}

/// Choices of one visitor arriving together are written in one group: only the first is
/// given, the others are updates (the writer looks the visitor up once for the group).
/// On SQLite (one writer) this holds exactly; PostgreSQL's parallel writers may race.
#[tokio::test]
async fn simultaneous_choices_of_one_visitor_are_updates_after_the_first() {
    let app = app().await;
    if app.state.store.backend() != yinyom_server::store::Backend::Sqlite {
        return;
    }
    // Warm the site and notice caches, so the 24 posts below reach the writer together.
    let warm = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), "subject-together-00", true, true),
        )
        .await;
    assert_eq!(warm.status(), StatusCode::CREATED);
    let subject = "subject-together-01";
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..24 {
        let router = app.router.clone();
        let body = choice(&uuid(), subject, i % 2 == 0, true);
        tasks.spawn(async move {
            use tower::ServiceExt;
            let req = axum::http::Request::post("/v1/sites/demo/receipts")
                .header("origin", ORIGIN)
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .expect("request");
            let res = router.oneshot(req).await.expect("infallible");
            assert_eq!(res.status(), StatusCode::CREATED);
            body_json(res).await["receipt"]["event"]
                .as_str()
                .expect("event")
                .to_owned()
        });
    }
    let events: Vec<String> = tasks.join_all().await;
    assert_eq!(
        events.iter().filter(|e| *e == "given").count(),
        1,
        "{events:?}"
    );
    assert_eq!(
        events.iter().filter(|e| *e == "updated").count(),
        23,
        "{events:?}"
    );
}

/// The receipt's event follows the visitor's history: refused, then updated, then withdrawn.
#[tokio::test]
async fn events_follow_the_visitors_history() {
    let app = app().await;
    let subject = "subject-history-01";
    let first = body_json(
        app.post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), subject, false, false),
        )
        .await,
    )
    .await;
    assert_eq!(first["receipt"]["event"], "refused");
    let second = body_json(
        app.post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), subject, true, true),
        )
        .await,
    )
    .await;
    assert_eq!(second["receipt"]["event"], "updated");
    let mut withdraw = choice(&uuid(), subject, false, false);
    withdraw["method"] = serde_json::json!("withdraw");
    let third = body_json(app.post_json("/v1/sites/demo/receipts", &withdraw).await).await;
    assert_eq!(third["receipt"]["event"], "withdrawn");

    let mut bad = choice(&uuid(), subject, true, false);
    bad["method"] = serde_json::json!("withdraw");
    let res = app.post_json("/v1/sites/demo/receipts", &bad).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// The loader carries the site's consent cookie name, revision, validity, categories and
/// Consent Mode map.
#[tokio::test]
async fn serves_the_per_site_loader() {
    let app = app().await;
    let res = app
        .send(
            Request::get("/v1/sites/demo/yinyom.js")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .expect("type")
            .starts_with("text/javascript")
    );
    let js = body_text(res).await;
    assert!(!js.contains("__YINYOM_CONFIG__"));
    assert!(
        js.contains(r#""site":"demo","cookie":"yinyom_demo","revision":1,"validity_days":365"#),
        "the site's own cookie name: {js}"
    );
    assert!(js.contains(
        r#"{"id":"analytics","required":false,"gcm":["analytics_storage"],"cookies":["_yy_stats"]}"#
    ));
    assert!(js.contains(r#""widget_js":"/assets/0123456789abcdef/yinyom_widget.js""#));
    assert!(
        !js.contains("เราใช้คุกกี้"),
        "the banner's texts stay out of what a returning visitor downloads"
    );
}

/// The banner's texts, fetched with the banner script only for a visitor who must be asked.
#[tokio::test]
async fn serves_the_banner_texts() {
    let app = app().await;
    let res = app.get("/v1/sites/demo/notice?view=banner").await;
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers()[header::ETAG]
        .to_str()
        .expect("etag")
        .to_owned();
    assert!(etag.ends_with("-b\""), "{etag}");
    let v = body_json(res).await;
    assert_eq!(v["version"], "v1");
    assert_eq!(v["revision"], 1);
    assert_eq!(v["title"]["th"], "เราใช้คุกกี้");
    assert_eq!(v["purposes"], serde_json::json!(["newsletter"]));
    assert!(
        v.get("body").is_none() && v.get("categories").is_none(),
        "{v}"
    );
    let res = app.get("/v1/sites/demo/notice?view=everything").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

/// An unknown address is a JSON 404 that no cache keeps.
#[tokio::test]
async fn unknown_paths_are_a_plain_json_404() {
    let app = app().await;
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.headers().get(header::CACHE_CONTROL).is_none());
    assert_eq!(body_json(res).await["error"]["code"], "not_found");
}

/// The loader is served brotli- or gzip-compressed at the best level, per Accept-Encoding.
#[tokio::test]
async fn serves_the_loader_precompressed() {
    let app = app().await;
    let get = |enc: &'static str| {
        Request::get("/v1/sites/demo/yinyom.js")
            .header(header::ACCEPT_ENCODING, enc)
            .body(Body::empty())
            .expect("request")
    };
    let plain = body_text(app.send(get("identity")).await).await;
    for (enc, name) in [("gzip, deflate, br", "br"), ("gzip", "gzip")] {
        let res = app.send(get(enc)).await;
        assert_eq!(res.headers()[header::CONTENT_ENCODING], name);
        let bytes = http_body_util::BodyExt::collect(res.into_body())
            .await
            .expect("body")
            .to_bytes();
        assert!(
            bytes.len() * 2 < plain.len(),
            "{name}: {} of {}",
            bytes.len(),
            plain.len()
        );
    }
}

/// Liveness and readiness answer.
#[tokio::test]
async fn health_endpoints_answer() {
    let app = app().await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
}

/// The notice page (the receipts' policyUrl) shows the notice, its purposes with legal
/// bases and the version history, with the site's Markdown sanitized.
#[tokio::test]
async fn renders_the_notice_page_sanitized() {
    let app = app().await;
    let res = app.get("/sites/demo/notice").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("csp")
            .contains("default-src 'none'")
    );
    let html = body_text(res).await;
    assert!(html.contains("<html lang=\"th\">"));
    assert!(html.contains("<h1>ประกาศความเป็นส่วนตัว</h1>"));
    assert!(
        html.contains("ภารกิจเพื่อประโยชน์สาธารณะ"),
        "legal basis of `service`"
    );
    assert!(
        html.contains("ความยินยอม (มาตรา 19)"),
        "legal basis of `newsletter`"
    );
    assert!(html.contains("<code>_yy_stats</code>"));
    assert!(html.contains("href=\"mailto:dpo@demo.go.th\""));
    assert!(
        !html.contains("<script"),
        "raw HTML from the site file must not survive"
    );
    assert!(
        !html.contains("javascript:"),
        "unsafe links must not survive"
    );
    assert!(
        html.contains("/sites/demo/notice/v1?lang=th"),
        "version history links"
    );

    let en = body_text(app.get("/sites/demo/notice/v1?lang=en").await).await;
    assert!(en.contains("<html lang=\"en\">") && en.contains("Public task"));
    let missing = app.get("/sites/demo/notice/v9").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// The public history lists every version; any version can be fetched by label.
#[tokio::test]
async fn serves_the_public_notice_history() {
    let app = app().await;
    let list = body_json(app.get("/v1/sites/demo/notice/versions").await).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["version"], "v1");
    assert_eq!(list[0]["effective_from"], "2025-01-01");
    let v1 = body_json(app.get("/v1/sites/demo/notice/versions/v1").await).await;
    assert_eq!(v1["sha256"], list[0]["sha256"]);
}

/// A visitor reads back their own receipts (newest first) with the id kept in their browser.
#[tokio::test]
async fn a_visitor_reads_their_own_history() {
    let app = app().await;
    let me = "subject-me-0123456789";
    for (a, n) in [(false, false), (true, false)] {
        let res = app
            .post_json("/v1/sites/demo/receipts", &choice(&uuid(), me, a, n))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    app.post_json(
        "/v1/sites/demo/receipts",
        &choice(&uuid(), "subject-someone-else-1", true, true),
    )
    .await;
    let list = body_json(
        app.get(&format!("/v1/sites/demo/subjects/{me}/receipts"))
            .await,
    )
    .await;
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["receipt"]["event"], "updated");
    assert_eq!(list[1]["receipt"]["event"], "refused");
    assert!(
        list.iter()
            .all(|r| r["receipt"]["subject_id"] == app.pseudonym(me).as_str()
                && r["jws"].is_string())
    );
    let bad = app.get("/v1/sites/demo/subjects/x/receipts").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

/// Minors mode is enforced: the age band is required to give consent when asked, refused
/// when not, and under 20 a guardian must give the consent; refusing needs neither.
#[tokio::test]
async fn minors_rules_follow_the_notice() {
    let app = app().await;
    let mut with_age = choice(&uuid(), "subject-0123456789", true, true);
    with_age["age_band"] = serde_json::json!("10_19");
    with_age["consent_by"] = serde_json::json!("guardian");
    let res = app.post_json("/v1/sites/demo/receipts", &with_age).await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "demo does not ask an age"
    );
    assert_eq!(body_json(res).await["error"]["code"], "invalid_minors");

    // Publish a version that asks the age.
    let dir = tempfile::tempdir().expect("tmp");
    for f in ["site.toml", "notice.th.md", "notice.en.md"] {
        std::fs::copy(fixture().join(f), dir.path().join(f)).expect("copy");
    }
    let toml = std::fs::read_to_string(dir.path().join("site.toml")).expect("read");
    let toml = toml
        .replace("version = \"v1\"", "version = \"v2\"")
        .replace(
            "consent_validity_days = 365",
            "consent_validity_days = 365\nminors = \"ask_age\"",
        );
    std::fs::write(dir.path().join("site.toml"), toml).expect("write");
    yinyom_server::sites::import(&app.state.store, dir.path())
        .await
        .expect("v2");

    let v2 = |band: &str, by: &str| {
        let mut c = choice(&uuid(), "subject-0123456789", true, true);
        c["notice_version"] = serde_json::json!("v2");
        c["age_band"] = serde_json::json!(band);
        c["consent_by"] = serde_json::json!(by);
        c
    };
    let res = app
        .post_json("/v1/sites/demo/receipts", &v2("10_19", "subject"))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_json("/v1/sites/demo/receipts", &v2("10_19", "guardian"))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let r = body_json(res).await;
    assert_eq!(r["receipt"]["age_band"], "10_19");
    assert_eq!(r["receipt"]["consent_by"], "guardian");
    let res = app
        .post_json("/v1/sites/demo/receipts", &v2("20_plus", "subject"))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mut none = v2("20_plus", "subject");
    none.as_object_mut().expect("obj").remove("age_band");
    let res = app.post_json("/v1/sites/demo/receipts", &none).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Refusing never needs an age or a guardian (PDPA s.20 governs giving consent): a
    // refusal with no age, and one from a 10-19 visitor without a guardian, are kept.
    let mut refusal = choice(&uuid(), "subject-minor-refuses", false, false);
    refusal["notice_version"] = serde_json::json!("v2");
    let res = app.post_json("/v1/sites/demo/receipts", &refusal).await;
    assert_eq!(res.status(), StatusCode::CREATED, "a refusal needs no age");
    let r = body_json(res).await;
    assert_eq!(r["receipt"]["event"], "refused");
    assert!(r["receipt"].get("age_band").is_none());
    let mut young = refusal.clone();
    young["request_id"] = serde_json::json!(uuid());
    young["age_band"] = serde_json::json!("10_19");
    young["consent_by"] = serde_json::json!("subject");
    let res = app.post_json("/v1/sites/demo/receipts", &young).await;
    assert_eq!(res.status(), StatusCode::CREATED, "nor a guardian");
    // Only an age band without who chose is still malformed.
    let mut half = refusal.clone();
    half["request_id"] = serde_json::json!(uuid());
    half["age_band"] = serde_json::json!("10_19");
    let res = app.post_json("/v1/sites/demo/receipts", &half).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// A body that is not JSON is refused with 415, before anything is parsed or written.
#[tokio::test]
async fn refuses_a_wrong_content_type() {
    let app = app().await;
    let body = choice(&uuid(), "subject-0123456789", true, true).to_string();
    let res = app
        .send(
            Request::post("/v1/sites/demo/receipts")
                .header(header::ORIGIN, ORIGIN)
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from(body))
                .expect("request"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        body_json(res).await["error"]["code"],
        "unsupported_media_type"
    );
    assert_eq!(
        app.state.store.count_receipts("demo").await.expect("count"),
        0
    );
}

/// One client sending too fast gets 429 with Retry-After; other clients are not affected.
#[tokio::test]
async fn limits_one_client_not_the_others() {
    // One token a minute: nothing refills during the test, however slow the machine.
    let app = app_with_limit(1, 5).await;
    let post = |ip: &str| {
        Request::post("/v1/sites/demo/receipts")
            .header(header::ORIGIN, ORIGIN)
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-forwarded-for", ip)
            .body(Body::from("{}"))
            .expect("request")
    };
    for _ in 0..5 {
        assert_eq!(
            app.send(post("192.0.2.7")).await.status(),
            StatusCode::BAD_REQUEST
        );
    }
    let limited = app.send(post("192.0.2.7")).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key(header::RETRY_AFTER));
    assert_eq!(
        body_json(limited).await["error"]["code"],
        "too_many_requests"
    );
    assert_eq!(
        app.send(post("192.0.2.8")).await.status(),
        StatusCode::BAD_REQUEST
    );
}

/// `/metrics` counts requests by route pattern and receipts stored.
#[tokio::test]
async fn metrics_count_requests_and_receipts() {
    let app = app().await;
    app.post_json(
        "/v1/sites/demo/receipts",
        &choice(&uuid(), "subject-metrics-01", true, true),
    )
    .await;
    app.get("/v1/sites/nope/notice").await;
    let text = body_text(app.get("/metrics").await).await;
    assert!(text.contains("yinyom_receipts_stored_total 1"), "{text}");
    assert!(
        text.contains(r#"yinyom_http_requests_total{method="POST",route="/v1/sites/{site}/receipts",status="201"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/v1/sites/{site}/notice",status="404"} 1"#),
        "{text}"
    );
    assert!(text.contains("yinyom_http_request_duration_seconds_bucket"));
}

/// Every path in the OpenAPI document (served at /v1/openapi.json) is a real route.
#[tokio::test]
async fn every_documented_path_is_served() {
    let app = app().await;
    let doc = body_json(app.get("/v1/openapi.json").await).await;
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 15);
    for (path, ops) in paths {
        let concrete = path
            .replace("{site}", "demo")
            .replace("{version}", "v1")
            .replace("{subject_id}", "subject-0123456789")
            .replace("{receipt_id}", &uuid());
        let concrete = if path.ends_with("/consistency") {
            format!("{concrete}?first=0&second=0")
        } else if path.ends_with("/diff") {
            format!("{concrete}?from=v1&to=v1")
        } else {
            concrete
        };
        for method in ops.as_object().expect("ops").keys() {
            let req = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&concrete)
                .header(header::ORIGIN, ORIGIN)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .expect("request");
            let res = app.send(req).await;
            let not_allowed = res.status() == StatusCode::METHOD_NOT_ALLOWED;
            let unauthorized_admin =
                path.starts_with("/v1/admin") && res.status() == StatusCode::UNAUTHORIZED;
            if unauthorized_admin {
                continue; // routed: it asks for a token
            }
            let generic_404 = res.status() == StatusCode::NOT_FOUND && {
                let body = body_json(res).await;
                body["error"]["message"] == "there is nothing at this address"
            };
            assert!(
                !generic_404 && !not_allowed,
                "{method} {path} is documented but not routed"
            );
        }
    }
}

/// The widget's view of the notice leaves out the full text (the page shows it) and comes
/// precompressed; its ETag differs from the full view's.
#[tokio::test]
async fn serves_a_lighter_notice_to_the_widget() {
    let app = app().await;
    let full = app.get("/v1/sites/demo/notice").await;
    let full_etag = full.headers()[header::ETAG]
        .to_str()
        .expect("etag")
        .to_owned();
    let full = body_json(full).await;
    assert!(
        full["notice"]["body"]["th"]
            .as_str()
            .is_some_and(|b| b.contains("ประกาศ"))
    );
    let res = app
        .send(
            Request::get("/v1/sites/demo/notice?view=widget")
                .header(header::ORIGIN, ORIGIN)
                .header(header::ACCEPT_ENCODING, "br")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(res.headers()[header::CONTENT_ENCODING], "br");
    assert_ne!(
        res.headers()[header::ETAG].to_str().expect("etag"),
        full_etag
    );
    let plain = body_json(app.get("/v1/sites/demo/notice?view=widget").await).await;
    assert_eq!(plain["notice"]["body"]["th"], "");
    assert_eq!(plain["notice"]["categories"], full["notice"]["categories"]);
    assert_eq!(
        plain["sha256"], full["sha256"],
        "the hash is still the full notice's"
    );
    let bad = app.get("/v1/sites/demo/notice?view=tiny").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}
