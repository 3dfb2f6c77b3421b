//! The settings' "My consent" tab: the current choice, its receipt id, the visitor's
//! receipts each with its proof bundle to download (and all of them in one file), the
//! receipts this browser holds that the server no longer lists, Withdraw all (when
//! something is granted), and the visitor's rights with a form to file a data-subject
//! request and the requests filed.

use super::{Screen, date, day};
use crate::{
    app::Msg,
    i18n::{event_word, kind_word, status_word},
    js,
    state::{Action, Filed, Filing},
};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Element;
use yew::prelude::*;
use yinyom_model::{Lang, receipt::Method, request::RequestKind};

/// Longest message and contact the form takes (a letter's worth; an address).
const MESSAGE_MAX: u32 = yinyom_model::request::MAX_MESSAGE_CHARS as u32;
const CONTACT_MAX: u32 = yinyom_model::request::MAX_CONTACT_CHARS as u32;

/// Whether the current choice grants any optional category or consent purpose, or a form
/// granted a form-only purpose: only then is there something to withdraw.
fn something_granted(s: &Screen<'_>) -> bool {
    let c = s.ctx;
    let banner = c.current().is_some_and(|cur| {
        !cur.granted.is_empty() || {
            let purposes = js::get(&c.last_choice(), "purposes");
            c.notice
                .banner_purposes()
                .any(|p| js::get(&purposes, p.id.as_str()).is_truthy())
        }
    });
    banner
        || c.notice
            .form_only_purposes()
            .any(|p| form_decision(s, p.id.as_str()).is_some_and(|(g, _)| g))
}

/// A form-only purpose's decision: the newest receipt in the visitor's history that
/// decides it (a form's, or a withdrawal), with the form's name when a form made it.
fn form_decision(s: &Screen<'_>, id: &str) -> Option<(bool, String)> {
    let h = s.state.history.as_ref()?.as_ref()?;
    h.rows.iter().find_map(|e| {
        let receipt = js::get(e, "receipt");
        let decided = js::get(&js::get(&receipt, "purposes"), id);
        let granted = decided.as_bool()?;
        Some((granted, js::string(&receipt, "context")))
    })
}

/// A `data:` URL of `entries`: one entry as an indented JSON file (a bundle), several as
/// JSON Lines (what `yinyom receipts verify` reads).
fn data_url(entries: &[JsValue]) -> String {
    let json = |v: &JsValue, space: f64| {
        js_sys::JSON::stringify_with_replacer_and_space(v, &JsValue::NULL, &space.into())
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default()
    };
    let text = match entries {
        [one] => json(one, 2.0),
        all => all.iter().map(|e| json(e, 0.0) + "\n").collect(),
    };
    format!(
        "data:application/json;charset=utf-8,{}",
        String::from(js_sys::encode_uri_component(&text))
    )
}

/// A download link for `entries`, saved as `file`. Its address is written when it is
/// clicked (or activated with Enter), just before the browser follows it: fifty bundles
/// of a few KB each would weigh on every render.
fn download(
    entries: Vec<JsValue>,
    file: String,
    label: &str,
    described_by: Option<String>,
    action: Option<&'static str>,
) -> Html {
    let onclick = Callback::from(move |e: MouseEvent| {
        let link = e
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|t| t.closest("a").ok().flatten());
        if let Some(a) = link {
            let _ = a.set_attribute("href", &data_url(&entries));
        }
    });
    html! {
        <a href="#" download={file} aria-describedby={described_by} data-action={action}
            {onclick}>{ label }</a>
    }
}

/// One receipt: when, what, its id and its bundle.
fn row(s: &Screen<'_>, entry: &JsValue, missing: bool) -> Html {
    let w = s.words;
    let l = s.state.lang;
    let receipt = js::get(entry, "receipt");
    let id = js::string(&receipt, "receipt_id");
    let code_id = format!("yy-r{}-{id}", if missing { "m" } else { "" });
    let file = format!("yinyom-{}-{id}.json", s.ctx.notice.site);
    let link = download(
        vec![entry.clone()],
        file,
        w.bundle,
        Some(code_id.clone()),
        None,
    );
    html! {
        <li data-receipt-row={id.clone()}>
            { date(&js::get(&receipt, "issued_at"), l) }{ " · " }
            { event_word(w, &js::string(&receipt, "event")) }{ " · " }
            <code id={code_id}>{ id.clone() }</code>{ " · " }
            { link }
        </li>
    }
}

/// The receipts: the server's list with a bundle each, the copies it lacks, one file
/// with everything.
fn history(s: &Screen<'_>) -> Html {
    let w = s.words;
    let h = match &s.state.history {
        None => return html! { <p>{ w.loading }</p> },
        Some(None) => return html! { <p>{ w.load_failed }</p> },
        Some(Some(h)) => h,
    };
    if h.rows.is_empty() && h.missing.is_empty() {
        return html! { <p data-empty="">{ w.no_history }</p> };
    }
    let all: Vec<JsValue> = h.rows.iter().chain(&h.missing).cloned().collect();
    html! {
        <>
            if !h.from_server { <p class="note" data-held-only="">{ w.held_only }</p> }
            if !h.missing.is_empty() {
                <div class="note warn" data-missing="">
                    <h4>{ w.missing_title }</h4>
                    <p>{ w.missing_note }</p>
                    <ul class="history">{ for h.missing.iter().map(|e| row(s, e, true)) }</ul>
                </div>
            }
            if !h.rows.is_empty() {
                <ul class="history">{ for h.rows.iter().map(|e| row(s, e, false)) }</ul>
            }
            <p class="muted">{ w.bundle_note }</p>
            <p>{ download(
                all,
                format!("yinyom-{}-receipts.jsonl", s.ctx.notice.site),
                w.download,
                None,
                Some("download"),
            ) }</p>
        </>
    }
}

/// The value of the input or text area an event came from.
fn value(e: &InputEvent) -> String {
    e.target()
        .map(|t| js::string(t.as_ref(), "value"))
        .unwrap_or_default()
}

/// `iso` as a date in words (Buddhist era in Thai), Thailand time.
fn when(iso: &str, l: Lang) -> String {
    // A due date is a day; a time of receipt is an instant.
    if iso.len() == 10 {
        day(iso, l)
    } else {
        date(&JsValue::from_str(iso), l)
    }
}

/// The request form: the kind (each explained), a message, a contact; then what became
/// of it.
fn request_form(s: &Screen<'_>) -> Html {
    let w = s.words;
    let l = s.state.lang;
    let form = &s.state.form;
    let filing = &s.state.filing;
    let no_kind = *filing == Filing::NoKind;
    let onsubmit = s.link.callback(|e: SubmitEvent| {
        e.prevent_default();
        Msg::File
    });
    let outcome = match filing {
        Filing::Filed(f) => html! {
            <p class="note" data-filing="" data-reference={f.reference.clone()} tabindex="-1" role="status">
                { w.filed.replace("%r", &f.reference).replace("%d", &when(&f.due, l)) }
            </p>
        },
        Filing::Failed => html! {
            <p class="error" data-filing="" tabindex="-1" role="alert">{ w.file_failed }</p>
        },
        _ => html! {},
    };
    html! {
        <form class="request" data-request="" novalidate=true {onsubmit}>
            <p>{ w.request_intro }</p>
            <fieldset class="kind" aria-describedby={no_kind.then_some("yy-kind-err")}>
                <legend>{ w.kind_question }</legend>
                { for RequestKind::ALL.iter().zip(w.rights_list).map(|(k, label)| {
                    let k = *k;
                    html! {
                        <label class="radio">
                            <input type="radio" name="yy-kind" value={k.as_str()}
                                checked={form.kind == Some(k)} onchange={s.on(Action::RequestKind(k))} />
                            { label }
                        </label>
                    }
                }) }
                if no_kind { <p class="error" id="yy-kind-err" role="alert">{ w.kind_missing }</p> }
            </fieldset>
            <label for="yy-rq-message">{ w.message_label }</label>
            <textarea id="yy-rq-message" rows="3" maxlength={MESSAGE_MAX.to_string()}
                value={form.message.clone()}
                oninput={s.link.callback(|e: InputEvent| Msg::State(Action::RequestMessage(value(&e))))} />
            <label for="yy-rq-contact">{ w.contact_label }</label>
            <input id="yy-rq-contact" type="text" maxlength={CONTACT_MAX.to_string()}
                value={form.contact.clone()}
                oninput={s.link.callback(|e: InputEvent| Msg::State(Action::RequestContact(value(&e))))} />
            <div class="actions">
                <button type="submit" class="choice" data-action="send-request">
                    { if *filing == Filing::Sending { w.sending } else { w.send } }
                </button>
            </div>
            { outcome }
        </form>
    }
}

/// The visitor's requests, newest first.
fn requests(s: &Screen<'_>, list: &[Filed]) -> Html {
    let w = s.words;
    let l = s.state.lang;
    let [reference, received, due, status] = w.request_cols;
    html! {
        <>
            <h3>{ w.my_requests }</h3>
            <ul class="requests">
                { for list.iter().map(|r| html! {
                    <li data-request-ref={r.reference.clone()}>
                        <h4>{ kind_word(w, &r.kind) }</h4>
                        <dl class="facts">
                            <dt>{ reference }</dt><dd><code>{ &r.reference }</code></dd>
                            <dt>{ received }</dt><dd>{ when(&r.received_at, l) }</dd>
                            <dt>{ due }</dt><dd>{ when(&r.due, l) }</dd>
                            <dt>{ status }</dt><dd>{ status_word(w, &r.status) }</dd>
                        </dl>
                    </li>
                }) }
            </ul>
        </>
    }
}

/// My consent.
pub fn view(s: &Screen<'_>) -> Html {
    let c = s.ctx;
    let n = &c.notice;
    let l = s.state.lang;
    let w = s.words;
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
                        { for n.banner_purposes().map(|p| {
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
    // Form-only purposes: shown as the visitor's forms decided them, never asked here.
    let forms: Vec<Html> = n
        .form_only_purposes()
        .filter_map(|p| {
            let (on, form) = form_decision(s, p.id.as_str())?;
            Some(html! {
                <>
                    <dt>{ p.title.get(l) }</dt>
                    <dd data-form-purpose={p.id.to_string()}>
                        { if on { w.granted } else { w.denied } }
                        if !form.is_empty() { { " · " }{ w.on_form }{ " " }<code>{ form }</code> }
                    </dd>
                </>
            })
        })
        .collect();
    html! {
        <>
            <h3>{ w.current }</h3>
            { current }
            if !forms.is_empty() {
                <h3>{ w.form_consent }</h3>
                <p class="muted">{ w.form_consent_note }</p>
                <dl class="facts" data-form-consent="">{ for forms }</dl>
            }
            <h3>{ w.history }</h3>
            { history(s) }
            if something_granted(s) {
                <div class="actions">
                    <button type="button" class="choice" data-action="withdraw"
                        onclick={s.link.callback(|_| Msg::Decide(Method::Withdraw))}>{ w.withdraw }</button>
                </div>
                <p class="muted">{ w.withdraw_note }</p>
            } else if c.current().is_some() {
                <p data-nothing-to-withdraw="">{ w.nothing_to_withdraw }</p>
            }
            <h3>{ w.rights }</h3>
            <p>{ w.rights_list[6] }</p>
            <h3>{ w.request }</h3>
            { request_form(s) }
            if let Some(Some(list)) = &s.state.requests {
                if !list.is_empty() { { requests(s, list) } }
            }
            <p>{ w.rights_how }{ " " }<a href={format!("mailto:{}", n.dpo.email)}>{ &n.dpo.email }</a></p>
        </>
    }
}
