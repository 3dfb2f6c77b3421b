//! The Yew UI: one component, [`App`], with three layers:
//!
//! - the **banner** (first layer, a non-modal dialog): title, summary, the full notice,
//!   Reject all / Choose / Accept all with the same look, language switch, the age question.
//!   Only in minors mode: on other sites the loader draws the banner itself
//!   (`widget/js/loader.js`, `showBanner`) and the widget opens straight into a tab of the
//!   settings, making the loader's banner inert while they are open;
//! - the **settings** modal (`aria-modal`, focus trapped, Esc closes, focus returns) with
//!   three tabs: *Choices* (a toggle per optional category and consent purpose, unticked;
//!   necessary categories always on; purposes on other legal bases listed as notice),
//!   *Full notice* (the server's sanitized notice page) and *My consent* (current choice,
//!   receipt id, receipt history and download, Withdraw all, the visitor's rights);
//! - a polite status region that says what just happened.
//!
//! The state and its changes are `state.rs` (a pure reducer, tested natively); the views,
//! one module per screen, `views/`; focus handling `focus.rs`. This component ties them
//! together and does the effects: it hands choices to the loader, fetches what a tab shows
//! and moves the focus after a render. One struct component with plain view functions
//! keeps the wasm small.

use crate::{
    focus::{self, Refs},
    held::{self, Held},
    host::{self, Choices, Context},
    i18n::words,
    js,
    state::{Action, Filed, Filing, History, State},
    views::{self, Screen},
};
use std::{cell::RefCell, rc::Rc};
use wasm_bindgen::JsValue;
use web_sys::HtmlElement;
use yew::prelude::*;
use yinyom_model::{receipt::Method, site::MinorsPolicy};

pub use crate::state::Tab;

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

#[doc(hidden)]
pub enum Msg {
    /// A change of state and nothing else.
    State(Action),
    /// Record a choice made this way.
    Decide(Method),
    /// Open the settings on a tab (and fetch what it shows).
    Open(Tab),
    /// Switch language (the loader remembers it).
    Lang,
    /// A command from the loader.
    Cmd(Cmd),
    /// Send the data-subject request form.
    File,
}

/// The widget.
pub struct App {
    state: Rc<State>,
    /// What had the focus when the settings opened.
    back: Option<HtmlElement>,
    refs: Refs,
}

impl Component for App {
    type Message = Msg;
    type Properties = AppProps;

    fn create(ctx: &yew::Context<Self>) -> Self {
        let p = ctx.props();
        p.control.connect(ctx.link().callback(Msg::Cmd));
        let c = &p.ctx;
        let banner = c.banner && c.current().is_none();
        Self {
            state: Rc::new(State::new(banner, c.lang, c.initial(), c.last_minors())),
            back: None,
            refs: Refs::default(),
        }
    }

    fn update(&mut self, ctx: &yew::Context<Self>, msg: Msg) -> bool {
        let c = ctx.props().ctx.clone();
        match msg {
            Msg::State(action) => self.dispatch(action),
            Msg::Decide(method) => {
                let choices = match method {
                    Method::AcceptAll => c.all(true),
                    Method::SavePreferences => self.state.choices.clone(),
                    Method::Withdraw => c.withdrawal(),
                    _ => c.all(false),
                };
                self.decide(&c, method, choices);
            }
            Msg::Open(tab) | Msg::Cmd(Cmd::Open(tab)) => self.open(ctx, tab),
            Msg::Lang => {
                self.dispatch(Action::SwitchLang);
                c.set_lang(self.state.lang);
                self.load(ctx);
            }
            Msg::Cmd(Cmd::Withdraw) => self.decide(&c, Method::Withdraw, c.withdrawal()),
            Msg::File => self.file(ctx),
            Msg::Cmd(Cmd::Allow(cat)) => {
                let mut choices = c.initial();
                for (id, g) in &mut choices.categories {
                    *g |= id.as_str() == cat;
                }
                if c.notice.minors == MinorsPolicy::AskAge && self.state.minors.age.is_none() {
                    self.dispatch(Action::SetChoices(choices));
                    self.open(ctx, Tab::Choices);
                } else {
                    self.decide(&c, Method::SavePreferences, choices);
                }
            }
        }
        true
    }

    fn rendered(&mut self, _ctx: &yew::Context<Self>, _first: bool) {
        if !self.state.banner {
            focus::loader_banner_inert(&self.refs.root, self.state.modal.is_some());
        }
        let wanted = Rc::make_mut(&mut self.state).focus.take();
        if let Some(target) = wanted.and_then(|f| focus::target(f, &self.refs, &mut self.back)) {
            let _ = target.focus();
        }
    }

    fn view(&self, ctx: &yew::Context<Self>) -> Html {
        let c = &ctx.props().ctx;
        let s = &self.state;
        let w = words(s.lang);
        let screen = Screen {
            state: s,
            ctx: c,
            link: ctx.link(),
            words: w,
            refs: &self.refs,
        };
        let theme = match c.theme.as_str() {
            "dark" => "root dark",
            "light" => "root light",
            _ => "root auto",
        };
        let status = match s.status {
            Some(Method::Withdraw) => w.withdrawn,
            Some(_) => w.saved,
            None => "",
        };
        html! {
            <div class={theme} lang={s.lang.code()} ref={self.refs.root.clone()}>
                if s.banner { { views::banner::view(&screen) } }
                if let Some(tab) = s.modal { { views::settings(&screen, tab) } }
                <div class="sr" role="status">{ status }</div>
            </div>
        }
    }
}

impl App {
    fn dispatch(&mut self, action: Action) {
        self.state = self.state.clone().reduce(action);
    }

    fn open(&mut self, ctx: &yew::Context<Self>, tab: Tab) {
        let closed = self.state.modal.is_none();
        if closed {
            self.back = focus::deep_active();
        }
        // The toggles start from the stored choice only when the settings open without
        // the widget's banner (whose toggles they share).
        let initial = if closed && !self.state.banner {
            ctx.props().ctx.initial()
        } else {
            Choices::default()
        };
        self.dispatch(Action::Open { tab, initial });
        self.load(ctx);
    }

    /// Hands the choice to the loader, unless the age question must be answered first.
    fn decide(&mut self, c: &Context, method: Method, choices: Choices) {
        let minors =
            self.state
                .minors_for(method, choices.grants_anything(), c.notice.minors, || {
                    c.last_minors()
                });
        match minors {
            Err(missing) => self.dispatch(Action::Refused(missing)),
            Ok(minors) => {
                c.decide(method, self.state.lang, &choices, minors);
                self.dispatch(Action::Decided { method, choices });
            }
        }
    }

    /// Starts the fetch the open tab needs.
    fn load(&mut self, ctx: &yew::Context<Self>) {
        let c = ctx.props().ctx.clone();
        let link = ctx.link().clone();
        let s = &self.state;
        match s.modal {
            Some(Tab::Notice) if s.notice.as_ref().is_none_or(|(l, _)| *l != s.lang) => {
                let lang = s.lang;
                self.dispatch(Action::LoadingNotice);
                wasm_bindgen_futures::spawn_local(async move {
                    let url = format!("{}?lang={}", c.notice_url, lang.code());
                    let page = c.fetch_text(&url).await;
                    let origin = c.notice_url.split("/sites/").next().unwrap_or_default();
                    let body = page.map(|p| views::notice::body(&p, origin));
                    link.send_message(Msg::State(Action::NoticeLoaded(lang, body)));
                });
            }
            Some(Tab::Mine) => {
                if s.history.is_none() {
                    let (c, link) = (c.clone(), link.clone());
                    wasm_bindgen_futures::spawn_local(async move {
                        let history = load_history(&c).await;
                        link.send_message(Msg::State(Action::HistoryLoaded(Some(history))));
                    });
                }
                if s.requests.is_none() {
                    wasm_bindgen_futures::spawn_local(async move {
                        let url = format!("{}/subjects/{}/requests", c.api, c.subject());
                        let list = c
                            .fetch_text(&url)
                            .await
                            .and_then(|t| js_sys::JSON::parse(&t).ok())
                            .filter(js_sys::Array::is_array)
                            .map(|l| js_sys::Array::from(&l).iter().map(|r| filed(&r)).collect());
                        link.send_message(Msg::State(Action::RequestsLoaded(list)));
                    });
                }
            }
            _ => {}
        }
    }

    /// Sends the request form, unless it lacks a kind or a request is on its way.
    fn file(&mut self, ctx: &yew::Context<Self>) {
        let busy = self.state.filing == Filing::Sending;
        self.dispatch(Action::Send);
        let form = &self.state.form;
        let (false, Filing::Sending, Some(kind)) = (busy, &self.state.filing, form.kind) else {
            return;
        };
        let c = ctx.props().ctx.clone();
        let link = ctx.link().clone();
        let body = host::request_body(kind, &form.message, &form.contact);
        wasm_bindgen_futures::spawn_local(async move {
            let url = format!("{}/subjects/{}/requests", c.api, c.subject());
            let answer = c
                .post_json(&url, &body)
                .await
                .and_then(|t| js_sys::JSON::parse(&t).ok())
                .map(|v| filed(&v))
                .filter(|f| !f.reference.is_empty());
            link.send_message(Msg::State(Action::Filed(answer)));
        });
    }
}

/// A request as the server answers and lists it (`{reference, kind, received_at, due,
/// status}`).
fn filed(v: &JsValue) -> Filed {
    Filed {
        reference: js::string(v, "reference"),
        kind: js::string(v, "kind"),
        received_at: js::string(v, "received_at"),
        due: js::string(v, "due"),
        status: js::string(v, "status"),
    }
}

/// An entry `{receipt, jws, proof?}` as the widget holds it (none without a receipt id).
fn held_entry(entry: JsValue) -> Option<Held<JsValue>> {
    let id = js::string(&js::get(&entry, "receipt"), "receipt_id");
    (!id.is_empty()).then(|| Held {
        id,
        proof: js::get(&entry, "proof").is_string(),
        entry,
    })
}

/// The visitor's receipts from the server, merged into this browser's copies (which are
/// kept, see `held.rs`); this browser's copies alone when the server cannot be reached.
async fn load_history(c: &Context) -> History {
    let url = format!("{}/subjects/{}/receipts", c.api, c.subject());
    let from_server = c
        .fetch_text(&url)
        .await
        .and_then(|t| js_sys::JSON::parse(&t).ok())
        .filter(js_sys::Array::is_array);
    let local = c.local_receipts();
    let held: Vec<Held<JsValue>> = if js_sys::Array::is_array(&local) {
        js_sys::Array::from(&local)
            .iter()
            .filter_map(held_entry)
            .collect()
    } else {
        Vec::new()
    };
    match from_server {
        Some(list) => {
            let rows: Vec<JsValue> = js_sys::Array::from(&list).iter().collect();
            let server: Vec<Held<JsValue>> = rows.iter().cloned().filter_map(held_entry).collect();
            let merged = held::merge(held, &server);
            let kept: Vec<JsValue> = merged.kept.into_iter().map(|h| h.entry).collect();
            c.keep_receipts(&kept);
            History {
                rows,
                missing: merged.missing.into_iter().map(|h| h.entry).collect(),
                from_server: true,
            }
        }
        None => History {
            rows: held.into_iter().rev().map(|h| h.entry).collect(),
            missing: Vec::new(),
            from_server: false,
        },
    }
}
