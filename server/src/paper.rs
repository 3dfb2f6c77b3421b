//! Consent given on a paper form, entered by staff (a DPO of the site or an admin) in the
//! console (`/admin/sites/{site}/receipts/paper`) or the admin API
//! (`POST /v1/admin/sites/{site}/receipts/paper`).
//!
//! The entry names the form (the receipt's `context`), the decision for each of that
//! form's consent purposes as ticked on paper, the paper form's document number and the
//! day it was signed (both signed into the receipt as `paper`; `issued_at` is the time of
//! entry), and the person's reference at the agency. The reference finds the person's
//! subject through its keyed hash (the subject of their online form receipts, so their
//! whole history is in one place) or, for someone never seen online, a new subject the
//! server makes and links to it. The receipt then goes through the visitor's path
//! ([`receipts::record_paper`]): checked against the notice, signed, chained, logged,
//! webhooks. Every entry is audited (`receipt.paper`).

use crate::{
    dates,
    error::{ApiError, ApiResult},
    receipts::{self, Recorded},
    state::AppState,
    store::{AuditAction, StoredReceipt, now_ms},
};
use serde::Deserialize;
use std::collections::BTreeMap;
use yinyom_model::{
    Lang, Slug,
    receipt::{AgeBand, ConsentBy, Method, PaperForm, ReceiptRequest, check_reference},
    site::Site,
};

/// The `widget` of a receipt entered from paper: no widget showed anything.
pub const PAPER_WIDGET: &str = "0000000000000000";

/// Longest paper document number, in characters.
pub const MAX_DOCUMENT: usize = 64;

/// What staff enter: the JSON body of `POST /v1/admin/sites/{site}/receipts/paper`, and
/// what the console's form becomes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperEntry {
    /// The form's name (the receipt's `context`), as the site's web form names it
    /// (`data-yinyom-form`) when there is one.
    pub form: Slug,
    /// The decision for each consent purpose of the form, as ticked on paper.
    pub purposes: BTreeMap<Slug, bool>,
    /// The paper form's document number (the agency's own numbering).
    pub document: String,
    /// The day the person signed it (`YYYY-MM-DD`), not after today (Thailand time).
    pub signed_on: String,
    /// The person's reference at the agency (the same value its web forms send as
    /// `data-yinyom-reference`). Kept only as a keyed hash.
    pub reference: String,
    /// The notice version the paper form was given under (default: the current one).
    #[serde(default)]
    pub notice_version: Option<String>,
    /// The language of the paper form (default Thai).
    #[serde(default)]
    pub lang: Option<Lang>,
    /// Age band, when the notice's minors mode asks it.
    #[serde(default)]
    pub age_band: Option<AgeBand>,
    /// Who signed, when the notice's minors mode asks it.
    #[serde(default)]
    pub consent_by: Option<ConsentBy>,
    /// A UUID that makes a retry of the same entry return the same receipt (default: a
    /// new one).
    #[serde(default)]
    pub request_id: Option<String>,
}

/// Who enters it, for the receipt's page and the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Clerk<'a> {
    /// The principal's actor (`user:…` or `token:…`).
    pub actor: &'a str,
    /// The client address.
    pub client: &'a str,
    /// The path of the door it came through (the receipt's `page.path`).
    pub path: &'a str,
}

/// What an entry made.
#[derive(Debug, Clone)]
pub struct Entered {
    /// New, or the receipt of an earlier identical entry (same `request_id`).
    pub recorded: Recorded,
    /// The stored receipt.
    pub stored: StoredReceipt,
    /// Whether the reference was new at the site (the server made a subject for it).
    pub new_subject: bool,
}

/// Checks the document number and signing day: 400 with what is wrong.
fn check_paper(entry: &PaperEntry, now: i64) -> ApiResult<PaperForm> {
    let document = entry.document.trim();
    if document.is_empty()
        || document.chars().count() > MAX_DOCUMENT
        || document.chars().any(char::is_control)
        || yinyom_model::text::find_bidi_control(document).is_some()
    {
        return Err(ApiError::BadRequest(format!(
            "document must be the paper form's number: 1-{MAX_DOCUMENT} characters, no control characters"
        )));
    }
    let day = time::Date::parse(
        entry.signed_on.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| ApiError::BadRequest("signed_on must be a date, YYYY-MM-DD".into()))?;
    if day.to_string() > dates::day_name(dates::thailand_day(now)) {
        return Err(ApiError::BadRequest(
            "signed_on is after today (Thailand time): a form cannot be signed in the future"
                .into(),
        ));
    }
    Ok(PaperForm {
        document: document.to_owned(),
        signed_on: day.to_string(),
    })
}

/// Enters a paper consent at `site` (see the module doc). 400 for a malformed entry, 422
/// when it does not fit the notice (as a visitor's request would be).
pub async fn enter(
    state: &AppState,
    site: &Site,
    clerk: Clerk<'_>,
    entry: PaperEntry,
) -> ApiResult<Entered> {
    let site_id = site.id.as_str();
    check_reference(&entry.reference).map_err(ApiError::BadRequest)?;
    let paper = check_paper(&entry, now_ms())?;
    let published = match &entry.notice_version {
        Some(v) => state.catalog.notice_version(site_id, v).await?,
        None => state.store.current_notice(site_id).await?.map(Into::into),
    }
    .ok_or_else(|| ApiError::Unprocessable {
        code: "unknown_notice_version",
        message: format!("site `{site_id}` has no such published notice version"),
    })?;
    let hash = state.subjects.reference_hash(site_id, &entry.reference);
    let known = state.store.reference_subject(site_id, &hash).await?;
    let new_subject = known.is_none();
    let subject = known.unwrap_or_else(|| state.subjects.new_subject());
    let request = ReceiptRequest {
        request_id: entry
            .request_id
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
        subject_id: subject,
        notice_version: published.notice.version.clone(),
        consent_revision: published.notice.consent_revision,
        method: Method::Paper,
        context: Some(entry.form.clone()),
        reference: Some(entry.reference),
        lang: entry.lang.unwrap_or(Lang::Th),
        categories: BTreeMap::new(),
        purposes: entry.purposes,
        gpc: false,
        age_band: entry.age_band,
        consent_by: entry.consent_by,
        page_path: clerk.path.to_owned(),
        widget: PAPER_WIDGET.to_owned(),
    };
    let recorder = receipts::Recorder {
        catalog: &state.catalog,
        store: &state.store,
        ingest: &state.ingest,
        public_url: &state.settings.public_url,
        subjects: &state.subjects,
    };
    let (recorded, stored) = receipts::record_paper(
        recorder,
        site,
        &state.settings.public_url,
        request,
        paper.clone(),
    )
    .await?;
    if recorded == Recorded::New {
        state
            .metrics
            .receipts_stored
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    state
        .store
        .audit(
            clerk.actor,
            AuditAction::PaperEntry,
            Some(site_id),
            &format!(
                "receipt={} form={} document={} signed_on={}",
                stored.receipt.receipt_id, entry.form, paper.document, paper.signed_on
            ),
            clerk.client,
        )
        .await?;
    Ok(Entered {
        recorded,
        stored,
        new_subject,
    })
}
