//! A minimal W3C WebDriver client for Debian's Chromium (through chromedriver).

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A headless Chromium session. Closed (and chromedriver stopped) when dropped.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    _profile: tempfile::TempDir,
}

/// A reference to an element of the page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Browser {
    /// Starts chromedriver (`$CHROMEDRIVER` or `/usr/bin/chromedriver`) and a headless session.
    pub fn start() -> Result<Self> {
        Self::launch(false)
    }

    /// [`Browser::start`] with the browser's network events kept for
    /// [`Browser::responses`].
    pub fn start_logging_network() -> Result<Self> {
        Self::launch(true)
    }

    fn launch(network_log: bool) -> Result<Self> {
        let driver_path =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned());
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| {
                format!("cannot start {driver_path}: install Chromium with `cargo xtask test`")
            })?;
        let base = format!("http://127.0.0.1:{port}");
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .build();
        let deadline = Instant::now() + Duration::from_secs(20);
        while agent.get(&format!("{base}/status")).call().is_err() {
            if Instant::now() > deadline {
                bail!("chromedriver did not start on port {port}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir()?;
        let logging = if network_log {
            json!({"performance": "ALL"})
        } else {
            json!({})
        };
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": logging,
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let res: Value = agent
            .post(&format!("{base}/session"))
            .send_json(caps)
            .context("new WebDriver session")?
            .into_json()?;
        let session = res["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no session id in {res}"))?
            .to_owned();
        Ok(Self {
            driver,
            base,
            session,
            agent,
            _profile: profile,
        })
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let req = self.agent.request(method, &url);
        let res = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        match res {
            Ok(r) => Ok(r.into_json::<Value>()?["value"].take()),
            Err(ureq::Error::Status(code, r)) => {
                let text = r.into_string().unwrap_or_default();
                bail!("WebDriver {method} {path}: {code} {text}")
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Opens `url` and waits for the page to load.
    pub fn goto(&self, url: &str) -> Result<()> {
        self.call("POST", "/url", Some(json!({ "url": url })))?;
        Ok(())
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its result.
    pub fn eval(&self, script: &str, args: Value) -> Result<Value> {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Polls `script` until it returns something truthy (not null/false/""), for `secs`.
    pub fn wait_for(&self, secs: u64, script: &str) -> Result<Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let v = self.eval(script, json!([]))?;
            let truthy = !(v.is_null() || v == json!(false) || v == json!(""));
            if truthy {
                return Ok(v);
            }
            if Instant::now() > deadline {
                bail!("timed out after {secs}s waiting for: {script}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The element `script` returns (e.g. one inside a shadow root).
    pub fn element(&self, script: &str) -> Result<Element> {
        let v = self.eval(script, json!([]))?;
        v.get(ELEMENT)
            .and_then(Value::as_str)
            .map(|id| Element(id.to_owned()))
            .ok_or_else(|| anyhow::anyhow!("no element from: {script}"))
    }

    /// A real click on `el` (WebDriver element click: scrolls, checks it is hit, clicks).
    pub fn click(&self, el: &Element) -> Result<()> {
        self.call("POST", &format!("/element/{}/click", el.0), Some(json!({})))?;
        Ok(())
    }

    /// The visible text of `el`.
    pub fn text(&self, el: &Element) -> Result<String> {
        Ok(self
            .call("GET", &format!("/element/{}/text", el.0), None)?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// Runs asynchronous `script` (its last argument is the callback to call with the
    /// result) and returns the result.
    pub fn eval_async(&self, script: &str, args: Value) -> Result<Value> {
        self.call(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Presses keys, one after the other, as a keyboard would (WebDriver key actions).
    /// Use [`keys`] for the special keys; `shift` holds Shift down while pressing.
    pub fn press(&self, keys: &[&str], shift: bool) -> Result<()> {
        let mut actions = Vec::new();
        if shift {
            actions.push(json!({"type": "keyDown", "value": keys::SHIFT}));
        }
        for k in keys {
            actions.push(json!({"type": "keyDown", "value": k}));
            actions.push(json!({"type": "keyUp", "value": k}));
        }
        if shift {
            actions.push(json!({"type": "keyUp", "value": keys::SHIFT}));
        }
        self.call(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        )?;
        Ok(())
    }

    /// A Chrome DevTools Protocol command through chromedriver (`goog/cdp/execute`).
    pub fn cdp(&self, cmd: &str, params: Value) -> Result<Value> {
        self.call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({ "cmd": cmd, "params": params })),
        )
    }

    /// The responses the browser received since the last call (a browser started with
    /// [`Browser::start_logging_network`]), in order: the `response` of each DevTools
    /// `Network.responseReceived` event (`url`, `status`, `connectionId`,
    /// `connectionReused`, `protocol` …).
    pub fn responses(&self) -> Result<Vec<Value>> {
        let entries = self.call("POST", "/se/log", Some(json!({"type": "performance"})))?;
        let mut out = Vec::new();
        for entry in entries.as_array().map(Vec::as_slice).unwrap_or_default() {
            let Some(message) = entry["message"].as_str() else {
                continue;
            };
            let mut event: Value = serde_json::from_str(message)?;
            if event["message"]["method"] == "Network.responseReceived" {
                out.push(event["message"]["params"]["response"].take());
            }
        }
        Ok(out)
    }

    /// Runs `source` in every new document before the page's own scripts (e.g. to give
    /// the browser Global Privacy Control).
    pub fn before_each_page(&self, source: &str) -> Result<()> {
        self.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": source }),
        )?;
        Ok(())
    }

    /// Empties the HTTP cache, as if every cached response had expired.
    pub fn clear_cache(&self) -> Result<()> {
        self.cdp("Network.clearBrowserCache", json!({}))?;
        Ok(())
    }

    /// Sets the window's size in CSS pixels.
    pub fn resize(&self, width: u32, height: u32) -> Result<()> {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )?;
        Ok(())
    }

    /// The browser's cookie `name` for the current page, if set.
    pub fn cookie(&self, name: &str) -> Result<Option<String>> {
        let all = self.call("GET", "/cookie", None)?;
        Ok(all.as_array().and_then(|cs| {
            cs.iter()
                .find(|c| c["name"] == name)
                .and_then(|c| c["value"].as_str().map(str::to_owned))
        }))
    }

    /// The first element matching the CSS selector `css` (WebDriver Find Element).
    pub fn find(&self, css: &str) -> Result<Element> {
        let v = self.call(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        )?;
        v.get(ELEMENT)
            .and_then(Value::as_str)
            .map(|id| Element(id.to_owned()))
            .ok_or_else(|| anyhow::anyhow!("no element `{css}`"))
    }

    /// The first link whose visible text contains `text` (WebDriver partial link text).
    pub fn find_link(&self, text: &str) -> Result<Element> {
        let v = self.call(
            "POST",
            "/element",
            Some(json!({ "using": "partial link text", "value": text })),
        )?;
        v.get(ELEMENT)
            .and_then(Value::as_str)
            .map(|id| Element(id.to_owned()))
            .ok_or_else(|| anyhow::anyhow!("no link with text `{text}`"))
    }

    /// Types `text` into `el` as a keyboard would (WebDriver Element Send Keys; it focuses
    /// the element first). For `<input type=file>`, `text` is the path of a local file.
    pub fn send_keys(&self, el: &Element, text: &str) -> Result<()> {
        self.call(
            "POST",
            &format!("/element/{}/value", el.0),
            Some(json!({ "text": text })),
        )?;
        Ok(())
    }

    /// Empties an editable element (WebDriver Element Clear).
    pub fn clear(&self, el: &Element) -> Result<()> {
        self.call("POST", &format!("/element/{}/clear", el.0), Some(json!({})))?;
        Ok(())
    }

    /// The address of the current page.
    pub fn url(&self) -> Result<String> {
        Ok(self
            .call("GET", "/url", None)?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }
}

/// WebDriver codes of special keys, for [`Browser::press`].
pub mod keys {
    /// Tab
    pub const TAB: &str = "\u{E004}";
    /// Enter
    pub const ENTER: &str = "\u{E007}";
    /// Escape
    pub const ESCAPE: &str = "\u{E00C}";
    /// Shift
    pub const SHIFT: &str = "\u{E008}";
    /// Space
    pub const SPACE: &str = " ";
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.call("DELETE", "", None);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
