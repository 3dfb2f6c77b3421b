//! The loader's side of the contract, and turning a click into a receipt request.

use serde::Serialize;
use std::collections::BTreeMap;
use wasm_bindgen::prelude::*;
use yinyom_model::{
    Lang, Slug,
    cookie::ConsentCookie,
    notice::PublishedNotice,
    receipt::{Method, ReceiptRequest},
};

#[wasm_bindgen]
extern "C" {
    /// What the loader hands to [`crate::mount`].
    pub type Host;

    /// The current notice, as `GET /v1/sites/{site}/notice` returned it.
    #[wasm_bindgen(method, getter)]
    fn notice(this: &Host) -> JsValue;
    /// The language to show first (`th` or `en`).
    #[wasm_bindgen(method, getter)]
    fn lang(this: &Host) -> String;
    /// The visitor's pseudonymous id (a random secret kept in this browser).
    #[wasm_bindgen(method, getter)]
    fn subject(this: &Host) -> String;
    /// URL of the full notice page.
    #[wasm_bindgen(method, getter, js_name = noticeUrl)]
    fn notice_url(this: &Host) -> String;
    /// The widget build id.
    #[wasm_bindgen(method, getter)]
    fn build(this: &Host) -> String;
    /// A new random UUID.
    #[wasm_bindgen(method)]
    fn uuid(this: &Host) -> String;
    /// Now, in unix seconds.
    #[wasm_bindgen(method)]
    fn now(this: &Host) -> f64;
    /// Stores the consent cookie, applies it to the page and delivers the receipt request
    /// (retrying until the server acknowledges it).
    #[wasm_bindgen(method)]
    fn commit(this: &Host, cookie: &str, request: &str);
}

/// Everything the components need, read once from the [`Host`].
pub struct Context {
    host: Host,
    /// The notice shown.
    pub notice: PublishedNotice,
    /// Language shown first.
    pub lang: Lang,
    /// The full notice page.
    pub notice_url: String,
    subject: String,
    build: String,
}

impl PartialEq for Context {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Context {
    /// Reads the host's fields; fails if the notice is not a notice.
    pub fn from_host(host: Host) -> Result<Self, JsValue> {
        let notice: PublishedNotice = serde_wasm_bindgen::from_value(host.notice())
            .map_err(|e| JsValue::from_str(&format!("yinyom: bad notice: {e}")))?;
        let lang = Lang::from_tag(&host.lang())
            .filter(|l| notice.notice.languages.contains(l))
            .unwrap_or(Lang::Th);
        Ok(Self {
            lang,
            notice_url: host.notice_url(),
            subject: host.subject(),
            build: host.build(),
            notice,
            host,
        })
    }

    /// Records a choice: every optional category and consent purpose set to `grant`
    /// (accept all / reject all), shown in `lang`.
    pub fn decide_all(&self, method: Method, lang: Lang) {
        let grant = method == Method::AcceptAll;
        let n = &self.notice.notice;
        let categories: BTreeMap<Slug, bool> = n
            .optional_categories()
            .map(|c| (c.id.clone(), grant))
            .collect();
        let purposes: BTreeMap<Slug, bool> = n
            .consent_purposes()
            .map(|p| (p.id.clone(), grant))
            .collect();
        self.commit(method, lang, categories, purposes);
    }

    fn commit(
        &self,
        method: Method,
        lang: Lang,
        categories: BTreeMap<Slug, bool>,
        purposes: BTreeMap<Slug, bool>,
    ) {
        let n = &self.notice.notice;
        let cookie = ConsentCookie {
            revision: n.consent_revision,
            at: self.host.now() as u64,
            granted: categories
                .iter()
                .filter(|(_, g)| **g)
                .map(|(id, _)| id.clone())
                .collect(),
            receipt_id: None,
        };
        let request = ReceiptRequest {
            request_id: self.host.uuid(),
            subject_id: self.subject.clone(),
            notice_version: n.version.clone(),
            consent_revision: n.consent_revision,
            method,
            lang,
            categories,
            purposes,
            gpc: false,
            age_band: None,
            consent_by: None,
            page_path: page_path(),
            widget: self.build.clone(),
        };
        let json = request
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .ok()
            .and_then(|v| js_sys::JSON::stringify(&v).ok())
            .and_then(|s| s.as_string())
            .unwrap_or_default();
        self.host.commit(&cookie.encode(), &json);
    }
}

fn page_path() -> String {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_else(|| "/".to_owned())
}
