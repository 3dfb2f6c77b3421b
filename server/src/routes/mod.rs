//! The HTTP routes, one module per resource. Handlers stay thin: they extract, call the
//! store or a domain function, and map the result.

mod assets;
mod cors;
mod health;
mod home;
mod keys;
pub(crate) mod loader;
mod log;
mod notice;
mod packed;
pub mod pages;
mod receipts;
mod stats;

use crate::{error::ApiError, state::AppState};
use axum::{
    Router, middleware,
    routing::{get, post},
};
use tower_http::{compression::CompressionLayer, trace::TraceLayer};

/// The whole HTTP API.
pub fn router(state: AppState) -> Router {
    let sites = Router::new()
        .route("/v1/sites/{site}/yinyom.js", get(loader::get))
        .route(
            "/v1/sites/{site}/notice",
            get(notice::current).options(cors::preflight),
        )
        .route(
            "/v1/sites/{site}/notice/versions",
            get(notice::versions).options(cors::preflight),
        )
        .route(
            "/v1/sites/{site}/notice/versions/{version}",
            get(notice::version).options(cors::preflight),
        )
        .route("/sites/{site}/notice", get(notice::page))
        .route("/sites/{site}/notice/{version}", get(notice::page))
        .route(
            "/v1/sites/{site}/receipts",
            post(receipts::create).options(cors::preflight),
        )
        .route(
            "/v1/sites/{site}/subjects/{subject_id}/receipts",
            get(receipts::history).options(cors::preflight),
        )
        .route(
            "/v1/sites/{site}/stats",
            get(stats::open_stats).options(cors::preflight),
        )
        .route("/v1/sites/{site}/log/checkpoint", get(log::checkpoint))
        .route(
            "/v1/sites/{site}/log/receipts/{receipt_id}",
            get(log::inclusion),
        )
        .route("/v1/sites/{site}/log/consistency", get(log::consistency))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            cors::check_site_origin,
        ));
    Router::new()
        .route("/", get(home::page))
        .merge(sites)
        .merge(health::router())
        .merge(keys::router())
        .merge(crate::admin::router())
        .layer(CompressionLayer::new())
        .merge(assets::router(&state))
        .fallback(|| async { ApiError::NotFound("there is nothing at this address".into()) })
        // Lets host pages (and the benchmark) read the sizes and timings of our responses.
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                axum::http::header::HeaderName::from_static("timing-allow-origin"),
                axum::http::HeaderValue::from_static("*"),
            ),
        )
        .layer(middleware::from_fn_with_state(state.clone(), health::track))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
