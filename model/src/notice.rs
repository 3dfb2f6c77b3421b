//! A published notice version: what the visitor is shown and what a receipt refers to.

use crate::{
    Lang, Slug, Text,
    site::{Category, GcmSignal, LegalBasis, MinorsPolicy, Party, Purpose},
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The content of one notice version. Immutable once published; its canonical JSON
/// (RFC 8785) is hashed with SHA-256 and the hash goes into every receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The site this notice belongs to.
    pub site: Slug,
    /// Version label.
    pub version: String,
    /// Consent revision: when it rises, every visitor is asked again.
    pub consent_revision: u32,
    /// Date the notice takes effect, `YYYY-MM-DD`.
    pub effective_from: String,
    /// Days a consent stays valid.
    pub consent_validity_days: u32,
    /// Languages, Thai first.
    pub languages: Vec<Lang>,
    /// Site name.
    pub site_name: Text,
    /// The data controller.
    pub controller: Party,
    /// The data protection officer.
    pub dpo: Party,
    /// Banner title.
    pub title: Text,
    /// Banner summary.
    pub summary: Text,
    /// Minors mode (PDPA s.20): `ask_age` makes the widget ask an age band first.
    #[serde(default, skip_serializing_if = "is_off")]
    pub minors: MinorsPolicy,
    /// Full notice text, Markdown (rendered and sanitized by the server).
    pub body: Text,
    /// Purposes of processing.
    pub purposes: Vec<Purpose>,
    /// Cookie categories.
    pub categories: Vec<Category>,
}

/// Whether `c` is a marketing or data-sharing category (id `marketing`, or it grants a
/// Google Consent Mode ad signal): Global Privacy Control keeps these off, even on
/// "accept all" (the widget, `widget/src/host.rs`, and the loader's banner,
/// `widget/js/banner.js`, which gets the result from the server: `loader::BannerView`).
pub fn is_sharing(c: &Category) -> bool {
    c.id.as_str() == "marketing"
        || c.gcm.iter().any(|g| {
            matches!(
                g,
                GcmSignal::AdStorage | GcmSignal::AdUserData | GcmSignal::AdPersonalization
            )
        })
}

/// A notice as served: its content plus what the server adds on publication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedNotice {
    /// The immutable content.
    pub notice: Notice,
    /// SHA-256 (hex) of the content's canonical JSON.
    pub sha256: String,
    /// When this version was published (RFC 3339, UTC).
    pub published_at: String,
}

/// Why a set of decisions does not match a notice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DecisionMismatch {
    /// Categories or purposes the visitor must decide but that are absent.
    pub missing: Vec<String>,
    /// Names that are not decided by the visitor under this notice.
    pub unexpected: Vec<String>,
}

impl Notice {
    /// Cookie categories the visitor decides (the non-required ones).
    pub fn optional_categories(&self) -> impl Iterator<Item = &Category> {
        self.categories.iter().filter(|c| !c.required)
    }

    /// Purposes the visitor decides (legal basis `consent`).
    pub fn consent_purposes(&self) -> impl Iterator<Item = &Purpose> {
        self.purposes
            .iter()
            .filter(|p| p.legal_basis == LegalBasis::Consent)
    }

    /// Checks that `categories` and `purposes` decide exactly what this notice asks.
    pub fn check_decisions(
        &self,
        categories: &BTreeMap<Slug, bool>,
        purposes: &BTreeMap<Slug, bool>,
    ) -> Result<(), DecisionMismatch> {
        let mut m = DecisionMismatch::default();
        diff(
            self.optional_categories().map(|c| &c.id),
            categories,
            "category",
            &mut m,
        );
        diff(
            self.consent_purposes().map(|p| &p.id),
            purposes,
            "purpose",
            &mut m,
        );
        if m.missing.is_empty() && m.unexpected.is_empty() {
            Ok(())
        } else {
            Err(m)
        }
    }
}

fn is_off(m: &MinorsPolicy) -> bool {
    *m == MinorsPolicy::Off
}

fn diff<'a>(
    asked: impl Iterator<Item = &'a Slug>,
    given: &BTreeMap<Slug, bool>,
    kind: &str,
    m: &mut DecisionMismatch,
) {
    let asked: Vec<&Slug> = asked.collect();
    for id in &asked {
        if !given.contains_key(*id) {
            m.missing.push(format!("{kind} `{id}`"));
        }
    }
    for id in given.keys() {
        if !asked.contains(&id) {
            m.unexpected.push(format!("{kind} `{id}`"));
        }
    }
}
