//! `/assets/{build}/…`: the widget's immutable, content-hashed files, served
//! precompressed (`.br`, `.gz`) when the browser accepts it.

use crate::state::AppState;
use axum::{Router, http::HeaderValue, http::header};
use tower::ServiceBuilder;
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer};

pub(crate) fn router(state: &AppState) -> Router<AppState> {
    let dir = state.settings.dist.join("assets");
    let files = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ))
        // The loader imports the widget as a module from the host page's origin.
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
        .service(ServeDir::new(dir).precompressed_br().precompressed_gzip());
    Router::new().nest_service("/assets", files)
}
