//! The consent-check API's answer: a subject's current decision per purpose and category
//! at a site, from the subject's latest receipt there, and for what that receipt does not
//! decide (a form receipt decides only its form's purposes; a banner receipt no form-only
//! purpose), from the newest earlier receipt that does. Withdrawn or expired consent
//! answers every item denied.

use crate::{
    error::{ApiError, ApiResult},
    store::{AuditAction, Store, StoredReceipt, now_ms},
};
use std::collections::BTreeMap;

/// Where the subject's consent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The latest receipt is in force: its decisions apply.
    Active,
    /// The subject withdrew: everything is denied.
    Withdrawn,
    /// The latest receipt is past its `valid_until`: everything is denied until the
    /// subject chooses again.
    Expired,
}

/// `GET /v1/sites/{site}/subjects/{subject}/consent`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Answer {
    /// The subject asked about.
    pub subject: String,
    /// Whether the latest receipt is in force.
    pub status: Status,
    /// Per cookie category: may it be used now.
    pub categories: BTreeMap<String, bool>,
    /// Per purpose: may the data be processed for it now.
    pub purposes: BTreeMap<String, bool>,
    /// The receipt the answer comes from.
    pub receipt_id: String,
    /// The notice version that receipt was given under.
    pub notice_version: String,
    /// When that receipt's consent runs out (RFC 3339).
    pub valid_until: String,
}

impl Answer {
    /// The answer `stored` (the subject's latest receipt) gives at `now_ms`.
    pub fn of(stored: &StoredReceipt, now_ms: i64) -> Self {
        let r = &stored.receipt;
        let until = time::OffsetDateTime::parse(
            &r.valid_until,
            &time::format_description::well_known::Rfc3339,
        )
        .map(|t| t.unix_timestamp_nanos() / 1_000_000);
        let status = if r.event == yinyom_model::receipt::Event::Withdrawn
            || r.method == yinyom_model::receipt::Method::Withdraw
        {
            Status::Withdrawn
        } else if until.is_ok_and(|u| u > i128::from(now_ms)) {
            Status::Active
        } else {
            // Past its validity, or a validity we cannot read: denied.
            Status::Expired
        };
        let granted = |g: bool| g && status == Status::Active;
        Self {
            subject: r.subject_id.clone(),
            status,
            categories: r
                .categories
                .iter()
                .map(|(k, g)| (k.to_string(), granted(*g)))
                .collect(),
            purposes: r
                .purposes
                .iter()
                .map(|(k, g)| (k.to_string(), granted(*g)))
                .collect(),
            receipt_id: r.receipt_id.clone(),
            notice_version: r.notice.version.clone(),
            valid_until: r.valid_until.clone(),
        }
    }
}

/// How many of a subject's newest receipts an answer reads (see [`Answer::of_history`]).
pub const RECEIPTS_READ: i64 = 10;

impl Answer {
    /// The answer from a subject's receipts, newest first (at most [`RECEIPTS_READ`]): the
    /// latest gives the status, the receipt id, the version and the validity; each
    /// category and purpose it does not decide is answered from the newest earlier receipt
    /// that decides it, granted only while that receipt is itself valid, and nothing from
    /// before a withdrawal. `None` when there is no receipt.
    pub fn of_history(history: &[StoredReceipt], now_ms: i64) -> Option<Self> {
        let (latest, earlier) = history.split_first()?;
        let mut answer = Self::of(latest, now_ms);
        if answer.status != Status::Active {
            return Some(answer);
        }
        for r in earlier {
            let older = Self::of(r, now_ms);
            if older.status == Status::Withdrawn {
                break;
            }
            for (k, g) in older.categories {
                answer.categories.entry(k).or_insert(g);
            }
            for (k, g) in older.purposes {
                answer.purposes.entry(k).or_insert(g);
            }
        }
        Some(answer)
    }
}

/// Who asks, for the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Asker<'a> {
    /// `service:<name>`, or a console principal's actor.
    pub actor: &'a str,
    /// The client address.
    pub client: &'a str,
}

/// Whose consent is asked.
#[derive(Debug, Clone, Copy)]
pub enum Whose<'a> {
    /// A subject, under the ids its receipts may be stored under: the subject as given
    /// (the pseudonym a receipt carries, or a raw id from before pseudonyms) and the
    /// pseudonym of it (when the caller holds the visitor's secret).
    Subject(&'a [String; 2]),
    /// The person the agency's reference names: the keyed hash of it
    /// (`SubjectKey::reference_hash`); the receipts of every subject linked to it.
    Reference(&'a str),
}

/// The current consent of a subject (or of the person an agency's reference names) at
/// `site`, audited (`consent.check`, with the receipt id or `none`, and `by reference`
/// when asked by reference; never the subject nor the reference). 404 when there is no
/// receipt there.
pub async fn check(
    store: &Store,
    asker: Asker<'_>,
    site: &str,
    whose: Whose<'_>,
) -> ApiResult<Answer> {
    let (history, how) = match whose {
        Whose::Subject(ids) => (store.subject_receipts(site, ids, RECEIPTS_READ).await?, ""),
        Whose::Reference(hash) => (
            store.reference_receipts(site, hash, RECEIPTS_READ).await?,
            "by reference: ",
        ),
    };
    let detail = history
        .first()
        .map_or("none", |r| r.receipt.receipt_id.as_str());
    store
        .audit(
            asker.actor,
            AuditAction::ConsentCheck,
            Some(site),
            &format!("{how}{detail}"),
            asker.client,
        )
        .await?;
    Answer::of_history(&history, now_ms()).ok_or_else(|| {
        ApiError::NotFound(match whose {
            Whose::Subject(_) => format!("no consent recorded for this subject on site `{site}`"),
            Whose::Reference(_) => {
                format!("no consent recorded under this reference on site `{site}`")
            }
        })
    })
}
