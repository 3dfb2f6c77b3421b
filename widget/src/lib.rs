//! yinyom-widget: the visitor's consent UI, a Yew app in a shadow root.
//!
//! The widget never runs on its own: the per-site loader (`js/loader.js`, served as
//! `/v1/sites/{site}/yinyom.js`) decides whether the visitor needs to be asked. Only then
//! does it import this module and call [`mount`] with a [`Host`]: the loader's side of the
//! contract (the notice, the language, the visitor's pseudonymous id, and `commit`, which
//! stores the consent cookie, applies the choice on the page and delivers the receipt).
//! The widget itself does no network I/O, which keeps it small.
//!
//! # Layout
//! - [`host`]: the loader interface (`Host`) and building a choice into a receipt request.
//! - [`app`]: the Yew components (banner).
//! - [`i18n`]: the widget's own words, Thai first.

pub mod app;
pub mod host;
pub mod i18n;

use wasm_bindgen::prelude::*;

/// The mounted widget, as the loader sees it.
#[wasm_bindgen]
pub struct Widget {
    ctx: std::rc::Rc<host::Context>,
    control: app::Control,
}

#[wasm_bindgen]
impl Widget {
    /// Shows the banner again (`yinyom.open()`, `data-yinyom-open` links).
    pub fn open(&self) {
        self.control.open();
    }

    /// Withdraws every consent (`yinyom.withdraw()`): a withdrawal receipt, everything
    /// optional denied.
    pub fn withdraw(&self) {
        self.ctx
            .decide_all(yinyom_model::receipt::Method::Withdraw, self.ctx.lang);
    }
}

/// Mounts the widget for `host` in a shadow root appended to `<body>` and shows the banner.
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
    let style = document.create_element("style")?;
    style.set_text_content(Some(app::STYLE));
    shadow.append_child(&style)?;
    let root = document.create_element("div")?;
    shadow.append_child(&root)?;
    document
        .body()
        .ok_or_else(|| JsValue::from_str("yinyom: no <body>"))?
        .append_child(&holder)?;
    let props = app::AppProps {
        ctx: ctx.clone(),
        control: control.clone(),
    };
    yew::Renderer::<app::App>::with_root_and_props(root, props).render();
    Ok(Widget { ctx, control })
}
