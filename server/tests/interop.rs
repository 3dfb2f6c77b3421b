//! Other programs can use what Yinyom produces: exports in every format (Kantara receipts
//! valid against the official schema) and signatures verified by another JOSE implementation.

mod common;

use axum::http::StatusCode;
use common::*;
use yinyom_server::{
    export::{self, Format},
    signing::Jwks,
    store::SearchFilter,
};

async fn three_receipts(app: &TestApp) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let subject = "subject-export-0001";
    for body in [
        choice(&uuid(), subject, true, true),
        choice(&uuid(), "subject-export-0002", false, false),
        {
            let mut w = choice(&uuid(), subject, false, false);
            w["method"] = serde_json::json!("withdraw");
            w
        },
    ] {
        let res = app.post_json("/v1/sites/demo/receipts", &body).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        out.push(body_json(res).await);
    }
    out
}

async fn export_text(app: &TestApp, format: Format, q: &SearchFilter) -> String {
    let mut buf = Vec::new();
    export::export(
        &app.state.store,
        q,
        format,
        "https://consent.test/.well-known/jwks.json",
        yinyom_model::Lang::En,
        &mut buf,
        &indicatif::ProgressBar::hidden(),
    )
    .await
    .expect("export");
    String::from_utf8(buf).expect("utf8")
}

fn all(site: &str) -> SearchFilter {
    SearchFilter {
        site: site.into(),
        ..SearchFilter::default()
    }
}

/// Every exported Kantara receipt validates against the official v1.1 JSON schema.
#[tokio::test]
async fn kantara_export_validates_against_the_official_schema() {
    let app = app().await;
    three_receipts(&app).await;
    // A copy of shared/standards/kantara-cr-v1.1.schema.json (the official v1.1 schema).
    let schema_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kantara-cr-v1.1.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).expect("schema file"))
            .expect("schema");
    let validator = jsonschema::draft4::new(&schema).expect("valid draft-4 schema");
    let text = export_text(&app, Format::Kantara, &all("demo")).await;
    let docs: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(docs.len(), 3);
    for d in &docs {
        let errors: Vec<String> = validator.iter_errors(d).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}\n{d:#}");
        assert_eq!(d["version"], "KI-CR-v1.1.0");
        assert_eq!(d["jurisdiction"], "TH");
    }
    let granted = docs[0]["services"][0]["purposes"]
        .as_array()
        .expect("purposes");
    assert_eq!(
        granted.len(),
        2,
        "analytics cookies and the newsletter were granted"
    );
    assert!(
        granted
            .iter()
            .any(|p| p["purposeCategory"][0] == "16 - Improve Performance")
    );
    assert!(
        docs[1]["services"][0]["purposes"]
            .as_array()
            .expect("p")
            .is_empty(),
        "a refusal grants nothing"
    );
    assert_eq!(docs[0]["piiControllers"][0]["email"], "contact@demo.go.th");
    assert_eq!(
        docs[0]["policyUrl"],
        "http://yinyom.test/sites/demo/notice/v1"
    );
}

/// JSONL carries the signed originals; CSV has one row per receipt; ISO 27560 records keep
/// every decision; filters select by time and version; paging is by keyset.
#[tokio::test]
async fn exports_every_format_with_filters() {
    let app = app().await;
    let made = three_receipts(&app).await;

    let jsonl = export_text(&app, Format::Jsonl, &all("demo")).await;
    let jwks: Jwks =
        serde_json::from_value(body_json(app.get("/.well-known/jwks.json").await).await)
            .expect("jwks");
    let checked = yinyom_server::receipts::verify_document(&jsonl, &jwks);
    assert_eq!(checked.len(), 3);
    assert!(checked.iter().all(|c| c.outcome.is_ok()), "{checked:?}");

    let csv = export_text(&app, Format::Csv, &all("demo")).await;
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 4);
    assert!(rows[0].starts_with("\u{feff}receipt_id,issued_at,event,method"));
    assert!(rows[0].contains(",category:analytics,") && rows[0].ends_with(",jws"));
    assert!(rows[1].contains(",given,accept_all,") && rows[1].contains(",granted,"));
    assert!(rows[3].contains(",withdrawn,withdraw,"));

    let iso = export_text(&app, Format::Iso27560, &all("demo")).await;
    let first: serde_json::Value =
        serde_json::from_str(iso.lines().next().expect("line")).expect("json");
    assert_eq!(first["record_id"], made[0]["receipt"]["receipt_id"]);
    let purposes = first["purposes"].as_array().expect("purposes");
    let service = purposes
        .iter()
        .find(|p| p["purpose_id"] == "service")
        .expect("service");
    assert_eq!(service["lawful_basis"], "public_task");
    assert_eq!(service["decision"], "not_applicable");
    assert_eq!(first["event"]["event_type"], "given");

    let issued = |i: usize| {
        time::OffsetDateTime::parse(
            made[i]["receipt"]["issued_at"].as_str().expect("time"),
            &time::format_description::well_known::Rfc3339,
        )
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .expect("time")
    };
    let q = SearchFilter {
        site: "demo".into(),
        from_ms: Some(issued(1)),
        to_ms: None,
        notice_version: Some("v1".into()),
        ..all("demo")
    };
    assert_eq!(
        export_text(&app, Format::Jsonl, &q).await.lines().count(),
        2
    );
    let none = SearchFilter {
        notice_version: Some("v9".into()),
        ..all("demo")
    };
    assert_eq!(
        export_text(&app, Format::Jsonl, &none)
            .await
            .lines()
            .count(),
        0
    );

    let page1 = app
        .state
        .store
        .receipts_page(&all("demo"), None, 2)
        .await
        .expect("page");
    let last = page1.last().expect("row");
    let page2 = app
        .state
        .store
        .receipts_page(
            &all("demo"),
            Some((last.issued_at_ms, last.receipt.receipt_id.clone())),
            2,
        )
        .await
        .expect("page");
    assert_eq!((page1.len(), page2.len()), (2, 1));
    assert_ne!(page2[0].receipt.receipt_id, page1[1].receipt.receipt_id);
}

/// Node.js's own Ed25519 (not our crate) verifies the JWS against the served JWKS.
#[tokio::test]
async fn node_verifies_the_jws_with_the_served_jwks() {
    let app = app().await;
    let res = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), "subject-node-00001", true, false),
        )
        .await;
    let body = body_json(res).await;
    let jwks = body_json(app.get("/.well-known/jwks.json").await).await;
    let script = r#"
const crypto = require('crypto');
const [jws, jwks] = [process.argv[1], JSON.parse(process.argv[2])];
const [h, p, s] = jws.split('.');
const header = JSON.parse(Buffer.from(h, 'base64url'));
const jwk = jwks.keys.find(k => k.kid === header.kid);
if (!jwk || header.alg !== 'EdDSA') { console.log('no key'); process.exit(2); }
const key = crypto.createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' });
const ok = crypto.verify(null, Buffer.from(h + '.' + p), key, Buffer.from(s, 'base64url'));
const forged = crypto.verify(null, Buffer.from(h + '.' + p + 'x'), key, Buffer.from(s, 'base64url'));
console.log(JSON.stringify({ ok, forged, receipt_id: JSON.parse(Buffer.from(p, 'base64url')).receipt_id }));
"#;
    let out = std::process::Command::new("node")
        .args([
            "-e",
            script,
            body["jws"].as_str().expect("jws"),
            &jwks.to_string(),
        ])
        .output()
        .expect("node is installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("node output");
    assert_eq!(v["ok"], true);
    assert_eq!(v["forged"], false);
    assert_eq!(v["receipt_id"], body["receipt"]["receipt_id"]);
}

/// ISO/IEC TS 27560 records carry every mandatory field of the standards notes' mapping:
/// party ids, the event's state and validity duration, retention periods of one type, PII
/// categories as data types, storage locations from the notice's countries, and the
/// absolute JWKS URL.
#[tokio::test]
async fn iso27560_records_are_complete() {
    let app = app().await;
    let made = three_receipts(&app).await;
    // Version 2 says the newsletter's data also goes to Singapore.
    let dir = tempfile::tempdir().expect("dir");
    for f in ["site.toml", "notice.th.md", "notice.en.md"] {
        let text = std::fs::read_to_string(fixture().join(f)).expect("read");
        let text = text.replace("version = \"v1\"", "version = \"v2\"").replace(
            "retention = { th = \"จนกว่าจะถอนความยินยอม\", en = \"Until you withdraw consent\" }",
            "retention = { th = \"จนกว่าจะถอนความยินยอม\", en = \"Until you withdraw consent\" }\ncountries = [\"SG\"]",
        );
        std::fs::write(dir.path().join(f), text).expect("write");
    }
    yinyom_server::sites::import(&app.state.store, dir.path())
        .await
        .expect("publish v2");
    let mut v2 = choice(&uuid(), "subject-export-0003", true, true);
    v2["notice_version"] = "v2".into();
    let res = app.post_json("/v1/sites/demo/receipts", &v2).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let iso = export_text(&app, Format::Iso27560, &all("demo")).await;
    let docs: Vec<serde_json::Value> = iso
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(docs.len(), 4);
    let given = &docs[0];
    assert_eq!(given["record_id"], made[0]["receipt"]["receipt_id"]);
    assert_eq!(given["event"]["event_state"], "given");
    assert_eq!(given["event"]["validity_duration"], "P365D");
    assert_eq!(
        given["event"]["event_entity_id"],
        app.state.subjects.pseudonym("subject-export-0001")
    );
    assert_eq!(docs[1]["event"]["event_state"], "refused");
    assert_eq!(docs[2]["event"]["event_state"], "withdrawn");
    let parties = given["pii_controllers"].as_array().expect("parties");
    assert_eq!(parties[0]["party_id"], "urn:yinyom:demo:controller");
    assert_eq!(parties[1]["party_id"], "urn:yinyom:demo:dpo");
    for p in given["purposes"].as_array().expect("purposes") {
        assert!(
            p["retention_period"].is_array(),
            "one type for retention: {p}"
        );
        for info in p["pii_information"].as_array().expect("pii") {
            assert!(info["pii_type"].is_string(), "a data type: {info}");
        }
    }
    let analytics = given["purposes"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["purpose_id"] == "analytics"))
        .expect("analytics");
    assert_eq!(
        analytics["pii_information"][0]["pii_type"],
        "online identifier (cookie)"
    );
    assert_eq!(given["storage_locations"], serde_json::json!(["TH"]));
    assert_eq!(
        given["integrity"]["jwks"],
        "https://consent.test/.well-known/jwks.json"
    );
    // The visitor's chain: their first receipt names none, their withdrawal the first.
    assert!(given["integrity"]["previous_record_hash"].is_null());
    assert_eq!(
        docs[2]["integrity"]["previous_record_hash"],
        made[2]["receipt"]["previous"]
    );
    assert!(docs[2]["integrity"]["previous_record_hash"].is_string());
    assert_eq!(docs[3]["privacy_notice"]["version"], "v2");
    assert_eq!(
        docs[3]["storage_locations"],
        serde_json::json!(["TH", "SG"])
    );
}

/// The CLI's Kantara export names the JWKS at `--public-url`.
#[test]
fn cli_kantara_export_uses_the_public_url() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let app = rt.block_on(app());
    rt.block_on(three_receipts(&app));
    let url = rt.block_on(database_url(&app));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yinyom"))
        .args([
            "receipts",
            "export",
            "--site",
            "demo",
            "--format",
            "kantara",
            "--public-url",
            "https://consent.example.go.th/",
        ])
        .env("YINYOM_DATABASE_URL", &url)
        .output()
        .expect("run yinyom");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let first: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("a line")).expect("json");
    assert_eq!(
        first["publicKey"],
        "https://consent.example.go.th/.well-known/jwks.json"
    );
}
