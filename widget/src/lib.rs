//! yinyom-widget: the visitor's consent UI, a Yew app in a shadow root.
//!
//! The widget never runs on its own: the per-site loader (`js/loader.js`, served as
//! `/v1/sites/{site}/yinyom.js`) decides whether the visitor needs to be asked. Only then
//! (or when the visitor opens the settings) does it import this module and call [`mount`]
//! with a [`host::Host`]: the loader's side of the contract (the notice, the language, the
//! visitor's pseudonymous id, `commit`, which stores the consent cookie, applies the choice
//! on the page and delivers the receipt, and `text`, a plain GET). The widget does no
//! network I/O of its own and no serde: both keep the wasm small (DESIGN.md §6).
//!
//! # Layout
//! - [`host`]: the loader interface (`Host`), the visitor's choices and building them into
//!   a consent cookie and a receipt request.
//! - [`js`]: reading the notice from the JS object and writing the request JSON.
//! - [`app`]: the Yew component (banner, settings with choices / notice / my consent).
//! - [`i18n`]: the widget's own words, Thai first.

pub mod app;
pub mod host;
pub mod i18n;
pub mod js;

use wasm_bindgen::prelude::*;

/// The mounted widget, as the loader sees it.
#[wasm_bindgen]
pub struct Widget {
    control: app::Control,
}

#[wasm_bindgen]
impl Widget {
    /// Opens the settings (`yinyom.open()`, `data-yinyom-open` links, the floating button).
    pub fn open(&self) {
        self.control.send(app::Cmd::Open);
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

/// Mounts the widget for `host` in a shadow root appended to `<body>`. The banner shows
/// when the visitor has no current choice.
#[wasm_bindgen]
pub fn mount(host: host::Host) -> Result<Widget, JsValue> {
    let ctx = std::rc::Rc::new(host::Context::from_host(host)?);
    let control = app::Control::default();
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("yinyom: no document"))?;
    let holder = document.create_element("div")?;
    holder.set_id("yinyom");
    let shadow =
        holder.attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))?;
    // A constructed stylesheet is not inline style: it works under a strict CSP without
    // 'unsafe-inline'. Browsers without it get a <style> element.
    let sheet = web_sys::CssStyleSheet::new()
        .and_then(|s| s.replace_sync(app::STYLE).map(|()| s))
        .ok();
    match sheet {
        Some(s) => shadow.set_adopted_style_sheets(&js_sys::Array::of1(&s)),
        None => {
            let style = document.create_element("style")?;
            style.set_text_content(Some(app::STYLE));
            shadow.append_child(&style)?;
        }
    }
    let root = document.create_element("div")?;
    shadow.append_child(&root)?;
    document
        .body()
        .ok_or_else(|| JsValue::from_str("yinyom: no <body>"))?
        .append_child(&holder)?;
    let props = app::AppProps {
        ctx,
        control: control.clone(),
    };
    yew::Renderer::<app::App>::with_root_and_props(root, props).render();
    Ok(Widget { control })
}
