//! Evidence a court can read, on a real database: the console's evidence page of a receipt
//! (who, what in words with the notice's titles, which notice, when in พ.ศ. and Thailand
//! time, how, and whether it is genuine, with a QR code of the public verify page), and
//! the public `/verify` page (no sign-in, no script) that accepts a genuine receipt and
//! refuses a tampered one, sharing its verification and rate limiter with `POST /v1/verify`.

mod common;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use common::{console::*, *};
use yinyom_server::log;

/// Thailand time of an RFC 3339 UTC time, worked out here independently of the server:
/// "D <Thai month> <BE year> เวลา HH:MM น.".
fn thai_date_time(rfc3339: &str) -> String {
    const MONTHS: [&str; 12] = [
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
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .expect("rfc3339")
        .to_offset(time::UtcOffset::from_hms(7, 0, 0).expect("offset"));
    format!(
        "{} {} {} เวลา {:02}:{:02} น.",
        t.day(),
        MONTHS[usize::from(u8::from(t.month())) - 1],
        t.year() + 543,
        t.hour(),
        t.minute()
    )
}

/// A receipt on the demo site: (receipt JSON, JWS).
async fn receipt(app: &TestApp, subject: &str) -> (serde_json::Value, String) {
    let r = body_json(
        app.post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), subject, true, false),
        )
        .await,
    )
    .await;
    let jws = r["jws"].as_str().expect("jws").to_owned();
    (r["receipt"].clone(), jws)
}

/// Puts every receipt of the demo site into the log (a checkpoint; no witnesses here).
async fn sequence(app: &TestApp) {
    let signer = log::LogSigner::of(&app.state).await.expect("log key");
    log::sequence(&app.state.store, &signer, "demo")
        .await
        .expect("sequence")
        .expect("a checkpoint");
}

/// The text of an HTML page without its tags (so words split by markup still match).
fn words(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&quot;", "\"")
}

#[tokio::test]
async fn the_evidence_page_says_who_what_when_how_and_genuine_in_thai_words() {
    let c = console().await;
    let app = &c.app;
    let (rc, jws) = receipt(app, "subject-evidence-0001").await;
    sequence(app).await;
    let id = rc["receipt_id"].as_str().expect("id");
    let uri = format!("/admin/sites/demo/receipts/{id}/evidence");

    let res = get_as(app, &c.dpo, &format!("{uri}?lang=th")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(!csp.contains("script-src"), "no script allowed: {csp}");
    let html = body_text(res).await;
    let text = words(&html);
    // When: พ.ศ. and Thailand time, worked out independently.
    let when = thai_date_time(rc["issued_at"].as_str().expect("issued_at"));
    assert!(text.contains(&when), "no `{when}` in {text}");
    // What: the notice's titles and the decisions in words, never the codes.
    assert!(text.contains("คุกกี้สถิติยินยอม"), "analytics: consented");
    assert!(
        text.contains("จดหมายข่าวไม่ยินยอม"),
        "newsletter: not consented"
    );
    assert!(text.contains("ให้ความยินยอม"), "the event in words");
    assert!(
        text.contains("เลือกเองทีละรายการแล้วกด \"บันทึกตัวเลือก\""),
        "the method in words"
    );
    for code in [
        "save_preferences",
        "granted",
        "denied",
        ">given<",
        "analytics:",
    ] {
        assert!(!html.contains(code), "a raw code `{code}` on the page");
    }
    // Which notice: version link, effective date in พ.ศ., an excerpt, the fingerprint matches.
    assert!(html.contains("href=\"/sites/demo/notice/v1\""));
    assert!(text.contains("1 มกราคม 2568"), "effective date in พ.ศ.");
    assert!(text.contains("คุกกี้ที่จำเป็นทำให้เว็บไซต์ทำงาน"), "excerpt");
    assert!(text.contains("ตรงกับฉบับที่เก็บไว้"));
    // Who: the pseudonym, linked to the visitor's other receipts.
    let pseudonym = app.state.subjects.pseudonym("subject-evidence-0001");
    assert!(html.contains(&format!("/admin/sites/demo/receipts?subject={pseudonym}")));
    // Genuine: signature, key period, in the log; the QR code and the verify page.
    assert!(text.contains("หลักฐานนี้ถูกต้อง"), "{text}");
    assert!(text.contains("ใช้ลงลายมือชื่อได้"), "the key's validity");
    assert!(text.contains("อยู่ในบันทึก"), "in the log");
    assert!(html.contains("src=\"data:image/svg+xml;base64,"), "QR code");
    assert!(text.contains("http://yinyom.test/verify"));
    assert!(html.contains(&jws), "the JWS to paste at /verify");
    // Printing leaves out the console's chrome.
    assert!(html.contains("@media print{header,.skip,.noprint{display:none}"));

    // English too.
    let en = words(&body_text(get_as(app, &c.dpo, &format!("{uri}?lang=en")).await).await);
    assert!(en.contains("Analytics cookiesconsented"), "{en}");
    assert!(en.contains("Newsletternot consented"));
    assert!(en.contains("(Thailand time)"));
    assert!(en.contains("This record is genuine"));

    // An auditor of the site may show the proof (no link to record-level pages); another
    // site's DPO may not see it.
    let res = get_as(app, &c.auditor, &uri).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = body_text(res).await;
    assert!(html.contains(&app.state.subjects.pseudonym("subject-evidence-0001")));
    assert!(!html.contains("/admin/sites/demo/receipts?subject="));
    let res = get_as(app, &c.other_dpo, &uri).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Every view is audited.
    let audit = body_json(get_as(app, &c.admin, "/v1/admin/audit").await).await;
    let views = audit
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["action"] == "receipt.view" && r["detail"] == id)
        .count();
    assert!(views >= 3, "{audit}");
}

#[tokio::test]
async fn the_evidence_page_names_a_receipt_that_does_not_verify() {
    let c = console().await;
    let app = &c.app;
    let (rc, _) = receipt(app, "subject-evidence-0002").await;
    let id = rc["receipt_id"].as_str().expect("id");
    // Not in the log yet: the page says so rather than claiming it.
    let text = words(
        &body_text(
            get_as(
                app,
                &c.dpo,
                &format!("/admin/sites/demo/receipts/{id}/evidence"),
            )
            .await,
        )
        .await,
    );
    assert!(text.contains("not in the witnessed log yet"), "{text}");
    assert!(!text.contains("✓ อยู่ในบันทึก"));
}

/// A multipart form as a browser sends it: the text box and an optional file.
fn form_post(uri: &str, text: &str, file: Option<&str>) -> Request<Body> {
    let b = "----yinyomtestboundary";
    let mut body =
        format!("--{b}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n{text}\r\n");
    body.push_str(&format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.json\"\r\nContent-Type: application/json\r\n\r\n{}\r\n--{b}--\r\n",
        file.unwrap_or("")
    ));
    Request::post(uri)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={b}"),
        )
        .body(Body::from(body))
        .expect("request")
}

#[tokio::test]
async fn the_public_verify_page_accepts_a_genuine_receipt_and_refuses_a_tampered_one() {
    let app = app().await;
    let (rc, jws) = receipt(&app, "subject-verify-00001").await;
    sequence(&app).await;

    // The form, without signing in and without script.
    let res = app.get("/verify").await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"));
    let html = body_text(res).await;
    assert!(html.contains("<html lang=\"th\""));
    assert!(!html.contains("<script"));
    assert!(html.contains("enctype=\"multipart/form-data\""));

    // A pasted JWS.
    let page = words(&body_text(app.send(form_post("/verify", &jws, None)).await).await);
    assert!(page.contains("✓ ของจริง"), "{page}");
    assert!(page.contains(&thai_date_time(
        rc["issued_at"].as_str().expect("issued_at")
    )));
    assert!(page.contains("ประกาศฉบับv1"));

    // A bundle entry with its proof, uploaded as a file: in the log.
    let history = body_json(
        app.get("/v1/sites/demo/subjects/subject-verify-00001/receipts")
            .await,
    )
    .await;
    let entry = history[0].to_string();
    assert!(history[0]["proof"].is_string(), "{history}");
    let page = words(
        &body_text(
            app.send(form_post("/verify?lang=en", "", Some(&entry)))
                .await,
        )
        .await,
    );
    assert!(page.contains("Genuine"), "{page}");
    assert!(page.contains("yes (inclusion proof checked)"), "{page}");

    // Tampered: the receipt shown differs from the signed one.
    let mut forged = history[0].clone();
    forged["receipt"]["purposes"]["newsletter"] = serde_json::Value::Bool(true);
    let page = words(
        &body_text(
            app.send(form_post("/verify", &forged.to_string(), None))
                .await,
        )
        .await,
    );
    assert!(page.contains("ตรวจสอบไม่ผ่าน"), "{page}");
    assert!(
        page.contains("เนื้อหาถูกแก้ไขหลังลงลายมือชื่อ"),
        "the problem in plain words: {page}"
    );
    assert!(!page.contains("✓ ของจริง"));
    // A JWS with a changed payload byte.
    let mut parts: Vec<String> = jws.split('.').map(str::to_owned).collect();
    let flip = if parts[1].as_bytes()[10] == b'A' {
        "B"
    } else {
        "A"
    };
    parts[1].replace_range(10..11, flip);
    let bad_jws = parts.join(".");
    let page = words(&body_text(app.send(form_post("/verify", &bad_jws, None)).await).await);
    assert!(page.contains("ตรวจสอบไม่ผ่าน"), "{page}");
    // Nothing submitted.
    let page = words(&body_text(app.send(form_post("/verify", " ", None)).await).await);
    assert!(page.contains("ท่านยังไม่ได้วางข้อความหรือเลือกไฟล์"));

    // The JSON door gives the same verdicts.
    let v = body_json(app.post_json("/v1/verify", &history[0]).await).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["in_log"], true, "{v}");
    let v = body_json(app.post_json("/v1/verify", &forged).await).await;
    assert_eq!(v["valid"], false, "{v}");
}

#[tokio::test]
async fn the_verify_page_and_the_json_door_share_one_rate_limit() {
    // Three requests in the burst, then none for a minute.
    let app = app_with_limit(1, 3).await;
    let (_, jws) = receipt(&app, "subject-verify-00002").await;
    let res = app
        .send(
            Request::post("/v1/verify")
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from(jws.clone()))
                .expect("request"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.send(form_post("/verify", &jws, None)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.send(form_post("/verify", &jws, None)).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key(header::RETRY_AFTER));
    let page = body_text(res).await;
    assert!(
        page.contains("ลองใหม่ภายหลัง"),
        "an HTML page in Thai: {page}"
    );
}
