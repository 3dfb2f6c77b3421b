//! The widget's banner (first layer, a non-modal dialog), drawn only in minors mode: title,
//! summary, the full notice, Reject all / Choose / Accept all with the same look, the
//! language switch and the age question. On other sites the loader draws the banner
//! (`js/banner.js`).

use super::{Screen, actions, gpc_note, lang_button, minors};
use crate::{app::Msg, state::Tab};
use yew::prelude::*;
use yinyom_model::site::MinorsPolicy;

/// The banner.
pub fn view(s: &Screen<'_>) -> Html {
    let n = &s.ctx.notice;
    let l = s.state.lang;
    let w = s.words;
    let pos = &s.ctx.position;
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
            onclick={s.link.callback(|_| Msg::Open(Tab::Choices))}>{ w.choose }</button>
    };
    html! {
        <section {class} role="dialog" aria-modal="false" aria-labelledby="yy-title"
            aria-describedby="yy-summary" tabindex="-1" ref={s.refs.banner.clone()}
            inert={s.state.modal.is_some()}>
            <div class="head">
                <h2 id="yy-title">{ n.title.get(l) }</h2>
                { lang_button(s) }
            </div>
            <p id="yy-summary">{ n.summary.get(l) }</p>
            { gpc_note(s.ctx, w, l) }
            if n.minors == MinorsPolicy::AskAge && s.state.modal.is_none() { { minors(s, "b") } }
            <p><button type="button" class="link" data-action="notice"
                onclick={s.link.callback(|_| Msg::Open(Tab::Notice))}>{ w.read_notice }</button></p>
            { actions(s, choose) }
        </section>
    }
}
