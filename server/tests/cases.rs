//! The DPO's cases desk in the console: the list by due date, a case's steps (audited),
//! withdrawal on the subject's behalf (a signed, chained receipt naming the case), the
//! per-subject export (exactly that subject and the notice versions referred to), the
//! reply letter; what an auditor and another site's DPO may do.

mod common;

use axum::http::StatusCode;
use common::{console::*, *};
use yinyom_server::store::Store;

async fn exec(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(pool) => {
            sqlx::query(sql).execute(pool).await.expect(sql);
        }
        Store::Postgres(pool) => {
            sqlx::query(sql).execute(pool).await.expect(sql);
        }
    }
}

async fn post_choice(
    app: &TestApp,
    secret: &str,
    version: &str,
    newsletter: bool,
) -> serde_json::Value {
    let mut body = choice(&uuid(), secret, true, newsletter);
    body["notice_version"] = version.into();
    if version == "v2" {
        body["consent_revision"] = 2.into();
    }
    let res = app.post_json("/v1/sites/demo/receipts", &body).await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        body_text(res).await
    );
    body_json(res).await["receipt"].clone()
}

/// A visitor files a request of `kind` from the widget; its reference.
async fn file(app: &TestApp, secret: &str, kind: &str) -> String {
    let res = app
        .post_json(
            &format!("/v1/sites/demo/subjects/{secret}/requests"),
            &serde_json::json!({"kind": kind, "contact": "somchai@example.th", "message": "ขอถอนความยินยอมทั้งหมด"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    body_json(res).await["reference"]
        .as_str()
        .expect("reference")
        .to_owned()
}

async fn history(app: &TestApp, secret: &str) -> Vec<serde_json::Value> {
    let res = app
        .get(&format!("/v1/sites/demo/subjects/{secret}/receipts"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    body_json(res).await.as_array().expect("array").clone()
}

async fn audit_of(app: &TestApp, reference: &str) -> Vec<(String, String)> {
    app.state
        .store
        .audit_entries(None, None, 500)
        .await
        .expect("audit")
        .into_iter()
        .filter(|a| a.detail.starts_with(&format!("reference={reference} ")))
        .map(|a| (a.action, a.actor))
        .collect()
}

/// A request filed from the widget is in the DPO's list with its due date and days left;
/// the DPO checks the identity, withdraws on the subject's behalf (a receipt with method
/// `on_behalf` and the case reference, signed, chained to the subject's previous receipt,
/// `consent.withdrawn` queued for the webhooks), may refuse only on a ground PDPA allows
/// for the kind, answers, and prints the letter; every step is audited.
#[tokio::test]
async fn the_dpo_works_a_case_and_withdraws_on_the_subjects_behalf() {
    let c = console().await;
    let app = &c.app;
    let secret = "visitor-with-a-case-0001";
    let first = post_choice(app, secret, "v1", true).await;
    let reference = file(app, secret, "objection").await;
    let dpo = sign_in(app, DPO).await;
    yinyom_server::webhooks::add(
        &app.state.store,
        &yinyom_server::webhooks::SealKey::of(&app.state.subjects),
        "test",
        "local",
        "demo",
        "http://127.0.0.1:9/hook",
    )
    .await
    .expect("webhook");

    let list = body_text(dpo.open(app, "/admin/sites/demo/requests").await).await;
    assert!(list.contains(&reference), "{list}");
    let row = app
        .state
        .store
        .request("demo", &reference)
        .await
        .expect("read")
        .expect("case");
    let due_th = yinyom_server::dates::ymd(&row.due, yinyom_model::Lang::Th);
    assert!(due_th.contains("25"), "a Buddhist-era date: {due_th}");
    assert!(list.contains(&due_th), "due date in Thai: {due_th}");
    assert!(list.contains("เหลือ 30 วัน"), "days left");
    assert!(list.contains("คัดค้าน"), "the kind in Thai");
    // The home page links the desk.
    let home = body_text(dpo.open(app, "/admin").await).await;
    assert!(home.contains("/admin/sites/demo/requests"));

    let case_uri = format!("/admin/sites/demo/requests/{reference}");
    let page = body_text(dpo.open(app, &case_uri).await).await;
    assert!(page.contains("somchai@example.th") && page.contains("ขอถอนความยินยอมทั้งหมด"));
    // The refusal grounds offered are those of an objection (s.32), not of access (s.30).
    assert!(page.contains("compelling_grounds") && !page.contains("harms_others"));

    // Not before the identity is checked.
    let early = dpo
        .submit(
            app,
            &case_uri,
            &[("csrf", &dpo.csrf), ("action", "withdraw")],
        )
        .await;
    assert_eq!(early.status(), StatusCode::CONFLICT);
    let res = dpo
        .submit(
            app,
            &case_uri,
            &[
                ("csrf", &dpo.csrf),
                ("action", "identity"),
                ("check", "บัตรประชาชนตัวจริง ณ จุดบริการ"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Without the CSRF token nothing moves.
    let forged = dpo.submit(app, &case_uri, &[("action", "withdraw")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let res = dpo
        .submit(
            app,
            &case_uri,
            &[("csrf", &dpo.csrf), ("action", "withdraw")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // The subject's history now ends with the withdrawal on their behalf.
    let mine = history(app, secret).await;
    assert_eq!(mine.len(), 2);
    let w = &mine[0]["receipt"];
    assert_eq!(w["method"], "on_behalf");
    assert_eq!(w["event"], "withdrawn");
    assert_eq!(w["case_reference"], reference.as_str());
    assert_eq!(w["subject_id"], app.pseudonym(secret).as_str());
    assert_eq!(w["purposes"]["newsletter"], false);
    assert_eq!(w["categories"]["analytics"], false);
    // Signed over exactly the stored receipt, which names the case; chained to the
    // subject's previous receipt.
    let jwks = yinyom_server::signing::jwks(&app.state.store)
        .await
        .expect("jwks");
    let payload =
        yinyom_server::signing::verify_receipt(mine[0]["jws"].as_str().expect("jws"), &jwks)
            .expect("the signature verifies");
    let signed: serde_json::Value = serde_json::from_slice(&payload).expect("json");
    assert_eq!(&signed, w);
    let (earlier, _) = app
        .state
        .store
        .receipt("demo", first["receipt_id"].as_str().expect("id"))
        .await
        .expect("read")
        .expect("first receipt");
    assert_eq!(
        w["previous"],
        yinyom_server::store::receipts::chain_hash(&earlier.json).as_str()
    );
    // The consent check now says withdrawn; the webhooks hear consent.withdrawn.
    let consent = body_json(
        get_as(
            app,
            &c.dpo,
            &format!("/v1/sites/demo/subjects/{secret}/consent"),
        )
        .await,
    )
    .await;
    assert_eq!(consent["status"], "withdrawn", "{consent}");
    let deliveries = app
        .state
        .store
        .webhook_deliveries("demo", 20)
        .await
        .expect("log");
    assert_eq!(
        deliveries
            .iter()
            .filter(|d| d.kind == "consent.withdrawn")
            .count(),
        1
    );

    // An objection cannot be refused for harming others (an access ground): 422.
    let wrong = dpo
        .submit(
            app,
            &case_uri,
            &[
                ("csrf", &dpo.csrf),
                ("action", "refuse"),
                ("reason", "harms_others"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = dpo
        .submit(
            app,
            &case_uri,
            &[
                ("csrf", &dpo.csrf),
                ("action", "answer"),
                ("note", "ถอนความยินยอมให้แล้ว"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let row = app
        .state
        .store
        .request("demo", &reference)
        .await
        .expect("read")
        .expect("case");
    assert_eq!(row.status, "answered");
    let page = body_text(dpo.open(app, &case_uri).await).await;
    assert!(
        page.contains("ถอนความยินยอมแทนเจ้าของข้อมูล"),
        "the history shows the withdrawal"
    );

    let letter = body_text(dpo.open(app, &format!("{case_uri}/letter")).await).await;
    for part in [
        reference.as_str(),
        "สำนักงานคณะกรรมการคุ้มครองข้อมูลส่วนบุคคล",
        "สำนักงานทดสอบ",
        "ถนนทดสอบ กรุงเทพฯ",
        "dpo@demo.go.th",
        "คัดค้าน",
        "ออกใบรับที่ลงลายมือชื่อ",
    ] {
        assert!(letter.contains(part), "letter lacks {part}");
    }
    let english = body_text(dpo.open(app, &format!("{case_uri}/letter?lang=en")).await).await;
    assert!(english.contains("Office of the Personal Data Protection Committee"));
    assert!(english.contains("Test Office"));

    let steps = audit_of(app, &reference).await;
    for action in [
        "request.file",
        "request.identity",
        "request.on_behalf",
        "request.close",
        "request.view",
    ] {
        assert!(
            steps.iter().any(|(a, _)| a == action),
            "{action} audited: {steps:?}"
        );
    }
    assert!(
        steps
            .iter()
            .any(|(a, who)| a == "request.on_behalf" && who.contains(DPO))
    );
}

/// A browser cannot send a withdrawal "on behalf": 422 `staff_only_method`.
#[tokio::test]
async fn a_visitor_cannot_post_an_on_behalf_receipt() {
    let app = app().await;
    let mut body = choice(&uuid(), "visitor-pretending-01", false, false);
    body["method"] = "on_behalf".into();
    let res = app.post_json("/v1/sites/demo/receipts", &body).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(res).await["error"]["code"], "staff_only_method");
}

/// The per-subject export holds every receipt of the case's subject (also one from
/// before pseudonyms, under the raw id) and no one else's, and exactly the notice
/// versions they refer to; it is in the release and audit logs; the summary reads them
/// in words with Thai dates.
#[tokio::test]
async fn the_subject_export_holds_only_that_subject_and_their_notices() {
    let c = console().await;
    let app = &c.app;
    let secret = "subject-of-the-case-0001";
    let other = "somebody-else-entirely-2";
    let legacy = post_choice(app, secret, "v1", true).await;
    let pseudonym = app.pseudonym(secret);
    // What an older server stored: the raw id in the row and in the signed JSON.
    // Packed rows hold no JSON to edit: as an older server stored them first.
    dump::unpack(&app.state.store).await;
    exec(
        &app.state.store,
        &format!(
            "update receipts set subject_id = '{secret}', receipt_json = replace(receipt_json, '{pseudonym}', '{secret}') where subject_id = '{pseudonym}'"
        ),
    )
    .await;
    let mine = post_choice(app, secret, "v1", false).await;
    post_choice(app, other, "v1", true).await;
    // A second version that only the other visitor chose under.
    let dir = app.dir.path().join("v2");
    std::fs::create_dir_all(&dir).expect("dir");
    for f in ["site.toml", "notice.th.md", "notice.en.md"] {
        let text = std::fs::read_to_string(fixture().join(f)).expect("read");
        std::fs::write(
            dir.join(f),
            text.replace("version = \"v1\"", "version = \"v2\"")
                .replace("consent_revision = 1", "consent_revision = 2"),
        )
        .expect("write");
    }
    yinyom_server::sites::import(&app.state.store, &dir)
        .await
        .expect("v2");
    post_choice(app, other, "v2", true).await;
    let reference = file(app, secret, "access").await;

    let dpo = sign_in(app, DPO).await;
    let uri = format!("/admin/sites/demo/requests/{reference}/export.json");
    let res = dpo.open(app, &uri).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .contains("attachment")
    );
    let doc = body_json(res).await;
    let receipts = doc["receipts"].as_array().expect("receipts");
    let ids: Vec<&str> = receipts
        .iter()
        .filter_map(|r| r["receipt"]["receipt_id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            legacy["receipt_id"].as_str().expect("id"),
            mine["receipt_id"].as_str().expect("id")
        ],
        "both of the subject's receipts, oldest first, no one else's"
    );
    assert_eq!(receipts[0]["receipt"]["subject_id"], secret);
    assert_eq!(receipts[1]["receipt"]["subject_id"], pseudonym.as_str());
    assert!(
        receipts
            .iter()
            .all(|r| r["jws"].as_str().is_some_and(|j| j.split('.').count() == 3))
    );
    let versions: Vec<&str> = doc["notices"]
        .as_array()
        .expect("notices")
        .iter()
        .filter_map(|n| n["notice"]["version"].as_str())
        .collect();
    assert_eq!(
        versions,
        ["v1"],
        "only the versions the subject's receipts refer to"
    );
    assert_eq!(doc["subject"], pseudonym.as_str());

    let releases = app
        .state
        .store
        .releases(None, None, 10)
        .await
        .expect("releases");
    assert!(
        releases
            .iter()
            .any(|r| r.reference == reference && r.records == 2),
        "the release log names the case and the count"
    );

    let summary = body_text(
        dpo.open(
            app,
            &format!("/admin/sites/demo/requests/{reference}/summary"),
        )
        .await,
    )
    .await;
    assert!(summary.contains("จดหมายข่าว"), "purpose titles, not ids");
    assert!(summary.contains("คุกกี้สถิติ"));
    assert!(summary.contains("ไม่ยินยอม") && summary.contains("ยินยอม"));
    assert!(summary.contains(" น."), "Thailand time");
    let year = time::OffsetDateTime::now_utc().year() + 543;
    assert!(summary.contains(&year.to_string()), "Buddhist-era year");
    assert!(!summary.contains(&app.pseudonym(other)));

    let steps = audit_of(app, &reference).await;
    assert_eq!(
        steps.iter().filter(|(a, _)| a == "request.export").count(),
        2,
        "{steps:?}"
    );
}

/// The auditor reads the list and the case (without the contact or message) but cannot
/// act (403) nor open the subject's records or the letter (404); another site's DPO
/// finds nothing (404); the JSON door answers the same.
#[tokio::test]
async fn an_auditor_reads_cases_but_cannot_act_and_other_sites_see_nothing() {
    let c = console().await;
    let app = &c.app;
    let reference = file(app, "visitor-with-a-case-0002", "erasure").await;
    let case_uri = format!("/admin/sites/demo/requests/{reference}");

    let auditor = sign_in(app, AUDITOR).await;
    let list = auditor.open(app, "/admin/sites/demo/requests").await;
    assert_eq!(list.status(), StatusCode::OK);
    assert!(body_text(list).await.contains(&reference));
    let home = body_text(auditor.open(app, "/admin").await).await;
    assert!(
        home.contains("/admin/sites/demo/requests"),
        "the auditor's menu links the cases"
    );
    let page = body_text(auditor.open(app, &case_uri).await).await;
    assert!(page.contains(&reference));
    assert!(!page.contains("somchai@example.th") && !page.contains("ขอถอนความยินยอมทั้งหมด"));
    assert!(
        !page.contains("name=\"action\""),
        "no forms for the auditor"
    );
    assert!(!page.contains("/letter"), "no link that would 404");
    for action in ["identity", "withdraw", "erase", "answer"] {
        let res = auditor
            .submit(
                app,
                &case_uri,
                &[("csrf", &auditor.csrf), ("action", action), ("check", "x")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{action}");
    }
    for tail in ["/export.json", "/summary", "/letter"] {
        let res = auditor.open(app, &format!("{case_uri}{tail}")).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{tail}");
    }
    let row = app
        .state
        .store
        .request("demo", &reference)
        .await
        .expect("read")
        .expect("case");
    assert_eq!(row.status, "received", "nothing moved");

    let other = sign_in(app, OTHER_DPO).await;
    for uri in [
        "/admin/sites/demo/requests".to_owned(),
        case_uri.clone(),
        format!("{case_uri}/letter"),
    ] {
        assert_eq!(
            other.open(app, &uri).await.status(),
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    let res = other
        .submit(
            app,
            &case_uri,
            &[
                ("csrf", &other.csrf),
                ("action", "identity"),
                ("check", "x"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let home = body_text(other.open(app, "/admin").await).await;
    assert!(!home.contains("/admin/sites/demo/requests"));

    // JSON: the DPO sees the contact, the auditor does not, another site's DPO nothing.
    let json_uri = format!("/v1/admin/sites/demo/requests/{reference}");
    let dpo_view = body_json(get_as(app, &c.dpo, &json_uri).await).await;
    assert_eq!(dpo_view["contact"], "somchai@example.th");
    assert_eq!(dpo_view["days_left"], 30);
    assert_eq!(dpo_view["history"][0]["action"], "request.file");
    let auditor_view =
        body_json(get_as(app, &c.auditor, "/v1/admin/sites/demo/requests").await).await;
    assert_eq!(auditor_view["requests"][0]["reference"], reference.as_str());
    assert!(auditor_view["requests"][0].get("contact").is_none());
    assert_eq!(
        get_as(app, &c.other_dpo, &json_uri).await.status(),
        StatusCode::NOT_FOUND
    );
}

/// "Erase and close" on the case page erases every receipt of the subject, also one from
/// before pseudonyms under the raw id, and no one else's; the case is closed as erased
/// and the step audited with what was erased.
#[tokio::test]
async fn erasing_from_the_case_page_erases_every_receipt_of_the_subject() {
    let c = console().await;
    let app = &c.app;
    let secret = "subject-to-be-erased-0001";
    post_choice(app, secret, "v1", true).await;
    let pseudonym = app.pseudonym(secret);
    // Packed rows hold no JSON to edit: as an older server stored them first.
    dump::unpack(&app.state.store).await;
    exec(
        &app.state.store,
        &format!(
            "update receipts set subject_id = '{secret}', receipt_json = replace(receipt_json, '{pseudonym}', '{secret}') where subject_id = '{pseudonym}'"
        ),
    )
    .await;
    post_choice(app, secret, "v1", false).await;
    let stays = "someone-who-stays-000002";
    post_choice(app, stays, "v1", true).await;
    assert_eq!(history(app, secret).await.len(), 2);
    let reference = file(app, secret, "erasure").await;

    let dpo = sign_in(app, DPO).await;
    let case_uri = format!("/admin/sites/demo/requests/{reference}");
    let res = dpo
        .submit(
            app,
            &case_uri,
            &[
                ("csrf", &dpo.csrf),
                ("action", "identity"),
                ("check", "ThaID"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = dpo
        .submit(app, &case_uri, &[("csrf", &dpo.csrf), ("action", "erase")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let row = app
        .state
        .store
        .request("demo", &reference)
        .await
        .expect("read")
        .expect("case");
    assert_eq!(row.status, "erased");
    assert!(
        history(app, secret).await.is_empty(),
        "both receipts erased"
    );
    assert_eq!(history(app, stays).await.len(), 1, "no one else's");
    let closed = app
        .state
        .store
        .audit_entries(None, None, 100)
        .await
        .expect("audit")
        .into_iter()
        .find(|a| {
            a.action == "request.close" && a.detail.starts_with(&format!("reference={reference} "))
        })
        .expect("the close is audited");
    assert!(
        closed.detail.contains("2 receipts erased"),
        "{}",
        closed.detail
    );
}
