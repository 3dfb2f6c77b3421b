//! Per-site CORS: a site's API answers only pages of that site's registered origins.

use crate::{error::ApiError, state::AppState};
use axum::{
    extract::{Path, Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::collections::HashMap;
use yinyom_model::site::Site;

/// The origin of the page that made the request, checked against the site's origins.
/// `None` when the browser sent no `Origin` (a plain `<script src>`).
#[derive(Debug, Clone)]
pub(crate) struct PageOrigin(pub(crate) Option<String>);

/// Looks the site up (404 if unknown), refuses foreign origins (403), and adds the CORS
/// headers for allowed ones. Handlers get the [`Site`] and [`PageOrigin`] as extensions.
pub(crate) async fn check_site_origin(
    State(state): State<AppState>,
    Path(params): Path<HashMap<String, String>>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let id = params.get("site").cloned().unwrap_or_default();
    let site = state
        .catalog
        .site(&id)
        .await?
        .ok_or_else(|| ApiError::UnknownSite(id.clone()))?;
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .map(|o| o.to_str().unwrap_or("(not text)").to_owned());
    if let Some(o) = &origin {
        let allowed = site.origins.iter().any(|a| a == o)
            || state.settings.extra_origins.iter().any(|a| a == o);
        if !allowed {
            return Err(ApiError::ForeignOrigin(o.clone()));
        }
    }
    req.extensions_mut().insert::<Site>(Site::clone(&site));
    req.extensions_mut().insert(PageOrigin(origin.clone()));
    let mut res = next.run(req).await;
    if let Some(value) = origin.and_then(|o| HeaderValue::from_str(&o).ok()) {
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    Ok(res)
}

/// Answers a CORS preflight (the origin was already checked).
pub(crate) async fn preflight(method: Method) -> impl IntoResponse {
    debug_assert_eq!(method, Method::OPTIONS);
    (
        StatusCode::NO_CONTENT,
        [
            (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type"),
            (header::ACCESS_CONTROL_MAX_AGE, "86400"),
        ],
    )
}
