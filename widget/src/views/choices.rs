//! The settings' "Choices" tab: a switch per optional category (unticked until the visitor
//! turns it on; necessary categories always on, with why they are not asked) with its
//! cookie table, a switch per consent purpose the banner asks (a form-only purpose is
//! asked on its form, never here), and the purposes on other legal bases as notice.

use super::{Screen, facts, gpc_note, minors, toggle};
use crate::state::Action;
use yew::prelude::*;
use yinyom_model::site::{LegalBasis, MinorsPolicy};

/// The choices.
pub fn view(s: &Screen<'_>) -> Html {
    let n = &s.ctx.notice;
    let l = s.state.lang;
    let w = s.words;
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
            let on = s.state.choices.categories.get(i).is_some_and(|(_, g)| *g);
            toggle(format!("yy-c-{id}"), cat.title.get(l), on, &desc_id, s.on(Action::ToggleCategory(i)))
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
    let purposes = n.banner_purposes().enumerate().map(|(i, p)| {
        let id = p.id.as_str();
        let desc_id = format!("yy-pd-{id}");
        let on = s.state.choices.purposes.get(i).is_some_and(|(_, g)| *g);
        html! {
            <div class="item" data-purpose={id.to_owned()}>
                { toggle(format!("yy-p-{id}"), p.title.get(l), on, &desc_id, s.on(Action::TogglePurpose(i))) }
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
            { gpc_note(s.ctx, w, l) }
            if n.minors == MinorsPolicy::AskAge { { minors(s, "m") } }
            <h3>{ w.cookies }</h3>
            { categories }
            if n.banner_purposes().next().is_some() {
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
