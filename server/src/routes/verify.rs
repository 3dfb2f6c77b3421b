//! `POST /v1/verify`: anyone checks a receipt, or a visitor's bundle, without signing in:
//! the same checks as `yinyom receipts verify` ([`receipts::check_one`]), against this
//! server's JWKS, the log's vkey and the witness policy.

use crate::{
    error::{ApiError, ApiResult},
    log::{self, proof::Policy},
    receipts::{self, Trust},
    signing,
    state::AppState,
};
use axum::{
    Json, Router,
    body::{Body, to_bytes},
    extract::{ConnectInfo, State},
    http::{HeaderMap, header},
    routing::post,
};
use serde::Serialize;
use std::net::SocketAddr;

/// Largest accepted body: a bundle with a proof of a large log is a few KB.
const MAX_BODY: usize = 64 * 1024;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/v1/verify", post(verify))
}

/// The verdict.
#[derive(Debug, Serialize)]
pub(crate) struct Verdict {
    valid: bool,
    problems: Vec<String>,
    site: Option<String>,
    notice_version: Option<String>,
    issued_at: Option<String>,
    in_log: bool,
    cosignatures: Vec<String>,
}

async fn verify(
    State(state): State<AppState>,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Verdict>> {
    let client = state.client_ip(&headers, connect.map(|axum::Extension(ConnectInfo(a))| a));
    state
        .limiter
        .check(client)
        .await
        .map_err(|wait| ApiError::TooManyRequests(wait.as_secs().max(1)))?;
    let bytes = to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::TooLarge(MAX_BODY))?;
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8 text".into()))?;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.to_ascii_lowercase().contains("json"));
    let item = if json {
        serde_json::from_str::<serde_json::Value>(&text)
            .map_err(|e| ApiError::BadRequest(format!("the body is not JSON: {e}")))?
    } else {
        serde_json::Value::String(text.trim().to_owned())
    };
    let jwks = signing::jwks(&state.store).await?;
    let first = receipts::check_one(1, &item, &jwks, &Trust::default());
    // A proof is checked against this server's log of the receipt's site.
    let has_proof = item.get("proof").is_some();
    let checked = match (&first.signed, has_proof) {
        (Some(r), true) => {
            let vkey = log::LogSigner::of(&state).await?.vkey(r.site.as_str())?;
            let policy = Policy::parse(&state.settings.witnesses.policy(&vkey))
                .map_err(|e| ApiError::BadRequest(format!("the witness policy: {e}")))?;
            let trust = Trust {
                vkey: Some(vkey),
                policy: Some(policy),
            };
            receipts::check_one(1, &item, &jwks, &trust)
        }
        _ => first,
    };
    let mut problems = Vec::new();
    if let Err(why) = &checked.outcome {
        problems.push(why.clone());
    }
    if !json && text.trim_start().starts_with(log::proof::TLOG_PROOF_HEADER) {
        problems = vec!["a tlog-proof alone proves nothing: send it with its receipt's jws as JSON {\"jws\", \"proof\"}".into()];
    }
    Ok(Json(Verdict {
        valid: problems.is_empty(),
        site: checked.signed.as_ref().map(|r| r.site.to_string()),
        notice_version: checked.signed.as_ref().map(|r| r.notice.version.clone()),
        issued_at: checked.signed.as_ref().map(|r| r.issued_at.clone()),
        in_log: checked.in_log.is_some(),
        cosignatures: checked.in_log.map(|l| l.cosigned_by).unwrap_or_default(),
        problems,
    }))
}
