//! A published notice version: what the visitor is shown and what a receipt refers to.

use crate::{Lang, Slug, Text};
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

/// The PDPA legal basis of a purpose. Only `consent` purposes are asked of the visitor;
/// the others are shown as notice (PDPA s.23, s.24).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// Consent (s.19).
    Consent,
    /// Necessary for a contract with the visitor (s.24(3)).
    Contract,
    /// Compliance with a law (s.24(6)).
    LegalObligation,
    /// A task in the public interest or official authority (s.24(4)).
    PublicTask,
    /// Preventing danger to life, body or health (s.24(2)).
    VitalInterest,
    /// Legitimate interest of the controller (s.24(5)).
    LegitimateInterest,
}

impl LegalBasis {
    /// The basis in plain words, with its PDPA section.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (LegalBasis::Consent, Lang::Th) => "ความยินยอม (มาตรา 19)",
            (LegalBasis::Consent, Lang::En) => "Consent (s.19)",
            (LegalBasis::Contract, Lang::Th) => "จำเป็นต่อการปฏิบัติตามสัญญา (มาตรา 24(3))",
            (LegalBasis::Contract, Lang::En) => "Necessary for a contract (s.24(3))",
            (LegalBasis::LegalObligation, Lang::Th) => "ปฏิบัติตามกฎหมาย (มาตรา 24(6))",
            (LegalBasis::LegalObligation, Lang::En) => "Legal obligation (s.24(6))",
            (LegalBasis::PublicTask, Lang::Th) => {
                "ภารกิจเพื่อประโยชน์สาธารณะหรือการใช้อำนาจรัฐ (มาตรา 24(4))"
            }
            (LegalBasis::PublicTask, Lang::En) => "Public task or official authority (s.24(4))",
            (LegalBasis::VitalInterest, Lang::Th) => {
                "ป้องกันอันตรายต่อชีวิต ร่างกาย หรือสุขภาพ (มาตรา 24(2))"
            }
            (LegalBasis::VitalInterest, Lang::En) => "Vital interest (s.24(2))",
            (LegalBasis::LegitimateInterest, Lang::Th) => "ประโยชน์โดยชอบด้วยกฎหมาย (มาตรา 24(5))",
            (LegalBasis::LegitimateInterest, Lang::En) => "Legitimate interest (s.24(5))",
        }
    }
}

/// A Google Consent Mode v2 signal a cookie category controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GcmSignal {
    /// `ad_storage`
    AdStorage,
    /// `ad_user_data`
    AdUserData,
    /// `ad_personalization`
    AdPersonalization,
    /// `analytics_storage`
    AnalyticsStorage,
    /// `functionality_storage`
    FunctionalityStorage,
    /// `personalization_storage`
    PersonalizationStorage,
    /// `security_storage`
    SecurityStorage,
}

/// A person or office: the data controller or the DPO.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// Name of the agency or office.
    pub name: Text,
    /// Postal address.
    #[serde(default)]
    pub address: Text,
    /// E-mail address.
    pub email: String,
    /// Telephone.
    #[serde(default)]
    pub phone: String,
    /// Web address.
    #[serde(default)]
    pub url: String,
}

/// One purpose of processing, with its legal basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    /// Id, unique among the site's purposes and categories.
    pub id: Slug,
    /// The PDPA legal basis.
    pub legal_basis: LegalBasis,
    /// Short title.
    pub title: Text,
    /// What is done and why, in plain words.
    pub description: Text,
    /// The personal data used.
    #[serde(default)]
    pub data: Vec<Text>,
    /// How long the data is kept.
    pub retention: Text,
    /// Who receives the data (processors, other agencies), with their countries.
    #[serde(default)]
    pub recipients: Vec<Text>,
    /// Countries outside Thailand where the data is stored or sent (ISO 3166-1 alpha-2,
    /// e.g. `SG`): the storage locations of the ISO/IEC TS 27560 record, besides `TH`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<String>,
    /// Where a consent purpose is asked (`asked` in the site file): in the banner and
    /// settings (the default), or only on the site's forms.
    #[serde(default, skip_serializing_if = "Asked::is_banner")]
    pub asked: Asked,
}

/// Where the visitor is asked a consent purpose.
///
/// A purpose that only makes sense where its data is collected (health data on a
/// consent form, a newsletter on its sign-up page) is asked on that form only
/// (`asked = "form"`): the banner and settings neither show nor need it, the notice still
/// lists it. Left out of a notice's JSON when `banner`, so notices written before this
/// field keep their hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Asked {
    /// In the banner and the settings (and on any form that carries it).
    #[default]
    Banner,
    /// Only on the site's forms (`data-yinyom-purpose` checkboxes).
    Form,
}

impl Asked {
    /// Whether this is the default, [`Asked::Banner`].
    pub fn is_banner(&self) -> bool {
        *self == Asked::Banner
    }
}

/// A cookie category (`necessary`, `functional`, `analytics`, `marketing` or custom).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Id, used in `data-yinyom="…"` attributes.
    pub id: Slug,
    /// Required categories are always on and not asked.
    #[serde(default)]
    pub required: bool,
    /// Short title.
    pub title: Text,
    /// What these cookies do.
    pub description: Text,
    /// Google Consent Mode signals granted with this category.
    #[serde(default)]
    pub gcm: Vec<GcmSignal>,
    /// The cookies of this category.
    #[serde(default)]
    pub cookies: Vec<Cookie>,
}

/// One row of a category's cookie table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cookie {
    /// Cookie name; a trailing `*` matches a prefix (`_ga_*`).
    pub name: String,
    /// Who sets it: per language, or one plain string for a name that needs no
    /// translation ("Google (YouTube)"), which also keeps older notices readable.
    #[serde(deserialize_with = "Text::per_language_or_plain")]
    pub provider: Text,
    /// How long it lasts.
    pub duration: Text,
    /// What it is for.
    pub purpose: Text,
}

/// PDPA s.20: how the widget handles visitors who may be minors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinorsPolicy {
    /// Age is not asked.
    #[default]
    Off,
    /// The visitor picks an age band before giving consent; under 20, a parent or
    /// guardian must confirm it, and the receipt records who gave consent. Refusing
    /// needs neither ([`MinorsPolicy::asks_age`]).
    AskAge,
}

impl MinorsPolicy {
    /// Whether a choice needs the age band (and, under 20, a guardian): only when it
    /// grants something. PDPA s.20 governs giving consent; refusing or withdrawing (a
    /// choice that grants nothing) never needs an age or a guardian.
    pub fn asks_age(self, grants_anything: bool) -> bool {
        self == MinorsPolicy::AskAge && grants_anything
    }
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

    /// Purposes the visitor decides (legal basis `consent`), wherever they are asked: a
    /// form may decide any of them.
    pub fn consent_purposes(&self) -> impl Iterator<Item = &Purpose> {
        self.purposes
            .iter()
            .filter(|p| p.legal_basis == LegalBasis::Consent)
    }

    /// Consent purposes the banner and settings ask ([`Asked::Banner`]).
    pub fn banner_purposes(&self) -> impl Iterator<Item = &Purpose> {
        self.consent_purposes().filter(|p| p.asked == Asked::Banner)
    }

    /// Consent purposes asked only on forms ([`Asked::Form`]).
    pub fn form_only_purposes(&self) -> impl Iterator<Item = &Purpose> {
        self.consent_purposes().filter(|p| p.asked == Asked::Form)
    }

    /// Checks that `categories` and `purposes` decide exactly what the banner and settings
    /// ask: every optional category and every consent purpose asked there. Form-only
    /// purposes are neither needed nor accepted (a form receipt decides those).
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
            self.banner_purposes().map(|p| &p.id),
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
