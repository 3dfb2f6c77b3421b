//! The visitor's language, in real Chromium: chosen once (in the banner or in the
//! settings), it is kept for the site across pages (localStorage, read by the loader
//! before it draws anything), and everything we draw speaks it at once: the banner, the
//! floating button, the iframe placeholders, the settings, the cookie table's "Set by"
//! column (a localized site-file text). One browser for the file.

use serde_json::{Value, json};
use yinyom_e2e::page::{FLOATING_BUTTON, R, Visitor};
use yinyom_e2e::{server::TestServer, webdriver::Browser};
use yinyom_model::Lang;

const SITE: &str = "osmep-sme-monitoring";

/// [floating button label, its lang, placeholder text, placeholder lang].
fn loader_ui(visitor: &Visitor<'_>) -> Value {
    visitor.eval(
        "const f = document.getElementById('yinyom-button'); const bt = f && f.shadowRoot.querySelector('button'); \
         const p = document.querySelector('[data-yinyom-placeholder]'); const g = p && p.shadowRoot.querySelector('.p'); \
         return [bt && bt.getAttribute('aria-label'), bt && bt.lang, g && g.querySelector('p').textContent, g && g.lang];",
    )
}

#[test]
fn the_language_chosen_is_kept_across_pages_and_everywhere() {
    let file = yinyom_e2e::example_site(SITE);
    let server = TestServer::start(&[SITE]).expect("server");
    let b = Browser::start().expect("browser");
    let visitor = Visitor::new(&b, &server, SITE);
    visitor.visit();

    // Thai first; English in the banner is remembered for the next page.
    let banner = visitor.banner();
    banner.says(&file.notice.title.th);
    banner.switch_language();
    banner.says(&file.notice.title.en);
    visitor.visit();
    let banner = visitor.banner();
    banner.says(&file.notice.title.en);

    // The settings open in English; the cookie table's "Set by" is the English provider.
    banner.open_choices();
    let settings = visitor.settings();
    let provider = visitor.eval(&format!(
        "{R} const row = r.querySelector('[data-category=necessary] tbody tr'); \
         return [r.querySelector('.modal').closest('[lang]').lang, row.children[1].textContent];"
    ));
    let necessary = &file.categories[0].cookies[0].provider;
    assert_eq!(provider, json!(["en", necessary.get(Lang::En)]));
    assert_ne!(
        necessary.get(Lang::En),
        necessary.get(Lang::Th),
        "the example gives both"
    );

    // Thai in the settings: the banner follows, and so does the next page.
    settings.switch_language();
    visitor.wait(
        10,
        &format!("{R} return r.querySelector('.modal').closest('[lang]').lang === 'th';"),
        "Thai settings",
    );
    settings.close();
    banner.says(&file.notice.title.th);
    visitor.visit();
    let banner = visitor.banner();
    banner.says(&file.notice.title.th);

    // English again, then Reject all: the floating button and the placeholders are English,
    // on this page and the next.
    banner.switch_language();
    banner.says(&file.notice.title.en);
    banner.reject_all();
    for view in ["after the choice", "on the next page"] {
        if view != "after the choice" {
            visitor.visit();
        }
        visitor.wait(10, FLOATING_BUTTON, "the floating button");
        let ui = loader_ui(&visitor);
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
    visitor.open_settings_from_the_button();
    visitor.settings().switch_language();
    visitor.wait(
        10,
        "const f = document.getElementById('yinyom-button').shadowRoot.querySelector('button'); return f.getAttribute('aria-label') === 'ตั้งค่าคุกกี้';",
        "the floating button in Thai",
    );
    let ui = loader_ui(&visitor);
    assert!(
        ui[2].as_str().unwrap_or_default().starts_with("เนื้อหานี้จาก"),
        "{ui}"
    );
    assert_eq!(ui[3], json!("th"));
    assert_eq!(
        visitor.eval(&format!(
            "return localStorage.getItem('yinyom.{SITE}.lang');"
        )),
        json!("th"),
        "kept per site"
    );
}
