//! A visitor on the example page of OSMEP's SME monitoring system, in real Chromium,
//! against the real server and the real widget.

use serde_json::json;
use yinyom_e2e::page::Visitor;
use yinyom_e2e::{server::TestServer, webdriver::Browser};

const SITE: &str = "osmep-sme-monitoring";

/// First visit: the Thai banner appears and nothing blocked has run. Reject all stores a
/// signed receipt denying everything; the reload shows no banner, fetches no wasm and
/// still runs nothing blocked.
#[test]
fn reject_all_is_recorded_and_remembered() {
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, SITE);
    visitor.visit();

    let banner = visitor.banner();
    let site = yinyom_e2e::example_site(SITE);
    assert_eq!(banner.title(), json!(site.notice.title.th));
    let ran = visitor.eval(
        "return [document.documentElement.dataset.analyticsRan || null, document.documentElement.dataset.inlineRan || null, document.querySelector('iframe[data-yinyom]').getAttribute('src')];",
    );
    assert_eq!(
        ran,
        json!([null, null, null]),
        "blocked content ran before consent"
    );

    // The visible text, once the banner has finished appearing (it may fade in: under load
    // WebDriver can see the button before it is rendered).
    visitor.still();
    visitor.wait(
        10,
        "const h = document.getElementById('yinyom'); \
         const b = h && h.shadowRoot.querySelector('[data-action=reject-all]'); \
         return b && b.innerText.trim() === 'ปฏิเสธทั้งหมด';",
        "the Reject all button reads ปฏิเสธทั้งหมด",
    );
    banner.reject_all();

    let stored = server
        .wait_for(20, || async {
            match server.store.count_receipts(SITE).await {
                Ok(1) => Some(()),
                _ => None,
            }
        })
        .is_some();
    assert!(stored, "the receipt reached the database");
    visitor.wait(
        10,
        "return !document.getElementById('yinyom').shadowRoot.querySelector('.banner');",
        "the banner closes",
    );

    // The cookie learns the receipt id once the server acknowledged it.
    let cookie = visitor.consent_cookie_with_receipt();
    assert!(cookie.granted.is_empty());
    let receipt_id = cookie.receipt_id.expect("receipt id");
    let history = server
        .rt
        .block_on(
            server
                .store
                .subject_has_receipts(SITE, &server.pseudonym(&visitor.subject())),
        )
        .expect("db");
    assert!(history, "the receipt belongs to this browser's subject id");

    visitor.visit();
    let consent = visitor.eval("return window.yinyom && window.yinyom.consent();");
    assert_eq!(consent["receiptId"], json!(receipt_id));
    assert_eq!(consent["categories"], json!([]));
    let after = visitor.eval(
        "return [!!document.getElementById('yinyom'), \
                 performance.getEntriesByType('resource').filter(e => e.name.endsWith('.wasm')).length, \
                 document.documentElement.dataset.analyticsRan || null, \
                 window.yinyom.accepted('analytics')];",
    );
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
    let visitor = Visitor::new(&browser, &server, SITE);
    visitor.visit();
    let banner = visitor.banner();
    let defaults = visitor.eval(
        "return window.dataLayer.filter(a => a[0] === 'consent' && a[1] === 'default').map(a => a[2].analytics_storage);",
    );
    assert_eq!(
        defaults,
        json!(["denied"]),
        "Consent Mode default is denied before any choice"
    );
    banner.accept_all();

    visitor.wait_analytics_ran();
    let state = visitor.eval(
        "return [document.cookie.includes('_yy_stats='), \
                 document.querySelector('iframe[data-yinyom]').getAttribute('src'), \
                 window.dataLayer.filter(a => a[0] === 'consent' && a[1] === 'update').pop()[2].analytics_storage];",
    );
    assert_eq!(state, json!([true, "video.html", "granted"]));

    let subject = server.pseudonym(&visitor.subject());
    let receipt = server
        .wait_for(20, || async {
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
