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
pub(crate) const MAX_BODY: usize = 64 * 1024;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/v1/verify", post(verify))
}

/// The verdict.
#[derive(Debug, Serialize)]
pub(crate) struct Verdict {
    pub(crate) valid: bool,
    pub(crate) problems: Vec<String>,
    pub(crate) site: Option<String>,
    pub(crate) notice_version: Option<String>,
    pub(crate) issued_at: Option<String>,
    pub(crate) in_log: bool,
    pub(crate) cosignatures: Vec<String>,
}

/// What someone submitted: JSON (`{receipt?, jws, proof?}`, or a JWS as a JSON string) or
/// plain text (a compact JWS; a tlog-proof alone is refused with a reason).
pub(crate) enum Submission {
    /// A JSON document.
    Json(serde_json::Value),
    /// Plain text.
    Text(String),
}

impl Submission {
    /// Reads `text`: JSON when it parses as a JSON object or string, else plain text.
    /// The HTML form uses this (people paste either).
    pub(crate) fn sniff(text: &str) -> Self {
        let t = text.trim();
        match serde_json::from_str::<serde_json::Value>(t) {
            Ok(v @ (serde_json::Value::Object(_) | serde_json::Value::String(_))) => Self::Json(v),
            _ => Self::Text(t.to_owned()),
        }
    }
}

/// Checks a submission against this server's JWKS, and a proof in it against the log's
/// vkey and the witness policy of the receipt's site: the one verification of
/// `POST /v1/verify`, the public `GET /verify` page and the console's evidence page.
pub(crate) async fn check(state: &AppState, submission: &Submission) -> ApiResult<Verdict> {
    if let Submission::Text(t) = submission
        && t.starts_with(log::proof::TLOG_PROOF_HEADER)
    {
        return Ok(Verdict {
            valid: false,
            problems: vec!["a tlog-proof alone proves nothing: send it with its receipt's jws as JSON {\"jws\", \"proof\"}".into()],
            site: None,
            notice_version: None,
            issued_at: None,
            in_log: false,
            cosignatures: Vec::new(),
        });
    }
    let item = match submission {
        Submission::Json(v) => v.clone(),
        Submission::Text(t) => serde_json::Value::String(t.clone()),
    };
    let jwks = signing::jwks(&state.store).await?;
    let first = receipts::check_one(1, &item, &jwks, &Trust::default());
    // A proof is checked against this server's log of the receipt's site.
    let has_proof = item.get("proof").is_some();
    let checked = match (&first.signed, has_proof) {
        (Some(r), true) => {
            let vkey = log::LogSigner::of(state).await?.vkey(r.site.as_str())?;
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
    let problems: Vec<String> = checked.outcome.err().into_iter().collect();
    Ok(Verdict {
        valid: problems.is_empty(),
        site: checked.signed.as_ref().map(|r| r.site.to_string()),
        notice_version: checked.signed.as_ref().map(|r| r.notice.version.clone()),
        issued_at: checked.signed.as_ref().map(|r| r.issued_at.clone()),
        in_log: checked.in_log.is_some(),
        cosignatures: checked.in_log.map(|l| l.cosigned_by).unwrap_or_default(),
        problems,
    })
}

/// Waits its turn in the rate limiter shared by every public verification.
pub(crate) async fn limit(
    state: &AppState,
    headers: &HeaderMap,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
) -> ApiResult<()> {
    let client = state.client_ip(headers, connect.map(|axum::Extension(ConnectInfo(a))| a));
    state
        .limiter
        .check(client)
        .await
        .map_err(|wait| ApiError::TooManyRequests(wait.as_secs().max(1)))
}

async fn verify(
    State(state): State<AppState>,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Verdict>> {
    limit(&state, &headers, connect).await?;
    let bytes = to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::TooLarge(MAX_BODY))?;
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8 text".into()))?;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.to_ascii_lowercase().contains("json"));
    let submission = if json {
        Submission::Json(
            serde_json::from_str::<serde_json::Value>(&text)
                .map_err(|e| ApiError::BadRequest(format!("the body is not JSON: {e}")))?,
        )
    } else {
        Submission::Text(text.trim().to_owned())
    };
    Ok(Json(check(&state, &submission).await?))
}
