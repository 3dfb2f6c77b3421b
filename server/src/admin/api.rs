//! `/v1/admin/...`: the console's operations as JSON, with a bearer token
//! (`yinyom tokens create`) or the console session (then with an `x-csrf-token` header on
//! POST).

use super::{
    access::{CasesSite, EntrySite, PublisherSite, ReceiptPath, RecordsSite, VisibleSite},
    auth::Principal,
    ops::{self, DiffQuery, Publication, SearchQuery, UploadCheck},
};
use crate::{
    error::{ApiError, ApiResult},
    state::AppState,
    stats::{self, StatsQuery},
};
use axum::{
    Json,
    extract::{Multipart, Path, Query, State},
    http::{HeaderMap, StatusCode},
};
use serde_json::{Value, json};
use yinyom_model::{Lang, receipt::ReceiptResponse};

/// `GET /v1/admin/sites`
pub(crate) async fn sites(State(state): State<AppState>, p: Principal) -> ApiResult<Json<Value>> {
    let ids: Vec<String> = state
        .store
        .site_ids()
        .await?
        .into_iter()
        .filter(|s| p.can_see(s))
        .collect();
    Ok(Json(json!({
        "role": p.role(),
        "sites": ids.iter().map(|id| json!({"id": id, "records": p.records(id)})).collect::<Vec<_>>(),
    })))
}

/// `GET /v1/admin/sites/{site}/receipts`
pub(crate) async fn receipts(
    State(state): State<AppState>,
    access: RecordsSite,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<Value>> {
    let (rows, total, next) = ops::search(&state, &access, &q).await?;
    let receipts: Vec<ReceiptResponse> = rows
        .into_iter()
        .map(|r| ReceiptResponse {
            receipt: r.receipt,
            jws: r.jws,
        })
        .collect();
    Ok(Json(
        json!({"total": total, "receipts": receipts, "next": next}),
    ))
}

/// `GET /v1/admin/sites/{site}/receipts/{receipt_id}`
pub(crate) async fn receipt(
    State(state): State<AppState>,
    access: RecordsSite,
    Path(ReceiptPath { receipt_id }): Path<ReceiptPath>,
) -> ApiResult<Json<ops::Detail>> {
    Ok(Json(ops::detail(&state, &access, &receipt_id).await?))
}

/// A case as JSON: times in RFC 3339 with the Thailand offset; the subject, contact and
/// message only for the site's DPO and admins (an auditor checks deadlines).
fn case_json(row: &crate::store::RequestRow, staff: bool, now: i64) -> Value {
    use crate::{dates::rfc3339_th, requests};
    let mut v = json!({
        "reference": row.reference,
        "kind": row.kind,
        "channel": row.channel,
        "status": row.status,
        "received_at": rfc3339_th(row.received_at),
        "due": row.due,
        "days_left": requests::days_left(row, now),
        "overdue": !requests::status_of(row).is_closed() && requests::days_left(row, now).is_some_and(|n| n < 0),
        "identity_check": row.identity_check,
        "closed_at": row.closed_at.map(rfc3339_th),
        "outcome_reason": row.outcome_reason,
    });
    if staff {
        v["subject"] = json!(row.subject_id);
        v["contact"] = json!(row.contact);
        v["message"] = json!(row.message);
    }
    v
}

/// `GET /v1/admin/sites/{site}/requests`: the site's cases, open ones first by due date.
pub(crate) async fn requests(
    State(state): State<AppState>,
    access: CasesSite,
) -> ApiResult<Json<Value>> {
    let now = crate::dates::now_ms();
    let rows = state.store.site_requests(access.id()).await?;
    Ok(Json(json!({
        "requests": rows.iter().map(|r| case_json(r, access.may_act(), now)).collect::<Vec<_>>(),
    })))
}

/// `GET /v1/admin/sites/{site}/requests/{reference}`: one case and its history (audited
/// as a record-level read).
pub(crate) async fn request(
    State(state): State<AppState>,
    access: CasesSite,
    Path(params): Path<std::collections::HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    use crate::{requests, store::AuditAction};
    let (p, site) = (access.principal(), access.id());
    let reference = params.get("reference").cloned().unwrap_or_default();
    let row = requests::case(&state.store, site, &reference).await?;
    requests::audit_read(
        &state.store,
        site,
        &reference,
        AuditAction::RequestView,
        "api",
        &p.actor,
        &p.client,
    )
    .await?;
    let history = state.store.request_history(site, &reference).await?;
    let mut v = case_json(&row, access.may_act(), crate::dates::now_ms());
    v["history"] = json!(
        history
            .iter()
            .filter(|a| a.action != AuditAction::RequestView.as_str())
            .map(|a| json!({
                "at": crate::dates::rfc3339_th(a.at),
                "actor": a.actor,
                "action": a.action,
                "detail": a.detail,
            }))
            .collect::<Vec<_>>()
    );
    Ok(Json(v))
}

/// `POST /v1/admin/sites/{site}/receipts/paper`: a consent signed on paper, entered by
/// the site's DPO or an admin ([`crate::paper`]). 201 with the receipt, its JWS and
/// whether the reference was new at the site (200 for a retry with the same request_id).
pub(crate) async fn paper(
    State(state): State<AppState>,
    access: EntrySite,
    headers: HeaderMap,
    Json(entry): Json<crate::paper::PaperEntry>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let p = access.principal();
    let given = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    if !p.csrf_ok(given) {
        return Err(ApiError::Forbidden(
            "with a console session, send the x-csrf-token header".into(),
        ));
    }
    let path = format!("/v1/admin/sites/{}/receipts/paper", access.id());
    let clerk = crate::paper::Clerk {
        actor: &p.actor,
        client: &p.client,
        path: &path,
    };
    let entered = crate::paper::enter(&state, access.site(), clerk, entry).await?;
    let status = match entered.recorded {
        crate::receipts::Recorded::New => StatusCode::CREATED,
        crate::receipts::Recorded::Replay => StatusCode::OK,
    };
    Ok((
        status,
        Json(json!({
            "receipt": entered.stored.receipt,
            "jws": entered.stored.jws,
            "new_subject": entered.new_subject,
        })),
    ))
}

/// `POST /v1/admin/verify` with the receipt(s) as the body.
pub(crate) async fn verify(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    body: String,
) -> ApiResult<Json<Vec<ops::Verified>>> {
    let given = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    if !p.csrf_ok(given) {
        return Err(ApiError::Forbidden(
            "with a console session, send the x-csrf-token header".into(),
        ));
    }
    Ok(Json(ops::verify(&state, &p, &body).await?))
}

/// `GET /v1/admin/sites/{site}/stats`: full counts (not suppressed) for the site's roles.
pub(crate) async fn stats(
    State(state): State<AppState>,
    access: VisibleSite,
    Query(q): Query<StatsQuery>,
) -> ApiResult<Json<stats::Summary>> {
    let (from, to) = q.range()?;
    Ok(Json(
        stats::summary(&state.store, access.id(), from, to).await?,
    ))
}

/// `GET /v1/admin/sites/{site}/notices/diff?from=&to=`
pub(crate) async fn notice_diff(
    State(state): State<AppState>,
    access: VisibleSite,
    Query(q): Query<DiffQuery>,
) -> ApiResult<Json<super::diff::NoticeDiff>> {
    Ok(Json(ops::diff_of(&state, &access, &q, Lang::Th).await?))
}

/// Query of the audit API.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct AuditQuery {
    before: Option<i64>,
}

/// `GET /v1/admin/audit`
pub(crate) async fn audit(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Vec<crate::store::AuditRow>>> {
    Ok(Json(ops::audit_rows(&state, &p, q.before).await?))
}

/// `GET /v1/admin/releases[?before=]`: the release log (every record-level export), for
/// admins and each site's DPO and auditor.
pub(crate) async fn releases(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Vec<crate::store::ReleaseRow>>> {
    Ok(Json(ops::release_rows(&state, &p, q.before).await?))
}

/// Query of the publish API.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct PublishQuery {
    #[serde(default)]
    dry_run: bool,
}

/// `POST /v1/admin/sites/{site}/notices[?dry_run=true]` (multipart: `site_toml`,
/// `notice_th`, `notice_en`): checks the site folder with the CLI's code and publishes
/// it (audited), or with `dry_run` only says what would be published.
pub(crate) async fn publish(
    State(state): State<AppState>,
    access: PublisherSite,
    headers: HeaderMap,
    Query(q): Query<PublishQuery>,
    form: Multipart,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let p = access.principal();
    let given = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    if !p.csrf_ok(given) {
        return Err(ApiError::Forbidden(
            "with a console session, send the x-csrf-token header".into(),
        ));
    }
    let up = ops::read_upload(form).await?;
    let invalid = |problems: Vec<String>| ApiError::Unprocessable {
        code: "invalid_site_folder",
        message: problems.join("\n"),
    };
    let unchanged = |why: String| {
        (
            StatusCode::OK,
            Json(json!({"published": false, "unchanged": why})),
        )
    };
    match ops::check_upload(&state, &access, &up, Lang::Th).await? {
        UploadCheck::Invalid(problems) => Err(invalid(problems)),
        UploadCheck::Unchanged(why) => Ok(unchanged(why)),
        UploadCheck::Ready(r) if q.dry_run => Ok((
            StatusCode::OK,
            Json(json!({
                "published": false,
                "dry_run": true,
                "version": r.notice.notice.version,
                "consent_revision": r.notice.notice.consent_revision,
                "sha256": r.notice.sha256,
                "current_version": r.current.as_ref().map(|c| c.notice.version.clone()),
                "asks_again": r.asks_again,
                "site_changes": r.site_changes,
                "diff": r.diff,
            })),
        )),
        UploadCheck::Ready(_) => match ops::publish_texts(&state, &access, &up.texts).await? {
            Publication::Published { version, sha256 } => Ok((
                StatusCode::CREATED,
                Json(json!({"published": true, "version": version, "sha256": sha256})),
            )),
            Publication::Unchanged(why) => Ok(unchanged(why)),
            Publication::Invalid(problems) => Err(invalid(problems)),
            Publication::Expired => Err(ApiError::NotFound("no such upload".into())),
        },
    }
}
