//! `POST` and `GET /v1/sites/{site}/subjects/{subject_id}/requests`: a visitor files a
//! data-subject request and sees their requests. The subject id in the path is the
//! visitor's secret (it proves them); cases are stored under its pseudonym.

use crate::{
    error::{ApiError, ApiResult},
    requests::{self, Intake},
    state::AppState,
};
use axum::{
    Extension, Json,
    body::Body,
    extract::{ConnectInfo, Path, State},
    http::{HeaderMap, StatusCode, header},
    response::IntoResponse,
};
use std::{collections::HashMap, net::SocketAddr};
use yinyom_model::{
    request::{SubjectRequestAnswer, SubjectRequestBody},
    site::Site,
};

/// Largest accepted body: a message of 2,000 Thai characters is about 6 KB in JSON.
const MAX_BODY: usize = 8 * 1024;

fn secret(params: &HashMap<String, String>) -> ApiResult<String> {
    let secret = params
        .get("subject_id")
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    if yinyom_model::receipt::is_subject_id(&secret) {
        Ok(secret)
    } else {
        Err(ApiError::BadRequest(
            "subject_id must be 16-64 characters of A-Z, a-z, 0-9, - or _".into(),
        ))
    }
}

pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    Path(params): Path<HashMap<String, String>>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    let client = state.client_ip(&headers, connect.map(|Extension(ConnectInfo(a))| a));
    state
        .limiter
        .check(client)
        .await
        .map_err(|wait| ApiError::TooManyRequests(wait.as_secs().max(1)))?;
    let secret = secret(&params)?;
    let bytes = super::json_body(&headers, body, MAX_BODY).await?;
    let body: SubjectRequestBody = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("the body is not a valid request: {e}")))?;
    let row = requests::file(
        &state.store,
        &state.subjects,
        site.id.as_str(),
        &secret,
        body,
        Intake::Web,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(requests::answer(&row)),
    ))
}

/// The visitor's requests, newest first, with their status.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<impl IntoResponse> {
    let secret = secret(&params)?;
    let rows = state
        .store
        .subject_requests(site.id.as_str(), &state.subjects.lookup_ids(&secret))
        .await?;
    let answers: Vec<SubjectRequestAnswer> = rows.iter().map(requests::answer).collect();
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(answers)))
}
