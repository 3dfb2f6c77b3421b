//! How receipts are stored, on a real database: the row keeps the JWS without its payload
//! (the canonical JSON beside it is the payload), and every way a receipt is read back
//! gives the JWS answered at POST byte for byte.

mod common;

use axum::http::StatusCode;
use common::{console::*, *};
use yinyom_server::store::Store;

/// The `jws` column of a receipt row, as stored.
async fn stored_jws(store: &Store, receipt_id: &str) -> String {
    let sql = "select jws from receipts where receipt_id = $1";
    match store {
        Store::Sqlite(p) => sqlx::query_scalar(sql).bind(receipt_id).fetch_one(p).await,
        Store::Postgres(p) => sqlx::query_scalar(sql).bind(receipt_id).fetch_one(p).await,
    }
    .expect("row")
}

#[tokio::test]
async fn the_jws_read_back_is_the_one_answered_at_post_and_the_row_keeps_no_payload() {
    let c = console().await;
    let app = &c.app;
    let subject = "subject-storage-0001";
    let mut answered = Vec::new();
    for (a, n) in [(true, false), (false, true)] {
        let res = app
            .post_json("/v1/sites/demo/receipts", &choice(&uuid(), subject, a, n))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body = body_json(res).await;
        let id = body["receipt"]["receipt_id"]
            .as_str()
            .expect("id")
            .to_owned();
        let jws = body["jws"].as_str().expect("jws").to_owned();
        answered.push((id, jws));
    }
    for (id, jws) in &answered {
        // The row: the signature only; the header is its template's, the payload the
        // JSON packed beside it.
        let kept = stored_jws(&app.state.store, id).await;
        let signature = kept
            .strip_prefix("..")
            .expect("detached JWS without header");
        assert!(jws.ends_with(&format!(".{signature}")), "{kept}");
        assert!(kept.len() * 5 < jws.len(), "{kept}");

        // The console's receipt detail.
        let res = get_as(app, &c.dpo, &format!("/v1/admin/sites/demo/receipts/{id}")).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(body_json(res).await["jws"].as_str(), Some(jws.as_str()));
    }

    // The visitor's own list.
    let res = app
        .get(&format!("/v1/sites/demo/subjects/{subject}/receipts"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let list = body_json(res).await;
    let listed: Vec<String> = list["receipts"]
        .as_array()
        .or(list.as_array())
        .expect("receipts")
        .iter()
        .map(|r| r["jws"].as_str().expect("jws").to_owned())
        .collect();
    for (_, jws) in &answered {
        assert!(listed.contains(jws), "{listed:?}");
    }

    // The search and a JSON Lines export.
    let res = get_as(app, &c.dpo, "/v1/admin/sites/demo/receipts").await;
    let page = body_json(res).await;
    let searched: Vec<&str> = page["receipts"]
        .as_array()
        .expect("receipts")
        .iter()
        .filter_map(|r| r["jws"].as_str())
        .collect();
    let res = get_as(
        app,
        &c.dpo,
        "/v1/admin/sites/demo/export?format=jsonl&purpose=storage%20test&reference=T-1",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let lines = body_text(res).await;
    for (_, jws) in &answered {
        assert!(searched.contains(&jws.as_str()), "{searched:?}");
        assert!(lines.contains(&format!("\"{jws}\"")), "{lines}");
    }
}

/// Posts a choice; returns the receipt id.
async fn post(app: &TestApp, subject: &str, analytics: bool, newsletter: bool) -> String {
    let res = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), subject, analytics, newsletter),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    body_json(res).await["receipt"]["receipt_id"]
        .as_str()
        .expect("id")
        .to_owned()
}

#[tokio::test]
async fn log_verify_names_a_tampered_latest_choice_count_and_derived_column() {
    use yinyom_server::log::{self, Finding};
    let app = app().await;
    let store = &app.state.store;
    let first = post(&app, "subject-storage-a001", true, false).await;
    post(&app, "subject-storage-b001", true, true).await;
    post(&app, "subject-storage-b001", false, false).await;
    let signer = log::LogSigner::of(&app.state).await.expect("log key");
    log::sequence(store, &signer, "demo").await.expect("seq");
    let clean = log::verify(store, "demo").await.expect("verify");
    assert!(clean.findings.is_empty(), "{:?}", clean.findings);

    // The statistics' copy of B's latest choice says "granted"; a count is inflated;
    // A's indexed issue time moved by a millisecond.
    let b = app.pseudonym("subject-storage-b001");
    dump::exec2(
        store,
        "update subjects set head_choice = $2 where subject_id = $1",
        &b,
        "c:analytics=1 p:newsletter=1",
    )
    .await;
    dump::exec2(
        store,
        "update consent_now set n = n + 5 where site_id = $1 and choice = $2",
        "demo",
        "c:analytics=1 p:newsletter=0",
    )
    .await;
    dump::exec2(
        store,
        "update receipts set issued_at = issued_at + 1 where receipt_id = $1 and site_id = $2",
        &first,
        "demo",
    )
    .await;
    let report = log::verify(store, "demo").await.expect("verify");
    let f = &report.findings;
    assert!(
        f.iter()
            .any(|x| matches!(x, Finding::Head { subject_id, .. } if *subject_id == b)),
        "{f:?}"
    );
    assert!(
        f.iter().any(
            |x| matches!(x, Finding::ConsentNow { stored, signed, .. } if *stored == *signed + 5)
        ),
        "{f:?}"
    );
    assert!(
        f.iter().any(|x| matches!(x, Finding::Derived { receipt_id, what } if *receipt_id == first && what.starts_with("issued_at"))),
        "{f:?}"
    );

    // Recomputed from the receipts, the statistics agree with them again.
    store.recompute_site_heads("demo").await.expect("heads");
    let report = log::verify(store, "demo").await.expect("verify");
    assert!(
        !report
            .findings
            .iter()
            .any(|x| matches!(x, Finding::Head { .. } | Finding::ConsentNow { .. })),
        "{:?}",
        report.findings
    );
}

/// SQLite keeps whatever type it is given: an insider who rewrites a receipt's column
/// with bytes or a number gets that receipt named as tampered, and the rest of the audit
/// still runs (it used to stop at the first such row).
#[tokio::test]
async fn log_verify_names_columns_rewritten_with_another_type() {
    use yinyom_server::log::{self, Finding};
    let app = app().await;
    let store = &app.state.store;
    if !matches!(store, Store::Sqlite(_)) {
        return; // PostgreSQL's typed columns refuse such a write.
    }
    let bytes = post(&app, "subject-storage-e001", true, false).await;
    let number = post(&app, "subject-storage-f001", false, true).await;
    let text = post(&app, "subject-storage-h001", true, true).await;
    let untouched = post(&app, "subject-storage-g001", true, true).await;
    let signer = log::LogSigner::of(&app.state).await.expect("log key");
    log::sequence(store, &signer, "demo").await.expect("seq");

    let set = |sql: &str, id: &str| format!("update receipts set {sql} where receipt_id = '{id}'");
    dump::exec(store, &set("subject_id = x'00ff'", &bytes)).await;
    dump::exec(store, &set("event = 7", &number)).await;
    dump::exec(store, &set("issued_at = 'soon'", &text)).await;

    let report = log::verify(store, "demo")
        .await
        .expect("verify runs to its end");
    let named = |id: &str, column: &str| {
        report.findings.iter().any(|f| {
            matches!(f, Finding::Derived { receipt_id, what }
                if receipt_id == id && what.starts_with(column))
        })
    };
    assert!(named(&bytes, "subject_id"), "{:?}", report.findings);
    assert!(named(&number, "event"), "{:?}", report.findings);
    assert!(named(&text, "issued_at"), "{:?}", report.findings);
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.to_string().contains(&untouched)),
        "{:?}",
        report.findings
    );
}

/// Every table `log verify` reads, with a column rewritten with another type (on SQLite,
/// as an insider with the `sqlite3` shell can): the audit runs to its end and names what
/// no longer matches the signed receipts.
#[tokio::test]
async fn log_verify_runs_to_its_end_whatever_type_a_column_holds() {
    use yinyom_server::log;
    let cases = [
        (
            "update subjects set head_choice = x'00'",
            "latest choice kept for the statistics",
        ),
        (
            "update subjects set head_until = 'soon'",
            "latest choice kept for the statistics",
        ),
        ("update log_leaves set leaf_hash = 'abc'", "was edited"),
        ("update receipts set packed = 'zz'", "was edited"),
        (
            "update notice_versions set content_json = x'00'",
            "the text was edited",
        ),
        ("update receipt_counts set n = 'x'", "stored not an integer"),
        ("update consent_now set choice = x'00'", "consent-now count"),
    ];
    for (sql, named) in cases {
        let app = app().await;
        let store = &app.state.store;
        if !matches!(store, Store::Sqlite(_)) {
            return; // PostgreSQL's typed columns refuse such writes.
        }
        for i in 0..2 {
            post(&app, &format!("subject-storage-t{i:03}"), true, false).await;
        }
        let signer = log::LogSigner::of(&app.state).await.expect("log key");
        log::sequence(store, &signer, "demo").await.expect("seq");
        dump::exec(store, sql).await;
        let report = log::verify(store, "demo")
            .await
            .unwrap_or_else(|e| panic!("{sql}: the audit stopped: {e}"));
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.to_string().contains(named)),
            "{sql}: {:?}",
            report.findings
        );
    }
}

#[tokio::test]
async fn a_choice_ending_today_counts_as_valid_until_its_millisecond() {
    let app = app().await;
    let store = &app.state.store;
    let ending = post(&app, "subject-storage-c001", true, false).await;
    let ended = post(&app, "subject-storage-d001", true, false).await;
    let now = yinyom_server::dates::now_ms();
    for (id, until) in [(&ending, now + 60_000), (&ended, now - 60_000)] {
        dump::unpack(store).await;
        let until = yinyom_server::dates::rfc3339_ms(until);
        match store {
            Store::Sqlite(_) => {
                dump::exec2(
                    store,
                    "update receipts set receipt_json = json_set(receipt_json, '$.valid_until', $2) where receipt_id = $1",
                    id,
                    &until,
                )
                .await
            }
            Store::Postgres(_) => {
                dump::exec2(
                    store,
                    "update receipts set receipt_json = jsonb_set(receipt_json::jsonb, '{valid_until}', to_jsonb($2::text))::text where receipt_id = $1",
                    id,
                    &until,
                )
                .await
            }
        }
    }
    store.recompute_site_heads("demo").await.expect("heads");
    let current = yinyom_server::stats::current(store, "demo", now)
        .await
        .expect("stats");
    assert_eq!(
        (current.visitors, current.valid, current.expired),
        (2, 1, 1)
    );
    assert_eq!(current.opted_in, 1);
    // A minute later both have ended.
    let later = yinyom_server::stats::current(store, "demo", now + 120_000)
        .await
        .expect("stats");
    assert_eq!((later.valid, later.expired, later.opted_in), (0, 2, 0));
}
