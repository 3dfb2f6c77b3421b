//! Consent on forms (issue 16 item 1), server side: a form receipt (method `form`, the
//! form's name as `context`) decides only consent purposes, is signed, chained into the
//! visitor's one history, replayed on its request id (an agency backend forwarding the
//! loader's `yinyom_request` later) and named in every export. SQLite by default,
//! PostgreSQL when `YINYOM_TEST_DATABASE_URL` is set.

mod common;

use axum::http::StatusCode;
use common::{console::*, *};
use yinyom_model::canonical::to_canonical_json;
use yinyom_server::signing::{Jwks, verify};

const RECEIPTS: &str = "/v1/sites/demo/receipts";

/// A form receipt request as the loader builds it (and puts in `yinyom_request`).
fn form_request(request_id: &str, subject: &str, newsletter: bool) -> serde_json::Value {
    serde_json::json!({
        "request_id": request_id,
        "subject_id": subject,
        "notice_version": "v1",
        "consent_revision": 1,
        "method": "form",
        "context": "registration",
        "lang": "th",
        "categories": {},
        "purposes": { "newsletter": newsletter },
        "page_path": "/register",
        "widget": BUILD
    })
}

/// A form receipt is signed like any other, names its form, joins the visitor's chain
/// after their banner choice, and the same request posted again later (the backend's
/// fallback) answers the same receipt instead of a second one.
#[tokio::test]
async fn a_form_receipt_is_signed_chained_and_replayed_on_its_request_id() {
    let app = app().await;
    let subject = "subject-form-000001";
    let banner = app
        .post_json(RECEIPTS, &choice(&uuid(), subject, true, false))
        .await;
    assert_eq!(banner.status(), StatusCode::CREATED);

    let id = uuid();
    let res = app
        .post_json(RECEIPTS, &form_request(&id, subject, true))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body = body_json(res).await;
    let r = &body["receipt"];
    assert_eq!(r["method"], "form");
    assert_eq!(r["context"], "registration");
    assert_eq!(r["event"], "updated", "the visitor's second receipt");
    assert_eq!(r["categories"], serde_json::json!({}));
    assert_eq!(r["purposes"], serde_json::json!({"newsletter": true}));
    // The visitor's usual subject: the pseudonym of the secret their browser holds.
    assert_eq!(r["subject_id"], app.state.subjects.pseudonym(subject));
    assert!(
        r["previous"].is_string(),
        "chained after the banner receipt"
    );

    let jwks: Jwks =
        serde_json::from_value(body_json(app.get("/.well-known/jwks.json").await).await)
            .expect("jwks");
    let payload = verify(body["jws"].as_str().expect("jws"), &jwks).expect("valid signature");
    assert_eq!(
        String::from_utf8(payload).expect("utf8"),
        to_canonical_json(r).expect("canonical")
    );

    // The backend forwards the fallback request after the loader already delivered it.
    let replay = app
        .post_json(RECEIPTS, &form_request(&id, subject, true))
        .await;
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(
        body_json(replay).await["receipt"]["receipt_id"],
        r["receipt_id"]
    );
    // The same request id with another form is not a retry.
    let mut other = form_request(&id, subject, true);
    other["context"] = serde_json::json!("complaint");
    assert_eq!(
        app.post_json(RECEIPTS, &other).await.status(),
        StatusCode::CONFLICT
    );

    let history = body_json(
        app.get(&format!("/v1/sites/demo/subjects/{subject}/receipts"))
            .await,
    )
    .await;
    let methods: Vec<&str> = history
        .as_array()
        .or_else(|| history["receipts"].as_array())
        .expect("history list")
        .iter()
        .filter_map(|e| e["receipt"]["method"].as_str())
        .collect();
    assert!(
        methods.contains(&"form") && methods.contains(&"save_preferences"),
        "one history holds cookie and form choices: {methods:?}"
    );
    assert_eq!(
        app.state.store.count_receipts("demo").await.expect("count"),
        2
    );
}

/// A form receipt decides some consent purposes and nothing else: a cookie category, a
/// purpose that is not a consent purpose, no decision at all, a missing form name, or a
/// form name on a banner receipt are 422, and nothing is stored.
#[tokio::test]
async fn a_form_receipt_decides_only_consent_purposes() {
    let app = app().await;
    let subject = "subject-form-000002";
    let mut with_category = form_request(&uuid(), subject, true);
    with_category["categories"] = serde_json::json!({"analytics": true});
    let mut not_consent = form_request(&uuid(), subject, true);
    not_consent["purposes"]["service"] = serde_json::json!(true);
    let mut nothing = form_request(&uuid(), subject, true);
    nothing["purposes"] = serde_json::json!({});
    let mut unnamed = form_request(&uuid(), subject, true);
    unnamed.as_object_mut().expect("object").remove("context");
    let mut bad_name = form_request(&uuid(), subject, true);
    bad_name["context"] = serde_json::json!("<script>");
    let mut banner_with_form = choice(&uuid(), subject, true, true);
    banner_with_form["context"] = serde_json::json!("registration");
    for (body, status, code) in [
        (with_category, 422, "invalid_decisions"),
        (not_consent, 422, "invalid_decisions"),
        (nothing, 422, "invalid_decisions"),
        (unnamed, 422, "invalid_context"),
        (bad_name, 400, ""),
        (banner_with_form, 422, "invalid_context"),
    ] {
        let res = app.post_json(RECEIPTS, &body).await;
        assert_eq!(res.status().as_u16(), status, "{body}");
        let err = body_json(res).await;
        if !code.is_empty() {
            assert_eq!(err["error"]["code"], code, "{body}");
        }
    }
    assert_eq!(
        app.state.store.count_receipts("demo").await.expect("count"),
        0
    );
}

/// Every export names the form: the CSV's form column, JSONL's `context`, Kantara's
/// collection method and ISO/IEC TS 27560's `web_form` channel; a purpose the form did not
/// ask is "not applicable", not "denied".
#[tokio::test]
async fn exports_name_the_form() {
    let c = console().await;
    let app = &c.app;
    let res = app
        .post_json(
            RECEIPTS,
            &form_request(&uuid(), "subject-form-000003", false),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let dpo = c.dpo.as_str();
    let export = |format: &str| {
        let uri = format!("/admin/sites/demo/export?format={format}&lang=en&{RELEASE}");
        async move { body_text(get_as(app, dpo, &uri).await).await }
    };
    let csv = export("csv").await;
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let row: Vec<&str> = lines.next().expect("row").split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name}: {header:?}"))
    };
    assert_eq!(row[col("method")], "form");
    assert_eq!(row[col("form")], "registration");

    let jsonl: serde_json::Value =
        serde_json::from_str(export("jsonl").await.lines().next().expect("line")).expect("json");
    let receipt = jsonl.get("receipt").unwrap_or(&jsonl);
    assert_eq!(receipt["context"], "registration", "{jsonl}");

    let kantara = export("kantara").await;
    assert!(
        kantara.contains("web form `registration`"),
        "Kantara's collectionMethod names the form: {kantara}"
    );

    let iso: serde_json::Value =
        serde_json::from_str(export("iso27560").await.lines().next().expect("line")).expect("json");
    let iso = iso.as_array().and_then(|a| a.first()).unwrap_or(&iso);
    assert_eq!(iso["collection_method"]["channel"], "web_form", "{iso}");
    assert_eq!(iso["collection_method"]["form"], "registration");
    let decision = |id: &str| {
        iso["purposes"]
            .as_array()
            .expect("purposes")
            .iter()
            .find(|p| p["purpose_id"] == id)
            .map(|p| p["decision"].clone())
    };
    assert_eq!(decision("newsletter"), Some(serde_json::json!("denied")));
    assert_eq!(
        decision("analytics"),
        Some(serde_json::json!("not_applicable"))
    );
}

/// The loader carries what a form's request needs when the server cannot be reached (the
/// notice version; the loader may come from the browser's cache) and where the forms
/// module is; the consent purposes stay out of it (the module fetches them).
#[tokio::test]
async fn the_loader_names_the_notice_version_and_the_forms_module() {
    let app = app().await;
    let js = body_text(app.get("/v1/sites/demo/yinyom.js").await).await;
    assert!(js.contains(r#""version":"v1""#), "{js}");
    assert!(js.contains(r#""forms_js":"/assets/0123456789abcdef/yinyom_forms.js""#));
    assert!(!js.contains(r#""purposes""#));
}

/// Notice v2 of the fixture site: the purpose `health` is asked only on forms.
async fn publish_form_only_purpose(app: &TestApp) {
    let dir = tempfile::tempdir().expect("dir");
    for f in ["site.toml", "notice.th.md", "notice.en.md"] {
        let text = std::fs::read_to_string(fixture().join(f)).expect("read");
        std::fs::write(dir.path().join(f), text).expect("write");
    }
    let toml = std::fs::read_to_string(dir.path().join("site.toml"))
        .expect("read")
        .replace("version = \"v1\"", "version = \"v2\"")
        .replace("consent_revision = 1", "consent_revision = 2")
        + "\n[[purposes]]\nid = \"health\"\nlegal_basis = \"consent\"\nasked = \"form\"\ntitle = { th = \"ข้อมูลสุขภาพ\", en = \"Health data\" }\ndescription = { th = \"ใช้ข้อมูลสุขภาพเมื่อท่านยินยอมโดยชัดแจ้ง\", en = \"Health data, on your explicit consent\" }\nretention = { th = \"5 ปี\", en = \"5 years\" }\n";
    // `[[purposes]]` appended after the categories would belong to the last category's
    // table: move it before them.
    let (head, tail) = toml.split_once("\n[[categories]]").expect("categories");
    let (tail, added) = tail.split_once("\n[[purposes]]").expect("added purpose");
    let toml = format!("{head}\n[[purposes]]{added}\n[[categories]]{tail}");
    std::fs::write(dir.path().join("site.toml"), toml).expect("write");
    yinyom_server::sites::import(&app.state.store, dir.path())
        .await
        .expect("publish v2");
}

/// Under v2, request `body` (made for v1).
fn v2(mut body: serde_json::Value) -> serde_json::Value {
    body["notice_version"] = serde_json::json!("v2");
    body["consent_revision"] = serde_json::json!(2);
    body
}

/// A form-only purpose (`asked = "form"`): the banner view leaves it out and names it for
/// the forms module; a banner receipt without it is accepted and one with it refused; a
/// form receipt records it granted when ticked and refused when not; the notice still
/// lists it, and the current-consent statistics count it.
#[tokio::test]
async fn a_form_only_purpose_is_decided_on_forms_not_in_the_banner() {
    let app = app().await;
    publish_form_only_purpose(&app).await;

    let view = body_json(app.get("/v1/sites/demo/notice?view=banner").await).await;
    assert_eq!(view["purposes"], serde_json::json!(["newsletter"]));
    assert_eq!(view["form_purposes"], serde_json::json!(["health"]));
    let notice = body_json(app.get("/v1/sites/demo/notice").await).await;
    let health = notice["notice"]["purposes"]
        .as_array()
        .expect("purposes")
        .iter()
        .find(|p| p["id"] == "health")
        .expect("the notice lists the form-only purpose");
    assert_eq!(health["asked"], "form");
    let page = body_text(app.get("/sites/demo/notice?lang=en").await).await;
    assert!(page.contains("Health data"), "the notice page lists it");

    let (a, b) = ("subject-form-only-0001", "subject-form-only-0002");
    let res = app
        .post_json(RECEIPTS, &v2(choice(&uuid(), a, true, true)))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "Accept all without health"
    );
    let mut with_health = v2(choice(&uuid(), b, true, true));
    with_health["purposes"]["health"] = serde_json::json!(true);
    let res = app.post_json(RECEIPTS, &with_health).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err = body_json(res).await;
    assert_eq!(err["error"]["code"], "invalid_decisions");

    let form = |subject: &str, health: bool| {
        let mut f = v2(form_request(&uuid(), subject, false));
        f["context"] = serde_json::json!("consent-form");
        f["purposes"] = serde_json::json!({ "health": health });
        f
    };
    for (subject, ticked) in [(a, true), (b, false)] {
        let res = app.post_json(RECEIPTS, &form(subject, ticked)).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let r = body_json(res).await;
        assert_eq!(
            r["receipt"]["purposes"],
            serde_json::json!({ "health": ticked })
        );
    }
    // A later cookie choice decides no form-only purpose: the consent-check answer keeps
    // the form's decision beside the banner's.
    let mut reject = v2(choice(&uuid(), a, false, false));
    reject["method"] = serde_json::json!("reject_all");
    assert_eq!(
        app.post_json(RECEIPTS, &reject).await.status(),
        StatusCode::CREATED
    );
    let asker = yinyom_server::consent::Asker {
        actor: "test",
        client: "local",
    };
    let ids = app.state.subjects.lookup_ids(a);
    let answer = yinyom_server::consent::check(
        &app.state.store,
        asker,
        "demo",
        yinyom_server::consent::Whose::Subject(&ids),
    )
    .await
    .expect("consent answer");
    assert_eq!(
        (
            answer.purposes.get("health"),
            answer.purposes.get("newsletter")
        ),
        (Some(&true), Some(&false)),
        "{answer:?}"
    );
    assert_eq!(answer.categories.get("analytics"), Some(&false));

    // A withdrawal may withdraw it too, never grant it.
    let mut withdraw = v2(choice(&uuid(), a, false, false));
    withdraw["method"] = serde_json::json!("withdraw");
    withdraw["purposes"]["health"] = serde_json::json!(false);
    assert_eq!(
        app.post_json(RECEIPTS, &withdraw).await.status(),
        StatusCode::CREATED
    );
    let answer = yinyom_server::consent::check(
        &app.state.store,
        asker,
        "demo",
        yinyom_server::consent::Whose::Subject(&ids),
    )
    .await
    .expect("consent answer");
    assert_eq!(answer.purposes.get("health"), Some(&false), "{answer:?}");
    let mut grant = withdraw.clone();
    grant["request_id"] = serde_json::json!(uuid());
    grant["purposes"]["health"] = serde_json::json!(true);
    assert_eq!(
        app.post_json(RECEIPTS, &grant).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let current =
        yinyom_server::stats::current(&app.state.store, "demo", yinyom_server::dates::now_ms())
            .await
            .expect("current consent");
    let item = current
        .items
        .iter()
        .find(|i| i.kind == "purpose" && i.item == "health")
        .expect("health in the current consent");
    assert_eq!((item.consenting, item.decided), (0, 2));
}
