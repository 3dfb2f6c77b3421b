//! Acceptance suite: each of the five example agency sites, in real Chromium, against the
//! real server: the Thai banner, the English switch, Reject all, Accept all, a partial
//! choice, receipts that verify against the JWKS, the notice page, and (for the sites with
//! a second notice version) asking again under version 2 with both receipts in the
//! visitor's history.

use serde_json::{Value, json};
use yinyom_e2e::page::Visitor;
use yinyom_e2e::{server::TestServer, webdriver::Browser};
use yinyom_model::{canonical::to_canonical_json, site::MinorsPolicy};
use yinyom_server::signing::{self, Jwks};

/// What the page ran: [external analytics, inline analytics, analytics cookie, iframe src].
fn ran(visitor: &Visitor<'_>) -> Value {
    visitor.eval(
        "const f = document.querySelector('iframe[data-yinyom]'); \
         return [document.documentElement.dataset.analyticsRan || null, \
                 document.documentElement.dataset.inlineRan || null, \
                 document.cookie.includes('_yy_stats='), \
                 f ? f.getAttribute('src') : 'no iframe'];",
    )
}

/// A visitor of `site` reads the Thai banner, switches it to English and rejects all; a
/// second accepts all; a third chooses analytics only; the notice page shows the
/// version; a second version asks the second visitor again.
fn every_choice_works_on(site: &str) {
    let file = yinyom_e2e::example_site(site);
    // In minors mode (PDPA s.20), giving consent needs the age.
    let asks_age = |file: &yinyom_model::site::SiteFile| file.notice.minors == MinorsPolicy::AskAge;
    let server = TestServer::start(&[site]).expect("server");
    let jwks: Jwks = ureq::get(&format!("{}/.well-known/jwks.json", server.api))
        .call()
        .expect("jwks")
        .into_json()
        .expect("jwks json");
    let has_iframe = std::fs::read_to_string(
        yinyom_e2e::root()
            .join("examples")
            .join(site)
            .join("index.html"),
    )
    .expect("index.html")
    .contains("<iframe data-yinyom");

    // Thai banner, English on request, Reject all: nothing blocked runs.
    {
        let b = Browser::start().expect("browser");
        let visitor = Visitor::new(&b, &server, site);
        visitor.visit();
        let banner = visitor.banner();
        assert_eq!(
            banner.title(),
            json!(file.notice.title.th),
            "{site}: Thai banner"
        );
        banner.switch_language();
        banner.says(&file.notice.title.en);
        banner.reject_all();
        let r = visitor.receipts(1);
        let expect_iframe = if has_iframe {
            Value::Null
        } else {
            json!("no iframe")
        };
        assert_eq!(
            ran(&visitor),
            json!([null, null, false, expect_iframe]),
            "{site}: something ran after Reject all"
        );
        assert_eq!(r[0]["receipt"]["method"], "reject_all");
        assert_eq!(
            r[0]["receipt"]["lang"], "en",
            "the receipt records the language read"
        );
        let payload = signing::verify(r[0]["jws"].as_str().expect("jws"), &jwks)
            .expect("the receipt verifies");
        assert_eq!(
            String::from_utf8(payload).expect("utf8"),
            to_canonical_json(&r[0]["receipt"]).expect("canonical")
        );
        visitor.visit();
        assert_eq!(
            visitor.eval("return !!document.getElementById('yinyom');"),
            json!(false),
            "{site}: no banner after reload"
        );
        assert_eq!(
            ran(&visitor),
            json!([null, null, false, expect_iframe]),
            "{site}: something ran on reload"
        );
    }

    // Accept all on a fresh profile: everything runs.
    let accepted = Browser::start().expect("browser");
    let visitor = Visitor::new(&accepted, &server, site);
    visitor.visit();
    let banner = visitor.banner();
    if asks_age(&file) {
        banner.adult();
    }
    banner.accept_all();
    visitor.wait_analytics_ran();
    let state = ran(&visitor);
    assert_eq!(state[2], json!(true), "{site}: analytics cookie");
    if has_iframe {
        visitor.wait(
            10,
            "return document.querySelector('iframe[data-yinyom]').getAttribute('src');",
            "the embedded video loads",
        );
    }
    let r = visitor.receipts(1);
    assert!(
        r[0]["receipt"]["categories"]
            .as_object()
            .expect("categories")
            .values()
            .all(|v| v == true)
    );
    signing::verify(r[0]["jws"].as_str().expect("jws"), &jwks).expect("verifies");

    // A partial choice: analytics only.
    {
        let b = Browser::start().expect("browser");
        let partial = Visitor::new(&b, &server, site);
        partial.visit();
        partial.banner().open_choices();
        let settings = partial.settings();
        settings.toggle("analytics");
        if asks_age(&file) {
            settings.adult();
        }
        settings.save();
        partial.wait(
            10,
            "return document.documentElement.dataset.analyticsRan === '1';",
            "analytics runs after choosing it",
        );
        let r = partial.receipts(1);
        let cats = r[0]["receipt"]["categories"]
            .as_object()
            .expect("categories")
            .clone();
        for (k, v) in &cats {
            assert_eq!(v, &json!(k == "analytics"), "{site}: category {k}");
        }
        if has_iframe {
            assert_eq!(
                partial.eval(
                    "return document.querySelector('iframe[data-yinyom]').getAttribute('src');"
                ),
                Value::Null,
                "{site}: the video loaded without consent"
            );
        }
    }

    // The notice page shows the current version.
    let html = ureq::get(&format!("{}/sites/{site}/notice", server.api))
        .call()
        .expect("notice page")
        .into_string()
        .expect("html");
    assert!(
        html.contains(&file.notice.version),
        "{site}: notice page version"
    );
    assert!(
        html.contains(file.controller.email.as_str()),
        "{site}: controller contact"
    );

    // A second version asks again; both receipts are in the visitor's history.
    let v2 = yinyom_e2e::root().join("examples").join(site).join("v2");
    if v2.join("site.toml").is_file() {
        let file2 = yinyom_e2e::example_site(&format!("{site}/v2"));
        server.import(&format!("{site}/v2")).expect("import v2");
        accepted.clear_cache().expect("clear cache");
        visitor.visit();
        let banner = visitor.banner();
        assert_eq!(
            banner.title(),
            json!(file2.notice.title.th),
            "{site}: asked again under v2"
        );
        if asks_age(&file2) {
            banner.adult();
        }
        banner.accept_all();
        let r = visitor.receipts(2);
        assert_eq!(
            r[0]["receipt"]["notice"]["version"],
            json!(file2.notice.version)
        );
        assert_eq!(
            r[1]["receipt"]["notice"]["version"],
            json!(file.notice.version)
        );
        assert_eq!(r[0]["receipt"]["event"], "updated");
        let html = ureq::get(&format!("{}/sites/{site}/notice", server.api))
            .call()
            .expect("notice page")
            .into_string()
            .expect("html");
        assert!(
            html.contains(&file2.notice.version),
            "{site}: the page shows v2"
        );
    }
}

#[test]
fn osmep_sme_monitoring() {
    every_choice_works_on("osmep-sme-monitoring");
}

#[test]
fn osmep_msme_data_service() {
    every_choice_works_on("osmep-msme-data-service");
}

#[test]
fn moi_i_industry() {
    every_choice_works_on("moi-i-industry");
}

#[test]
fn msdhs_mso_logbook() {
    every_choice_works_on("msdhs-mso-logbook");
}

#[test]
fn sknpeo_samut_sakhon() {
    every_choice_works_on("sknpeo-samut-sakhon");
}
