//! The HTTP routes, one module per resource. Handlers stay thin: they extract, call the
//! store or a domain function, and map the result.

mod assets;
mod consent;
mod cors;
pub mod demo;
mod health;
mod home;
mod keys;
pub(crate) mod loader;
mod log;
mod notice;
mod packed;
mod receipts;
mod requests;
mod stats;
pub(crate) mod verify;
mod verify_page;

use crate::{
    error::{ApiError, ApiResult},
    state::AppState,
};
use axum::{
    Router,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use tower_http::{
    compression::{
        CompressionLayer, CompressionLevel,
        predicate::{DefaultPredicate, Predicate as _, SizeAbove},
    },
    trace::TraceLayer,
};
use yinyom_model::api::{ErrorBody, ErrorDetail};

/// Answers smaller than this many bytes go uncompressed (see [`router`]). A receipt's
/// answer (about 1.9 KB, sent in the background) cost the server 25 % more CPU per receipt
/// with brotli and 10 % with zstd, to save under a kilobyte.
const COMPRESS_ABOVE: u16 = 4096;

/// The level answers made per request are compressed at: 1 for zstd, brotli and gzip
/// alike. A CSV export of 80,000 receipts (119 MB plain, sent in 0.34 s) took 0.36 s with
/// zstd 1 against 0.59 s with zstd 3 (the library's default), and came out 6 % smaller;
/// 0.52 s with brotli 1 against 1.8 s with brotli 4 (tower-http's default), 2 % bigger;
/// 0.49 s with gzip 1 against 1.5 s with gzip 6, 21 % bigger.
const COMPRESS_LEVEL: CompressionLevel = CompressionLevel::Precise(1);

/// The whole HTTP API.
pub fn router(state: AppState) -> Router {
    let sites = Router::new()
        .route("/v1/sites/{site}/yinyom.js", get(loader::get))
        .route(
            "/v1/sites/{site}/banner/{build}/{version}",
            get(loader::banner),
        )
        .route(
            "/v1/sites/{site}/notice",
            get(notice::current).options(cors::preflight),
        )
        .route(
            "/v1/sites/{site}/notice/versions",
            get(notice::versions).options(cors::preflight),
        )
        .route(
            "/v1/sites/{site}/notice/versions/{version}",
            get(notice::version).options(cors::preflight),
        )
        .route("/sites/{site}/notice", get(notice::page))
        .route("/sites/{site}/notice/{version}", get(notice::page))
        .route(
            "/v1/sites/{site}/receipts",
            post(receipts::create).options(cors::preflight),
        )
        .route(
            "/v1/sites/{site}/subjects/{subject_id}/receipts",
            get(receipts::history).options(cors::preflight),
        )
        .route(
            "/v1/sites/{site}/subjects/{subject_id}/requests",
            post(requests::create)
                .get(requests::list)
                .options(cors::preflight),
        )
        .route(
            "/v1/sites/{site}/stats",
            get(stats::open_stats).options(cors::preflight),
        )
        .merge(log::router())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            cors::check_site_origin,
        ));
    Router::new()
        .route("/", get(home::page))
        .merge(sites)
        .merge(health::router())
        .merge(keys::router())
        .merge(verify::router())
        // For agencies' back-office systems (no browser, no CORS): a service token.
        .route(
            "/v1/sites/{site}/subjects/{subject_id}/consent",
            get(consent::get),
        )
        .route("/v1/sites/{site}/consent/lookup", post(consent::lookup))
        .merge(verify_page::router())
        .merge(crate::admin::router())
        // What is made per request (console pages, exports, proofs) is compressed as the
        // browser accepts: zstd (Chromium, Firefox), else brotli or gzip, each at its
        // level 1 (COMPRESS_LEVEL). An answer of less than COMPRESS_ABOVE bytes goes as
        // it is. The loader and the notice come compressed at the best levels once
        // (`packed`).
        .layer(
            CompressionLayer::new()
                .quality(COMPRESS_LEVEL)
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(COMPRESS_ABOVE))),
        )
        .merge(assets::router(&state))
        .fallback(|| async { ApiError::NotFound("there is nothing at this address".into()) })
        .layer(middleware::from_fn(uniform_errors))
        // Lets host pages (and the benchmark) read the sizes and timings of our responses.
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                axum::http::header::HeaderName::from_static("timing-allow-origin"),
                axum::http::HeaderValue::from_static("*"),
            ),
        )
        .layer(middleware::from_fn_with_state(state.clone(), health::track))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Every error answers in one shape: on the console's pages (`/admin…`) an HTML page in the
/// visitor's language, everywhere else the JSON error body `{"error":{"code","message"}}`
/// (an HTML page a handler chose to answer with is left as it is).
/// Handlers already answer so; this also covers what the framework answers by itself
/// (a query string, form, JSON or multipart that does not parse, a body over its limit, a
/// method not allowed, a file missing under `/assets`). Errors are never cached.
async fn uniform_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    // The public verify page shares the console's frame, so its errors are pages too.
    let console = path == "/admin" || path.starts_with("/admin/") || path == "/verify";
    let lang = console.then(|| crate::admin::lang_of(req.headers(), req.uri()));
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let kind = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let html = kind.starts_with("text/html");
    let json = kind.starts_with("application/json");
    // A handler's own page (the console's, or the public notice page's) stays a page.
    if html || (!console && json) {
        return res;
    }
    let (parts, body) = res.into_parts();
    // Framework rejections are a short sentence; an error body is never large.
    let text = match axum::body::to_bytes(body, 4096).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().to_owned(),
        Err(_) => String::new(),
    };
    let message = if json {
        serde_json::from_str::<ErrorBody>(&text)
            .map(|b| b.error.message)
            .unwrap_or_default()
    } else {
        text
    };
    let mut out = match lang {
        Some(lang) => crate::admin::error_page(lang, status, Some(&message)),
        None => {
            let message = if message.is_empty() || status.is_server_error() {
                status.canonical_reason().unwrap_or("error").to_owned()
            } else {
                message
            };
            let code = error_code(status);
            let body = ErrorBody {
                error: ErrorDetail {
                    code: code.to_owned(),
                    message,
                },
            };
            (status, axum::Json(body)).into_response()
        }
    };
    // Keep what the handler and the layers inside set (Retry-After, Allow, security
    // headers, cookies), but not the old body's description.
    let mut headers = parts.headers;
    for name in [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::CONTENT_ENCODING,
        header::ETAG,
        header::LAST_MODIFIED,
    ] {
        headers.remove(name);
    }
    for (name, value) in out.headers() {
        headers.insert(name.clone(), value.clone());
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if console {
        crate::admin::secure(&mut headers);
    }
    *out.headers_mut() = headers;
    out
}

/// The error code of a status the framework answered with.
fn error_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_input",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        s if s.is_server_error() => "internal",
        _ => "error",
    }
}

/// A JSON request body: 415 unless its content type is `application/json` (parameters
/// such as `charset` allowed), 413 past `max` bytes. One rule for every visitor's POST.
pub(crate) async fn json_body(
    headers: &axum::http::HeaderMap,
    body: axum::body::Body,
    max: usize,
) -> ApiResult<axum::body::Bytes> {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::UnsupportedMediaType(if content_type.is_empty() {
            "none".to_owned()
        } else {
            content_type.to_owned()
        }));
    }
    axum::body::to_bytes(body, max)
        .await
        .map_err(|_| ApiError::TooLarge(max))
}
