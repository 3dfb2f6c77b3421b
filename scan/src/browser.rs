//! Headless Chromium through the DevTools protocol (`chromiumoxide`): one fresh profile
//! per phase, every request and `Set-Cookie` of the page's frames, every `document.cookie`
//! write with the script that made it, all cookies of the profile (third-party ones too)
//! and the pages' web-storage keys.

use crate::ScanError;
use chromiumoxide::{
    Browser, BrowserConfig, Page,
    cdp::browser_protocol::{
        network::{EnableParams, EventRequestWillBeSent, EventResponseReceivedExtraInfo},
        page::AddScriptToEvaluateOnNewDocumentParams,
        storage::GetCookiesParams,
    },
    cdp::js_protocol::runtime::{AddBindingParams, EventBindingCalled},
    layout::Point,
};
use futures_util::StreamExt;
use serde::Deserialize;
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::task::JoinHandle;

/// Where Debian puts Chromium (`apt-get install chromium`).
pub(crate) const DEBIAN_CHROMIUM: &str = "/usr/bin/chromium";

/// How long a page may stay busy before the scan takes what it has.
const SETTLE_MAX: Duration = Duration::from_secs(15);
/// A page counts as settled after this long without a new request.
const QUIET: Duration = Duration::from_millis(1_200);

/// The binding the cookie hook reports through.
const BINDING: &str = "__yinyomScanCookie";

/// Runs before any script of every document: reports each `document.cookie` write with
/// the first script URL on the stack (the page's URL for an inline script).
const COOKIE_HOOK: &str = r#"(() => {
  const d = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  if (!d || !d.set) return;
  Object.defineProperty(Document.prototype, "cookie", {
    configurable: true, enumerable: d.enumerable,
    get() { return d.get.call(this); },
    set(v) {
      try {
        const s = String(v), name = s.split(";")[0].split("=")[0].trim();
        const gone = /max-age=0|expires=thu, 01 jan 1970/i.test(s);
        const m = (new Error().stack || "").match(/(https?:\/\/[^\s)]+?):\d+:\d+/);
        const report = globalThis.__yinyomScanCookie;
        if (!gone && report) report(JSON.stringify({ name, url: m ? m[1] : null }));
      } catch (e) {}
      d.set.call(this, v);
    }
  });
})();"#;

/// Finds Chromium: `explicit`, else Debian's, else `chromium` on the PATH.
pub(crate) fn find_chromium(explicit: Option<&Path>) -> Result<PathBuf, ScanError> {
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(p.to_owned())
        } else {
            Err(ScanError::NoChromium(p.display().to_string()))
        };
    }
    let debian = PathBuf::from(DEBIAN_CHROMIUM);
    if debian.is_file() {
        return Ok(debian);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
        .find(|p| p.is_file())
        .ok_or_else(|| ScanError::NoChromium(DEBIAN_CHROMIUM.to_owned()))
}

/// One request a page made.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) url: String,
    /// The script (or page) that started it, when Chromium says.
    pub(crate) initiator: Option<String>,
}

/// Who set a cookie, in the order the browser saw it.
#[derive(Debug, Clone)]
pub(crate) enum Setter {
    Script(Option<String>),
    Response(String),
}

#[derive(Default)]
struct Events {
    requests: Vec<Request>,
    urls: HashMap<String, String>,
    setters: Vec<(String, Setter)>,
    last_activity: Option<Instant>,
}

/// A cookie as Chromium holds it.
#[derive(Debug, Clone)]
pub(crate) struct RawCookie {
    pub(crate) name: String,
    pub(crate) domain: String,
    pub(crate) path: String,
    pub(crate) expires: Option<i64>,
    pub(crate) http_only: bool,
    pub(crate) secure: bool,
    pub(crate) same_site: Option<String>,
}

/// What a loaded page says about itself.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PageFacts {
    /// `location.href` after redirects.
    pub(crate) href: String,
    /// `location.origin`.
    pub(crate) origin: String,
    /// The `src` of every Yinyom loader tag (`…/v1/sites/{site}/yinyom.js`).
    pub(crate) tags: Vec<String>,
    /// Same-origin links (absolute, without fragment).
    pub(crate) links: Vec<String>,
    /// `localStorage` keys.
    pub(crate) local: Vec<String>,
    /// `sessionStorage` keys.
    pub(crate) session: Vec<String>,
}

const FACTS: &str = r#"(() => {
  const keys = (s) => { try { return Object.keys(s()); } catch (e) { return []; } };
  const tags = [...document.querySelectorAll("script[src]")].map((s) => s.src)
    .filter((s) => /\/v1\/sites\/[^/]+\/yinyom\.js(\?|$)/.test(s));
  const links = [...new Set([...document.querySelectorAll("a[href]")].map((a) => {
    try { const u = new URL(a.href, location.href); u.hash = ""; return u.href; } catch (e) { return ""; }
  }).filter((h) => h.startsWith(location.origin + "/")))];
  return { href: location.href, origin: location.origin, tags, links,
    local: keys(() => localStorage), session: keys(() => sessionStorage) };
})()"#;

/// One browser with a fresh profile, watching one tab. Closed by [`Session::close`]
/// (and killed if dropped).
pub(crate) struct Session {
    browser: Browser,
    page: Page,
    events: Arc<Mutex<Events>>,
    tasks: Vec<JoinHandle<()>>,
    _profile: tempfile::TempDir,
}

impl Session {
    /// Starts Chromium with an empty profile.
    pub(crate) async fn start(chromium: &Path) -> Result<Self, ScanError> {
        let profile = tempfile::tempdir().map_err(|e| ScanError::Browser(e.to_string()))?;
        let config = BrowserConfig::builder()
            .chrome_executable(chromium)
            .user_data_dir(profile.path())
            .no_sandbox()
            .disable_default_args()
            .args([
                "--headless=new",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-sync",
                "--no-first-run",
                "--no-default-browser-check",
                "--metrics-recording-only",
                "--password-store=basic",
                "--use-mock-keychain",
                // Every frame in the page's process, so its requests reach this tab's events.
                "--disable-site-isolation-trials",
                "--disable-features=IsolateOrigins,site-per-process,TranslateUI,HttpsUpgrades,HttpsFirstBalancedModeAutoEnable",
                "--lang=th-TH",
            ])
            .window_size(1280, 900)
            .launch_timeout(Duration::from_secs(30))
            .request_timeout(Duration::from_secs(30))
            .build()
            .map_err(ScanError::Browser)?;
        let (browser, mut handler) = Browser::launch(config)
            .await
            .map_err(|e| ScanError::Browser(format!("{}: {e}", chromium.display())))?;
        let mut tasks = vec![tokio::spawn(async move {
            while let Some(event) = handler.next().await {
                if event.is_err() {
                    // A message this protocol version does not know: keep going.
                    continue;
                }
            }
        })];
        let page = browser
            .new_page("about:blank")
            .await
            .map_err(|e| ScanError::Browser(e.to_string()))?;
        let events = Arc::new(Mutex::new(Events::default()));
        let cdp = |e: chromiumoxide::error::CdpError| ScanError::Browser(e.to_string());
        page.execute(EnableParams::default()).await.map_err(cdp)?;
        page.execute(AddBindingParams::new(BINDING))
            .await
            .map_err(cdp)?;
        page.execute(AddScriptToEvaluateOnNewDocumentParams::new(COOKIE_HOOK))
            .await
            .map_err(cdp)?;

        let mut sent = page
            .event_listener::<EventRequestWillBeSent>()
            .await
            .map_err(cdp)?;
        let ev = events.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(e) = sent.next().await {
                let initiator = e.initiator.url.clone().or_else(|| {
                    e.initiator
                        .stack
                        .as_ref()
                        .and_then(|s| s.call_frames.iter().find(|f| !f.url.is_empty()))
                        .map(|f| f.url.clone())
                });
                let url = e.request.url.clone();
                if let Ok(mut ev) = ev.lock() {
                    ev.urls.insert(e.request_id.inner().clone(), url.clone());
                    ev.requests.push(Request { url, initiator });
                    ev.last_activity = Some(Instant::now());
                }
            }
        }));
        let mut extra = page
            .event_listener::<EventResponseReceivedExtraInfo>()
            .await
            .map_err(cdp)?;
        let ev = events.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(e) = extra.next().await {
                let Some(headers) = e.headers.inner().as_object() else {
                    continue;
                };
                let set: Vec<String> = headers
                    .iter()
                    .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
                    .filter_map(|(_, v)| v.as_str())
                    .flat_map(|v| v.lines().map(str::to_owned).collect::<Vec<_>>())
                    .collect();
                if set.is_empty() {
                    continue;
                }
                if let Ok(mut ev) = ev.lock() {
                    let url = ev
                        .urls
                        .get(e.request_id.inner())
                        .cloned()
                        .unwrap_or_default();
                    for line in set {
                        let name = line
                            .split(';')
                            .next()
                            .and_then(|kv| kv.split('=').next())
                            .unwrap_or_default()
                            .trim()
                            .to_owned();
                        ev.setters.push((name, Setter::Response(url.clone())));
                    }
                }
            }
        }));
        let mut bound = page
            .event_listener::<EventBindingCalled>()
            .await
            .map_err(cdp)?;
        let ev = events.clone();
        tasks.push(tokio::spawn(async move {
            #[derive(Deserialize)]
            struct Write {
                name: String,
                url: Option<String>,
            }
            while let Some(e) = bound.next().await {
                if e.name != BINDING {
                    continue;
                }
                if let (Ok(w), Ok(mut ev)) = (serde_json::from_str::<Write>(&e.payload), ev.lock())
                {
                    ev.setters.push((w.name, Setter::Script(w.url)));
                }
            }
        }));
        Ok(Self {
            browser,
            page,
            events,
            tasks,
            _profile: profile,
        })
    }

    /// Chromium's version string.
    pub(crate) async fn version(&self) -> String {
        self.browser
            .version()
            .await
            .map(|v| v.product)
            .unwrap_or_else(|_| "Chromium".to_owned())
    }

    /// Opens `url` in the tab, waits for it to settle and reads its facts.
    pub(crate) async fn visit(&self, url: &str) -> Result<PageFacts, ScanError> {
        let nav = tokio::time::timeout(SETTLE_MAX * 2, self.page.goto(url)).await;
        match nav {
            Err(_) => return Err(ScanError::Unreachable(url.to_owned(), "timed out".into())),
            Ok(Err(e)) => return Err(ScanError::Unreachable(url.to_owned(), e.to_string())),
            Ok(Ok(_)) => {}
        }
        self.settle().await;
        self.facts().await
    }

    /// Reads the current page's facts.
    pub(crate) async fn facts(&self) -> Result<PageFacts, ScanError> {
        self.page
            .evaluate(FACTS)
            .await
            .map_err(|e| ScanError::Browser(e.to_string()))?
            .into_value::<PageFacts>()
            .map_err(|e| ScanError::Browser(e.to_string()))
    }

    /// Waits until no request has started for [`QUIET`], at most [`SETTLE_MAX`].
    pub(crate) async fn settle(&self) {
        let start = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let last = self
                .events
                .lock()
                .ok()
                .and_then(|e| e.last_activity)
                .unwrap_or(start);
            let quiet_since = last.max(start);
            if quiet_since.elapsed() >= QUIET || start.elapsed() >= SETTLE_MAX {
                return;
            }
        }
    }

    /// Clicks the banner's button `action` (`reject-all` or `accept-all`) inside the
    /// widget's shadow root, as a person would (a mouse click at its centre), then waits
    /// until the consent cookie `cookie` is set.
    pub(crate) async fn choose(&self, action: &str, cookie: &str) -> Result<(), ScanError> {
        let find = format!(
            r#"(() => {{
  const h = document.getElementById("yinyom"), r = h && h.shadowRoot;
  const b = r && r.querySelector('button[data-action="{action}"]');
  if (!b) return null;
  b.scrollIntoView({{ block: "center" }});
  const x = b.getBoundingClientRect();
  return x.width > 0 && x.height > 0 ? [x.left + x.width / 2, x.top + x.height / 2] : null;
}})()"#
        );
        let deadline = Instant::now() + SETTLE_MAX;
        let point = loop {
            let at = self
                .page
                .evaluate(find.as_str())
                .await
                .ok()
                .and_then(|v| v.into_value::<Option<[f64; 2]>>().ok())
                .flatten();
            if let Some(p) = at {
                break p;
            }
            if Instant::now() > deadline {
                return Err(ScanError::NoBanner(action.to_owned()));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        self.page
            .click(Point::new(point[0], point[1]))
            .await
            .map_err(|e| ScanError::Browser(e.to_string()))?;
        let has_cookie = format!(
            "document.cookie.split('; ').some((c) => c.startsWith({}))",
            serde_json::Value::String(format!("{cookie}="))
        );
        let deadline = Instant::now() + SETTLE_MAX;
        loop {
            let set = self
                .page
                .evaluate(has_cookie.as_str())
                .await
                .ok()
                .and_then(|v| v.into_value::<bool>().ok())
                .unwrap_or(false);
            if set {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(ScanError::ChoiceNotSaved(action.to_owned()));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Forgets the requests seen so far (the phase's record starts at the choice).
    pub(crate) fn forget_requests(&self) {
        if let Ok(mut e) = self.events.lock() {
            e.requests.clear();
        }
    }

    /// The requests since the start or [`Session::forget_requests`].
    pub(crate) fn requests(&self) -> Vec<Request> {
        self.events
            .lock()
            .map(|e| e.requests.clone())
            .unwrap_or_default()
    }

    /// Who set cookie `name` last, if the scan saw it.
    pub(crate) fn setter(&self, name: &str) -> Option<Setter> {
        self.events.lock().ok().and_then(|e| {
            e.setters
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, s)| s.clone())
        })
    }

    /// Every cookie in the profile, first- and third-party.
    pub(crate) async fn cookies(&self) -> Result<Vec<RawCookie>, ScanError> {
        let all = self
            .browser
            .execute(GetCookiesParams::default())
            .await
            .map_err(|e| ScanError::Browser(e.to_string()))?;
        Ok(all
            .result
            .cookies
            .iter()
            .map(|c| RawCookie {
                name: c.name.clone(),
                domain: c.domain.clone(),
                path: c.path.clone(),
                expires: (!c.session && c.expires > 0.0).then_some(c.expires as i64),
                http_only: c.http_only,
                secure: c.secure,
                same_site: c.same_site.as_ref().map(|s| s.as_ref().to_owned()),
            })
            .collect())
    }

    /// Closes the browser and removes its profile.
    pub(crate) async fn close(mut self) {
        for t in &self.tasks {
            t.abort();
        }
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            let _ = self.browser.close().await;
            let _ = self.browser.wait().await;
        })
        .await;
        if closed.is_err() {
            let _ = self.browser.kill().await;
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
