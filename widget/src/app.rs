//! The Yew components.

use crate::{host::Context, i18n::words};
use std::{cell::RefCell, rc::Rc};
use yew::prelude::*;
use yinyom_model::{Lang, receipt::Method};

/// The widget's stylesheet, scoped by the shadow root.
pub const STYLE: &str = include_str!("style.css");

/// Lets the loader reopen the banner after it was closed.
#[derive(Clone, Default)]
pub struct Control(Rc<RefCell<Option<Callback<()>>>>);

impl Control {
    /// Shows the banner.
    pub fn open(&self) {
        if let Some(cb) = self.0.borrow().as_ref() {
            cb.emit(());
        }
    }
}

impl PartialEq for Control {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// Props of [`App`].
#[derive(Properties, PartialEq)]
pub struct AppProps {
    /// The loader's context.
    pub ctx: Rc<Context>,
    /// Reopening from outside.
    pub control: Control,
}

/// The root: shows the banner until the visitor decides.
#[component]
pub fn App(props: &AppProps) -> Html {
    let open = use_state(|| true);
    let lang = use_state(|| props.ctx.lang);
    {
        let open = open.clone();
        *props.control.0.borrow_mut() = Some(Callback::from(move |()| open.set(true)));
    }
    if !*open {
        return html! {};
    }
    let decide = |method: Method| {
        let ctx = props.ctx.clone();
        let open = open.clone();
        let lang = *lang;
        Callback::from(move |_: MouseEvent| {
            ctx.decide_all(method, lang);
            open.set(false);
        })
    };
    let other = if *lang == Lang::Th {
        Lang::En
    } else {
        Lang::Th
    };
    let can_switch = props.ctx.notice.notice.languages.contains(&other);
    let switch = {
        let lang = lang.clone();
        Callback::from(move |_: MouseEvent| lang.set(other))
    };
    let n = &props.ctx.notice.notice;
    let w = words(*lang);
    html! {
        <section class="banner" role="region" aria-label={w.banner_label} aria-labelledby="yy-title" lang={lang.code()}>
            <div class="head">
                <h2 id="yy-title">{ n.title.get(*lang) }</h2>
                if can_switch {
                    <button type="button" class="lang" lang={other.code()} onclick={switch}>{ w.switch_lang }</button>
                }
            </div>
            <p id="yy-summary">{ n.summary.get(*lang) }</p>
            <p><a href={props.ctx.notice_url.clone()} target="_blank" rel="noopener">{ w.read_notice }</a></p>
            <div class="actions">
                <button type="button" class="choice" data-action="reject-all" onclick={decide(Method::RejectAll)}>{ w.reject_all }</button>
                <button type="button" class="choice" data-action="accept-all" onclick={decide(Method::AcceptAll)}>{ w.accept_all }</button>
            </div>
        </section>
    }
}
