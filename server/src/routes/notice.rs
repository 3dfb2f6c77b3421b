//! `GET /v1/sites/{site}/notice`: the current notice version, for the widget.

use crate::{
    error::{ApiError, ApiResult},
    state::AppState,
};
use axum::{
    Extension, Json,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use yinyom_model::site::Site;

pub(crate) async fn current(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let published = state
        .store
        .current_notice(site.id.as_str())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("site `{}` has no published notice", site.id)))?;
    let etag = format!("\"{}\"", published.sha256);
    let meta = [
        (header::CACHE_CONTROL, "public, max-age=60".to_owned()),
        (header::ETAG, etag.clone()),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return Ok((StatusCode::NOT_MODIFIED, meta).into_response());
    }
    Ok((meta, Json(published)).into_response())
}
