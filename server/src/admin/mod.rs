//! The DPO console (`/admin`, server-rendered HTML with maud, works without JavaScript)
//! and the same operations as JSON under `/v1/admin` (bearer token or console session).
//!
//! Roles (per site): `admin` sees everything; `dpo` reads record-level receipts, exports
//! and notices of their sites; `auditor` sees aggregated statistics only. Anything of a
//! site a principal may not see answers 404, as if it did not exist. Every record-level
//! read and every export is written to the audit log.

mod accounts;
mod api;
pub mod auth;
pub mod diff;
mod ops;
mod pages;
mod publish;
mod scans;
mod ui;

use crate::state::AppState;
use axum::{
    Router,
    extract::{DefaultBodyLimit, Request},
    http::{HeaderMap, HeaderValue, header},
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
};

pub(crate) use pages::{StatsQuery, stats_range as pages_stats_range};
pub(crate) use ui::{error_page, lang_of};

/// The console and the admin API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/login",
            get(pages::login_form)
                .post(pages::login)
                .layer(DefaultBodyLimit::max(pages::LOGIN_BODY_LIMIT)),
        )
        .route("/admin/logout", post(pages::logout))
        .route("/admin", get(pages::home))
        .route("/admin/verify", get(pages::verify_form).post(pages::verify))
        .route("/admin/audit", get(pages::audit))
        .route("/admin/accounts", get(accounts::list))
        .route("/admin/accounts/disable", post(accounts::disable))
        .route("/admin/accounts/enable", post(accounts::enable))
        .route("/admin/tokens/revoke", post(accounts::revoke))
        .route("/admin/sites/{site}/receipts", get(pages::receipts))
        .route(
            "/admin/sites/{site}/receipts/{receipt_id}",
            get(pages::receipt),
        )
        .route("/admin/sites/{site}/export", get(pages::export))
        .route("/admin/sites/{site}/notices", get(pages::notices))
        .route("/admin/sites/{site}/notices/diff", get(pages::notice_diff))
        .route(
            "/admin/sites/{site}/notices/publish",
            get(publish::form)
                .post(publish::upload)
                .layer(DefaultBodyLimit::max(ops::UPLOAD_LIMIT)),
        )
        .route(
            "/admin/sites/{site}/notices/publish/confirm",
            post(publish::confirm),
        )
        .route(
            "/admin/sites/{site}/scan",
            get(scans::page_get)
                .post(scans::page_post)
                .layer(DefaultBodyLimit::max(scans::MAX_REPORT_BYTES + 16 * 1024)),
        )
        .route(
            "/v1/admin/sites/{site}/scan",
            get(scans::api_get)
                .put(scans::api_put)
                .layer(DefaultBodyLimit::max(scans::MAX_REPORT_BYTES)),
        )
        .route("/admin/sites/{site}/stats", get(pages::stats))
        .route("/admin/sites/{site}/stats.csv", get(pages::stats_csv))
        .route("/v1/admin/sites", get(api::sites))
        .route("/v1/admin/sites/{site}/receipts", get(api::receipts))
        .route(
            "/v1/admin/sites/{site}/receipts/{receipt_id}",
            get(api::receipt),
        )
        .route("/v1/admin/sites/{site}/export", get(pages::export))
        .route("/v1/admin/sites/{site}/stats", get(api::stats))
        .route("/v1/admin/sites/{site}/notices/diff", get(api::notice_diff))
        .route(
            "/v1/admin/sites/{site}/notices",
            post(api::publish).layer(DefaultBodyLimit::max(ops::UPLOAD_LIMIT)),
        )
        .route("/v1/admin/verify", post(api::verify))
        .route("/v1/admin/audit", get(api::audit))
        .layer(middleware::from_fn(security_headers))
}

/// Every console page and admin response: a strict Content-Security-Policy (no script,
/// never in a frame), no MIME sniffing, no referrer, never cached (they carry records).
async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    secure(res.headers_mut());
    res
}

/// Sets the console's security headers (also on its error pages outside this router).
pub(crate) fn secure(h: &mut HeaderMap) {
    if let Ok(csp) = HeaderValue::from_str(&ui::CSP) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}
