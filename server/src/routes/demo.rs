//! Demo and development only (`yinyom serve --pages DIR`): serves the example host pages
//! (an agency's own pages, which embed the loader) from a second origin, as the agency's
//! web server would. Not the console's pages: those are [`crate::admin`]'s.
//!
//! A form posted to any path is answered by [`received`], standing in for the agency's
//! backend: it lists the fields it got, so a newcomer (and the end-to-end tests) see the
//! consent fields the loader added (`yinyom_receipt`, `yinyom_jws`, or `yinyom_request`).
//!
//! The examples embed `http://127.0.0.1:8080/v1/sites/…/yinyom.js`; when the API runs
//! elsewhere, that address is rewritten in HTML files to the API's public URL.

use axum::{
    Form, Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use std::{path::PathBuf, sync::Arc};

/// The address the examples' script tags use.
pub const EXAMPLE_API_ORIGIN: &str = "http://127.0.0.1:8080";

#[derive(Debug, Clone)]
struct Pages {
    dir: PathBuf,
    api_url: String,
}

/// The host-page server for `dir`; the examples' script tags are pointed at `api_url`.
pub fn router(dir: PathBuf, api_url: String) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/{*path}", get(file).post(received))
        .with_state(Arc::new(Pages { dir, api_url }))
}

async fn index(State(p): State<Arc<Pages>>) -> Response {
    let mut names: Vec<String> = std::fs::read_dir(&p.dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().join("index.html").is_file())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let api = &p.api_url;
    let rows: String = names
        .iter()
        .map(|n| {
            format!(
                "<tr><th scope=\"row\"><a href=\"/{n}/\">{n}</a></th>\
                 <td><a href=\"{api}/sites/{n}/notice\">ประกาศ / Notice</a></td>\
                 <td><a href=\"{api}/admin/sites/{n}/receipts\">คอนโซล / Console</a></td>\
                 <td><a href=\"{api}/v1/sites/{n}/stats\">สถิติเปิด / Open data</a></td></tr>"
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"th\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Yinyom: ตัวอย่างเว็บไซต์ / Example sites</title>\
         <style>body{{font:17px/1.6 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}\
         table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #c8ccd2;padding:.4rem .6rem;text-align:left}}\
         a{{color:#0b4f9c}}</style></head><body><main>\
         <h1>ยินยอม Yinyom — ตัวอย่างเว็บไซต์ / Example sites</h1>\
         <p>หน้าเว็บของหน่วยงานตัวอย่างที่ฝังวิดเจ็ตความยินยอม / Example agency pages that embed the consent widget. \
         The console needs a sign-in (the demo prints the account).</p>\
         <table><thead><tr><th scope=\"col\">เว็บไซต์ / Site</th><th scope=\"col\">ประกาศ / Notice</th>\
         <th scope=\"col\">คอนโซล DPO / DPO console</th><th scope=\"col\">สถิติ / Statistics</th></tr></thead>\
         <tbody>{rows}</tbody></table></main></body></html>"
    ))
    .into_response()
}

/// A form posted to the example pages: what the agency's backend would get. It lists
/// every field (escaped), one `<tr>` each with the field's name in `data-name`. A backend
/// that gets `yinyom_request` forwards it to `POST /v1/sites/{site}/receipts`
/// (docs/EMBEDDING.md); this page only shows it.
async fn received(Form(fields): Form<Vec<(String, String)>>) -> Response {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let rows: String = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<tr data-name=\"{}\"><th scope=\"row\">{}</th><td><code>{}</code></td></tr>",
                esc(k),
                esc(k),
                esc(v)
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"th\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>ได้รับแบบฟอร์มแล้ว / Form received</title>\
         <style>body{{font:17px/1.6 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}\
         table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #c8ccd2;padding:.4rem .6rem;text-align:left;vertical-align:top}}\
         code{{word-break:break-all}}</style></head><body><main>\
         <h1>ได้รับแบบฟอร์มแล้ว / Form received</h1>\
         <p>หน้านี้แสดงข้อมูลที่ระบบของหน่วยงานได้รับจากแบบฟอร์ม รวมทั้งช่องความยินยอมที่ยินยอมเพิ่มให้ \
         (<code>yinyom_receipt</code> และ <code>yinyom_jws</code> หรือ <code>yinyom_request</code> เมื่อติดต่อเซิร์ฟเวอร์ความยินยอมไม่ได้) / \
         What the agency's backend got from the form, with the consent fields Yinyom added.</p>\
         <table><tbody>{rows}</tbody></table></main></body></html>"
    ))
    .into_response()
}

async fn file(
    State(p): State<Arc<Pages>>,
    Path(path): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let rel = PathBuf::from(&path);
    if rel
        .components()
        .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut full = p.dir.join(rel);
    if full.is_dir() {
        full = full.join("index.html");
    }
    let ext = full
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_owned();
    // A build artifact shipped with a `.br` sibling (e.g. a third-party library the
    // benchmark compares against) is served like a CDN would: brotli, cached for a year.
    let br = full.with_extension(format!("{ext}.br"));
    let accepts_br = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|e| e.trim().split(';').next() == Some("br"))
        });
    if ext != "html"
        && accepts_br
        && let Ok(bytes) = tokio::fs::read(&br).await
    {
        let mime = if ext == "css" {
            "text/css; charset=utf-8"
        } else {
            "text/javascript; charset=utf-8"
        };
        return (
            [
                (header::CONTENT_TYPE, mime),
                (header::CONTENT_ENCODING, "br"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            bytes,
        )
            .into_response();
    }
    let Ok(bytes) = tokio::fs::read(&full).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let ext = ext.as_str();
    let mime = match ext {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "md" | "toml" | "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    let body = if ext == "html" {
        String::from_utf8_lossy(&bytes)
            .replace(EXAMPLE_API_ORIGIN, &p.api_url)
            .into_bytes()
    } else {
        bytes
    };
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
