//! The Yew UI: one component, [`App`], with three layers:
//!
//! - the **banner** (first layer, a non-modal dialog): title, summary, the full notice,
//!   Reject all / Choose / Accept all with the same look, language switch, the age question.
//!   Only in minors mode: on other sites the loader draws the banner itself
//!   (`widget/js/loader.js`, `banner`) and the widget opens straight into a tab of the
//!   settings, making the loader's banner inert while they are open;
//! - the **settings** modal (`aria-modal`, focus trapped, Esc closes, focus returns) with
//!   three tabs: *Choices* (a toggle per optional category and consent purpose, unticked;
//!   necessary categories always on; purposes on other legal bases listed as notice),
//!   *Full notice* (the server's sanitized notice page) and *My consent* (current choice,
//!   receipt id, receipt history and download, Withdraw all, the visitor's rights);
//! - a polite status region that says what just happened.
//!
//! One struct component with plain view functions keeps the wasm small.

use crate::{
    host::{Choices, Context, Minors, is_sharing},
    i18n::{Words, event_word, list, words},
    js,
};
use std::{cell::RefCell, rc::Rc};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, HtmlElement, KeyboardEvent};
use yew::prelude::*;
use yinyom_model::{
    Lang, Text,
    receipt::{AgeBand, Method},
    site::{LegalBasis, MinorsPolicy},
};

/// The widget's stylesheet, scoped by the shadow root: what it shares with the loader's
/// banner (`widget/js/banner.css`: theme variables, dialog surfaces, buttons), then its own.
pub const STYLE: &str = concat!(include_str!("../js/banner.css"), include_str!("style.css"));

/// What the loader can ask of a mounted widget.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    /// Open the settings on a tab (`yinyom.open()`, `data-yinyom-open`, the floating
    /// button, the loader's banner).
    Open(Tab),
    /// Withdraw everything (`yinyom.withdraw()`).
    Withdraw,
    /// Allow one category (an iframe placeholder's "always allow").
    Allow(String),
}

/// The loader's handle on the mounted component. Commands sent before the component
/// exists (Yew creates it on its scheduler) wait for it.
#[derive(Clone, Default)]
pub struct Control(Rc<RefCell<Connection>>);

/// The component's callback, once it exists, and the commands waiting for it.
type Connection = (Option<Callback<Cmd>>, Vec<Cmd>);

impl Control {
    /// Sends `cmd` to the component.
    pub fn send(&self, cmd: Cmd) {
        let cb = self.0.borrow().0.clone();
        match cb {
            Some(cb) => cb.emit(cmd),
            None => self.0.borrow_mut().1.push(cmd),
        }
    }

    fn connect(&self, cb: Callback<Cmd>) {
        let pending = {
            let mut c = self.0.borrow_mut();
            c.0 = Some(cb.clone());
            std::mem::take(&mut c.1)
        };
        for cmd in pending {
            cb.emit(cmd);
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
    /// Commands from outside.
    pub control: Control,
}

/// A tab of the settings modal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Per-category and per-purpose toggles.
    Choices,
    /// The full notice.
    Notice,
    /// My consent.
    Mine,
}

#[doc(hidden)]
pub enum Msg {
    Decide(Method),
    Open(Tab),
    Close,
    ToggleCategory(usize),
    TogglePurpose(usize),
    Lang,
    Age(AgeBand),
    Guardian,
    NoticeLoaded(Lang, Option<String>),
    HistoryLoaded(Option<History>),
    Cmd(Cmd),
}

#[doc(hidden)]
pub struct History {
    rows: Vec<JsValue>,
    download: String,
}

enum Focus {
    Banner,
    Modal,
    Back,
    Age,
}

/// The widget.
pub struct App {
    banner: bool,
    modal: Option<Tab>,
    lang: Lang,
    choices: Choices,
    minors: Minors,
    error: Option<&'static str>,
    status: &'static str,
    notice: Option<(Lang, Option<String>)>,
    history: Option<Option<History>>,
    focus: Option<Focus>,
    back: Option<HtmlElement>,
    banner_ref: NodeRef,
    modal_ref: NodeRef,
    root_ref: NodeRef,
}

impl Component for App {
    type Message = Msg;
    type Properties = AppProps;

    fn create(ctx: &yew::Context<Self>) -> Self {
        let p = ctx.props();
        p.control.connect(ctx.link().callback(Msg::Cmd));
        let banner = p.ctx.banner && p.ctx.current().is_none();
        Self {
            banner,
            modal: None,
            lang: p.ctx.lang,
            choices: p.ctx.initial(),
            minors: p.ctx.last_minors(),
            error: None,
            status: "",
            notice: None,
            history: None,
            focus: banner.then_some(Focus::Banner),
            back: None,
            banner_ref: NodeRef::default(),
            modal_ref: NodeRef::default(),
            root_ref: NodeRef::default(),
        }
    }

    fn update(&mut self, ctx: &yew::Context<Self>, msg: Msg) -> bool {
        let c = ctx.props().ctx.clone();
        match msg {
            Msg::Decide(method) => {
                let choices = match method {
                    Method::AcceptAll => c.all(true),
                    Method::SavePreferences => self.choices.clone(),
                    _ => c.all(false),
                };
                self.decide(&c, method, choices);
            }
            Msg::Open(tab) => {
                if self.modal.is_none() {
                    self.back = deep_active();
                    self.focus = Some(Focus::Modal);
                    if !self.banner {
                        self.choices = c.initial();
                    }
                }
                self.modal = Some(tab);
                self.load(ctx);
            }
            Msg::Close => {
                self.modal = None;
                self.error = None;
                self.focus = Some(Focus::Back);
            }
            Msg::ToggleCategory(i) => {
                if let Some((_, g)) = self.choices.categories.get_mut(i) {
                    *g = !*g;
                }
            }
            Msg::TogglePurpose(i) => {
                if let Some((_, g)) = self.choices.purposes.get_mut(i) {
                    *g = !*g;
                }
            }
            Msg::Lang => {
                self.lang = if self.lang == Lang::Th {
                    Lang::En
                } else {
                    Lang::Th
                };
                c.set_lang(self.lang);
                self.load(ctx);
            }
            Msg::Age(band) => {
                self.minors.age = Some(band);
                self.error = None;
            }
            Msg::Guardian => {
                self.minors.guardian = !self.minors.guardian;
                self.error = None;
            }
            Msg::NoticeLoaded(lang, html) => self.notice = Some((lang, html)),
            Msg::HistoryLoaded(h) => self.history = Some(h),
            Msg::Cmd(Cmd::Open(tab)) => {
                return <Self as Component>::update(self, ctx, Msg::Open(tab));
            }
            Msg::Cmd(Cmd::Withdraw) => {
                return <Self as Component>::update(self, ctx, Msg::Decide(Method::Withdraw));
            }
            Msg::Cmd(Cmd::Allow(cat)) => {
                let mut choices = c.initial();
                for (id, g) in &mut choices.categories {
                    *g |= id.as_str() == cat;
                }
                if c.notice.minors == MinorsPolicy::AskAge && self.minors.age.is_none() {
                    self.choices = choices;
                    return <Self as Component>::update(self, ctx, Msg::Open(Tab::Choices));
                }
                self.decide(&c, Method::SavePreferences, choices);
            }
        }
        true
    }

    fn rendered(&mut self, _ctx: &yew::Context<Self>, _first: bool) {
        // The loader's banner, beside this component in the shadow root, is inert while
        // the settings are open (as this component's own banner is).
        if !self.banner
            && let Some(b) = self
                .root_ref
                .cast::<Element>()
                .and_then(|r| r.get_root_node().dyn_into::<web_sys::ShadowRoot>().ok())
                .and_then(|s| s.query_selector(".banner").ok().flatten())
        {
            let _ = if self.modal.is_some() {
                b.set_attribute("inert", "")
            } else {
                b.remove_attribute("inert")
            };
        }
        let target = match self.focus.take() {
            Some(Focus::Banner) => self.banner_ref.cast::<HtmlElement>(),
            Some(Focus::Modal) => self.modal_ref.cast::<HtmlElement>(),
            // Where the settings were opened from; if that is gone (the loader's banner
            // after a choice), this banner, else the floating button: never <body>.
            Some(Focus::Back) => self
                .back
                .take()
                .filter(|e| e.is_connected())
                .or_else(|| self.banner_ref.cast::<HtmlElement>())
                .or_else(floating_button),
            Some(Focus::Age) => self
                .modal_ref
                .cast::<Element>()
                .or_else(|| self.banner_ref.cast::<Element>())
                .and_then(|m| m.query_selector("fieldset input").ok().flatten())
                .and_then(|e| e.dyn_into().ok()),
            None => None,
        };
        if let Some(t) = target {
            let _ = t.focus();
        }
    }

    fn view(&self, ctx: &yew::Context<Self>) -> Html {
        let c = &ctx.props().ctx;
        let w = words(self.lang);
        let theme = match c.theme.as_str() {
            "dark" => "root dark",
            "light" => "root light",
            _ => "root auto",
        };
        html! {
            <div class={theme} lang={self.lang.code()} ref={self.root_ref.clone()}>
                if self.banner { { self.banner_view(ctx, w) } }
                if let Some(tab) = self.modal { { self.modal_view(ctx, w, tab) } }
                <div class="sr" role="status">{ self.status }</div>
            </div>
        }
    }
}

impl App {
    fn decide(&mut self, c: &Context, method: Method, choices: Choices) {
        let minors = if method == Method::Withdraw && self.minors.age.is_none() {
            c.last_minors()
        } else {
            self.minors
        };
        // PDPA s.20 governs giving consent: refusing needs no age and no guardian.
        if c.notice.minors.asks_age(choices.grants_anything()) {
            let error = match minors.age {
                None => Some(words(self.lang).age_missing),
                Some(a) if a.needs_guardian() && !minors.guardian => {
                    Some(words(self.lang).guardian_missing)
                }
                _ => None,
            };
            if error.is_some() {
                self.error = error;
                self.focus = Some(Focus::Age);
                return;
            }
        }
        c.decide(method, self.lang, &choices, minors);
        self.choices = choices;
        self.banner = false;
        self.modal = None;
        self.error = None;
        self.history = None;
        let w = words(self.lang);
        self.status = if method == Method::Withdraw {
            w.withdrawn
        } else {
            w.saved
        };
        self.focus = Some(Focus::Back);
    }

    /// Whether the current choice grants any optional category or consent purpose: only
    /// then is there something to withdraw.
    fn something_granted(&self, c: &Context) -> bool {
        c.current().is_some_and(|cur| {
            !cur.granted.is_empty() || {
                let purposes = js::get(&c.last_choice(), "purposes");
                c.notice
                    .consent_purposes()
                    .any(|p| js::get(&purposes, p.id.as_str()).is_truthy())
            }
        })
    }

    /// Starts the fetch the open tab needs.
    fn load(&mut self, ctx: &yew::Context<Self>) {
        let c = ctx.props().ctx.clone();
        let link = ctx.link().clone();
        match self.modal {
            Some(Tab::Notice) if self.notice.as_ref().is_none_or(|(l, _)| *l != self.lang) => {
                let lang = self.lang;
                self.notice = None;
                wasm_bindgen_futures::spawn_local(async move {
                    let url = format!("{}?lang={}", c.notice_url, lang.code());
                    let page = c.fetch_text(&url).await;
                    let origin = c.notice_url.split("/sites/").next().unwrap_or_default();
                    let body = page.map(|p| notice_body(&p, origin));
                    link.send_message(Msg::NoticeLoaded(lang, body));
                });
            }
            Some(Tab::Mine) if self.history.is_none() => {
                wasm_bindgen_futures::spawn_local(async move {
                    let url = format!("{}/subjects/{}/receipts", c.api, c.subject());
                    let from_server = c
                        .fetch_text(&url)
                        .await
                        .and_then(|t| js_sys::JSON::parse(&t).ok())
                        .filter(js_sys::Array::is_array);
                    let list = match from_server {
                        Some(l) => js_sys::Array::from(&l),
                        None => {
                            let local = js_sys::Array::from(&c.local_receipts());
                            local.reverse();
                            local
                        }
                    };
                    let json = js_sys::JSON::stringify_with_replacer_and_space(
                        &list,
                        &JsValue::NULL,
                        &JsValue::from_f64(2.0),
                    )
                    .ok()
                    .and_then(|s| s.as_string())
                    .unwrap_or_default();
                    let download = format!(
                        "data:application/json;charset=utf-8,{}",
                        String::from(js_sys::encode_uri_component(&json))
                    );
                    link.send_message(Msg::HistoryLoaded(Some(History {
                        rows: list.iter().collect(),
                        download,
                    })));
                });
            }
            _ => {}
        }
    }

    fn lang_button(&self, ctx: &yew::Context<Self>, w: &Words) -> Html {
        let other = if self.lang == Lang::Th {
            Lang::En
        } else {
            Lang::Th
        };
        if !ctx.props().ctx.notice.languages.contains(&other) {
            return html! {};
        }
        html! {
            <button type="button" class="lang" lang={other.code()} data-action="lang"
                onclick={ctx.link().callback(|_| Msg::Lang)}>{ w.switch_lang }</button>
        }
    }

    fn actions(&self, ctx: &yew::Context<Self>, w: &Words, middle: Html) -> Html {
        let decide = |m: Method| ctx.link().callback(move |_| Msg::Decide(m));
        html! {
            <div class="actions">
                <button type="button" class="choice" data-action="reject-all" onclick={decide(Method::RejectAll)}>{ w.reject_all }</button>
                { middle }
                <button type="button" class="choice" data-action="accept-all" onclick={decide(Method::AcceptAll)}>{ w.accept_all }</button>
            </div>
        }
    }

    fn banner_view(&self, ctx: &yew::Context<Self>, w: &Words) -> Html {
        let c = &ctx.props().ctx;
        let n = &c.notice;
        let l = self.lang;
        let pos = &c.position;
        let class = format!(
            "banner {} {}",
            if pos.contains("top") { "top" } else { "bottom" },
            if pos.contains("left") {
                "left"
            } else if pos.contains("right") {
                "right"
            } else {
                ""
            }
        );
        let choose = html! {
            <button type="button" class="choice" data-action="choose"
                onclick={ctx.link().callback(|_| Msg::Open(Tab::Choices))}>{ w.choose }</button>
        };
        html! {
            <section {class} role="dialog" aria-modal="false" aria-labelledby="yy-title"
                aria-describedby="yy-summary" tabindex="-1" ref={self.banner_ref.clone()}
                inert={self.modal.is_some()}>
                <div class="head">
                    <h2 id="yy-title">{ n.title.get(l) }</h2>
                    { self.lang_button(ctx, w) }
                </div>
                <p id="yy-summary">{ n.summary.get(l) }</p>
                { gpc_note(c, w, l) }
                if n.minors == MinorsPolicy::AskAge && self.modal.is_none() { { self.minors_view(ctx, w, "b") } }
                <p><button type="button" class="link" data-action="notice"
                    onclick={ctx.link().callback(|_| Msg::Open(Tab::Notice))}>{ w.read_notice }</button></p>
                { self.actions(ctx, w, choose) }
            </section>
        }
    }

    fn minors_view(&self, ctx: &yew::Context<Self>, w: &Words, id: &str) -> Html {
        let bands = [AgeBand::Under10, AgeBand::From10To19, AgeBand::Adult];
        let error_id = format!("yy-{id}-err");
        html! {
            <fieldset class="age" aria-describedby={self.error.map(|_| error_id.clone())}>
                <legend>{ w.age_question }</legend>
                { for bands.iter().zip(w.age_bands).map(|(b, label)| {
                    let b = *b;
                    html! {
                        <label class="radio">
                            <input type="radio" name={format!("yy-{id}-age")} checked={self.minors.age == Some(b)}
                                onchange={ctx.link().callback(move |_| Msg::Age(b))} />
                            { label }
                        </label>
                    }
                }) }
                if self.minors.age.is_some_and(AgeBand::needs_guardian) {
                    <label class="radio">
                        <input type="checkbox" data-guardian="" checked={self.minors.guardian}
                            onchange={ctx.link().callback(|_| Msg::Guardian)} />
                        { w.guardian }
                    </label>
                }
                if let Some(e) = self.error { <p class="error" id={error_id} role="alert">{ e }</p> }
            </fieldset>
        }
    }

    fn modal_view(&self, ctx: &yew::Context<Self>, w: &Words, tab: Tab) -> Html {
        let link = ctx.link();
        let tab_button = |t: Tab, label: &'static str, action: &'static str| {
            html! {
                <button type="button" class="tab" data-action={action}
                    aria-current={(t == tab).then_some("true")}
                    onclick={link.callback(move |_| Msg::Open(t))}>{ label }</button>
            }
        };
        let body = match tab {
            Tab::Choices => self.choices_view(ctx, w),
            Tab::Notice => self.notice_view(ctx, w),
            Tab::Mine => self.mine_view(ctx, w),
        };
        // Synchronous, so Tab's default move can still be prevented.
        let keys = {
            let modal = self.modal_ref.clone();
            let link = link.clone();
            Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
                "Escape" => {
                    e.prevent_default();
                    link.send_message(Msg::Close);
                }
                "Tab" => trap(&modal, &e),
                _ => {}
            })
        };
        let save = html! {
            <button type="button" class="choice" data-action="save"
                onclick={link.callback(|_| Msg::Decide(Method::SavePreferences))}>{ w.save }</button>
        };
        html! {
            <div class="backdrop">
                <div class="modal" role="dialog" aria-modal="true" aria-labelledby="yy-mtitle"
                    tabindex="-1" ref={self.modal_ref.clone()}
                    onkeydown={keys}>
                    <div class="head">
                        <h2 id="yy-mtitle">{ w.settings }</h2>
                        <div class="tools">
                            { self.lang_button(ctx, w) }
                            <button type="button" class="lang" data-action="close"
                                onclick={link.callback(|_| Msg::Close)}>{ w.close }</button>
                        </div>
                    </div>
                    <nav class="tabs" aria-label={w.settings}>
                        { tab_button(Tab::Choices, w.tab_choices, "tab-choices") }
                        { tab_button(Tab::Notice, w.tab_notice, "tab-notice") }
                        { tab_button(Tab::Mine, w.tab_mine, "tab-mine") }
                    </nav>
                    <div class="body">{ body }</div>
                    if tab == Tab::Choices { { self.actions(ctx, w, save) } }
                </div>
            </div>
        }
    }

    fn choices_view(&self, ctx: &yew::Context<Self>, w: &Words) -> Html {
        let c = &ctx.props().ctx;
        let n = &c.notice;
        let l = self.lang;
        let link = ctx.link();
        let mut optional = 0;
        let categories = n.categories.iter().map(|cat| {
            let id = cat.id.as_str();
            let desc_id = format!("yy-cd-{id}");
            let head = if cat.required {
                html! {
                    <div class="row">
                        <h4>{ cat.title.get(l) }</h4>
                        <span class="badge">{ w.always_on }</span>
                    </div>
                }
            } else {
                let i = optional;
                optional += 1;
                let on = self.choices.categories.get(i).is_some_and(|(_, g)| *g);
                toggle(format!("yy-c-{id}"), cat.title.get(l), on, &desc_id,
                    link.callback(move |_| Msg::ToggleCategory(i)))
            };
            html! {
                <div class="item" data-category={id.to_owned()}>
                    { head }
                    <p id={desc_id}>{ cat.description.get(l) }</p>
                    if cat.required { <p class="muted">{ w.necessary_basis }</p> }
                    if !cat.cookies.is_empty() {
                        <details>
                            <summary>{ format!("{} ({})", w.cookie_list, cat.cookies.len()) }</summary>
                            <table>
                                <thead><tr>
                                    <th scope="col">{ w.col_name }</th><th scope="col">{ w.col_provider }</th>
                                    <th scope="col">{ w.col_duration }</th><th scope="col">{ w.col_purpose }</th>
                                </tr></thead>
                                <tbody>
                                    { for cat.cookies.iter().map(|k| html! {
                                        <tr><td><code>{ &k.name }</code></td><td>{ k.provider.get(l) }</td>
                                        <td>{ k.duration.get(l) }</td><td>{ k.purpose.get(l) }</td></tr>
                                    }) }
                                </tbody>
                            </table>
                        </details>
                    }
                </div>
            }
        }).collect::<Html>();
        let purposes = n.consent_purposes().enumerate().map(|(i, p)| {
            let id = p.id.as_str();
            let desc_id = format!("yy-pd-{id}");
            let on = self.choices.purposes.get(i).is_some_and(|(_, g)| *g);
            html! {
                <div class="item" data-purpose={id.to_owned()}>
                    { toggle(format!("yy-p-{id}"), p.title.get(l), on, &desc_id, link.callback(move |_| Msg::TogglePurpose(i))) }
                    <p id={desc_id}>{ p.description.get(l) }</p>
                    { facts(w, l, None, &p.data, &p.retention, &p.recipients) }
                </div>
            }
        }).collect::<Html>();
        let notices = n
            .purposes
            .iter()
            .filter(|p| p.legal_basis != LegalBasis::Consent)
            .map(|p| {
                html! {
                    <div class="item">
                        <h4>{ p.title.get(l) }</h4>
                        <p>{ p.description.get(l) }</p>
                        { facts(w, l, Some(p.legal_basis), &p.data, &p.retention, &p.recipients) }
                    </div>
                }
            })
            .collect::<Vec<Html>>();
        html! {
            <>
                <p>{ w.choices_intro }</p>
                { gpc_note(c, w, l) }
                if n.minors == MinorsPolicy::AskAge { { self.minors_view(ctx, w, "m") } }
                <h3>{ w.cookies }</h3>
                { categories }
                if n.consent_purposes().next().is_some() {
                    <h3>{ w.consent_purposes }</h3>
                    { purposes }
                }
                if !notices.is_empty() {
                    <h3>{ w.notice_purposes }</h3>
                    <p class="muted">{ w.notice_purposes_intro }</p>
                    { for notices }
                }
            </>
        }
    }

    fn notice_view(&self, ctx: &yew::Context<Self>, w: &Words) -> Html {
        let c = &ctx.props().ctx;
        let page = format!("{}?lang={}", c.notice_url, self.lang.code());
        let body = match &self.notice {
            Some((l, Some(html))) if *l == self.lang => html! {
                <div class="notice">{ Html::from_html_unchecked(AttrValue::from(html.clone())) }</div>
            },
            Some((l, None)) if *l == self.lang => html! { <p role="alert">{ w.load_failed }</p> },
            _ => html! { <p>{ w.loading }</p> },
        };
        html! {
            <>
                { body }
                <p><a href={page} target="_blank" rel="noopener">{ w.open_page }</a></p>
            </>
        }
    }

    fn mine_view(&self, ctx: &yew::Context<Self>, w: &Words) -> Html {
        let c = &ctx.props().ctx;
        let n = &c.notice;
        let l = self.lang;
        let current = match c.current() {
            None => html! { <p>{ w.no_choice }</p> },
            Some(cur) => {
                let last = c.last_choice();
                let purposes = js::get(&last, "purposes");
                html! {
                    <>
                        <dl class="facts" data-current="">
                            { for n.optional_categories().map(|cat| {
                                let on = cur.granted.iter().any(|g| g == cat.id.as_str());
                                html! { <><dt>{ cat.title.get(l) }</dt><dd>{ if on { w.granted } else { w.denied } }</dd></> }
                            }) }
                            { for n.consent_purposes().map(|p| {
                                let on = js::get(&purposes, p.id.as_str()).is_truthy();
                                html! { <><dt>{ p.title.get(l) }</dt><dd>{ if on { w.granted } else { w.denied } }</dd></> }
                            }) }
                            <dt>{ w.chosen_at }</dt><dd>{ date(&JsValue::from_f64(cur.at * 1000.0), l) }</dd>
                            <dt>{ w.receipt_id }</dt>
                            <dd data-receipt={cur.receipt_id.clone()}>{
                                match &cur.receipt_id {
                                    Some(id) => html! { <code>{ id }</code> },
                                    None => html! { { w.pending } },
                                }
                            }</dd>
                        </dl>
                    </>
                }
            }
        };
        let history = match &self.history {
            None => html! { <p>{ w.loading }</p> },
            Some(None) => html! { <p>{ w.load_failed }</p> },
            Some(Some(h)) if h.rows.is_empty() => html! { <p data-empty="">{ w.no_history }</p> },
            Some(Some(h)) => html! {
                <>
                    <ul class="history">
                        { for h.rows.iter().map(|r| {
                            let receipt = js::get(r, "receipt");
                            let event = js::string(&receipt, "event");
                            html! {
                                <li>
                                    { date(&js::get(&receipt, "issued_at"), l) }{ " · " }
                                    { event_word(w, &event) }{ " · " }
                                    <code>{ js::string(&receipt, "receipt_id") }</code>
                                </li>
                            }
                        }) }
                    </ul>
                    <p><a href={h.download.clone()} data-action="download"
                        download={format!("yinyom-{}-receipts.json", n.site)}>{ w.download }</a></p>
                </>
            },
        };
        html! {
            <>
                <h3>{ w.current }</h3>
                { current }
                <h3>{ w.history }</h3>
                { history }
                if self.something_granted(c) {
                    <div class="actions">
                        <button type="button" class="choice" data-action="withdraw"
                            onclick={ctx.link().callback(|_| Msg::Decide(Method::Withdraw))}>{ w.withdraw }</button>
                    </div>
                    <p class="muted">{ w.withdraw_note }</p>
                } else if c.current().is_some() {
                    <p data-nothing-to-withdraw="">{ w.nothing_to_withdraw }</p>
                }
                <h3>{ w.rights }</h3>
                <ul>{ for w.rights_list.iter().map(|r| html! { <li>{ *r }</li> }) }</ul>
                <p>{ w.rights_how }{ " " }<a href={format!("mailto:{}", n.dpo.email)}>{ &n.dpo.email }</a></p>
            </>
        }
    }
}

/// The Global Privacy Control note, naming the categories it keeps off on this site; none
/// when the browser does not send it or the site has no such category.
fn gpc_note(c: &Context, w: &Words, l: Lang) -> Html {
    let off: Vec<String> = c
        .notice
        .optional_categories()
        .filter(|cat| is_sharing(cat))
        .map(|cat| format!("\u{201c}{}\u{201d}", cat.title.get(l)))
        .collect();
    if !c.gpc || off.is_empty() {
        return html! {};
    }
    let off: Vec<&str> = off.iter().map(String::as_str).collect();
    html! { <p class="note" data-gpc="">{ w.gpc_note.replace("%s", &list(w, &off)) }</p> }
}

/// Keeps Tab and Shift+Tab inside the settings dialog.
fn trap(modal: &NodeRef, e: &KeyboardEvent) {
    let Some(modal) = modal.cast::<Element>() else {
        return;
    };
    let Ok(list) = modal.query_selector_all("button,a[href],input,summary") else {
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

fn toggle(
    id: String,
    label: &str,
    on: bool,
    described_by: &str,
    onchange: Callback<Event>,
) -> Html {
    html! {
        <div class="row">
            <input type="checkbox" role="switch" id={id.clone()} checked={on}
                aria-describedby={described_by.to_owned()} {onchange} />
            <label for={id}>{ label }</label>
        </div>
    }
}

fn facts(
    w: &Words,
    l: Lang,
    basis: Option<LegalBasis>,
    data: &[Text],
    retention: &Text,
    recipients: &[Text],
) -> Html {
    let join = |t: &[Text]| t.iter().map(|x| x.get(l)).collect::<Vec<_>>().join(", ");
    html! {
        <dl class="facts">
            if let Some(b) = basis { <dt>{ w.basis }</dt><dd>{ b.label(l) }</dd> }
            if !data.is_empty() { <dt>{ w.data }</dt><dd>{ join(data) }</dd> }
            <dt>{ w.retention }</dt><dd>{ retention.get(l) }</dd>
            if !recipients.is_empty() { <dt>{ w.recipients }</dt><dd>{ join(recipients) }</dd> }
        </dl>
    }
}

/// A date (a JS time value or a date string) in the visitor's language, in Thailand time:
/// "3 ธันวาคม 2569 เวลา 13:00" (the Buddhist era) or "3 December 2026 at 13:00".
fn date(v: &JsValue, l: Lang) -> String {
    let d = js_sys::Date::new(v);
    let options = js_sys::Object::new();
    for (k, v) in [
        ("dateStyle", "long"),
        ("timeStyle", "short"),
        ("timeZone", "Asia/Bangkok"),
    ] {
        let _ = js_sys::Reflect::set(&options, &k.into(), &v.into());
    }
    String::from(d.to_locale_string(if l == Lang::Th { "th-TH" } else { "en-GB" }, &options))
}

/// The inside of the notice page's `<main>`, without its own language link, with its
/// links pointed at the consent server and opened in a new tab. The page is rendered and
/// sanitized by the server (`server/src/render.rs`).
pub fn notice_body(page: &str, origin: &str) -> String {
    let start = page.find("<main>").map_or(0, |i| i + 6);
    let end = page
        .rfind("</main>")
        .filter(|e| *e >= start)
        .unwrap_or(page.len());
    let mut body = page.get(start..end).unwrap_or_default().to_owned();
    if let Some(i) = body.find("<p class=\"lang\">")
        && let Some(j) = body[i..].find("</p>")
    {
        body.replace_range(i..i + j + 4, "");
    }
    body.replace(
        "<a href=\"/",
        &format!("<a target=\"_blank\" rel=\"noopener\" href=\"{origin}/"),
    )
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
/// floating button), to give focus back when the settings close.
fn deep_active() -> Option<HtmlElement> {
    let mut el = web_sys::window()?.document()?.active_element()?;
    while let Some(inner) = el.shadow_root().and_then(|s| s.active_element()) {
        el = inner;
    }
    el.dyn_into().ok()
}
