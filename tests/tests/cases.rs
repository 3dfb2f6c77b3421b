//! The DPO's cases desk in real Chromium: a request a visitor filed (through the public
//! API, as the widget does) is in the cases list with its due date in Thai; the DPO
//! opens the case, records the identity check and withdraws consent on the subject's
//! behalf with real clicks and typing; the reply letter and the subject's summary print
//! without the console's header. axe-core finds nothing on the list, the case, the letter
//! and the summary, on a desktop and on a phone.

use serde_json::{Value, json};
use yinyom_e2e::{console::ConsoleUser, page::eval, server::TestServer, webdriver::Browser};

const SITE: &str = "osmep-sme-monitoring";
const DPO: &str = "dpo@sme.go.th";
const PASSWORD: &str = "a long test password, 2568!";
const SECRET: &str = "e2e-subject-with-a-case-01";

/// Runs axe on the whole page at a desktop and a phone size; panics with every violation.
fn axe_both(b: &Browser, source: &str, what: &str) {
    for (w, h, size) in [(1280, 900, "desktop"), (390, 844, "phone")] {
        b.resize(w, h).expect("resize");
        let found = yinyom_e2e::axe::violations(b, source, "return document;");
        assert_eq!(found, json!([]), "axe-core violations on {what} ({size})");
    }
    b.resize(1280, 900).expect("resize");
}

/// In print media the console's header and the screen-only notes are hidden and `main`
/// still holds `text`.
fn prints_clean(b: &Browser, text: &str) {
    b.cdp("Emulation.setEmulatedMedia", json!({"media": "print"}))
        .expect("print media");
    let printed = eval(
        b,
        "return { header: getComputedStyle(document.querySelector('header')).display, \
                  note: getComputedStyle(document.querySelector('.noprint')).display, \
                  main: document.querySelector('main').innerText };",
    );
    assert_eq!(printed["header"], "none", "no console header in print");
    assert_eq!(printed["note"], "none", "no screen-only note in print");
    assert!(
        printed["main"].as_str().is_some_and(|m| m.contains(text)),
        "{printed}"
    );
    b.cdp("Emulation.setEmulatedMedia", json!({"media": ""}))
        .expect("screen media");
}

#[test]
fn a_filed_request_is_worked_in_the_console_and_consent_withdrawn_on_behalf() {
    let axe_js = yinyom_e2e::axe::source();
    let server = TestServer::start(&[SITE]).expect("server");
    server
        .add_user(DPO, PASSWORD, "dpo", &[SITE])
        .expect("dpo account");
    let notice = server
        .rt
        .block_on(server.store.current_notice(SITE))
        .expect("db")
        .expect("notice");
    let n = &notice.notice;
    let all = |v: bool| -> (
        serde_json::Map<String, Value>,
        serde_json::Map<String, Value>,
    ) {
        (
            n.consent_purposes()
                .map(|p| (p.id.to_string(), json!(v)))
                .collect(),
            n.optional_categories()
                .map(|c| (c.id.to_string(), json!(v)))
                .collect(),
        )
    };
    let (purposes, categories) = all(true);
    ureq::post(&format!("{}/v1/sites/{SITE}/receipts", server.api))
        .set("Origin", &server.pages)
        .send_json(json!({
            "request_id": "01900000-0000-7000-8000-0000000c0001",
            "subject_id": SECRET,
            "notice_version": n.version,
            "consent_revision": n.consent_revision,
            "method": "accept_all",
            "lang": "th",
            "categories": categories,
            "purposes": purposes,
            "page_path": format!("/{SITE}/"),
            "widget": "0000000000000000",
        }))
        .expect("receipt accepted");
    let filed: Value = ureq::post(&format!(
        "{}/v1/sites/{SITE}/subjects/{SECRET}/requests",
        server.api
    ))
    .set("Origin", &server.pages)
    .send_json(json!({"kind": "objection", "message": "ไม่ประสงค์รับข่าวสารอีกต่อไป", "contact": "somsri@example.th"}))
    .expect("request filed")
    .into_json()
    .expect("json");
    let reference = filed["reference"].as_str().expect("reference").to_owned();
    let due =
        yinyom_server::dates::ymd(filed["due"].as_str().expect("due"), yinyom_model::Lang::Th);

    let b = Browser::start().expect("browser");
    let dpo = ConsoleUser::new(&b, &server);
    dpo.open("/admin");
    dpo.page("เข้าสู่ระบบ");
    dpo.sign_in(DPO, PASSWORD);

    // From the menu to the list: the case, its due date in พ.ศ., 30 days left.
    dpo.follow("คำร้องของเจ้าของข้อมูล");
    let list = dpo.page("คำร้องของเจ้าของข้อมูล");
    assert!(list.contains(&reference), "{list}");
    assert!(list.contains(&due), "due date {due} in:\n{list}");
    assert!(list.contains("เหลือ 30 วัน"), "{list}");
    axe_both(&b, &axe_js, "the cases list");

    // The case: what was asked and by whom, then its steps.
    dpo.follow(&reference);
    let case = dpo.page(&reference);
    assert!(case.contains("ไม่ประสงค์รับข่าวสารอีกต่อไป") && case.contains("somsri@example.th"));
    axe_both(&b, &axe_js, "a case (received)");
    let check = b.find("#check").expect("identity check field");
    b.send_keys(&check, "ตรวจบัตรประชาชนตัวจริง ณ จุดบริการ")
        .expect("type");
    dpo.click("form:has(input[value=identity]) button");
    let case = dpo.page(&reference);
    assert!(case.contains("ตรวจสอบตัวตนแล้ว"), "{case}");
    axe_both(&b, &axe_js, "a case (identity checked)");
    dpo.click("form:has(input[value=withdraw]) button");
    let case = dpo.page(&reference);
    assert!(case.contains("ถอนความยินยอมแทนเจ้าของข้อมูล"), "{case}");

    // The subject's own history holds the signed withdrawal naming the case.
    let history: Value = ureq::get(&format!(
        "{}/v1/sites/{SITE}/subjects/{SECRET}/receipts",
        server.api
    ))
    .set("Origin", &server.pages)
    .call()
    .expect("history")
    .into_json()
    .expect("json");
    let newest = &history[0]["receipt"];
    assert_eq!(newest["method"], "on_behalf", "{history}");
    assert_eq!(newest["case_reference"], reference.as_str());
    assert!(
        newest["previous"].is_string(),
        "chained to the earlier receipt"
    );
    assert!(
        newest["purposes"]
            .as_object()
            .is_some_and(|p| p.values().all(|v| v == false))
    );

    // The reply letter: Thai, printable, and the right to complain to the PDPC office.
    dpo.follow("หนังสือแจ้งผลถึงผู้ยื่นคำร้อง");
    let letter = dpo.page("หนังสือแจ้งผลคำร้องเลขที่");
    assert!(
        letter.contains("สำนักงานคณะกรรมการคุ้มครองข้อมูลส่วนบุคคล"),
        "{letter}"
    );
    assert!(letter.contains(n.controller.name.th.as_str()), "{letter}");
    axe_both(&b, &axe_js, "the reply letter");
    prints_clean(&b, "สำนักงานคณะกรรมการคุ้มครองข้อมูลส่วนบุคคล");
    dpo.follow("English letter");
    let english = dpo.page("Reply to case");
    assert!(english.contains("Office of the Personal Data Protection Committee"));
    axe_both(&b, &axe_js, "the English reply letter");

    // The subject's records in words, printable.
    dpo.open(&format!(
        "/admin/sites/{SITE}/requests/{reference}/summary?lang=th"
    ));
    let summary = dpo.page("สรุปบันทึกความยินยอม");
    for p in n.consent_purposes() {
        assert!(
            summary.contains(p.title.th.as_str()),
            "{} in:\n{summary}",
            p.id
        );
    }
    assert!(
        summary.contains("เจ้าหน้าที่บันทึกการถอนความยินยอมตามคำร้องของท่าน"),
        "{summary}"
    );
    axe_both(&b, &axe_js, "the subject's summary");
    prints_clean(&b, &reference);
}
