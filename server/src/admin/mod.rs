//! The DPO console (`/admin`, server-rendered HTML with maud, works without JavaScript)
//! and the same operations as JSON under `/v1/admin` (bearer token or console session).
//!
//! Both doors call [`ops`]; a handler of a site takes the access extractor it needs
//! ([`access`]), so neither door can skip the check. The HTML pages are in [`console`],
//! one module per page; the JSON in [`api`]; sessions and tokens in [`auth`].
//!
//! Roles (per site): `admin` sees everything; `dpo` reads record-level receipts, exports
//! and notices of their sites; `auditor` sees aggregated statistics only; `agency` (a
//! government agency asking by letter) exports receipts of their sites, capped. Anything of a
//! site a principal may not see answers 404, as if it did not exist. Every record-level
//! read and every export is written to the audit log. Each role maps to an access tier
//! ([`tiers`]): an export of records needs a stated purpose and a reference (memo or
//! letter number), stays within the tier's cap, and is written to the release log.

pub(crate) mod access;
mod api;
pub mod auth;
mod console;
pub mod diff;
mod ops;
mod scans;
mod tiers;
mod ui;

use crate::{error::ApiResult, state::AppState};
use access::ReleaseSite;
use axum::{
    Router,
    extract::{DefaultBodyLimit, Query, Request, State},
    http::{HeaderMap, HeaderValue, header},
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
};
use console::{
    accounts, audit, cases, evidence, export, home, login, notices, paper, publish, receipt,
    receipts, releases, stats, verify, webhooks,
};

pub(crate) use ui::{UiLang, error_page, lang_of, page, t};

/// The console and the admin API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/login",
            get(login::login_form)
                .post(login::login)
                .layer(DefaultBodyLimit::max(login::LOGIN_BODY_LIMIT)),
        )
        .route("/admin/logout", post(login::logout))
        .route("/admin", get(home::home))
        .route(
            "/admin/verify",
            get(verify::verify_form).post(verify::verify),
        )
        .route("/admin/audit", get(audit::audit))
        .route("/admin/releases", get(releases::releases))
        .route("/admin/accounts", get(accounts::list))
        .route("/admin/accounts/disable", post(accounts::disable))
        .route("/admin/accounts/enable", post(accounts::enable))
        .route("/admin/accounts/role", post(accounts::role))
        .route("/admin/tokens/revoke", post(accounts::revoke))
        .route("/admin/sites/{site}/receipts", get(receipts::show))
        .route(
            "/admin/sites/{site}/receipts/paper",
            get(paper::form).post(paper::enter),
        )
        .route(
            "/admin/sites/{site}/receipts/{receipt_id}",
            get(receipt::show),
        )
        .route(
            "/admin/sites/{site}/receipts/{receipt_id}/evidence",
            get(evidence::show),
        )
        .route("/admin/sites/{site}/export", get(export::export))
        .route("/admin/sites/{site}/requests", get(cases::list))
        .route(
            "/admin/sites/{site}/requests/{reference}",
            get(cases::show).post(cases::act),
        )
        .route(
            "/admin/sites/{site}/requests/{reference}/export.json",
            get(cases::export_json),
        )
        .route(
            "/admin/sites/{site}/requests/{reference}/summary",
            get(cases::summary),
        )
        .route(
            "/admin/sites/{site}/requests/{reference}/letter",
            get(cases::letter),
        )
        .route("/admin/sites/{site}/notices", get(notices::history))
        .route("/admin/sites/{site}/notices/diff", get(notices::diff_page))
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
        .route(
            "/admin/sites/{site}/webhooks",
            get(webhooks::show).post(webhooks::add),
        )
        .route(
            "/admin/sites/{site}/webhooks/remove",
            post(webhooks::remove),
        )
        .route("/admin/sites/{site}/stats", get(stats::show))
        .route("/admin/sites/{site}/stats.csv", get(stats::csv))
        .route(
            "/admin/sites/{site}/stats/current.csv",
            get(stats::current_csv),
        )
        .route("/v1/admin/sites", get(api::sites))
        .route("/v1/admin/sites/{site}/receipts", get(api::receipts))
        .route("/v1/admin/sites/{site}/receipts/paper", post(api::paper))
        .route(
            "/v1/admin/sites/{site}/receipts/{receipt_id}",
            get(api::receipt),
        )
        .route("/v1/admin/sites/{site}/export", get(api_export))
        .route("/v1/admin/sites/{site}/stats", get(api::stats))
        .route("/v1/admin/sites/{site}/requests", get(api::requests))
        .route(
            "/v1/admin/sites/{site}/requests/{reference}",
            get(api::request),
        )
        .route("/v1/admin/sites/{site}/notices/diff", get(api::notice_diff))
        .route(
            "/v1/admin/sites/{site}/notices",
            post(api::publish).layer(DefaultBodyLimit::max(ops::UPLOAD_LIMIT)),
        )
        .route("/v1/admin/verify", post(api::verify))
        .route("/v1/admin/audit", get(api::audit))
        .route("/v1/admin/releases", get(api::releases))
        .layer(middleware::from_fn(security_headers))
}

/// `GET /v1/admin/sites/{site}/export?format=&purpose=&reference=&…`: a streamed file
/// (the console's `/admin/sites/{site}/export` sends the same file, or a form asking for
/// the purpose and reference); a CSV is labelled in the console's language (`?lang=`, else
/// the language cookie, else Thai).
async fn api_export(
    State(state): State<AppState>,
    access: ReleaseSite,
    ui::UiLang(lang): ui::UiLang,
    Query(q): Query<ops::SearchQuery>,
) -> ApiResult<Response> {
    ops::export(&state, &access, &q, lang).await
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
