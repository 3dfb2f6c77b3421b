//! The last cookie scan of each site (`yinyom scan --json`), on a real database: an admin
//! or the site's DPO uploads it (admin API or console form), it replaces the one before,
//! the console shows its violations, anyone who sees the site reads it, a report of
//! another site or not a report at all is refused, and the upload is audited.

mod common;

use axum::{
    body::Body,
    http::{Request, Response, StatusCode, header},
};
use common::{console::*, *};
use yinyom_model::scan::{FORMAT, Finding, Phase, PhaseKind, ScanReport};

fn report(site: &str, violations: usize) -> ScanReport {
    ScanReport {
        format: FORMAT,
        site: site.to_owned(),
        started_at: "2026-01-01T00:00:00Z".into(),
        finished_at: "2026-01-01T00:01:00Z".into(),
        tool: "yinyom test".into(),
        declared_from: "test".into(),
        notice_version: "1".into(),
        pages: vec!["https://www.demo.go.th/".into()],
        phases: PhaseKind::ALL
            .iter()
            .map(|k| Phase {
                kind: *k,
                cookies: vec![],
                storage: vec![],
                third_parties: vec![],
            })
            .collect(),
        findings: (0..violations)
            .map(|i| Finding::ThirdPartyBeforeConsent {
                phase: PhaseKind::BeforeChoice,
                host: format!("tracker{i}.example"),
                first_url: format!("https://tracker{i}.example/t.js"),
            })
            .collect(),
    }
}

async fn put_as(app: &TestApp, token: &str, site: &str, body: String) -> Response<Body> {
    app.send(
        Request::put(format!("/v1/admin/sites/{site}/scan"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .expect("request"),
    )
    .await
}

fn json(r: &ScanReport) -> String {
    serde_json::to_string(r).expect("json")
}

#[tokio::test]
async fn a_dpo_uploads_the_last_scan_and_the_console_shows_it() {
    let c = console().await;
    let app = &c.app;

    // Nothing yet.
    let res = get_as(app, &c.dpo, "/v1/admin/sites/demo/scan").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let page = body_text(get_as(app, &c.dpo, "/admin/sites/demo/scan").await).await;
    assert!(
        page.contains("No scan") || page.contains("ยังไม่มีผลการตรวจ"),
        "{page}"
    );

    let first = report("demo", 2);
    let res = put_as(app, &c.dpo, "demo", json(&first)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(body_json(res).await["violations"], 2);
    let second = report("demo", 1);
    let res = put_as(app, &c.admin, "demo", json(&second)).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // The last one replaced the first, byte for byte as uploaded.
    let res = get_as(app, &c.auditor, "/v1/admin/sites/demo/scan").await;
    assert_eq!(res.status(), StatusCode::OK);
    let got: ScanReport = serde_json::from_str(&body_text(res).await).expect("report");
    assert_eq!(got, second);
    let page = body_text(get_as(app, &c.auditor, "/admin/sites/demo/scan?lang=en").await).await;
    assert!(page.contains("tracker0.example"), "{page}");
    assert!(!page.contains("tracker1.example"), "{page}");
    assert!(page.contains("Violation"), "{page}");
    // Auditors read but do not upload: no form for them.
    assert!(!page.contains("name=\"report\""), "{page}");

    let audit = app
        .state
        .store
        .audit_entries(None, None, 100)
        .await
        .expect("audit");
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.action == "scan.upload" && a.site_id.as_deref() == Some("demo"))
            .count(),
        2
    );
}

#[tokio::test]
async fn uploads_are_refused_to_others_and_for_other_sites() {
    let c = console().await;
    let app = &c.app;
    let r = json(&report("demo", 0));
    assert_eq!(
        put_as(app, &c.auditor, "demo", r.clone()).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        put_as(app, &c.other_dpo, "demo", r.clone()).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_as(app, &c.other_dpo, "/v1/admin/sites/demo/scan")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // A report of another site, or not a report.
    assert_eq!(
        put_as(app, &c.admin, "demo", json(&report("other", 0)))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        put_as(app, &c.admin, "demo", "{\"site\":\"demo\"}".into())
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert!(
        app.state
            .store
            .last_scan("demo")
            .await
            .expect("read")
            .is_none()
    );
}
