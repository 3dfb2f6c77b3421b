//! The settings' "My consent" tab: the current choice, its receipt id, this browser's
//! receipts with a download, Withdraw all (when something is granted) and the visitor's
//! rights.

use super::{Screen, date};
use crate::{app::Msg, host::Context, i18n::event_word, js};
use wasm_bindgen::JsValue;
use yew::prelude::*;
use yinyom_model::receipt::Method;

/// Whether the current choice grants any optional category or consent purpose: only then
/// is there something to withdraw.
fn something_granted(c: &Context) -> bool {
    c.current().is_some_and(|cur| {
        !cur.granted.is_empty() || {
            let purposes = js::get(&c.last_choice(), "purposes");
            c.notice
                .consent_purposes()
                .any(|p| js::get(&purposes, p.id.as_str()).is_truthy())
        }
    })
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
    let history = match &s.state.history {
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
            if something_granted(c) {
                <div class="actions">
                    <button type="button" class="choice" data-action="withdraw"
                        onclick={s.link.callback(|_| Msg::Decide(Method::Withdraw))}>{ w.withdraw }</button>
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
