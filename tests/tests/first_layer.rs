//! The first layer: the banner in plain JavaScript (`widget/js/banner.js`, imported by the
//! loader), in real Chromium against the real server and the built widget. A first visit
//! costs two small requests (loader, banner) and no wasm and no notice; the widget (glue, wasm, notice) is fetched on
//! intent or when the settings open; Reject all / Accept all from the banner make exactly
//! the receipt request the widget makes, which the server stores, signs and which
//! verifies; the language switch and the keyboard work; the three buttons look the same.

use serde_json::{Value, json};
use yinyom_e2e::page::{R, Visitor, in_widget};
use yinyom_e2e::{
    server::TestServer,
    webdriver::{Browser, keys},
};
use yinyom_model::{
    Slug,
    cookie::{ConsentCookie, cookie_name},
};
use yinyom_server::signing::{self, Jwks};

const SITE: &str = "osmep-sme-monitoring";

/// What the page fetched from the consent server, as `[url, …]`.
fn fetched(visitor: &Visitor<'_>, server: &TestServer) -> Vec<String> {
    let v = visitor.eval(&format!(
        "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.startsWith('{}'));",
        server.api
    ));
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|u| u.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn jwks(server: &TestServer) -> Jwks {
    ureq::get(&format!("{}/.well-known/jwks.json", server.api))
        .call()
        .expect("jwks")
        .into_json()
        .expect("jwks json")
}

/// A first visit fetches the loader, then the site's banner script (its texts inside) on
/// the loader's connection, and nothing else: the banner has the notice's Thai title and
/// summary, focused, with three buttons that look the same. The widget is fetched when
/// the pointer goes over "ตั้งค่า" (before any click), and the settings open on click.
#[test]
fn first_visit_needs_no_wasm_and_the_widget_comes_on_demand() {
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start_logging_network().expect("browser");
    let visitor = Visitor::new(&browser, &server, SITE);
    visitor.visit();
    let banner = visitor.banner();
    let site = yinyom_e2e::example_site(SITE);
    let shown = visitor.eval(&format!(
        "{R} return [r.querySelector('.banner h2').textContent, r.querySelector('#yy-summary').textContent, \
         r.activeElement && r.activeElement.classList.contains('banner'), \
         r.querySelector('.banner').getAttribute('role'), r.querySelector('.banner').getAttribute('aria-modal')];"
    ));
    assert_eq!(
        shown,
        json!([
            site.notice.title.th,
            site.notice.summary.th,
            true,
            "dialog",
            "false"
        ])
    );
    // The loader settled once the banner was shown: its requests are over.
    let files = fetched(&visitor, &server);
    assert_eq!(
        files.len(),
        2,
        "the loader, then the banner with its texts in one script: {files:?}"
    );
    assert!(files[0].ends_with("/yinyom.js"), "{files:?}");
    assert!(
        files[1].contains(&format!("/v1/sites/{SITE}/banner/"))
            && files[1].ends_with(&format!("/{}.js", site.notice.version)),
        "{files:?}"
    );
    // One connection for both: the banner is fetched as the loader was (a module import
    // would open a connection of its own, a TCP and TLS handshake more over HTTPS).
    let responses = browser.responses().expect("network log");
    let of = |file: &str| {
        responses
            .iter()
            .find(|r| r["url"].as_str() == Some(file))
            .unwrap_or_else(|| panic!("no response for {file}: {responses:?}"))
    };
    let (loader, banner_js) = (of(&files[0]), of(&files[1]));
    assert_eq!(
        banner_js["connectionId"], loader["connectionId"],
        "the banner came on a connection of its own: {banner_js} {loader}"
    );
    assert_eq!(banner_js["connectionReused"], true, "{banner_js}");

    // Reject all, Choose and Accept all are styled identically (reject is as easy as accept).
    let looks = visitor.eval(&format!(
        "{R} return ['reject-all', 'choose', 'accept-all'].map(a => {{ \
           const s = getComputedStyle(r.querySelector('.banner [data-action=' + a + ']')); \
           return [s.backgroundColor, s.color, s.fontSize, s.fontWeight, s.borderTopWidth, s.height].join(' '); }});"
    ));
    assert_eq!(looks[0], looks[1], "reject and choose differ: {looks}");
    assert_eq!(looks[0], looks[2], "reject and accept differ: {looks}");

    // Intent: the pointer over "ตั้งค่า" starts fetching the widget, nothing opens.
    visitor.eval(&format!(
        "{R} r.querySelector('[data-action=choose]').dispatchEvent(new PointerEvent('pointerover', {{ bubbles: true, composed: true }})); return 1;"
    ));
    visitor.wait(
        20,
        "return performance.getEntriesByType('resource').some(e => e.name.endsWith('.wasm'));",
        "the wasm is fetched on intent",
    );
    assert_eq!(visitor.eval(&in_widget(".modal")), Value::Null);

    banner.open_choices();
    visitor.wait(
        20,
        &in_widget(".modal [data-action=save]"),
        "the settings open",
    );
    assert_eq!(
        visitor.eval(&format!(
            "{R} return r.querySelector('.banner').hasAttribute('inert');"
        )),
        json!(true),
        "the banner is inert behind the settings"
    );
    browser.press(&[keys::ESCAPE], false).expect("Esc");
    visitor.wait(
        10,
        &format!(
            "{R} return !r.querySelector('.modal') && !r.querySelector('.banner').inert \
             && r.activeElement && r.activeElement.getAttribute('data-action') === 'choose';"
        ),
        "Esc closes the settings and the focus returns to ตั้งค่า",
    );
    // The notice link opens the settings on the full notice.
    banner.press("notice");
    visitor.wait(
        20,
        &in_widget("[data-action=tab-notice][aria-current]"),
        "the notice tab",
    );
}

/// Reject all and Accept all from the loader's banner make exactly the request the
/// widget makes for the same method (only the request id differs), and each is stored,
/// signed and verifies against the JWKS.
#[test]
fn banner_choices_are_the_widgets_requests_and_verify() {
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, SITE);
    let keys = jwks(&server);
    for (n, action) in [(2, "accept-all"), (4, "reject-all")] {
        if n > 2 {
            // Forget the choice: the banner asks again.
            visitor.forget_choice();
        }
        visitor.visit();
        let banner = visitor.banner();
        visitor.and_settle(|| banner.press(action));
        visitor.wait(
            10,
            &format!("{R} return !r.querySelector('.banner');"),
            "the banner closes",
        );
        let from_banner = visitor.last_request();
        visitor.eval("window.yinyom.open(); return 1;");
        let settings = visitor.settings();
        visitor.and_settle(|| settings.press(action));
        visitor.wait(
            10,
            &format!("{R} return !r.querySelector('.modal');"),
            "the settings close",
        );
        let from_widget = visitor.last_request();
        let strip = |mut v: Value| {
            let id = v["request_id"].take();
            assert!(id.as_str().is_some_and(|s| s.len() == 36), "{id}");
            v
        };
        assert_eq!(
            serde_json::to_string(&strip(from_banner)).expect("json"),
            serde_json::to_string(&strip(from_widget)).expect("json"),
            "{action}: the banner's request differs from the widget's"
        );
        let r = visitor.receipts(n);
        for x in &r[..2] {
            assert_eq!(
                x["receipt"]["method"],
                action.replace('-', "_"),
                "{action}: {x}"
            );
            signing::verify(x["jws"].as_str().expect("jws"), &keys).expect("the receipt verifies");
        }
    }
}

/// The keyboard alone: the banner has the focus; Tab reaches the language switch, Enter
/// turns the banner English (focus stays on the switch); Tab reaches Accept all and Enter
/// records it, in English. (Tabbing over the notice link fetches the widget on intent.)
#[test]
fn keyboard_language_switch_and_accept() {
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, SITE);
    visitor.visit();
    visitor.banner();
    let site = yinyom_e2e::example_site(SITE);
    let active = format!(
        "{R} const a = r && r.activeElement; return a && (a.getAttribute('data-action') || a.className);"
    );
    let tab_to = |want: &str| {
        for _ in 0..20 {
            if visitor.eval(&active) == json!(want) {
                return;
            }
            browser.press(&[keys::TAB], false).expect("Tab");
        }
        panic!("Tab never reached {want}");
    };
    tab_to("lang");
    browser.press(&[keys::ENTER], false).expect("Enter");
    let english = visitor.eval(&format!(
        "{R} return [r.querySelector('.banner h2').textContent, r.querySelector('#yy-summary').textContent, \
         r.querySelector('.banner').parentNode.lang, r.querySelector('[data-action=lang]').textContent, \
         r.querySelector('[data-action=lang]').lang, r.querySelector('[data-action=accept-all]').textContent, \
         r.activeElement.getAttribute('data-action')];"
    ));
    assert_eq!(
        english,
        json!([
            site.notice.title.en,
            site.notice.summary.en,
            "en",
            "ไทย",
            "th",
            "Accept all",
            "lang"
        ])
    );
    tab_to("accept-all");
    visitor.and_settle(|| browser.press(&[keys::ENTER], false).expect("Enter"));
    let r = visitor.receipts(1);
    assert_eq!(r[0]["receipt"]["method"], "accept_all");
    assert_eq!(r[0]["receipt"]["lang"], "en");
    assert_eq!(
        r[0]["receipt"]["categories"],
        json!({"analytics": true, "media": true})
    );
}

/// The loader tells when it has finished reacting (`yinyom:settled`, detail `{site}`):
/// after the page loads, once the banner is shown; after a choice in the banner, once the
/// cookie is set and the server has answered the receipt request (nothing left pending,
/// the receipt id in the cookie).
#[test]
fn the_loader_says_when_it_has_settled() {
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    browser
        .before_each_page(
            "window.__seen = []; document.addEventListener('yinyom:settled', (e) => { \
               const h = document.getElementById('yinyom'), r = h && h.shadowRoot; \
               window.__seen.push({ site: e.detail.site, banner: !!(r && r.querySelector('.banner')), \
                 pending: localStorage.getItem('yinyom.' + e.detail.site + '.pending'), cookie: document.cookie }); });",
        )
        .expect("listener");
    let visitor = Visitor::new(&browser, &server, SITE);
    visitor.visit();
    let first = visitor.eval("return window.__seen[0];");
    assert_eq!(first["site"], SITE);
    assert_eq!(
        first["banner"], true,
        "the banner is shown when it settles: {first}"
    );
    visitor.banner().accept_all();
    visitor.wait(
        20,
        "return window.__seen.length >= 2;",
        "settled after the choice",
    );
    let after = visitor.eval("return window.__seen[1];");
    assert_eq!(after["site"], SITE);
    assert_eq!(after["banner"], false, "{after}");
    assert_eq!(
        after["pending"],
        Value::Null,
        "the request was answered: {after}"
    );
    let name = cookie_name(&Slug::parse(SITE).expect("slug"));
    let value = after["cookie"]
        .as_str()
        .and_then(|c| {
            c.split("; ")
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        })
        .expect("the consent cookie");
    let cookie = ConsentCookie::decode(value).expect("a version-1 cookie");
    let r = visitor.receipts(1);
    assert_eq!(
        cookie.receipt_id.as_deref(),
        r[0]["receipt"]["receipt_id"].as_str(),
        "the receipt id is in the cookie when it settles"
    );
}

/// The consent cookie has one format, the model's: what the loader writes for a banner
/// choice (pending, then with the receipt id) the model decodes and encodes back to the
/// same value, and what the model encodes the loader reads (`yinyom.consent()`).
#[test]
fn the_loader_and_the_model_share_the_cookie_format() {
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, SITE);
    let name = cookie_name(&Slug::parse(SITE).expect("slug"));
    let revision = yinyom_e2e::example_site(SITE).notice.consent_revision;
    visitor.visit();
    visitor.banner().accept_all();
    let r = visitor.receipts(1);
    let receipt_id = r[0]["receipt"]["receipt_id"]
        .as_str()
        .expect("receipt id")
        .to_owned();
    let decoded = visitor.consent_cookie_with_receipt();
    assert_eq!(decoded.receipt_id.as_deref(), Some(receipt_id.as_str()));
    let written = browser
        .cookie(&name)
        .expect("cookies")
        .expect("the consent cookie");
    assert_eq!(
        decoded.encode(),
        written,
        "the model reads the loader's cookie"
    );
    let granted: Vec<&str> = decoded.granted.iter().map(Slug::as_str).collect();
    assert_eq!(granted, ["analytics", "media"]);
    assert_eq!(decoded.revision, revision);

    let now = visitor
        .eval("return Math.floor(Date.now() / 1000);")
        .as_u64()
        .expect("now");
    for (granted, receipt) in [
        (vec!["media"], Some("0192f0c1-7d4e-7a3b-9c2d-1e2f3a4b5c6d")),
        (vec![], None),
    ] {
        let c = ConsentCookie {
            revision,
            at: now - 60,
            granted: granted
                .iter()
                .map(|g| Slug::parse(g).expect("slug"))
                .collect(),
            receipt_id: receipt.map(str::to_owned),
        };
        visitor.eval(&format!(
            "document.cookie = '{name}={}; path=/'; return 1;",
            c.encode()
        ));
        visitor.visit();
        let read = visitor.eval("return window.yinyom.consent();");
        assert_eq!(
            read,
            json!({"revision": c.revision, "categories": granted, "receiptId": receipt, "at": c.at}),
            "{}",
            c.encode()
        );
    }
}
