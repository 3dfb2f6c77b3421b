//! The public tamper-evident log of a site, in C2SP formats: the cosigned checkpoint, the
//! log's vkey, the witness policy, hash tiles and each receipt's tlog-proof.

use crate::{
    error::{ApiError, ApiResult},
    log::{self, note, tiles::TilePath},
    state::AppState,
};
use axum::{
    Extension, Json, Router,
    extract::{Path, Query, State},
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::{Deserialize, Serialize};
use yinyom_model::site::Site;

/// The log's routes (under the site's origin check).
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sites/{site}/log/checkpoint", get(checkpoint))
        .route("/v1/sites/{site}/log/vkey", get(vkey))
        .route("/v1/sites/{site}/log/policy", get(policy))
        .route("/v1/sites/{site}/log/tile/{*path}", get(tile))
        .route("/v1/sites/{site}/log/receipts/{receipt_id}", get(inclusion))
        .route("/v1/sites/{site}/log/consistency", get(consistency))
}

fn plain(body: String, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

/// `GET /v1/sites/{site}/log/checkpoint`: the newest checkpoint the witness policy is met
/// for, as a C2SP signed note with the log's signature and the witnesses' cosignatures.
pub(crate) async fn checkpoint(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
) -> ApiResult<Response> {
    let cp = log::served(&state.store, &state.settings.witnesses, site.id.as_str())
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "site `{}` has no witnessed log checkpoint yet",
                site.id
            ))
        })?;
    Ok(plain(cp.note, "no-cache, max-age=0"))
}

/// `GET /v1/sites/{site}/log/vkey`: the log's verifier key (C2SP vkey) on the first line.
pub(crate) async fn vkey(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
) -> ApiResult<Response> {
    let vkey = log::LogSigner::of(&state).await?.vkey(site.id.as_str())?;
    Ok(plain(format!("{vkey}\n"), "public, max-age=300"))
}

/// `GET /v1/sites/{site}/log/policy`: the C2SP tlog-policy a proof is checked against
/// (the log's vkey, the witnesses and the quorum; `quorum none` without witnesses).
pub(crate) async fn policy(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
) -> ApiResult<Response> {
    let vkey = log::LogSigner::of(&state).await?.vkey(site.id.as_str())?;
    Ok(plain(
        state.settings.witnesses.policy(&vkey),
        "public, max-age=300",
    ))
}

/// `GET /v1/sites/{site}/log/tile/{L}/{N}[.p/{W}]`: a C2SP hash tile. Full tiles and
/// partial tiles never change: both are cacheable for good. Entry bundles are not served
/// (receipts are personal data).
pub(crate) async fn tile(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    Path(params): Path<std::collections::HashMap<String, String>>,
) -> ApiResult<Response> {
    let raw = params.get("path").map(String::as_str).unwrap_or_default();
    let path = TilePath::parse(raw).ok_or_else(|| {
        ApiError::NotFound(format!(
            "`{raw}` is not a hash tile (entry bundles are not published: receipts are personal data)"
        ))
    })?;
    let stored = state
        .store
        .tile(site.id.as_str(), (path.level, path.index))
        .await?
        .unwrap_or_default();
    let want = usize::from(path.width.unwrap_or(256)) * 32;
    let bytes = stored
        .get(..want)
        .ok_or_else(|| ApiError::NotFound(format!("tile {path} does not exist (yet)")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        bytes.to_vec(),
    )
        .into_response())
}

/// `GET /v1/sites/{site}/log/receipts/{receipt_id}`: the receipt's C2SP tlog-proof (index,
/// inclusion proof, cosigned checkpoint), once the receipt is in the served checkpoint.
pub(crate) async fn inclusion(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    Path(params): Path<std::collections::HashMap<String, String>>,
) -> ApiResult<Response> {
    let id = params
        .get("receipt_id")
        .map(String::as_str)
        .unwrap_or_default();
    let proof = log::inclusion(&state.store, &state.settings.witnesses, site.id.as_str(), id)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "receipt `{id}` is not in the witnessed log of `{}` (yet: checkpoints are made every few seconds, then cosigned)",
                site.id
            ))
        })?;
    Ok(plain(proof.to_tlog_proof(), "no-cache, max-age=0"))
}

/// Query of the consistency proof.
#[derive(Debug, Deserialize)]
pub(crate) struct Sizes {
    first: u64,
    second: u64,
}

/// A consistency proof between two checkpoints, as JSON.
#[derive(Debug, Serialize)]
pub(crate) struct Consistency {
    first: String,
    second: String,
    proof: Vec<String>,
}

/// `GET /v1/sites/{site}/log/consistency?first=M&second=N`: proof that the checkpoint of
/// size N extends the one of size M (nothing was removed or rewritten in between):
/// both signed notes and the RFC 6962 proof (base64 hashes).
pub(crate) async fn consistency(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    Query(q): Query<Sizes>,
) -> ApiResult<Json<Consistency>> {
    if q.first > q.second {
        return Err(ApiError::BadRequest(
            "first must not be larger than second".into(),
        ));
    }
    let p = log::consistency(&state.store, site.id.as_str(), q.first, q.second)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "site `{}` has no checkpoints of sizes {} and {}",
                site.id, q.first, q.second
            ))
        })?;
    Ok(Json(Consistency {
        first: p.first.note,
        second: p.second.note,
        proof: p.proof.iter().map(note::hash_b64).collect(),
    }))
}
