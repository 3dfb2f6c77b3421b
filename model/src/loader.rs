//! The loader ↔ server contract: what `GET /v1/sites/{site}/yinyom.js` puts in the loader
//! ([`LoaderConfig`]) and what the banner gets ([`BannerView`]: in the per-site banner
//! module, [`banner_path`], and from `GET /v1/sites/{site}/notice?view=banner`). The server serializes these types; `widget/js/loader.js` and
//! `widget/js/banner.js` read them, typed by `widget/js/yinyom.d.ts` (checked by
//! `cargo xtask test` with `tsc --checkJs`; a test below checks that the declaration names
//! every key the server sends).
//!
//! Facts that follow from the notice are derived here, once, and sent: which categories
//! Global Privacy Control keeps off ([`crate::notice::is_sharing`]), the consent cookie's
//! name ([`crate::cookie::cookie_name`]). The JavaScript repeats no rule of the model.

use crate::{
    Lang, Slug, Text,
    cookie::cookie_name,
    notice::{Notice, is_sharing},
    site::{GcmSignal, MinorsPolicy},
};
use serde::Serialize;

/// Where the built widget's files are (`cargo xtask dist`), as the server knows them.
#[derive(Debug, Clone, Copy)]
pub struct Assets<'a> {
    /// The build id (16 hex digits), which receipts carry.
    pub build: &'a str,
    /// Path of the widget's ES module (glue), under `/assets/`.
    pub widget_js: &'a str,
    /// Path of the widget's WebAssembly, under `/assets/`.
    pub widget_wasm: &'a str,
}

/// What the loader knows about the site: everything a returning visitor's page view needs
/// (so it costs one request and no WebAssembly), and where the rest is.
#[derive(Debug, Serialize)]
pub struct LoaderConfig<'a> {
    /// The site id.
    pub site: &'a str,
    /// The site's consent cookie name (`yinyom_<site>`).
    pub cookie: String,
    /// The current consent revision: a stored choice made under an older one is asked again.
    pub revision: u32,
    /// How many days a choice holds.
    pub validity_days: u32,
    /// The current notice version, which a form's receipt request names (also when the
    /// server cannot be reached: the loader may come from the browser's cache).
    pub version: &'a str,
    /// The notice's languages, Thai first.
    pub languages: &'a [Lang],
    /// Every cookie category, in notice order.
    pub categories: Vec<LoaderCategory<'a>>,
    /// URL path of the widget's ES module.
    pub widget_js: String,
    /// URL path of the widget's WebAssembly.
    pub widget_wasm: String,
    /// URL path of the banner script with this site's banner texts in it ([`banner_path`]).
    pub banner_js: String,
    /// URL path of the forms module (`widget/js/forms.js`), beside the widget: imported
    /// only by a page with a `data-yinyom-form`.
    pub forms_js: String,
    /// The widget build id.
    pub build: &'a str,
    /// Minors mode (the age question, PDPA s.20): the widget draws the banner.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub minors: bool,
}

/// A cookie category as the loader uses it.
#[derive(Debug, Serialize)]
pub struct LoaderCategory<'a> {
    /// Its id (`data-yinyom="…"`).
    pub id: &'a str,
    /// Always on, never asked.
    pub required: bool,
    /// The Consent Mode signals it grants.
    pub gcm: &'a [GcmSignal],
    /// Its first-party cookies' names (cleared when it is denied; `*` ends a prefix). None
    /// for a required category, which is never denied: every returning visitor downloads
    /// this list.
    pub cookies: Vec<&'a str>,
}

impl<'a> LoaderConfig<'a> {
    /// The configuration of `site` for its current `notice`, with the widget at `assets`.
    pub fn new(site: &'a Slug, notice: &'a Notice, assets: Assets<'a>) -> Self {
        Self {
            site: site.as_str(),
            cookie: cookie_name(site),
            revision: notice.consent_revision,
            validity_days: notice.consent_validity_days,
            version: &notice.version,
            languages: &notice.languages,
            categories: notice
                .categories
                .iter()
                .map(|c| LoaderCategory {
                    id: c.id.as_str(),
                    required: c.required,
                    gcm: &c.gcm,
                    cookies: if c.required {
                        Vec::new()
                    } else {
                        c.cookies.iter().map(|k| k.name.as_str()).collect()
                    },
                })
                .collect(),
            widget_js: format!("/assets/{}", assets.widget_js),
            widget_wasm: format!("/assets/{}", assets.widget_wasm),
            banner_js: banner_path(site.as_str(), assets.build, &notice.version),
            forms_js: format!("/assets/{}/yinyom_forms.js", assets.build),
            build: assets.build,
            minors: notice.minors == MinorsPolicy::AskAge,
        }
    }
}

/// URL path of `site`'s banner script: the banner's code of widget build `build`
/// (`widget/js/banner.js`, a classic script) with the [`BannerView`] of notice version
/// `version` in it. Both parts are immutable, so the URL is cached for good; the loader
/// adds it only for a visitor who must be asked, so a first visit's second round is one
/// request on the loader's connection and a returning visitor never downloads these texts.
pub fn banner_path(site: &str, build: &str, version: &str) -> String {
    format!("/v1/sites/{site}/banner/{build}/{version}.js")
}

/// What the banner (the first layer, `widget/js/banner.js`) shows and puts in a receipt
/// request: the `texts` of the banner script ([`banner_path`]), and
/// `GET …/notice?view=banner` (which consent on forms reads).
#[derive(Debug, Serialize)]
pub struct BannerView<'a> {
    /// The notice version shown.
    pub version: &'a str,
    /// Its consent revision (the loader, cached for minutes, may be older).
    pub revision: u32,
    /// The banner's title.
    pub title: Texts<'a>,
    /// The banner's summary.
    pub summary: Texts<'a>,
    /// Ids of the purposes the banner asks (legal basis consent, asked in the banner), in
    /// notice order.
    pub purposes: Vec<&'a str>,
    /// Ids of the consent purposes asked only on forms: the banner never shows them; the
    /// forms module (`widget/js/forms.js`) accepts their checkboxes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub form_purposes: Vec<&'a str>,
    /// The optional categories that share data ([`is_sharing`]): Global Privacy Control
    /// keeps them off under Accept all, and the banner's GPC note names them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sharing: Vec<SharingCategory<'a>>,
}

/// An optional category Global Privacy Control keeps off.
#[derive(Debug, Serialize)]
pub struct SharingCategory<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its title.
    pub title: Texts<'a>,
}

impl<'a> BannerView<'a> {
    /// The banner's view of `n`.
    pub fn of(n: &'a Notice) -> Self {
        Self {
            version: &n.version,
            revision: n.consent_revision,
            title: Texts::new(&n.title, &n.languages),
            summary: Texts::new(&n.summary, &n.languages),
            purposes: n.banner_purposes().map(|p| p.id.as_str()).collect(),
            form_purposes: n.form_only_purposes().map(|p| p.id.as_str()).collect(),
            sharing: n
                .optional_categories()
                .filter(|c| is_sharing(c))
                .map(|c| SharingCategory {
                    id: c.id.as_str(),
                    title: Texts::new(&c.title, &n.languages),
                })
                .collect(),
        }
    }
}

/// A text in each of the notice's languages (English falls back to Thai, as [`Text::get`]
/// does; absent when the notice is Thai only).
#[derive(Debug, Serialize)]
pub struct Texts<'a> {
    /// Thai.
    pub th: &'a str,
    /// English, or empty (then not sent).
    #[serde(skip_serializing_if = "str::is_empty")]
    pub en: &'a str,
}

impl<'a> Texts<'a> {
    /// `t` in `langs`.
    pub fn new(t: &'a Text, langs: &[Lang]) -> Self {
        Self {
            th: t.get(Lang::Th),
            en: if langs.contains(&Lang::En) {
                t.get(Lang::En)
            } else {
                ""
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::{Asked, Category, Cookie, LegalBasis, Party, Purpose};
    use serde_json::Value;

    fn text(s: &str) -> Text {
        Text {
            th: format!("{s} (th)"),
            en: format!("{s} (en)"),
        }
    }

    fn slug(s: &str) -> Slug {
        Slug::parse(s).expect("test slug")
    }

    fn notice() -> Notice {
        let party = Party {
            name: text("office"),
            address: Text::default(),
            email: "dpo@example.go.th".into(),
            phone: String::new(),
            url: String::new(),
        };
        let category = |id: &str, required: bool, gcm: Vec<GcmSignal>| Category {
            id: slug(id),
            required,
            title: text(id),
            description: text("what"),
            gcm,
            cookies: vec![Cookie {
                name: format!("_{id}*"),
                provider: text("us"),
                duration: text("1 year"),
                purpose: text("why"),
            }],
        };
        Notice {
            site: slug("demo"),
            version: "v1".into(),
            consent_revision: 3,
            effective_from: "2025-01-01".into(),
            consent_validity_days: 180,
            languages: vec![Lang::Th, Lang::En],
            site_name: text("site"),
            controller: party.clone(),
            dpo: party,
            title: text("title"),
            summary: text("summary"),
            minors: MinorsPolicy::AskAge,
            body: Text::default(),
            purposes: vec![
                Purpose {
                    id: slug("newsletter"),
                    legal_basis: LegalBasis::Consent,
                    title: text("news"),
                    description: text("news"),
                    data: vec![],
                    retention: text("1 year"),
                    recipients: vec![],
                    countries: vec![],
                    asked: Asked::Banner,
                },
                Purpose {
                    id: slug("health"),
                    legal_basis: LegalBasis::Consent,
                    title: text("health"),
                    description: text("health"),
                    data: vec![],
                    retention: text("5 years"),
                    recipients: vec![],
                    countries: vec![],
                    asked: Asked::Form,
                },
            ],
            categories: vec![
                category("necessary", true, vec![GcmSignal::SecurityStorage]),
                category("analytics", false, vec![GcmSignal::AnalyticsStorage]),
                category("video", false, vec![GcmSignal::AdStorage]),
                category("marketing", false, vec![]),
            ],
        }
    }

    fn assets() -> Assets<'static> {
        Assets {
            build: "0123456789abcdef",
            widget_js: "0123456789abcdef/yinyom_widget.js",
            widget_wasm: "0123456789abcdef/yinyom_widget_bg.wasm",
        }
    }

    /// The keys a JSON value's objects use, anywhere in it.
    fn keys(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    out.push(k.clone());
                    keys(v, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }

    /// The loader's config says what the JavaScript needs, under clear names, with the
    /// facts derived from the notice (the cookie name, minors mode, the asset paths).
    #[test]
    fn loader_config_from_a_notice() {
        let n = notice();
        let site = slug("demo");
        let v = serde_json::to_value(LoaderConfig::new(&site, &n, assets())).expect("json");
        assert_eq!(v["cookie"], "yinyom_demo");
        assert_eq!(v["revision"], 3);
        assert_eq!(v["validity_days"], 180);
        assert_eq!(v["languages"], serde_json::json!(["th", "en"]));
        assert_eq!(v["minors"], true);
        assert_eq!(
            v["banner_js"],
            "/v1/sites/demo/banner/0123456789abcdef/v1.js"
        );
        assert_eq!(v["forms_js"], "/assets/0123456789abcdef/yinyom_forms.js");
        assert_eq!(v["version"], "v1");
        assert_eq!(
            v["categories"][2],
            serde_json::json!({"id": "video", "required": false, "gcm": ["ad_storage"], "cookies": ["_video*"]})
        );
        assert_eq!(v["categories"][0]["required"], true);
        assert_eq!(v["categories"][0]["cookies"], serde_json::json!([]));
    }

    /// The banner gets the categories GPC keeps off from the model's rule (an ad signal or
    /// the id `marketing`), never a copy of the rule.
    #[test]
    fn banner_view_names_the_sharing_categories() {
        let n = notice();
        let v = serde_json::to_value(BannerView::of(&n)).expect("json");
        let sharing: Vec<&str> = v["sharing"]
            .as_array()
            .expect("sharing")
            .iter()
            .filter_map(|c| c["id"].as_str())
            .collect();
        assert_eq!(sharing, ["video", "marketing"]);
        assert_eq!(v["sharing"][0]["title"]["en"], "video (en)");
        assert_eq!(v["purposes"], serde_json::json!(["newsletter"]));
        // A form-only purpose is not the banner's: only the forms module takes it.
        assert_eq!(v["form_purposes"], serde_json::json!(["health"]));
        assert_eq!(v["revision"], 3);
    }

    /// `widget/js/yinyom.d.ts`, which types the JavaScript that reads these objects
    /// (`tsc --checkJs` in `cargo xtask test`), declares every key the server sends.
    #[test]
    fn the_javascript_declares_every_key() {
        let declared = include_str!("../../widget/js/yinyom.d.ts");
        let n = notice();
        let site = slug("demo");
        let mut all = Vec::new();
        keys(
            &serde_json::to_value(LoaderConfig::new(&site, &n, assets())).expect("json"),
            &mut all,
        );
        keys(
            &serde_json::to_value(BannerView::of(&n)).expect("json"),
            &mut all,
        );
        for k in all {
            assert!(
                declared.contains(&format!(" {k}: ")) || declared.contains(&format!(" {k}?: ")),
                "widget/js/yinyom.d.ts does not declare `{k}`"
            );
        }
    }
}
