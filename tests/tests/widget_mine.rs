//! "My consent" in real Chromium, on a desktop and on a phone (360×740, touch): each
//! receipt downloads as a proof bundle (the entry the server sent: receipt, JWS,
//! tlog-proof) that `POST /v1/verify` finds genuine and in the log, every bundle downloads
//! in one JSON Lines file, the browser keeps its own copies, and a receipt the operator
//! deleted from the database is reported as missing and can still be downloaded and
//! verified. The data-subject request form: by keyboard, what is missing and a failure are
//! said and focused; filing one (with the requests API) shows its reference and due date.
//! axe-core checks every state.

use serde_json::{Value, json};
use yinyom_e2e::page::{FLOATING_BUTTON, R, Visitor, eventually, in_widget};
use yinyom_e2e::{
    server::TestServer,
    webdriver::{Browser, keys},
};
use yinyom_server::store::Store;

const SITE: &str = "osmep-sme-monitoring";

/// Runs axe on the widget; panics with every violation found.
fn axe(visitor: &Visitor<'_>, source: &str, what: &str) {
    let found = yinyom_e2e::axe::violations(visitor.browser, source, &format!("{R} return h;"));
    assert_eq!(found, json!([]), "axe-core violations in {what}");
}

/// Emulates a phone: 360×740 CSS px, touch.
fn phone(b: &Browser) {
    b.cdp(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": true}),
    )
    .expect("device metrics");
    b.cdp(
        "Emulation.setTouchEmulationEnabled",
        json!({"enabled": true, "maxTouchPoints": 5}),
    )
    .expect("touch");
}

/// On a phone: the settings fit the screen and nothing in them scrolls sideways.
fn fits_the_phone(visitor: &Visitor<'_>) {
    let fit = visitor.eval(&format!(
        "{R} const m = r.querySelector('.modal'), b = r.querySelector('.body'); \
         const box = m.getBoundingClientRect(); \
         return [box.left >= 0 && box.right <= innerWidth + 1, b.scrollWidth <= b.clientWidth + 1];"
    ));
    assert_eq!(fit, json!([true, true]), "My consent fits 360 px");
}

/// `POST /v1/verify` with `bundle` (an entry's JSON text, as downloaded).
fn verify(server: &TestServer, bundle: &str) -> Value {
    ureq::post(&format!("{}/v1/verify", server.api))
        .set("content-type", "application/json")
        .send_string(bundle)
        .expect("POST /v1/verify")
        .into_json()
        .expect("verdict JSON")
}

/// The verdict says genuine and in the log.
fn genuine(verdict: &Value) {
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["in_log"], true, "{verdict}");
    assert_eq!(verdict["site"], SITE, "{verdict}");
}

/// Deletes receipt `id` from the server's database, as an
/// operator with write access could.
fn drop_receipt(server: &TestServer, id: &str) {
    let Store::Sqlite(pool) = &server.store else {
        panic!("the end-to-end server runs on SQLite");
    };
    server.rt.block_on(async {
        sqlx::query("delete from receipts where receipt_id = ?")
            .bind(id)
            .execute(pool)
            .await
            .expect("delete");
    });
}

/// Opens My consent from the floating button.
fn open_mine(visitor: &Visitor<'_>) {
    visitor.wait(10, FLOATING_BUTTON, "the floating button");
    visitor.open_settings_from_the_button();
    visitor.settings().tab("mine");
}

fn bundles_verify_and_a_dropped_receipt_is_reported(on_phone: bool) {
    let axe_js = yinyom_e2e::axe::source();
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    let screen = if on_phone { "phone" } else { "desktop" };
    if on_phone {
        phone(&browser);
    }
    let downloads = tempfile::tempdir().expect("download dir");
    let visitor = Visitor::new(&browser, &server, SITE);
    visitor.allow_downloads(downloads.path());
    visitor.visit();
    visitor.banner().accept_all();
    visitor.receipts(1);
    visitor.open_settings_from_the_button();
    visitor.settings().reject_all();
    // Both receipts in the log: the server's list carries their proofs.
    let entries = eventually(20, "both receipts have their proof", || {
        let r = visitor.receipts_now();
        (r.len() == 2 && r.iter().all(|e| e["proof"].is_string())).then_some(r)
    });
    let newest = entries[0]["receipt"]["receipt_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let oldest = entries[1]["receipt"]["receipt_id"]
        .as_str()
        .expect("id")
        .to_owned();

    open_mine(&visitor);
    let settings = visitor.settings();
    let (listed, missing) = eventually(20, "both receipts listed", || {
        let rows = settings.receipt_rows();
        (rows.0.len() == 2).then_some(rows)
    });
    assert_eq!(listed, vec![newest.clone(), oldest.clone()]);
    assert!(missing.is_empty(), "nothing missing yet: {missing:?}");
    axe(
        &visitor,
        &axe_js,
        &format!("My consent with receipts ({screen})"),
    );
    if on_phone {
        fits_the_phone(&visitor);
        let small = visitor.eval(&format!(
            "{R} return [...r.querySelectorAll('.history a, [data-action=download]')] \
               .filter(e => e.getBoundingClientRect().height < 43.5).length;"
        ));
        assert_eq!(
            small,
            json!(0),
            "every download link is at least 44 px tall"
        );
    }

    // One receipt's bundle: exactly the server's entry, genuine and in the log.
    settings.download_bundle(&newest);
    let bundle = yinyom_e2e::downloaded(downloads.path(), &format!("yinyom-{SITE}-{newest}.json"));
    let parsed: Value = serde_json::from_str(&bundle).expect("the bundle is JSON");
    assert_eq!(
        parsed, entries[0],
        "the bundle is the entry the server sent"
    );
    genuine(&verify(&server, &bundle));

    // Every bundle in one file, one entry a line.
    settings.download_all();
    let all = yinyom_e2e::downloaded(downloads.path(), &format!("yinyom-{SITE}-receipts.jsonl"));
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 2, "{all}");
    for (line, entry) in lines.iter().zip(&entries) {
        assert_eq!(
            serde_json::from_str::<Value>(line).expect("a JSON line"),
            *entry
        );
        genuine(&verify(&server, line));
    }

    // The browser keeps its own copies, with their proofs, oldest first.
    let held = visitor.held_receipts();
    let held_ids: Vec<&str> = held
        .iter()
        .filter_map(|e| e["receipt"]["receipt_id"].as_str())
        .collect();
    assert_eq!(held_ids, vec![oldest.as_str(), newest.as_str()]);
    assert!(held.iter().all(|e| e["proof"].is_string()), "{held:?}");

    // The operator deletes the first receipt from the database: the server no longer
    // lists it; the widget says so and still offers its bundle, which still verifies.
    drop_receipt(&server, &oldest);
    assert_eq!(visitor.receipts(1)[0]["receipt"]["receipt_id"], newest);
    visitor.visit();
    open_mine(&visitor);
    let settings = visitor.settings();
    let (listed, missing) = eventually(20, "the missing receipt reported", || {
        let rows = settings.receipt_rows();
        (!rows.1.is_empty()).then_some(rows)
    });
    assert_eq!(listed, vec![newest]);
    assert_eq!(missing, vec![oldest.clone()]);
    let warning = visitor.eval(&format!(
        "{R} return r.querySelector('[data-missing]').textContent;"
    ));
    assert!(
        warning
            .as_str()
            .is_some_and(|w| w.contains("ใบรับบางฉบับหายไปจากเซิร์ฟเวอร์")),
        "the warning is in Thai: {warning}"
    );
    axe(
        &visitor,
        &axe_js,
        &format!("My consent with a missing receipt ({screen})"),
    );
    if on_phone {
        fits_the_phone(&visitor);
    }
    settings.download_bundle(&oldest);
    let dropped = yinyom_e2e::downloaded(downloads.path(), &format!("yinyom-{SITE}-{oldest}.json"));
    let parsed: Value = serde_json::from_str(&dropped).expect("the bundle is JSON");
    assert_eq!(
        parsed, entries[1],
        "the dropped receipt's bundle, as first sent"
    );
    genuine(&verify(&server, &dropped));
    assert_eq!(
        visitor.held_receipts().len(),
        2,
        "the dropped receipt stays kept"
    );

    // In English too.
    settings.switch_language();
    visitor.wait(
        10,
        &format!(
            "{R} const m = r.querySelector('[data-missing]'); \
             return m && m.textContent.includes('Some receipts are missing from the server');"
        ),
        "the warning in English",
    );
}

#[test]
fn bundles_verify_and_a_dropped_receipt_is_reported_on_desktop() {
    bundles_verify_and_a_dropped_receipt_is_reported(false);
}

#[test]
fn bundles_verify_and_a_dropped_receipt_is_reported_on_a_phone() {
    bundles_verify_and_a_dropped_receipt_is_reported(true);
}

/// The focused element inside the widget: `[tag, id or value or data attribute]`.
fn focused(visitor: &Visitor<'_>) -> Value {
    visitor.eval(&format!(
        "{R} const a = r.activeElement; \
         return a && [a.tagName.toLowerCase(), a.value || a.id || (a.hasAttribute('data-filing') ? 'filing' : '')];"
    ))
}

/// The request form by keyboard alone: sending without a kind says so and focuses the
/// kinds; with a kind, a request the server cannot take (it is down) says so, is focused,
/// and keeps what was typed. Desktop and phone, axe on each state.
fn the_request_form_by_keyboard(on_phone: bool) {
    let axe_js = yinyom_e2e::axe::source();
    let mut server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    let screen = if on_phone { "phone" } else { "desktop" };
    if on_phone {
        phone(&browser);
    }
    let visitor = Visitor::new(&browser, &server, SITE);
    visitor.visit();
    visitor.banner().reject_all();
    open_mine(&visitor);
    visitor.wait(10, &in_widget("form[data-request]"), "the request form");
    axe(&visitor, &axe_js, &format!("the request form ({screen})"));
    if on_phone {
        fits_the_phone(&visitor);
        let small = visitor.eval(&format!(
            "{R} return [...r.querySelectorAll('form[data-request] .radio, [data-action=send-request]')] \
               .filter(e => e.getBoundingClientRect().height < 43.5).length;"
        ));
        assert_eq!(small, json!(0), "every target is at least 44 px tall");
    }

    visitor.eval(&format!(
        "{R} r.querySelector('[data-action=send-request]').focus(); return 1;"
    ));
    browser.press(&[keys::ENTER], false).expect("Enter");
    visitor.wait(
        10,
        &in_widget("#yy-kind-err"),
        "the form says a kind is needed",
    );
    assert_eq!(focused(&visitor), json!(["input", "access"]));
    axe(
        &visitor,
        &axe_js,
        &format!("the form without a kind ({screen})"),
    );

    // Space picks the focused kind; Tab reaches the message.
    browser.press(&[keys::SPACE], false).expect("Space");
    visitor.wait(
        10,
        &format!(
            "{R} return r.querySelector('fieldset.kind input[value=access]').checked && !r.querySelector('#yy-kind-err');"
        ),
        "access picked, the error gone",
    );
    let message = browser
        .element(&in_widget("#yy-rq-message"))
        .expect("message");
    browser
        .send_keys(&message, "ขอสำเนาข้อมูลของฉัน")
        .expect("type");

    server.stop().expect("stop the server");
    visitor.eval(&format!(
        "{R} r.querySelector('[data-action=send-request]').focus(); return 1;"
    ));
    browser.press(&[keys::ENTER], false).expect("Enter");
    visitor.wait(20, &in_widget("[data-filing].error"), "the failure is said");
    assert_eq!(focused(&visitor), json!(["p", "filing"]));
    assert_eq!(
        visitor.eval(&format!(
            "{R} return [r.querySelector('#yy-rq-message').value, r.querySelector('fieldset.kind input[value=access]').checked];"
        )),
        json!(["ขอสำเนาข้อมูลของฉัน", true]),
        "what was typed stays, to send again"
    );
    axe(&visitor, &axe_js, &format!("a failed request ({screen})"));
    server.restart().expect("restart");
}

#[test]
fn the_request_form_by_keyboard_on_desktop() {
    the_request_form_by_keyboard(false);
}

#[test]
fn the_request_form_by_keyboard_on_a_phone() {
    the_request_form_by_keyboard(true);
}

/// Thai month names, January first.
const THAI_MONTHS: [&str; 12] = [
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
];

/// `2027-01-02` (a Thailand day) or `2027-01-02T…+07:00` as "2 มกราคม 2570" (the date
/// in Thailand, Buddhist era).
fn thai_date(iso: &str) -> String {
    assert!(
        iso.len() == 10 || iso.ends_with("+07:00"),
        "the API gives a Thailand day or Thailand time: {iso}"
    );
    let num = |r: std::ops::Range<usize>| -> usize {
        iso.get(r).and_then(|s| s.parse().ok()).expect("a date")
    };
    format!(
        "{} {} {}",
        num(8..10),
        THAI_MONTHS[num(5..7) - 1],
        num(0..4) + 543
    )
}

/// A visitor files an erasure request from My consent: the widget shows its reference
/// and due date (Buddhist era, Thailand time) and lists it; the server has it; after a
/// reload the list still shows it with its status.
#[test]
fn a_visitor_files_a_request_and_sees_its_due_date() {
    let axe_js = yinyom_e2e::axe::source();
    let server = TestServer::start(&[SITE]).expect("server");
    let browser = Browser::start().expect("browser");
    let visitor = Visitor::new(&browser, &server, SITE);
    visitor.visit();
    visitor.banner().accept_all();
    open_mine(&visitor);
    let settings = visitor.settings();
    settings.file_request("erasure", "โปรดลบข้อมูลของฉัน", "somchai@example.org");
    let reference = visitor.wait(
        20,
        &format!("{R} const f = r.querySelector('[data-filing][data-reference]'); return f && f.dataset.reference;"),
        "the reference shown",
    );
    let reference = reference.as_str().expect("a reference").to_owned();
    assert_eq!(focused(&visitor), json!(["p", "filing"]));
    let url = format!(
        "{}/v1/sites/{SITE}/subjects/{}/requests",
        server.api,
        visitor.subject()
    );
    let list: Vec<Value> = ureq::get(&url)
        .call()
        .expect("GET requests")
        .into_json()
        .expect("JSON");
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["reference"], reference.as_str());
    assert_eq!(list[0]["kind"], "erasure");
    let due = thai_date(list[0]["due"].as_str().expect("due"));
    let said = visitor.eval(&format!(
        "{R} return r.querySelector('[data-filing]').textContent;"
    ));
    let said = said.as_str().unwrap_or_default();
    assert!(
        said.contains(&reference) && said.contains(&due),
        "{said} names {reference} and {due}"
    );
    axe(&visitor, &axe_js, "a filed request");

    visitor.visit();
    open_mine(&visitor);
    let row = visitor.wait(
        20,
        &format!(
            "{R} const li = r.querySelector(\"[data-request-ref='{reference}']\"); return li && li.textContent;"
        ),
        "the request listed after a reload",
    );
    let row = row.as_str().unwrap_or_default();
    assert!(row.contains("ขอให้ลบข้อมูล") && row.contains(&due), "{row}");
}
