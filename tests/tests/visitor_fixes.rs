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
use yinyom_e2e::page::{R, eval, in_widget, wait_receipts};
use yinyom_e2e::{server::TestServer, webdriver::Browser};
use yinyom_model::cookie::{ConsentCookie, LEGACY_COOKIE_NAME, cookie_name};
use yinyom_model::{Slug, site::MinorsPolicy, site::SiteFile};

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

fn click(browser: &Browser, css: &str) {
    browser
        .wait_for(20, &in_widget(css))
        .unwrap_or_else(|e| panic!("{css} never appeared: {e}"));
    let el = browser.element(&in_widget(css)).expect("element");
    browser.click(&el).expect("click");
}

fn site_file(site: &str) -> SiteFile {
    let path = yinyom_e2e::root()
        .join("examples")
        .join(site)
        .join("site.toml");
    toml::from_str(&std::fs::read_to_string(path).expect("site.toml")).expect("site file")
}

fn name(site: &str) -> String {
    cookie_name(&Slug::parse(site).expect("site id"))
}

fn consent(browser: &Browser, site: &str) -> Option<ConsentCookie> {
    browser
        .cookie(&name(site))
        .expect("cookies")
        .and_then(|v| ConsentCookie::decode(&v))
}

fn open(server: &TestServer, browser: &Browser, site: &str) {
    browser
        .goto(&format!("{}/{site}/", server.pages))
        .expect("open page");
    browser
        .wait_for(20, "return window.yinyom && window.yinyom.__loaded;")
        .unwrap_or_else(|e| panic!("{site}: the loader did not run: {e}"));
}

/// Accept all from the banner; on a minors-mode site the age "20 and over" first.
fn accept_all(browser: &Browser, site: &str) {
    if site_file(site).notice.minors == MinorsPolicy::AskAge {
        click(browser, "fieldset.age label:nth-of-type(3) input");
    }
    click(browser, ".banner [data-action=accept-all]");
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
    open(&server, &browser, a);
    accept_all(&browser, a);
    browser
        .wait_for(
            10,
            "return document.documentElement.dataset.analyticsRan === '1';",
        )
        .expect("analytics runs on the site that accepted");
    wait_receipts(&server, &browser, a, 1);
    assert!(consent(&browser, a).is_some(), "cookie {}", name(a));

    open(&server, &browser, b);
    browser
        .wait_for(20, &in_widget(".banner [data-action=reject-all]"))
        .expect("the other site asks for its own choice");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        eval(
            &browser,
            "return [window.yinyom.consent(), document.documentElement.dataset.analyticsRan || null, \
             document.querySelector('iframe[data-yinyom]').getAttribute('src')];"
        ),
        json!([null, null, null]),
        "{b} took {a}'s choice"
    );
    click(&browser, ".banner [data-action=reject-all]");
    let rb = wait_receipts(&server, &browser, b, 1);
    assert_eq!(rb[0]["receipt"]["method"], "reject_all");
    assert_eq!(consent(&browser, b).map(|c| c.granted), Some(vec![]));

    // Back on the first site: its own choice holds, and its history is only its own.
    open(&server, &browser, a);
    browser
        .wait_for(
            10,
            "return document.documentElement.dataset.analyticsRan === '1';",
        )
        .expect("the first site's choice still holds");
    let ra = wait_receipts(&server, &browser, a, 1);
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
    eval(
        &browser,
        &format!(
            "document.cookie = '{}=; path=/; max-age=0'; \
             document.cookie = '{LEGACY_COOKIE_NAME}=1.9.{now}.analytics+media.-; path=/'; \
             document.cookie = '_yy_stats=1; path=/'; return 1;",
            name(b)
        ),
    );
    open(&server, &browser, b);
    browser
        .wait_for(20, &in_widget(".banner [data-action=reject-all]"))
        .expect("the old shared cookie is not consent");
    assert_eq!(
        eval(
            &browser,
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
    let done = "return document.documentElement.dataset.analyticsRan === '1' \
                && document.documentElement.dataset.inlineRan === '1';";
    for site in SITES {
        open(&server, &browser, site);
        accept_all(&browser, site);
        browser
            .wait_for(10, done)
            .unwrap_or_else(|e| panic!("{site}: analytics did not run: {e}"));
        for view in 0..5 {
            if view > 0 {
                open(&server, &browser, site);
                browser
                    .wait_for(10, done)
                    .unwrap_or_else(|e| panic!("{site}: view {view}: analytics: {e}"));
            }
            // Give a second activation (the old bug) the time to show.
            std::thread::sleep(Duration::from_millis(200));
            assert_eq!(
                eval(&browser, "return [window.__order, window.__errors];"),
                json!([["data-analytics-ran", "data-inline-ran"], []]),
                "{site}, page view {view}: the library then the inline code, once each, no error"
            );
        }
        // Added after the page loaded: run once, with the nonce on the running copy.
        eval(
            &browser,
            "const s = document.createElement('script'); s.type = 'text/plain'; \
             s.setAttribute('data-yinyom', 'analytics'); s.setAttribute('nonce', 'n0nce'); \
             s.text = 'window.__late = (window.__late || 0) + 1;'; document.body.appendChild(s); return 1;",
        );
        browser
            .wait_for(10, "return window.__late === 1;")
            .unwrap_or_else(|e| panic!("{site}: a script added later did not run: {e}"));
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(
            eval(
                &browser,
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
    let all = ["lib a", "inline a", "lib b", "inline b"];
    let done = "return window.__runs && window.__runs.length >= 4;";

    browser.goto(&format!("{page}/")).expect("open page");
    accept_all(&browser, site);
    browser
        .wait_for(20, done)
        .expect("the scripts run after Accept all");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        eval(&browser, "return [window.__runs, window.__errors];"),
        json!([all, []]),
        "after Accept all: each script once, in order, no error"
    );
    wait_receipts(&server, &browser, site, 1);
    for view in 1..=4 {
        browser.goto(&format!("{page}/")).expect("open page");
        browser
            .wait_for(20, done)
            .unwrap_or_else(|e| panic!("view {view}: the scripts did not run: {e}"));
        // Give a second run (the old bug) the time to show.
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            eval(
                &browser,
                "return [window.__loader, window.__parsed, window.__runs, window.__errors];"
            ),
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
    assert_eq!(site_file(site).notice.minors, MinorsPolicy::AskAge);
    let server = TestServer::start(&[site]).expect("server");
    let browser = Browser::start().expect("browser");
    open(&server, &browser, site);
    browser
        .wait_for(20, &in_widget(".banner fieldset.age"))
        .expect("the minors banner asks the age");
    // Giving consent without an age is refused by the widget.
    click(&browser, ".banner [data-action=accept-all]");
    browser
        .wait_for(10, &in_widget(".banner .error"))
        .expect("accept all asks the age first");
    assert!(consent(&browser, site).is_none());
    // Refusing is not.
    click(&browser, ".banner [data-action=reject-all]");
    browser
        .wait_for(10, &format!("{R} return !r.querySelector('.banner');"))
        .expect("the banner closes on Reject all");
    let r = wait_receipts(&server, &browser, site, 1);
    let receipt = &r[0]["receipt"];
    assert_eq!(receipt["method"], "reject_all");
    assert_eq!(receipt["event"], "refused");
    assert!(receipt.get("age_band").is_none(), "{receipt}");
    assert!(receipt.get("consent_by").is_none(), "{receipt}");
    assert_eq!(consent(&browser, site).map(|c| c.granted), Some(vec![]));
}

/// With the consent server unreachable, the floating button (and the banner's
/// "ตั้งค่า") show a short Thai message with a retry; once the server is back, the
/// retry opens the settings. The choice itself stays applied.
#[test]
fn unreachable_server_says_so_and_retries() {
    let site = "osmep-msme-data-service";
    let mut server = TestServer::start(&[site]).expect("server");
    let browser = Browser::start().expect("browser");
    open(&server, &browser, site);
    browser
        .wait_for(20, &in_widget(".banner [data-action=choose]"))
        .expect("banner");
    server.stop().expect("stop the server");
    click(&browser, ".banner [data-action=choose]");
    let alert = browser
        .wait_for(
            20,
            &format!("{R} const e = r.querySelector('.e[role=alert]'); return e && e.textContent;"),
        )
        .expect("a message says the settings cannot load");
    let text = alert.as_str().unwrap_or_default();
    assert!(text.contains("ท่าน") && text.contains("ลองใหม่"), "{text}");
    assert_eq!(
        focused(&browser),
        json!(["button", "retry", "yinyom"]),
        "the retry button has the focus"
    );
    // The visitor can still choose: kept and delivered later.
    click(&browser, ".e [data-action=close]");
    click(&browser, ".banner [data-action=accept-all]");
    browser
        .wait_for(10, "return window.yinyom.accepted('analytics');")
        .expect("the choice applies while the server is down");

    // The floating button, and a data-yinyom-open link, say so too.
    let fab = "const b = document.getElementById('yinyom-button'); return b && b.shadowRoot.querySelector('button');";
    browser.wait_for(10, fab).expect("the floating button");
    browser
        .click(&browser.element(fab).expect("button"))
        .expect("click");
    browser
        .wait_for(20, &in_widget(".e[role=alert] [data-action=retry]"))
        .expect("the floating button shows the message");
    click(&browser, ".e [data-action=close]");
    browser
        .click(&browser.find("[data-yinyom-open]").expect("settings link"))
        .expect("click");
    browser
        .wait_for(20, &in_widget(".e[role=alert] [data-action=retry]"))
        .expect("the data-yinyom-open link shows the message");

    server
        .restart()
        .expect("restart on the same database and ports");
    click(&browser, ".e [data-action=retry]");
    browser
        .wait_for(20, &in_widget(".modal #yy-c-analytics"))
        .expect("the retry opens the settings once the server is back");
    assert_eq!(
        eval(&browser, &format!("{R} return !!r.querySelector('.e');")),
        json!(false),
        "the message is gone"
    );
    // The choice made while the server was down is delivered on a later page view.
    open(&server, &browser, site);
    wait_receipts(&server, &browser, site, 1);
}

/// After a choice in the banner, or Save in the settings, the focus is not left on
/// `<body>`: it goes to the floating button (nothing was focused before the banner) or
/// back to the link that opened the settings; each choice is announced.
#[test]
fn focus_after_a_choice_and_announcements() {
    let site = "moi-i-industry";
    let server = TestServer::start(&[site]).expect("server");
    let browser = Browser::start().expect("browser");
    open(&server, &browser, site);
    click(&browser, ".banner [data-action=accept-all]");
    browser
        .wait_for(
            10,
            &format!("{R} const s = r.querySelector('[role=status]'); return s && s.textContent;"),
        )
        .expect("the banner's choice is announced");
    assert_eq!(
        eval(
            &browser,
            &format!("{R} return r.querySelector('[role=status]').textContent;")
        ),
        json!("บันทึกการเลือกของท่านแล้ว: ยอมรับทั้งหมด")
    );
    browser
        .wait_for(
            10,
            "const a = document.activeElement; return a && a.id === 'yinyom-button';",
        )
        .expect("after the banner, the focus is on the floating button");

    // Settings opened from the banner's "ตั้งค่า" (gone after the choice): the button.
    eval(
        &browser,
        &format!(
            "document.cookie = '{}=; path=/; max-age=0'; return 1;",
            name(site)
        ),
    );
    open(&server, &browser, site);
    click(&browser, ".banner [data-action=choose]");
    click(&browser, ".modal [data-action=save]");
    browser
        .wait_for(
            10,
            "const a = document.activeElement; return a && a.id === 'yinyom-button';",
        )
        .expect("after Save, the focus is on the floating button");
    browser
        .wait_for(10, &format!("{R} return [...r.querySelectorAll('[role=status]')].some(s => s.textContent.length > 0);"))
        .expect("Save is announced");

    // Settings opened from the page's own link: the focus goes back to it.
    let link = browser.find("[data-yinyom-open]").expect("settings link");
    browser.click(&link).expect("click");
    click(&browser, ".modal [data-action=save]");
    browser
        .wait_for(
            10,
            "const a = document.activeElement; return a && a.hasAttribute('data-yinyom-open');",
        )
        .expect("after Save, the focus is back on the link that opened the settings");
    wait_receipts(&server, &browser, site, 3);
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
    open(&server, &browser, site);
    click(&browser, ".banner [data-action=choose]");
    click(&browser, "#yy-c-analytics");
    click(&browser, ".modal [data-action=save]");
    browser
        .wait_for(10, "return document.cookie.includes('_yy_stats=');")
        .expect("the statistics cookie is set");
    wait_receipts(&server, &browser, site, 1);

    server.import(&format!("{site}/v2")).expect("import v2");
    browser.clear_cache().expect("clear cache");
    open(&server, &browser, site);
    browser
        .wait_for(20, &in_widget(".banner [data-action=choose]"))
        .expect("asked again under the new revision");
    assert_eq!(
        eval(
            &browser,
            "return [window.yinyom.consent(), document.cookie.includes('_yy_stats=')];"
        ),
        json!([null, false]),
        "the old choice no longer holds and its statistics cookie is cleared"
    );
    click(&browser, ".banner [data-action=choose]");
    browser
        .wait_for(20, &in_widget(".modal #yy-c-analytics"))
        .expect("settings");
    assert_eq!(
        eval(
            &browser,
            &format!(
                "{R} return [...r.querySelectorAll('.modal input[role=switch]')].map(i => [i.id, i.checked]);"
            )
        ),
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
    click(&browser, ".modal [data-action=save]");
    let r = wait_receipts(&server, &browser, site, 2);
    assert_eq!(r[0]["receipt"]["notice"]["consent_revision"], 2);
    assert_eq!(r[0]["receipt"]["categories"]["analytics"], true);
}
