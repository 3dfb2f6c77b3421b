//! `GET /v1/sites/{site}/stats`: aggregated open data, small counts suppressed.

use crate::{
    error::ApiResult,
    state::AppState,
    stats::{self, StatsQuery},
};
use axum::{
    Extension, Json,
    extract::{Query, State},
    http::header,
    response::IntoResponse,
};
use yinyom_model::site::Site;

/// Counts below this are published as `null`.
pub(crate) const SUPPRESS_BELOW: i64 = 5;

pub(crate) async fn open_stats(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    Query(q): Query<StatsQuery>,
) -> ApiResult<impl IntoResponse> {
    let (from, to) = q.range()?;
    let s = stats::summary(&state.store, site.id.as_str(), from, to).await?;
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(stats::open_data(&s, SUPPRESS_BELOW)),
    ))
}
