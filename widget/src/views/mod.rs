//! What the widget draws, one module per screen: [`banner`] (minors mode), the settings
//! dialog ([`settings`]) with its tabs [`choices`], [`notice`] and [`mine`]. Views are
//! plain functions of the [`Screen`]: they read the state and send messages, nothing else.

pub mod banner;
pub mod choices;
pub mod mine;
pub mod notice;

use crate::{
    app::{App, Msg},
    focus::{self, Refs},
    host::{Context, is_sharing},
    i18n::{Words, list},
    state::{Action, Missing, State, Tab},
};
use wasm_bindgen::JsValue;
use web_sys::KeyboardEvent;
use yew::{html::Scope, prelude::*};
use yinyom_model::{
    Lang, Text,
    receipt::{AgeBand, Method},
    site::LegalBasis,
};

/// What every view reads.
pub struct Screen<'a> {
    /// The state.
    pub state: &'a State,
    /// The loader's context (the notice, GPC, the position…).
    pub ctx: &'a Context,
    /// Sends messages to the component.
    pub link: &'a Scope<App>,
    /// The words in the language shown.
    pub words: &'static Words,
    /// The elements the focus moves between.
    pub refs: &'a Refs,
}

impl Screen<'_> {
    /// A callback sending `action` to the state.
    pub fn on<E>(&self, action: Action) -> Callback<E> {
        self.link.callback(move |_| Msg::State(action.clone()))
    }

    /// What the minors answers lack, in words.
    fn missing(&self) -> Option<&'static str> {
        self.state.missing.map(|m| match m {
            Missing::Age => self.words.age_missing,
            Missing::Guardian => self.words.guardian_missing,
        })
    }
}

/// The switch to the other language, when the notice has it.
pub fn lang_button(s: &Screen<'_>) -> Html {
    let other = match s.state.lang {
        Lang::Th => Lang::En,
        Lang::En => Lang::Th,
    };
    if !s.ctx.notice.languages.contains(&other) {
        return html! {};
    }
    html! {
        <button type="button" class="lang" lang={other.code()} data-action="lang"
            onclick={s.link.callback(|_| Msg::Lang)}>{ s.words.switch_lang }</button>
    }
}

/// Reject all, `middle` (Choose or Save), Accept all: the same look.
pub fn actions(s: &Screen<'_>, middle: Html) -> Html {
    let decide = |m: Method| s.link.callback(move |_| Msg::Decide(m));
    html! {
        <div class="actions">
            <button type="button" class="choice" data-action="reject-all" onclick={decide(Method::RejectAll)}>{ s.words.reject_all }</button>
            { middle }
            <button type="button" class="choice" data-action="accept-all" onclick={decide(Method::AcceptAll)}>{ s.words.accept_all }</button>
        </div>
    }
}

/// The age question (and the guardian's confirmation under 20), with what is missing.
/// `id` keeps the banner's and the settings' radio groups apart.
pub fn minors(s: &Screen<'_>, id: &str) -> Html {
    let error_id = format!("yy-{id}-err");
    let error = s.missing();
    html! {
        <fieldset class="age" aria-describedby={error.map(|_| error_id.clone())}>
            <legend>{ s.words.age_question }</legend>
            { for AgeBand::ALL.iter().zip(s.words.age_bands).map(|(b, label)| {
                let b = *b;
                html! {
                    <label class="radio">
                        <input type="radio" name={format!("yy-{id}-age")} checked={s.state.minors.age == Some(b)}
                            onchange={s.on(Action::Age(b))} />
                        { label }
                    </label>
                }
            }) }
            if s.state.minors.age.is_some_and(AgeBand::needs_guardian) {
                <label class="radio">
                    <input type="checkbox" data-guardian="" checked={s.state.minors.guardian}
                        onchange={s.on(Action::Guardian)} />
                    { s.words.guardian }
                </label>
            }
            if let Some(e) = error { <p class="error" id={error_id} role="alert">{ e }</p> }
        </fieldset>
    }
}

/// The settings dialog (`aria-modal`, focus trapped, Esc closes) on `tab`.
pub fn settings(s: &Screen<'_>, tab: Tab) -> Html {
    let w = s.words;
    let link = s.link;
    let tab_button = |t: Tab, label: &'static str, action: &'static str| {
        html! {
            <button type="button" class="tab" data-action={action}
                aria-current={(t == tab).then_some("true")}
                onclick={link.callback(move |_| Msg::Open(t))}>{ label }</button>
        }
    };
    let body = match tab {
        Tab::Choices => choices::view(s),
        Tab::Notice => notice::view(s),
        Tab::Mine => mine::view(s),
    };
    // Synchronous, so Tab's default move can still be prevented.
    let keys = {
        let modal = s.refs.modal.clone();
        let link = link.clone();
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Escape" => {
                e.prevent_default();
                link.send_message(Msg::State(Action::Close));
            }
            "Tab" => focus::trap(&modal, &e),
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
                tabindex="-1" ref={s.refs.modal.clone()}
                onkeydown={keys}>
                <div class="head">
                    <h2 id="yy-mtitle">{ w.settings }</h2>
                    <div class="tools">
                        { lang_button(s) }
                        <button type="button" class="lang" data-action="close"
                            onclick={s.on(Action::Close)}>{ w.close }</button>
                    </div>
                </div>
                <nav class="tabs" aria-label={w.settings}>
                    { tab_button(Tab::Choices, w.tab_choices, "tab-choices") }
                    { tab_button(Tab::Notice, w.tab_notice, "tab-notice") }
                    { tab_button(Tab::Mine, w.tab_mine, "tab-mine") }
                </nav>
                <div class="body">{ body }</div>
                if tab == Tab::Choices { { actions(s, save) } }
            </div>
        </div>
    }
}

/// The Global Privacy Control note, naming the categories it keeps off on this site; none
/// when the browser does not send it or the site has no such category.
pub fn gpc_note(c: &Context, w: &Words, l: Lang) -> Html {
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

/// A labelled switch.
pub fn toggle(
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

/// A purpose's facts: legal basis, data, retention, recipients.
pub fn facts(
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
pub fn date(v: &JsValue, l: Lang) -> String {
    localized(v, l, true)
}

/// A day (`YYYY-MM-DD`, a Thailand day such as a request's due date) in the visitor's
/// language, without a time.
pub fn day(iso: &str, l: Lang) -> String {
    // `Date` reads a bare date as UTC midnight: 07:00 the same day in Thailand.
    localized(&JsValue::from_str(iso), l, false)
}

/// `v` as a date (and time) in Thailand, in the visitor's language.
fn localized(v: &JsValue, l: Lang, with_time: bool) -> String {
    let d = js_sys::Date::new(v);
    let options = js_sys::Object::new();
    let time = if with_time { "short" } else { "" };
    for (k, v) in [
        ("dateStyle", "long"),
        ("timeStyle", time),
        ("timeZone", "Asia/Bangkok"),
    ] {
        if !v.is_empty() {
            let _ = js_sys::Reflect::set(&options, &k.into(), &v.into());
        }
    }
    String::from(d.to_locale_string(if l == Lang::Th { "th-TH" } else { "en-GB" }, &options))
}
