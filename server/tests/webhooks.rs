//! Webhooks (Standard Webhooks): `yinyom webhooks add` gives a site an endpoint and its
//! `whsec_…` secret; receipts write `consent.recorded` / `consent.withdrawn` to an outbox
//! in their own transaction; the delivery worker of `yinyom serve` posts them signed, and
//! a library we did not write (npm `standardwebhooks`) verifies them; a 500 is retried; a
//! subject's events arrive in order; several server processes deliver each event once.
//! The database never holds a secret in clear (sealed under a key derived from the subject
//! key; secrets stored in clear before are sealed when the worker starts), and `webhooks
//! rotate` signs with both secrets during the overlap.

mod common;

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use common::*;
use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};
use yinyom_server::{
    store::{Store, webhooks::EventType},
    webhooks::{self, Event},
};

/// One request the receiver got, and what it answered.
#[derive(Debug, Clone, serde::Serialize)]
struct Got {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
    answered: u16,
}

impl Got {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }
}

/// A test receiver: answers 500 to its first `fail` requests, then 204.
#[derive(Default)]
struct Receiver {
    got: Mutex<Vec<Got>>,
    fail: AtomicUsize,
}

impl Receiver {
    fn got(&self) -> Vec<Got> {
        self.got.lock().expect("lock").clone()
    }

    /// The requests answered 2xx.
    fn delivered(&self) -> Vec<Got> {
        self.got()
            .into_iter()
            .filter(|g| g.answered < 300)
            .collect()
    }
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: String) -> StatusCode {
    let fail = r
        .fail
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let status = if fail {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    };
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    r.got.lock().expect("lock").push(Got {
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp"),
        signature: h("webhook-signature"),
        body,
        answered: status.as_u16(),
    });
    status
}

/// Starts a receiver; its URL.
async fn receiver(fail: usize) -> (String, Arc<Receiver>) {
    let r = Arc::new(Receiver {
        fail: AtomicUsize::new(fail),
        ..Receiver::default()
    });
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, r)
}

fn yinyom(url: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_yinyom"))
        .args(["--database-url", url])
        .args(args)
        .output()
        .expect("run yinyom");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `--subject-key` argument for the CLI: the test app's subject key file.
fn subject_key_arg(app: &TestApp) -> String {
    format!(
        "--subject-key={}",
        subject_key_file(app.dir.path()).display()
    )
}

/// `yinyom webhooks add` with the app's subject key: the secret it prints once.
fn add_endpoint(db: &str, app: &TestApp, site: &str, url: &str) -> String {
    let key = subject_key_arg(app);
    let (ok, out, err) = yinyom(db, &["webhooks", "add", "--site", site, "--url", url, &key]);
    assert!(ok, "webhooks add: {err}");
    let secret = out.trim().to_owned();
    assert!(secret.starts_with("whsec_"), "{out}");
    assert!(
        !err.contains(&secret),
        "the secret is printed once, on stdout"
    );
    secret
}

/// The delivery worker of `serve`, with the app's keys.
fn worker(app: &TestApp) -> impl std::future::Future<Output = ()> + use<> {
    webhooks::run(
        app.state.store.clone(),
        webhooks::SealKey::of(&app.state.subjects),
    )
}

/// Waits (up to a minute) until `cond` holds.
async fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..600 {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// npm `standardwebhooks` (the specification's reference library) in
/// `target/standardwebhooks`, installed on first use.
fn standardwebhooks_dir() -> PathBuf {
    // One install at a time: the tests of this file run in parallel.
    static INSTALL: Mutex<()> = Mutex::new(());
    let _one = INSTALL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/standardwebhooks");
    if !dir
        .join("node_modules/standardwebhooks/package.json")
        .is_file()
    {
        std::fs::create_dir_all(&dir).expect("target/standardwebhooks");
        let status = Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--loglevel=error",
                "--prefix",
            ])
            .arg(&dir)
            .arg("standardwebhooks@1.3.0")
            .status()
            .expect("npm is needed for this test (Debian: apt-get install npm)");
        assert!(status.success(), "npm install standardwebhooks failed");
    }
    dir
}

/// Verifies each request with npm `standardwebhooks` and `secret`: per request, the
/// payload's `type` or the library's error.
fn verify_with_node(secret: &str, got: &[Got]) -> Vec<String> {
    let dir = standardwebhooks_dir();
    let script = r#"
const { Webhook } = require("standardwebhooks");
const [secret, input] = process.argv.slice(1);
const wh = new Webhook(secret);
const out = JSON.parse(input).map((g) => {
  try {
    const headers = { "webhook-id": g.id, "webhook-timestamp": g.timestamp, "webhook-signature": g.signature };
    return wh.verify(g.body, headers).type;
  } catch (e) {
    return "error: " + e.message;
  }
});
console.log(JSON.stringify(out));
"#;
    let out = Command::new("node")
        .current_dir(&dir)
        .env("NODE_PATH", dir.join("node_modules"))
        .args(["-e", script, secret])
        .arg(serde_json::to_string(got).expect("json"))
        .output()
        .expect("node is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("node output")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_events_verify_with_standardwebhooks_and_a_500_is_retried_in_order() {
    let app = app().await;
    let db = database_url(&app).await;
    let (url, rx) = receiver(1).await;
    let secret = add_endpoint(&db, &app, "demo", &url);
    let (_, list, _) = yinyom(&db, &["webhooks", "list", "--site", "demo"]);
    assert!(list.contains(&url) && !list.contains(&secret), "{list}");
    let worker = tokio::spawn(worker(&app));

    let subject = "subject-webhooks-order-01";
    let res = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), subject, true, false),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let first = body_json(res).await["receipt"]["receipt_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut withdraw = choice(&uuid(), subject, false, false);
    withdraw["method"] = serde_json::json!("withdraw");
    let res = app.post_json("/v1/sites/demo/receipts", &withdraw).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    assert!(
        eventually(|| rx.delivered().len() >= 2).await,
        "delivered: {:?}",
        rx.got()
    );
    worker.abort();
    let got = rx.got();
    // The first attempt got a 500 and was retried with the same webhook-id; the subject's
    // withdrawal was not sent before its first event was delivered.
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0].answered, 500);
    assert_eq!(got[1].answered, 204);
    assert_eq!(got[0].id, got[1].id);
    assert!(got[0].id.starts_with("msg_"));
    assert_eq!(got[1].json()["type"], "consent.recorded");
    assert_eq!(got[1].json()["data"]["receipt_id"], first.as_str());
    // Events name the subject as its receipts do: by the pseudonym.
    assert_eq!(
        got[1].json()["data"]["subject"],
        app.state.subjects.pseudonym(subject)
    );
    assert_eq!(got[1].json()["data"]["categories"]["analytics"], true);
    assert_eq!(got[2].json()["type"], "consent.withdrawn");
    assert_ne!(got[2].id, got[1].id);

    // Verified by the reference library, with the secret `webhooks add` printed; a body
    // altered after signing is not.
    let types = verify_with_node(&secret, &got);
    assert_eq!(
        types,
        ["consent.recorded", "consent.recorded", "consent.withdrawn"]
    );
    let mut altered = got[2].clone();
    altered.body = altered.body.replace("withdrawn", "recorded");
    let refused = verify_with_node(&secret, &[altered]);
    assert!(refused[0].starts_with("error:"), "{refused:?}");

    // The delivery log says what happened.
    let log = app
        .state
        .store
        .webhook_deliveries("demo", 10)
        .await
        .expect("log");
    assert_eq!(log.len(), 2);
    let recorded = log
        .iter()
        .find(|d| d.kind == "consent.recorded")
        .expect("row");
    assert_eq!(
        (
            recorded.status.as_str(),
            recorded.attempts,
            recorded.last_status
        ),
        ("delivered", 2, Some(204))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueue_sends_only_what_the_caller_s_transaction_commits() {
    let app = app().await;
    let db = database_url(&app).await;
    let (url, rx) = receiver(0).await;
    add_endpoint(&db, &app, "demo", &url);
    let event = |n: u32| Event {
        kind: if n == 1 {
            EventType::RequestClosed
        } else {
            EventType::RequestCreated
        },
        site: "demo".into(),
        subject: "subject-webhooks-request-1".into(),
        data: serde_json::json!({"reference": format!("R-{n}")}),
    };
    // A request written and rolled back sends nothing; one committed is sent. No
    // endpoint, no event: the other site has none.
    macro_rules! in_tx {
        ($pool:expr, $commit:expr, $ev:expr) => {{
            let mut tx = $pool.begin().await.expect("begin");
            let written = webhooks::enqueue(&mut *tx, &$ev).await.expect("enqueue");
            if $commit {
                tx.commit().await.expect("commit");
            } else {
                tx.rollback().await.expect("rollback");
            }
            written
        }};
    }
    let mut other = event(3);
    other.site = "other".into();
    let written = match &app.state.store {
        Store::Sqlite(pool) => [
            in_tx!(pool, false, event(0)),
            in_tx!(pool, true, event(1)),
            in_tx!(pool, true, other),
        ],
        Store::Postgres(pool) => [
            in_tx!(pool, false, event(0)),
            in_tx!(pool, true, event(1)),
            in_tx!(pool, true, other),
        ],
    };
    assert_eq!(written, [true, true, false]);
    let worker = tokio::spawn(worker(&app));
    assert!(eventually(|| !rx.delivered().is_empty()).await);
    // Time for a wrongly sent rolled-back event to show up too.
    tokio::time::sleep(webhooks::POLL * 3).await;
    worker.abort();
    let got = rx.got();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].json()["type"], "request.closed");
    assert_eq!(got[0].json()["data"]["reference"], "R-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_deliver_each_event_once() {
    let app = app().await;
    let db = database_url(&app).await;
    let (url, rx) = receiver(0).await;
    let secret = add_endpoint(&db, &app, "demo", &url);
    let dist = app.dir.path().join("dist");
    let servers: Vec<_> = (0..2)
        .map(|_| common::binary::start(&db, common::binary::free_port(), &dist))
        .collect();
    // Receipts of 20 visitors, 3 choices each, while both processes' workers run.
    let mut subjects = Vec::new();
    for v in 0..20 {
        let subject = format!("subject-webhooks-fleet-{v:02}");
        for i in 0..3 {
            let res = app
                .post_json(
                    "/v1/sites/demo/receipts",
                    &choice(&uuid(), &subject, i % 2 == 0, i == 1),
                )
                .await;
            assert_eq!(res.status(), StatusCode::CREATED);
        }
        subjects.push(app.state.subjects.pseudonym(&subject));
    }
    assert!(
        eventually(|| rx.delivered().len() >= 60).await,
        "delivered {} of 60",
        rx.delivered().len()
    );
    // Time for a duplicate to show up.
    tokio::time::sleep(webhooks::POLL * 3).await;
    for mut s in servers {
        let _ = s.kill();
        let _ = s.wait();
    }
    let got = rx.got();
    let ids: std::collections::HashSet<&str> = got.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(got.len(), 60, "each event once");
    assert_eq!(ids.len(), 60);
    // Each visitor's three receipts arrived in the order they were made.
    for subject in &subjects {
        let issued: Vec<String> = got
            .iter()
            .map(Got::json)
            .filter(|j| j["data"]["subject"] == subject.as_str())
            .map(|j| j["data"]["issued_at"].as_str().unwrap_or("").to_owned())
            .collect();
        assert_eq!(issued.len(), 3);
        assert!(issued.windows(2).all(|w| w[0] <= w[1]), "{issued:?}");
    }
    let verified = verify_with_node(&secret, &got);
    assert!(
        verified.iter().all(|t| t == "consent.recorded"),
        "{verified:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_adds_endpoints_shows_the_secret_once_and_the_delivery_log() {
    use common::console::*;
    let c = console().await;
    let app = &c.app;
    let (url, rx) = receiver(1).await;
    let admin = sign_in(app, ADMIN).await;
    let page = "/admin/sites/demo/webhooks";

    let res = admin
        .submit(app, page, &[("csrf", &admin.csrf), ("url", &url)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = body_text(res).await;
    let secret = html
        .split("whsec_")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .map(|s| format!("whsec_{s}"))
        .expect("the secret on the answer");
    // The page lists the endpoint, never its secret.
    let html = body_text(admin.open(app, page).await).await;
    assert!(html.contains(&url) && !html.contains(&secret), "{html}");

    // A receipt is delivered (after one 500); the log says so.
    let worker = tokio::spawn(worker(app));
    let res = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), "subject-webhooks-console-1", true, true),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(eventually(|| !rx.delivered().is_empty()).await);
    // The receiver answered; the worker records that just after.
    let mut recorded = false;
    for _ in 0..600 {
        let log = app
            .state
            .store
            .webhook_deliveries("demo", 10)
            .await
            .expect("log");
        if log.iter().any(|d| d.status == "delivered") {
            recorded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recorded, "the delivery log says delivered");
    worker.abort();
    assert_eq!(
        verify_with_node(&secret, &rx.got()),
        ["consent.recorded"; 2]
    );
    let html = body_text(admin.open(app, page).await).await;
    assert!(
        html.contains("consent.recorded") && html.contains("ส่งแล้ว") && html.contains("HTTP 204"),
        "{html}"
    );

    // The site's DPO reads the page but adds nothing; an auditor does not see it.
    let dpo = sign_in(app, DPO).await;
    assert_eq!(dpo.open(app, page).await.status(), StatusCode::OK);
    let res = dpo
        .submit(
            app,
            page,
            &[("csrf", &dpo.csrf), ("url", "http://127.0.0.1:9/x")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let auditor = sign_in(app, AUDITOR).await;
    assert_eq!(
        auditor.open(app, page).await.status(),
        StatusCode::NOT_FOUND
    );

    // Removed: listed as such, and audited with the addition.
    let id = app.state.store.webhooks(Some("demo")).await.expect("list")[0]
        .id
        .to_string();
    let res = admin
        .submit(
            app,
            &format!("{page}/remove"),
            &[("csrf", &admin.csrf), ("id", &id)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let rows = app.state.store.webhooks(Some("demo")).await.expect("list");
    assert!(rows[0].removed_at.is_some());
    let audit = body_json(get_as(app, &c.admin, "/v1/admin/audit").await).await;
    let actions: Vec<&str> = audit
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["action"].as_str())
        .filter(|a| a.starts_with("webhook."))
        .collect();
    assert_eq!(actions, ["webhook.remove", "webhook.add"]);
    assert!(!audit.to_string().contains(&secret));
}

/// A visitor's request reaches the site's webhooks as `request.created`, and closing it as
/// `request.closed`, without the message or the contact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filing_and_closing_a_request_reach_the_webhooks() {
    let app = app().await;
    let db = database_url(&app).await;
    let (url, rx) = receiver(0).await;
    add_endpoint(&db, &app, "demo", &url);
    let secret = "subject-webhooks-asks-0001";
    let res = app
        .post_json(
            &format!("/v1/sites/demo/subjects/{secret}/requests"),
            &serde_json::json!({"kind": "access", "message": "ขอสำเนา", "contact": "a@example.org"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let reference = body_json(res).await["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    yinyom_server::requests::act(
        &app.state.store,
        "demo",
        &reference,
        yinyom_server::requests::Action::Close(
            yinyom_server::requests::Outcome::Refused(
                yinyom_model::request::RefusalReason::IdentityNotEstablished,
            ),
            None,
        ),
        "dpo@demo.go.th",
        "127.0.0.1",
    )
    .await
    .expect("close");
    let worker = tokio::spawn(worker(&app));
    assert!(
        eventually(|| rx.delivered().len() >= 2).await,
        "{:?}",
        rx.got()
    );
    worker.abort();
    let got = rx.got();
    let types: Vec<String> = got
        .iter()
        .map(|g| g.json()["type"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(types, ["request.created", "request.closed"]);
    let created = got[0].json();
    assert_eq!(created["data"]["reference"], reference.as_str());
    assert_eq!(
        created["data"]["subject"],
        app.state.subjects.pseudonym(secret)
    );
    assert!(!got[0].body.contains("ขอสำเนา") && !got[0].body.contains("a@example.org"));
    assert_eq!(got[1].json()["data"]["status"], "refused");
}

/// The base64 key of a `whsec_` secret and its forms a dump could show it in.
fn secret_forms(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    let b64 = secret.trim_start_matches("whsec_");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    vec![
        secret.to_lowercase(),
        b64.to_lowercase(),
        hex::encode(&bytes),
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(&bytes)
            .to_lowercase(),
    ]
}

/// Whether the database dump shows `secret` in any of its forms.
async fn dump_shows(store: &Store, secret: &str) -> bool {
    let text = dump::text(store).await;
    assert!(
        text.contains("webhook_endpoints: "),
        "the dump reads the tables"
    );
    secret_forms(secret).iter().any(|f| text.contains(f))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_holds_no_secret_in_clear_and_deliveries_still_verify() {
    let app = app().await;
    let store = &app.state.store;
    let db = database_url(&app).await;
    let (url, rx) = receiver(0).await;
    let secret = add_endpoint(&db, &app, "demo", &url);
    assert!(!dump_shows(store, &secret).await, "stored sealed");
    assert!(dump::text(store).await.contains("sealed:v1:"));

    // An endpoint stored in clear by an older version: sealed when the worker starts.
    let (old_url, old_rx) = receiver(0).await;
    let old_secret = webhooks::new_secret().expect("secret");
    dump::exec(
        store,
        &format!(
            "insert into webhook_endpoints (site_id, url, secret, created_at) \
             values ('demo', '{old_url}', '{old_secret}', 0)"
        ),
    )
    .await;
    assert!(dump_shows(store, &old_secret).await, "in clear before");
    let worker = tokio::spawn(worker(&app));
    let res = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), "subject-webhooks-sealed-1", true, false),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(eventually(|| !rx.delivered().is_empty() && !old_rx.delivered().is_empty()).await);
    worker.abort();
    assert!(!dump_shows(store, &old_secret).await, "sealed at start");
    assert!(!dump_shows(store, &secret).await);

    // Each delivery verifies with the secret its endpoint was given, and not with the
    // other's.
    assert_eq!(verify_with_node(&secret, &rx.got()), ["consent.recorded"]);
    assert_eq!(
        verify_with_node(&old_secret, &old_rx.got()),
        ["consent.recorded"]
    );
    assert!(verify_with_node(&secret, &old_rx.got())[0].starts_with("error:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_signs_beside_the_old_one_during_the_overlap() {
    let app = app().await;
    let store = &app.state.store;
    let db = database_url(&app).await;
    let (url, rx) = receiver(0).await;
    let first = add_endpoint(&db, &app, "demo", &url);
    let (_, list, _) = yinyom(&db, &["webhooks", "list", "--site", "demo"]);
    let id = list
        .split_whitespace()
        .next()
        .expect("the endpoint's id")
        .to_owned();
    let key = subject_key_arg(&app);
    let rotate = |overlap: &str| {
        let (ok, out, err) = yinyom(
            &db,
            &[
                "webhooks",
                "rotate",
                "--site",
                "demo",
                "--id",
                &id,
                "--overlap-hours",
                overlap,
                &key,
            ],
        );
        assert!(ok, "webhooks rotate: {err}");
        let secret = out.trim().to_owned();
        assert!(
            secret.starts_with("whsec_") && !err.contains(&secret),
            "{out}"
        );
        secret
    };
    let second = rotate("24");
    assert_ne!(first, second);
    let (ok, _, err) = yinyom(
        &db,
        &["webhooks", "rotate", "--site", "other", "--id", &id, &key],
    );
    assert!(!ok && err.contains("no endpoint"), "{err}");

    let worker = tokio::spawn(worker(&app));
    let post = |n: u32| {
        let app = &app;
        async move {
            let res = app
                .post_json(
                    "/v1/sites/demo/receipts",
                    &choice(
                        &uuid(),
                        &format!("subject-webhooks-rotate-{n}"),
                        true,
                        false,
                    ),
                )
                .await;
            assert_eq!(res.status(), StatusCode::CREATED);
        }
    };
    post(1).await;
    assert!(eventually(|| rx.delivered().len() == 1).await);
    // During the overlap: two signatures, each secret verifies the delivery.
    let during = rx.got();
    assert_eq!(during[0].signature.split(' ').count(), 2, "{:?}", during[0]);
    assert_eq!(verify_with_node(&first, &during), ["consent.recorded"]);
    assert_eq!(verify_with_node(&second, &during), ["consent.recorded"]);

    // Rotated again with no overlap: only the newest secret signs.
    let third = rotate("0");
    post(2).await;
    assert!(eventually(|| rx.delivered().len() == 2).await);
    worker.abort();
    let after = &rx.got()[1..];
    assert_eq!(after[0].signature.split(' ').count(), 1, "{:?}", after[0]);
    assert_eq!(verify_with_node(&third, after), ["consent.recorded"]);
    for old in [&first, &second] {
        assert!(verify_with_node(old, after)[0].starts_with("error:"));
    }
    // No secret, old or new, is in the database in clear or in the audit log.
    for s in [&first, &second, &third] {
        assert!(!dump_shows(store, s).await);
    }
    let audit = store.audit_entries(None, None, 100).await.expect("audit");
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.action == "webhook.rotate")
            .count(),
        2
    );
}
