//! Console exports through the compression layer, as browsers ask for them (Chromium's
//! `Accept-Encoding: gzip, deflate, br, zstd`, Safari's without zstd, plain gzip): the
//! streamed body ends cleanly and decompresses to the whole export.

mod common;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use common::*;
use std::io::Read;
use yinyom_server::{admin::auth, store::Role};

#[tokio::test]
async fn a_compressed_export_is_complete() {
    let app = app().await;
    let store = &app.state.store;
    let hash = auth::hash_password("a long enough password").expect("hash");
    let id = store
        .create_user("dpo@demo.go.th", &hash, Role::Dpo, &["demo".to_owned()])
        .await
        .expect("user");
    let token = format!("yy_test_{}", uuid());
    store
        .create_token(&auth::hash_secret(&token), "test", id)
        .await
        .expect("token");
    for i in 0..30 {
        app.post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), &format!("subject-gzip-{i:06}"), i % 2 == 0, true),
        )
        .await;
    }
    // As browsers ask: Chromium and Firefox accept zstd (fast enough that a download
    // keeps up with the export), Safari brotli, older clients gzip.
    for (accept, encoding) in [
        ("gzip, deflate, br, zstd", "zstd"),
        ("gzip, deflate, br", "br"),
        ("gzip", "gzip"),
    ] {
        for format in ["csv", "jsonl"] {
            let res = app
                .send(
                    Request::get(format!(
                        "/admin/sites/demo/export?format={format}&purpose=test&reference=TEST-0001"
                    ))
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(header::ACCEPT_ENCODING, accept)
                    .body(Body::empty())
                    .expect("request"),
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(res.headers()[header::CONTENT_ENCODING], encoding);
            let bytes = http_body_util::BodyExt::collect(res.into_body())
                .await
                .expect("the whole body")
                .to_bytes();
            let mut text = String::new();
            match encoding {
                "zstd" => zstd::stream::read::Decoder::new(&bytes[..])
                    .expect("zstd")
                    .read_to_string(&mut text),
                "br" => brotli::Decompressor::new(&bytes[..], 4096).read_to_string(&mut text),
                _ => flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut text),
            }
            .expect(encoding);
            let rows = if format == "csv" { 31 } else { 30 };
            assert_eq!(text.lines().count(), rows, "{encoding} {format}:\n{text}");
        }
    }
}
