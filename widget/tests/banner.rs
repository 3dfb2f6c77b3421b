//! The widget in headless Chromium: mounted the way the loader mounts it, with a host
//! object that records what the widget hands back (`cargo xtask test` runs this).
//! The banner tests mount it the way the loader does for a site in minors mode (the widget
//! draws the banner); on other sites the loader draws it (`tests/tests/first_layer.rs`)
//! and the widget opens straight into a tab (`opens_straight_into_a_tab_beside_the_loaders_banner`).

#![cfg(target_arch = "wasm32")]

use serde::Serialize;
use std::{cell::RefCell, rc::Rc};
use wasm_bindgen::{JsCast, prelude::*};
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement, KeyboardEvent, ShadowRoot};
use yinyom_model::{
    Lang, Slug, Text,
    cookie::ConsentCookie,
    notice::{Notice, PublishedNotice},
    receipt::ReceiptRequest,
    site::{Asked, Category, Cookie, GcmSignal, LegalBasis, MinorsPolicy, Party, Purpose},
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
        address: text("กรุงเทพ", "Bangkok"),
        email: "dpo@demo.go.th".into(),
        phone: "1111".into(),
        url: String::new(),
    };
    let category = |id: &str, required: bool, gcm: Vec<GcmSignal>| Category {
        id: slug(id),
        required,
        title: text(&format!("หมวด {id}"), &format!("Category {id}")),
        description: text("คำอธิบาย", "Description"),
        gcm,
        cookies: vec![Cookie {
            name: format!("_{id}"),
            provider: text("ผู้ทดสอบ", "Demo"),
            duration: text("1 ปี", "1 year"),
            purpose: text("นับ", "Counts"),
        }],
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
            minors: MinorsPolicy::Off,
            body: text("# ประกาศ", "# Notice"),
            purposes: vec![
                Purpose {
                    id: slug("newsletter"),
                    legal_basis: LegalBasis::Consent,
                    title: text("จดหมายข่าว", "Newsletter"),
                    description: text("ส่งข่าว", "News"),
                    data: vec![text("อีเมล", "E-mail")],
                    retention: text("1 ปี", "1 year"),
                    recipients: vec![],
                    countries: vec![],
                    asked: Asked::Banner,
                },
                Purpose {
                    id: slug("service"),
                    legal_basis: LegalBasis::PublicTask,
                    title: text("ให้บริการ", "Providing the service"),
                    description: text("ให้บริการตามกฎหมาย", "As the law requires"),
                    data: vec![],
                    retention: text("5 ปี", "5 years"),
                    recipients: vec![text("กรมบัญชีกลาง", "Comptroller General")],
                    countries: vec![],
                    asked: Asked::Banner,
                },
            ],
            categories: vec![
                category("necessary", true, vec![GcmSignal::SecurityStorage]),
                category("analytics", false, vec![GcmSignal::AnalyticsStorage]),
                category("media", false, vec![GcmSignal::AdStorage]),
            ],
        },
        sha256: "0".repeat(64),
        published_at: "2025-01-01T00:00:00.000Z".into(),
    }
}

/// What the widget handed to the host's `commit`.
type Commits = Rc<RefCell<Vec<(String, String)>>>;

/// How the mock loader is set up.
#[derive(Default)]
struct Setup {
    lang: &'static str,
    notice: Option<PublishedNotice>,
    gpc: bool,
    /// `yinyom.consent()`'s answer (JSON), when the visitor already chose.
    consent: Option<&'static str>,
    /// The last receipt request this browser made (JSON), as the loader keeps it.
    choice: Option<&'static str>,
    /// What `text(url)` answers, by URL substring.
    pages: Vec<(&'static str, String)>,
    /// The loader draws the banner (`banner: false` in the host), in the `#yinyom` shadow
    /// root the widget then mounts into.
    loader_banner: bool,
}

fn set(o: &js_sys::Object, k: &str, v: &JsValue) {
    js_sys::Reflect::set(o, &k.into(), v).expect("set");
}

fn func<F: Fn() -> JsValue + 'static>(o: &js_sys::Object, k: &str, f: F) {
    let c = Closure::<dyn Fn() -> JsValue>::new(f);
    set(o, k, c.as_ref());
    c.forget();
}

/// Builds the host object the loader would pass, and mounts the widget with it.
fn mount_with(s: Setup) -> (Commits, ShadowRoot, yinyom_widget::Widget) {
    if let Some(old) = document().get_element_by_id("yinyom") {
        old.remove();
    }
    if s.loader_banner {
        let holder = document().create_element("div").expect("div");
        holder.set_id("yinyom");
        let shadow = holder
            .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
            .expect("shadow root");
        let banner = document().create_element("section").expect("section");
        banner.set_class_name("banner");
        shadow.append_child(&banner).expect("append");
        document()
            .body()
            .expect("body")
            .append_child(&holder)
            .expect("append");
    }
    let host = js_sys::Object::new();
    let notice = s
        .notice
        .unwrap_or_else(notice)
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .expect("notice to JS");
    set(&host, "notice", &notice);
    set(
        &host,
        "lang",
        &(if s.lang.is_empty() { "th" } else { s.lang }).into(),
    );
    set(&host, "subject", &"subject-0123456789abcdef".into());
    set(
        &host,
        "noticeUrl",
        &"https://consent.test/sites/demo/notice".into(),
    );
    set(&host, "api", &"https://consent.test/v1/sites/demo".into());
    set(&host, "build", &"0123456789abcdef".into());
    set(&host, "gpc", &s.gpc.into());
    set(&host, "banner", &(!s.loader_banner).into());
    func(&host, "uuid", || {
        "0192f0c1-7d4e-7a3b-9c2d-1e2f3a4b5c6d".into()
    });
    func(&host, "now", || 1_732_300_000.0.into());
    let consent = s.consent;
    func(&host, "consent", move || {
        consent
            .map(|c| js_sys::JSON::parse(c).expect("consent JSON"))
            .unwrap_or(JsValue::NULL)
    });
    let choice = s.choice;
    func(&host, "choice", move || {
        choice.map(JsValue::from_str).unwrap_or(JsValue::NULL)
    });
    func(&host, "setLang", || JsValue::UNDEFINED);
    func(&host, "receipts", || js_sys::Array::new().into());
    let pages = s.pages;
    let fetch = Closure::<dyn Fn(String) -> js_sys::Promise>::new(move |url: String| {
        match pages.iter().find(|(k, _)| url.contains(k)) {
            Some((_, body)) => js_sys::Promise::resolve(&JsValue::from_str(body)),
            None => js_sys::Promise::reject(&JsValue::from_str("404")),
        }
    });
    set(&host, "text", fetch.as_ref());
    fetch.forget();
    let commits: Commits = Rc::default();
    let sink = commits.clone();
    let commit = Closure::<dyn Fn(String, String)>::new(move |c: String, r: String| {
        sink.borrow_mut().push((c, r));
    });
    set(&host, "commit", commit.as_ref());
    commit.forget();
    let widget = yinyom_widget::mount(host.unchecked_into()).expect("mount");
    let shadow = document()
        .get_element_by_id("yinyom")
        .and_then(|e| e.shadow_root())
        .expect("shadow root");
    (commits, shadow, widget)
}

fn mount(lang: &'static str) -> (Commits, ShadowRoot) {
    let (c, r, _) = mount_with(Setup {
        lang,
        ..Setup::default()
    });
    (c, r)
}

fn document() -> web_sys::Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("document")
}

fn find(root: &ShadowRoot, css: &str) -> Option<Element> {
    root.query_selector(css).expect("selector")
}

fn all(root: &ShadowRoot, css: &str) -> Vec<Element> {
    let list = root.query_selector_all(css).expect("selector");
    (0..list.length())
        .filter_map(|i| list.get(i))
        .filter_map(|n| n.dyn_into().ok())
        .collect()
}

fn click(root: &ShadowRoot, css: &str) {
    find(root, css)
        .unwrap_or_else(|| panic!("no {css}"))
        .unchecked_into::<HtmlElement>()
        .click();
}

fn active(root: &ShadowRoot) -> Option<Element> {
    root.active_element()
}

fn key(root: &ShadowRoot, k: &str, shift: bool) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(k);
    init.set_shift_key(shift);
    init.set_bubbles(true);
    init.set_cancelable(true);
    init.set_composed(true);
    let e = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("event");
    active(root)
        .expect("something focused")
        .dispatch_event(&e)
        .expect("dispatch");
}

fn request(json: &str) -> ReceiptRequest {
    let r: ReceiptRequest =
        serde_wasm_bindgen::from_value(js_sys::JSON::parse(json).expect("JSON"))
            .expect("a receipt request the server accepts");
    r.check().expect("valid request");
    r
}

fn decided(r: &std::collections::BTreeMap<Slug, bool>) -> Vec<(&str, bool)> {
    r.iter().map(|(k, v)| (k.as_str(), *v)).collect()
}

/// The banner shows the notice's Thai title and summary, with Reject all, Choose and
/// Accept all styled identically (reject is as easy as accept: PDPA consent guideline),
/// and takes the keyboard focus.
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
    let banner = find(&root, ".banner").expect("banner");
    assert_eq!(banner.get_attribute("role").as_deref(), Some("dialog"));
    assert!(
        active(&root).is_some_and(|a| a.is_same_node(Some(&banner))),
        "focus moves into the banner"
    );
    let reject = find(&root, "[data-action=reject-all]").expect("reject");
    let choose = find(&root, "[data-action=choose]").expect("choose");
    let accept = find(&root, "[data-action=accept-all]").expect("accept");
    assert_eq!(reject.text_content().as_deref(), Some("ปฏิเสธทั้งหมด"));
    assert_eq!(choose.text_content().as_deref(), Some("ตั้งค่า"));
    assert_eq!(accept.text_content().as_deref(), Some("ยอมรับทั้งหมด"));
    let window = web_sys::window().expect("window");
    let style = |e: &Element| window.get_computed_style(e).expect("style").expect("style");
    for other in [&reject, &choose] {
        let (a, r) = (style(&accept), style(other));
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
                "{prop} differs between the banner's buttons"
            );
        }
    }
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
    let (cookie, request_json) = &commits[0];
    let cookie = ConsentCookie::decode(cookie).expect("a version-1 cookie");
    assert_eq!(cookie.revision, 3);
    assert_eq!(cookie.at, 1_732_300_000);
    assert!(cookie.granted.is_empty());
    assert_eq!(cookie.receipt_id, None);
    let request = request(request_json);
    assert_eq!(request.method.as_str(), "reject_all");
    assert_eq!(request.notice_version, "v1");
    assert_eq!(request.consent_revision, 3);
    assert_eq!(request.lang, Lang::Th);
    assert_eq!(request.subject_id, "subject-0123456789abcdef");
    assert_eq!(request.widget, "0123456789abcdef");
    assert!(!request.gpc);
    assert_eq!(
        decided(&request.categories),
        vec![("analytics", false), ("media", false)]
    );
    assert_eq!(decided(&request.purposes), vec![("newsletter", false)]);
    assert!(find(&root, ".banner").is_none(), "the banner must close");
    assert_eq!(
        find(&root, "[role=status]")
            .and_then(|s| s.text_content())
            .as_deref(),
        Some("บันทึกตัวเลือกของท่านแล้ว")
    );
}

/// Accept all grants every optional category; the language switch shows English and the
/// receipt records the language the visitor read.
#[wasm_bindgen_test]
async fn accept_all_in_english_grants_everything() {
    let (commits, root) = mount("th");
    yew::scheduler::flush().await;
    click(&root, "[data-action=lang]");
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
    let request = request(&commits[0].1);
    assert_eq!(request.method.as_str(), "accept_all");
    assert_eq!(request.lang, Lang::En);
    assert!(request.categories.values().all(|g| *g));
    assert!(request.purposes.values().all(|g| *g));
}

/// Choose opens the settings: a modal dialog with every toggle unticked, the necessary
/// category always on with why it is not asked, cookie tables, purposes on other legal
/// bases as notice items; saving records exactly the toggles turned on.
#[wasm_bindgen_test]
async fn choose_saves_partial_choices() {
    let (commits, root) = mount("th");
    yew::scheduler::flush().await;
    click(&root, "[data-action=choose]");
    yew::scheduler::flush().await;
    let modal = find(&root, ".modal").expect("settings open");
    assert_eq!(modal.get_attribute("aria-modal").as_deref(), Some("true"));
    assert!(
        active(&root).is_some_and(|a| a.is_same_node(Some(&modal))),
        "focus moves into the settings"
    );
    let toggles = all(&root, "input[type=checkbox]");
    assert_eq!(toggles.len(), 3, "analytics, media, newsletter");
    for t in &toggles {
        let t: &HtmlInputElement = t.unchecked_ref();
        assert!(!t.checked(), "{} must start unticked", t.id());
        let label = find(&root, &format!("label[for={}]", t.id())).expect("label");
        assert!(!label.text_content().unwrap_or_default().is_empty());
    }
    let necessary = find(&root, "[data-category=necessary]").expect("necessary");
    let text = necessary.text_content().unwrap_or_default();
    assert!(
        text.contains("เปิดอยู่เสมอ") && text.contains("มาตรา 24"),
        "{text}"
    );
    assert!(find(&root, "[data-category=analytics] table td code").is_some());
    let body = find(&root, ".body")
        .and_then(|b| b.text_content())
        .unwrap_or_default();
    assert!(body.contains("ให้บริการ") && body.contains("ภารกิจเพื่อประโยชน์สาธารณะ"));

    click(&root, "#yy-c-analytics");
    yew::scheduler::flush().await;
    click(&root, ".modal [data-action=save]");
    yew::scheduler::flush().await;
    let commits = commits.borrow();
    assert_eq!(commits.len(), 1);
    let cookie = ConsentCookie::decode(&commits[0].0).expect("cookie");
    assert_eq!(cookie.granted, vec![slug("analytics")]);
    let request = request(&commits[0].1);
    assert_eq!(request.method.as_str(), "save_preferences");
    assert_eq!(
        decided(&request.categories),
        vec![("analytics", true), ("media", false)]
    );
    assert_eq!(decided(&request.purposes), vec![("newsletter", false)]);
    assert!(find(&root, ".modal").is_none() && find(&root, ".banner").is_none());
}

/// Keyboard: Tab stays inside the settings (both ways), Esc closes them and the focus
/// returns to the Choose button; the banner stays until the visitor decides.
#[wasm_bindgen_test]
async fn settings_trap_focus_and_escape_returns_it() {
    let (commits, root) = mount("th");
    yew::scheduler::flush().await;
    let choose: HtmlElement = find(&root, "[data-action=choose]")
        .expect("choose")
        .unchecked_into();
    choose.focus().expect("focus");
    choose.click();
    yew::scheduler::flush().await;
    let focusable = all(
        &root,
        ".modal button, .modal input, .modal summary, .modal a[href]",
    );
    let (first, last) = (focusable[0].clone(), focusable[focusable.len() - 1].clone());
    last.unchecked_ref::<HtmlElement>().focus().expect("focus");
    key(&root, "Tab", false);
    assert!(active(&root).is_some_and(|a| a.is_same_node(Some(&first))));
    key(&root, "Tab", true);
    assert!(active(&root).is_some_and(|a| a.is_same_node(Some(&last))));
    key(&root, "Escape", false);
    yew::scheduler::flush().await;
    assert!(find(&root, ".modal").is_none(), "Esc closes the settings");
    assert!(
        find(&root, ".banner").is_some(),
        "no choice yet: banner stays"
    );
    let choose = find(&root, "[data-action=choose]").expect("choose");
    assert!(active(&root).is_some_and(|a| a.is_same_node(Some(&choose))));
    assert!(commits.borrow().is_empty(), "closing is not a choice");
}

/// Global Privacy Control: a note says so, and Accept all keeps the advertising category
/// (Consent Mode ad_storage) off while granting the rest; the receipt records GPC.
#[wasm_bindgen_test]
async fn gpc_keeps_sharing_categories_off() {
    let (commits, root, _) = mount_with(Setup {
        gpc: true,
        ..Setup::default()
    });
    yew::scheduler::flush().await;
    let note = find(&root, ".banner [data-gpc]")
        .and_then(|n| n.text_content())
        .expect("GPC note shown");
    assert!(
        note.contains("\u{201c}หมวด media\u{201d}") && !note.contains("หมวด analytics"),
        "the note names what GPC turns off here, and only that: {note}"
    );
    assert!(!note.contains("%s") && !note.contains("คุณ"), "{note}");
    click(&root, "[data-action=accept-all]");
    yew::scheduler::flush().await;
    let request = request(&commits.borrow()[0].1);
    assert!(request.gpc);
    assert_eq!(
        decided(&request.categories),
        vec![("analytics", true), ("media", false)]
    );
}

/// Minors mode (PDPA s.20): no choice is recorded before an age band is picked; under 20,
/// a guardian must confirm; the receipt records the band and who consented.
#[wasm_bindgen_test]
async fn minors_mode_asks_age_and_guardian() {
    let mut n = notice();
    n.notice.minors = MinorsPolicy::AskAge;
    let (commits, root, _) = mount_with(Setup {
        notice: Some(n),
        ..Setup::default()
    });
    yew::scheduler::flush().await;
    click(&root, "[data-action=accept-all]");
    yew::scheduler::flush().await;
    assert!(commits.borrow().is_empty(), "no age band: nothing recorded");
    let error = find(&root, "[role=alert]").expect("error shown");
    assert_eq!(error.text_content().as_deref(), Some("กรุณาเลือกช่วงอายุก่อน"));
    let radios = all(&root, ".banner input[type=radio]");
    assert_eq!(radios.len(), 3);
    radios[1].unchecked_ref::<HtmlElement>().click();
    yew::scheduler::flush().await;
    click(&root, "[data-action=accept-all]");
    yew::scheduler::flush().await;
    assert!(
        commits.borrow().is_empty(),
        "10-19 without a guardian: nothing recorded"
    );
    click(&root, "[data-guardian]");
    yew::scheduler::flush().await;
    click(&root, "[data-action=accept-all]");
    yew::scheduler::flush().await;
    let r = request(&commits.borrow()[0].1);
    let json = &commits.borrow()[0].1;
    assert!(json.contains("\"age_band\":\"10_19\""), "{json}");
    assert!(json.contains("\"consent_by\":\"guardian\""), "{json}");
    assert_eq!(r.method.as_str(), "accept_all");
}

/// PDPA s.20 governs giving consent: in minors mode, Reject all is recorded at once with
/// no age band and no guardian; a 10-19 visitor refusing needs no guardian either.
#[wasm_bindgen_test]
async fn minors_mode_refusal_needs_no_age_or_guardian() {
    let mut n = notice();
    n.notice.minors = MinorsPolicy::AskAge;
    let (commits, root, _) = mount_with(Setup {
        notice: Some(n.clone()),
        ..Setup::default()
    });
    yew::scheduler::flush().await;
    click(&root, "[data-action=reject-all]");
    yew::scheduler::flush().await;
    assert_eq!(commits.borrow().len(), 1, "recorded at once");
    let r = request(&commits.borrow()[0].1);
    assert_eq!(r.method.as_str(), "reject_all");
    assert_eq!((r.age_band, r.consent_by), (None, None));
    assert!(find(&root, ".banner").is_none(), "the banner closes");

    let (commits, root, _) = mount_with(Setup {
        notice: Some(n),
        ..Setup::default()
    });
    yew::scheduler::flush().await;
    all(&root, ".banner input[type=radio]")[1]
        .unchecked_ref::<HtmlElement>()
        .click();
    yew::scheduler::flush().await;
    click(&root, "[data-action=reject-all]");
    yew::scheduler::flush().await;
    assert_eq!(commits.borrow().len(), 1, "no guardian needed to refuse");
    let json = &commits.borrow()[0].1;
    assert!(json.contains("\"age_band\":\"10_19\""), "{json}");
}

/// Asked again (no current choice, e.g. the revision rose): the settings open with the
/// last choice this browser made for what still exists; a category that was not in that
/// choice (new) is off.
#[wasm_bindgen_test]
async fn reconsent_prefills_the_earlier_choice() {
    let (_, root, widget) = mount_with(Setup {
        loader_banner: true,
        choice: Some(
            r#"{"categories":{"analytics":true,"gone":true},"purposes":{"newsletter":true},"method":"save_preferences"}"#,
        ),
        ..Setup::default()
    });
    widget.open(None);
    yew::scheduler::flush().await;
    let on = |id: &str| {
        find(&root, &format!("#{id}"))
            .expect(id)
            .unchecked_into::<HtmlInputElement>()
            .checked()
    };
    assert!(on("yy-c-analytics"), "the earlier choice");
    assert!(!on("yy-c-media"), "new: off");
    assert!(on("yy-p-newsletter"), "the earlier purpose choice");
}

/// The notice viewer shows the server's page inside the settings, without the page's own
/// language link, with its links pointed at the consent server.
#[wasm_bindgen_test]
async fn notice_tab_shows_the_server_page() {
    let page = "<!doctype html><html><head><style>x{}</style></head><body><main>\
        <p class=\"lang\"><a href=\"/sites/demo/notice?lang=en\">English</a></p>\
        <header><h1>ประกาศความเป็นส่วนตัว</h1></header><article><p>เนื้อหาประกาศ</p></article>\
        <nav><a href=\"/sites/demo/notice/v1?lang=th\">ฉบับ v1</a></nav></main></body></html>";
    let (_, root, _) = mount_with(Setup {
        pages: vec![("/sites/demo/notice?lang=th", page.to_owned())],
        ..Setup::default()
    });
    yew::scheduler::flush().await;
    click(&root, "[data-action=notice]");
    for _ in 0..20 {
        yew::scheduler::flush().await;
        if find(&root, ".notice article").is_some() {
            break;
        }
        wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&JsValue::NULL))
            .await
            .ok();
    }
    let notice = find(&root, ".notice").expect("notice shown");
    let html = notice.inner_html();
    assert!(html.contains("เนื้อหาประกาศ"), "{html}");
    assert!(!html.contains("<style"), "{html}");
    assert!(find(&root, ".notice .lang").is_none(), "{html}");
    let link = find(&root, ".notice nav a").expect("history link");
    assert_eq!(
        link.get_attribute("href").as_deref(),
        Some("https://consent.test/sites/demo/notice/v1?lang=th")
    );
}

/// With a stored choice, mounting shows nothing until the loader asks; `open()` shows the
/// settings with the current choice; My consent lists the receipts and offers them as a
/// download; Withdraw all records a withdrawal denying everything.
#[wasm_bindgen_test]
async fn my_consent_shows_receipts_and_withdraws() {
    let history = r#"[{"receipt":{"receipt_id":"0192f0c1-0000-7000-8000-000000000002","issued_at":"2025-02-01T00:00:00.000Z","event":"given","method":"save_preferences"},"jws":"a.b.c"}]"#;
    let (commits, root, widget) = mount_with(Setup {
        consent: Some(
            r#"{"revision":3,"categories":["analytics"],"receiptId":"0192f0c1-0000-7000-8000-000000000002","at":1732300000}"#,
        ),
        pages: vec![(
            "/subjects/subject-0123456789abcdef/receipts",
            history.to_owned(),
        )],
        ..Setup::default()
    });
    yew::scheduler::flush().await;
    assert!(
        find(&root, ".banner").is_none(),
        "a current choice: no banner"
    );
    widget.open(None);
    yew::scheduler::flush().await;
    let analytics: HtmlInputElement = find(&root, "#yy-c-analytics")
        .expect("toggle")
        .unchecked_into();
    assert!(analytics.checked(), "the current choice is shown");
    click(&root, "[data-action=tab-mine]");
    for _ in 0..20 {
        yew::scheduler::flush().await;
        if find(&root, ".history li").is_some() {
            break;
        }
        wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&JsValue::NULL))
            .await
            .ok();
    }
    let current = find(&root, "[data-current]")
        .and_then(|c| c.text_content())
        .unwrap_or_default();
    assert!(
        current.contains("0192f0c1-0000-7000-8000-000000000002"),
        "{current}"
    );
    let row = find(&root, ".history li")
        .expect("history row")
        .text_content();
    let row = row.unwrap_or_default();
    assert!(row.contains("ให้ความยินยอม"));
    // 2025-02-01T00:00Z is 07:00 in Thailand, in the Buddhist era.
    assert!(
        row.contains("1 กุมภาพันธ์ 2568") && row.contains("07:00"),
        "{row}"
    );
    // A link's address is written when it is clicked (the test keeps the browser from
    // following it): all receipts as JSON Lines, and each receipt's own bundle.
    for css in ["[data-action=download]", ".history [download]"] {
        let link = find(&root, css).expect("download link");
        let stay = Closure::<dyn Fn(web_sys::Event)>::new(|e: web_sys::Event| e.prevent_default());
        link.add_event_listener_with_callback("click", stay.as_ref().unchecked_ref())
            .expect("listen");
        click(&root, css);
        let href = link.get_attribute("href").unwrap_or_default();
        assert!(href.starts_with("data:application/json"), "{href}");
        let text = js_sys::decode_uri_component(href.split_once(',').map_or("", |(_, t)| t))
            .map(String::from)
            .unwrap_or_default();
        assert!(
            text.contains("\"jws\": \"a.b.c\"") || text.contains("\"jws\":\"a.b.c\""),
            "{text}"
        );
    }
    click(&root, "[data-action=withdraw]");
    yew::scheduler::flush().await;
    let commits = commits.borrow();
    let r = request(&commits[0].1);
    assert_eq!(r.method.as_str(), "withdraw");
    assert!(r.categories.values().chain(r.purposes.values()).all(|g| !g));
    assert!(
        ConsentCookie::decode(&commits[0].0)
            .expect("cookie")
            .granted
            .is_empty()
    );
}

/// My consent with nothing granted and no receipt yet: the empty history says so, and
/// there is no "withdraw all" (nothing to withdraw).
#[wasm_bindgen_test]
async fn my_consent_with_nothing_to_withdraw_says_so() {
    let (_, root, widget) = mount_with(Setup {
        consent: Some(r#"{"revision":3,"categories":[],"receiptId":null,"at":1732300000}"#),
        pages: vec![(
            "/subjects/subject-0123456789abcdef/receipts",
            "[]".to_owned(),
        )],
        loader_banner: true,
        ..Setup::default()
    });
    widget.open(Some("mine".to_owned()));
    for _ in 0..20 {
        yew::scheduler::flush().await;
        if find(&root, "[data-empty]").is_some() {
            break;
        }
        wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&JsValue::NULL))
            .await
            .ok();
    }
    assert_eq!(
        find(&root, "[data-empty]")
            .and_then(|e| e.text_content())
            .as_deref(),
        Some("ยังไม่มีใบรับในเบราว์เซอร์นี้")
    );
    assert!(
        find(&root, "[data-action=withdraw]").is_none(),
        "nothing to withdraw"
    );
    assert!(find(&root, "[data-nothing-to-withdraw]").is_some());
    assert!(find(&root, "[data-action=download]").is_none());
}

/// Where the loader draws the banner, the widget draws none: it opens straight into the
/// tab asked for (`open("notice")`, `open("mine")`, `open()`: the choices), in the
/// loader's shadow root, and makes the loader's banner inert while the settings are open.
#[wasm_bindgen_test]
async fn opens_straight_into_a_tab_beside_the_loaders_banner() {
    let (commits, root, widget) = mount_with(Setup {
        loader_banner: true,
        ..Setup::default()
    });
    yew::scheduler::flush().await;
    assert_eq!(all(&root, ".banner").len(), 1, "only the loader's banner");
    assert!(find(&root, ".modal").is_none());
    let banner = find(&root, ".banner").expect("the loader's banner");
    for (tab, action) in [
        (Some("mine"), "tab-mine"),
        (Some("notice"), "tab-notice"),
        (None, "tab-choices"),
    ] {
        widget.open(tab.map(str::to_owned));
        yew::scheduler::flush().await;
        assert!(
            find(&root, &format!("[data-action={action}][aria-current]")).is_some(),
            "open({tab:?}) shows {action}"
        );
        assert!(banner.has_attribute("inert"), "the banner is inert");
    }
    click(&root, ".modal [data-action=close]");
    yew::scheduler::flush().await;
    assert!(find(&root, ".modal").is_none());
    assert!(!banner.has_attribute("inert"), "the banner is usable again");
    assert!(commits.borrow().is_empty());
}

/// The loader's banner (`js/banner.js`) uses the widget's words: both take them from
/// `yinyom_model::words`, the banner at build time (`xtask/src/dist.rs`, whose test checks
/// every word lands in the built module).
#[wasm_bindgen_test]
fn loader_banner_words_are_the_widgets() {
    let loader = include_str!("../js/banner.js");
    assert!(loader.contains("const WORDS = __YINYOM_WORDS__;"));
    for lang in [Lang::Th, Lang::En] {
        let w = yinyom_widget::i18n::words(lang);
        let b = yinyom_model::words::BannerWords::of(lang);
        for (word, banner) in [
            (w.switch_lang, b.switch_lang),
            (w.read_notice, b.read_notice),
            (w.reject_all, b.reject_all),
            (w.choose, b.choose),
            (w.accept_all, b.accept_all),
            (w.gpc_note, b.gpc_note),
            (w.and, b.and),
        ] {
            assert_eq!(word, banner);
        }
    }
}

/// The notice read from the JS object is the notice that was served (minus the Markdown
/// body, which the viewer takes from the server's sanitized page).
#[wasm_bindgen_test]
fn reads_every_notice_field() {
    let mut n = notice();
    n.notice.minors = MinorsPolicy::AskAge;
    let js = n
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .expect("to JS");
    let read = yinyom_widget::js::notice(&js).expect("a notice");
    let mut expected = n.notice;
    expected.body = Text::default();
    assert_eq!(read, expected);
}

/// The request JSON writer escapes what JSON needs escaped.
#[wasm_bindgen_test]
fn json_writer_escapes() {
    let s = yinyom_widget::js::Json::default()
        .str("a", "x\"y\\z\n")
        .num("n", 3)
        .bool("b", true)
        .map("m", &[(slug("analytics"), false)])
        .end();
    assert_eq!(
        s,
        r#"{"a":"x\"y\\z\u000a","n":3,"b":true,"m":{"analytics":false}}"#
    );
}
