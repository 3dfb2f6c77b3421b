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

/// Validates `req` against the notice version it names, signs the receipt and stores it.
/// Returns only after the receipt is committed. Idempotent on `request_id`.
pub async fn record(
    state: &AppState,
    site: &Site,
    origin: &str,
    req: ReceiptRequest,
) -> ApiResult<(Recorded, StoredReceipt)> {
    req.check().map_err(ApiError::BadRequest)?;
    let site_id = site.id.as_str();

    if let Some(existing) = state
        .store
        .receipt_by_request(site_id, &req.request_id)
        .await?
    {
        return replay(existing, &req);
    }

    let published = state
        .store
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
            if band.needs_guardian() && by != ConsentBy::Guardian && req.method != Method::Withdraw
            {
                return Err(ApiError::Unprocessable {
                    code: "invalid_minors",
                    message: "under 20, a parent or guardian must give the consent (consent_by = guardian), PDPA s.20".into(),
                });
            }
        }
        (MinorsPolicy::AskAge, _, _) => {
            return Err(ApiError::Unprocessable {
                code: "invalid_minors",
                message: "this notice asks an age: send age_band and consent_by".into(),
            });
        }
    }
    if req.method == Method::Withdraw
        && (req.categories.values().any(|g| *g) || req.purposes.values().any(|g| *g))
    {
        return Err(ApiError::Unprocessable {
            code: "invalid_decisions",
            message: "a withdrawal must deny every category and purpose".into(),
        });
    }

    let event = if req.method == Method::Withdraw {
        Event::Withdrawn
    } else if state
        .store
        .subject_has_receipts(site_id, &req.subject_id)
        .await?
    {
        Event::Updated
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
    let now = now_ms();
    let valid_ms = i64::from(notice.consent_validity_days) * 86_400_000;
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
    let json = to_canonical_json(&receipt).map_err(|e| anyhow::anyhow!(e.to_string()))?;
    let jws = state.signer.sign(json.as_bytes());
    let stored = StoredReceipt {
        receipt,
        json,
        jws,
        issued_at_ms: now,
    };
    match state.store.insert_receipt(&stored).await? {
        Inserted::New => Ok((Recorded::New, stored)),
        // A concurrent duplicate won the race: answer with its receipt.
        Inserted::Existing(existing) => {
            if choice(&existing.receipt) == choice(&stored.receipt) {
                Ok((Recorded::Replay, *existing))
            } else {
                Err(ApiError::RequestIdConflict(stored.receipt.request_id))
            }
        }
    }
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

/// A retry must carry the same choice as the original request.
fn replay(existing: StoredReceipt, req: &ReceiptRequest) -> ApiResult<(Recorded, StoredReceipt)> {
    let asked: Choice<'_> = (
        &req.subject_id,
        &req.notice_version,
        req.method,
        &req.categories,
        &req.purposes,
    );
    if choice(&existing.receipt) == asked {
        Ok((Recorded::Replay, existing))
    } else {
        Err(ApiError::RequestIdConflict(req.request_id.clone()))
    }
}
