//! The agency's own reference for a person (issue 16 items 1–2, issue 19 item 5): a form
//! receipt may carry it (`data-yinyom-reference`); the server keeps only its keyed hash,
//! linked to the receipt's subject; a back-office asks the consent by it
//! (`POST /v1/sites/{site}/consent/lookup`), answered exactly like the subject endpoint;
//! staff enter a consent signed on paper under it (method `paper`), which joins the same
//! subject's history; erasing the subject removes the links. SQLite by default,
//! PostgreSQL when `YINYOM_TEST_DATABASE_URL` is set.

mod common;

use axum::{
    body::Body,
    http::{Request, Response, StatusCode, header},
};
use common::{console::*, *};
use serde_json::{Value, json};
use yinyom_server::{
    erasure::{self, Reason},
    signing::{Jwks, verify},
};

const RECEIPTS: &str = "/v1/sites/demo/receipts";
const LOOKUP: &str = "/v1/sites/demo/consent/lookup";
const PAPER: &str = "/v1/admin/sites/demo/receipts/paper";
/// A Thai tax id, as an agency's registration form asks it.
const TAX_ID: &str = "3100600123456";

/// A form receipt request as the loader builds it for a form with
/// `data-yinyom-reference`.
fn form_request(subject: &str, reference: &str, newsletter: bool) -> Value {
    json!({
        "request_id": uuid(),
        "subject_id": subject,
        "notice_version": "v1",
        "consent_revision": 1,
        "method": "form",
        "context": "registration",
        "reference": reference,
        "lang": "th",
        "categories": {},
        "purposes": { "newsletter": newsletter },
        "page_path": "/register",
        "widget": BUILD
    })
}

async fn post_form(app: &TestApp, subject: &str, reference: &str, newsletter: bool) -> Value {
    let res = app
        .post_json(RECEIPTS, &form_request(subject, reference, newsletter))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    body_json(res).await["receipt"].clone()
}

/// A service token of `site`.
async fn service_token(app: &TestApp, site: &str) -> String {
    let token = format!("yy_service_{site}_{}", uuid());
    app.state
        .store
        .create_service_token(
            &yinyom_server::admin::auth::hash_secret(&token),
            &format!("registry-{site}"),
            site,
            None,
        )
        .await
        .expect("service token");
    token
}

/// `POST uri` with a JSON body and, if given, a bearer token.
async fn post_as(app: &TestApp, token: Option<&str>, uri: &str, body: &Value) -> Response<Body> {
    let mut req = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    app.send(req.body(Body::from(body.to_string())).expect("request"))
        .await
}

async fn lookup(app: &TestApp, token: &str, reference: &str) -> Response<Body> {
    post_as(app, Some(token), LOOKUP, &json!({ "reference": reference })).await
}

/// A paper entry as the admin API takes it.
fn paper_entry(reference: &str, newsletter: bool) -> Value {
    json!({
        "form": "registration",
        "purposes": { "newsletter": newsletter },
        "document": "สพ.0001/2569",
        "signed_on": "2025-12-01",
        "reference": reference,
    })
}

async fn audit_details(app: &TestApp, action: &str) -> Vec<String> {
    app.state
        .store
        .audit_entries(None, None, 1000)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| e.detail)
        .collect()
}

/// The lookup by reference answers the latest state of the person's consent (granted,
/// then refused, then withdrawn → denied), exactly as the subject endpoint does, and
/// every call is audited without the reference; the reference is nowhere in the database,
/// only its keyed hash.
#[tokio::test]
async fn lookup_by_reference_answers_the_latest_state_and_the_reference_is_never_stored() {
    let app = app().await;
    let token = service_token(&app, "demo").await;
    let subject = "subject-reference-0001";

    let first = post_form(&app, subject, TAX_ID, true).await;
    // The receipt itself does not carry the reference.
    assert!(first.get("reference").is_none(), "{first}");
    let res = lookup(&app, &token, TAX_ID).await;
    assert_eq!(res.status(), StatusCode::OK);
    let by_reference = body_json(res).await;
    assert_eq!(by_reference["status"], "active");
    assert_eq!(by_reference["purposes"]["newsletter"], true);
    assert_eq!(by_reference["receipt_id"], first["receipt_id"]);
    assert_eq!(by_reference["subject"], app.pseudonym(subject));
    // The same answer as the subject endpoint's.
    let by_subject = body_json(
        get_as(
            &app,
            &token,
            &format!("/v1/sites/demo/subjects/{subject}/consent"),
        )
        .await,
    )
    .await;
    assert_eq!(by_reference, by_subject);
    // Spaces around the reference (as typed in a form) do not matter.
    let res = lookup(&app, &token, &format!("  {TAX_ID} ")).await;
    assert_eq!(res.status(), StatusCode::OK);

    // Later the person unticks the box: the answer follows.
    let second = post_form(&app, subject, TAX_ID, false).await;
    let a = body_json(lookup(&app, &token, TAX_ID).await).await;
    assert_eq!(a["receipt_id"], second["receipt_id"]);
    assert_eq!(a["purposes"]["newsletter"], false);
    // A withdrawal from the banner (no reference) still applies to the person.
    let mut withdraw = choice(&uuid(), subject, false, false);
    withdraw["method"] = json!("withdraw");
    assert_eq!(
        app.post_json(RECEIPTS, &withdraw).await.status(),
        StatusCode::CREATED
    );
    let a = body_json(lookup(&app, &token, TAX_ID).await).await;
    assert_eq!(a["status"], "withdrawn");

    // Audited as a consent check by reference, never with the reference.
    let details = audit_details(&app, "consent.check").await;
    assert!(
        details.iter().any(|d| d.starts_with("by reference: ")),
        "{details:?}"
    );
    for (table, row) in dump::rows(&app.state.store).await {
        assert!(!row.contains(TAX_ID), "{table} holds the reference: {row}");
    }
    let hash = app.state.subjects.reference_hash("demo", TAX_ID);
    assert!(
        dump::rows(&app.state.store)
            .await
            .iter()
            .any(|(t, r)| t == "subject_references" && r.contains(&hash)),
        "the keyed hash links the subject"
    );
}

/// Only the site's service token (or its DPO, an admin) may ask; another site's token and
/// an unknown reference answer 404, no token 401, a malformed body 400; a reference given
/// at one site does not open the same person's consent at another.
#[tokio::test]
async fn lookup_by_reference_is_for_the_site_s_back_office_only() {
    let c = console().await;
    let app = &c.app;
    let token = service_token(app, "demo").await;
    let other = service_token(app, "other").await;
    post_form(app, "subject-reference-0002", TAX_ID, true).await;

    assert_eq!(lookup(app, &token, TAX_ID).await.status(), StatusCode::OK);
    assert_eq!(lookup(app, &c.dpo, TAX_ID).await.status(), StatusCode::OK);
    assert_eq!(
        lookup(app, &other, TAX_ID).await.status(),
        StatusCode::NOT_FOUND,
        "another site's token"
    );
    let res = post_as(
        app,
        Some(&other),
        "/v1/sites/other/consent/lookup",
        &json!({"reference": TAX_ID}),
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "the reference is per site"
    );
    assert_eq!(
        lookup(app, &token, "3100600999999").await.status(),
        StatusCode::NOT_FOUND,
        "an unknown reference"
    );
    assert_eq!(
        lookup(app, &c.auditor, TAX_ID).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post_as(app, None, LOOKUP, &json!({"reference": TAX_ID}))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    for bad in [
        json!({}),
        json!({"reference": ""}),
        json!({"reference": "1".repeat(129)}),
        json!({"reference": TAX_ID, "subject": "x"}),
    ] {
        assert_eq!(
            post_as(app, Some(&token), LOOKUP, &bad).await.status(),
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    // A banner receipt cannot carry a reference.
    let mut banner = choice(&uuid(), "subject-reference-0003", true, true);
    banner["reference"] = json!(TAX_ID);
    let res = app.post_json(RECEIPTS, &banner).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(res).await["error"]["code"], "invalid_reference");
}

/// A DPO enters a consent signed on paper under the person's reference: the receipt
/// (method `paper`, the form's name, its document number and signing day) is signed,
/// joins the same subject's history after their online form receipt (chained), verifies
/// with the JWKS, is audited, and is what the lookup answers now. A reference never seen
/// online gets a subject of its own. A visitor cannot send `paper`.
#[tokio::test]
async fn a_paper_consent_joins_the_same_subject_s_history_and_verifies() {
    let c = console().await;
    let app = &c.app;
    let token = service_token(app, "demo").await;
    let subject = "subject-reference-0004";
    let online = post_form(app, subject, TAX_ID, false).await;

    let res = post_as(app, Some(&c.dpo), PAPER, &paper_entry(TAX_ID, true)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body = body_json(res).await;
    assert_eq!(body["new_subject"], false);
    let paper = &body["receipt"];
    assert_eq!(paper["method"], "paper");
    assert_eq!(paper["context"], "registration");
    assert_eq!(paper["subject_id"], app.pseudonym(subject));
    assert_eq!(paper["event"], "updated");
    assert_eq!(
        paper["paper"],
        json!({"document": "สพ.0001/2569", "signed_on": "2025-12-01"})
    );
    assert_eq!(paper["purposes"], json!({"newsletter": true}));
    assert!(paper["previous"].is_string(), "chained: {paper}");
    let jwks: Jwks =
        serde_json::from_value(body_json(app.get("/.well-known/jwks.json").await).await)
            .expect("jwks");
    let signed: Value = serde_json::from_slice(
        &verify(body["jws"].as_str().expect("jws"), &jwks).expect("the paper receipt verifies"),
    )
    .expect("json");
    assert_eq!(&signed, paper);

    // The person's own history (their browser's secret) shows both.
    let history = body_json(
        app.get(&format!("/v1/sites/demo/subjects/{subject}/receipts"))
            .await,
    )
    .await;
    let ids: Vec<&Value> = history
        .as_array()
        .expect("list")
        .iter()
        .map(|e| &e["receipt"]["receipt_id"])
        .collect();
    assert_eq!(ids, [&paper["receipt_id"], &online["receipt_id"]]);
    // The back-office now hears the paper's consent.
    let a = body_json(lookup(app, &token, TAX_ID).await).await;
    assert_eq!(a["receipt_id"], paper["receipt_id"]);
    assert_eq!(a["purposes"]["newsletter"], true);
    let details = audit_details(app, "receipt.paper").await;
    assert!(
        details
            .iter()
            .any(|d| d.contains(paper["receipt_id"].as_str().expect("id"))
                && d.contains("document=สพ.0001/2569")
                && !d.contains(TAX_ID)),
        "{details:?}"
    );

    // Someone never seen online: a subject of their own, found by the reference.
    let res = post_as(app, Some(&c.admin), PAPER, &paper_entry("AB-77", true)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body = body_json(res).await;
    assert_eq!(body["new_subject"], true);
    let a = body_json(lookup(app, &token, "AB-77").await).await;
    assert_eq!(a["receipt_id"], body["receipt"]["receipt_id"]);
    assert_ne!(a["subject"], app.pseudonym(subject));

    // Checked like any receipt; only staff; never from a visitor.
    let mut wrong = paper_entry(TAX_ID, true);
    wrong["purposes"] = json!({"analytics": true});
    let res = post_as(app, Some(&c.dpo), PAPER, &wrong).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let mut future = paper_entry(TAX_ID, true);
    future["signed_on"] = json!("2999-01-01");
    let res = post_as(app, Some(&c.dpo), PAPER, &future).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    for (who, t) in [
        ("auditor", c.auditor.as_str()),
        ("other site's DPO", c.other_dpo.as_str()),
        ("service token", token.as_str()),
    ] {
        let status = post_as(app, Some(t), PAPER, &paper_entry(TAX_ID, true))
            .await
            .status();
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::UNAUTHORIZED,
            "{who}: {status}"
        );
    }
    let mut visitor = form_request(subject, TAX_ID, true);
    visitor["method"] = json!("paper");
    let res = app.post_json(RECEIPTS, &visitor).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(res).await["error"]["code"], "staff_only_method");
}

/// The console's page: the form lists the notice's consent purposes; posted with the
/// session's CSRF token it enters the receipt (without it: refused).
#[tokio::test]
async fn the_console_enters_a_paper_consent_with_its_csrf_token() {
    let c = console().await;
    let app = &c.app;
    let subject = "subject-reference-0005";
    post_form(app, subject, TAX_ID, false).await;
    let dpo = sign_in(app, DPO).await;
    let uri = "/admin/sites/demo/receipts/paper";
    let page = body_text(dpo.open(app, uri).await).await;
    assert!(page.contains("name=\"purpose.newsletter\""), "{page}");
    let fields = [
        ("form", "registration"),
        ("reference", TAX_ID),
        ("document", "F-2569-0042"),
        ("signed_on", "2025-11-30"),
        ("purpose.newsletter", "granted"),
    ];
    let res = dpo.submit(app, uri, &fields).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no CSRF token");
    let mut with_csrf = fields.to_vec();
    with_csrf.push(("csrf", &dpo.csrf));
    let res = dpo.submit(app, uri, &with_csrf).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = body_text(res).await;
    assert!(page.contains(&app.pseudonym(subject)), "{page}");
    let history = body_json(
        app.get(&format!("/v1/sites/demo/subjects/{subject}/receipts"))
            .await,
    )
    .await;
    let latest = &history[0]["receipt"];
    assert_eq!(latest["method"], "paper");
    assert_eq!(latest["paper"]["document"], "F-2569-0042");
    assert_eq!(latest["purposes"], json!({"newsletter": true}));
    // An auditor has no such page.
    let auditor = sign_in(app, AUDITOR).await;
    assert_eq!(auditor.open(app, uri).await.status(), StatusCode::NOT_FOUND);
}

/// Erasing the subject removes the reference's links: the lookup no longer finds the
/// person, and no table keeps the hash.
#[tokio::test]
async fn erasure_removes_the_reference_links() {
    let app = app().await;
    let token = service_token(&app, "demo").await;
    let subject = "subject-reference-0006";
    post_form(&app, subject, TAX_ID, true).await;
    assert_eq!(lookup(&app, &token, TAX_ID).await.status(), StatusCode::OK);
    let done = erasure::erase_subject(
        &app.state,
        "demo",
        &app.pseudonym(subject),
        Reason::SubjectRequest,
        Some("DSR-2569-0100"),
    )
    .await
    .expect("erase");
    assert_eq!(done.receipts, 1);
    assert_eq!(
        lookup(&app, &token, TAX_ID).await.status(),
        StatusCode::NOT_FOUND
    );
    let hash = app.state.subjects.reference_hash("demo", TAX_ID);
    for (table, row) in dump::rows(&app.state.store).await {
        assert!(!row.contains(&hash), "{table} keeps the link: {row}");
    }
}
