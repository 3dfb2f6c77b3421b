//! The server's root page in real Chromium: axe-core finds nothing, the strict CSP lets
//! its style through (by hash) and blocks nothing else it needs, and in demo mode it links
//! the example pages, which open.

use serde_json::{Value, json};
use yinyom_e2e::page::eval;
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

    let lang = eval(&b, "return document.documentElement.lang;");
    assert_eq!(lang, "th");
    // The style block applied: the CSP hash matches it.
    let width = eval(&b, "return getComputedStyle(document.body).maxWidth;");
    assert_ne!(width, json!("none"), "the page's style was blocked");
    let violations = eval(&b, "return window.__csp;");
    assert_eq!(violations, json!([]), "CSP violations");

    let found = yinyom_e2e::axe::violations(&b, &axe_js, "return document;");
    assert_eq!(found, json!([]), "axe-core violations on the root page");

    let examples: Value = eval(
        &b,
        "return [...document.querySelectorAll('a')].map(a => a.href);",
    );
    let pages = format!("{}/", server.pages);
    assert!(
        examples
            .as_array()
            .is_some_and(|l| l.iter().any(|h| h == &json!(pages))),
        "{examples} links {pages}"
    );
    b.goto(&pages).expect("example pages");
    let title = eval(&b, "return document.title;");
    assert!(
        title.as_str().is_some_and(|t| t.contains("Example sites")),
        "{title}"
    );
}
