//! `POST /v1/sites/{site}/receipts`: record a visitor's choice.

use super::cors::PageOrigin;
use crate::{
    error::{ApiError, ApiResult},
    receipts::{self, Recorded},
    state::AppState,
};
use axum::{
    Extension, Json,
    body::{Body, to_bytes},
    extract::State,
    http::StatusCode,
    response::IntoResponse,
};
use yinyom_model::{
    receipt::{ReceiptRequest, ReceiptResponse},
    site::Site,
};

/// Largest accepted body. A choice with dozens of categories is under 2 KB.
pub(crate) const MAX_BODY: usize = 16 * 1024;

pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    Extension(PageOrigin(origin)): Extension<PageOrigin>,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    let origin = origin.ok_or_else(|| {
        ApiError::ForeignOrigin("(none: receipts are accepted only from the site's pages)".into())
    })?;
    let bytes = to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::TooLarge(MAX_BODY))?;
    let request: ReceiptRequest = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::BadRequest(format!("the body is not a valid receipt request: {e}"))
    })?;
    let (recorded, stored) = receipts::record(&state, &site, &origin, request).await?;
    let status = match recorded {
        Recorded::New => StatusCode::CREATED,
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
