//! Consent on forms (issue 16 item 1), in real Chromium against the real server: OSMEP's
//! news subscription page (examples/osmep-sme-monitoring/subscribe.html) posts to the demo
//! page server, which shows the fields the agency's backend got. A submit carries the
//! receipt id and a JWS that verifies against the JWKS, with the ticked purpose granted and
//! the unticked one refused (desktop and a phone screen); with the consent server not
//! answering the form still submits, with `yinyom_request`, and posting that later records
//! it once; a form added after load works; a pre-ticked box is unticked and a purpose that
//! is not a consent purpose is reported and not sent; a page without a form never
//! downloads the forms module.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use yinyom_e2e::console::ConsoleUser;
use yinyom_e2e::page::{Visitor, eval, eventually, in_widget};
use yinyom_e2e::{server::TestServer, webdriver::Browser};
use yinyom_server::signing::{Jwks, verify};

const SITE: &str = "osmep-sme-monitoring";
const FORM: &str = "sme-news-subscription";

/// Records `console.error` in `__errors`, before the page's own scripts.
const ERRORS: &str = "window.__errors = []; const ce = console.error; \
     console.error = function (...a) { __errors.push(a.map(String).join(' ')); ce.apply(console, a); };";

/// The subscription page.
fn subscribe_page(server: &TestServer) -> String {
    format!("{}/{SITE}/subscribe.html", server.pages)
}

/// A fresh visitor: no cookies, no storage.
fn forget(visitor: &Visitor<'_>) {
    visitor.open_only();
    visitor
        .browser
        .cdp("Network.clearBrowserCookies", json!({}))
        .expect("clear cookies");
    visitor.eval("localStorage.clear(); return true;");
}

/// Scrolls the element `css` to the middle of the screen (clear of the floating button)
/// and clicks it, as the visitor would.
fn click(b: &Browser, css: &str) {
    let el = format!("document.querySelector({})", json!(css));
    let script = format!("return {el};");
    b.wait_for(20, &script)
        .unwrap_or_else(|e| panic!("{css} never appeared: {e}"));
    eval(
        b,
        &format!("{el}.scrollIntoView({{block: 'center'}}); return true;"),
    );
    let found = b.element(&script).expect("element");
    b.click(&found)
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// The fields the demo's "backend" received from the form (after the form was sent).
fn received(b: &Browser) -> BTreeMap<String, String> {
    b.wait_for(
        20,
        "return location.pathname.endsWith('/received') && document.querySelector('tr[data-name]');",
    )
    .expect("the form reached the backend");
    let v = eval(
        b,
        "return Object.fromEntries([...document.querySelectorAll('tr[data-name]')]\
           .map(r => [r.dataset.name, r.querySelector('code').textContent]));",
    );
    serde_json::from_value(v).expect("fields")
}

/// The receipt a JWS signs, checked against the server's JWKS.
fn verified(server: &TestServer, jws: &str) -> Value {
    let jwks: Jwks = ureq::get(&format!("{}/.well-known/jwks.json", server.api))
        .call()
        .expect("jwks")
        .into_json()
        .expect("jwks json");
    let payload = verify(jws, &jwks).expect("the JWS verifies with the JWKS");
    serde_json::from_slice(&payload).expect("receipt JSON")
}

/// Fills in the name, ticks the news box only and sends the form.
fn subscribe_to_news_only(b: &Browser) {
    let name = b.find("#name").expect("name field");
    b.send_keys(&name, "สมชาย ใจดี").expect("type a name");
    click(b, "#c-news");
    click(b, "button[type=submit]");
}

/// On a desktop screen and on a phone's: the submit carries the receipt id and a JWS
/// that verifies; the receipt is a form receipt of the visitor's usual subject id, the
/// ticked purpose granted, the unticked refused, no cookie category; the submit button's
/// own value still arrives.
#[test]
fn a_form_submit_carries_a_signed_receipt_of_ticked_and_unticked_purposes() {
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, SITE);
    for phone in [false, true] {
        if phone {
            browser
                .cdp(
                    "Emulation.setDeviceMetricsOverride",
                    json!({"width": 375, "height": 700, "deviceScaleFactor": 2, "mobile": true}),
                )
                .expect("phone screen");
            browser
                .cdp(
                    "Emulation.setTouchEmulationEnabled",
                    json!({"enabled": true, "maxTouchPoints": 5}),
                )
                .expect("touch");
        }
        forget(&visitor);
        visitor.visit_url(&subscribe_page(&server));
        visitor.banner().reject_all();
        visitor.receipts(1);
        let subject = visitor.subject();

        subscribe_to_news_only(&browser);
        let fields = received(&browser);
        assert_eq!(fields.get("name").map(String::as_str), Some("สมชาย ใจดี"));
        assert_eq!(
            fields.get("action").map(String::as_str),
            Some("subscribe"),
            "the submit button's value: {fields:?}"
        );
        assert!(!fields.contains_key("yinyom_request"), "{fields:?}");
        let receipt = verified(&server, &fields["yinyom_jws"]);
        assert_eq!(receipt["receipt_id"], fields["yinyom_receipt"].as_str());
        assert_eq!(receipt["method"], "form");
        assert_eq!(receipt["context"], FORM);
        assert_eq!(receipt["subject_id"], server.pseudonym(&subject));
        assert_eq!(
            receipt["purposes"],
            json!({"sme_news": true, "user_contact": false})
        );
        assert_eq!(receipt["categories"], json!({}));
        assert_eq!(receipt["page"]["path"], format!("/{SITE}/subscribe.html"));

        // The server keeps it in the visitor's one history, after the banner's receipt.
        let history = visitor.receipts(2);
        assert_eq!(history[0]["receipt"]["receipt_id"], receipt["receipt_id"]);
        assert_eq!(history[0]["receipt"]["event"], "updated");
    }
}

/// The consent server does not answer (its requests held, as by a blackholed port): after
/// 3 s the form submits anyway, with `yinyom_request`; the agency's backend posts that
/// later and it is recorded; the loader, which kept it too, sends it again on the next
/// page view and it is still one receipt.
#[test]
fn a_form_submits_with_the_request_when_the_server_does_not_answer() {
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, SITE);
    visitor.visit_url(&subscribe_page(&server));
    visitor.banner().reject_all();
    visitor.receipts(1);
    let subject = visitor.subject();

    // Every receipt request is held by the browser and never reaches the server.
    browser
        .cdp(
            "Fetch.enable",
            json!({"patterns": [{"urlPattern": "*/receipts*", "requestStage": "Request"}]}),
        )
        .expect("hold receipt requests");
    subscribe_to_news_only(&browser);
    let fields = received(&browser);
    browser.cdp("Fetch.disable", json!({})).expect("release");
    assert!(
        !fields.contains_key("yinyom_receipt") && !fields.contains_key("yinyom_jws"),
        "{fields:?}"
    );
    let body = fields
        .get("yinyom_request")
        .unwrap_or_else(|| panic!("no yinyom_request: {fields:?}"));
    let request: Value = serde_json::from_str(body).expect("request JSON");
    assert_eq!(request["method"], "form");
    assert_eq!(request["context"], FORM);
    assert_eq!(request["subject_id"], subject);
    assert_eq!(
        request["purposes"],
        json!({"sme_news": true, "user_contact": false})
    );
    assert_eq!(
        visitor.receipts_now().len(),
        1,
        "nothing reached the server"
    );

    // The backend forwards it, naming the site's page origin, as docs/EMBEDDING.md says.
    let post = || {
        ureq::post(&format!("{}/v1/sites/{SITE}/receipts", server.api))
            .set("origin", &server.pages)
            .set("content-type", "application/json")
            .send_string(body)
            .expect("answered")
    };
    let first = post();
    assert_eq!(first.status(), 201);
    let first: Value = first.into_json().expect("answer");
    let receipt = verified(&server, first["jws"].as_str().expect("jws"));
    assert_eq!(receipt["purposes"]["sme_news"], true);
    assert_eq!(receipt["subject_id"], server.pseudonym(&subject));
    let again = post();
    assert_eq!(again.status(), 200, "the same request id: the same receipt");

    // The loader kept the request too and sends it on the next page view: still one.
    visitor.visit();
    let history = visitor.receipts(2);
    assert_eq!(history[0]["receipt"]["receipt_id"], receipt["receipt_id"]);
    assert_eq!(
        visitor.eval(&format!(
            "return localStorage.getItem('yinyom.{SITE}.pending');"
        )),
        Value::Null,
        "the queued request was answered"
    );
}

/// A page without a form never downloads the forms module; a form added after load is
/// found: its pre-ticked box is unticked and reported, a purpose that is not a consent
/// purpose of the site is reported and not sent, and the submit records the rest.
#[test]
fn a_form_added_after_load_works_and_sends_only_consent_purposes() {
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    browser.before_each_page(ERRORS).expect("record errors");
    let visitor = Visitor::new(&browser, &server, SITE);
    visitor.visit();
    visitor.banner().reject_all();
    visitor.receipts(1);
    let modules = format!(
        "return performance.getEntriesByType('resource').map(e => e.name)\
           .filter(n => n.startsWith('{}') && n.endsWith('/yinyom_forms.js')).length;",
        server.api
    );
    assert_eq!(visitor.eval(&modules), json!(0), "no form, no forms module");

    visitor.eval(
        "const f = document.createElement('form');
         f.action = 'received'; f.method = 'post'; f.setAttribute('data-yinyom-form', 'late-signup');
         f.innerHTML = '<input name=\"email\" value=\"a@example.go.th\">'
           + '<label><input type=\"checkbox\" id=\"late-news\" data-yinyom-purpose=\"sme_news\" checked> news</label>'
           + '<label><input type=\"checkbox\" id=\"late-other\" data-yinyom-purpose=\"not_a_purpose\"> other</label>'
           + '<button type=\"submit\" id=\"late-send\">send</button>';
         document.querySelector('main').prepend(f);
         return true;",
    );
    browser
        .wait_for(
            20,
            "return !document.getElementById('late-news').checked \
               && __errors.some(e => e.includes('not_a_purpose'));",
        )
        .expect("the loader checked the new form");
    let errors = visitor.eval("return __errors;");
    assert!(
        errors.as_array().is_some_and(|a| a.iter().any(|e| e
            .as_str()
            .is_some_and(|e| e.contains("sme_news") && e.contains("unticked")))),
        "the pre-ticked box is reported: {errors}"
    );
    assert_eq!(visitor.eval(&modules), json!(1));

    click(&browser, "#late-other");
    click(&browser, "#late-send");
    let fields = received(&browser);
    let receipt = verified(&server, &fields["yinyom_jws"]);
    assert_eq!(receipt["context"], "late-signup");
    assert_eq!(
        receipt["purposes"],
        json!({"sme_news": false}),
        "the unknown purpose is not sent, the unticked box is refused"
    );
}

/// i-Industry's registration page (examples/moi-i-industry/register.html) under the notice
/// version that asks consent for news (v2/, as the demo publishes it): the registration
/// reaches the backend with a receipt granting `industry_news`.
#[test]
fn i_industry_registration_carries_the_news_consent() {
    let site = "moi-i-industry";
    let server = TestServer::start(&[site]).expect("server");
    server
        .import("moi-i-industry/v2")
        .expect("notice version 2");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, site);
    visitor.visit_url(&format!("{}/{site}/register.html", server.pages));
    visitor.banner().reject_all();
    visitor.receipts(1);
    for (css, text) in [
        ("#cid", "1103700000000"),
        ("#fullname", "สมหญิง รักงาน"),
        ("#email", "somying@example.go.th"),
    ] {
        let field = browser.find(css).expect("field");
        browser.send_keys(&field, text).expect("type");
    }
    click(&browser, "#c-news");
    click(&browser, "button[type=submit]");
    let fields = received(&browser);
    assert_eq!(
        fields.get("email").map(String::as_str),
        Some("somying@example.go.th")
    );
    let receipt = verified(&server, &fields["yinyom_jws"]);
    assert_eq!(receipt["context"], "registration");
    assert_eq!(receipt["notice"]["version"], "2025-07");
    assert_eq!(receipt["purposes"], json!({"industry_news": true}));
}

/// MSO-LOGBOOK's consent form for sensitive data (examples/msdhs-mso-logbook/consent.html).
/// Its purposes `health_data` and `religion` are asked only on forms: the settings show no
/// switch for them and the settings' receipt decides neither (the server accepts it); the
/// form records health granted (ticked) and religion refused (unticked) with a JWS that
/// verifies; "My consent" shows what the form decided, without a switch; the demo's
/// webhook receiver gets the receipt's `consent.recorded` event with a valid signature; the
/// form page and the receiver's page are axe-clean.
#[test]
fn mso_logbook_consent_form_records_health_consent_the_banner_never_asks() {
    let site = "msdhs-mso-logbook";
    let form_only = ["health_data", "religion"];
    let axe_js = yinyom_e2e::axe::source();
    let server = TestServer::start(&[site]).expect("server");
    server
        .demo_webhooks(site)
        .expect("the demo's webhook receiver");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, site);
    visitor.visit_url(&format!("{}/{site}/consent.html", server.pages));
    let found =
        yinyom_e2e::axe::violations(&browser, &axe_js, "return document.querySelector('main');");
    assert_eq!(found, json!([]), "axe-core violations on the consent form");

    // The settings: a switch for each cookie category, none for the form-only purposes.
    visitor.banner().open_choices();
    visitor.wait(20, &in_widget("[data-category=analytics]"), "the choices");
    for id in form_only {
        assert_eq!(
            visitor.eval(&in_widget(&format!("[data-purpose={id}], #yy-p-{id}"))),
            json!(null),
            "the settings ask {id}"
        );
    }
    let settings = visitor.settings();
    settings.toggle("analytics");
    settings.save();
    let banner_receipt = &visitor.receipts(1)[0]["receipt"];
    assert_eq!(banner_receipt["method"], "save_preferences");
    assert_eq!(
        banner_receipt["purposes"],
        json!({}),
        "nothing asked, nothing decided"
    );

    // The form: health ticked, religion not.
    let name = browser.find("#fullname").expect("name field");
    browser.send_keys(&name, "มานี มีสุข").expect("type a name");
    click(&browser, "#c-health");
    click(&browser, "button[type=submit]");
    let fields = received(&browser);
    let receipt = verified(&server, &fields["yinyom_jws"]);
    assert_eq!(
        receipt["receipt_id"].as_str(),
        fields.get("yinyom_receipt").map(String::as_str)
    );
    assert_eq!(receipt["method"], "form");
    assert_eq!(receipt["context"], "sensitive-data-consent");
    assert_eq!(receipt["categories"], json!({}));
    assert_eq!(
        receipt["purposes"],
        json!({"health_data": true, "religion": false})
    );
    let receipt_id = receipt["receipt_id"]
        .as_str()
        .expect("receipt id")
        .to_owned();

    // The backend's webhook: the consent.recorded event of that receipt, signed.
    let row = format!("tr[data-type='consent.recorded'][data-receipt='{receipt_id}']");
    let verified_cell = eventually(30, "the webhook of the form receipt", || {
        browser.goto(&format!("{}/_webhooks", server.pages)).ok()?;
        let v = eval(
            &browser,
            &format!(
                "const r = document.querySelector({}); return r && r.querySelector('[data-verified]').dataset.verified;",
                json!(row)
            ),
        );
        v.as_str().map(str::to_owned)
    });
    assert_eq!(verified_cell, "true", "the webhook's signature verifies");
    let found = yinyom_e2e::axe::violations(&browser, &axe_js, "return document;");
    assert_eq!(found, json!([]), "axe-core violations on the webhooks page");

    // My consent shows what the form decided, read-only.
    visitor.visit_url(&format!("{}/{site}/consent.html", server.pages));
    visitor.open_settings_from_the_page();
    visitor.settings().tab("mine");
    let shown = visitor.wait(
        20,
        &in_widget("[data-form-consent] [data-form-purpose=religion]"),
        "my consent lists the form's decisions",
    );
    assert_ne!(shown, json!(null));
    let texts = visitor.eval(&format!(
        "{} return [...r.querySelectorAll('[data-form-purpose]')].map(d => \
           [d.dataset.formPurpose, d.textContent.startsWith('อนุญาต'), d.querySelector('input') !== null]);",
        yinyom_e2e::page::R
    ));
    assert_eq!(
        texts,
        json!([["health_data", true, false], ["religion", false, false]]),
        "[purpose, shown as allowed, has a switch]"
    );
}

/// The Samut Sakhon education office's event sign-up (examples/sknpeo-samut-sakhon/
/// event.html), on a site in minors mode: the form asks the age and a guardian's
/// confirmation, so the receipt granting the form-only purpose `event_updates` carries
/// the age band and who consented (PDPA s.20), and the server accepts it.
#[test]
fn samut_sakhon_event_signup_records_a_guardians_consent() {
    let site = "sknpeo-samut-sakhon";
    let server = TestServer::start(&[site]).expect("server");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, site);
    visitor.visit_url(&format!("{}/{site}/event.html", server.pages));
    visitor.banner().reject_all();
    visitor.receipts(1);
    for (css, text) in [
        ("#fullname", "ด.ญ. ใจดี เรียนเก่ง"),
        ("#email", "parent@example.com"),
    ] {
        let field = browser.find(css).expect("field");
        browser.send_keys(&field, text).expect("type");
    }
    click(&browser, "#age-10-19");
    click(&browser, "#c-updates");
    click(&browser, "#c-guardian");
    click(&browser, "button[type=submit]");
    let fields = received(&browser);
    let receipt = verified(&server, &fields["yinyom_jws"]);
    assert_eq!(receipt["context"], "event-signup");
    assert_eq!(receipt["purposes"], json!({"event_updates": true}));
    assert_eq!(receipt["age_band"], "10_19");
    assert_eq!(receipt["consent_by"], "guardian");
}

/// The agency's reference for the person (`data-yinyom-reference`), end to end: a form
/// naming its tax-id field records a receipt whose JWS verifies and does not carry the
/// reference; no table of the database holds the reference in clear; the back-office's
/// lookup by the reference answers the ticked purpose granted; then the site's DPO enters
/// the same person's paper consent in the console (axe finds nothing on the page), and
/// the lookup answers that receipt, of the same subject, in the person's own history.
#[test]
fn a_form_s_reference_finds_the_consent_and_links_a_paper_consent() {
    const TAX_ID: &str = "3100600123456";
    const DPO: &str = "dpo@sme.go.th";
    const PASSWORD: &str = "a long test password, 2568!";
    let server = TestServer::start(&[SITE]).expect("server");
    server
        .add_user(DPO, PASSWORD, "dpo", &[SITE])
        .expect("dpo account");
    let token = "yy_e2e_service_token_reference";
    server
        .rt
        .block_on(server.store.create_service_token(
            &yinyom_server::admin::auth::hash_secret(token),
            "registry",
            SITE,
            None,
        ))
        .expect("service token");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, SITE);
    visitor.visit_url(&subscribe_page(&server));
    visitor.banner().reject_all();
    visitor.receipts(1);
    let subject = visitor.subject();

    visitor.eval(
        "const f = document.createElement('form');
         f.action = 'received'; f.method = 'post';
         f.setAttribute('data-yinyom-form', 'registration');
         f.setAttribute('data-yinyom-reference', 'tax_id');
         f.innerHTML = '<label>tax id <input name=\"tax_id\" id=\"tax-id\"></label>'
           + '<label><input type=\"checkbox\" id=\"ref-news\" data-yinyom-purpose=\"sme_news\"> news</label>'
           + '<button type=\"submit\" id=\"ref-send\">send</button>';
         document.querySelector('main').prepend(f);
         return true;",
    );
    let field = browser.find("#tax-id").expect("tax id field");
    browser
        .send_keys(&field, &format!(" {TAX_ID} "))
        .expect("type the tax id");
    click(&browser, "#ref-news");
    click(&browser, "#ref-send");
    let fields = received(&browser);
    let receipt = verified(&server, &fields["yinyom_jws"]);
    assert_eq!(receipt["context"], "registration");
    assert_eq!(receipt["purposes"], json!({"sme_news": true}));
    assert!(
        !receipt.to_string().contains(TAX_ID),
        "the receipt does not carry the reference: {receipt}"
    );
    let rows = server
        .rt
        .block_on(server.store.every_row())
        .expect("every row");
    assert!(rows.iter().any(|(t, _)| t == "subject_references"));
    for (table, row) in &rows {
        assert!(!row.contains(TAX_ID), "{table} holds the reference: {row}");
    }

    let lookup = || -> Value {
        ureq::post(&format!("{}/v1/sites/{SITE}/consent/lookup", server.api))
            .set("Authorization", &format!("Bearer {token}"))
            .send_json(json!({"reference": TAX_ID}))
            .expect("lookup answered")
            .into_json()
            .expect("answer JSON")
    };
    let answer = lookup();
    assert_eq!(answer["status"], "active");
    assert_eq!(answer["receipt_id"], receipt["receipt_id"]);
    assert_eq!(answer["purposes"]["sme_news"], true);
    assert_eq!(answer["subject"], server.pseudonym(&subject));

    // The same person signs a paper form refusing the news; the DPO enters it.
    let axe_js = yinyom_e2e::axe::source();
    let dpo = ConsoleUser::new(&browser, &server);
    dpo.open("/admin");
    dpo.page("เข้าสู่ระบบ");
    dpo.sign_in(DPO, PASSWORD);
    dpo.open(&format!("/admin/sites/{SITE}/receipts/paper"));
    dpo.page("แบบฟอร์มกระดาษ");
    let found = yinyom_e2e::axe::violations(&browser, &axe_js, "return document;");
    assert_eq!(
        found,
        json!([]),
        "axe-core violations on the paper entry page"
    );
    for (css, text) in [
        ("#form", "registration"),
        ("#reference", TAX_ID),
        ("#document", "สพ.0042/2569"),
    ] {
        let field = browser.find(css).expect("field");
        browser.send_keys(&field, text).expect("type");
    }
    eval(
        &browser,
        "document.getElementById('signed_on').value = '2025-12-01'; return true;",
    );
    click(&browser, "input[name='purpose.sme_news'][value='refused']");
    dpo.leave();
    click(&browser, "main form button[type=submit]");
    let done = dpo.page("แบบฟอร์มกระดาษ");
    assert!(done.contains("บันทึกใบรับแล้ว"), "{done}");
    assert!(done.contains(&server.pseudonym(&subject)), "{done}");
    let found = yinyom_e2e::axe::violations(&browser, &axe_js, "return document;");
    assert_eq!(found, json!([]), "axe-core violations on the entered page");

    let answer = lookup();
    assert_eq!(answer["purposes"]["sme_news"], false);
    assert_eq!(answer["subject"], server.pseudonym(&subject));
    let history: Value = ureq::get(&format!(
        "{}/v1/sites/{SITE}/subjects/{subject}/receipts",
        server.api
    ))
    .set("Origin", &server.pages)
    .call()
    .expect("history")
    .into_json()
    .expect("history JSON");
    let latest = &history[0]["receipt"];
    assert_eq!(latest["receipt_id"], answer["receipt_id"]);
    assert_eq!(latest["method"], "paper");
    assert_eq!(latest["paper"]["document"], "สพ.0042/2569");
    verified(&server, history[0]["jws"].as_str().expect("jws"));
    assert_eq!(history.as_array().map(Vec::len), Some(3));
}
