//! Liveness, readiness and metrics.

use crate::{error::ApiResult, state::AppState};
use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(openapi))
}

/// The OpenAPI document (`docs/openapi.json`).
async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../../../docs/openapi.json"),
    )
}

/// Ready when the store can commit: a small write goes through now, and no receipt
/// failed to commit for an availability reason in the last few seconds.
async fn ready(State(state): State<AppState>) -> ApiResult<&'static str> {
    let probe = state.store.probe_write().await;
    if probe.is_ok() {
        state.health.probe_committed();
    } else {
        state.health.observe(&probe);
    }
    probe?;
    if let Some(cause) = state.health.recent_failure() {
        return Err(crate::store::StoreError::Unavailable(cause).into());
    }
    Ok("ready\n")
}

/// Prometheus text.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

/// Counts every request by its route pattern (not its raw path, which has ids in it).
pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    state
        .metrics
        .observe(&method, &route, res.status().as_u16(), started.elapsed());
    res
}
