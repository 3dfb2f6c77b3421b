//! The loader's side of the contract, and turning a choice into a receipt request.

use crate::js::{self, Json};
use wasm_bindgen::prelude::*;
use yinyom_model::{
    Lang, Slug,
    cookie::ConsentCookie,
    notice::Notice,
    receipt::{AgeBand, ConsentBy, Method},
    request::RequestKind,
    site::MinorsPolicy,
};

#[wasm_bindgen]
extern "C" {
    /// The browser's `fetch`, for the one request the widget sends itself (a
    /// data-subject request; everything else goes through the [`Host`]).
    #[wasm_bindgen(js_name = fetch)]
    fn browser_fetch(url: &str, init: &JsValue) -> js_sys::Promise;
}

/// The body of a data-subject request (the model's `SubjectRequestBody`): the kind, and the
/// message and contact when given.
pub fn request_body(kind: RequestKind, message: &str, contact: &str) -> String {
    let mut body = Json::default().str("kind", kind.as_str());
    for (k, v) in [("message", message.trim()), ("contact", contact.trim())] {
        if !v.is_empty() {
            body = body.str(k, v);
        }
    }
    body.end()
}

#[wasm_bindgen]
extern "C" {
    /// What the loader hands to [`crate::mount`] (see `widget/js/loader.js`, `loadUI`).
    pub type Host;

    /// The current notice, as `GET /v1/sites/{site}/notice` returned it.
    #[wasm_bindgen(method, getter)]
    fn notice(this: &Host) -> JsValue;
    /// The language to show first (`th` or `en`).
    #[wasm_bindgen(method, getter)]
    fn lang(this: &Host) -> String;
    /// Tells the loader the visitor switched language: it remembers it for the site and
    /// relabels its own UI (floating button, placeholders).
    #[wasm_bindgen(method, js_name = setLang)]
    fn set_lang(this: &Host, lang: &str);
    /// The visitor's pseudonymous id (a random secret kept in this browser).
    #[wasm_bindgen(method, getter)]
    fn subject(this: &Host) -> String;
    /// URL of the full notice page.
    #[wasm_bindgen(method, getter, js_name = noticeUrl)]
    fn notice_url(this: &Host) -> String;
    /// The site's API base, `…/v1/sites/{site}`.
    #[wasm_bindgen(method, getter)]
    fn api(this: &Host) -> Option<String>;
    /// The widget build id.
    #[wasm_bindgen(method, getter)]
    fn build(this: &Host) -> String;
    /// `light`, `dark` or `auto` (the script tag's `data-theme`).
    #[wasm_bindgen(method, getter)]
    fn theme(this: &Host) -> Option<String>;
    /// The script tag's `data-position`, e.g. `bottom`, `top-right`.
    #[wasm_bindgen(method, getter)]
    fn position(this: &Host) -> Option<String>;
    /// Whether the browser sends Global Privacy Control.
    #[wasm_bindgen(method, getter)]
    fn gpc(this: &Host) -> JsValue;
    /// Whether the widget draws the banner (minors mode: the loader draws it otherwise).
    #[wasm_bindgen(method, getter)]
    fn banner(this: &Host) -> JsValue;
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
    /// The current choice, as `yinyom.consent()` returns it, or `null`.
    #[wasm_bindgen(method)]
    fn consent(this: &Host) -> JsValue;
    /// The last receipt request this browser made (JSON), if any.
    #[wasm_bindgen(method)]
    fn choice(this: &Host) -> Option<String>;
    /// The acknowledged `{receipt, jws}` this browser keeps, oldest first.
    #[wasm_bindgen(method)]
    fn receipts(this: &Host) -> JsValue;
    /// `GET url` as text (a promise that rejects on failure).
    #[wasm_bindgen(method)]
    fn text(this: &Host, url: &str) -> js_sys::Promise;
}

/// A visitor's decision on every optional category and consent purpose, in notice order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Choices {
    /// Optional categories.
    pub categories: Vec<(Slug, bool)>,
    /// Consent purposes.
    pub purposes: Vec<(Slug, bool)>,
}

impl Choices {
    /// Whether anything is granted (a refusal grants nothing).
    pub fn grants_anything(&self) -> bool {
        self.categories
            .iter()
            .chain(&self.purposes)
            .any(|(_, g)| *g)
    }
}

/// The minors-mode answers (PDPA s.20).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Minors {
    /// The age band picked.
    pub age: Option<AgeBand>,
    /// A parent or guardian confirmed they are choosing.
    pub guardian: bool,
}

/// The stored choice, as the loader sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    /// Granted optional categories.
    pub granted: Vec<String>,
    /// Receipt id, once acknowledged.
    pub receipt_id: Option<String>,
    /// When (unix seconds).
    pub at: f64,
}

/// Whether `c` is a marketing or data-sharing category: Global Privacy Control
/// pre-selects "no" for these (the rule lives in the model, shared with the server).
pub use yinyom_model::notice::is_sharing;

/// Everything the components need, read once from the [`Host`].
pub struct Context {
    host: Host,
    /// The notice shown.
    pub notice: Notice,
    /// Language shown first.
    pub lang: Lang,
    /// The full notice page.
    pub notice_url: String,
    /// The site's API base.
    pub api: String,
    /// `light`, `dark` or `auto`.
    pub theme: String,
    /// Where the banner sits.
    pub position: String,
    /// Global Privacy Control is on.
    pub gpc: bool,
    /// The widget draws the banner when the visitor has no current choice (minors mode;
    /// otherwise the loader draws it, see `widget/js/loader.js`).
    pub banner: bool,
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
        let notice =
            js::notice(&host.notice()).ok_or_else(|| JsValue::from_str("yinyom: bad notice"))?;
        let lang = Lang::from_tag(&host.lang())
            .filter(|l| notice.languages.contains(l))
            .unwrap_or(Lang::Th);
        let notice_url = host.notice_url();
        Ok(Self {
            lang,
            api: host.api().unwrap_or_else(|| {
                notice_url
                    .replace("/sites/", "/v1/sites/")
                    .replace("/notice", "")
            }),
            notice_url,
            theme: host.theme().unwrap_or_else(|| "auto".to_owned()),
            position: host.position().unwrap_or_else(|| "bottom".to_owned()),
            gpc: host.gpc().is_truthy(),
            banner: host.banner().is_truthy(),
            subject: host.subject(),
            build: host.build(),
            notice,
            host,
        })
    }

    /// The visitor switched to `lang`: the loader remembers it (see [`Host`]).
    pub fn set_lang(&self, lang: Lang) {
        self.host.set_lang(lang.code());
    }

    /// Every decision the banner and settings ask set to `grant` (form-only purposes are
    /// not theirs); with Global Privacy Control on, "accept all" keeps
    /// the marketing and sharing categories off (the visitor can still turn them on one
    /// by one).
    pub fn all(&self, grant: bool) -> Choices {
        let n = &self.notice;
        Choices {
            categories: n
                .optional_categories()
                .map(|c| (c.id.clone(), grant && !(self.gpc && is_sharing(c))))
                .collect(),
            purposes: n.banner_purposes().map(|p| (p.id.clone(), grant)).collect(),
        }
    }

    /// "Withdraw all": every decision refused, the purposes only forms ask included, so
    /// what a form granted is withdrawn too.
    pub fn withdrawal(&self) -> Choices {
        let mut c = self.all(false);
        c.purposes.extend(
            self.notice
                .form_only_purposes()
                .map(|p| (p.id.clone(), false)),
        );
        c
    }

    /// The toggles to show: the current choice when there is one; otherwise (the revision
    /// rose or the choice expired) the last choice this browser made on this site, for
    /// the categories and purposes that still exist; anything new (or never chosen) off.
    pub fn initial(&self) -> Choices {
        let mut c = self.all(false);
        let last = self.last_choice();
        let categories = js::get(&last, "categories");
        let current = self.current();
        for (id, g) in &mut c.categories {
            *g = match &current {
                Some(cur) => cur.granted.iter().any(|x| x == id.as_str()),
                None => js::get(&categories, id.as_str()).is_truthy(),
            };
        }
        let purposes = js::get(&last, "purposes");
        for (id, g) in &mut c.purposes {
            *g = js::get(&purposes, id.as_str()).is_truthy();
        }
        c
    }

    /// The visitor's pseudonymous id.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The stored choice, if it is current.
    pub fn current(&self) -> Option<Current> {
        let c = self.host.consent();
        if c.is_null() || c.is_undefined() {
            return None;
        }
        Some(Current {
            granted: js::items(&c, "categories")
                .iter()
                .filter_map(JsValue::as_string)
                .collect(),
            receipt_id: js::get(&c, "receiptId").as_string(),
            at: js::number(&c, "at"),
        })
    }

    /// The last request this browser made, parsed (or `undefined`).
    pub fn last_choice(&self) -> JsValue {
        self.host
            .choice()
            .and_then(|s| js_sys::JSON::parse(&s).ok())
            .unwrap_or(JsValue::UNDEFINED)
    }

    /// The minors answers of the last request, for a withdrawal.
    pub fn last_minors(&self) -> Minors {
        let last = self.last_choice();
        Minors {
            age: AgeBand::from_name(&js::string(&last, "age_band")),
            guardian: js::string(&last, "consent_by") == ConsentBy::Guardian.as_str(),
        }
    }

    /// The acknowledged receipts this browser keeps.
    pub fn local_receipts(&self) -> JsValue {
        self.host.receipts()
    }

    /// Replaces this browser's copies of its receipts (`yinyom.<site>.receipts`, the key
    /// the loader appends to) with `entries`, oldest first; nothing when storage is blocked.
    pub fn keep_receipts(&self, entries: &[JsValue]) {
        let list: js_sys::Array = entries.iter().collect();
        let json = js_sys::JSON::stringify(&list)
            .ok()
            .and_then(|s| s.as_string());
        let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
        if let (Some(json), Some(storage)) = (json, storage) {
            let key = format!("yinyom.{}.receipts", self.notice.site);
            let _ = storage.set_item(&key, &json);
        }
    }

    /// `POST url` with a JSON `body`; the answer's text when the server answered 201.
    pub async fn post_json(&self, url: &str, body: &str) -> Option<String> {
        let init = js_sys::Object::new();
        let headers = js_sys::Object::new();
        let set = |o: &js_sys::Object, k: &str, v: &str| {
            let _ = js_sys::Reflect::set(o, &k.into(), &v.into());
        };
        set(&headers, "content-type", "application/json");
        set(&init, "method", "POST");
        set(&init, "body", body);
        set(&init, "credentials", "omit");
        let _ = js_sys::Reflect::set(&init, &"headers".into(), &headers);
        let response = wasm_bindgen_futures::JsFuture::from(browser_fetch(url, &init))
            .await
            .ok()?;
        if js::number(&response, "status") != 201.0 {
            return None;
        }
        let text: js_sys::Function = js::get(&response, "text").dyn_into().ok()?;
        let promise: js_sys::Promise = text.call0(&response).ok()?.dyn_into().ok()?;
        wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .ok()?
            .as_string()
    }

    /// `GET url` as text.
    pub async fn fetch_text(&self, url: &str) -> Option<String> {
        wasm_bindgen_futures::JsFuture::from(self.host.text(url))
            .await
            .ok()
            .and_then(|v| v.as_string())
    }

    /// Records a choice: the cookie is set and the choice applied by the loader at once,
    /// and the receipt request delivered (and retried until delivered).
    pub fn decide(&self, method: Method, lang: Lang, choices: &Choices, minors: Minors) {
        let n = &self.notice;
        let cookie = ConsentCookie {
            revision: n.consent_revision,
            at: self.host.now() as u64,
            granted: choices
                .categories
                .iter()
                .filter(|(_, g)| *g)
                .map(|(id, _)| id.clone())
                .collect(),
            receipt_id: None,
        };
        let mut request = Json::default()
            .str("request_id", &self.host.uuid())
            .str("subject_id", &self.subject)
            .str("notice_version", &n.version)
            .num("consent_revision", n.consent_revision)
            .str("method", method.as_str())
            .str("lang", lang.code())
            .map("categories", &choices.categories)
            .map("purposes", &choices.purposes)
            .bool("gpc", self.gpc);
        if n.minors == MinorsPolicy::AskAge
            && let Some(age) = minors.age
        {
            let by = if minors.guardian {
                ConsentBy::Guardian
            } else {
                ConsentBy::Subject
            };
            request = request
                .str("age_band", age.as_str())
                .str("consent_by", by.as_str());
        }
        let request = request
            .str("page_path", &page_path())
            .str("widget", &self.build)
            .end();
        self.host.commit(&cookie.encode(), &request);
    }
}

fn page_path() -> String {
    // One leading slash: `//x` reads as an address, and the server refuses it.
    let mut p = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .filter(|p| p.starts_with('/'))
        .map_or_else(
            || "/".to_owned(),
            |p| format!("/{}", p.trim_start_matches('/')),
        );
    if p.len() > 512 {
        let mut end = 512;
        while !p.is_char_boundary(end) {
            end -= 1;
        }
        p.truncate(end);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use yinyom_model::request::SubjectRequestBody;

    /// The request body is the model's `SubjectRequestBody`: optional fields left out when blank,
    /// Thai and quotes kept intact.
    #[test]
    fn request_bodies_are_the_models() {
        let parse = |s: &str| serde_json::from_str::<SubjectRequestBody>(s).expect(s);
        let r = parse(&request_body(RequestKind::Erasure, "  ", ""));
        assert_eq!(
            r,
            SubjectRequestBody {
                kind: RequestKind::Erasure,
                message: None,
                contact: None
            }
        );
        let r = parse(&request_body(
            RequestKind::Rectification,
            "ชื่อผิด \"สมชาย\"\nแก้เป็น สมชัย",
            " 081-234-5678 ",
        ));
        assert_eq!(r.kind, RequestKind::Rectification);
        assert_eq!(r.message.as_deref(), Some("ชื่อผิด \"สมชาย\"\nแก้เป็น สมชัย"));
        assert_eq!(r.contact.as_deref(), Some("081-234-5678"));
    }
}
