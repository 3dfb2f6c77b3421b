//! The five example sites on phones, in real Chromium with the phone's screen emulated
//! (320 and 375 CSS px wide, a phone viewport): nothing scrolls sideways before or after a
//! choice, the banner's buttons and the settings dialog fit the screen, the iframe
//! placeholders shrink with the page; on a touch screen every target we draw is at least
//! 44 px tall; the public notice page fits 320 px; the example host pages pass axe.
//! One browser for the whole file: each case starts from cleared cookies and storage.

use serde_json::{Value, json};
use yinyom_e2e::page::{FLOATING_BUTTON, R, Visitor, eval};
use yinyom_e2e::{axe, server::TestServer, webdriver::Browser};

const SITES: [&str; 5] = [
    "osmep-sme-monitoring",
    "osmep-msme-data-service",
    "moi-i-industry",
    "msdhs-mso-logbook",
    "sknpeo-samut-sakhon",
];

/// Emulates a phone screen `width` CSS px wide (and a touch screen when `touch`).
fn phone(b: &Browser, width: u32, touch: bool) {
    b.cdp(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": width, "height": 700, "deviceScaleFactor": 2, "mobile": true}),
    )
    .expect("device metrics");
    b.cdp(
        "Emulation.setTouchEmulationEnabled",
        json!({"enabled": touch, "maxTouchPoints": if touch { 5 } else { 1 }}),
    )
    .expect("touch");
}

/// A fresh visitor: no cookies, no storage.
fn forget(visitor: &Visitor<'_>) {
    visitor.open_only();
    visitor
        .browser
        .cdp("Network.clearBrowserCookies", json!({}))
        .expect("clear cookies");
    visitor.eval("localStorage.clear(); return true;");
}

/// How far the page scrolls sideways (0: not at all).
fn sideways(b: &Browser, width: u32) -> i64 {
    eval(
        b,
        "return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);",
    )
    .as_i64()
    .expect("a width")
        - i64::from(width)
}

/// What is wider than the screen, for the failure message.
fn wide(b: &Browser, width: u32) -> Value {
    eval(
        b,
        &format!(
            "return [innerWidth, document.documentElement.scrollWidth, ...[...document.querySelectorAll('body *')]              .filter(e => e.getBoundingClientRect().right > {width} + 0.5)              .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 6)];"
        ),
    )
}

/// Elements (in the page, in our shadow roots) that stick out of `width`: `what` is a
/// JavaScript expression giving a list of elements, `r` being the widget's shadow root.
fn outside(b: &Browser, width: u32, what: &str) -> Value {
    eval(
        b,
        &format!(
            "{R} return [...({what})].filter(e => {{ const x = e.getBoundingClientRect(); \
             return x.width > 0 && (x.left < -0.5 || x.right > {width} + 0.5); }}) \
             .map(e => e.outerHTML.slice(0, 120));"
        ),
    )
}

/// What of the settings dialog does not fit: the dialog out of the screen, or its parts
/// scrolling sideways inside it.
fn modal_misfits(b: &Browser, width: u32) -> Value {
    eval(
        b,
        &format!(
            "{R} const m = r.querySelector('.modal'); const out = []; \
             const x = m.getBoundingClientRect(); \
             if (x.left < -0.5 || x.right > {width} + 0.5) out.push('dialog ' + x.left + '..' + x.right); \
             for (const e of m.querySelectorAll('.body, .body *')) \
               if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible') \
                 out.push('scrolls: ' + e.outerHTML.slice(0, 80)); \
             for (const e of m.querySelectorAll('*')) {{ const y = e.getBoundingClientRect(); \
               if (y.width > 0 && (y.left < x.left - 0.5 || y.right > x.right + 0.5)) out.push('sticks out: ' + e.outerHTML.slice(0, 80)); }} \
             return out;"
        ),
    )
}

fn wait_tab_loaded(b: &Browser, what: &str) {
    b.wait_for(
        20,
        &format!("{R} return r.querySelector('.modal .body') && !r.querySelector('.modal .body').textContent.includes('กำลังโหลด') && r.querySelector('.modal .body {what}');"),
    )
    .unwrap_or_else(|e| panic!("{what} did not load: {e}"));
}

/// Opens every tab of the settings and checks that each fits, with the cookie tables and
/// the notice's technical details open.
fn settings_fit(visitor: &Visitor<'_>, width: u32) {
    let (b, site) = (visitor.browser, &visitor.site);
    let settings = visitor.settings();
    settings.open_details();
    assert_eq!(
        modal_misfits(b, width),
        json!([]),
        "{site} at {width}px: choices"
    );
    settings.tab("notice");
    wait_tab_loaded(b, ".notice h1");
    settings.open_details();
    assert_eq!(
        modal_misfits(b, width),
        json!([]),
        "{site} at {width}px: notice"
    );
    settings.tab("mine");
    wait_tab_loaded(b, "h3");
    assert_eq!(
        modal_misfits(b, width),
        json!([]),
        "{site} at {width}px: my consent"
    );
    assert!(
        sideways(b, width) <= 0,
        "{site} at {width}px: the page scrolls sideways with the settings open"
    );
}

#[test]
fn every_example_fits_a_phone_before_and_after_a_choice() {
    let server = TestServer::start(&SITES).expect("server");
    let b = Browser::start().expect("browser");
    for site in SITES {
        let visitor = Visitor::new(&b, &server, site);
        for width in [320, 375] {
            phone(&b, width, false);
            forget(&visitor);
            visitor.visit();
            let banner = visitor.banner();
            visitor.still();
            assert!(
                sideways(&b, width) <= 0,
                "{site} at {width}px: scrolls sideways with the banner: {}",
                wide(&b, width)
            );
            assert_eq!(
                outside(&b, width, "r.querySelectorAll('.banner, .banner button')"),
                json!([]),
                "{site} at {width}px: the banner or a button is off screen"
            );
            banner.open_choices();
            settings_fit(&visitor, width);
            visitor.settings().close();

            // Reject all: placeholders in place of the videos, on this view and the next
            // (the loader settled: the choice applied, the placeholders drawn).
            banner.reject_all();
            for view in ["after the choice", "on the next view"] {
                if view != "after the choice" {
                    visitor.visit();
                }
                visitor.wait(10, FLOATING_BUTTON, "the floating button");
                visitor.still();
                assert!(
                    sideways(&b, width) <= 0,
                    "{site} at {width}px: scrolls sideways {view} (reject all)"
                );
                assert_eq!(
                    outside(
                        &b,
                        width,
                        "document.querySelectorAll('[data-yinyom-placeholder], #yinyom-button')"
                    ),
                    json!([]),
                    "{site} at {width}px: a placeholder is wider than the screen {view}"
                );
                let inner = eval(
                    &b,
                    "return [...document.querySelectorAll('[data-yinyom-placeholder]')].flatMap(p => [...p.shadowRoot.querySelectorAll('.p, button')]).filter(e => { const x = e.getBoundingClientRect(); return x.right > innerWidth + 0.5 || x.left < -0.5; }).length;",
                );
                assert_eq!(
                    inner,
                    json!(0),
                    "{site} at {width}px: placeholder content off screen {view}"
                );
            }

            // Accept all from the settings: the videos load, still within the screen.
            visitor.open_settings_from_the_button();
            settings_fit(&visitor, width);
            let settings = visitor.settings();
            settings.tab("choices");
            if yinyom_e2e::example_site(site).notice.minors
                == yinyom_model::site::MinorsPolicy::AskAge
            {
                // Minors mode (PDPA s.20): giving consent needs the age; "20 and over".
                settings.adult();
            }
            settings.accept_all();
            visitor.wait(
                10,
                "return document.documentElement.dataset.analyticsRan === '1';",
                "accepted",
            );
            visitor.still();
            assert!(
                sideways(&b, width) <= 0,
                "{site} at {width}px: scrolls sideways after accept all"
            );
            visitor.visit();
            visitor.wait(
                10,
                "return document.documentElement.dataset.analyticsRan === '1';",
                "accepted on the next view",
            );
            assert!(
                sideways(&b, width) <= 0,
                "{site} at {width}px: scrolls sideways on the next view after accept all"
            );
        }
    }
}

/// Every target we draw, as `[text, height]` for those under 44 px.
fn small_targets(b: &Browser, root: &str) -> Value {
    eval(
        b,
        &format!(
            "{R} const out = []; \
             for (const e of ({root}).querySelectorAll('button, summary, .row label, .radio, p > a:only-child')) {{ \
               const x = e.getBoundingClientRect(); \
               if (x.width > 0 && x.height < 43.5) out.push([e.textContent.trim().slice(0, 40), x.height]); }} \
             return out;"
        ),
    )
}

#[test]
fn tap_targets_are_44px_on_a_touch_phone() {
    let site = "osmep-sme-monitoring";
    let server = TestServer::start(&[site]).expect("server");
    let b = Browser::start().expect("browser");
    let visitor = Visitor::new(&b, &server, site);
    phone(&b, 375, true);
    forget(&visitor);
    visitor.visit();
    assert_eq!(
        eval(&b, "return matchMedia('(pointer: coarse)').matches;"),
        json!(true),
        "touch emulation makes the pointer coarse"
    );
    let banner = visitor.banner();
    visitor.still();
    assert_eq!(
        small_targets(&b, "r.querySelector('.banner')"),
        json!([]),
        "banner"
    );
    banner.open_choices();
    let settings = visitor.settings();
    settings.open_details();
    assert_eq!(
        small_targets(&b, "r.querySelector('.modal')"),
        json!([]),
        "choices"
    );
    settings.tab("notice");
    wait_tab_loaded(&b, ".notice h1");
    assert_eq!(
        small_targets(&b, "r.querySelector('.modal')"),
        json!([]),
        "notice"
    );
    settings.close();
    banner.reject_all();
    visitor.wait(10, FLOATING_BUTTON, "the floating button");
    let fab = eval(
        &b,
        "const x = document.getElementById('yinyom-button').shadowRoot.querySelector('button').getBoundingClientRect(); return x.height;",
    );
    assert!(fab.as_f64().unwrap_or(0.0) >= 44.0, "floating button {fab}");
    let placeholders = eval(
        &b,
        "return [...document.querySelectorAll('[data-yinyom-placeholder]')].flatMap(p => [...p.shadowRoot.querySelectorAll('button')]).map(e => e.getBoundingClientRect().height).filter(h => h < 43.5);",
    );
    assert_eq!(placeholders, json!([]), "placeholder buttons");
    visitor.open_settings_from_the_button();
    visitor.settings().tab("mine");
    wait_tab_loaded(&b, "h3");
    assert_eq!(
        small_targets(&b, "r.querySelector('.modal')"),
        json!([]),
        "my consent"
    );
}

#[test]
fn the_public_notice_page_fits_320px() {
    let server = TestServer::start(&SITES).expect("server");
    for site in ["moi-i-industry", "osmep-sme-monitoring"] {
        server.import(&format!("{site}/v2")).expect("import v2");
    }
    let b = Browser::start().expect("browser");
    phone(&b, 320, false);
    for site in SITES {
        for path in ["notice", "notice?lang=en", "notice/2025-01"] {
            b.goto(&format!("{}/sites/{site}/{path}", server.api))
                .expect("notice page");
            eval(
                &b,
                "document.querySelectorAll('details').forEach(d => d.open = true); return true;",
            );
            assert!(
                sideways(&b, 320) <= 0,
                "{site}/{path}: the notice page is {} px too wide at 320 px",
                sideways(&b, 320)
            );
        }
    }
}

/// The example host pages are part of the product: axe finds nothing on them, before and
/// after a choice (with the placeholders and floating button in place).
#[test]
fn example_host_pages_pass_axe() {
    let server = TestServer::start(&SITES).expect("server");
    let b = Browser::start().expect("browser");
    let source = axe::source();
    for site in SITES {
        let visitor = Visitor::new(&b, &server, site);
        forget(&visitor);
        visitor.visit();
        let banner = visitor.banner();
        visitor.still();
        assert_eq!(
            axe::violations(&b, &source, "return document;"),
            json!([]),
            "{site}: with the banner"
        );
        banner.reject_all();
        visitor.wait(
            10,
            "return document.querySelector('[data-yinyom-placeholder]') || document.getElementById('yinyom-button');",
            "after the choice",
        );
        visitor.visit();
        visitor.wait(10, FLOATING_BUTTON, "the floating button");
        assert_eq!(
            axe::violations(&b, &source, "return document;"),
            json!([]),
            "{site}: after a choice"
        );
    }
}
