//! What the end-to-end tests do on a host page, in the words of the visitor: a
//! [`Visitor`] of one site opens its page, answers the [`Banner`], changes things in the
//! [`Settings`], and finds their receipts on the server. Written once, used by every test
//! file in `tests/tests/`.
//!
//! No fixed sleeps: after an action that ends in a choice, the visitor waits for the
//! loader's `yinyom:settled` event (the choice stored, applied and its receipt answered or
//! queued); a page view waits for the page's load and that event (the stored choice
//! applied, or the banner shown); [`Visitor::still`] waits for running animations
//! (`document.getAnimations()`) to finish before colours or sizes are measured.

use crate::{server::TestServer, webdriver::Browser};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use yinyom_model::{
    Slug,
    cookie::{ConsentCookie, cookie_name},
};

/// A script prelude binding `h` to the widget's host element and `r` to its shadow root
/// (or null before it exists).
pub const R: &str = "const h = document.getElementById('yinyom'); const r = h && h.shadowRoot;";

/// A script returning the element `css` inside the widget's shadow root.
pub fn in_widget(css: &str) -> String {
    format!("{R} return r && r.querySelector(\"{css}\");")
}

/// A script returning the floating button (the loader's "ตั้งค่าคุกกี้"), or null.
pub const FLOATING_BUTTON: &str = "const f = document.getElementById('yinyom-button'); \
     return f && f.shadowRoot.querySelector('button');";

/// Runs `script` in the page and returns its value.
pub fn eval(browser: &Browser, script: &str) -> Value {
    browser.eval(script, json!([])).expect("eval")
}

/// Waits for `css` in the widget's shadow root and clicks it (a real WebDriver click).
pub fn click_in_widget(browser: &Browser, css: &str) {
    click(browser, &in_widget(css), css);
}

/// Waits for the element `script` returns and clicks it; `what` names it in a failure.
pub fn click(browser: &Browser, script: &str, what: &str) {
    browser
        .wait_for(20, script)
        .unwrap_or_else(|e| panic!("{what} never appeared: {e}"));
    let el = browser
        .element(script)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    browser
        .click(&el)
        .unwrap_or_else(|e| panic!("click {what}: {e}"));
}

/// Polls `f` until it gives something, for up to `secs` seconds; panics naming `what`.
pub fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {secs} s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Installed before every page's own scripts: counts the loader's `yinyom:settled`
/// events per site in `window.__settled` (once, however many visitors share a browser).
const SETTLED: &str = "if (!window.__settled) { window.__settled = {}; \
     document.addEventListener('yinyom:settled', e => { \
       const s = e.detail && e.detail.site; window.__settled[s] = (window.__settled[s] || 0) + 1; }); }";

/// A visitor of one site in one browser.
pub struct Visitor<'a> {
    /// The browser they use.
    pub browser: &'a Browser,
    /// The site they visit.
    pub site: String,
    api: String,
    pages: String,
}

impl<'a> Visitor<'a> {
    /// A visitor of `site` (served by `server`) in `browser`.
    pub fn new(browser: &'a Browser, server: &TestServer, site: &str) -> Self {
        browser
            .before_each_page(SETTLED)
            .expect("listen for yinyom:settled");
        Self {
            browser,
            site: site.to_owned(),
            api: server.api.clone(),
            pages: server.pages.clone(),
        }
    }

    /// The example page of the site.
    pub fn page(&self) -> String {
        format!("{}/{}/", self.pages, self.site)
    }

    /// Opens the site's page and waits until the loader has settled (the stored choice
    /// applied, or the banner shown).
    pub fn visit(&self) {
        self.visit_url(&self.page());
    }

    /// Opens `url` (a page with this site's loader) and waits until the loader settled.
    pub fn visit_url(&self, url: &str) {
        self.browser
            .goto(url)
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
        self.settled(1);
    }

    /// Opens the site's page without waiting for the loader (a server that is down, a
    /// page to clear first).
    pub fn open_only(&self) {
        self.browser.goto(&self.page()).expect("open page");
    }

    /// How many times the loader settled on this page so far.
    fn settle_count(&self) -> u64 {
        self.eval(&format!(
            "return (window.__settled || {{}})[{}] || 0;",
            json!(self.site)
        ))
        .as_u64()
        .unwrap_or(0)
    }

    /// Waits until the loader settled `n` times on this page.
    pub fn settled(&self, n: u64) {
        self.browser
            .wait_for(
                20,
                &format!(
                    "return ((window.__settled || {{}})[{}] || 0) >= {n};",
                    json!(self.site)
                ),
            )
            .unwrap_or_else(|e| panic!("{}: the loader did not settle: {e}", self.site));
    }

    /// Does `act` (something that ends in a choice) and waits until the loader settled
    /// again: the choice stored and applied, its receipt answered or queued.
    pub fn and_settle(&self, act: impl FnOnce()) {
        let before = self.settle_count();
        act();
        self.settled(before + 1);
    }

    /// Waits until every animation running on the page and in our shadow roots finished
    /// (entries and transitions), so what is measured is what stays on screen.
    pub fn still(&self) {
        let done = self
            .browser
            .eval_async(
                "const done = arguments[arguments.length - 1]; \
                 const roots = [document, ...[...document.querySelectorAll('*')].map(e => e.shadowRoot).filter(Boolean)]; \
                 const all = roots.flatMap(x => x.getAnimations()) \
                   .filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity); \
                 Promise.all(all.map(a => a.finished.catch(() => null))).then(() => done(all.length), e => done(String(e)));",
                json!([]),
            )
            .expect("wait for animations");
        assert!(done.is_u64(), "animations: {done}");
    }

    /// Runs `script` in the page and returns its value.
    pub fn eval(&self, script: &str) -> Value {
        eval(self.browser, script)
    }

    /// Waits until `script` returns something truthy; panics with `what`.
    pub fn wait(&self, secs: u64, script: &str, what: &str) -> Value {
        self.browser
            .wait_for(secs, script)
            .unwrap_or_else(|e| panic!("{}: {what}: {e}", self.site))
    }

    /// Waits for `css` in the widget and clicks it.
    pub fn click(&self, css: &str) {
        click_in_widget(self.browser, css);
    }

    /// The banner (the first layer), once it is shown.
    pub fn banner(&self) -> Banner<'_, 'a> {
        self.wait(20, &in_widget(".banner"), "the banner");
        Banner(self)
    }

    /// The settings dialog, once it is open.
    pub fn settings(&self) -> Settings<'_, 'a> {
        self.wait(20, &in_widget(".modal"), "the settings");
        Settings(self)
    }

    /// Clicks the floating button (it opens the settings).
    pub fn open_settings_from_the_button(&self) {
        click(self.browser, FLOATING_BUTTON, "the floating button");
    }

    /// Clicks the page's own `data-yinyom-open` link (it opens the settings).
    pub fn open_settings_from_the_page(&self) {
        let link = self
            .browser
            .find("[data-yinyom-open]")
            .expect("the page's settings link");
        self.browser.click(&link).expect("click the settings link");
    }

    /// Clicks a placeholder's button for `category`: `once` (load this time) or `allow`
    /// (always allow: a choice, so it waits for the loader to settle).
    pub fn placeholder(&self, category: &str, action: &str) {
        let button = format!(
            "const p = document.querySelector('[data-yinyom-placeholder={category}]'); \
             return p && p.shadowRoot.querySelector('[data-action={action}]');"
        );
        let press = || click(self.browser, &button, &format!("{category} {action}"));
        if action == "allow" {
            self.and_settle(press);
        } else {
            press();
        }
    }

    /// Whether the site's page said a blocked script ran: [external, inline] markers.
    pub fn analytics_ran(&self) -> bool {
        self.eval(
            "return document.documentElement.dataset.analyticsRan === '1' \
             && document.documentElement.dataset.inlineRan === '1';",
        ) == json!(true)
    }

    /// Waits until both blocked analytics scripts (external, then inline) ran.
    pub fn wait_analytics_ran(&self) {
        self.wait(
            10,
            "return document.documentElement.dataset.analyticsRan === '1' \
             && document.documentElement.dataset.inlineRan === '1';",
            "the blocked analytics ran",
        );
    }

    /// The consent cookie of the site, decoded.
    pub fn consent_cookie(&self) -> Option<ConsentCookie> {
        let name = cookie_name(&Slug::parse(&self.site).expect("site id"));
        self.browser
            .cookie(&name)
            .expect("cookies")
            .and_then(|v| ConsentCookie::decode(&v))
    }

    /// Waits until the consent cookie carries the receipt id the server gave; returns it.
    pub fn consent_cookie_with_receipt(&self) -> ConsentCookie {
        eventually(10, "the cookie gets the receipt id", || {
            self.consent_cookie().filter(|c| c.receipt_id.is_some())
        })
    }

    /// Forgets the choice on this site (deletes its consent cookie): the banner asks again.
    pub fn forget_choice(&self) {
        let name = cookie_name(&Slug::parse(&self.site).expect("site id"));
        self.eval(&format!(
            "document.cookie = '{name}=; path=/; max-age=0'; return 1;"
        ));
    }

    /// The visitor id of this browser on the site (kept by the loader in localStorage).
    pub fn subject(&self) -> String {
        self.eval(&format!(
            "return localStorage.getItem('yinyom.{}.subject');",
            self.site
        ))
        .as_str()
        .expect("a subject id")
        .to_owned()
    }

    /// The last receipt request this browser made (what the loader keeps as `choice`).
    pub fn last_request(&self) -> Value {
        let s = self.eval(&format!(
            "return localStorage.getItem('yinyom.{}.choice');",
            self.site
        ));
        serde_json::from_str(s.as_str().expect("a stored choice")).expect("JSON")
    }

    /// Lets the browser save downloads into `dir`.
    pub fn allow_downloads(&self, dir: &std::path::Path) {
        self.browser
            .cdp(
                "Browser.setDownloadBehavior",
                json!({"behavior": "allow", "downloadPath": dir.display().to_string()}),
            )
            .expect("allow downloads");
    }

    /// This browser's own copies of its receipts on the site (what the loader and the
    /// widget keep in localStorage), oldest first.
    pub fn held_receipts(&self) -> Vec<Value> {
        let s = self.eval(&format!(
            "return localStorage.getItem('yinyom.{}.receipts');",
            self.site
        ));
        s.as_str()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }

    /// This visitor's receipts on the site as the server has them, newest first.
    pub fn receipts_now(&self) -> Vec<Value> {
        let url = format!(
            "{}/v1/sites/{}/subjects/{}/receipts",
            self.api,
            self.site,
            self.subject()
        );
        ureq::get(&url)
            .call()
            .ok()
            .and_then(|r| r.into_json::<Vec<Value>>().ok())
            .unwrap_or_default()
    }

    /// Waits (at most 20 s) until the server has `n` receipts of this visitor; returns
    /// them, newest first.
    pub fn receipts(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.receipts_now();
            if got.len() == n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{}: expected {n} receipts, the server has {}",
                self.site,
                got.len()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The banner of a [`Visitor`].
pub struct Banner<'v, 'a>(&'v Visitor<'a>);

impl Banner<'_, '_> {
    /// Its title.
    pub fn title(&self) -> Value {
        self.0.wait(
            20,
            &format!(
                "{R} const t = r && r.querySelector('.banner h2'); return t && t.textContent;"
            ),
            "the banner's title",
        )
    }

    /// Waits until its title reads `title`.
    pub fn says(&self, title: &str) {
        self.0.wait(
            20,
            &format!(
                "{R} const t = r && r.querySelector('.banner h2'); return t && t.textContent === {};",
                json!(title)
            ),
            &format!("the banner says {title}"),
        );
    }

    /// Clicks its button `action` (e.g. `accept-all`) and waits for nothing more.
    pub fn press(&self, action: &str) {
        self.0.click(&format!(".banner [data-action={action}]"));
    }

    /// Reject all: waits until the choice settled.
    pub fn reject_all(&self) {
        self.0.and_settle(|| self.press("reject-all"));
    }

    /// Accept all: waits until the choice settled.
    pub fn accept_all(&self) {
        self.0.and_settle(|| self.press("accept-all"));
    }

    /// "ตั้งค่า": opens the settings.
    pub fn open_choices(&self) {
        self.press("choose");
    }

    /// The language switch (ไทย / English).
    pub fn switch_language(&self) {
        self.0.click(".banner button.lang");
    }

    /// In minors mode (the notice asks the age), answers "20 and over".
    pub fn adult(&self) {
        self.0.click("fieldset.age label:nth-of-type(3) input");
    }
}

/// The settings dialog of a [`Visitor`].
pub struct Settings<'v, 'a>(&'v Visitor<'a>);

impl Settings<'_, '_> {
    /// Clicks its control `action` (e.g. `close`) and waits for nothing more.
    pub fn press(&self, action: &str) {
        self.0.click(&format!(".modal [data-action={action}]"));
    }

    /// Turns the switch of the cookie category `category` over.
    pub fn toggle(&self, category: &str) {
        self.0.click(&format!("#yy-c-{category}"));
    }

    /// Save: waits until the choice settled.
    pub fn save(&self) {
        self.0.and_settle(|| self.press("save"));
    }

    /// Accept all: waits until the choice settled.
    pub fn accept_all(&self) {
        self.0.and_settle(|| self.press("accept-all"));
    }

    /// Reject all: waits until the choice settled.
    pub fn reject_all(&self) {
        self.0.and_settle(|| self.press("reject-all"));
    }

    /// Opens the tab `name` (`choices`, `notice`, `mine`).
    pub fn tab(&self, name: &str) {
        self.0.click(&format!("[data-action=tab-{name}]"));
    }

    /// Withdraw all (in My consent): waits until the withdrawal settled.
    pub fn withdraw(&self) {
        self.0.and_settle(|| self.0.click("[data-action=withdraw]"));
    }

    /// Closes the settings.
    pub fn close(&self) {
        self.press("close");
    }

    /// The language switch (ไทย / English).
    pub fn switch_language(&self) {
        self.0.click(".modal button.lang");
    }

    /// In minors mode, answers "20 and over".
    pub fn adult(&self) {
        self.0.click("fieldset.age label:nth-of-type(3) input");
    }

    /// In My consent, once the receipts are shown: the ids of the receipts listed as the
    /// server's (newest first) and of those this browser holds that the server lacks.
    pub fn receipt_rows(&self) -> (Vec<String>, Vec<String>) {
        self.0
            .wait(20, &in_widget(".history, [data-empty]"), "my receipts");
        let ids = |css: &str| -> Vec<String> {
            self.0
                .eval(&format!(
                    "{R} return [...r.querySelectorAll(\"{css}\")].map(li => li.dataset.receiptRow);"
                ))
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        (
            ids(".body > .history [data-receipt-row]"),
            ids("[data-missing] [data-receipt-row]"),
        )
    }

    /// In My consent: downloads the proof bundle of receipt `id` (from the first list
    /// that shows it).
    pub fn download_bundle(&self, id: &str) {
        self.0
            .click(&format!("[data-receipt-row='{id}'] a[download]"));
    }

    /// In My consent: downloads every proof in one file.
    pub fn download_all(&self) {
        self.0.click("[data-action=download]");
    }

    /// In My consent: fills the request form (kind, message, contact) and sends it.
    pub fn file_request(&self, kind: &str, message: &str, contact: &str) {
        self.0.click(&format!("fieldset.kind input[value={kind}]"));
        for (css, text) in [("#yy-rq-message", message), ("#yy-rq-contact", contact)] {
            let el = self
                .0
                .browser
                .element(&in_widget(css))
                .unwrap_or_else(|e| panic!("{css}: {e}"));
            self.0
                .browser
                .send_keys(&el, text)
                .unwrap_or_else(|e| panic!("type into {css}: {e}"));
        }
        self.0.click("[data-action=send-request]");
    }

    /// Opens every `<details>` (the cookie tables, the notice's technical parts).
    pub fn open_details(&self) {
        self.0.eval(&format!(
            "{R} r.querySelectorAll('.modal details').forEach(d => d.open = true); return 1;"
        ));
    }
}
