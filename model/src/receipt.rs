//! The widget's receipt request and the server's consent receipt.

use crate::{Lang, Slug};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The schema identifier written into every receipt.
pub const RECEIPT_SCHEMA: &str = "yinyom.receipt/1";

/// How the visitor made the choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// "Accept all" in the banner or preferences.
    AcceptAll,
    /// "Reject all" in the banner or preferences.
    RejectAll,
    /// "Save choices" in the preferences.
    SavePreferences,
    /// "Withdraw all".
    Withdraw,
}

impl Method {
    /// The snake_case name, as stored and exported.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::AcceptAll => "accept_all",
            Method::RejectAll => "reject_all",
            Method::SavePreferences => "save_preferences",
            Method::Withdraw => "withdraw",
        }
    }
}

/// The kind of consent event a receipt records. Receipts are never edited: a change is a
/// new receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// First choice that grants something.
    Given,
    /// First choice that grants nothing.
    Refused,
    /// A later choice by the same visitor.
    Updated,
    /// Everything withdrawn.
    Withdrawn,
    /// The consent ran out.
    Expired,
}

impl Event {
    /// The snake_case name, as stored and exported.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Given => "given",
            Event::Refused => "refused",
            Event::Updated => "updated",
            Event::Withdrawn => "withdrawn",
            Event::Expired => "expired",
        }
    }
}

/// The visitor's age band, asked when the notice's minors mode is on (PDPA s.20).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AgeBand {
    /// Under 10: only a parent or guardian may consent.
    #[serde(rename = "under_10")]
    Under10,
    /// 10 to 19: a minor; a parent or guardian confirms.
    #[serde(rename = "10_19")]
    From10To19,
    /// 20 or older (sui juris under the Civil and Commercial Code).
    #[serde(rename = "20_plus")]
    Adult,
}

impl AgeBand {
    /// Whether a parent or guardian must give or confirm the consent.
    pub fn needs_guardian(self) -> bool {
        self != AgeBand::Adult
    }
}

/// Who gave the consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentBy {
    /// The visitor.
    Subject,
    /// A parent or legal guardian, on the visitor's behalf.
    Guardian,
}

/// What the widget posts to `POST /v1/sites/{site}/receipts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptRequest {
    /// A random UUID made by the widget for this choice: a retry with the same id returns
    /// the same receipt instead of a second one.
    pub request_id: String,
    /// The pseudonymous visitor id: a random secret kept in the visitor's browser.
    pub subject_id: String,
    /// The notice version shown.
    pub notice_version: String,
    /// Its consent revision.
    pub consent_revision: u32,
    /// How the choice was made.
    pub method: Method,
    /// Language the notice was shown in.
    pub lang: Lang,
    /// A decision for every optional cookie category.
    pub categories: BTreeMap<Slug, bool>,
    /// A decision for every `consent` purpose.
    #[serde(default)]
    pub purposes: BTreeMap<Slug, bool>,
    /// Whether the browser sent Global Privacy Control.
    #[serde(default)]
    pub gpc: bool,
    /// Age band, when the notice's minors mode asks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_band: Option<AgeBand>,
    /// Who gave the consent, when the notice's minors mode asks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_by: Option<ConsentBy>,
    /// Path of the host page (no query string, no fragment).
    pub page_path: String,
    /// Widget build that showed the notice.
    pub widget: String,
}

impl ReceiptRequest {
    /// Whether the choice grants any category or purpose (a refusal grants none).
    pub fn grants_anything(&self) -> bool {
        self.categories
            .values()
            .chain(self.purposes.values())
            .any(|g| *g)
    }

    /// Checks the fields that serde cannot: id formats and lengths.
    pub fn check(&self) -> Result<(), String> {
        if !is_uuid(&self.request_id) {
            return Err("request_id must be a UUID".into());
        }
        if !is_subject_id(&self.subject_id) {
            return Err("subject_id must be 16-64 characters of A-Z, a-z, 0-9, - or _".into());
        }
        if !self.page_path.starts_with('/') || self.page_path.len() > 512 {
            return Err("page_path must be an absolute path of at most 512 characters".into());
        }
        if self.widget.is_empty() || self.widget.len() > 64 {
            return Err("widget must name the widget build in 1-64 characters".into());
        }
        if self.notice_version.is_empty() || self.notice_version.len() > 64 {
            return Err("notice_version must be 1-64 characters".into());
        }
        Ok(())
    }
}

/// Whether `s` is a valid pseudonymous subject id: 16-64 characters of A-Z, a-z, 0-9, - or _.
pub fn is_subject_id(s: &str) -> bool {
    (16..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `s` is a UUID in its canonical 8-4-4-4-12 hex form.
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// The notice version a receipt was given under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeRef {
    /// Version label.
    pub version: String,
    /// Consent revision.
    pub consent_revision: u32,
    /// SHA-256 of the notice's canonical JSON.
    pub sha256: String,
    /// Address of the archived notice page (the receipt's `policyUrl`).
    pub url: String,
}

/// Where the choice was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRef {
    /// Origin of the host page, as sent by the browser.
    pub origin: String,
    /// Path of the host page.
    pub path: String,
}

/// A consent receipt: one consent event, never edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Always [`RECEIPT_SCHEMA`].
    pub schema: String,
    /// Receipt id (UUIDv7: sortable by time).
    pub receipt_id: String,
    /// The widget's request id (idempotency key).
    pub request_id: String,
    /// Server time of the event (RFC 3339, UTC, milliseconds).
    pub issued_at: String,
    /// Jurisdiction: `TH`.
    pub jurisdiction: String,
    /// What happened.
    pub event: Event,
    /// How.
    pub method: Method,
    /// Language the notice was shown in.
    pub lang: Lang,
    /// Pseudonymous visitor id.
    pub subject_id: String,
    /// Site id.
    pub site: Slug,
    /// Name of the data controller (Thai).
    pub controller: String,
    /// The notice version shown.
    pub notice: NoticeRef,
    /// Decision per optional cookie category.
    pub categories: BTreeMap<Slug, bool>,
    /// Decision per consent purpose.
    pub purposes: BTreeMap<Slug, bool>,
    /// End of validity (RFC 3339, UTC): the visitor is asked again after it.
    pub valid_until: String,
    /// Global Privacy Control was on.
    pub gpc: bool,
    /// Age band, when asked (minors mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_band: Option<AgeBand>,
    /// Who gave the consent, when asked (minors mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_by: Option<ConsentBy>,
    /// The host page.
    pub page: PageRef,
    /// Widget build.
    pub widget: String,
}

/// The answer to a receipt request: the receipt and its compact JWS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptResponse {
    /// The receipt.
    pub receipt: Receipt,
    /// Compact JWS (EdDSA) over the receipt's canonical JSON.
    pub jws: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_recognised() {
        assert!(is_uuid("0192f0c1-7d4e-7a3b-9c2d-1e2f3a4b5c6d"));
        assert!(!is_uuid("0192f0c1-7d4e-7a3b-9c2d-1e2f3a4b5c6"));
        assert!(!is_uuid("0192f0c1x7d4e-7a3b-9c2d-1e2f3a4b5c6d"));
    }
}
