//! The public notice page (`/sites/{site}/notice[/{version}]`, the receipts' `policyUrl`)
//! as a citizen reads it: Thai dates in the Buddhist era and Thailand time, the technical
//! details folded away, and an old version that says it was replaced.

mod common;

use axum::http::{StatusCode, header};
use common::{TestApp, body_text};
use std::path::Path;
use tower::ServiceExt as _;
use yinyom_server::{app_state, routes::router, sites, state::Settings};

/// The osmep-sme-monitoring example with its two versions (2025-01, then 2025-07).
async fn two_versions() -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = common::store(dir.path()).await;
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/osmep-sme-monitoring");
    sites::import(&store, &example).await.expect("import v1");
    sites::import(&store, &example.join("v2"))
        .await
        .expect("import v2");
    let settings = Settings {
        public_url: "http://yinyom.test".into(),
        widget: None,
        dist: dir.path().join("dist"),
        extra_origins: vec![],
        rate_limit_per_minute: 600,
        rate_limit_burst: 100,
        trusted_proxies: 1,
        witnesses: Default::default(),
    };
    let state = app_state(store, settings, &common::keys(dir.path()))
        .await
        .expect("state");
    TestApp {
        router: router(state.clone()),
        state,
        dir,
    }
}

async fn page(app: &TestApp, uri: &str) -> (String, String) {
    let res = app
        .router
        .clone()
        .oneshot(
            axum::http::Request::get(uri)
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(res.status(), StatusCode::OK, "{uri}");
    let cache = res.headers()[header::CACHE_CONTROL]
        .to_str()
        .expect("cache-control")
        .to_owned();
    (body_text(res).await, cache)
}

#[tokio::test]
async fn dates_read_in_thai_and_english_and_the_hash_is_a_technical_detail() {
    let app = two_versions().await;
    let (th, _) = page(&app, "/sites/osmep-sme-monitoring/notice").await;
    assert!(
        th.contains("<dd>1 กรกฎาคม 2568</dd>"),
        "effective date: {th}"
    );
    assert!(th.contains("<dd>กรกฎาคม 2568</dd>"), "version label");
    assert!(th.contains(" น.</dd>"), "published, Thailand time");
    assert!(!th.contains(">2025-07-01<"), "no ISO date for citizens");
    let details = th
        .split("<details class=\"technical\">")
        .nth(1)
        .and_then(|d| d.split("</details>").next())
        .expect("technical details");
    assert!(details.contains("<summary>รายละเอียดทางเทคนิค</summary>"));
    assert!(
        details.contains("data-sha256"),
        "the hash is inside: {details}"
    );
    assert!(
        details.contains("<code>2025-07</code>"),
        "the version id too"
    );
    assert_eq!(th.matches("data-sha256").count(), 1, "and nowhere else");
    assert!(!th.contains("(DPO)"), "Thai words for the DPO");
    assert!(
        !th.contains("data-superseded"),
        "the current version is not replaced"
    );

    let (en, _) = page(&app, "/sites/osmep-sme-monitoring/notice?lang=en").await;
    assert!(en.contains("<dd>1 July 2025</dd>"), "{en}");
    assert!(en.contains("(Thailand time)</dd>"));
    assert!(en.contains("<summary>Technical details</summary>"));
    // The cookie "Set by" column is in the page's language.
    assert!(en.contains("<td>OSMEP</td>") && !en.contains("<td>สสว.</td>"));
    assert!(th.contains("<td>สสว.</td>"));
}

#[tokio::test]
async fn an_old_version_says_it_was_replaced_and_links_the_current_one() {
    let app = two_versions().await;
    let (old, cache) = page(&app, "/sites/osmep-sme-monitoring/notice/2025-01").await;
    let top = old.split("<header>").next().expect("before the header");
    assert!(top.contains("data-superseded"), "said at the top: {old}");
    assert!(top.contains("ประกาศฉบับนี้ถูกแทนที่แล้ว"));
    assert!(top.contains("ฉบับกรกฎาคม 2568"), "names the current version");
    assert!(
        top.contains("href=\"/sites/osmep-sme-monitoring/notice?lang=th\""),
        "links the current notice: {top}"
    );
    assert_eq!(
        cache, "public, max-age=86400",
        "a replaced version never changes"
    );

    let (en, _) = page(&app, "/sites/osmep-sme-monitoring/notice/2025-01?lang=en").await;
    assert!(en.contains("This notice has been replaced"));
    assert!(en.contains("href=\"/sites/osmep-sme-monitoring/notice?lang=en\""));

    // The current version by its own URL is not replaced, and may be soon: short cache.
    let (cur, cache) = page(&app, "/sites/osmep-sme-monitoring/notice/2025-07").await;
    assert!(!cur.contains("data-superseded"));
    assert_eq!(cache, "public, max-age=60");
}
