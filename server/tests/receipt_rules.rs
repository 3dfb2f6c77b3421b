//! What a receipt may claim (issue 11 item 5): the method agrees with the decisions, the
//! page is a path, the widget is a build id, keys appear once, ids compare in lower case,
//! and a superseded notice version is accepted only for a grace period.

mod common;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use common::{ORIGIN, app, body_json, choice, fixture, uuid};
use yinyom_server::{
    receipts::SUPERSEDED_GRACE,
    sites::{publish, read_site_dir},
    store::{now_ms, rfc3339_ms},
};

const RECEIPTS: &str = "/v1/sites/demo/receipts";

async fn error_of(app: &common::TestApp, body: &serde_json::Value) -> (StatusCode, String, String) {
    let res = app.post_json(RECEIPTS, body).await;
    let status = res.status();
    let err = body_json(res).await;
    (
        status,
        err["error"]["code"].as_str().unwrap_or_default().to_owned(),
        err["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// "Reject all" or "Withdraw" with something granted, and "Accept all" with something
/// refused, are 422 `method_mismatch` naming the decision; nothing is stored.
#[tokio::test]
async fn the_method_must_agree_with_the_decisions() {
    let app = app().await;
    let subject = "subject-method-0001";
    for (method, analytics, newsletter, names) in [
        ("reject_all", true, true, "`analytics`, `newsletter`"),
        ("reject_all", false, true, "`newsletter`"),
        ("withdraw", true, false, "`analytics`"),
        ("accept_all", true, false, "`newsletter`"),
        ("accept_all", false, false, "`analytics`, `newsletter`"),
    ] {
        let mut body = choice(&uuid(), subject, analytics, newsletter);
        body["method"] = serde_json::json!(method);
        let (status, code, message) = error_of(&app, &body).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method}: {message}"
        );
        assert_eq!(code, "method_mismatch");
        assert!(
            message.contains(method) && message.contains(names),
            "{method}: {message}"
        );
    }
    assert_eq!(
        app.state.store.count_receipts("demo").await.expect("count"),
        0
    );

    // Consistent choices still pass, "save_preferences" with any mix.
    for (analytics, newsletter) in [(true, true), (false, false), (true, false)] {
        let res = app
            .post_json(RECEIPTS, &choice(&uuid(), subject, analytics, newsletter))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
}

/// `page_path` is a path and `widget` a build id: anything else is 400 naming the field.
#[tokio::test]
async fn page_path_and_widget_are_checked() {
    let app = app().await;
    for path in [
        "/services?token=abc",
        "/services#top",
        "//evil.example/login",
        "/a\u{0007}b",
        "/a\u{202E}b",
        "/a\\b",
        "services",
    ] {
        let mut body = choice(&uuid(), "subject-path-0001", true, true);
        body["page_path"] = serde_json::json!(path);
        let (status, code, message) = error_of(&app, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path:?}");
        assert_eq!(code, "bad_request");
        assert!(message.starts_with("page_path"), "{path:?}: {message}");
    }
    for widget in [
        "test-build",
        "<img src=x>",
        "0123456789ABCDEF",
        "0123456789abcdef0",
    ] {
        let mut body = choice(&uuid(), "subject-path-0001", true, true);
        body["widget"] = serde_json::json!(widget);
        let (status, _, message) = error_of(&app, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{widget}");
        assert!(message.starts_with("widget"), "{widget}: {message}");
    }
    assert_eq!(
        app.state.store.count_receipts("demo").await.expect("count"),
        0
    );
    let mut ok = choice(&uuid(), "subject-path-0001", true, true);
    ok["page_path"] = serde_json::json!("/บริการ/ติดต่อ");
    assert_eq!(
        app.post_json(RECEIPTS, &ok).await.status(),
        StatusCode::CREATED
    );
}

/// A key given twice in the body (a field or a decision) is refused, not "last one wins".
#[tokio::test]
async fn duplicate_keys_are_refused() {
    let app = app().await;
    let body = choice(&uuid(), "subject-dupes-0001", false, false).to_string();
    let twice_decided = body.replacen(
        r#""analytics":false"#,
        r#""analytics":false,"analytics":true"#,
        1,
    );
    let twice_method = body.replacen(r#""lang""#, r#""method":"accept_all","lang""#, 1);
    assert_ne!(twice_decided, body);
    assert_ne!(twice_method, body);
    for raw in [twice_decided, twice_method] {
        let res = app
            .send(
                Request::post(RECEIPTS)
                    .header(header::ORIGIN, ORIGIN)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(raw.clone()))
                    .expect("request"),
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{raw}");
        let message = body_json(res).await["error"]["message"].to_string();
        assert!(message.contains("duplicate"), "{message}");
    }
    assert_eq!(
        app.state.store.count_receipts("demo").await.expect("count"),
        0
    );
}

/// An upper-case copy of a request id is the same request (a replay, not a second
/// receipt); subject ids are stored in lower case and found in any case.
#[tokio::test]
async fn ids_compare_case_insensitively() {
    let app = app().await;
    let id = uuid();
    let first = app
        .post_json(RECEIPTS, &choice(&id, "Subject-Case-0001", true, false))
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = body_json(first).await;
    assert_eq!(first["receipt"]["request_id"], id.as_str());
    // The receipt names the visitor by the pseudonym of their secret, in any case.
    assert_eq!(
        first["receipt"]["subject_id"],
        app.pseudonym("subject-case-0001").as_str()
    );

    let again = app
        .post_json(
            RECEIPTS,
            &choice(&id.to_ascii_uppercase(), "SUBJECT-CASE-0001", true, false),
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK, "a replay");
    let again = body_json(again).await;
    assert_eq!(
        again["receipt"]["receipt_id"],
        first["receipt"]["receipt_id"]
    );
    assert_eq!(
        app.state.store.count_receipts("demo").await.expect("count"),
        1
    );

    let history = body_json(
        app.get("/v1/sites/demo/subjects/SUBJECT-case-0001/receipts")
            .await,
    )
    .await;
    assert_eq!(history.as_array().map(Vec::len), Some(1), "{history}");
}

/// Publishes the fixture again as `version`, stamped as published `ago_ms` ago.
async fn publish_as(app: &common::TestApp, version: &str, ago_ms: i64) {
    let dir = app.dir.path().join(version);
    std::fs::create_dir_all(&dir).expect("dir");
    for f in ["site.toml", "notice.th.md", "notice.en.md"] {
        let text = std::fs::read_to_string(fixture().join(f)).expect("read");
        let text = text.replacen("version = \"v1\"", &format!("version = \"{version}\""), 1);
        std::fs::write(dir.join(f), text).expect("write");
    }
    let (site, mut published, json) = read_site_dir(&dir).expect("valid");
    published.published_at = rfc3339_ms(now_ms() - ago_ms);
    publish(&app.state.store, &(site, published, json))
        .await
        .expect("published");
}

/// A receipt stored under a version that was current then, retried by the widget after the
/// version was replaced and the grace period is over, is still answered with that receipt
/// (200); a new request under that version is refused.
#[tokio::test]
async fn a_retry_of_a_stored_receipt_replays_after_the_grace_period() {
    let app = app().await;
    let stored = choice(&uuid(), "subject-grace-0002", true, true);
    let res = app.post_json(RECEIPTS, &stored).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let first = body_json(res).await;
    publish_as(&app, "v2", SUPERSEDED_GRACE.as_millis() as i64 + 60_000).await;
    // The catalog keeps "still current" for 2 s.
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let res = app.post_json(RECEIPTS, &stored).await;
    assert_eq!(res.status(), StatusCode::OK, "a replay");
    assert_eq!(body_json(res).await["receipt"], first["receipt"]);
    let (status, code, _) =
        error_of(&app, &choice(&uuid(), "subject-grace-0002", true, true)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code, "superseded_notice_version");
}

/// A receipt under a replaced notice version is accepted while a cached loader may still
/// show that version (the grace period), then refused with 422
/// `superseded_notice_version`; the current version is always accepted.
#[tokio::test]
async fn superseded_versions_are_accepted_only_within_the_grace_period() {
    let app = app().await;
    let grace = SUPERSEDED_GRACE.as_millis() as i64;
    assert!(grace >= 300_000, "at least the loader's max-age");
    // v2 replaced v1 longer ago than the grace period; v3 replaced v2 a minute ago.
    publish_as(&app, "v2", grace + 60_000).await;
    publish_as(&app, "v3", 60_000).await;

    let post = |version: &str| {
        let mut body = choice(&uuid(), "subject-grace-0001", true, true);
        body["notice_version"] = serde_json::json!(version);
        body
    };
    let (status, code, message) = error_of(&app, &post("v1")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
    assert_eq!(code, "superseded_notice_version");
    assert!(message.contains("`v1`"), "{message}");

    let res = app.post_json(RECEIPTS, &post("v2")).await;
    assert_eq!(res.status(), StatusCode::CREATED, "within the grace period");
    let res = app.post_json(RECEIPTS, &post("v3")).await;
    assert_eq!(res.status(), StatusCode::CREATED, "the current version");
    assert_eq!(
        app.state.store.count_receipts("demo").await.expect("count"),
        2
    );
}
