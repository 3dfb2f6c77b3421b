//! The whole visitor experience in real Chromium, against the real server, the built
//! widget and the example page of OSMEP's SME monitoring system: partial choices,
//! Consent Mode, iframe placeholders, a raised consent revision, expiry, a server that is
//! down, withdrawal, Global Privacy Control, the JS API before the UI, the keyboard alone
//! and the returning visitor's budget. (Accessibility: `widget_a11y.rs`.)

use serde_json::{Value, json};
use yinyom_e2e::page::{FLOATING_BUTTON, R, Visitor, in_widget};
use yinyom_e2e::{
    server::TestServer,
    webdriver::{Browser, keys},
};

const SITE: &str = "osmep-sme-monitoring";

/// Consent Mode calls so far, as `[command, signals]`.
fn consent_calls(visitor: &Visitor<'_>) -> Value {
    visitor.eval("return window.dataLayer.filter(a => a[0] === 'consent').map(a => [a[1], a[2]]);")
}

/// Partial choice in the settings: only analytics runs; the video stays blocked behind a
/// placeholder; Consent Mode gets `default` (all denied but security) before anything,
/// `update` with exactly the granted signals after the choice, and again on the next page
/// view. The placeholder's "load once" shows the video without a receipt; "always allow"
/// records a new choice that grants the category.
#[test]
fn partial_choice_consent_mode_and_placeholders() {
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, SITE);
    visitor.visit();
    visitor.banner().open_choices();
    let settings = visitor.settings();
    let calls = consent_calls(&visitor);
    assert_eq!(
        calls,
        json!([["default", {
            "security_storage": "granted", "analytics_storage": "denied",
            "functionality_storage": "denied", "wait_for_update": 500
        }]]),
        "only the default before a choice"
    );
    settings.toggle("analytics");
    settings.save();

    visitor.wait_analytics_ran();
    let granted = json!({
        "security_storage": "granted", "analytics_storage": "granted",
        "functionality_storage": "denied"
    });
    let calls = consent_calls(&visitor);
    assert_eq!(calls[0][0], "default");
    assert_eq!(
        calls[calls.as_array().map_or(0, Vec::len) - 1],
        json!(["update", granted])
    );
    let video = visitor.eval(
        "const f = document.querySelector('iframe[data-yinyom]'); \
         const p = document.querySelector('[data-yinyom-placeholder=media]'); \
         return [f.getAttribute('src'), f.hidden, !!p];",
    );
    assert_eq!(
        video,
        json!([null, true, true]),
        "video blocked, placeholder shown"
    );
    let r = visitor.receipts(1);
    assert_eq!(r[0]["receipt"]["method"], "save_preferences");
    assert_eq!(
        r[0]["receipt"]["categories"],
        json!({"analytics": true, "media": false})
    );
    assert_eq!(
        r[0]["receipt"]["purposes"],
        json!({"sme_monitoring": false, "user_contact": false, "sme_news": false, "site_operation": false})
    );

    // Next page view: default then update with the stored choice, before any tag.
    visitor.visit();
    assert_eq!(
        consent_calls(&visitor),
        json!([
            ["default", {
                "security_storage": "granted", "analytics_storage": "denied",
                "functionality_storage": "denied", "wait_for_update": 500
            }],
            ["update", granted]
        ])
    );

    // Load once: the video plays on this page only, and no receipt is made.
    visitor.placeholder("media", "once");
    assert_eq!(
        visitor.eval("return document.querySelector('iframe[data-yinyom]').getAttribute('src');"),
        json!("video.html")
    );
    assert!(
        !visitor
            .eval("return window.yinyom.accepted('media');")
            .as_bool()
            .unwrap_or(true)
    );
    visitor.visit();
    visitor.placeholder("media", "allow");
    visitor.wait(
        20,
        "return document.querySelector('iframe[data-yinyom]').getAttribute('src') === 'video.html' \
         && !document.querySelector('[data-yinyom-placeholder]');",
        "video allowed",
    );
    let r = visitor.receipts(2);
    assert_eq!(
        r[0]["receipt"]["categories"],
        json!({"analytics": true, "media": true})
    );
}

/// A raised consent revision (the site publishes `v2/`) and an expired choice both show
/// the banner again, and nothing blocked runs until the visitor chooses again.
#[test]
fn raised_revision_and_expiry_ask_again() {
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, SITE);
    visitor.visit();
    visitor.banner().accept_all();
    visitor.receipts(1);

    server.import(&format!("{SITE}/v2")).expect("import v2");
    // The loader may be cached for 5 minutes: act as if it has expired.
    browser.clear_cache().expect("clear cache");
    visitor.visit();
    let banner = visitor.banner();
    let state = visitor.eval(
        "return [window.yinyom.consent(), document.documentElement.dataset.analyticsRan || null];",
    );
    assert_eq!(state, json!([null, null]), "the old choice no longer holds");
    banner.reject_all();
    let r = visitor.receipts(2);
    assert_eq!(r[0]["receipt"]["notice"]["version"], "2025-07");
    assert_eq!(r[0]["receipt"]["notice"]["consent_revision"], 2);

    // A choice older than the validity (365 days) has expired.
    let old = 1_000_000_000u64;
    visitor.eval(&format!(
        "document.cookie = 'yinyom_{SITE}=1.2.{old}.analytics.-; path=/'; return 1;"
    ));
    visitor.visit();
    visitor.banner();
    assert_eq!(
        visitor.eval("return document.documentElement.dataset.analyticsRan || null;"),
        Value::Null,
        "an expired choice asks again and runs nothing"
    );
}

/// With the consent server down, the choice applies at once, is kept, and reaches the
/// server exactly once after it is back, however many page views retry it.
#[test]
fn server_down_choice_is_delivered_exactly_once_later() {
    let mut server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, SITE);
    visitor.visit();
    let banner = visitor.banner();
    server.stop().expect("stop the server");
    banner.accept_all();
    // (analytics.js comes from the stopped pages server too: only the inline part runs.)
    visitor.wait(
        10,
        "return window.yinyom.accepted('analytics') && document.documentElement.dataset.inlineRan === '1';",
        "the choice applies while the server is down",
    );
    let pending = visitor.eval(&format!(
        "return JSON.parse(localStorage.getItem('yinyom.{SITE}.pending') || '[]').length;"
    ));
    assert_eq!(pending, json!(1), "kept for later");
    assert_eq!(visitor.consent_cookie().and_then(|c| c.receipt_id), None);

    server
        .restart()
        .expect("restart on the same database and ports");
    for _ in 0..3 {
        visitor.visit();
    }
    let r = visitor.receipts(1);
    assert_eq!(r[0]["receipt"]["method"], "accept_all");
    visitor.wait(
        10,
        &format!("return !localStorage.getItem('yinyom.{SITE}.pending');"),
        "nothing left to send",
    );
    let n = server
        .rt
        .block_on(server.store.count_receipts(SITE))
        .expect("count");
    assert_eq!(n, 1, "delivered exactly once");
    visitor.consent_cookie_with_receipt();
}

/// Withdraw all, reached through the floating button and My consent: a `withdrawn`
/// receipt, Consent Mode denied, the analytics cookie deleted, the video unloaded behind
/// its placeholder, and nothing blocked runs on the next page view.
#[test]
fn withdraw_all_stops_and_clears() {
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, SITE);
    visitor.visit();
    visitor.banner().accept_all();
    visitor.wait(
        10,
        "return document.cookie.includes('_yy_stats=') && document.querySelector('iframe[data-yinyom]').getAttribute('src');",
        "accepted",
    );
    visitor.receipts(1);

    visitor.wait(10, FLOATING_BUTTON, "the floating button");
    let fab = browser.element(FLOATING_BUTTON).expect("floating button");
    assert_eq!(
        browser.text(&fab).unwrap_or_default(),
        "",
        "an icon with a label"
    );
    visitor.open_settings_from_the_button();
    let settings = visitor.settings();
    settings.tab("mine");
    let current = visitor.wait(
        10,
        &format!("{R} const d = r.querySelector('[data-receipt]'); return d && d.getAttribute('data-receipt');"),
        "the current receipt id shown",
    );
    assert_eq!(
        current.as_str(),
        visitor
            .consent_cookie()
            .and_then(|c| c.receipt_id)
            .as_deref()
    );
    visitor.wait(10, &in_widget("[data-action=download]"), "download link");
    settings.withdraw();

    let r = visitor.receipts(2);
    assert_eq!(r[0]["receipt"]["event"], "withdrawn");
    assert_eq!(r[0]["receipt"]["method"], "withdraw");
    let state = visitor.eval(
        "return [document.cookie.includes('_yy_stats='), \
                 document.querySelector('iframe[data-yinyom]').getAttribute('src'), \
                 !!document.querySelector('[data-yinyom-placeholder=media]'), \
                 window.dataLayer.filter(a => a[0] === 'consent').pop()[2].analytics_storage, \
                 window.yinyom.accepted('analytics')];",
    );
    assert_eq!(state, json!([false, null, true, "denied", false]));
    visitor.visit();
    assert_eq!(
        visitor.eval("return document.documentElement.dataset.analyticsRan || null;"),
        Value::Null
    );
}

/// The example site with its video category turned into a data-sharing one (Consent
/// Mode's ad signals, what makes a category "sharing" for GPC). A test-only variant in a
/// temporary folder: the agencies share nothing with advertisers, so no example does.
fn sharing_variant() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let example = yinyom_e2e::root().join("examples").join(SITE);
    for f in ["notice.th.md", "notice.en.md"] {
        std::fs::copy(example.join(f), dir.path().join(f)).expect("copy");
    }
    let toml = std::fs::read_to_string(example.join("site.toml")).expect("site.toml");
    let media = "id = \"media\"";
    let at = toml.find(media).expect("the media category");
    let (head, tail) = toml.split_at(at);
    let tail = tail.replacen(
        "gcm = [\"functionality_storage\"]",
        "gcm = [\"ad_storage\", \"ad_user_data\", \"ad_personalization\"]",
        1,
    );
    assert!(
        tail.contains("ad_user_data"),
        "the video category's signals"
    );
    std::fs::write(dir.path().join("site.toml"), format!("{head}{tail}")).expect("write");
    dir
}

/// A browser with Global Privacy Control: the banner says so, Accept all keeps the
/// data-sharing category off and the receipt records GPC. Calls queued on
/// `window.yinyom` before the loader ran are played, and `yinyom:ready` fires.
#[test]
fn gpc_preselects_deny_and_early_api_calls_work() {
    let server = TestServer::start(&[]).expect("server");
    let variant = sharing_variant();
    server
        .rt
        .block_on(yinyom_server::sites::import(&server.store, variant.path()))
        .expect("import the sharing variant");
    let browser = Browser::start().expect("browser");
    browser
        .before_each_page(
            "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }); \
             window.__changes = []; window.__ready = 0; \
             document.addEventListener('yinyom:ready', () => window.__ready++); \
             window.yinyom = [['on', 'change', d => window.__changes.push(d)]];",
        )
        .expect("GPC");
    let visitor = Visitor::new(&browser, &server, SITE);
    visitor.visit();
    let banner = visitor.banner();
    visitor.wait(20, &in_widget(".banner [data-gpc]"), "the GPC note");
    banner.accept_all();
    let r = visitor.receipts(1);
    assert_eq!(r[0]["receipt"]["gpc"], true);
    assert_eq!(
        r[0]["receipt"]["categories"],
        json!({"analytics": true, "media": false})
    );
    let seen = visitor
        .eval("return [window.__ready, window.__changes.length, window.__changes[0].categories];");
    assert_eq!(seen, json!([1, 1, ["analytics"]]));
}

/// Keyboard alone: the banner has the focus; Tab reaches Choose, Enter opens the settings,
/// Space turns analytics on, Tab reaches Save, Enter records it; Esc closes the settings
/// when reopened and the focus goes back to the link that opened them.
#[test]
fn keyboard_only_flow() {
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, SITE);
    visitor.visit();
    visitor.wait(
        20,
        &format!(
            "{R} return r && r.activeElement && r.activeElement.classList.contains('banner');"
        ),
        "the focus moves into the banner",
    );
    let active = format!(
        "{R} const a = r && r.activeElement; return a && (a.getAttribute('data-action') || a.id || a.className);"
    );
    let tab_to = |want: &str| {
        for _ in 0..40 {
            if visitor.eval(&active) == json!(want) {
                return;
            }
            browser.press(&[keys::TAB], false).expect("Tab");
        }
        panic!("Tab never reached {want}");
    };
    tab_to("choose");
    browser.press(&[keys::ENTER], false).expect("Enter");
    visitor.wait(
        10,
        &format!("{R} return r.activeElement && r.activeElement.classList.contains('modal');"),
        "the focus in the settings",
    );
    tab_to("yy-c-analytics");
    browser.press(&[keys::SPACE], false).expect("Space");
    tab_to("save");
    visitor.and_settle(|| browser.press(&[keys::ENTER], false).expect("Enter"));
    let r = visitor.receipts(1);
    assert_eq!(
        r[0]["receipt"]["categories"],
        json!({"analytics": true, "media": false})
    );

    // Reopen from the page's own link with the keyboard, then Esc.
    visitor.eval("document.querySelector('[data-yinyom-open]').focus(); return 1;");
    browser.press(&[keys::ENTER], false).expect("Enter");
    visitor.settings();
    browser.press(&[keys::ESCAPE], false).expect("Esc");
    visitor.wait(
        10,
        &format!("{R} return !r.querySelector('.modal') && document.activeElement.hasAttribute('data-yinyom-open');"),
        "Esc closes and the focus returns to the link",
    );
}

/// Bytes of `url` as Chromium downloads it (brotli or gzip), headers included: the
/// loader and the banner are classic scripts, fetched without an `Origin`, so their answers
/// carry no CORS headers.
fn wire_bytes(url: &str) -> usize {
    let r = ureq::get(url)
        .set("accept-encoding", "gzip, deflate, br")
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let headers: usize = r
        .headers_names()
        .iter()
        .map(|n| n.len() + 4 + r.header(n).map_or(0, str::len))
        .sum::<usize>()
        + r.status_text().len()
        + 15;
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut r.into_reader(), &mut body).expect("body");
    headers + body.len()
}

/// A returning visitor with a current choice makes one request to us (the loader, at most
/// 5 KB compressed with its headers) and fetches no wasm. The first visit's bytes are
/// printed for BENCHMARKS.md.
#[test]
fn returning_visitor_downloads_one_small_file() {
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, SITE);
    let ours = format!(
        "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.startsWith('{}'));",
        server.api
    );
    visitor.visit();
    let banner = visitor.banner();
    let first = visitor.eval(&ours);
    let mut total = 0;
    for url in first.as_array().cloned().unwrap_or_default() {
        let url = url.as_str().unwrap_or_default();
        let n = wire_bytes(url);
        eprintln!("first visit: {n:>6} bytes  {url}");
        total += n;
    }
    eprintln!("first visit: {total:>6} bytes in all from the consent server");
    banner.reject_all();
    visitor.receipts(1);
    browser.clear_cache().expect("clear cache");
    visitor.visit();
    let again = visitor.eval(&ours);
    let files: Vec<String> = again
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(files.len(), 1, "one request: {again}");
    assert!(files[0].ends_with("/yinyom.js"), "{again}");
    let bytes = wire_bytes(&files[0]);
    eprintln!("returning visit: {bytes} bytes");
    assert!(bytes <= 5 * 1024, "the loader costs {bytes} bytes");
}
