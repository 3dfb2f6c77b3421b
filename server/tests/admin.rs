//! The DPO console and admin API on a real database: sign-in, CSRF, throttling, per-site
//! roles and isolation, search, detail, verification, diffs, statistics, exports, audit.

mod common;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use common::{console::*, *};
use yinyom_server::log;

/// A DPO signs in, sees only their site, and signs out; a form without the CSRF token is
/// refused; an unknown visitor is sent to the sign-in page.
#[tokio::test]
async fn sign_in_csrf_and_sign_out() {
    let c = console().await;
    let app = &c.app;
    let anonymous = app.get("/admin").await;
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers()[header::LOCATION], "/admin/login");
    assert_eq!(
        app.get("/v1/admin/sites").await.status(),
        StatusCode::UNAUTHORIZED
    );

    let dpo = sign_in(app, DPO).await;
    let (cookie, csrf) = (&dpo.cookie, &dpo.csrf);
    let home = body_text(dpo.open(app, "/admin").await).await;
    assert!(home.contains("/admin/sites/demo/receipts"));
    assert!(
        !home.contains("/admin/sites/other/"),
        "a DPO of demo must not see other"
    );

    let post = |body: String| {
        Request::post("/admin/logout")
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request")
    };
    assert_eq!(
        app.send(post(String::new())).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.send(post("csrf=wrong".into())).await.status(),
        StatusCode::FORBIDDEN
    );
    let out = app.send(post(form(&[("csrf", csrf)]))).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after = dpo.open(app, "/admin").await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "the session is over");

    let audit = body_json(get_as(app, &c.admin, "/v1/admin/audit").await).await;
    let actions: Vec<&str> = audit
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"login") && actions.contains(&"logout"),
        "{actions:?}"
    );
}

/// Five wrong passwords throttle that e-mail: the right password is refused too.
#[tokio::test]
async fn repeated_wrong_passwords_are_throttled() {
    let c = console().await;
    for _ in 0..5 {
        assert_eq!(
            session(&c.app, DPO, "wrong password!!", "198.51.100.1").await,
            Err(StatusCode::UNAUTHORIZED)
        );
    }
    assert_eq!(
        session(&c.app, DPO, PASSWORD, "198.51.100.1").await,
        Err(StatusCode::TOO_MANY_REQUESTS)
    );
    let audit = body_json(get_as(&c.app, &c.admin, "/v1/admin/audit").await).await;
    assert!(
        audit
            .as_array()
            .expect("rows")
            .iter()
            .any(|r| r["action"] == "login.throttled")
    );
}

/// A DPO of one site gets 404 for every page, record and export of another; an auditor gets
/// no record-level data anywhere; tokens carry exactly their account's role.
#[tokio::test]
async fn roles_and_sites_are_isolated() {
    let c = console().await;
    let app = &c.app;
    let r = body_json(
        app.post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), "subject-iso-000001", true, false),
        )
        .await,
    )
    .await;
    let demo_receipt = r["receipt"]["receipt_id"].as_str().expect("id").to_owned();

    for uri in [
        "/admin/sites/demo/receipts".to_owned(),
        format!("/admin/sites/demo/receipts/{demo_receipt}"),
        "/admin/sites/demo/export?format=csv".to_owned(),
        "/admin/sites/demo/stats".to_owned(),
        "/admin/sites/demo/stats.csv".to_owned(),
        "/admin/sites/demo/notices".to_owned(),
        "/v1/admin/sites/demo/receipts".to_owned(),
        format!("/v1/admin/sites/demo/receipts/{demo_receipt}"),
        "/v1/admin/sites/demo/export?format=jsonl".to_owned(),
        "/v1/admin/sites/demo/stats".to_owned(),
    ] {
        let res = get_as(app, &c.other_dpo, &uri).await;
        assert_eq!(
            res.status(),
            StatusCode::NOT_FOUND,
            "DPO of other reached {uri}"
        );
    }
    for uri in [
        "/admin/sites/demo/receipts".to_owned(),
        format!("/admin/sites/demo/receipts/{demo_receipt}"),
        "/admin/sites/demo/export?format=csv".to_owned(),
        "/v1/admin/sites/demo/receipts".to_owned(),
        format!("/v1/admin/sites/demo/receipts/{demo_receipt}"),
        "/v1/admin/sites/demo/export?format=kantara".to_owned(),
    ] {
        let res = get_as(app, &c.auditor, &uri).await;
        assert_eq!(
            res.status(),
            StatusCode::NOT_FOUND,
            "auditor reached record-level {uri}"
        );
    }
    assert_eq!(
        get_as(app, &c.auditor, "/admin/sites/demo/stats")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        get_as(app, &c.auditor, "/v1/admin/sites/demo/stats")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        get_as(
            app,
            &c.dpo,
            &format!("/v1/admin/sites/demo/receipts/{demo_receipt}")
        )
        .await
        .status(),
        StatusCode::OK
    );
    assert_eq!(
        get_as(app, &c.admin, "/v1/admin/sites/other/receipts")
            .await
            .status(),
        StatusCode::OK
    );
    let sites = body_json(get_as(app, &c.auditor, "/v1/admin/sites").await).await;
    assert_eq!(
        sites["sites"],
        serde_json::json!([{"id": "demo", "records": false}])
    );
    assert_eq!(
        get_as(app, "yy_not_a_token", "/v1/admin/sites")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

/// Search by method, category + decision and subject, with totals and cursor paging; the
/// detail shows a valid signature and the log position; both reads are audited.
#[tokio::test]
async fn search_detail_and_audit() {
    let c = console().await;
    let app = &c.app;
    let mut ids = Vec::new();
    for i in 0..55 {
        let r = body_json(
            app.post_json(
                "/v1/sites/demo/receipts",
                &choice(
                    &uuid(),
                    &format!("subject-search-{i:06}"),
                    i % 5 == 0,
                    i % 2 == 0,
                ),
            )
            .await,
        )
        .await;
        ids.push(r["receipt"]["receipt_id"].as_str().expect("id").to_owned());
    }
    let page1 = body_json(get_as(app, &c.dpo, "/v1/admin/sites/demo/receipts").await).await;
    assert_eq!(page1["total"], 55);
    assert_eq!(page1["receipts"].as_array().map(Vec::len), Some(50));
    let next = page1["next"].as_str().expect("a next page");
    let page2 = body_json(
        get_as(
            app,
            &c.dpo,
            &format!("/v1/admin/sites/demo/receipts?before={next}"),
        )
        .await,
    )
    .await;
    assert_eq!(page2["receipts"].as_array().map(Vec::len), Some(5));
    assert!(page2["next"].is_null());

    let granted = body_json(
        get_as(
            app,
            &c.dpo,
            "/v1/admin/sites/demo/receipts?item=analytics&decision=granted",
        )
        .await,
    )
    .await;
    assert_eq!(granted["total"], 11);
    let accept_all = body_json(
        get_as(
            app,
            &c.dpo,
            "/v1/admin/sites/demo/receipts?method=accept_all",
        )
        .await,
    )
    .await;
    assert_eq!(accept_all["total"], 6);
    let one = body_json(
        get_as(
            app,
            &c.dpo,
            "/v1/admin/sites/demo/receipts?subject=subject-search-000007",
        )
        .await,
    )
    .await;
    assert_eq!(one["total"], 1);
    let bad = get_as(app, &c.dpo, "/v1/admin/sites/demo/receipts?from=yesterday").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    log::sequence(
        &app.state.store,
        &log::LogSigner::of(&app.state).await.expect("log key"),
        "demo",
    )
    .await
    .expect("sequence");
    let d = body_json(
        get_as(
            app,
            &c.dpo,
            &format!("/v1/admin/sites/demo/receipts/{}", ids[3]),
        )
        .await,
    )
    .await;
    assert!(d["signature"]["Ok"].is_string(), "{d}");
    assert_eq!(d["log"]["Ok"], 3);
    let html = body_text(
        get_as(
            app,
            &c.dpo,
            &format!("/admin/sites/demo/receipts/{}", ids[3]),
        )
        .await,
    )
    .await;
    assert!(html.contains(&ids[3]) && html.contains("✓"));

    let audit = body_json(get_as(app, &c.dpo, "/v1/admin/audit").await).await;
    let rows = audit.as_array().expect("rows");
    assert!(rows.iter().any(|r| {
        r["action"] == "receipt.view"
            && r["detail"] == ids[3].as_str()
            && r["actor"]
                .as_str()
                .is_some_and(|a| a.contains("dpo@demo.go.th"))
    }));
    assert!(
        rows.iter().any(|r| r["action"] == "receipts.search"
            && r["detail"] == "item=analytics&decision=granted")
    );
}

/// A pasted receipt is valid; a tampered one is invalid and says why.
#[tokio::test]
async fn verifies_pasted_receipts() {
    let c = console().await;
    let app = &c.app;
    let r = body_json(
        app.post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), "subject-verify-01", true, true),
        )
        .await,
    )
    .await;
    log::sequence(
        &app.state.store,
        &log::LogSigner::of(&app.state).await.expect("log key"),
        "demo",
    )
    .await
    .expect("sequence");
    let post = |body: String| {
        Request::post("/v1/admin/verify")
            .header(header::AUTHORIZATION, format!("Bearer {}", c.dpo))
            .body(Body::from(body))
            .expect("request")
    };
    let ok = body_json(app.send(post(r.to_string())).await).await;
    assert!(ok[0]["outcome"]["Ok"].is_string(), "{ok}");
    let tampered = r
        .to_string()
        .replacen("\"newsletter\":true", "\"newsletter\":false", 1);
    let bad = body_json(app.send(post(tampered)).await).await;
    assert!(
        bad[0]["outcome"]["Err"]
            .as_str()
            .is_some_and(|e| e.contains("altered")),
        "{bad}"
    );
    let jws_only = body_json(
        app.send(post(r["jws"].as_str().expect("jws").to_owned()))
            .await,
    )
    .await;
    assert!(jws_only[0]["outcome"]["Ok"].is_string());
}

/// The diff between two versions names the new purpose and the changed text.
#[tokio::test]
async fn diffs_notice_versions() {
    let c = console().await;
    let dir = c.app.dir.path().join("v2");
    std::fs::create_dir_all(&dir).expect("dir");
    let toml = std::fs::read_to_string(fixture().join("site.toml"))
        .expect("read")
        .replace("version = \"v1\"", "version = \"v2\"")
        .replace("consent_revision = 1", "consent_revision = 2")
        + "\n[[purposes]]\nid = \"survey\"\nlegal_basis = \"consent\"\ntitle = { th = \"แบบสำรวจ\", en = \"Survey\" }\ndescription = { th = \"ถามความพึงพอใจ\", en = \"Asks how satisfied you are\" }\nretention = { th = \"1 ปี\", en = \"1 year\" }\n";
    std::fs::write(dir.join("site.toml"), toml).expect("write");
    std::fs::write(
        dir.join("notice.th.md"),
        "# ประกาศความเป็นส่วนตัว\n\nเราเก็บข้อมูลเท่าที่จำเป็น\n\nบรรทัดใหม่\n",
    )
    .expect("write");
    std::fs::copy(fixture().join("notice.en.md"), dir.join("notice.en.md")).expect("copy");
    yinyom_server::sites::import(&c.app.state.store, &dir)
        .await
        .expect("v2");
    let d = body_json(
        get_as(
            &c.app,
            &c.auditor,
            "/v1/admin/sites/demo/notices/diff?from=v1&to=v2",
        )
        .await,
    )
    .await;
    let changes = d["changes"].as_array().expect("changes");
    assert!(
        changes
            .iter()
            .any(|x| x["what"] == "purpose survey" && x["how"] == "added"),
        "{d}"
    );
    assert!(
        changes
            .iter()
            .any(|x| x["what"] == "consent_revision" && x["before"] == "1" && x["after"] == "2")
    );
    assert!(
        d["body"]
            .as_array()
            .expect("body")
            .iter()
            .any(|l| l["Added"] == "บรรทัดใหม่")
    );
    let html = body_text(
        get_as(
            &c.app,
            &c.auditor,
            "/admin/sites/demo/notices/diff?from=v1&to=v2",
        )
        .await,
    )
    .await;
    assert!(html.contains("purpose survey"));
}

/// Statistics count by method and category; the public open data suppresses small counts;
/// the console CSV has the per-day rows; exports stream and are audited.
#[tokio::test]
async fn statistics_open_data_and_exports() {
    let c = console().await;
    let app = &c.app;
    for i in 0..7 {
        app.post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), &format!("subject-stats-{i:06}"), true, true),
        )
        .await;
    }
    for i in 0..2 {
        app.post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), &format!("subject-stats-r{i:05}"), false, false),
        )
        .await;
    }
    let s = body_json(get_as(app, &c.auditor, "/v1/admin/sites/demo/stats").await).await;
    assert_eq!(s["totals"]["accept_all"], 7);
    assert_eq!(s["totals"]["reject_all"], 2);
    let analytics = s["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["item"] == "analytics"))
        .unwrap_or_else(|| panic!("a count for analytics: {s}"));
    assert_eq!(
        (
            &analytics["kind"],
            &analytics["granted"],
            &analytics["denied"]
        ),
        (
            &serde_json::json!("category"),
            &serde_json::json!(7),
            &serde_json::json!(2)
        ),
        "{s}"
    );
    let open = body_json(app.get("/v1/sites/demo/stats").await).await;
    assert!(
        open["totals"]["reject_all"].is_null(),
        "2 is below the threshold: {open}"
    );
    assert!(
        open["totals"]["accept_all"].is_null(),
        "else 2 = 9 - 7: {open}"
    );
    assert_eq!(open["totals"]["total"], 9);
    assert_eq!(open["suppressed_below"], 5);
    let csv = body_text(get_as(app, &c.auditor, "/admin/sites/demo/stats.csv").await).await;
    assert!(csv.starts_with("day,accept_all,reject_all,partial,withdrawn,total\n"));
    assert!(csv.lines().any(|l| l.ends_with(",7,2,0,0,9")), "{csv}");

    let export = get_as(
        app,
        &c.dpo,
        &format!("/admin/sites/demo/export?format=csv&method=accept_all&{RELEASE}"),
    )
    .await;
    assert_eq!(export.status(), StatusCode::OK);
    assert!(
        export.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .expect("cd")
            .contains("demo-receipts.csv")
    );
    let text = body_text(export).await;
    assert_eq!(
        text.lines().count(),
        8,
        "header + the 7 accept_all receipts (the export applies the method filter)"
    );
    let audit = body_json(get_as(app, &c.admin, "/v1/admin/audit").await).await;
    assert!(
        audit
            .as_array()
            .expect("rows")
            .iter()
            .any(|r| r["action"] == "receipts.export" && r["site_id"] == "demo")
    );
}
