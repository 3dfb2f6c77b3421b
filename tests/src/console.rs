//! The console in a real browser, in the words of its user: open a page, sign in with an
//! account made by [`TestServer::add_user`] (admin, dpo or auditor), follow links, read
//! the page.

use crate::{
    server::TestServer,
    webdriver::{Browser, keys},
};
use serde_json::json;

/// A console user in one browser.
pub struct ConsoleUser<'a> {
    /// The browser they use.
    pub browser: &'a Browser,
    api: String,
}

impl<'a> ConsoleUser<'a> {
    /// Someone about to use `server`'s console in `browser`.
    pub fn new(browser: &'a Browser, server: &TestServer) -> Self {
        Self {
            browser,
            api: server.api.clone(),
        }
    }

    /// On the sign-in page: types the e-mail and password, presses Enter, and waits for
    /// the console's home page; returns its text.
    pub fn sign_in(&self, email: &str, password: &str) -> String {
        let b = self.browser;
        let field = b.find("#email").expect("the e-mail field");
        b.send_keys(&field, email).expect("type the e-mail");
        let field = b.find("#password").expect("the password field");
        b.send_keys(&field, password).expect("type the password");
        self.leave();
        b.press(&[keys::ENTER], false).expect("submit with Enter");
        self.page("คอนโซลเจ้าหน้าที่")
    }

    /// Opens the console's `path` (e.g. `/admin/audit`) by its address.
    pub fn open(&self, path: &str) {
        self.browser
            .goto(&format!("{}{path}", self.api))
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// Waits until a page has loaded that was not on screen at the last [`Self::click`],
    /// [`Self::follow`], [`Self::sign_in`] or [`Self::leave`] and its `<h1>` contains
    /// `heading`; returns the page's visible text. (After a click on a form's button, the page that holds the button may have
    /// the same heading as the one the server answers with.)
    pub fn page(&self, heading: &str) -> String {
        self.browser
            .wait_for(
                20,
                &format!(
                    "const h = document.querySelector('h1'); return !document.documentElement.hasAttribute('data-e2e-left') && document.readyState === 'complete' && h && h.textContent.includes({});",
                    json!(heading)
                ),
            )
            .unwrap_or_else(|e| panic!("page `{heading}`: {e}; at {:?}", self.browser.url()));
        self.text()
    }

    /// The page's visible text.
    pub fn text(&self) -> String {
        self.browser
            .eval("return document.body.innerText;", json!([]))
            .expect("text")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Clicks the element `css`; the page shown is marked as left (see [`Self::page`]).
    pub fn click(&self, css: &str) {
        let b = self.browser;
        let el = b.find(css).unwrap_or_else(|e| panic!("{css}: {e}"));
        self.leave();
        b.click(&el).unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks the link whose text contains `text`; the page shown is marked as left.
    pub fn follow(&self, text: &str) {
        let b = self.browser;
        let el = b.find_link(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        self.leave();
        b.click(&el).unwrap_or_else(|e| panic!("click {text}: {e}"));
    }

    /// Marks the page shown, so that [`Self::page`] waits for the next one; call it before
    /// a click made by other means that leaves the page.
    pub fn leave(&self) {
        self.browser
            .eval(
                "document.documentElement.setAttribute('data-e2e-left', ''); return true;",
                json!([]),
            )
            .expect("mark the page");
    }

    /// The address of the page shown.
    pub fn url(&self) -> String {
        self.browser.url().expect("url")
    }
}
