//! The console's dates and links on a real database: Buddhist-era dates and Thailand time
//! in the Thai pages (Thailand time stated in the English ones), a visitor linked to all
//! their receipts, and an auditor's menu without a link that fails.

mod common;

use axum::http::StatusCode;
use common::{console::*, *};

/// Thailand time of an RFC 3339 UTC time, worked out here independently of the server:
/// (Buddhist-era year, "HH:MM").
fn thailand(rfc3339: &str) -> (i32, String) {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .expect("rfc3339")
        .to_offset(time::UtcOffset::from_hms(7, 0, 0).expect("offset"));
    (t.year() + 543, format!("{:02}:{:02}", t.hour(), t.minute()))
}

/// Every `href` of a page that stays in the console.
fn console_links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.starts_with("/admin"))
        .map(|h| h.replace("&amp;", "&"))
        .collect()
}

#[tokio::test]
async fn receipt_list_detail_and_audit_show_buddhist_era_and_thailand_time() {
    let c = console().await;
    let app = &c.app;
    let r = body_json(
        app.post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), "subject-dates-000001", true, false),
        )
        .await,
    )
    .await;
    let issued = r["receipt"]["issued_at"].as_str().expect("issued_at");
    let id = r["receipt"]["receipt_id"].as_str().expect("id");
    let (be_year, hm) = thailand(issued);
    let thai_time = format!("{be_year} เวลา {hm} น.");

    let list = body_text(get_as(app, &c.dpo, "/admin/sites/demo/receipts?lang=th").await).await;
    assert!(list.contains(&thai_time), "no `{thai_time}` in the list");
    assert!(
        list.contains("เวลาประเทศไทย"),
        "the column names Thailand time"
    );
    assert!(!list.contains(issued), "the list shows the raw UTC time");

    let detail = body_text(
        get_as(
            app,
            &c.dpo,
            &format!("/admin/sites/demo/receipts/{id}?lang=th"),
        )
        .await,
    )
    .await;
    assert!(
        detail.contains(&thai_time),
        "no `{thai_time}` on the receipt page"
    );

    let en = body_text(get_as(app, &c.dpo, "/admin/sites/demo/receipts?lang=en").await).await;
    assert!(
        en.contains(&format!("{}, {hm} (Thailand time)", be_year - 543)),
        "the English list states Thailand time"
    );

    let audit = body_text(get_as(app, &c.dpo, "/admin/audit?lang=th").await).await;
    assert!(
        audit.contains(&format!("{be_year} เวลา")),
        "audit log in พ.ศ."
    );
    assert!(!audit.contains("(UTC)"));

    let notices = body_text(get_as(app, &c.dpo, "/admin/sites/demo/notices?lang=th").await).await;
    assert!(
        notices.contains(&format!("{be_year} เวลา"))
            || notices.contains(&format!("{} เวลา", be_year - 1)),
        "เผยแพร่เมื่อ in พ.ศ."
    );
    // The API keeps ISO 8601 with an offset.
    let api =
        body_json(get_as(app, &c.dpo, &format!("/v1/admin/sites/demo/receipts/{id}")).await).await;
    assert_eq!(api["receipt"]["issued_at"], issued);
}

#[tokio::test]
async fn lists_link_a_visitor_to_their_other_receipts() {
    let c = console().await;
    let app = &c.app;
    for (subject, analytics) in [
        ("subject-linked-000001", true),
        ("subject-linked-000001", false),
        ("subject-others-000002", true),
    ] {
        app.post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), subject, analytics, false),
        )
        .await;
    }
    let (linked, others) = (
        app.pseudonym("subject-linked-000001"),
        app.pseudonym("subject-others-000002"),
    );
    let list = body_text(get_as(app, &c.dpo, "/admin/sites/demo/receipts").await).await;
    let link = console_links(&list)
        .into_iter()
        .find(|h| h.ends_with(&format!("receipts?subject={linked}")))
        .expect("a link to the visitor's receipts");
    let theirs = body_text(get_as(app, &c.dpo, &link).await).await;
    assert!(theirs.contains(&linked));
    assert!(!theirs.contains(&others));
    assert!(
        theirs.contains("<strong>2</strong>"),
        "both of their receipts"
    );

    // The search just made is in the audit log, linked to the same visitor.
    let audit = body_text(get_as(app, &c.dpo, "/admin/audit").await).await;
    assert!(
        console_links(&audit).contains(&link),
        "the audit log links the visitor searched for"
    );
}

#[tokio::test]
async fn an_auditors_menu_has_no_link_that_fails() {
    let c = console().await;
    let app = &c.app;
    // A DPO's search, for the auditor to review.
    get_as(
        app,
        &c.dpo,
        "/admin/sites/demo/receipts?subject=subject-secret-000001",
    )
    .await;
    let home = body_text(get_as(app, &c.auditor, "/admin").await).await;
    let links = console_links(&home);
    assert!(links.contains(&"/admin/audit".to_owned()), "{links:?}");
    for link in &links {
        let res = get_as(app, &c.auditor, link).await;
        assert_eq!(res.status(), StatusCode::OK, "the auditor's link {link}");
    }
    // The auditor sees who accessed their site, never the records.
    let audit = body_text(get_as(app, &c.auditor, "/admin/audit").await).await;
    assert!(audit.contains("receipts.search") && audit.contains("dpo@demo.go.th"));
    assert!(
        !audit.contains("subject-secret-000001"),
        "record-level detail"
    );
    let api = body_json(get_as(app, &c.auditor, "/v1/admin/audit").await).await;
    let rows = api.as_array().expect("rows");
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r["detail"] == "" && r["site_id"] == "demo")
    );
}

/// A CSV export opens in a spreadsheet: UTF-8 with a byte order mark, labels in the
/// console's language, one column per category and purpose decision, the JWS last (it
/// verifies the row).
#[tokio::test]
async fn csv_export_has_a_bom_thai_labels_a_column_per_decision_and_the_jws() {
    let c = console().await;
    let app = &c.app;
    let r = body_json(
        app.post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), "subject-csv-000001", true, false),
        )
        .await,
    )
    .await;
    let jws = r["jws"].as_str().expect("jws");

    let th = body_text(
        get_as(
            app,
            &c.dpo,
            &format!("/admin/sites/demo/export?format=csv&lang=th&{RELEASE}"),
        )
        .await,
    )
    .await;
    assert!(th.starts_with('\u{feff}'), "no BOM");
    let mut lines = th.trim_start_matches('\u{feff}').lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let row: Vec<&str> = lines.next().expect("row").split(',').collect();
    assert_eq!(header[0], "เลขที่ใบรับ");
    assert_eq!(header.len(), row.len());
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.ends_with(&format!("({name})")))
            .unwrap_or_else(|| panic!("no column for {name}: {header:?}"))
    };
    assert_eq!(row[col("analytics")], "อนุญาต");
    assert_eq!(row[col("newsletter")], "ไม่อนุญาต");
    assert_eq!(row.last(), Some(&jws), "the JWS ends the row");

    let en = body_text(
        get_as(
            app,
            &c.dpo,
            &format!("/admin/sites/demo/export?format=csv&lang=en&{RELEASE}"),
        )
        .await,
    )
    .await;
    let header = en
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .expect("header");
    assert!(header.starts_with("receipt_id,issued_at,"), "{header}");
    assert!(
        header.contains("category:analytics") && header.ends_with(",jws"),
        "{header}"
    );
}
