//! A visitor on the example page of OSMEP's SME monitoring system, in real Chromium,
//! against the real server and the real widget.

use serde_json::json;
use yinyom_e2e::{server::TestServer, webdriver::Browser};
use yinyom_model::cookie::ConsentCookie;

const SITE: &str = "osmep-sme-monitoring";

/// The shadow-root button of the banner.
fn button(action: &str) -> String {
    format!(
        "const h = document.getElementById('yinyom'); \
         return h && h.shadowRoot && h.shadowRoot.querySelector('[data-action={action}]');"
    )
}

const BANNER_TITLE: &str = "const h = document.getElementById('yinyom'); \
     const t = h && h.shadowRoot && h.shadowRoot.querySelector('h2'); return t && t.textContent;";

fn expected_title() -> String {
    let toml = std::fs::read_to_string(
        yinyom_e2e::root()
            .join("examples")
            .join(SITE)
            .join("site.toml"),
    )
    .expect("site.toml");
    let line = toml
        .lines()
        .skip_while(|l| !l.starts_with("[notice]"))
        .find(|l| l.starts_with("title"))
        .expect("notice title");
    line.split("th = \"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("thai title")
        .to_owned()
}

/// First visit: the Thai banner appears and nothing blocked has run. Reject all stores a
/// signed receipt denying everything; the reload shows no banner, fetches no wasm and
/// still runs nothing blocked.
#[test]
fn reject_all_is_recorded_and_remembered() {
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    let page = format!("{}/{SITE}/", server.pages);
    browser.goto(&page).expect("open page");

    let title = browser.wait_for(20, BANNER_TITLE).expect("banner appears");
    assert_eq!(title, json!(expected_title()));
    let ran = browser
        .eval("return [document.documentElement.dataset.analyticsRan || null, document.documentElement.dataset.inlineRan || null, document.querySelector('iframe[data-yinyom]').getAttribute('src')];", json!([]))
        .expect("eval");
    assert_eq!(
        ran,
        json!([null, null, null]),
        "blocked content ran before consent"
    );

    // The visible text, once the banner has finished appearing (it may fade in: under load
    // WebDriver can see the button before it is rendered).
    browser
        .wait_for(
            10,
            "const h = document.getElementById('yinyom'); \
             const b = h && h.shadowRoot.querySelector('[data-action=reject-all]'); \
             return b && b.innerText.trim() === 'ปฏิเสธทั้งหมด';",
        )
        .expect("the Reject all button reads ปฏิเสธทั้งหมด");
    let reject = browser
        .element(&button("reject-all"))
        .expect("reject button");
    browser.click(&reject).expect("click reject");

    let stored = server
        .wait_for(20, || async {
            match server.store.count_receipts(SITE).await {
                Ok(1) => Some(()),
                _ => None,
            }
        })
        .is_some();
    assert!(stored, "the receipt reached the database");
    browser
        .wait_for(
            10,
            "return !document.getElementById('yinyom').shadowRoot.querySelector('.banner');",
        )
        .expect("banner closes");

    // The cookie learns the receipt id once the server acknowledged it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let cookie = loop {
        let c = browser
            .cookie(&format!("yinyom_{SITE}"))
            .expect("cookies")
            .and_then(|v| ConsentCookie::decode(&v));
        if let Some(c) = c.filter(|c| c.receipt_id.is_some()) {
            break c;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "cookie never got the receipt id"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(cookie.granted.is_empty());
    let receipt_id = cookie.receipt_id.expect("receipt id");
    let history = server
        .rt
        .block_on(
            server
                .store
                .subject_has_receipts(SITE, &browser_subject(&browser)),
        )
        .expect("db");
    assert!(history, "the receipt belongs to this browser's subject id");

    browser.goto(&page).expect("reload");
    let consent = browser
        .wait_for(10, "return window.yinyom && window.yinyom.consent();")
        .expect("loader ready");
    assert_eq!(consent["receiptId"], json!(receipt_id));
    assert_eq!(consent["categories"], json!([]));
    std::thread::sleep(std::time::Duration::from_millis(500));
    let after = browser
        .eval(
            "return [!!document.getElementById('yinyom'), \
                     performance.getEntriesByType('resource').filter(e => e.name.endsWith('.wasm')).length, \
                     document.documentElement.dataset.analyticsRan || null, \
                     window.yinyom.accepted('analytics')];",
            json!([]),
        )
        .expect("eval");
    assert_eq!(
        after,
        json!([false, 0, null, false]),
        "no banner, no wasm, nothing blocked ran"
    );
}

/// Accept all runs the blocked analytics (external and inline, in order), loads the
/// embedded video, updates Google Consent Mode and records a `given` receipt.
#[test]
fn accept_all_activates_blocked_content() {
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    browser
        .goto(&format!("{}/{SITE}/", server.pages))
        .expect("open page");
    let accept = browser
        .wait_for(20, &button("accept-all"))
        .and_then(|_| browser.element(&button("accept-all")))
        .expect("accept button");
    let defaults = browser
        .eval(
            "return window.dataLayer.filter(a => a[0] === 'consent' && a[1] === 'default').map(a => a[2].analytics_storage);",
            json!([]),
        )
        .expect("eval");
    assert_eq!(
        defaults,
        json!(["denied"]),
        "Consent Mode default is denied before any choice"
    );
    browser.click(&accept).expect("click accept");

    browser
        .wait_for(10, "return document.documentElement.dataset.analyticsRan === '1' && document.documentElement.dataset.inlineRan === '1';")
        .expect("blocked scripts ran");
    let state = browser
        .eval(
            "return [document.cookie.includes('_yy_stats='), \
                     document.querySelector('iframe[data-yinyom]').getAttribute('src'), \
                     window.dataLayer.filter(a => a[0] === 'consent' && a[1] === 'update').pop()[2].analytics_storage];",
            json!([]),
        )
        .expect("eval");
    assert_eq!(state, json!([true, "video.html", "granted"]));

    let receipt = server
        .wait_for(20, || async {
            let subject = browser_subject(&browser);
            let has = server
                .store
                .subject_has_receipts(SITE, &subject)
                .await
                .ok()?;
            has.then_some(())
        })
        .is_some();
    assert!(receipt, "a receipt was stored for this visitor");
}

fn browser_subject(browser: &Browser) -> String {
    browser
        .eval(
            &format!("return localStorage.getItem('yinyom.{SITE}.subject');"),
            json!([]),
        )
        .expect("eval")
        .as_str()
        .expect("a subject id in localStorage")
        .to_owned()
}
