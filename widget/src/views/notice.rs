//! The settings' "Full notice" tab: the server's sanitized notice page, fetched through
//! the loader (`app.rs`, `load`), with a link to open it in a new tab.

use super::Screen;
use yew::prelude::*;

/// The full notice.
pub fn view(s: &Screen<'_>) -> Html {
    let w = s.words;
    let lang = s.state.lang;
    let page = format!("{}?lang={}", s.ctx.notice_url, lang.code());
    let body = match &s.state.notice {
        Some((l, Some(html))) if *l == lang => html! {
            <div class="notice">{ Html::from_html_unchecked(AttrValue::from(html.clone())) }</div>
        },
        Some((l, None)) if *l == lang => html! { <p role="alert">{ w.load_failed }</p> },
        _ => html! { <p>{ w.loading }</p> },
    };
    html! {
        <>
            { body }
            <p><a href={page} target="_blank" rel="noopener">{ w.open_page }</a></p>
        </>
    }
}

/// The inside of the notice page's `<main>`, without its own language link, with its
/// links pointed at the consent server and opened in a new tab. The page is rendered and
/// sanitized by the server (`server/src/render.rs`).
pub fn body(page: &str, origin: &str) -> String {
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
