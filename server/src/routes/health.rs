//! Liveness and readiness.

use crate::{error::ApiResult, state::AppState};
use axum::{Router, extract::State, routing::get};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
}

/// Ready when the database answers.
async fn ready(State(state): State<AppState>) -> ApiResult<&'static str> {
    state.store.ping().await?;
    Ok("ready\n")
}
