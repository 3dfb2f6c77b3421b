//! What the end-to-end tests do on a host page, written once: reach into the widget's
//! shadow root, run a script, and wait for this browser's receipts on the server.

use crate::{server::TestServer, webdriver::Browser};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A script prelude binding `r` to the widget's shadow root (or null before it exists).
pub const R: &str = "const h = document.getElementById('yinyom'); const r = h && h.shadowRoot;";

/// A script returning the element `css` inside the widget's shadow root.
pub fn in_widget(css: &str) -> String {
    format!("{R} return r && r.querySelector(\"{css}\");")
}

/// Runs `script` in the page and returns its value.
pub fn eval(browser: &Browser, script: &str) -> Value {
    browser.eval(script, json!([])).expect("eval")
}

/// This browser's visitor id on `site` (kept by the loader in localStorage).
pub fn subject(browser: &Browser, site: &str) -> String {
    eval(
        browser,
        &format!("return localStorage.getItem('yinyom.{site}.subject');"),
    )
    .as_str()
    .expect("a subject id")
    .to_owned()
}

/// This browser's receipts on `site` as the server has them, newest first.
pub fn receipts(server: &TestServer, browser: &Browser, site: &str) -> Vec<Value> {
    let url = format!(
        "{}/v1/sites/{site}/subjects/{}/receipts",
        server.api,
        subject(browser, site)
    );
    ureq::get(&url)
        .call()
        .ok()
        .and_then(|r| r.into_json::<Vec<Value>>().ok())
        .unwrap_or_default()
}

/// Waits (at most 20 s) until the server has `n` receipts of this browser on `site`;
/// returns them, newest first.
pub fn wait_receipts(server: &TestServer, browser: &Browser, site: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = receipts(server, browser, site);
        if got.len() == n {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "{site}: expected {n} receipts, the server has {}",
            got.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
