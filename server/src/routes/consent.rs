//! `GET /v1/sites/{site}/subjects/{subject_id}/consent`: a subject's current consent, for
//! an agency's back-office systems (a service token of the site, or its DPO or an admin).

use crate::{
    admin::access::ConsentSite,
    consent::{self, Answer, Asker},
    error::{ApiError, ApiResult},
    state::AppState,
};
use axum::{
    Json,
    extract::{Path, State},
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
            &[
                subject.to_ascii_lowercase(),
                state.subjects.pseudonym(&subject),
            ],
        )
        .await?,
    ))
}
