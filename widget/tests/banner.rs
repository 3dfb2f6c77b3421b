//! The widget in headless Chromium: mounted the way the loader mounts it, with a host
//! object that records what the widget hands back (`cargo xtask test` runs this).

#![cfg(target_arch = "wasm32")]

use serde::Serialize;
use std::{cell::RefCell, rc::Rc};
use wasm_bindgen::{JsCast, prelude::*};
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, ShadowRoot};
use yinyom_model::{
    Lang, Slug, Text,
    cookie::ConsentCookie,
    notice::{Notice, PublishedNotice},
    receipt::ReceiptRequest,
    site::{Category, LegalBasis, Party, Purpose},
};

wasm_bindgen_test_configure!(run_in_browser);

fn text(th: &str, en: &str) -> Text {
    Text {
        th: th.into(),
        en: en.into(),
    }
}

fn slug(s: &str) -> Slug {
    Slug::parse(s).expect("slug")
}

fn notice() -> PublishedNotice {
    let party = Party {
        name: text("สำนักงานทดสอบ", "Test Office"),
        address: Text::default(),
        email: "dpo@demo.go.th".into(),
        phone: String::new(),
        url: String::new(),
    };
    let category = |id: &str, required: bool| Category {
        id: slug(id),
        required,
        title: text("หมวด", "Category"),
        description: text("คำอธิบาย", "Description"),
        gcm: vec![],
        cookies: vec![],
    };
    PublishedNotice {
        notice: Notice {
            site: slug("demo"),
            version: "v1".into(),
            consent_revision: 3,
            effective_from: "2025-01-01".into(),
            consent_validity_days: 365,
            languages: vec![Lang::Th, Lang::En],
            site_name: text("เว็บไซต์ทดสอบ", "Test site"),
            controller: party.clone(),
            dpo: party,
            title: text("เราใช้คุกกี้", "We use cookies"),
            summary: text(
                "คุกกี้อื่นจะเปิดเมื่อคุณเลือกเท่านั้น",
                "Others are on only if you choose.",
            ),
            minors: Default::default(),
            body: text("# ประกาศ", "# Notice"),
            purposes: vec![Purpose {
                id: slug("newsletter"),
                legal_basis: LegalBasis::Consent,
                title: text("จดหมายข่าว", "Newsletter"),
                description: text("ส่งข่าว", "News"),
                data: vec![],
                retention: text("1 ปี", "1 year"),
                recipients: vec![],
            }],
            categories: vec![
                category("necessary", true),
                category("analytics", false),
                category("media", false),
            ],
        },
        sha256: "0".repeat(64),
        published_at: "2025-01-01T00:00:00.000Z".into(),
    }
}

/// What the widget handed to the host's `commit`.
type Commits = Rc<RefCell<Vec<(String, String)>>>;

/// Builds the host object the loader would pass, and mounts the widget with it.
fn mount(lang: &str) -> (Commits, ShadowRoot) {
    if let Some(old) = document().get_element_by_id("yinyom") {
        old.remove();
    }
    let host = js_sys::Object::new();
    let set = |k: &str, v: &JsValue| {
        js_sys::Reflect::set(&host, &k.into(), v).expect("set");
    };
    let notice = notice()
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .expect("notice to JS");
    set("notice", &notice);
    set("lang", &lang.into());
    set("subject", &"subject-0123456789abcdef".into());
    set(
        "noticeUrl",
        &"https://consent.test/sites/demo/notice".into(),
    );
    set("build", &"test-build".into());
    let uuid =
        Closure::<dyn Fn() -> String>::new(|| "0192f0c1-7d4e-7a3b-9c2d-1e2f3a4b5c6d".to_owned());
    set("uuid", uuid.as_ref());
    uuid.forget();
    let now = Closure::<dyn Fn() -> f64>::new(|| 1_732_300_000.0);
    set("now", now.as_ref());
    now.forget();
    let commits: Commits = Rc::default();
    let sink = commits.clone();
    let commit = Closure::<dyn Fn(String, String)>::new(move |c: String, r: String| {
        sink.borrow_mut().push((c, r));
    });
    set("commit", commit.as_ref());
    commit.forget();
    yinyom_widget::mount(host.unchecked_into()).expect("mount");
    let shadow = document()
        .get_element_by_id("yinyom")
        .and_then(|e| e.shadow_root())
        .expect("shadow root");
    (commits, shadow)
}

fn document() -> web_sys::Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("document")
}

fn find(root: &ShadowRoot, css: &str) -> Option<Element> {
    root.query_selector(css).expect("selector")
}

fn click(root: &ShadowRoot, css: &str) {
    find(root, css)
        .unwrap_or_else(|| panic!("no {css}"))
        .unchecked_into::<HtmlElement>()
        .click();
}

/// The banner shows the notice's Thai title and summary, with Accept all and Reject all
/// styled identically (reject is as easy as accept: PDPA consent guideline).
#[wasm_bindgen_test]
async fn shows_thai_banner_with_equal_buttons() {
    let (_, root) = mount("th");
    yew::scheduler::flush().await;
    let title = find(&root, "h2").expect("title").text_content();
    assert_eq!(title.as_deref(), Some("เราใช้คุกกี้"));
    assert_eq!(
        find(&root, "#yy-summary")
            .and_then(|p| p.text_content())
            .as_deref(),
        Some("คุกกี้อื่นจะเปิดเมื่อคุณเลือกเท่านั้น")
    );
    let reject = find(&root, "[data-action=reject-all]").expect("reject");
    let accept = find(&root, "[data-action=accept-all]").expect("accept");
    assert_eq!(reject.text_content().as_deref(), Some("ปฏิเสธทั้งหมด"));
    assert_eq!(accept.text_content().as_deref(), Some("ยอมรับทั้งหมด"));
    let window = web_sys::window().expect("window");
    let style = |e: &Element| window.get_computed_style(e).expect("style").expect("style");
    let (a, r) = (style(&accept), style(&reject));
    for prop in [
        "background-color",
        "color",
        "font-size",
        "font-weight",
        "border-top-width",
        "height",
    ] {
        assert_eq!(
            a.get_property_value(prop).expect("prop"),
            r.get_property_value(prop).expect("prop"),
            "{prop} differs between accept and reject"
        );
    }
    let (aw, rw) = (
        accept.get_bounding_client_rect().width(),
        reject.get_bounding_client_rect().width(),
    );
    assert!((aw - rw).abs() < 1.0, "widths differ: {aw} vs {rw}");
}

/// Reject all hands the loader a cookie granting nothing and a receipt request denying
/// every optional category and consent purpose, then closes the banner.
#[wasm_bindgen_test]
async fn reject_all_commits_a_full_denial_and_closes() {
    let (commits, root) = mount("th");
    yew::scheduler::flush().await;
    click(&root, "[data-action=reject-all]");
    yew::scheduler::flush().await;
    let commits = commits.borrow();
    assert_eq!(commits.len(), 1);
    let (cookie, request) = &commits[0];
    let cookie = ConsentCookie::decode(cookie).expect("a version-1 cookie");
    assert_eq!(cookie.revision, 3);
    assert_eq!(cookie.at, 1_732_300_000);
    assert!(cookie.granted.is_empty());
    assert_eq!(cookie.receipt_id, None);
    let request: ReceiptRequest =
        serde_wasm_bindgen::from_value(js_sys::JSON::parse(request).expect("JSON"))
            .expect("a receipt request");
    request.check().expect("valid request");
    assert_eq!(request.method.as_str(), "reject_all");
    assert_eq!(request.notice_version, "v1");
    assert_eq!(request.lang, Lang::Th);
    assert_eq!(request.subject_id, "subject-0123456789abcdef");
    assert_eq!(
        request
            .categories
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect::<Vec<_>>(),
        vec![("analytics", false), ("media", false)]
    );
    assert_eq!(request.purposes.get(&slug("newsletter")), Some(&false));
    assert!(find(&root, ".banner").is_none(), "the banner must close");
}

/// Accept all grants every optional category; the language switch shows English and the
/// receipt records the language the visitor read.
#[wasm_bindgen_test]
async fn accept_all_in_english_grants_everything() {
    let (commits, root) = mount("th");
    yew::scheduler::flush().await;
    click(&root, "button.lang");
    yew::scheduler::flush().await;
    assert_eq!(
        find(&root, "h2").and_then(|h| h.text_content()).as_deref(),
        Some("We use cookies")
    );
    click(&root, "[data-action=accept-all]");
    yew::scheduler::flush().await;
    let commits = commits.borrow();
    let cookie = ConsentCookie::decode(&commits[0].0).expect("cookie");
    assert!(cookie.grants("analytics") && cookie.grants("media"));
    let request: ReceiptRequest =
        serde_wasm_bindgen::from_value(js_sys::JSON::parse(&commits[0].1).expect("JSON"))
            .expect("request");
    assert_eq!(request.method.as_str(), "accept_all");
    assert_eq!(request.lang, Lang::En);
    assert!(request.categories.values().all(|g| *g));
}
