//! The per-site banner script (`GET /v1/sites/{site}/banner/{build}/{version}.js`): the
//! banner's code with the site's banner texts in it, so a first visit's second round is
//! one request, cached for good, and never an old notice.

mod common;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use common::*;

/// What `cargo xtask dist` would write as the banner script (its code is not run here):
/// the server puts the texts in place of `__YINYOM_TEXTS__`.
const CODE: &str = "!function(t){document.currentScript.t=t}(__YINYOM_TEXTS__);";

fn write_banner_module(app: &TestApp) {
    let dir = app.dir.path().join("dist/assets").join(BUILD);
    std::fs::create_dir_all(&dir).expect("assets dir");
    std::fs::write(dir.join("yinyom_banner.js"), CODE).expect("banner script");
}

/// The banner script's URL, as the loader names it.
async fn banner_url(app: &TestApp) -> String {
    let js = body_text(app.get("/v1/sites/demo/yinyom.js").await).await;
    let key = r#""banner_js":""#;
    let start = js.find(key).expect("banner_js in the loader") + key.len();
    let len = js[start..].find('"').expect("end of banner_js");
    js[start..start + len].to_owned()
}

/// The loader names the site's banner script; it is the built banner with the texts of
/// the current notice version in its slot (the same texts as `notice?view=banner`),
/// cached for good, brotli-compressed, and revalidated by ETag.
#[tokio::test]
async fn the_banner_module_carries_the_sites_texts() {
    let app = app().await;
    write_banner_module(&app);
    let url = banner_url(&app).await;
    assert_eq!(url, format!("/v1/sites/demo/banner/{BUILD}/v1.js"));

    let res = app.get(&url).await;
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .expect("type")
            .starts_with("text/javascript")
    );
    assert_eq!(
        h[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
    let js = body_text(res).await;
    let texts = js
        .strip_prefix("!function(t){document.currentScript.t=t}(")
        .and_then(|rest| rest.strip_suffix(");"))
        .expect("the texts are in the slot");
    let texts: serde_json::Value = serde_json::from_str(texts).expect("texts are JSON");
    let view = body_json(app.get("/v1/sites/demo/notice?view=banner").await).await;
    assert_eq!(texts, view);
    assert_eq!(texts["title"]["th"], "เราใช้คุกกี้");

    let etag = h[header::ETAG].to_str().expect("etag").to_owned();
    let res = app
        .send(
            Request::get(&url)
                .header(header::ORIGIN, ORIGIN)
                .header(header::ACCEPT_ENCODING, "gzip, deflate, br")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(res.headers()[header::CONTENT_ENCODING], "br");
    let res = app
        .send(
            Request::get(&url)
                .header(header::ORIGIN, ORIGIN)
                .header(header::IF_NONE_MATCH, &etag)
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // Fetched with CORS by a page of another origin, it is refused like the texts are. (A
    // script element sends no Origin: the banner, as the loader, is public.)
    let res = app
        .send(
            Request::get(&url)
                .header(header::ORIGIN, "https://elsewhere.example")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

/// A loader cached before a new notice version (or a new widget build) names an old
/// banner URL: it is sent to the current one, so a raised revision is never shown an old
/// notice, and the old URL's answer is not cached.
#[tokio::test]
async fn an_old_version_or_build_goes_to_the_current_banner() {
    let app = app().await;
    write_banner_module(&app);
    let v1 = banner_url(&app).await;

    let dir = tempfile::tempdir().expect("tmp");
    for f in ["site.toml", "notice.th.md", "notice.en.md"] {
        std::fs::copy(fixture().join(f), dir.path().join(f)).expect("copy");
    }
    let toml = std::fs::read_to_string(dir.path().join("site.toml")).expect("read");
    let toml = toml
        .replace("version = \"v1\"", "version = \"v2\"")
        .replace("เราใช้คุกกี้", "เราใช้คุกกี้ (ฉบับใหม่)");
    std::fs::write(dir.path().join("site.toml"), toml).expect("write");
    yinyom_server::sites::import(&app.state.store, dir.path())
        .await
        .expect("v2");
    let v2 = format!("/v1/sites/demo/banner/{BUILD}/v2.js");

    for old in [
        v1,
        "/v1/sites/demo/banner/fedcba9876543210/v2.js".to_owned(),
    ] {
        let res = app.get(&old).await;
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT, "{old}");
        assert_eq!(res.headers()[header::LOCATION], v2.as_str());
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache");
    }
    let js = body_text(app.get(&v2).await).await;
    assert!(js.contains(r#""version":"v2""#), "{js}");
    assert!(js.contains("เราใช้คุกกี้ (ฉบับใหม่)"), "{js}");
}

/// Without the built banner script, or with one built before its texts had a slot (an
/// ES module of an older build), the server says what to do instead of serving a banner
/// without code or without texts.
#[tokio::test]
async fn a_missing_or_outdated_banner_is_unavailable() {
    let app = app().await;
    let url = banner_url(&app).await;
    let res = app.get(&url).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body_json(res).await["error"]["code"], "unavailable");

    let dir = app.dir.path().join("dist/assets").join(BUILD);
    std::fs::create_dir_all(&dir).expect("assets dir");
    std::fs::write(
        dir.join("yinyom_banner.js"),
        "function b(h){return h}export{b as banner};",
    )
    .expect("old banner");
    let res = app.get(&url).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = body_json(res).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("cargo xtask dist")),
        "{body}"
    );
}
