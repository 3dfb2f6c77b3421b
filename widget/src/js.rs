//! The widget's boundary with JavaScript, kept small on purpose.
//!
//! The notice arrives as a plain JS object (the loader's `response.json()`). Reading the
//! fields the widget needs with `Reflect` and building the model's types by hand costs a
//! fraction of what serde's derived deserializers cost in wasm (see BENCHMARKS.md and
//! `docs/ARCHITECTURE.md`); the widget's tests check that every field survives the trip.
//! The receipt request goes back as JSON written by [`Json`].

use wasm_bindgen::JsValue;
use yinyom_model::{
    Lang, Slug, Text,
    notice::Notice,
    site::{Asked, Category, Cookie, GcmSignal, LegalBasis, MinorsPolicy, Party, Purpose},
};

/// `o[k]`, or `undefined`.
pub fn get(o: &JsValue, k: &str) -> JsValue {
    js_sys::Reflect::get(o, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
}

/// `o[k]` as a string, or empty.
pub fn string(o: &JsValue, k: &str) -> String {
    get(o, k).as_string().unwrap_or_default()
}

/// `o[k]` as a number, or 0.
pub fn number(o: &JsValue, k: &str) -> f64 {
    get(o, k).as_f64().unwrap_or(0.0)
}

/// `o[k]` as the items of an array (none when it is not one).
pub fn items(o: &JsValue, k: &str) -> Vec<JsValue> {
    let v = get(o, k);
    if js_sys::Array::is_array(&v) {
        js_sys::Array::from(&v).iter().collect()
    } else {
        Vec::new()
    }
}

/// `o[k]` as a `{th, en}` text.
pub fn text(o: &JsValue, k: &str) -> Text {
    let t = get(o, k);
    Text {
        th: string(&t, "th"),
        en: string(&t, "en"),
    }
}

fn texts(o: &JsValue, k: &str) -> Vec<Text> {
    items(o, k)
        .iter()
        .map(|t| Text {
            th: string(t, "th"),
            en: string(t, "en"),
        })
        .collect()
}

fn slug(o: &JsValue) -> Option<Slug> {
    Slug::parse(&string(o, "id")).ok()
}

fn party(o: &JsValue, k: &str) -> Party {
    let p = get(o, k);
    Party {
        name: text(&p, "name"),
        address: text(&p, "address"),
        email: string(&p, "email"),
        phone: string(&p, "phone"),
        url: string(&p, "url"),
    }
}

/// The serde name of a legal basis, read back.
pub fn legal_basis(s: &str) -> Option<LegalBasis> {
    Some(match s {
        "consent" => LegalBasis::Consent,
        "contract" => LegalBasis::Contract,
        "legal_obligation" => LegalBasis::LegalObligation,
        "public_task" => LegalBasis::PublicTask,
        "vital_interest" => LegalBasis::VitalInterest,
        "legitimate_interest" => LegalBasis::LegitimateInterest,
        _ => return None,
    })
}

fn gcm(s: &str) -> Option<GcmSignal> {
    Some(match s {
        "ad_storage" => GcmSignal::AdStorage,
        "ad_user_data" => GcmSignal::AdUserData,
        "ad_personalization" => GcmSignal::AdPersonalization,
        "analytics_storage" => GcmSignal::AnalyticsStorage,
        "functionality_storage" => GcmSignal::FunctionalityStorage,
        "personalization_storage" => GcmSignal::PersonalizationStorage,
        "security_storage" => GcmSignal::SecurityStorage,
        _ => return None,
    })
}

/// Reads a published notice (`GET /v1/sites/{site}/notice`) into the model's [`Notice`].
/// The full Markdown body is left out: the notice viewer shows the server's sanitized page.
pub fn notice(published: &JsValue) -> Option<Notice> {
    let n = get(published, "notice");
    let site = Slug::parse(&string(&n, "site")).ok()?;
    let version = string(&n, "version");
    if version.is_empty() {
        return None;
    }
    let purposes = items(&n, "purposes")
        .iter()
        .filter_map(|p| {
            Some(Purpose {
                id: slug(p)?,
                legal_basis: legal_basis(&string(p, "legal_basis"))?,
                title: text(p, "title"),
                description: text(p, "description"),
                data: texts(p, "data"),
                retention: text(p, "retention"),
                recipients: texts(p, "recipients"),
                countries: Vec::new(),
                asked: if string(p, "asked") == "form" {
                    Asked::Form
                } else {
                    Asked::Banner
                },
            })
        })
        .collect();
    let categories = items(&n, "categories")
        .iter()
        .filter_map(|c| {
            Some(Category {
                id: slug(c)?,
                required: get(c, "required").is_truthy(),
                title: text(c, "title"),
                description: text(c, "description"),
                gcm: items(c, "gcm")
                    .iter()
                    .filter_map(|g| gcm(&g.as_string()?))
                    .collect(),
                cookies: items(c, "cookies")
                    .iter()
                    .map(|k| Cookie {
                        name: string(k, "name"),
                        provider: text(k, "provider"),
                        duration: text(k, "duration"),
                        purpose: text(k, "purpose"),
                    })
                    .collect(),
            })
        })
        .collect();
    let languages = items(&n, "languages")
        .iter()
        .filter_map(|l| Lang::from_tag(&l.as_string()?))
        .collect();
    Some(Notice {
        site,
        version,
        consent_revision: number(&n, "consent_revision") as u32,
        effective_from: string(&n, "effective_from"),
        consent_validity_days: number(&n, "consent_validity_days") as u32,
        languages,
        site_name: text(&n, "site_name"),
        controller: party(&n, "controller"),
        dpo: party(&n, "dpo"),
        title: text(&n, "title"),
        summary: text(&n, "summary"),
        minors: if string(&n, "minors") == "ask_age" {
            MinorsPolicy::AskAge
        } else {
            MinorsPolicy::Off
        },
        body: Text::default(),
        purposes,
        categories,
    })
}

/// A small JSON object writer (the receipt request is flat: strings, numbers, booleans
/// and maps of booleans).
pub struct Json(String);

impl Default for Json {
    fn default() -> Self {
        Self("{".to_owned())
    }
}

impl Json {
    fn key(&mut self, k: &str) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        quote(&mut self.0, k);
        self.0.push(':');
    }

    /// `"k":"v"`
    pub fn str(mut self, k: &str, v: &str) -> Self {
        self.key(k);
        quote(&mut self.0, v);
        self
    }

    /// `"k":n`
    pub fn num(mut self, k: &str, n: u32) -> Self {
        self.key(k);
        self.0.push_str(&n.to_string());
        self
    }

    /// `"k":true|false`
    pub fn bool(mut self, k: &str, b: bool) -> Self {
        self.key(k);
        self.0.push_str(if b { "true" } else { "false" });
        self
    }

    /// `"k":{"id":true,…}`
    pub fn map(mut self, k: &str, entries: &[(Slug, bool)]) -> Self {
        self.key(k);
        let mut m = Json::default();
        for (id, b) in entries {
            m = m.bool(id.as_str(), *b);
        }
        self.0.push_str(&m.end());
        self
    }

    /// The finished object.
    pub fn end(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                for d in [(c as u32) >> 4, (c as u32) & 15] {
                    out.push(char::from_digit(d, 16).unwrap_or('0'));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
