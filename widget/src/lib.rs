//! yinyom-widget: the visitor's consent UI, a Yew app in a shadow root.
//!
//! The widget never runs on its own: the per-site loader (`js/loader.js`, served as
//! `/v1/sites/{site}/yinyom.js`) decides whether the visitor needs to be asked, and draws
//! the banner (the first layer) itself. Only when the visitor opens the settings, the
//! notice or "my consent" (or on a site in minors mode, whose banner asks the age and is
//! drawn here) does it import this module and call [`mount`]
//! with a [`host::Host`]: the loader's side of the contract (the notice, the language, the
//! visitor's pseudonymous id, `commit`, which stores the consent cookie, applies the choice
//! on the page and delivers the receipt, and `text`, a plain GET). The widget does no
//! serde, and no network I/O of its own but one POST (a visitor's data-subject request,
//! `host::Context::post_json`): both keep the wasm small (the budgets in BENCHMARKS.md).
//!
//! # Layout
//! - [`host`]: the loader interface (`Host`), the visitor's choices and building them into
//!   a consent cookie and a receipt request.
//! - [`js`]: reading the notice from the JS object and writing the request JSON.
//! - [`app`]: the Yew component: ties state, views and effects together.
//! - [`state`]: the widget's state and its changes, a pure reducer (tested natively).
//! - [`views`]: what it draws, one module per screen (banner, settings: choices / notice /
//!   my consent).
//! - [`held`]: the visitor's own copies of their receipts (localStorage, per site,
//!   bounded) and what the server's list lacks.
//! - [`focus`]: where the keyboard focus goes, and the settings' focus trap.
//! - [`i18n`]: the widget's own words, Thai first.

pub mod app;
pub mod focus;
pub mod held;
pub mod host;
pub mod i18n;
pub mod js;
pub mod state;
pub mod views;

use wasm_bindgen::prelude::*;

/// The mounted widget, as the loader sees it.
#[wasm_bindgen]
pub struct Widget {
    control: app::Control,
}

#[wasm_bindgen]
impl Widget {
    /// Opens the settings (`yinyom.open()`, `data-yinyom-open` links, the floating button,
    /// the banner's buttons) on a tab: `notice`, `mine`, or the choices (anything else).
    pub fn open(&self, tab: Option<String>) {
        let tab = match tab.as_deref() {
            Some("notice") => app::Tab::Notice,
            Some("mine") => app::Tab::Mine,
            _ => app::Tab::Choices,
        };
        self.control.send(app::Cmd::Open(tab));
    }

    /// Withdraws every consent (`yinyom.withdraw()`): a withdrawal receipt, everything
    /// optional denied.
    pub fn withdraw(&self) {
        self.control.send(app::Cmd::Withdraw);
    }

    /// Allows one more category (an iframe placeholder's "always allow").
    pub fn allow(&self, category: String) {
        self.control.send(app::Cmd::Allow(category));
    }
}

/// Mounts the widget for `host` in the shadow root of `#yinyom` (the loader's, where its
/// banner and shared stylesheet are), or a new one appended to `<body>`. The widget draws
/// a banner only when the host asks it (minors mode) and the visitor has no current choice.
#[wasm_bindgen]
pub fn mount(host: host::Host) -> Result<Widget, JsValue> {
    let ctx = std::rc::Rc::new(host::Context::from_host(host)?);
    let control = app::Control::default();
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("yinyom: no document"))?;
    let shadow = match document
        .get_element_by_id("yinyom")
        .and_then(|h| h.shadow_root())
    {
        Some(s) => s,
        None => {
            let holder = document.create_element("div")?;
            holder.set_id("yinyom");
            let shadow = holder
                .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))?;
            document
                .body()
                .ok_or_else(|| JsValue::from_str("yinyom: no <body>"))?
                .append_child(&holder)?;
            shadow
        }
    };
    // A constructed stylesheet is not inline style: it works under a strict CSP without
    // 'unsafe-inline'. Browsers without it get a <style> element.
    let sheet = web_sys::CssStyleSheet::new()
        .and_then(|s| s.replace_sync(app::STYLE).map(|()| s))
        .ok();
    match sheet {
        Some(s) => {
            let sheets = shadow.adopted_style_sheets();
            sheets.push(&s);
            shadow.set_adopted_style_sheets(&sheets);
        }
        None => {
            let style = document.create_element("style")?;
            style.set_text_content(Some(app::STYLE));
            shadow.append_child(&style)?;
        }
    }
    let root = document.create_element("div")?;
    shadow.append_child(&root)?;
    let props = app::AppProps {
        ctx,
        control: control.clone(),
    };
    yew::Renderer::<app::App>::with_root_and_props(root, props).render();
    Ok(Widget { control })
}
