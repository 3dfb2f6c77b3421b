//! Erasure and retention keep the proof: the personal content goes, the leaf hashes and a
//! signed erasure record stay, and `yinyom log verify` still passes and says so. Also the
//! checks `log verify` and the background self-check make of the per-day counts.

mod common;

use axum::http::StatusCode;
use common::*;
use yinyom_server::{
    erasure::{self, Reason},
    log,
    store::{Store, now_ms},
};

/// Posts a receipt for `subject` from `page` and returns its id.
async fn post(app: &TestApp, subject: &str, page: &str, withdraw: bool) -> String {
    let mut body = choice(&uuid(), subject, !withdraw, false);
    body["page_path"] = serde_json::json!(page);
    if withdraw {
        body["method"] = serde_json::json!("withdraw");
    }
    let res = app.post_json("/v1/sites/demo/receipts", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    body_json(res).await["receipt"]["receipt_id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn sequence(app: &TestApp) {
    let signer = log::LogSigner::of(&app.state).await.expect("log key");
    log::sequence(&app.state.store, &signer, "demo")
        .await
        .expect("sequence");
}

/// `yinyom log verify`, its exit status and output.
fn cli(url: &str, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yinyom"))
        .args(["--database-url", url])
        .args(args)
        .output()
        .expect("run yinyom");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn verify(url: &str) -> (bool, String) {
    cli(url, &["log", "verify", "--site", "demo"])
}

const ERASED: &str = "subject-erase-me-0001";
const KEPT: &str = "subject-keep-me-00002";
const ERASED_PAGE: &str = "/private/only-the-erased-visitor-saw-this";

/// Erasing a visitor: their id and page path are gone from every table, the history
/// endpoint answers nothing, `log verify` passes and prints the erasure; the other
/// visitor's receipts stay whole.
#[tokio::test]
async fn erasing_a_visitor_removes_their_content_and_keeps_the_log_verifiable() {
    let app = app().await;
    post(&app, ERASED, ERASED_PAGE, false).await;
    post(&app, KEPT, "/services", false).await;
    post(&app, ERASED, ERASED_PAGE, false).await;
    sequence(&app).await;
    // The last one is not yet in the log: erasure appends it first.
    post(&app, ERASED, ERASED_PAGE, true).await;
    // Receipts name the visitor by the pseudonym of the secret their browser holds.
    let erased = app.state.subjects.pseudonym(ERASED);
    // A DPO searched for the visitor: the audit log names them.
    dump::exec(
        &app.state.store,
        &format!(
            "insert into audit_log (at, actor, action, site_id, detail, client)
             values (1, 'dpo@demo.go.th', 'receipts.search', 'demo', 'subject={erased}', '127.0.0.1')"
        ),
    )
    .await;
    let before = dump::rows(&app.state.store).await;
    assert!(before.iter().any(|(_, r)| r.contains(&erased)));
    assert!(before.iter().any(|(_, r)| r.contains(ERASED_PAGE)));

    // The request may name the visitor in any case, as the history endpoint allows.
    let done = erasure::erase_subject(
        &app.state,
        "demo",
        &erased.to_ascii_uppercase(),
        Reason::SubjectRequest,
        Some("DSR-2569-0007"),
    )
    .await
    .expect("erase");
    assert_eq!((done.receipts, done.pending), (3, 0), "{done:?}");

    for (table, row) in dump::rows(&app.state.store).await {
        assert!(
            !row.contains(&erased) && !row.contains(ERASED),
            "{table} still names the visitor: {row}"
        );
        assert!(
            !row.contains(ERASED_PAGE),
            "{table} still holds the page: {row}"
        );
    }
    let history = app
        .get(&format!("/v1/sites/demo/subjects/{ERASED}/receipts"))
        .await;
    assert_eq!(history.status(), StatusCode::OK);
    assert_eq!(body_json(history).await, serde_json::json!([]));
    let kept = app
        .get(&format!("/v1/sites/demo/subjects/{KEPT}/receipts"))
        .await;
    assert_eq!(body_json(kept).await.as_array().map(Vec::len), Some(1));

    let url = database_url(&app).await;
    let (ok, out) = verify(&url);
    assert!(ok, "an erased log verifies: {out}");
    assert!(!out.contains("TAMPERED"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("erased: 3 receipts under case DSR-2569-0007")),
        "{out}"
    );
    let report = log::verify(&app.state.store, "demo").await.expect("verify");
    assert_eq!(report.leaves, 4);
    assert_eq!(report.erasures.len(), 1);

    // The visitor comes back with the same browser: a new chain, still verifiable.
    post(&app, ERASED, "/services", false).await;
    sequence(&app).await;
    let (ok, out) = verify(&url);
    assert!(ok, "{out}");
}

/// A receipt emptied or removed by hand, without a signed erasure record, is tampering;
/// so is a record edited after it was signed.
#[tokio::test]
async fn removing_content_without_a_signed_record_is_tampering() {
    let app = app().await;
    let a = post(&app, ERASED, ERASED_PAGE, false).await;
    let b = post(&app, KEPT, "/services", false).await;
    sequence(&app).await;
    let url = database_url(&app).await;
    let store = &app.state.store;

    dump::exec(
        store,
        &format!(
            "update receipts set subject_id = '', receipt_json = '', jws = '', packed = null, template_id = null where receipt_id = '{a}'"
        ),
    )
    .await;
    let (ok, out) = verify(&url);
    assert!(!ok, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("TAMPERED:") && l.contains(&a) && l.contains("was edited")),
        "{out}"
    );

    dump::exec(
        store,
        &format!("delete from receipts where receipt_id = '{b}'"),
    )
    .await;
    let (ok, out) = verify(&url);
    assert!(!ok);
    assert!(
        out.lines()
            .any(|l| l.starts_with("TAMPERED:") && l.contains(&b) && l.contains("was deleted")),
        "{out}"
    );
}

/// An erasure record whose stored copy was edited (to cover a receipt removed by hand)
/// no longer verifies.
#[tokio::test]
async fn an_edited_erasure_record_is_tampering() {
    let app = app().await;
    post(&app, ERASED, ERASED_PAGE, false).await;
    let other = post(&app, KEPT, "/services", false).await;
    sequence(&app).await;
    erasure::erase_subject(
        &app.state,
        "demo",
        &app.state.subjects.pseudonym(ERASED),
        Reason::SubjectRequest,
        Some("R-1"),
    )
    .await
    .expect("erase");
    let url = database_url(&app).await;
    assert!(verify(&url).0);
    // Someone removes another receipt and adds it to the record's stored JSON.
    let store = &app.state.store;
    let rec = store.erasures("demo").await.expect("records").remove(0);
    let mut json: serde_json::Value = serde_json::from_str(&rec.record_json).expect("json");
    let mut extra = json["receipts"][0].clone();
    extra["receipt_id"] = serde_json::json!(other);
    json["receipts"].as_array_mut().expect("list").push(extra);
    dump::exec(
        store,
        &format!(
            "update erasures set record_json = '{}'",
            json.to_string().replace('\'', "''")
        ),
    )
    .await;
    dump::exec(
        store,
        &format!("delete from receipts where receipt_id = '{other}'"),
    )
    .await;
    let (ok, out) = verify(&url);
    assert!(!ok, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("TAMPERED:") && l.contains("erasure record")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("TAMPERED:") && l.contains(&other) && l.contains("was deleted")),
        "{out}"
    );
}

const DAY: i64 = 86_400_000;

/// Retention: a dry run changes nothing; applying erases exactly the receipts whose
/// consent ended (superseded, withdrawn, or past validity) more than the site's retention
/// before, and the log still verifies, the kept receipts' chains included.
#[tokio::test]
async fn retention_erases_exactly_the_ended_and_expired() {
    let app = app().await;
    let s1 = "subject-retention-00001";
    let s2 = "subject-retention-00002";
    let s3 = "subject-retention-00003";
    let s1_first = post(&app, s1, "/a", false).await;
    let s1_second = post(&app, s1, "/a", false).await;
    let s2_first = post(&app, s2, "/b", false).await;
    let s2_withdrawal = post(&app, s2, "/b", true).await;
    let s3_only = post(&app, s3, "/c", false).await;
    sequence(&app).await;
    let store = &app.state.store;
    let count = |store: Store| async move {
        dump::rows(&store)
            .await
            .iter()
            .filter(|(t, _)| t == "receipts")
            .count()
    };

    // The fixture keeps consent records 3650 days (the default); validity is 365 days.
    // Today nothing is due; 3651 days from now the superseded and withdrawn ones are;
    // 365 + 3651 days from now every one is.
    let now = now_ms();
    assert!(
        erasure::due(store, "demo", now)
            .await
            .expect("due")
            .due
            .is_empty()
    );
    let later = now + 3651 * DAY;
    let mut due: Vec<String> = erasure::due(store, "demo", later)
        .await
        .expect("due")
        .due
        .into_iter()
        .map(|r| r.receipt_id)
        .collect();
    due.sort();
    let mut expected = vec![s1_first.clone(), s2_first.clone(), s2_withdrawal.clone()];
    expected.sort();
    assert_eq!(due, expected);
    let all = erasure::due(store, "demo", now + (365 + 3651) * DAY)
        .await
        .expect("due");
    assert_eq!(all.due.len(), 5);

    // The command line's dry run lists them and changes nothing.
    let url = database_url(&app).await;
    let as_of = yinyom_server::store::rfc3339_ms(later);
    let (ok, out) = cli(
        &url,
        &[
            "retention",
            "apply",
            "--dry-run",
            "--site",
            "demo",
            "--as-of",
            &as_of,
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("demo: 3 receipts would be erased"), "{out}");
    assert!(out.contains(&s2_withdrawal), "{out}");
    assert_eq!(count(store.clone()).await, 5);
    // Applying it today erases nothing.
    let keys = key_files(app.dir.path());
    let (ok, out) = cli(
        &url,
        &[
            "retention",
            "apply",
            "--site",
            "demo",
            "--signing-key",
            keys.0.to_str().expect("path"),
            "--log-key",
            keys.1.to_str().expect("path"),
            "--subject-key",
            common::subject_key_file(app.dir.path())
                .to_str()
                .expect("path"),
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("demo: 0 receipts erased"), "{out}");
    assert_eq!(count(store.clone()).await, 5);

    let out = erasure::retention(&app.state, "demo", later)
        .await
        .expect("apply");
    assert_eq!(out.erased.map(|e| e.receipts), Some(3));
    let left: Vec<String> = dump::rows(store)
        .await
        .into_iter()
        .filter(|(t, _)| t == "receipts")
        .map(|(_, r)| r)
        .collect();
    assert_eq!(left.len(), 2);
    assert!(left.iter().any(|r| r.contains(&s1_second)));
    assert!(left.iter().any(|r| r.contains(&s3_only)));
    // s2 has nothing left: their visitor row is gone too; s1 keeps theirs.
    let rows = dump::rows(store).await;
    let (p1, p2) = (
        app.state.subjects.pseudonym(s1),
        app.state.subjects.pseudonym(s2),
    );
    assert!(!rows.iter().any(|(t, r)| t == "subjects" && r.contains(&p2)));
    assert!(rows.iter().any(|(t, r)| t == "subjects" && r.contains(&p1)));

    // s1's kept receipt names an erased one as `previous`: the record vouches for it.
    let (ok, out) = verify(&url);
    assert!(ok, "{out}");
    assert!(out.contains("erased: 3 receipts by retention"), "{out}");
}

/// Retention reads only what might be due, a page at a time: receipts issued at or before
/// the cutoff, oldest first, each once, each with its visitor's next receipt even when
/// that one was issued after the cutoff.
#[tokio::test]
async fn retention_reads_only_receipts_old_enough_a_page_at_a_time() {
    let app = app().await;
    let visitors = [
        "subject-page-00001",
        "subject-page-00002",
        "subject-page-00003",
    ];
    let mut posted = Vec::new();
    for v in visitors {
        for page in ["/a", "/b"] {
            posted.push(post(&app, v, page, false).await);
        }
    }
    // A later millisecond than every receipt before it.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let last = post(&app, visitors[0], "/c", false).await;
    let store = &app.state.store;
    // Receipts keep the visitor's pseudonym, not the id the widget sent.
    let visitors = visitors.map(|v| app.state.subjects.pseudonym(v));
    let newest = store
        .erasable("demo", &visitors[0])
        .await
        .expect("rows")
        .last()
        .map(|r| r.issued_at)
        .expect("a receipt");
    // The cutoff falls just before the visitor's third receipt: six candidates.
    let cutoff = newest - 1;
    assert_eq!(
        store
            .count_issued_before("demo", cutoff)
            .await
            .expect("count"),
        6
    );
    let mut after: Option<(i64, String)> = None;
    let mut seen = Vec::new();
    loop {
        let page = store
            .erasable_before(
                "demo",
                cutoff,
                after.as_ref().map(|(t, id)| (*t, id.as_str())),
                4,
            )
            .await
            .expect("page");
        assert!(page.len() <= 4);
        let full = page.len() == 4;
        after = page.last().map(|r| (r.issued_at, r.receipt_id.clone()));
        seen.extend(page);
        if !full {
            break;
        }
    }
    let order: Vec<(i64, &str)> = seen
        .iter()
        .map(|r| (r.issued_at, r.receipt_id.as_str()))
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "oldest first, each once: {order:?}"
    );
    let mut ids: Vec<&str> = seen.iter().map(|r| r.receipt_id.as_str()).collect();
    ids.sort_unstable();
    posted.sort();
    assert_eq!(ids, posted.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!ids.contains(&last.as_str()));
    // Each visitor's first receipt is followed by their second; the first visitor's
    // second by their third, issued after the cutoff; the others' seconds by none.
    for v in &visitors {
        let mine: Vec<&_> = seen.iter().filter(|r| &r.subject_id == v).collect();
        assert_eq!(mine.len(), 2, "{v}");
        assert_eq!(mine[0].next_at, Some(mine[1].issued_at), "{v}");
        let after_second = (*v == visitors[0]).then_some(newest);
        assert_eq!(mine[1].next_at, after_second, "{v}");
    }
}

/// A bad retention value in the site file is refused with the field and the range.
#[tokio::test]
async fn a_bad_retention_value_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).expect("dir");
    for entry in std::fs::read_dir(fixture()).expect("fixture") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), site.join(entry.file_name())).expect("copy");
    }
    let toml = std::fs::read_to_string(site.join("site.toml")).expect("read");
    std::fs::write(
        site.join("site.toml"),
        format!("{toml}\n[retention]\nconsent_records_days = 0\n"),
    )
    .expect("write");
    let store = store(dir.path()).await;
    let err = yinyom_server::sites::import(&store, &site)
        .await
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("retention.consent_records_days") && err.contains("between 30 and 7300"),
        "{err}"
    );
    std::fs::write(
        site.join("site.toml"),
        format!("{toml}\n[retention]\nconsent_records_days = 730\n"),
    )
    .expect("write");
    yinyom_server::sites::import(&store, &site)
        .await
        .expect("imported");
    let stored = store.site("demo").await.expect("read").expect("site");
    assert_eq!(stored.retention_days, 730);
}

/// `log verify` checks the per-day counts the console shows against the signed receipts.
#[tokio::test]
async fn a_tampered_per_day_count_is_named() {
    let app = app().await;
    post(&app, KEPT, "/services", false).await;
    post(&app, ERASED, "/services", false).await;
    sequence(&app).await;
    let url = database_url(&app).await;
    assert!(verify(&url).0);
    dump::exec(
        &app.state.store,
        "update receipt_counts set n = n + 5 where item = '' and granted = -1",
    )
    .await;
    let (ok, out) = verify(&url);
    assert!(!ok, "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("TAMPERED:")
            && l.contains("per-day count")
            && l.contains("stored 7, the signed receipts give 2")),
        "{out}"
    );
}

/// The background self-check shows in /metrics whether the store agrees with itself, and
/// flips to 0 after a hand edit.
#[tokio::test]
async fn the_self_check_flips_the_metric_after_a_hand_edit() {
    let app = app().await;
    let id = post(&app, KEPT, "/services", false).await;
    sequence(&app).await;
    let metric = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("yinyom_store_consistent{site=\"demo\"}"))
            .map(str::to_owned)
    };
    assert_eq!(yinyom_server::selfcheck::round(&app.state).await, 0);
    let text = body_text(app.get("/metrics").await).await;
    assert_eq!(
        metric(&text).as_deref(),
        Some("yinyom_store_consistent{site=\"demo\"} 1"),
        "{text}"
    );
    assert!(text.contains("yinyom_store_checked_timestamp_seconds{site=\"demo\"}"));

    dump::exec(
        &app.state.store,
        &format!("update receipts set method = 'accept_all' where receipt_id = '{id}'"),
    )
    .await;
    assert!(yinyom_server::selfcheck::round(&app.state).await > 0);
    let text = body_text(app.get("/metrics").await).await;
    assert_eq!(
        metric(&text).as_deref(),
        Some("yinyom_store_consistent{site=\"demo\"} 0"),
        "{text}"
    );
}

/// Consent past its validity counts as expired in the current state, and the console's
/// statistics page shows it.
#[tokio::test]
async fn consent_past_its_validity_shows_as_expired() {
    let c = common::console::console().await;
    let app = &c.app;
    post(app, "subject-current-old01", "/a", false).await;
    post(app, "subject-current-new02", "/b", false).await;
    post(app, "subject-current-gone3", "/c", false).await;
    post(app, "subject-current-gone3", "/c", true).await;
    let store = &app.state.store;
    let now = now_ms();
    let state = yinyom_server::stats::current(store, "demo", now)
        .await
        .expect("state");
    assert_eq!((state.visitors, state.withdrawn, state.expired), (3, 1, 0));
    // The fixture's consent is valid 365 days: a year and a day later, both choices have
    // run out; the withdrawal stays a withdrawal.
    let later = yinyom_server::stats::current(store, "demo", now + 366 * DAY)
        .await
        .expect("state");
    assert_eq!(
        (
            later.visitors,
            later.withdrawn,
            later.expired,
            later.opted_in
        ),
        (3, 1, 2, 0)
    );
    let res = common::console::get_as(app, &c.dpo, "/admin/sites/demo/stats").await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = body_text(res).await;
    assert!(
        page.contains("<dt>ถอนความยินยอมแล้ว</dt><dd>1</dd>")
            && page.contains("<dt>การเลือกหมดอายุแล้ว</dt><dd>0</dd>"),
        "{page}"
    );
}

/// `log verify --witness VKEY=URL` fetches the newest checkpoint the witness cosigned and
/// checks the log against it: a log truncated together with its own checkpoints fails.
#[tokio::test(flavor = "multi_thread")]
async fn log_verify_checks_against_the_witness_checkpoint() {
    use yinyom_server::log::witness::Witnesses;
    let app = app().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(post(&app, &format!("subject-witnessed-000{i}"), "/w", false).await);
    }
    sequence(&app).await;
    let store = &app.state.store;
    let signer = log::LogSigner::of(&app.state).await.expect("log key");
    let log_vkey = signer.vkey("demo").expect("vkey");
    let witness_dir = app.dir.path().join("witness");
    std::fs::create_dir_all(&witness_dir).expect("dir");
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let witness = yinyom_server::witness::Witness::new(
        common::store(&witness_dir).await,
        "witness.example.go.th/erasure",
        key,
        &[format!("{}={log_vkey}", log_vkey.name)],
    )
    .expect("witness");
    let w_vkey = witness.vkey();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, witness.router()).await });
    let config = format!("{w_vkey}={url}");
    let witnesses = Witnesses::parse(std::slice::from_ref(&config), None).expect("config");
    let db = database_url(&app).await;
    let with_witness = [
        "log",
        "verify",
        "--site",
        "demo",
        "--witness",
        config.as_str(),
    ];

    let run = |args: Vec<String>| {
        let db = db.clone();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            cli(&db, &args)
        })
    };
    let owned = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let (ok, out) = run(owned(&with_witness)).await.expect("run");
    assert!(ok, "{out}");
    assert!(out.contains("has not cosigned this log yet"), "{out}");

    log::witness::round(store, &witnesses, "demo")
        .await
        .expect("cosigned");
    let (ok, out) = run(owned(&with_witness)).await.expect("run");
    assert!(ok, "{out}");
    assert!(
        out.contains(
            "checking against the checkpoint witness witness.example.go.th/erasure cosigned"
        ),
        "{out}"
    );

    // Truncated: the newest receipt goes with its leaf, the tiles and every checkpoint.
    for sql in [
        "delete from log_cosignatures".to_owned(),
        "delete from log_checkpoints".to_owned(),
        "delete from log_tiles".to_owned(),
        "update subjects set last_receipt = null".to_owned(),
        format!("delete from log_leaves where receipt_id = '{}'", ids[2]),
        format!("delete from receipts where receipt_id = '{}'", ids[2]),
    ] {
        dump::exec(store, &sql).await;
    }
    let (_, out) = run(owned(&[
        "log",
        "verify",
        "--site",
        "demo",
        "--public-url",
        "http://yinyom.test",
        "--witness",
        config.as_str(),
    ]))
    .await
    .expect("run");
    assert!(
        out.lines()
            .any(|l| l.starts_with("TAMPERED:") && l.contains("it was truncated")),
        "{out}"
    );
}

/// On SQLite the erased content is overwritten, not only unlinked: after a checkpoint of
/// the write-ahead log, the database file no longer holds it.
#[tokio::test]
async fn on_sqlite_the_erased_bytes_are_gone_from_the_file() {
    let app = app().await;
    let Store::Sqlite(pool) = &app.state.store else {
        return; // PostgreSQL: VACUUM reclaims dead tuples (docs/OPERATIONS.md).
    };
    for _ in 0..3 {
        post(&app, ERASED, ERASED_PAGE, false).await;
        post(&app, KEPT, "/services", false).await;
    }
    sequence(&app).await;
    let file = app.dir.path().join("test.db");
    let holds = |needle: &[u8]| {
        let mut bytes = std::fs::read(&file).expect("db file");
        if let Ok(wal) = std::fs::read(app.dir.path().join("test.db-wal")) {
            bytes.extend(wal);
        }
        bytes.windows(needle.len()).any(|w| w == needle)
    };
    // The erased visitor's receipt bodies, as the rows keep them (packed: the page path
    // is inside, compressed).
    let pseudonym = app.state.subjects.pseudonym(ERASED);
    let bodies: Vec<Vec<u8>> =
        sqlx::query_scalar("select packed from receipts where subject_id = $1")
            .bind(&pseudonym)
            .fetch_all(pool)
            .await
            .expect("bodies");
    assert_eq!(bodies.len(), 3);
    for body in &bodies {
        assert!(holds(body));
    }
    assert!(holds(pseudonym.as_bytes()));
    erasure::erase_subject(
        &app.state,
        "demo",
        &app.state.subjects.pseudonym(ERASED),
        Reason::SubjectRequest,
        Some("R-2"),
    )
    .await
    .expect("erase");
    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("pragma wal_checkpoint(truncate)")
        .fetch_one(pool)
        .await
        .expect("checkpoint");
    assert_eq!(busy, 0, "the checkpoint ran to the end");
    for body in &bodies {
        assert!(!holds(body), "a receipt body is still in the file");
    }
    assert!(
        !holds(pseudonym.as_bytes()),
        "the subject id is still in the file"
    );
}
