//! Turning a visitor's choice into a consent receipt: [`record`] checks the request
//! against the notice version it names (the rules are the model's,
//! [`ReceiptRequest::check_against`]), drafts the receipt and hands it to [`Ingest`],
//! which signs and stores it. Also the offline check of signed receipts
//! ([`verify_document`]).

use crate::{
    catalog::Catalog,
    error::{ApiError, ApiResult},
    ingest::{Draft, Ingest},
    store::{Inserted, Store, StoredReceipt, now_ms, rfc3339_ms},
};
use yinyom_model::{
    canonical::to_canonical_json,
    receipt::{NoticeRef, PageRef, PaperForm, RECEIPT_SCHEMA, Receipt, ReceiptRequest},
    site::Site,
};

/// Whether a receipt was made now or returned from an earlier identical request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new receipt was written.
    New,
    /// The `request_id` was seen before: the original receipt is returned.
    Replay,
}

/// How long browsers and proxies may keep a site's loader (`yinyom.js`,
/// `Cache-Control: max-age`). Short, so a new notice version reaches returning visitors
/// quickly; a page may show the previous version for this long after a publication (see
/// [`SUPERSEDED_GRACE`]).
pub const LOADER_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(300);

/// How long after a newer notice version is published a receipt under the one it replaced
/// is still accepted: a page may run a loader cached for [`LOADER_MAX_AGE`] before the
/// publication, and its visitor needs a moment to choose, so twice that. Later such a
/// receipt is refused (422 `superseded_notice_version`): the visitor never saw the
/// version that was current when it arrived.
pub const SUPERSEDED_GRACE: std::time::Duration = LOADER_MAX_AGE.saturating_mul(2);

/// What recording a receipt needs of the server.
#[derive(Debug, Clone, Copy)]
pub struct Recorder<'a> {
    /// Sites and notice versions in memory.
    pub catalog: &'a Catalog,
    /// The database (a late retry's earlier receipt).
    pub store: &'a Store,
    /// The group commit that signs and writes.
    pub ingest: &'a Ingest,
    /// The server's public URL (the receipt links its notice).
    pub public_url: &'a str,
    /// Turns the visitor's secret into the pseudonym the receipt carries.
    pub subjects: &'a crate::subjects::SubjectKey,
}

/// Validates `req` against the notice version it names, drafts the receipt and has it
/// signed and stored. Returns only after the receipt is committed. Idempotent on the
/// visitor's `request_id`: the writer finds a retry among the visitor's receipts (no
/// lookup before, since retries are rare).
///
/// This is the visitor's door: a method only staff may use (`paper`) is refused with 422
/// `staff_only_method`; staff enter paper consent through [`record_paper`].
pub async fn record(
    rec: Recorder<'_>,
    site: &Site,
    origin: &str,
    req: ReceiptRequest,
) -> ApiResult<(Recorded, StoredReceipt)> {
    req.check().map_err(ApiError::BadRequest)?;
    if req.method.staff_only() {
        return Err(ApiError::Unprocessable {
            code: "staff_only_method",
            message: format!(
                "method `{}` is entered by the site's staff in the console, not sent from a page",
                req.method.as_str()
            ),
        });
    }
    let mut req = req.normalized();
    // From here on the visitor is their pseudonym: the secret is never stored.
    req.subject_id = rec.subjects.pseudonym(&req.subject_id);
    record_as(rec, site, origin, req, None).await
}

/// Records a consent given on a paper form, entered by staff ([`crate::paper`]): `req`
/// (method `paper`) names the subject by its pseudonym already, and `paper` (the form's
/// document number and signing day) goes into the signed receipt. Otherwise exactly the
/// visitor's path: the same checks against the notice, signed, chained, logged, webhooks.
pub async fn record_paper(
    rec: Recorder<'_>,
    site: &Site,
    origin: &str,
    req: ReceiptRequest,
    paper: PaperForm,
) -> ApiResult<(Recorded, StoredReceipt)> {
    req.check().map_err(ApiError::BadRequest)?;
    record_as(rec, site, origin, req.normalized(), Some(paper)).await
}

/// [`record`] once the subject is its pseudonym. A form's `reference` is linked (as its
/// keyed hash, [`crate::subjects::SubjectKey::reference_hash`]) to the receipt's subject
/// once the receipt is stored; it is never in the receipt.
async fn record_as(
    rec: Recorder<'_>,
    site: &Site,
    origin: &str,
    req: ReceiptRequest,
    paper: Option<PaperForm>,
) -> ApiResult<(Recorded, StoredReceipt)> {
    let site_id = site.id.as_str();

    let published = rec
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
    if let Some(at) = rec
        .catalog
        .superseded_at(site_id, &req.notice_version)
        .await?
        && now.saturating_sub(at) > SUPERSEDED_GRACE.as_millis() as i64
    {
        // A retry of a receipt stored in time (the widget resends until it hears back) is
        // still answered with that receipt.
        if let Some(existing) = rec
            .store
            .receipt_by_request(site_id, &req.subject_id, &req.request_id)
            .await?
            && existing.receipt.choice() == req.choice()
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
    req.check_against(notice)
        .map_err(|m| ApiError::Unprocessable {
            code: m.code,
            message: m.message,
        })?;

    // The writer decides given/refused/updated (it looks up the visitor's earlier receipts
    // for the whole group at once), then signs; see `ingest`.
    let valid_ms = i64::from(notice.consent_validity_days) * crate::dates::DAY_MS;
    let reference = req.reference.clone();
    let receipt = Receipt {
        schema: RECEIPT_SCHEMA.to_owned(),
        receipt_id: uuid::Uuid::now_v7().to_string(),
        event: req.event(),
        request_id: req.request_id,
        issued_at: rfc3339_ms(now),
        jurisdiction: "TH".to_owned(),
        method: req.method,
        context: req.context,
        paper,
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
                rec.public_url, notice.version
            ),
        },
        categories: req.categories,
        purposes: req.purposes,
        valid_until: rfc3339_ms(now.saturating_add(valid_ms)),
        gpc: req.gpc,
        age_band: req.age_band,
        consent_by: req.consent_by,
        case_reference: None,
        previous: None,
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
    let (inserted, stored) = rec.ingest.insert(draft).await?;
    let answer = match inserted {
        Inserted::New => (Recorded::New, stored),
        // The request_id was seen before (a retry, or a concurrent duplicate): answer with
        // the original receipt if the choice is the same.
        Inserted::Existing(existing) => {
            if existing.receipt.choice() == stored.receipt.choice() {
                (Recorded::Replay, *existing)
            } else {
                return Err(ApiError::RequestIdConflict(stored.receipt.request_id));
            }
        }
    };
    // After the receipt: a failure here answers 503 and the sender's retry (the same
    // request_id) links it then.
    if let Some(reference) = reference {
        rec.store
            .link_reference(
                site_id,
                &rec.subjects.reference_hash(site_id, &reference),
                &answer.1.receipt.subject_id,
            )
            .await?;
    }
    Ok(answer)
}

/// Records a withdrawal of every consent (each consent purpose and optional category of
/// the site's current notice refused) that staff make on behalf of the data subject
/// `subject` (their pseudonym), answering case `case_reference`: method `on_behalf`, the
/// case in `case_reference`, `page` the console page it was made on. It goes the way of
/// every receipt (signed, chained to the subject's previous receipt, queued for the log,
/// webhooks), so a visitor cannot tell it from one they made, but by its method.
pub async fn record_on_behalf(
    rec: Recorder<'_>,
    site: &Site,
    subject: &str,
    case_reference: &str,
    page: PageRef,
) -> ApiResult<StoredReceipt> {
    let site_id = site.id.as_str();
    let published =
        rec.store
            .current_notice(site_id)
            .await?
            .ok_or_else(|| ApiError::Unprocessable {
                code: "no_notice",
                message: format!("site `{site_id}` has no published notice to withdraw under"),
            })?;
    let notice = &published.notice;
    let now = now_ms();
    let valid_ms = i64::from(notice.consent_validity_days) * crate::dates::DAY_MS;
    let receipt = Receipt {
        schema: RECEIPT_SCHEMA.to_owned(),
        receipt_id: uuid::Uuid::now_v7().to_string(),
        request_id: uuid::Uuid::now_v7().to_string(),
        issued_at: rfc3339_ms(now),
        jurisdiction: "TH".to_owned(),
        event: yinyom_model::receipt::Event::Withdrawn,
        method: yinyom_model::receipt::Method::OnBehalf,
        context: None,
        paper: None,
        lang: yinyom_model::Lang::Th,
        subject_id: subject.to_ascii_lowercase(),
        site: site.id.clone(),
        controller: notice.controller.name.th.clone(),
        notice: NoticeRef {
            version: notice.version.clone(),
            consent_revision: notice.consent_revision,
            sha256: published.sha256.clone(),
            url: format!(
                "{}/sites/{site_id}/notice/{}",
                rec.public_url, notice.version
            ),
        },
        categories: notice
            .optional_categories()
            .map(|c| (c.id.clone(), false))
            .collect(),
        purposes: notice
            .consent_purposes()
            .map(|p| (p.id.clone(), false))
            .collect(),
        valid_until: rfc3339_ms(now.saturating_add(valid_ms)),
        gpc: false,
        age_band: None,
        consent_by: None,
        case_reference: Some(case_reference.to_owned()),
        previous: None,
        page,
        widget: "console".to_owned(),
    };
    let (inserted, stored) = rec
        .ingest
        .insert(Draft {
            receipt,
            issued_at_ms: now,
        })
        .await?;
    match inserted {
        Inserted::New => Ok(stored),
        // A fresh random request id cannot have been used before.
        Inserted::Existing(_) => Err(ApiError::RequestIdConflict(stored.receipt.request_id)),
    }
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
    /// What its tlog-proof shows, when it came with one that verifies.
    pub in_log: Option<crate::log::proof::InLog>,
}

/// What a receipt's log proof is checked against (`receipts verify --vkey --policy`).
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// The log's verifier key (C2SP vkey, as served at `…/log/vkey`).
    pub vkey: Option<crate::log::note::Vkey>,
    /// The witness policy (C2SP tlog-policy, as served at `…/log/policy`).
    pub policy: Option<crate::log::proof::Policy>,
}

/// Verifies receipts offline against `jwks`. `doc` is one JSON document (`{receipt, jws}`
/// or an array of them), JSON Lines of them (as `receipts export --format jsonl` writes),
/// or bare compact JWS strings, one per line.
pub fn verify_document(doc: &str, jwks: &crate::signing::Jwks) -> Vec<Checked> {
    verify_document_with(doc, jwks, &Trust::default())
}

/// [`verify_document`], also checking each entry's `proof` (a C2SP tlog-proof, as a
/// visitor's history and bundles carry it): the receipt is included in the proof's
/// checkpoint, which the log's vkey signed and the policy's witnesses cosigned.
pub fn verify_document_with(doc: &str, jwks: &crate::signing::Jwks, trust: &Trust) -> Vec<Checked> {
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
        .map(|(i, item)| check_one(i + 1, &item, jwks, trust))
        .collect()
}

/// Checks one entry: a compact JWS string or a `{receipt, jws, proof}` object.
pub fn check_one(
    item: usize,
    v: &serde_json::Value,
    jwks: &crate::signing::Jwks,
    trust: &Trust,
) -> Checked {
    let mut proof = None;
    let (jws, claimed) = match v {
        serde_json::Value::String(s) => (s.as_str(), None),
        serde_json::Value::Object(o) => match o.get("jws").and_then(|j| j.as_str()) {
            Some(j) => {
                proof = o.get("proof").and_then(|p| p.as_str());
                (j, o.get("receipt"))
            }
            None => {
                return Checked {
                    item,
                    receipt_id: None,
                    outcome: Err("no `jws` field: nothing to verify".into()),
                    signed: None,
                    in_log: None,
                };
            }
        },
        _ => {
            return Checked {
                item,
                receipt_id: None,
                outcome: Err("neither a JWS string nor a {receipt, jws} object".into()),
                signed: None,
                in_log: None,
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
                in_log: None,
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
            in_log: None,
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
                in_log: None,
            };
        }
    }
    let in_log = match proof.map(|p| {
        crate::log::proof::check(
            p,
            &payload,
            signed.site.as_str(),
            trust.vkey.as_ref(),
            trust.policy.as_ref(),
        )
    }) {
        None => None,
        Some(Ok(in_log)) => Some(in_log),
        Some(Err(why)) => {
            return Checked {
                item,
                receipt_id: Some(signed.receipt_id.clone()),
                outcome: Err(format!(
                    "the signature is valid but the log proof is not: {why}"
                )),
                signed: Some(signed),
                in_log: None,
            };
        }
    };
    let log = match &in_log {
        None => "; no log proof (not yet in the log, or a bare JWS)".to_owned(),
        Some(l) => format!(
            "; in the log {} at index {} of {}{}{}",
            l.origin,
            l.index,
            l.size,
            if l.signed_checked {
                ""
            } else {
                " (checkpoint signature not checked: give --vkey or --policy)"
            },
            if l.cosigned_by.is_empty() {
                String::new()
            } else {
                format!(", cosigned by {}", l.cosigned_by.join(", "))
            }
        ),
    };
    Checked {
        item,
        outcome: Ok(format!(
            "{} {} on {} under notice {} (sha256 {}) at {}{log}",
            signed.event.as_str(),
            signed.method.as_str(),
            signed.site,
            signed.notice.version,
            &signed.notice.sha256[..signed.notice.sha256.len().min(12)],
            signed.issued_at
        )),
        receipt_id: Some(signed.receipt_id.clone()),
        signed: Some(signed),
        in_log,
    }
}
