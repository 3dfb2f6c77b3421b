//! The widget's receipt request and the server's consent receipt.

use crate::{
    Lang, Slug,
    notice::{MinorsPolicy, Notice, is_sharing},
    text::find_bidi_control,
};
use serde::{Deserialize, Deserializer, Serialize, de};
use std::{collections::BTreeMap, fmt};

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
    /// A form on the site (a registration, an application): the decisions are the
    /// consent purposes of that form, and the receipt's `context` names it.
    Form,
    /// Staff withdrew every consent on the data subject's behalf, answering their request
    /// (recorded only from the console; the receipt's `case_reference` names the case).
    OnBehalf,
    /// A paper form the person signed, entered by staff (a DPO or an admin) in the console
    /// or the admin API; like a form receipt, `context` names the form. Never from a
    /// visitor ([`Method::staff_only`]).
    Paper,
}

impl Method {
    /// The snake_case name, as stored and exported.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::AcceptAll => "accept_all",
            Method::RejectAll => "reject_all",
            Method::SavePreferences => "save_preferences",
            Method::Withdraw => "withdraw",
            Method::Form => "form",
            Method::OnBehalf => "on_behalf",
            Method::Paper => "paper",
        }
    }

    /// Whether only staff may record a receipt with this method: a visitor's request
    /// naming it is refused (422 `staff_only_method`).
    pub fn staff_only(self) -> bool {
        matches!(self, Method::Paper | Method::OnBehalf)
    }

    /// Whether the receipt comes from a form (on the web or on paper): it names the form
    /// (`context`) and decides only consent purposes of it.
    pub fn is_form(self) -> bool {
        matches!(self, Method::Form | Method::Paper)
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

    /// The event once it is known whether the visitor already has a receipt on the site:
    /// a choice (not a withdrawal) after an earlier receipt is an update.
    pub fn after_earlier(self, has_earlier: bool) -> Event {
        if has_earlier && self != Event::Withdrawn {
            Event::Updated
        } else {
            self
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
    /// Every band, youngest first.
    pub const ALL: [AgeBand; 3] = [AgeBand::Under10, AgeBand::From10To19, AgeBand::Adult];

    /// Whether a parent or guardian must give or confirm the consent.
    pub fn needs_guardian(self) -> bool {
        self != AgeBand::Adult
    }

    /// The wire name (`under_10`, `10_19`, `20_plus`), as in a receipt request.
    pub fn as_str(self) -> &'static str {
        match self {
            AgeBand::Under10 => "under_10",
            AgeBand::From10To19 => "10_19",
            AgeBand::Adult => "20_plus",
        }
    }

    /// Reads a wire name back.
    pub fn from_name(name: &str) -> Option<AgeBand> {
        AgeBand::ALL.into_iter().find(|b| b.as_str() == name)
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

impl ConsentBy {
    /// The wire name (`subject`, `guardian`).
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentBy::Subject => "subject",
            ConsentBy::Guardian => "guardian",
        }
    }
}

/// What the widget posts to `POST /v1/sites/{site}/receipts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptRequest {
    /// A random UUID made by the widget for this choice: the visitor's retry with the same
    /// id returns the same receipt instead of a second one (another visitor's same id is
    /// another request).
    pub request_id: String,
    /// The pseudonymous visitor id: a random secret kept in the visitor's browser.
    pub subject_id: String,
    /// The notice version shown.
    pub notice_version: String,
    /// Its consent revision.
    pub consent_revision: u32,
    /// How the choice was made.
    pub method: Method,
    /// The form's name (`data-yinyom-form`): present exactly when `method` is `form`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Slug>,
    /// The agency's own reference for the person, from the form field
    /// `data-yinyom-reference` names (a form receipt only; [`check_reference`]). The
    /// server keeps only a keyed hash of it, never this text, and it is not in the receipt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Language the notice was shown in.
    pub lang: Lang,
    /// A decision for every optional cookie category (none for a form).
    #[serde(deserialize_with = "unique_keys")]
    pub categories: BTreeMap<Slug, bool>,
    /// A decision for every `consent` purpose (for a form: each consent purpose of the
    /// form, and only those).
    #[serde(default, deserialize_with = "unique_keys")]
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

    /// Checks the fields that serde cannot: id formats, the page path, the widget build.
    /// Duplicate keys are refused by serde itself (every field once; [`unique_keys`] for
    /// the decisions).
    pub fn check(&self) -> Result<(), String> {
        if !is_uuid(&self.request_id) {
            return Err("request_id must be a UUID".into());
        }
        if !is_subject_id(&self.subject_id) {
            return Err("subject_id must be 16-64 characters of A-Z, a-z, 0-9, - or _".into());
        }
        check_page_path(&self.page_path)?;
        if !is_build_id(&self.widget) {
            return Err(
                "widget must be the widget build id: 16 lower-case hexadecimal characters".into(),
            );
        }
        if self.notice_version.is_empty() || self.notice_version.len() > 64 {
            return Err("notice_version must be 1-64 characters".into());
        }
        if let Some(r) = &self.reference {
            check_reference(r)?;
        }
        Ok(())
    }

    /// The request with its ids in lower case: `request_id` and `subject_id` compare
    /// case-insensitively, so an upper-case copy of a request id is the same request.
    pub fn normalized(mut self) -> Self {
        self.request_id.make_ascii_lowercase();
        self.subject_id.make_ascii_lowercase();
        self.reference = self.reference.map(|r| r.trim().to_owned());
        self
    }

    /// Checks the request against the notice version it names, in this order: the
    /// consent revision, the decisions ([`Notice::check_decisions`]), the age band and who
    /// gave consent (PDPA s.20), the method ([`ReceiptRequest::check_method`]). The first
    /// misfit is returned; the server answers it with 422 and its `code`.
    pub fn check_against(&self, notice: &Notice) -> Result<(), Misfit> {
        let misfit = |code, message: String| Err(Misfit { code, message });
        if notice.consent_revision != self.consent_revision {
            return misfit(
                "wrong_consent_revision",
                format!(
                    "notice version `{}` has consent_revision {}, not {}",
                    notice.version, notice.consent_revision, self.consent_revision
                ),
            );
        }
        if self.method.is_form() {
            self.check_form(notice)?;
        } else if self.context.is_some() {
            return misfit(
                "invalid_context",
                "only a form receipt (method `form` or `paper`) names a context".into(),
            );
        } else if self.reference.is_some() {
            return misfit(
                "invalid_reference",
                "only a form receipt (method `form` or `paper`) carries a reference".into(),
            );
        } else if let Err(m) =
            notice.check_decisions(&self.categories, &self.banner_purposes(notice))
        {
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
            return misfit("invalid_decisions", parts.join("; "));
        }
        // PDPA s.20 governs giving consent: a refusal needs no age band and no guardian (it
        // may still carry the age the visitor gave).
        let grants = self.grants_anything();
        match (notice.minors, self.age_band, self.consent_by) {
            (MinorsPolicy::Off, None, None) => {}
            (MinorsPolicy::Off, _, _) => {
                return misfit(
                    "invalid_minors",
                    "this notice does not ask an age: send neither age_band nor consent_by".into(),
                );
            }
            (MinorsPolicy::AskAge, Some(band), Some(by)) => {
                if band.needs_guardian() && by != ConsentBy::Guardian && grants {
                    return misfit(
                        "invalid_minors",
                        "under 20, a parent or guardian must give the consent (consent_by = guardian), PDPA s.20".into(),
                    );
                }
            }
            (MinorsPolicy::AskAge, None, None) if !notice.minors.asks_age(grants) => {}
            (MinorsPolicy::AskAge, _, _) => {
                return misfit(
                    "invalid_minors",
                    "this notice asks an age to give consent: send age_band and consent_by (a refusal may send neither)".into(),
                );
            }
        }
        self.check_method(notice)
            .or_else(|message| misfit("method_mismatch", message))
    }

    /// The purposes a banner or settings receipt must decide exactly: all it decides, except
    /// that a withdrawal may also withdraw form-only purposes (as refused: "Withdraw all"
    /// withdraws what a form granted too; [`ReceiptRequest::check_method`] sees that it
    /// grants nothing).
    fn banner_purposes(&self, notice: &Notice) -> BTreeMap<Slug, bool> {
        let form_only = |id: &Slug| notice.form_only_purposes().any(|p| &p.id == id);
        self.purposes
            .iter()
            .filter(|(id, _)| self.method != Method::Withdraw || !form_only(id))
            .map(|(id, g)| (id.clone(), *g))
            .collect()
    }

    /// A form receipt names its form (`context`) and decides only consent purposes of the
    /// notice, at least one, and no cookie category: a form asks about what it collects,
    /// the banner about cookies. Misfits are 422 `invalid_context` or `invalid_decisions`.
    fn check_form(&self, notice: &Notice) -> Result<(), Misfit> {
        let misfit = |code, message: String| Err(Misfit { code, message });
        if self.context.is_none() {
            return misfit(
                "invalid_context",
                "a form receipt names its form: send context (the form's data-yinyom-form)".into(),
            );
        }
        if !self.categories.is_empty() {
            return misfit(
                "invalid_decisions",
                "a form receipt decides purposes only: send categories as {}".into(),
            );
        }
        if self.purposes.is_empty() {
            return misfit(
                "invalid_decisions",
                "a form receipt decides at least one consent purpose".into(),
            );
        }
        let unexpected: Vec<String> = self
            .purposes
            .keys()
            .filter(|id| !notice.consent_purposes().any(|p| &p.id == *id))
            .map(|id| format!("purpose `{id}`"))
            .collect();
        if !unexpected.is_empty() {
            return misfit(
                "invalid_decisions",
                format!(
                    "{} not asked under this notice version (only consent purposes are)",
                    unexpected.join(", ")
                ),
            );
        }
        Ok(())
    }

    /// The event of the receipt this request makes, as far as the request alone says:
    /// withdrawn, given (something is granted) or refused. The server makes a given or
    /// refused choice an update when the visitor already has a receipt on the site
    /// ([`Event::after_earlier`]).
    pub fn event(&self) -> Event {
        if matches!(self.method, Method::Withdraw | Method::OnBehalf) {
            Event::Withdrawn
        } else if self.grants_anything() {
            Event::Given
        } else {
            Event::Refused
        }
    }

    /// What must be equal for two requests with one `request_id` to be the same choice.
    pub fn choice(&self) -> Choice<'_> {
        Choice {
            subject_id: &self.subject_id,
            notice_version: &self.notice_version,
            method: self.method,
            context: self.context.as_ref(),
            categories: &self.categories,
            purposes: &self.purposes,
        }
    }

    /// Checks that `method` agrees with the decisions: "Reject all" and "Withdraw" grant
    /// nothing; "Accept all" refuses nothing, except the data-sharing categories of
    /// `notice` when the browser sent Global Privacy Control ([`is_sharing`]). Says what
    /// disagrees.
    pub fn check_method(&self, notice: &Notice) -> Result<(), String> {
        let gpc_keeps_off = |id: &Slug| {
            self.gpc
                && notice
                    .categories
                    .iter()
                    .any(|c| &c.id == id && is_sharing(c))
        };
        let decisions = || self.categories.iter().chain(self.purposes.iter());
        let (wrong, what): (Vec<&Slug>, &str) = match self.method {
            Method::RejectAll | Method::Withdraw | Method::OnBehalf => (
                decisions().filter(|(_, g)| **g).map(|(id, _)| id).collect(),
                "grants",
            ),
            Method::AcceptAll => (
                self.categories
                    .iter()
                    .filter(|(id, g)| !**g && !gpc_keeps_off(id))
                    .chain(self.purposes.iter().filter(|(_, g)| !**g))
                    .map(|(id, _)| id)
                    .collect(),
                "refuses",
            ),
            Method::SavePreferences | Method::Form | Method::Paper => return Ok(()),
        };
        if wrong.is_empty() {
            return Ok(());
        }
        let named: Vec<String> = wrong.iter().map(|id| format!("`{id}`")).collect();
        Err(format!(
            "method `{}` {what} nothing, but the request {what} {}",
            self.method.as_str(),
            named.join(", ")
        ))
    }
}

/// Why a well-formed receipt request does not fit the notice version it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misfit {
    /// Stable code, e.g. `invalid_decisions` (the API's error code).
    pub code: &'static str,
    /// What is wrong, naming the offending fields.
    pub message: String,
}

/// The choice a request or a receipt records: two requests with one `request_id` are the
/// same request (a retry) only if their choices are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice<'a> {
    /// The visitor.
    pub subject_id: &'a str,
    /// The notice version shown.
    pub notice_version: &'a str,
    /// How the choice was made.
    pub method: Method,
    /// The form, for a form receipt.
    pub context: Option<&'a Slug>,
    /// Category decisions.
    pub categories: &'a BTreeMap<Slug, bool>,
    /// Purpose decisions.
    pub purposes: &'a BTreeMap<Slug, bool>,
}

/// Longest agency reference (`data-yinyom-reference`), in characters.
pub const MAX_REFERENCE: usize = 128;

/// Checks an agency's reference for a person (a tax id, an application number), as sent:
/// 1 to [`MAX_REFERENCE`] characters once trimmed, no control or bidirectional control
/// character. Compared exactly as trimmed (case matters: it is the agency's own id).
pub fn check_reference(r: &str) -> Result<(), String> {
    let r = r.trim();
    if r.is_empty() || r.chars().count() > MAX_REFERENCE {
        Err(format!(
            "reference must be 1-{MAX_REFERENCE} characters (leading and trailing spaces do not count)"
        ))
    } else if r.chars().any(char::is_control) || find_bidi_control(r).is_some() {
        Err("reference must not contain control characters".into())
    } else {
        Ok(())
    }
}

/// Longest `page_path`, in bytes.
pub const MAX_PAGE_PATH: usize = 512;

/// Checks that `p` is the path of a page (what `location.pathname` gives): it starts with
/// one `/` (not `//host`), has no query string, fragment, backslash, control or
/// bidirectional control character, and is at most [`MAX_PAGE_PATH`] bytes.
pub fn check_page_path(p: &str) -> Result<(), String> {
    let problem = if !p.starts_with('/') || p.starts_with("//") {
        "must start with a single `/` (a path, not an address)".to_owned()
    } else if p.len() > MAX_PAGE_PATH {
        format!("must be at most {MAX_PAGE_PATH} bytes")
    } else if p.contains(['?', '#']) {
        "must not carry a query string or fragment (send location.pathname)".to_owned()
    } else if p.contains('\\') || p.chars().any(char::is_control) {
        "must not contain backslashes or control characters".to_owned()
    } else if let Some(c) = find_bidi_control(p) {
        format!("must not contain bidirectional control characters ({c})")
    } else {
        return Ok(());
    };
    Err(format!("page_path {problem}"))
}

/// Whether `s` is a widget build id as `cargo xtask dist` makes it (`xtask/src/dist.rs`):
/// the first 8 bytes of a SHA-256, as 16 lower-case hexadecimal characters.
pub fn is_build_id(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Reads a decision map, refusing a key given twice (a JSON object may repeat a key; the
/// last one would silently win).
fn unique_keys<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Slug, bool>, D::Error> {
    struct Decisions;
    impl<'de> de::Visitor<'de> for Decisions {
        type Value = BTreeMap<Slug, bool>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of decisions (id: true or false)")
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((id, granted)) = map.next_entry::<Slug, bool>()? {
                if out.contains_key(&id) {
                    return Err(de::Error::custom(format!("duplicate key `{id}`")));
                }
                out.insert(id, granted);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Decisions)
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

/// A paper consent form, as a receipt entered by staff names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperForm {
    /// The paper form's own document number (the agency's numbering), 1-64 characters.
    pub document: String,
    /// The day the person signed it (`YYYY-MM-DD`, Gregorian, Thailand time).
    pub signed_on: String,
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
    /// The form's name, for a form receipt (method `form` or `paper`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Slug>,
    /// The signed paper form, for a receipt staff entered from paper (method `paper`):
    /// its document number and the day it was signed (`issued_at` is the entry time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper: Option<PaperForm>,
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
    /// The data-subject request case this receipt answers (e.g. `2569-000123`), for a
    /// withdrawal by staff on the subject's behalf (method `on_behalf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_reference: Option<String>,
    /// The same visitor's previous receipt on the site: base64url (no padding) of the
    /// SHA-256 of its canonical JSON. Absent on a visitor's first receipt (and on receipts
    /// made before chains existed). Dropping a receipt from the middle of a visitor's
    /// history breaks the chain; the newest is protected by the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// The host page.
    pub page: PageRef,
    /// Widget build.
    pub widget: String,
}

impl Receipt {
    /// The choice this receipt records ([`ReceiptRequest::choice`]).
    pub fn choice(&self) -> Choice<'_> {
        Choice {
            subject_id: &self.subject_id,
            notice_version: &self.notice.version,
            method: self.method,
            context: self.context.as_ref(),
            categories: &self.categories,
            purposes: &self.purposes,
        }
    }
}

/// The answer to a receipt request: the receipt and its compact JWS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptResponse {
    /// The receipt.
    pub receipt: Receipt,
    /// Compact JWS (EdDSA) over the receipt's canonical JSON.
    pub jws: String,
}

/// One entry of a visitor's history, and the bundle a visitor keeps: the receipt, its
/// compact JWS and, once the receipt is in the site's log, its C2SP tlog-proof (index,
/// inclusion proof and the cosigned checkpoint it is proved against).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The receipt.
    pub receipt: Receipt,
    /// Compact JWS (EdDSA) over the receipt's canonical JSON.
    pub jws: String,
    /// The tlog-proof text; absent while the receipt is not yet in the witnessed log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names the widget writes (`as_str`) are serde's, and read back.
    #[test]
    fn wire_names_are_serdes() {
        for b in AgeBand::ALL {
            assert_eq!(
                serde_json::to_value(b).expect("json"),
                serde_json::json!(b.as_str())
            );
            assert_eq!(AgeBand::from_name(b.as_str()), Some(b));
        }
        assert_eq!(AgeBand::from_name("adult"), None);
        for by in [ConsentBy::Subject, ConsentBy::Guardian] {
            assert_eq!(
                serde_json::to_value(by).expect("json"),
                serde_json::json!(by.as_str())
            );
        }
        for m in [
            Method::AcceptAll,
            Method::RejectAll,
            Method::SavePreferences,
            Method::Withdraw,
            Method::Form,
            Method::OnBehalf,
            Method::Paper,
        ] {
            assert_eq!(
                serde_json::to_value(m).expect("json"),
                serde_json::json!(m.as_str())
            );
        }
    }

    fn request() -> ReceiptRequest {
        serde_json::from_value(serde_json::json!({
            "request_id": "0192F0C1-7D4E-7A3B-9C2D-1E2F3A4B5C6D", "subject_id": "Visitor-0123456789",
            "notice_version": "v1", "consent_revision": 1, "method": "save_preferences",
            "lang": "th", "categories": {"analytics": true}, "purposes": {"news": false},
            "page_path": "/services", "widget": "1a61231d77bc9120"
        }))
        .expect("request")
    }

    /// A notice asking `analytics` and `marketing` (sharing) and the purpose `news` in the
    /// banner, and the purpose `health` only on forms.
    fn notice() -> Notice {
        let category = |id: &str| serde_json::json!({"id": id, "title": {"th": id}, "description": {"th": id}});
        let text = serde_json::json!({"th": "x"});
        let party = serde_json::json!({"name": text, "email": "dpo@x.go.th"});
        serde_json::from_value(serde_json::json!({
            "site": "demo", "version": "v1", "consent_revision": 1, "effective_from": "2025-01-01",
            "consent_validity_days": 365, "languages": ["th"], "site_name": text,
            "controller": party, "dpo": party, "title": text, "summary": text, "body": text,
            "purposes": [{"id": "news", "legal_basis": "consent", "title": text,
                          "description": text, "retention": text},
                         {"id": "health", "legal_basis": "consent", "asked": "form", "title": text,
                          "description": text, "retention": text}],
            "categories": [category("analytics"), category("marketing")],
        }))
        .expect("notice")
    }

    #[test]
    fn the_method_agrees_with_the_decisions() {
        let n = notice();
        let mut r = request();
        r.categories
            .insert(Slug::parse("marketing").expect("slug"), false);
        assert_eq!(r.check_method(&n), Ok(()));
        r.method = Method::RejectAll;
        assert!(r.check_method(&n).is_err_and(|e| e.contains("`analytics`")));
        r.method = Method::Withdraw;
        assert!(r.check_method(&n).is_err_and(|e| e.contains("`analytics`")));
        r.method = Method::AcceptAll;
        let e = r.check_method(&n).expect_err("refuses");
        assert!(e.contains("`news`") && e.contains("`marketing`"), "{e}");
        r.purposes.insert(Slug::parse("news").expect("slug"), true);
        assert!(r.check_method(&n).is_err_and(|e| e.contains("`marketing`")));
        // With Global Privacy Control, "Accept all" keeps the sharing categories off.
        r.gpc = true;
        assert_eq!(r.check_method(&n), Ok(()));
        r.categories
            .insert(Slug::parse("analytics").expect("slug"), false);
        assert!(r.check_method(&n).is_err_and(|e| e.contains("`analytics`")));
    }

    #[test]
    fn a_request_fits_its_notice_or_says_the_first_misfit() {
        let n = notice();
        let mut r = request();
        r.categories
            .insert(Slug::parse("marketing").expect("slug"), false);
        assert_eq!(r.check_against(&n), Ok(()));
        let code = |r: &ReceiptRequest| r.check_against(&n).map_err(|m| m.code);
        let mut wrong = r.clone();
        wrong.consent_revision = 2;
        assert_eq!(code(&wrong), Err("wrong_consent_revision"));
        // Only staff withdraw on a subject's behalf, even granting nothing.
        let mut staff = r.clone();
        staff.method = Method::OnBehalf;
        staff.categories.values_mut().for_each(|g| *g = false);
        assert!(staff.method.staff_only());
        assert_eq!(staff.event(), Event::Withdrawn);
        let mut wrong = r.clone();
        wrong.categories.clear();
        let m = wrong.check_against(&n).expect_err("missing");
        assert_eq!(m.code, "invalid_decisions");
        assert!(
            m.message
                .contains("missing a decision for category `analytics`"),
            "{m:?}"
        );
        let mut wrong = r.clone();
        wrong.age_band = Some(AgeBand::Under10);
        assert_eq!(code(&wrong), Err("invalid_minors"));
        let mut wrong = r.clone();
        wrong.method = Method::RejectAll;
        assert_eq!(code(&wrong), Err("method_mismatch"));
        // Under 20, a grant needs a guardian; a refusal needs no age at all.
        let mut minors = n.clone();
        minors.minors = MinorsPolicy::AskAge;
        assert_eq!(
            r.check_against(&minors).map_err(|m| m.code),
            Err("invalid_minors")
        );
        let mut child = r.clone();
        child.age_band = Some(AgeBand::Under10);
        child.consent_by = Some(ConsentBy::Subject);
        assert_eq!(
            child.check_against(&minors).map_err(|m| m.code),
            Err("invalid_minors")
        );
        child.consent_by = Some(ConsentBy::Guardian);
        assert_eq!(child.check_against(&minors), Ok(()));
        let mut refusal = r.clone();
        refusal.categories.values_mut().for_each(|g| *g = false);
        refusal.purposes.values_mut().for_each(|g| *g = false);
        refusal.method = Method::RejectAll;
        assert_eq!(refusal.check_against(&minors), Ok(()));
    }

    /// A form receipt names its form and decides some consent purposes, nothing else; only
    /// a form receipt names a form.
    #[test]
    fn a_form_receipt_decides_only_the_purposes_of_its_form() {
        let n = notice();
        let mut form = request();
        form.method = Method::Form;
        form.context = Some(Slug::parse("registration").expect("slug"));
        form.categories.clear();
        assert_eq!(form.check_against(&n), Ok(()));
        let code = |r: &ReceiptRequest| r.check_against(&n).map_err(|m| m.code);
        let mut wrong = form.clone();
        wrong.context = None;
        assert_eq!(code(&wrong), Err("invalid_context"));
        let mut wrong = form.clone();
        wrong
            .categories
            .insert(Slug::parse("analytics").expect("slug"), true);
        assert_eq!(code(&wrong), Err("invalid_decisions"));
        let mut wrong = form.clone();
        wrong.purposes.clear();
        assert_eq!(code(&wrong), Err("invalid_decisions"));
        let mut wrong = form.clone();
        wrong
            .purposes
            .insert(Slug::parse("service").expect("slug"), true);
        let m = wrong.check_against(&n).expect_err("not a consent purpose");
        assert_eq!(m.code, "invalid_decisions");
        assert!(m.message.contains("purpose `service`"), "{m:?}");
        // A banner receipt names no form.
        let mut banner = request();
        banner
            .categories
            .insert(Slug::parse("marketing").expect("slug"), false);
        banner.context = form.context.clone();
        assert_eq!(code(&banner), Err("invalid_context"));
        // The form is part of the choice: the same request id for another form is not a retry.
        let mut other = form.clone();
        other.context = Some(Slug::parse("news").expect("slug"));
        assert_ne!(form.choice(), other.choice());
        // Serialized, a banner request has no context key (receipts signed before forms
        // existed keep their canonical JSON).
        let json = serde_json::to_value(request()).expect("json");
        assert!(json.get("context").is_none());
        assert_eq!(
            serde_json::to_value(&form).expect("json")["context"],
            "registration"
        );
    }

    /// A form-only purpose is neither needed nor accepted in a banner or settings choice;
    /// a form decides it; "Withdraw all" may withdraw it, never grant it.
    #[test]
    fn form_only_purposes_are_decided_on_forms() {
        let n = notice();
        let slug = |s: &str| Slug::parse(s).expect("slug");
        let mut banner = request();
        banner.categories.insert(slug("marketing"), false);
        assert_eq!(
            n.check_decisions(&banner.categories, &banner.purposes),
            Ok(())
        );
        assert_eq!(banner.check_against(&n), Ok(()));
        for method in [
            Method::AcceptAll,
            Method::SavePreferences,
            Method::RejectAll,
        ] {
            let mut wrong = banner.clone();
            wrong.method = method;
            wrong
                .categories
                .values_mut()
                .for_each(|g| *g = method == Method::AcceptAll);
            wrong
                .purposes
                .values_mut()
                .for_each(|g| *g = method == Method::AcceptAll);
            wrong
                .purposes
                .insert(slug("health"), method == Method::AcceptAll);
            let m = wrong
                .check_against(&n)
                .expect_err("form-only in the banner");
            assert_eq!(m.code, "invalid_decisions", "{method:?}");
            assert!(m.message.contains("purpose `health` not asked"), "{m:?}");
        }
        let mut form = request();
        form.method = Method::Form;
        form.context = Some(slug("consent-form"));
        form.categories.clear();
        form.purposes = BTreeMap::from([(slug("health"), true)]);
        assert_eq!(form.check_against(&n), Ok(()));
        form.purposes.insert(slug("news"), false);
        assert_eq!(form.check_against(&n), Ok(()));
        let mut withdraw = banner.clone();
        withdraw.method = Method::Withdraw;
        withdraw.categories.values_mut().for_each(|g| *g = false);
        withdraw.purposes.insert(slug("health"), false);
        assert_eq!(withdraw.check_against(&n), Ok(()));
        withdraw.purposes.remove(&slug("health"));
        assert_eq!(withdraw.check_against(&n), Ok(()));
        withdraw.purposes.insert(slug("health"), true);
        let m = withdraw
            .check_against(&n)
            .expect_err("a withdrawal grants nothing");
        assert_eq!(m.code, "method_mismatch");
    }

    /// A paper receipt follows a form receipt's rules; only staff may record one; only a
    /// form receipt carries a reference, bounded and trimmed.
    #[test]
    fn the_event_follows_the_choice_and_earlier_receipts() {
        let mut r = request();
        assert_eq!(r.event(), Event::Given);
        assert_eq!(r.event().after_earlier(true), Event::Updated);
        r.categories.values_mut().for_each(|g| *g = false);
        assert_eq!(r.event(), Event::Refused);
        assert_eq!(r.event().after_earlier(false), Event::Refused);
        r.method = Method::Withdraw;
        assert_eq!(r.event().after_earlier(true), Event::Withdrawn);
    }

    #[test]
    fn page_paths_are_paths() {
        assert_eq!(check_page_path("/"), Ok(()));
        assert_eq!(check_page_path("/บริการ/a%20b"), Ok(()));
        for bad in [
            "",
            "services",
            "//evil.example/x",
            "/a?b=1",
            "/a#top",
            "/a\\b",
            "/a\nb",
            "/a\u{7f}",
            "/a\u{202E}b",
            &format!("/{}", "a".repeat(MAX_PAGE_PATH)),
        ] {
            assert!(
                check_page_path(bad).is_err_and(|e| e.starts_with("page_path")),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn widget_is_a_build_id() {
        assert!(is_build_id("1a61231d77bc9120"));
        assert!(!is_build_id("1A61231D77BC9120"));
        assert!(!is_build_id("test-build"));
        let mut r = request();
        r.widget = "<script>".into();
        assert!(r.check().is_err_and(|e| e.starts_with("widget")));
    }

    #[test]
    fn ids_are_compared_in_lower_case() {
        let r = request();
        assert_eq!(r.check(), Ok(()));
        let r = r.normalized();
        assert_eq!(r.request_id, "0192f0c1-7d4e-7a3b-9c2d-1e2f3a4b5c6d");
        assert_eq!(r.subject_id, "visitor-0123456789");
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let body = |extra: &str| {
            format!(
                r#"{{"request_id":"0192f0c1-7d4e-7a3b-9c2d-1e2f3a4b5c6d","subject_id":"visitor-0123456789",
                "notice_version":"v1","consent_revision":1,"method":"save_preferences","lang":"th",
                "categories":{{"analytics":true{extra}}},"page_path":"/","widget":"1a61231d77bc9120"}}"#
            )
        };
        assert!(serde_json::from_str::<ReceiptRequest>(&body("")).is_ok());
        let e = serde_json::from_str::<ReceiptRequest>(&body(r#","analytics":false"#))
            .expect_err("duplicate decision");
        assert!(e.to_string().contains("duplicate key `analytics`"), "{e}");
        let twice = body("").replacen(r#""lang":"th","#, r#""lang":"th","lang":"en","#, 1);
        let e = serde_json::from_str::<ReceiptRequest>(&twice).expect_err("duplicate field");
        assert!(e.to_string().contains("duplicate field `lang`"), "{e}");
    }

    #[test]
    fn uuids_are_recognised() {
        assert!(is_uuid("0192f0c1-7d4e-7a3b-9c2d-1e2f3a4b5c6d"));
        assert!(!is_uuid("0192f0c1-7d4e-7a3b-9c2d-1e2f3a4b5c6"));
        assert!(!is_uuid("0192f0c1x7d4e-7a3b-9c2d-1e2f3a4b5c6d"));
    }
}
