//! The visitor's widget on several sites of one host, in real Chromium against the real
//! server (the demo page server serves every example from one origin): each site keeps
//! its own choice and the old shared cookie is consent for none; blocked scripts run once
//! each, in document order, with no console error, also when added later and when the
//! loader runs while the page is still being parsed (a page the test serves); minors mode
//! lets a visitor refuse without an age; an unreachable server says so and offers a
//! retry; the focus after a choice and its announcement; asking again after a raised
//! revision with the earlier choices pre-filled and the cookies no longer granted cleared.

use serde_json::{Value, json};
use std::time::Duration;
use yinyom_e2e::page::{R, Visitor, eval, in_widget};
use yinyom_e2e::{server::TestServer, webdriver::Browser};
use yinyom_model::cookie::LEGACY_COOKIE_NAME;
use yinyom_model::site::MinorsPolicy;

const SITES: [&str; 5] = [
    "osmep-sme-monitoring",
    "osmep-msme-data-service",
    "moi-i-industry",
    "msdhs-mso-logbook",
    "sknpeo-samut-sakhon",
];

/// Installed before every page's own scripts: records uncaught errors, rejected promises
/// and `console.error` in `__errors`, and every write of the example pages' markers
/// (`data-analytics-ran` by the external analytics.js, `data-inline-ran` by the inline
/// script after it) in `__order`, so a script that runs twice or early shows.
const RECORDER: &str = "window.__errors = []; window.__order = [];
addEventListener('error', e => __errors.push('error: ' + e.message));
addEventListener('unhandledrejection', e => __errors.push('rejection: ' + e.reason));
const ce = console.error; console.error = function (...a) { __errors.push(a.map(String).join(' ')); ce.apply(console, a); };
new MutationObserver(ms => ms.forEach(m => __order.push(m.attributeName))).observe(document,
  { attributes: true, subtree: true, attributeFilter: ['data-analytics-ran', 'data-inline-ran'] });";

/// Accept all from the banner; on a minors-mode site the age "20 and over" first.
fn accept_all(visitor: &Visitor<'_>) {
    let banner = visitor.banner();
    if yinyom_e2e::example_site(&visitor.site).notice.minors == MinorsPolicy::AskAge {
        banner.adult();
    }
    banner.accept_all();
}

/// The focused element, looking into shadow roots: `[tag, id or data-action, in which host]`.
fn focused(browser: &Browser) -> Value {
    eval(
        browser,
        "let a = document.activeElement, host = null; \
         while (a && a.shadowRoot && a.shadowRoot.activeElement) { host = a.id; a = a.shadowRoot.activeElement; } \
         return a && [a.tagName.toLowerCase(), a.id || a.getAttribute('data-action') || a.textContent.trim(), host];",
    )
}

/// Two example sites served from one host: a choice on one is never the other's, the
/// cookie is named after the site, and the old shared `yinyom` cookie is consent for no
/// site (it is deleted, the visitor is asked again, the analytics cookie is cleared).
#[test]
fn two_sites_on_one_host_keep_separate_choices() {
    let (a, b) = ("moi-i-industry", "osmep-msme-data-service");
    let server = TestServer::start(&[a, b]).expect("server");
    let browser = Browser::start().expect("browser");
    let (on_a, on_b) = (
        Visitor::new(&browser, &server, a),
        Visitor::new(&browser, &server, b),
    );
    on_a.visit();
    accept_all(&on_a);
    on_a.wait(
        10,
        "return document.documentElement.dataset.analyticsRan === '1';",
        "analytics runs on the site that accepted",
    );
    on_a.receipts(1);
    assert!(on_a.consent_cookie().is_some(), "the cookie of {a}");

    // The other site asks for its own choice (the banner is shown: the loader settled).
    on_b.visit();
    let banner = on_b.banner();
    assert_eq!(
        on_b.eval(
            "return [window.yinyom.consent(), document.documentElement.dataset.analyticsRan || null, \
             document.querySelector('iframe[data-yinyom]').getAttribute('src')];"
        ),
        json!([null, null, null]),
        "{b} took {a}'s choice"
    );
    banner.reject_all();
    let rb = on_b.receipts(1);
    assert_eq!(rb[0]["receipt"]["method"], "reject_all");
    assert_eq!(on_b.consent_cookie().map(|c| c.granted), Some(vec![]));

    // Back on the first site: its own choice holds, and its history is only its own.
    on_a.visit();
    on_a.wait(
        10,
        "return document.documentElement.dataset.analyticsRan === '1';",
        "the first site's choice still holds",
    );
    let ra = on_a.receipts(1);
    assert_eq!(ra[0]["receipt"]["method"], "accept_all");
    assert_ne!(
        ra[0]["receipt"]["subject_id"], rb[0]["receipt"]["subject_id"],
        "each site has its own visitor id"
    );

    // A visitor from before per-site cookies: the shared cookie (granting analytics) and
    // the analytics cookie it let in. The site asks again, runs nothing, deletes both.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    on_b.forget_choice();
    on_b.eval(&format!(
        "document.cookie = '{LEGACY_COOKIE_NAME}=1.9.{now}.analytics+media.-; path=/'; \
         document.cookie = '_yy_stats=1; path=/'; return 1;"
    ));
    on_b.visit();
    on_b.banner();
    assert_eq!(
        on_b.eval(
            "return [window.yinyom.consent(), document.documentElement.dataset.analyticsRan || null, \
             document.cookie.includes('_yy_stats='), /(^|; )yinyom=/.test(document.cookie)];"
        ),
        json!([null, null, false, false]),
        "old cookie: asked again, nothing runs, the analytics cookie and the old cookie are gone"
    );
}

/// On every example site, after Accept all and over several reloads, the external
/// library runs before the inline code that uses it, each exactly once, with no console
/// error; a blocked script added later runs once, keeping its nonce.
#[test]
fn blocked_scripts_run_once_in_order_on_every_example() {
    let server = TestServer::start(&SITES).expect("server");
    let browser = Browser::start().expect("browser");
    browser.before_each_page(RECORDER).expect("recorder");
    for site in SITES {
        let visitor = Visitor::new(&browser, &server, site);
        visitor.visit();
        accept_all(&visitor);
        for view in 0..5 {
            if view > 0 {
                // The page has loaded (a second activation on DOMContentLoaded, the old
                // bug, would have run by then) and the loader settled.
                visitor.visit();
            }
            visitor.wait(
                10,
                "return document.documentElement.dataset.analyticsRan === '1' \
                 && document.documentElement.dataset.inlineRan === '1';",
                &format!("page view {view}: analytics did not run"),
            );
            assert_eq!(
                visitor.eval("return [window.__order, window.__errors];"),
                json!([["data-analytics-ran", "data-inline-ran"], []]),
                "{site}, page view {view}: the library then the inline code, once each, no error"
            );
        }
        // Added after the page loaded: run once, with the nonce on the running copy.
        visitor.eval(
            "const s = document.createElement('script'); s.type = 'text/plain'; \
             s.setAttribute('data-yinyom', 'analytics'); s.setAttribute('nonce', 'n0nce'); \
             s.text = 'window.__late = (window.__late || 0) + 1;'; document.body.appendChild(s); return 1;",
        );
        visitor.wait(
            10,
            "return window.__late === 1;",
            "a script added later did not run",
        );
        // A second run would come from the loader's observer of added nodes, in the
        // microtasks after the insertion: wait for a task after those.
        visitor
            .browser
            .eval_async(
                "const done = arguments[arguments.length - 1]; setTimeout(() => done(1), 0);",
                json!([]),
            )
            .expect("a later task");
        assert_eq!(
            visitor.eval(
                "const a = [...document.querySelectorAll('script[data-yinyom-active]')].pop(); \
                 return [window.__late, a.nonce, window.__errors];"
            ),
            json!([1, "n0nce", []]),
            "{site}: the late script ran once, with its nonce"
        );
    }
}

/// How long the test's host page server holds back each blocked library, and the
/// parser-blocking script at the end of the page (which holds back DOMContentLoaded): a
/// library arrives well after the page is parsed, so a second activation on
/// DOMContentLoaded (the old bug) would find the inline code still waiting and run it
/// first. Delays that make the case happen, not timings the test asserts.
const LIBRARY_DELAY: Duration = Duration::from_millis(1200);
const PARSING_DELAY: Duration = Duration::from_millis(200);

/// A host page where the loader runs while the document is still being parsed: a
/// synchronous loader tag between two pairs of blocked scripts (a slow external library,
/// then inline code that uses it), and a slow parser-blocking script after them. The
/// page records every run in `__runs`, every error in `__errors`, what the loader saw
/// (`__loader`) and the state at DOMContentLoaded (`__parsed`).
fn parsing_host_page(api: &str, site: &str) -> String {
    format!(
        r#"<!doctype html><html lang="th"><head><meta charset="utf-8">
<title>หน้าทดสอบลำดับสคริปต์ / Script order test page</title>
<script>
window.__runs = []; window.__errors = [];
addEventListener('error', e => __errors.push('error: ' + e.message));
addEventListener('unhandledrejection', e => __errors.push('rejection: ' + e.reason));
const ce = console.error; console.error = function (...a) {{ __errors.push(a.map(String).join(' ')); ce.apply(console, a); }};
document.addEventListener('DOMContentLoaded', () => {{
  window.__parsed = [document.querySelectorAll('script[data-yinyom-active][src]').length, !!window.libA];
}});
</script></head><body><main><h1>ลำดับสคริปต์ / Script order</h1>
<script type="text/plain" data-yinyom="analytics" src="/lib-a.js"></script>
<script type="text/plain" data-yinyom="analytics">__runs.push(window.libA ? 'inline a' : 'inline a before lib a');</script>
<script src="{api}/v1/sites/{site}/yinyom.js"></script>
<script>window.__loader = [document.readyState, !!(window.yinyom && window.yinyom.__loaded)];</script>
<script type="text/plain" data-yinyom="analytics" src="/lib-b.js"></script>
<script type="text/plain" data-yinyom="analytics">__runs.push(window.libB ? 'inline b' : 'inline b before lib b');</script>
<script src="/parsing.js"></script>
<p>จบหน้า / End of page</p>
</main></body></html>"#
    )
}

/// Serves [`parsing_host_page`] and its slow scripts on the server's runtime, never
/// cached; returns the page's origin.
fn serve_parsing_host_page(server: &TestServer, site: &str) -> String {
    use axum::{Router, http::header, response::Html, routing::get};
    type Js = ([(header::HeaderName, &'static str); 2], &'static str);
    async fn js(delay: Duration, body: &'static str) -> Js {
        tokio::time::sleep(delay).await;
        (
            [
                (header::CONTENT_TYPE, "text/javascript"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
    }
    let page = parsing_host_page(&server.api, site);
    let app = Router::new()
        .route(
            "/",
            get(move || async move { ([(header::CACHE_CONTROL, "no-store")], Html(page)) }),
        )
        .route(
            "/lib-a.js",
            get(|| js(LIBRARY_DELAY, "window.libA = true; __runs.push('lib a');")),
        )
        .route(
            "/lib-b.js",
            get(|| js(LIBRARY_DELAY, "window.libB = true; __runs.push('lib b');")),
        )
        .route("/parsing.js", get(|| js(PARSING_DELAY, "void 0;")));
    let listener = server
        .rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("host page listener");
    let origin = format!("http://{}", listener.local_addr().expect("address"));
    server
        .rt
        .spawn(async move { axum::serve(listener, app).await });
    origin
}

/// The loader running while the page is still being parsed (a synchronous tag, blocked
/// scripts before and after it, DOMContentLoaded held back), for a visitor who accepted:
/// over several page views each blocked script runs exactly once, each slow library
/// before the inline code that uses it, with no error. (The loader used to activate at
/// start and again on DOMContentLoaded: the inline code ran before its library, and the
/// first activation then failed on `replaceChild`.)
#[test]
fn blocked_scripts_run_once_in_order_while_the_page_is_parsed() {
    let site = "moi-i-industry";
    let server = TestServer::start(&[site]).expect("server");
    let page = serve_parsing_host_page(&server, site);
    server.allow_origin(site, &page).expect("allow the page");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, site);
    let all = ["lib a", "inline a", "lib b", "inline b"];
    let done = "return window.__runs && window.__runs.length >= 4;";

    visitor.visit_url(&format!("{page}/"));
    accept_all(&visitor);
    visitor.wait(20, done, "the scripts run after Accept all");
    // The runner takes the scripts one by one: a second copy queued by the choice would
    // have run right after `inline b`, in the same task.
    assert_eq!(
        visitor.eval("return [window.__runs, window.__errors];"),
        json!([all, []]),
        "after Accept all: each script once, in order, no error"
    );
    visitor.receipts(1);
    for view in 1..=4 {
        // The page has loaded (scripts inserted before the load event delay it, so a
        // second run from DOMContentLoaded, the old bug, has shown) and the loader settled.
        visitor.visit_url(&format!("{page}/"));
        visitor.wait(20, done, &format!("view {view}: the scripts did not run"));
        assert_eq!(
            visitor
                .eval("return [window.__loader, window.__parsed, window.__runs, window.__errors];"),
            json!([["loading", true], [1, false], all, []]),
            "page view {view}: [the loader ran during parsing, at DOMContentLoaded library a \
             was inserted and not yet run, the runs, the errors]"
        );
    }
}

/// Minors mode (the Samut Sakhon education office's site): Reject all needs no age band
/// and no guardian, and is recorded at once; giving consent still asks the age.
#[test]
fn minors_refusal_needs_no_age() {
    let site = "sknpeo-samut-sakhon";
    assert_eq!(
        yinyom_e2e::example_site(site).notice.minors,
        MinorsPolicy::AskAge
    );
    let server = TestServer::start(&[site]).expect("server");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, site);
    visitor.visit();
    let banner = visitor.banner();
    visitor.wait(
        20,
        &in_widget(".banner fieldset.age"),
        "the minors banner asks the age",
    );
    // Giving consent without an age is refused by the widget.
    banner.press("accept-all");
    visitor.wait(
        10,
        &in_widget(".banner .error"),
        "accept all asks the age first",
    );
    assert!(visitor.consent_cookie().is_none());
    // Refusing is not.
    banner.reject_all();
    visitor.wait(
        10,
        &format!("{R} return !r.querySelector('.banner');"),
        "the banner closes on Reject all",
    );
    let r = visitor.receipts(1);
    let receipt = &r[0]["receipt"];
    assert_eq!(receipt["method"], "reject_all");
    assert_eq!(receipt["event"], "refused");
    assert!(receipt.get("age_band").is_none(), "{receipt}");
    assert!(receipt.get("consent_by").is_none(), "{receipt}");
    assert_eq!(visitor.consent_cookie().map(|c| c.granted), Some(vec![]));
}

/// With the consent server unreachable, the floating button (and the banner's
/// "ตั้งค่า") show a short Thai message with a retry; once the server is back, the
/// retry opens the settings. The choice itself stays applied.
#[test]
fn unreachable_server_says_so_and_retries() {
    let site = "osmep-msme-data-service";
    let mut server = TestServer::start(&[site]).expect("server");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, site);
    visitor.visit();
    let banner = visitor.banner();
    server.stop().expect("stop the server");
    banner.open_choices();
    let alert = visitor.wait(
        20,
        &format!("{R} const e = r.querySelector('.e[role=alert]'); return e && e.textContent;"),
        "a message says the settings cannot load",
    );
    let text = alert.as_str().unwrap_or_default();
    assert!(text.contains("ท่าน") && text.contains("ลองใหม่"), "{text}");
    assert_eq!(
        focused(&browser),
        json!(["button", "retry", "yinyom"]),
        "the retry button has the focus"
    );
    // The visitor can still choose: kept and delivered later.
    visitor.click(".e [data-action=close]");
    banner.accept_all();
    visitor.wait(
        10,
        "return window.yinyom.accepted('analytics');",
        "the choice applies while the server is down",
    );

    // The floating button, and a data-yinyom-open link, say so too.
    visitor.open_settings_from_the_button();
    visitor.wait(
        20,
        &in_widget(".e[role=alert] [data-action=retry]"),
        "the floating button shows the message",
    );
    visitor.click(".e [data-action=close]");
    visitor.open_settings_from_the_page();
    visitor.wait(
        20,
        &in_widget(".e[role=alert] [data-action=retry]"),
        "the data-yinyom-open link shows the message",
    );

    server
        .restart()
        .expect("restart on the same database and ports");
    visitor.click(".e [data-action=retry]");
    visitor.wait(
        20,
        &in_widget(".modal #yy-c-analytics"),
        "the retry opens the settings once the server is back",
    );
    assert_eq!(
        visitor.eval(&format!("{R} return !!r.querySelector('.e');")),
        json!(false),
        "the message is gone"
    );
    // The choice made while the server was down is delivered on a later page view.
    visitor.visit();
    visitor.receipts(1);
}

/// After a choice in the banner, or Save in the settings, the focus is not left on
/// `<body>`: it goes to the floating button (nothing was focused before the banner) or
/// back to the link that opened the settings; each choice is announced.
#[test]
fn focus_after_a_choice_and_announcements() {
    let site = "moi-i-industry";
    let server = TestServer::start(&[site]).expect("server");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, site);
    visitor.visit();
    visitor.banner().accept_all();
    visitor.wait(
        10,
        &format!("{R} const s = r.querySelector('[role=status]'); return s && s.textContent;"),
        "the banner's choice is announced",
    );
    assert_eq!(
        visitor.eval(&format!(
            "{R} return r.querySelector('[role=status]').textContent;"
        )),
        json!("บันทึกการเลือกของท่านแล้ว: ยอมรับทั้งหมด")
    );
    visitor.wait(
        10,
        "const a = document.activeElement; return a && a.id === 'yinyom-button';",
        "after the banner, the focus is on the floating button",
    );

    // Settings opened from the banner's "ตั้งค่า" (gone after the choice): the button.
    visitor.forget_choice();
    visitor.visit();
    visitor.banner().open_choices();
    visitor.settings().save();
    visitor.wait(
        10,
        "const a = document.activeElement; return a && a.id === 'yinyom-button';",
        "after Save, the focus is on the floating button",
    );
    visitor.wait(
        10,
        &format!("{R} return [...r.querySelectorAll('[role=status]')].some(s => s.textContent.length > 0);"),
        "Save is announced",
    );

    // Settings opened from the page's own link: the focus goes back to it.
    visitor.open_settings_from_the_page();
    visitor.settings().save();
    visitor.wait(
        10,
        "const a = document.activeElement; return a && a.hasAttribute('data-yinyom-open');",
        "after Save, the focus is back on the link that opened the settings",
    );
    visitor.receipts(3);
}

/// A raised consent revision: on the first page view under it, the cookie of the
/// statistics category (no longer granted until the visitor chooses again) is cleared;
/// the settings open with the earlier choices (statistics on, video and the newsletter
/// off).
#[test]
fn reconsent_prefills_earlier_choices_and_clears_cookies() {
    let site = "osmep-sme-monitoring";
    let server = TestServer::start(&[site]).expect("server");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, site);
    visitor.visit();
    visitor.banner().open_choices();
    let settings = visitor.settings();
    settings.toggle("analytics");
    settings.save();
    visitor.wait(
        10,
        "return document.cookie.includes('_yy_stats=');",
        "the statistics cookie is set",
    );
    visitor.receipts(1);

    server.import(&format!("{site}/v2")).expect("import v2");
    browser.clear_cache().expect("clear cache");
    visitor.visit();
    let banner = visitor.banner();
    assert_eq!(
        visitor.eval("return [window.yinyom.consent(), document.cookie.includes('_yy_stats=')];"),
        json!([null, false]),
        "the old choice no longer holds and its statistics cookie is cleared"
    );
    banner.open_choices();
    visitor.wait(20, &in_widget(".modal #yy-c-analytics"), "the settings");
    assert_eq!(
        visitor.eval(&format!(
            "{R} return [...r.querySelectorAll('.modal input[role=switch]')].map(i => [i.id, i.checked]);"
        )),
        json!([
            ["yy-c-analytics", true],
            ["yy-c-media", false],
            ["yy-p-sme_monitoring", false],
            ["yy-p-user_contact", false],
            ["yy-p-sme_news", false],
            ["yy-p-site_operation", false]
        ]),
        "the earlier choices are pre-filled"
    );
    visitor.settings().save();
    let r = visitor.receipts(2);
    assert_eq!(r[0]["receipt"]["notice"]["consent_revision"], 2);
    assert_eq!(r[0]["receipt"]["categories"]["analytics"], true);
}
