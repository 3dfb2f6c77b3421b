//! `GET /v1/sites/{site}/subjects/{subject_id}/consent`: a subject's current consent, for
//! an agency's back-office systems (a service token of the site, or its DPO or an admin);
//! `POST /v1/sites/{site}/consent/lookup` `{"reference": "…"}`: the same answer for the
//! person the agency's own reference names (in the body, so a personal id never appears in
//! an address, a proxy's log or ours).

use crate::{
    admin::access::ConsentSite,
    consent::{self, Answer, Asker, Whose},
    error::{ApiError, ApiResult},
    state::AppState,
};
use axum::{
    Json,
    body::Body,
    extract::{Path, State},
    http::HeaderMap,
};
use std::collections::HashMap;

pub(crate) async fn get(
    State(state): State<AppState>,
    who: ConsentSite,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<Json<Answer>> {
    // Subject ids compare case-insensitively: receipts store them in lower case.
    let subject = params
        .get("subject_id")
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    if !yinyom_model::receipt::is_subject_id(&subject) {
        return Err(ApiError::BadRequest(
            "subject_id must be 16-64 characters of A-Z, a-z, 0-9, - or _".into(),
        ));
    }
    let asker = Asker {
        actor: &who.actor,
        client: &who.client,
    };
    Ok(Json(
        consent::check(
            &state.store,
            asker,
            &who.site,
            Whose::Subject(&[
                subject.to_ascii_lowercase(),
                state.subjects.pseudonym(&subject),
            ]),
        )
        .await?,
    ))
}

/// The body of `POST /v1/sites/{site}/consent/lookup`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Lookup {
    /// The agency's reference for the person, as its form sent it
    /// (`data-yinyom-reference`) or its staff typed it with a paper consent.
    reference: String,
}

/// Largest lookup body: a reference is at most 128 characters.
const MAX_LOOKUP_BODY: usize = 1024;

pub(crate) async fn lookup(
    State(state): State<AppState>,
    who: ConsentSite,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Answer>> {
    let bytes = super::json_body(&headers, body, MAX_LOOKUP_BODY).await?;
    let Lookup { reference } = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::BadRequest(format!("the body must be {{\"reference\": \"…\"}}: {e}"))
    })?;
    yinyom_model::receipt::check_reference(&reference).map_err(ApiError::BadRequest)?;
    let asker = Asker {
        actor: &who.actor,
        client: &who.client,
    };
    let hash = state.subjects.reference_hash(&who.site, &reference);
    Ok(Json(
        consent::check(&state.store, asker, &who.site, Whose::Reference(&hash)).await?,
    ))
}
