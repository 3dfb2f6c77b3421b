//! `POST /v1/sites/{site}/receipts`: record a visitor's choice.

use super::cors::PageOrigin;
use crate::{
    error::{ApiError, ApiResult},
    log,
    receipts::{self, Recorded},
    state::AppState,
};
use axum::{
    Extension, Json,
    body::Body,
    extract::{ConnectInfo, Path, State},
    http::{HeaderMap, StatusCode, header},
    response::IntoResponse,
};
use std::{collections::HashMap, net::SocketAddr};
use yinyom_model::{
    receipt::{HistoryEntry, ReceiptRequest, ReceiptResponse},
    site::Site,
};

/// Largest accepted body. A choice with dozens of categories is under 2 KB.
pub(crate) const MAX_BODY: usize = 16 * 1024;

pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    Extension(PageOrigin(origin)): Extension<PageOrigin>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    let origin = origin.ok_or_else(|| {
        ApiError::ForeignOrigin("(none: receipts are accepted only from the site's pages)".into())
    })?;
    let client = state.client_ip(&headers, connect.map(|Extension(ConnectInfo(a))| a));
    state
        .limiter
        .check(client)
        .await
        .map_err(|wait| ApiError::TooManyRequests(wait.as_secs().max(1)))?;
    let bytes = super::json_body(&headers, body, MAX_BODY).await?;
    let request: ReceiptRequest = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::BadRequest(format!("the body is not a valid receipt request: {e}"))
    })?;
    let recorder = receipts::Recorder {
        catalog: &state.catalog,
        store: &state.store,
        ingest: &state.ingest,
        public_url: &state.settings.public_url,
        subjects: &state.subjects,
    };
    let (recorded, stored) = receipts::record(recorder, &site, &origin, request).await?;
    let status = match recorded {
        Recorded::New => {
            state
                .metrics
                .receipts_stored
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            StatusCode::CREATED
        }
        Recorded::Replay => StatusCode::OK,
    };
    Ok((
        status,
        Json(ReceiptResponse {
            receipt: stored.receipt,
            jws: stored.jws,
        }),
    ))
}

/// Most receipts returned for one visitor.
const HISTORY_LIMIT: i64 = 200;

/// `GET /v1/sites/{site}/subjects/{subject_id}/receipts`: the visitor's own history
/// (PDPA s.30), newest first, each with its tlog-proof once it is in the witnessed log.
/// The subject id in the path is the random secret kept in the visitor's browser, so
/// knowing it is the proof of being that visitor; the receipts are found by its
/// pseudonym (and, for receipts from before pseudonyms, by the secret itself).
pub(crate) async fn history(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<impl IntoResponse> {
    // Subject ids compare case-insensitively: receipts store them in lower case.
    let subject = params
        .get("subject_id")
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    let subject = subject.as_str();
    if !yinyom_model::receipt::is_subject_id(subject) {
        return Err(ApiError::BadRequest(
            "subject_id must be 16-64 characters of A-Z, a-z, 0-9, - or _".into(),
        ));
    }
    let stored = state
        .store
        .subject_receipts(
            site.id.as_str(),
            &state.subjects.lookup_ids(subject),
            HISTORY_LIMIT,
        )
        .await?;
    // One read of the served checkpoint, then O(log n) tiles per receipt.
    let served = log::served(&state.store, &state.settings.witnesses, site.id.as_str()).await?;
    let mut entries = Vec::with_capacity(stored.len());
    for s in stored {
        let proof = match &served {
            Some(cp) => {
                log::inclusion_in(&state.store, site.id.as_str(), cp, &s.receipt.receipt_id)
                    .await?
                    .map(|p| p.to_tlog_proof())
            }
            None => None,
        };
        entries.push(HistoryEntry {
            receipt: s.receipt,
            jws: s.jws,
            proof,
        });
    }
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(entries)))
}
