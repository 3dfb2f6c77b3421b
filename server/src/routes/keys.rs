//! `/.well-known/jwks.json`: every receipt-signing public key, current and retired.

use crate::{error::ApiResult, signing, state::AppState};
use axum::{Json, Router, extract::State, http::header, response::IntoResponse, routing::get};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/.well-known/jwks.json", get(jwks))
}

async fn jwks(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let set = signing::jwks(&state.store).await?;
    Ok((
        [
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        Json(set),
    ))
}
