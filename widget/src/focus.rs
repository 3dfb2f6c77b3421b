//! Keyboard focus: where it goes after a render ([`Focus`], decided by the state), the trap
//! that keeps Tab inside the settings dialog, and the loader's elements the focus may
//! return to. Never to `<body>`.

use crate::state::Focus;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, KeyboardEvent};
use yew::NodeRef;

/// The component's elements the focus moves between.
#[derive(Default)]
pub struct Refs {
    /// The widget's own banner (minors mode).
    pub banner: NodeRef,
    /// The settings dialog.
    pub modal: NodeRef,
    /// The component's root, in the shadow root it shares with the loader's banner.
    pub root: NodeRef,
}

/// The element to focus for `focus`. `back` is what had the focus when the settings
/// opened; if that is gone (the loader's banner after a choice), this banner, else the
/// floating button.
pub fn target(focus: Focus, refs: &Refs, back: &mut Option<HtmlElement>) -> Option<HtmlElement> {
    match focus {
        Focus::Banner => refs.banner.cast::<HtmlElement>(),
        Focus::Modal => refs.modal.cast::<HtmlElement>(),
        Focus::Back => back
            .take()
            .filter(|e| e.is_connected())
            .or_else(|| refs.banner.cast::<HtmlElement>())
            .or_else(floating_button),
        Focus::Age => refs
            .modal
            .cast::<Element>()
            .or_else(|| refs.banner.cast::<Element>())
            .and_then(|m| m.query_selector("fieldset input").ok().flatten())
            .and_then(|e| e.dyn_into().ok()),
        Focus::Kind => in_modal(refs, "fieldset.kind input"),
        Focus::Filing => in_modal(refs, "[data-filing]"),
    }
}

/// The first element matching `css` in the settings dialog.
fn in_modal(refs: &Refs, css: &str) -> Option<HtmlElement> {
    refs.modal
        .cast::<Element>()?
        .query_selector(css)
        .ok()??
        .dyn_into()
        .ok()
}

/// Makes the loader's banner, beside this component in the shadow root, inert while the
/// settings are open (as this component's own banner is).
pub fn loader_banner_inert(root: &NodeRef, inert: bool) {
    let banner = root
        .cast::<Element>()
        .and_then(|r| r.get_root_node().dyn_into::<web_sys::ShadowRoot>().ok())
        .and_then(|s| s.query_selector(".banner").ok().flatten());
    if let Some(b) = banner {
        let _ = if inert {
            b.set_attribute("inert", "")
        } else {
            b.remove_attribute("inert")
        };
    }
}

/// Keeps Tab and Shift+Tab inside the settings dialog.
pub fn trap(modal: &NodeRef, e: &KeyboardEvent) {
    let Some(modal) = modal.cast::<Element>() else {
        return;
    };
    let Ok(list) = modal.query_selector_all("button,a[href],input,textarea,summary") else {
        return;
    };
    let (Some(first), Some(last)) = (list.get(0), list.get(list.length().saturating_sub(1))) else {
        return;
    };
    let active = modal
        .get_root_node()
        .dyn_into::<web_sys::ShadowRoot>()
        .ok()
        .and_then(|r| r.active_element());
    let at = |n: &web_sys::Node| active.as_ref().is_some_and(|a| a.is_same_node(Some(n)));
    let to = if e.shift_key() && (at(&first) || at(&modal)) {
        Some(last)
    } else if !e.shift_key() && at(&last) {
        Some(first)
    } else {
        None
    };
    if let Some(el) = to.and_then(|n| n.dyn_into::<HtmlElement>().ok()) {
        e.prevent_default();
        let _ = el.focus();
    }
}

/// The loader's floating button (`#yinyom-button`), if it is shown.
fn floating_button() -> Option<HtmlElement> {
    web_sys::window()?
        .document()?
        .get_element_by_id("yinyom-button")?
        .shadow_root()?
        .query_selector("button")
        .ok()??
        .dyn_into()
        .ok()
}

/// The focused element, looking into shadow roots (the host page's link or the loader's
/// floating button), to give the focus back when the settings close.
pub fn deep_active() -> Option<HtmlElement> {
    let mut el = web_sys::window()?.document()?.active_element()?;
    while let Some(inner) = el.shadow_root().and_then(|s| s.active_element()) {
        el = inner;
    }
    el.dyn_into().ok()
}
