//! Accessibility of the widget in real Chromium: axe-core (WCAG 2.1 A and AA rules,
//! from npm, injected into the page) finds nothing in the banner, the settings (every
//! cookie table open), the notice viewer, My consent, the floating button and an iframe
//! placeholder; in light and dark mode, and at a 200 % zoom equivalent (640×450 CSS px)
//! where nothing overflows and every layer fits the viewport.

use serde_json::{Value, json};
use yinyom_e2e::page::{R, Visitor, in_widget};
use yinyom_e2e::{server::TestServer, webdriver::Browser};

const SITE: &str = "osmep-sme-monitoring";

/// Runs axe on the element `target` returns; panics with every violation found.
fn axe(visitor: &Visitor<'_>, source: &str, what: &str, target: &str) {
    let found = yinyom_e2e::axe::violations(visitor.browser, source, &format!("{R} {target}"));
    assert_eq!(found, json!([]), "axe-core violations in {what}");
}

/// Whether the element `target` returns lies inside the viewport without overflowing.
fn fits(visitor: &Visitor<'_>, target: &str) -> Value {
    visitor.eval(&format!(
        "{R} const el = (function () {{ {target} }})(); const b = el.getBoundingClientRect(); \
         return [b.left >= 0 && b.top >= 0 && b.right <= innerWidth + 1 && b.bottom <= innerHeight + 1, \
                 el.scrollWidth <= el.clientWidth + 1];"
    ))
}

/// A visitor goes through every layer (banner, settings with every cookie table open,
/// notice, My consent, then Reject all: the floating button and a placeholder) and axe
/// checks each; at a small `size`, each layer fits the viewport.
fn every_layer_passes_axe(dark: bool, size: Option<(u32, u32)>) {
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
    let visitor = Visitor::new(&browser, &server, SITE);
    visitor.visit();
    let banner = visitor.banner();
    // Colours are measured once the entry animation has finished.
    visitor.still();
    axe(
        &visitor,
        &source,
        &format!("the banner ({what})"),
        "return h;",
    );
    if size.is_some() {
        assert_eq!(
            fits(&visitor, "return r.querySelector('.banner');"),
            json!([true, true]),
            "banner fits ({what})"
        );
    }

    banner.open_choices();
    let settings = visitor.settings();
    settings.open_details();
    visitor.still();
    axe(
        &visitor,
        &source,
        &format!("the settings ({what})"),
        "return h;",
    );
    if size.is_some() {
        assert_eq!(
            fits(&visitor, "return r.querySelector('.modal');"),
            json!([true, true]),
            "settings fit ({what})"
        );
    }

    settings.tab("notice");
    visitor.wait(
        20,
        &format!("{R} return r.querySelector('.notice article');"),
        "the notice loaded",
    );
    axe(
        &visitor,
        &source,
        &format!("the notice viewer ({what})"),
        "return h;",
    );

    settings.tab("mine");
    visitor.wait(
        20,
        &in_widget(".history, [data-empty]"),
        "my consent loaded",
    );
    axe(
        &visitor,
        &source,
        &format!("My consent ({what})"),
        "return h;",
    );

    settings.close();
    banner.reject_all();
    visitor.wait(
        20,
        "return document.getElementById('yinyom-button') && document.querySelector('[data-yinyom-placeholder]');",
        "floating button and placeholder",
    );
    axe(
        &visitor,
        &source,
        &format!("the floating button ({what})"),
        "return document.getElementById('yinyom-button');",
    );
    axe(
        &visitor,
        &source,
        &format!("the iframe placeholder ({what})"),
        "return document.querySelector('[data-yinyom-placeholder]');",
    );
}

#[test]
fn axe_finds_nothing_in_light_mode() {
    every_layer_passes_axe(false, None);
}

#[test]
fn axe_finds_nothing_in_dark_mode() {
    every_layer_passes_axe(true, None);
}

#[test]
fn usable_at_200_percent_zoom() {
    every_layer_passes_axe(false, Some((640, 450)));
}
