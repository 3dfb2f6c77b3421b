//! Evidence in real Chromium: a DPO opens a receipt's evidence page (พ.ศ. date, Thailand
//! time, the notice's purpose titles), prints it (print media: no console header, the
//! content still there, a PDF comes out), and anyone checks the receipt on the public
//! `/verify` page without signing in (genuine, then tampered). axe-core finds nothing on
//! either page, on a desktop and on a phone.

use serde_json::{Value, json};
use yinyom_e2e::{console::ConsoleUser, page::eval, server::TestServer, webdriver::Browser};

const SITE: &str = "osmep-sme-monitoring";
const DPO: &str = "dpo@sme.go.th";
const PASSWORD: &str = "a long test password, 2568!";

/// Runs axe on the whole page at a desktop and a phone size; panics with every violation.
fn axe_both(b: &Browser, source: &str, what: &str) {
    for (w, h, size) in [(1280, 900, "desktop"), (390, 844, "phone")] {
        b.resize(w, h).expect("resize");
        let found = yinyom_e2e::axe::violations(b, source, "return document;");
        assert_eq!(found, json!([]), "axe-core violations on {what} ({size})");
    }
    b.resize(1280, 900).expect("resize");
}

/// "D <month> YYYY เวลา HH:MM น." with a Buddhist-era year.
fn thai_date_time(t: &str) -> bool {
    t.ends_with(" น.")
        && t.split(" เวลา ")
            .next()
            .and_then(|d| d.rsplit(' ').next())
            .and_then(|y| y.parse::<u32>().ok())
            .is_some_and(|y| y > 2500)
}

#[test]
fn a_dpo_prints_evidence_and_anyone_verifies_it_publicly() {
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
    let purposes: serde_json::Map<String, Value> = n
        .consent_purposes()
        .map(|p| (p.id.to_string(), json!(true)))
        .collect();
    let categories: serde_json::Map<String, Value> = n
        .optional_categories()
        .map(|c| (c.id.to_string(), json!(true)))
        .collect();
    let r: Value = ureq::post(&format!("{}/v1/sites/{SITE}/receipts", server.api))
        .set("Origin", &server.pages)
        .send_json(json!({
            "request_id": "01900000-0000-7000-8000-0000000e0001",
            "subject_id": "e2e-evidence-subject-0001",
            "notice_version": n.version,
            "consent_revision": n.consent_revision,
            "method": "accept_all",
            "lang": "th",
            "categories": categories,
            "purposes": purposes,
            "page_path": format!("/{SITE}/"),
            "widget": "0000000000000000",
        }))
        .expect("receipt accepted")
        .into_json()
        .expect("json");
    let id = r["receipt"]["receipt_id"].as_str().expect("id").to_owned();
    let jws = r["jws"].as_str().expect("jws").to_owned();
    let in_log = server.wait_for(20, || async {
        server.store.leaf_seq(SITE, &id).await.ok()?
    });
    assert!(in_log.is_some(), "the receipt reached the log");

    let b = Browser::start().expect("browser");
    let dpo = ConsoleUser::new(&b, &server);
    dpo.open("/admin");
    dpo.page("เข้าสู่ระบบ");
    dpo.sign_in(DPO, PASSWORD);

    // From the receipt's page to its evidence page.
    dpo.open(&format!("/admin/sites/{SITE}/receipts/{id}"));
    dpo.page(&id);
    dpo.click(&format!("a[href$='/receipts/{id}/evidence']"));
    let text = dpo.page("หลักฐานความยินยอม");
    let h1 = eval(&b, "return document.querySelector('h1').textContent;");
    let when = h1
        .as_str()
        .and_then(|h| h.strip_prefix("หลักฐานความยินยอม "))
        .unwrap_or_default()
        .to_owned();
    assert!(thai_date_time(&when), "พ.ศ. and Thailand time: {h1}");
    for p in n.consent_purposes() {
        assert!(
            text.contains(p.title.get(yinyom_model::Lang::Th)),
            "purpose title {} in:\n{text}",
            p.id
        );
    }
    assert!(text.contains("กดปุ่ม \"ยอมรับทั้งหมด\""), "{text}");
    assert!(text.contains("หลักฐานนี้ถูกต้อง"), "{text}");
    assert!(text.contains("✓ อยู่ในบันทึก"), "{text}");
    let qr = eval(
        &b,
        "const i = document.querySelector('.evidence-qr img'); return i.complete && i.naturalWidth > 0;",
    );
    assert_eq!(qr, json!(true), "the QR code renders");
    axe_both(&b, &axe_js, "the evidence page");

    // Printing: no console header, the evidence still there, and a PDF comes out.
    b.cdp("Emulation.setEmulatedMedia", json!({"media": "print"}))
        .expect("print media");
    let printed = eval(
        &b,
        "return { header: getComputedStyle(document.querySelector('header')).display, \
                  note: getComputedStyle(document.querySelector('.noprint')).display, \
                  main: document.querySelector('main').innerText };",
    );
    assert_eq!(printed["header"], "none", "no console header in print");
    assert_eq!(printed["note"], "none", "no screen-only note in print");
    assert!(
        printed["main"]
            .as_str()
            .is_some_and(|m| m.contains(&when) && m.contains("หลักฐานนี้ถูกต้อง")),
        "{printed}"
    );
    let pdf = b
        .cdp("Page.printToPDF", json!({"printBackground": false}))
        .expect("print to PDF");
    assert!(
        pdf["data"].as_str().is_some_and(|d| d.len() > 1000),
        "a PDF"
    );
    b.cdp("Emulation.setEmulatedMedia", json!({"media": ""}))
        .expect("screen media");

    // English.
    dpo.click("header a[hreflang=en]");
    let en = dpo.page("Consent evidence");
    assert!(en.contains("(Thailand time)") && en.contains("pressed \"Accept all\""));

    drop(dpo);
    drop(b);

    // The public verify page: no sign-in needed (a fresh browser).
    let public = Browser::start().expect("browser");
    let anyone = ConsoleUser::new(&public, &server);
    anyone.open("/verify");
    let empty = anyone.page("ตรวจสอบหลักฐานความยินยอม");
    assert!(!empty.contains("ออกจากระบบ"), "no sign-in involved");
    axe_both(&public, &axe_js, "the public verify page");
    let area = public.find("#text").expect("textarea");
    public.send_keys(&area, &jws).expect("paste");
    anyone.click("main form button[type=submit]");
    public
        .wait_for(20, "return document.querySelector('#result');")
        .expect("result");
    let ok = anyone.text();
    assert!(ok.contains("✓ ของจริง"), "{ok}");
    assert!(
        ok.lines().any(|l| l.contains("เวลา") && l.ends_with(" น.")),
        "issued at in Thai time: {ok}"
    );
    axe_both(&public, &axe_js, "the verify page with a genuine result");

    // Tampered: the receipt shown says something the signature does not.
    let mut forged = r;
    forged["receipt"]["subject_id"] = json!("e2e-evidence-subject-9999");
    let area = public.find("#text").expect("textarea");
    public.clear(&area).expect("clear");
    public
        .send_keys(&area, &forged.to_string())
        .expect("paste tampered");
    anyone.click("main form button[type=submit]");
    public
        .wait_for(
            20,
            "return document.querySelector('#result') && document.querySelector('main p.bad');",
        )
        .expect("result");
    let bad = anyone.text();
    assert!(
        bad.contains("ตรวจสอบไม่ผ่าน") && bad.contains("เนื้อหาถูกแก้ไขหลังลงลายมือชื่อ"),
        "{bad}"
    );
    axe_both(&public, &axe_js, "the verify page with a refused receipt");
}
