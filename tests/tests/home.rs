//! The server's root page in real Chromium: axe-core finds nothing, the strict CSP lets
//! its style through (by hash) and blocks nothing else it needs, and in demo mode it links
//! the example pages, which open.

use serde_json::{Value, json};
use yinyom_e2e::{server::TestServer, webdriver::Browser};

#[test]
fn the_root_page_is_accessible_and_links_the_examples() {
    let axe_js = yinyom_e2e::axe::source();
    let server = TestServer::start(&["osmep-sme-monitoring"]).expect("server");
    let b = Browser::start().expect("browser");
    b.before_each_page(
        "window.__csp = []; document.addEventListener('securitypolicyviolation', \
         e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));",
    )
    .expect("listener");
    b.goto(&format!("{}/", server.api)).expect("root page");

    let lang = b
        .eval("return document.documentElement.lang;", json!([]))
        .expect("lang");
    assert_eq!(lang, "th");
    // The style block applied: the CSP hash matches it.
    let width = b
        .eval(
            "return getComputedStyle(document.body).maxWidth;",
            json!([]),
        )
        .expect("style");
    assert_ne!(width, json!("none"), "the page's style was blocked");
    let violations = b.eval("return window.__csp;", json!([])).expect("csp");
    assert_eq!(violations, json!([]), "CSP violations");

    let found = yinyom_e2e::axe::violations(&b, &axe_js, "return document;");
    assert_eq!(found, json!([]), "axe-core violations on the root page");

    let examples: Value = b
        .eval(
            "return [...document.querySelectorAll('a')].map(a => a.href);",
            json!([]),
        )
        .expect("links");
    let pages = format!("{}/", server.pages);
    assert!(
        examples
            .as_array()
            .is_some_and(|l| l.iter().any(|h| h == &json!(pages))),
        "{examples} links {pages}"
    );
    b.goto(&pages).expect("example pages");
    let title = b.eval("return document.title;", json!([])).expect("title");
    assert!(
        title.as_str().is_some_and(|t| t.contains("Example sites")),
        "{title}"
    );
}
