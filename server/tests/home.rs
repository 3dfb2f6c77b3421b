//! `GET /`: the server's root answers with a small Thai-first page of links, under a
//! strict Content-Security-Policy (no script; the style block allowed by its hash).

mod common;

use axum::http::{StatusCode, header};
use base64::Engine as _;
use common::{app, body_text};
use sha2::{Digest, Sha256};

#[tokio::test]
async fn the_root_links_the_console_docs_and_keys() {
    let app = app().await;
    let res = app.get("/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let headers = res.headers().clone();
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .expect("type")
            .starts_with("text/html")
    );
    let csp = headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("csp")
        .to_owned();
    let html = body_text(res).await;

    assert!(
        html.starts_with("<!DOCTYPE html><html lang=\"th\">"),
        "{html}"
    );
    let thai = html.find("คอนโซล").expect("Thai text");
    let english = html.find("DPO console").expect("English text");
    assert!(thai < english, "Thai first");
    for href in ["/admin", "/v1/openapi.json", "/.well-known/jwks.json"] {
        assert!(html.contains(&format!("href=\"{href}\"")), "{href}: {html}");
        let status = app.get(href).await.status();
        assert!(
            status.is_success() || status.is_redirection(),
            "{href} answers {status}"
        );
    }
    assert!(
        !html.contains("ตัวอย่างเว็บไซต์"),
        "no example pages outside demo mode"
    );

    // Strict: nothing allowed by default, no inline script, the style by its hash only.
    assert!(!html.contains("<script"), "{html}");
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("script-src"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let style = html
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map(|(s, _)| s)
        .expect("a style block");
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style));
    assert!(csp.contains(&format!("style-src 'sha256-{hash}'")), "{csp}");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
}

/// In demo mode (`--pages`) the page links the example sites too.
#[tokio::test]
async fn in_demo_mode_the_root_links_the_example_pages() {
    let mut app = app().await;
    let mut settings = app.state.settings.as_ref().clone();
    settings.extra_origins = vec!["http://127.0.0.1:8081".into()];
    let state = yinyom_server::app_state(
        app.state.store.clone(),
        settings,
        &common::keys(app.dir.path()),
    )
    .await
    .expect("state");
    app.router = yinyom_server::routes::router(state);
    let html = body_text(app.get("/").await).await;
    assert!(html.contains("href=\"http://127.0.0.1:8081/\""), "{html}");
    assert!(html.contains("ตัวอย่างเว็บไซต์"), "{html}");
}
