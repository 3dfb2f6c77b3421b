//! The visitor's language, in real Chromium: chosen once (in the banner or in the
//! settings), it is kept for the site across pages (localStorage, read by the loader
//! before it draws anything), and everything we draw speaks it at once: the banner, the
//! floating button, the iframe placeholders, the settings, the cookie table's "Set by"
//! column (a localized site-file text). One browser for the file.

use serde_json::{Value, json};
use yinyom_e2e::page::{R, eval};
use yinyom_e2e::{server::TestServer, webdriver::Browser};
use yinyom_model::{Lang, site::SiteFile};

const SITE: &str = "osmep-sme-monitoring";

fn click(b: &Browser, css: &str) {
    let find = format!("{R} return r && r.querySelector(\"{css}\");");
    b.wait_for(20, &find)
        .unwrap_or_else(|e| panic!("{css} never appeared: {e}"));
    let el = b.element(&find).expect("element");
    b.click(&el).expect("click");
}

fn site_file() -> SiteFile {
    let text = std::fs::read_to_string(
        yinyom_e2e::root()
            .join("examples")
            .join(SITE)
            .join("site.toml"),
    )
    .expect("site.toml");
    toml::from_str(&text).expect("site file")
}

/// Waits until the banner's title is `title`.
fn banner_title(b: &Browser, title: &str) {
    b.wait_for(
        20,
        &format!(
            "{R} const t = r && r.querySelector('.banner h2'); return t && t.textContent === {};",
            json!(title)
        ),
    )
    .unwrap_or_else(|e| panic!("the banner never said {title}: {e}"));
}

/// [floating button label, its lang, placeholder text, placeholder lang].
fn loader_ui(b: &Browser) -> Value {
    eval(
        b,
        "const f = document.getElementById('yinyom-button'); const bt = f && f.shadowRoot.querySelector('button'); \
         const p = document.querySelector('[data-yinyom-placeholder]'); const g = p && p.shadowRoot.querySelector('.p'); \
         return [bt && bt.getAttribute('aria-label'), bt && bt.lang, g && g.querySelector('p').textContent, g && g.lang];",
    )
}

#[test]
fn the_language_chosen_is_kept_across_pages_and_everywhere() {
    let file = site_file();
    let server = TestServer::start(&[SITE]).expect("server");
    let b = Browser::start().expect("browser");
    let page = format!("{}/{SITE}/", server.pages);
    b.goto(&page).expect("page");

    // Thai first; English in the banner is remembered for the next page.
    banner_title(&b, &file.notice.title.th);
    click(&b, ".banner button.lang");
    banner_title(&b, &file.notice.title.en);
    b.goto(&page).expect("next page");
    banner_title(&b, &file.notice.title.en);

    // The settings open in English; the cookie table's "Set by" is the English provider.
    click(&b, ".banner [data-action=choose]");
    b.wait_for(20, &format!("{R} return r.querySelector('.modal');"))
        .expect("settings");
    let provider = eval(
        &b,
        &format!(
            "{R} const row = r.querySelector('[data-category=necessary] tbody tr'); \
             return [r.querySelector('.modal').closest('[lang]').lang, row.children[1].textContent];"
        ),
    );
    let necessary = &file.categories[0].cookies[0].provider;
    assert_eq!(provider, json!(["en", necessary.get(Lang::En)]));
    assert_ne!(
        necessary.get(Lang::En),
        necessary.get(Lang::Th),
        "the example gives both"
    );

    // Thai in the settings: the banner follows, and so does the next page.
    click(&b, ".modal button.lang");
    b.wait_for(
        10,
        &format!("{R} return r.querySelector('.modal').closest('[lang]').lang === 'th';"),
    )
    .expect("Thai settings");
    click(&b, ".modal [data-action=close]");
    banner_title(&b, &file.notice.title.th);
    b.goto(&page).expect("next page");
    banner_title(&b, &file.notice.title.th);

    // English again, then Reject all: the floating button and the placeholders are English,
    // on this page and the next.
    click(&b, ".banner button.lang");
    banner_title(&b, &file.notice.title.en);
    click(&b, ".banner [data-action=reject-all]");
    b.wait_for(10, "return document.getElementById('yinyom-button');")
        .expect("floating button");
    for view in ["after the choice", "on the next page"] {
        if view != "after the choice" {
            b.goto(&page).expect("next page");
            b.wait_for(10, "return document.getElementById('yinyom-button');")
                .expect("floating button");
        }
        let ui = loader_ui(&b);
        assert_eq!(ui[0], json!("Cookie settings"), "{view}: {ui}");
        assert_eq!(ui[1], json!("en"), "{view}");
        assert!(
            ui[2]
                .as_str()
                .unwrap_or_default()
                .starts_with("This content from"),
            "{view}: {ui}"
        );
        assert_eq!(ui[3], json!("en"), "{view}");
    }

    // Thai in the settings again: the button and placeholders switch at once.
    let fab = b
        .element(
            "return document.getElementById('yinyom-button').shadowRoot.querySelector('button');",
        )
        .expect("floating button");
    b.click(&fab).expect("open");
    click(&b, ".modal button.lang");
    b.wait_for(
        10,
        "const f = document.getElementById('yinyom-button').shadowRoot.querySelector('button'); return f.getAttribute('aria-label') === 'ตั้งค่าคุกกี้';",
    )
    .expect("the floating button in Thai");
    let ui = loader_ui(&b);
    assert!(
        ui[2].as_str().unwrap_or_default().starts_with("เนื้อหานี้จาก"),
        "{ui}"
    );
    assert_eq!(ui[3], json!("th"));
    assert_eq!(
        eval(
            &b,
            &format!("return localStorage.getItem('yinyom.{SITE}.lang');")
        ),
        json!("th"),
        "kept per site"
    );
}
