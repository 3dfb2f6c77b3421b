//! Accessibility of the widget in real Chromium: axe-core (WCAG 2.1 A and AA rules,
//! from npm, injected into the page) finds nothing in the banner, the settings (every
//! cookie table open), the notice viewer, My consent, the floating button and an iframe
//! placeholder; in light and dark mode, and at a 200 % zoom equivalent (640×450 CSS px)
//! where nothing overflows and every layer fits the viewport.

use serde_json::{Value, json};
use yinyom_e2e::page::R;
use yinyom_e2e::{server::TestServer, webdriver::Browser};

const SITE: &str = "osmep-sme-monitoring";

/// Runs axe on the element `target` returns; panics with every violation found.
fn axe(browser: &Browser, source: &str, what: &str, target: &str) {
    let found = yinyom_e2e::axe::violations(browser, source, &format!("{R} {target}"));
    assert_eq!(found, json!([]), "axe-core violations in {what}");
}

fn click(browser: &Browser, css: &str) {
    let find = format!("{R} return r && r.querySelector(\"{css}\");");
    browser
        .wait_for(20, &find)
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    let el = browser.element(&find).expect("element");
    browser.click(&el).expect("click");
}

/// Whether the element `target` returns lies inside the viewport without overflowing.
fn fits(browser: &Browser, target: &str) -> Value {
    browser
        .eval(
            &format!(
                "{R} const el = (function () {{ {target} }})(); const b = el.getBoundingClientRect(); \
                 return [b.left >= 0 && b.top >= 0 && b.right <= innerWidth + 1 && b.bottom <= innerHeight + 1, \
                         el.scrollWidth <= el.clientWidth + 1];"
            ),
            json!([]),
        )
        .expect("eval")
}

fn check(dark: bool, size: Option<(u32, u32)>) {
    let what = format!(
        "{} mode{}",
        if dark { "dark" } else { "light" },
        size.map_or(String::new(), |(w, h)| format!(" at {w}x{h}"))
    );
    let source = yinyom_e2e::axe::source();
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    if dark {
        browser
            .cdp(
                "Emulation.setEmulatedMedia",
                json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
            )
            .expect("dark mode");
    }
    if let Some((w, h)) = size {
        browser.resize(w, h).expect("resize");
    }
    browser
        .goto(&format!("{}/{SITE}/", server.pages))
        .expect("open page");
    browser
        .wait_for(20, &format!("{R} return r && r.querySelector('.banner');"))
        .expect("banner");
    // Let the entry animation finish before colours are measured.
    std::thread::sleep(std::time::Duration::from_millis(400));
    axe(
        &browser,
        &source,
        &format!("the banner ({what})"),
        "return h;",
    );
    if size.is_some() {
        assert_eq!(
            fits(&browser, "return r.querySelector('.banner');"),
            json!([true, true]),
            "banner fits ({what})"
        );
    }

    click(&browser, "[data-action=choose]");
    browser
        .eval(
            &format!("{R} r.querySelectorAll('details').forEach(d => d.open = true); return 1;"),
            json!([]),
        )
        .expect("open cookie tables");
    std::thread::sleep(std::time::Duration::from_millis(400));
    axe(
        &browser,
        &source,
        &format!("the settings ({what})"),
        "return h;",
    );
    if size.is_some() {
        assert_eq!(
            fits(&browser, "return r.querySelector('.modal');"),
            json!([true, true]),
            "settings fit ({what})"
        );
    }

    click(&browser, "[data-action=tab-notice]");
    browser
        .wait_for(
            20,
            &format!("{R} return r.querySelector('.notice article');"),
        )
        .expect("notice loaded");
    axe(
        &browser,
        &source,
        &format!("the notice viewer ({what})"),
        "return h;",
    );

    click(&browser, "[data-action=tab-mine]");
    browser
        .wait_for(
            20,
            &format!("{R} return r.querySelector('.history, [data-empty]');"),
        )
        .expect("my consent loaded");
    axe(
        &browser,
        &source,
        &format!("My consent ({what})"),
        "return h;",
    );

    click(&browser, ".modal [data-action=close]");
    click(&browser, "[data-action=reject-all]");
    browser
        .wait_for(
            20,
            "return document.getElementById('yinyom-button') && document.querySelector('[data-yinyom-placeholder]');",
        )
        .expect("floating button and placeholder");
    axe(
        &browser,
        &source,
        &format!("the floating button ({what})"),
        "return document.getElementById('yinyom-button');",
    );
    axe(
        &browser,
        &source,
        &format!("the iframe placeholder ({what})"),
        "return document.querySelector('[data-yinyom-placeholder]');",
    );
}

#[test]
fn axe_finds_nothing_in_light_mode() {
    check(false, None);
}

#[test]
fn axe_finds_nothing_in_dark_mode() {
    check(true, None);
}

#[test]
fn usable_at_200_percent_zoom() {
    check(false, Some((640, 450)));
}
