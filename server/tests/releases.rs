//! Access tiers on record-level exports: an export needs a stated purpose and a reference
//! (memo or letter number) through either door, and each one is written to the release
//! log (who, tier, purpose, reference, how many records), which the site's DPO and auditor
//! read and no one else's. A requesting agency (tier 3) exports at most 1,000 receipts at
//! a time and browses nothing. Runs on SQLite, and on PostgreSQL when
//! `YINYOM_TEST_DATABASE_URL` is set.

mod common;

use axum::http::StatusCode;
use common::{console::*, *};
use serde_json::Value;
use yinyom_server::{
    admin::auth,
    config::parse_time_ms,
    store::{Role, SearchFilter, rfc3339_ms},
};

async fn releases(c: &Console, token: &str) -> Vec<Value> {
    let res = get_as(&c.app, token, "/v1/admin/releases").await;
    assert_eq!(res.status(), StatusCode::OK);
    body_json(res).await.as_array().expect("a list").clone()
}

#[tokio::test]
async fn an_export_needs_a_purpose_and_a_reference_and_is_in_the_release_log() {
    let c = console().await;
    let app = &c.app;
    for (i, (analytics, newsletter)) in [(true, true), (true, true), (false, false)]
        .into_iter()
        .enumerate()
    {
        let res = app
            .post_json(
                "/v1/sites/demo/receipts",
                &choice(
                    &uuid(),
                    &format!("subject-release-{i:06}"),
                    analytics,
                    newsletter,
                ),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }

    // The API: without a purpose or without a reference, no file and no release.
    for query in [
        "format=jsonl",
        "format=jsonl&purpose=audit",
        "format=jsonl&reference=0401%2F123",
        "format=jsonl&purpose=%20&reference=0401%2F123",
    ] {
        let res = get_as(app, &c.dpo, &format!("/v1/admin/sites/demo/export?{query}")).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        let body = body_json(res).await;
        assert_eq!(
            body["error"]["code"], "release_needs_purpose_and_reference",
            "{query}: {body}"
        );
    }
    // The console: its export link opens a form asking for them (with the filters and
    // the format), and says what is missing when one is left out.
    let form = get_as(
        app,
        &c.dpo,
        "/admin/sites/demo/export?format=csv&method=accept_all",
    )
    .await;
    assert_eq!(form.status(), StatusCode::OK);
    let html = body_text(form).await;
    assert!(html.contains("name=\"purpose\"") && html.contains("name=\"reference\""));
    assert_eq!(hidden_fields(&html), "method=accept_all&format=csv");
    let half = get_as(
        app,
        &c.dpo,
        "/admin/sites/demo/export?format=csv&purpose=audit&reference=",
    )
    .await;
    assert_eq!(half.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body_text(half)
            .await
            .contains("give the memo or letter number")
    );
    assert!(
        releases(&c, &c.dpo).await.is_empty(),
        "nothing was released"
    );

    // With both: the file, and one release log entry counting what it carries.
    let res = get_as(
        app,
        &c.dpo,
        "/v1/admin/sites/demo/export?format=jsonl&method=accept_all\
         &purpose=%E0%B8%95%E0%B8%A3%E0%B8%A7%E0%B8%88%E0%B8%AA%E0%B8%AD%E0%B8%9A&reference=%E0%B8%AA%E0%B8%AA%E0%B8%A7.%200401%2F123",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let lines = body_text(res).await.lines().count();
    assert_eq!(lines, 2, "the two Accept all receipts");
    let console_file = get_as(
        app,
        &c.admin,
        &format!("/admin/sites/demo/export?format=csv&{RELEASE}"),
    )
    .await;
    assert_eq!(console_file.status(), StatusCode::OK);
    assert_eq!(
        body_text(console_file).await.lines().count(),
        4,
        "header + 3"
    );

    let log = releases(&c, &c.dpo).await;
    assert_eq!(log.len(), 2, "{log:?}");
    let (admins, dpos) = (&log[0], &log[1]);
    assert_eq!(dpos["site_id"], "demo");
    assert_eq!(dpos["role"], "dpo");
    assert_eq!(dpos["tier"], 1);
    assert_eq!(dpos["format"], "jsonl");
    assert_eq!(dpos["purpose"], "ตรวจสอบ");
    assert_eq!(dpos["reference"], "สสว. 0401/123");
    assert_eq!(dpos["records"], 2);
    assert!(
        dpos["actor"].as_str().is_some_and(|a| a.contains(DPO)),
        "{dpos}"
    );
    assert_eq!(
        (&admins["role"], &admins["records"], &admins["reference"]),
        (
            &Value::from("admin"),
            &Value::from(3),
            &Value::from("TEST-0001")
        )
    );

    // The site's auditor reads the same log (and the console page), though never the
    // records; the other site's DPO sees none of it; an admin sees it all.
    assert_eq!(releases(&c, &c.auditor).await, log);
    let page = body_text(get_as(app, &c.auditor, "/admin/releases?lang=en").await).await;
    assert!(
        page.contains("สสว. 0401/123") && page.contains("Tier 1, internal unit (memo)"),
        "{page}"
    );
    assert!(
        page.contains("Tier 5, public (statistics only)"),
        "the tiers"
    );
    assert!(releases(&c, &c.other_dpo).await.is_empty());
    assert_eq!(releases(&c, &c.admin).await.len(), 2);
    let still_no_records = get_as(
        app,
        &c.auditor,
        &format!("/v1/admin/sites/demo/export?format=jsonl&{RELEASE}"),
    )
    .await;
    assert_eq!(still_no_records.status(), StatusCode::NOT_FOUND);
    assert_eq!(releases(&c, &c.admin).await.len(), 2);
}

#[tokio::test]
async fn a_requesting_agency_exports_by_letter_within_its_cap_and_browses_nothing() {
    let c = console().await;
    let app = &c.app;
    let store = &app.state.store;
    let hash = auth::hash_password(PASSWORD).expect("hash");
    let id = store
        .create_user(
            "records@agency.go.th",
            &hash,
            Role::Agency,
            &["demo".to_owned()],
        )
        .await
        .expect("user");
    let agency = format!("yy_test_{id}_{}", uuid());
    store
        .create_token(&auth::hash_secret(&agency), "letters", id)
        .await
        .expect("token");

    // 1,001 receipts: one posted now, 1,000 on 1 October 2026 (Thailand).
    let res = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), "subject-agency-000000", true, true),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let all = SearchFilter {
        site: "demo".into(),
        ..Default::default()
    };
    let template = store
        .receipts_page(&all, None, 1)
        .await
        .expect("page")
        .pop()
        .expect("the posted receipt");
    let day = parse_time_ms("2026-10-01").expect("date");
    let seeded: Vec<_> = (0..1_000)
        .map(|i| {
            let mut r = template.clone();
            r.receipt.receipt_id = uuid();
            r.receipt.request_id = uuid();
            r.receipt.subject_id = format!("subject-agency-{:06}", i + 1);
            r.receipt.previous = None;
            r.receipt.issued_at = rfc3339_ms(day + i * 1_000);
            r.issued_at_ms = day + i * 1_000;
            r
        })
        .collect();
    store.seed_receipts(&seeded).await.expect("seed");

    // It browses nothing: no search, no receipt, no audit log, no release log.
    for uri in [
        "/v1/admin/sites/demo/receipts",
        "/admin/sites/demo/receipts",
        "/admin/sites/demo/notices/publish",
    ] {
        let res = get_as(app, &agency, uri).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
    }
    let audit = body_json(get_as(app, &agency, "/v1/admin/audit").await).await;
    assert_eq!(audit, serde_json::json!([]));

    // Over the cap: refused, nothing released.
    let letter = "purpose=%E0%B8%82%E0%B8%AD%E0%B8%82%E0%B9%89%E0%B8%AD%E0%B8%A1%E0%B8%B9%E0%B8%A5&reference=%E0%B8%A1%E0%B8%97%200201%2F45";
    let res = get_as(
        app,
        &agency,
        &format!("/v1/admin/sites/demo/export?format=jsonl&{letter}"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = body_json(res).await;
    assert_eq!(body["error"]["code"], "release_over_cap", "{body}");
    assert!(releases(&c, &c.dpo).await.is_empty());
    // The same export for a DPO (tier 1) has no cap.
    let res = get_as(
        app,
        &c.dpo,
        &format!("/v1/admin/sites/demo/export?format=jsonl&{RELEASE}"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_text(res).await.lines().count(), 1_001);

    // Narrowed to 1,000 (the cap itself): released, and logged as tier 3.
    let res = get_as(
        app,
        &agency,
        &format!("/v1/admin/sites/demo/export?format=csv&to=2026-10-02&{letter}"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        body_text(res).await.lines().count(),
        1 + 1_000,
        "header + 1,000"
    );
    let log = releases(&c, &c.auditor).await;
    assert_eq!(log.len(), 2, "{log:?}");
    let entry = &log[0];
    assert_eq!(
        (
            &entry["role"],
            &entry["tier"],
            &entry["records"],
            &entry["purpose"],
            &entry["reference"]
        ),
        (
            &Value::from("agency"),
            &Value::from(3),
            &Value::from(1_000),
            &Value::from("ขอข้อมูล"),
            &Value::from("มท 0201/45")
        )
    );
    assert!(
        releases(&c, &agency).await.is_empty(),
        "not the agency's to read"
    );
    // The console's form tells the agency its tier and cap.
    let form = body_text(get_as(app, &agency, "/admin/sites/demo/export?lang=en").await).await;
    assert!(
        form.contains("Tier 3, government agency (official letter)")
            && form.contains("at most 1000"),
        "{form}"
    );
}
