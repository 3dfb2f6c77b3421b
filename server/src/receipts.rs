//! Turning a visitor's choice into a signed, stored consent receipt.

use crate::{
    error::{ApiError, ApiResult},
    state::AppState,
    store::{Inserted, StoredReceipt, now_ms, rfc3339_ms},
};
use std::collections::BTreeMap;
use yinyom_model::{
    Slug,
    canonical::to_canonical_json,
    receipt::{
        ConsentBy, Event, Method, NoticeRef, PageRef, RECEIPT_SCHEMA, Receipt, ReceiptRequest,
    },
    site::{MinorsPolicy, Site},
};

/// Whether a receipt was made now or returned from an earlier identical request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new receipt was written.
    New,
    /// The `request_id` was seen before: the original receipt is returned.
    Replay,
}

/// How long after a newer notice version is published a receipt under the one it replaced
/// is still accepted: a page may run a loader cached for [`LOADER_MAX_AGE`] before the
/// publication, and its visitor needs a moment to choose, so twice that. Later such a
/// receipt is refused (422 `superseded_notice_version`): the visitor never saw the
/// version that was current when it arrived.
///
/// [`LOADER_MAX_AGE`]: crate::routes::loader::LOADER_MAX_AGE
pub const SUPERSEDED_GRACE: std::time::Duration =
    crate::routes::loader::LOADER_MAX_AGE.saturating_mul(2);

/// Validates `req` against the notice version it names, signs the receipt and stores it.
/// Returns only after the receipt is committed. Idempotent on `request_id`: a retry is
/// found when its insert conflicts (no lookup before, since retries are rare).
pub async fn record(
    state: &AppState,
    site: &Site,
    origin: &str,
    req: ReceiptRequest,
) -> ApiResult<(Recorded, StoredReceipt)> {
    req.check().map_err(ApiError::BadRequest)?;
    let req = req.normalized();
    let site_id = site.id.as_str();

    let published = state
        .catalog
        .notice_version(site_id, &req.notice_version)
        .await?
        .ok_or_else(|| ApiError::Unprocessable {
            code: "unknown_notice_version",
            message: format!(
                "site `{site_id}` has no published notice version `{}`",
                req.notice_version
            ),
        })?;
    let notice = &published.notice;
    let now = now_ms();
    if let Some(at) = state
        .catalog
        .superseded_at(site_id, &req.notice_version)
        .await?
        && now.saturating_sub(at) > SUPERSEDED_GRACE.as_millis() as i64
    {
        // A retry of a receipt stored in time (the widget resends until it hears back) is
        // still answered with that receipt.
        if let Some(existing) = state
            .store
            .receipt_by_request(site_id, &req.request_id)
            .await?
            && choice(&existing.receipt) == request_choice(&req)
        {
            return Ok((Recorded::Replay, existing));
        }
        return Err(ApiError::Unprocessable {
            code: "superseded_notice_version",
            message: format!(
                "notice version `{}` was replaced at {}; receipts under it are accepted for {} minutes after that: show the visitor the current notice",
                req.notice_version,
                rfc3339_ms(at),
                SUPERSEDED_GRACE.as_secs() / 60
            ),
        });
    }
    if notice.consent_revision != req.consent_revision {
        return Err(ApiError::Unprocessable {
            code: "wrong_consent_revision",
            message: format!(
                "notice version `{}` has consent_revision {}, not {}",
                notice.version, notice.consent_revision, req.consent_revision
            ),
        });
    }
    if let Err(m) = notice.check_decisions(&req.categories, &req.purposes) {
        let mut parts = Vec::new();
        if !m.missing.is_empty() {
            parts.push(format!("missing a decision for {}", m.missing.join(", ")));
        }
        if !m.unexpected.is_empty() {
            parts.push(format!(
                "{} not asked under this notice version",
                m.unexpected.join(", ")
            ));
        }
        return Err(ApiError::Unprocessable {
            code: "invalid_decisions",
            message: parts.join("; "),
        });
    }
    // PDPA s.20 governs giving consent: a refusal needs no age band and no guardian (it
    // may still carry the age the visitor gave).
    let grants = req.grants_anything();
    match (notice.minors, req.age_band, req.consent_by) {
        (MinorsPolicy::Off, None, None) => {}
        (MinorsPolicy::Off, _, _) => {
            return Err(ApiError::Unprocessable {
                code: "invalid_minors",
                message: "this notice does not ask an age: send neither age_band nor consent_by"
                    .into(),
            });
        }
        (MinorsPolicy::AskAge, Some(band), Some(by)) => {
            if band.needs_guardian() && by != ConsentBy::Guardian && grants {
                return Err(ApiError::Unprocessable {
                    code: "invalid_minors",
                    message: "under 20, a parent or guardian must give the consent (consent_by = guardian), PDPA s.20".into(),
                });
            }
        }
        (MinorsPolicy::AskAge, None, None) if !notice.minors.asks_age(grants) => {}
        (MinorsPolicy::AskAge, _, _) => {
            return Err(ApiError::Unprocessable {
                code: "invalid_minors",
                message: "this notice asks an age to give consent: send age_band and consent_by (a refusal may send neither)".into(),
            });
        }
    }
    req.check_method(notice)
        .map_err(|message| ApiError::Unprocessable {
            code: "method_mismatch",
            message,
        })?;

    // The writer decides given/refused/updated (it looks up the visitor's earlier receipts
    // for the whole group at once), then signs; see `finish`.
    let event = if req.method == Method::Withdraw {
        Event::Withdrawn
    } else if req
        .categories
        .values()
        .chain(req.purposes.values())
        .any(|g| *g)
    {
        Event::Given
    } else {
        Event::Refused
    };
    let valid_ms = i64::from(notice.consent_validity_days) * crate::dates::DAY_MS;
    let receipt = Receipt {
        schema: RECEIPT_SCHEMA.to_owned(),
        receipt_id: uuid::Uuid::now_v7().to_string(),
        request_id: req.request_id,
        issued_at: rfc3339_ms(now),
        jurisdiction: "TH".to_owned(),
        event,
        method: req.method,
        lang: req.lang,
        subject_id: req.subject_id,
        site: site.id.clone(),
        controller: notice.controller.name.th.clone(),
        notice: NoticeRef {
            version: notice.version.clone(),
            consent_revision: notice.consent_revision,
            sha256: published.sha256.clone(),
            url: format!(
                "{}/sites/{site_id}/notice/{}",
                state.settings.public_url, notice.version
            ),
        },
        categories: req.categories,
        purposes: req.purposes,
        valid_until: rfc3339_ms(now.saturating_add(valid_ms)),
        gpc: req.gpc,
        age_band: req.age_band,
        consent_by: req.consent_by,
        page: PageRef {
            origin: origin.to_owned(),
            path: req.page_path,
        },
        widget: req.widget,
    };
    let draft = Draft {
        receipt,
        issued_at_ms: now,
    };
    let (inserted, stored) = state.ingest.insert(draft).await?;
    match inserted {
        Inserted::New => Ok((Recorded::New, stored)),
        // The request_id was seen before (a retry, or a concurrent duplicate): answer with
        // the original receipt if the choice is the same.
        Inserted::Existing(existing) => {
            if choice(&existing.receipt) == choice(&stored.receipt) {
                Ok((Recorded::Replay, *existing))
            } else {
                Err(ApiError::RequestIdConflict(stored.receipt.request_id))
            }
        }
    }
}

/// A validated receipt not yet signed: its event is provisional until [`finish`].
#[derive(Debug, Clone)]
pub struct Draft {
    /// The receipt; `event` says given, refused or withdrawn.
    pub receipt: Receipt,
    /// `receipt.issued_at` in unix milliseconds.
    pub issued_at_ms: i64,
}

/// Completes a draft: a choice (not a withdrawal) by a visitor who already has a receipt on
/// the site is an update; then the receipt is serialized canonically and signed.
pub fn finish(
    mut draft: Draft,
    has_earlier: bool,
    signer: &crate::signing::Signer,
) -> Result<StoredReceipt, crate::store::StoreError> {
    if has_earlier && draft.receipt.event != Event::Withdrawn {
        draft.receipt.event = Event::Updated;
    }
    let json = to_canonical_json(&draft.receipt)
        .map_err(|e| crate::store::StoreError::Canonical(e.to_string()))?;
    let jws = signer.sign_at(json.as_bytes(), draft.issued_at_ms)?;
    Ok(StoredReceipt {
        receipt: draft.receipt,
        json,
        jws,
        issued_at_ms: draft.issued_at_ms,
    })
}

type Choice<'a> = (
    &'a str,
    &'a str,
    Method,
    &'a BTreeMap<Slug, bool>,
    &'a BTreeMap<Slug, bool>,
);

/// What must be equal for two requests with one `request_id` to be the same choice.
fn choice(r: &Receipt) -> Choice<'_> {
    (
        &r.subject_id,
        &r.notice.version,
        r.method,
        &r.categories,
        &r.purposes,
    )
}

/// [`choice`] of a request not yet made into a receipt.
fn request_choice(r: &ReceiptRequest) -> Choice<'_> {
    (
        &r.subject_id,
        &r.notice_version,
        r.method,
        &r.categories,
        &r.purposes,
    )
}

/// The result of checking one receipt offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Where it was in the input (1-based item number).
    pub item: usize,
    /// Receipt id, if readable.
    pub receipt_id: Option<String>,
    /// `Ok(summary)` or `Err(why it is not valid)`.
    pub outcome: Result<String, String>,
    /// The receipt the signature covers, when the signature verifies.
    pub signed: Option<Receipt>,
}

/// Verifies receipts offline against `jwks`. `doc` is one JSON document (`{receipt, jws}`
/// or an array of them), JSON Lines of them (as `receipts export --format jsonl` writes),
/// or bare compact JWS strings, one per line.
pub fn verify_document(doc: &str, jwks: &crate::signing::Jwks) -> Vec<Checked> {
    let items: Vec<serde_json::Value> = match serde_json::from_str::<serde_json::Value>(doc) {
        Ok(serde_json::Value::Array(a)) => a,
        Ok(v) => vec![v],
        Err(_) => doc
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|_| serde_json::Value::String(l.to_owned()))
            })
            .collect(),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| check_one(i + 1, &item, jwks))
        .collect()
}

fn check_one(item: usize, v: &serde_json::Value, jwks: &crate::signing::Jwks) -> Checked {
    let (jws, claimed) = match v {
        serde_json::Value::String(s) => (s.as_str(), None),
        serde_json::Value::Object(o) => match o.get("jws").and_then(|j| j.as_str()) {
            Some(j) => (j, o.get("receipt")),
            None => {
                return Checked {
                    item,
                    receipt_id: None,
                    outcome: Err("no `jws` field: nothing to verify".into()),
                    signed: None,
                };
            }
        },
        _ => {
            return Checked {
                item,
                receipt_id: None,
                outcome: Err("neither a JWS string nor a {receipt, jws} object".into()),
                signed: None,
            };
        }
    };
    let payload = match crate::signing::verify_receipt(jws, jwks) {
        Ok(p) => p,
        Err(e) => {
            return Checked {
                item,
                receipt_id: claimed
                    .and_then(|r| r.get("receipt_id"))
                    .and_then(|x| x.as_str())
                    .map(str::to_owned),
                outcome: Err(e.to_string()),
                signed: None,
            };
        }
    };
    let signed: Result<Receipt, _> = serde_json::from_slice(&payload);
    let Ok(signed) = signed else {
        return Checked {
            item,
            receipt_id: None,
            outcome: Err("the signature is valid but the content is not a Yinyom receipt".into()),
            signed: None,
        };
    };
    if let Some(claimed) = claimed {
        let same = to_canonical_json(claimed).is_ok_and(|c| c.as_bytes() == payload.as_slice());
        if !same {
            return Checked {
                item,
                receipt_id: Some(signed.receipt_id.clone()),
                outcome: Err(
                    "the receipt shown differs from the signed receipt: it was altered".into(),
                ),
                signed: Some(signed),
            };
        }
    }
    Checked {
        item,
        outcome: Ok(format!(
            "{} {} on {} under notice {} (sha256 {}) at {}",
            signed.event.as_str(),
            signed.method.as_str(),
            signed.site,
            signed.notice.version,
            &signed.notice.sha256[..signed.notice.sha256.len().min(12)],
            signed.issued_at
        )),
        receipt_id: Some(signed.receipt_id.clone()),
        signed: Some(signed),
    }
}
