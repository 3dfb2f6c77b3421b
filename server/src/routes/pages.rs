//! Demo and development only (`yinyom serve --pages DIR`): serves the example host pages
//! from a second origin, as an agency's own web server would.
//!
//! The examples embed `http://127.0.0.1:8080/v1/sites/…/yinyom.js`; when the API runs
//! elsewhere, that address is rewritten in HTML files to the API's public URL.

use axum::{
    Router,
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
        .route("/{*path}", get(file))
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
    let items: String = names
        .iter()
        .map(|n| format!("<li><a href=\"/{n}/\">{n}</a></li>"))
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"th\"><meta charset=\"utf-8\"><title>Yinyom examples</title>\
         <h1>ตัวอย่างเว็บไซต์ / Example sites</h1><ul>{items}</ul></html>"
    ))
    .into_response()
}

async fn file(State(p): State<Arc<Pages>>, Path(path): Path<String>) -> Response {
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
    let Ok(bytes) = tokio::fs::read(&full).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let ext = full.extension().and_then(|e| e.to_str()).unwrap_or("");
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
