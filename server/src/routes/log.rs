//! The public tamper-evident log of a site: checkpoints and proofs.

use crate::{
    error::{ApiError, ApiResult},
    log,
    state::AppState,
};
use axum::{
    Extension, Json,
    extract::{Path, Query, State},
};
use serde::Deserialize;
use std::collections::HashMap;
use yinyom_model::site::Site;

/// `GET /v1/sites/{site}/log/checkpoint`: the newest signed checkpoint.
pub(crate) async fn checkpoint(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
) -> ApiResult<Json<log::SignedCheckpoint>> {
    let row = state
        .store
        .latest_checkpoint(site.id.as_str())
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("site `{}` has no log checkpoint yet", site.id))
        })?;
    Ok(Json(log::signed(&row)?))
}

/// `GET /v1/sites/{site}/log/receipts/{receipt_id}`: the receipt's inclusion proof
/// against the newest checkpoint.
pub(crate) async fn inclusion(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<Json<log::InclusionProof>> {
    let id = params
        .get("receipt_id")
        .map(String::as_str)
        .unwrap_or_default();
    log::inclusion(&state.store, site.id.as_str(), id)
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "receipt `{id}` is not in the log of `{}` (yet: checkpoints are made every few seconds)",
                site.id
            ))
        })
}

/// Query of the consistency proof.
#[derive(Debug, Deserialize)]
pub(crate) struct Sizes {
    first: u64,
    second: u64,
}

/// `GET /v1/sites/{site}/log/consistency?first=M&second=N`: proof that the checkpoint of
/// size N extends the one of size M (nothing was removed or rewritten in between).
pub(crate) async fn consistency(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    Query(q): Query<Sizes>,
) -> ApiResult<Json<log::ConsistencyProof>> {
    if q.first > q.second {
        return Err(ApiError::BadRequest(
            "first must not be larger than second".into(),
        ));
    }
    log::consistency(&state.store, site.id.as_str(), q.first, q.second)
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "site `{}` has no checkpoints of sizes {} and {}",
                site.id, q.first, q.second
            ))
        })
}
