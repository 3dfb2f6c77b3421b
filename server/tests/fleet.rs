//! Several `yinyom serve` processes on one database (two app states here, each with its
//! own pools, writers and limiter, as two processes would have): every limit holds for the
//! fleet and each fleet-wide duty is done once.

mod common;

use common::*;
use std::time::Duration;
use yinyom_server::{
    app_state, log,
    routes::router,
    signing::{self, KeyPurpose, Signer},
    store::Store,
};

/// A second "process" on the app's database.
async fn second(app: &TestApp) -> (yinyom_server::state::AppState, axum::Router) {
    let store = Store::connect(&database_url(app).await)
        .await
        .expect("second connection");
    let state = app_state(store, (*app.state.settings).clone(), &keys(app.dir.path()))
        .await
        .expect("second state");
    (state.clone(), router(state))
}

#[tokio::test]
async fn two_first_choices_of_one_new_visitor_are_one_given_and_one_updated() {
    let app = app().await;
    let (_, other) = second(&app).await;
    for trial in 0..20 {
        let subject = format!("subject-race-{trial:04}");
        let post = |router: axum::Router| {
            let body = choice(&uuid(), &subject, true, true);
            async move {
                use tower::ServiceExt;
                let req = axum::http::Request::post("/v1/sites/demo/receipts")
                    .header("origin", ORIGIN)
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(body.to_string()))
                    .expect("request");
                body_json(router.oneshot(req).await.expect("infallible")).await
            }
        };
        let (a, b) = tokio::join!(post(app.router.clone()), post(other.clone()));
        let mut events = [
            a["receipt"]["event"].as_str().unwrap_or("?").to_owned(),
            b["receipt"]["event"].as_str().unwrap_or("?").to_owned(),
        ];
        events.sort();
        assert_eq!(events, ["given", "updated"], "trial {trial}: {a} {b}");
    }
}

#[tokio::test]
async fn the_receipt_rate_limit_holds_for_the_fleet() {
    if std::env::var("YINYOM_TEST_DATABASE_URL").is_err() {
        eprintln!("skipped: SQLite is one process; the shared limit is PostgreSQL's");
        return;
    }
    let app = app_with_limit(60, 5).await;
    let (_, other) = second(&app).await;
    let mut statuses = Vec::new();
    for i in 0..10 {
        use tower::ServiceExt;
        let router = if i % 2 == 0 {
            app.router.clone()
        } else {
            other.clone()
        };
        let req = axum::http::Request::post("/v1/sites/demo/receipts")
            .header("origin", ORIGIN)
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                choice(&uuid(), &format!("subject-limit-{i:04}"), true, true).to_string(),
            ))
            .expect("request");
        let res = router.oneshot(req).await.expect("infallible");
        statuses.push(res.status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        5,
        "a burst of 5 for the client across both processes: {statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        5,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn one_process_holds_the_sequencer_lease_until_it_expires() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = store(dir.path()).await;
    assert!(store.take_lease("duty", "a", 60_000).await.expect("db"));
    assert!(!store.take_lease("duty", "b", 60_000).await.expect("db"));
    assert!(
        store.take_lease("duty", "a", 0).await.expect("db"),
        "renewed"
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(
        store.take_lease("duty", "b", 60_000).await.expect("db"),
        "taken over"
    );
    assert!(!store.take_lease("duty", "a", 60_000).await.expect("db"));
}

#[tokio::test]
async fn a_process_without_the_lease_does_not_sequence() {
    let app = app().await;
    let store = app.state.store.clone();
    // Another process holds the lease for two seconds.
    assert!(
        store
            .take_lease(log::SEQUENCER_LEASE, "another-process", 2_000)
            .await
            .expect("db")
    );
    let sequencer = tokio::spawn(log::run_sequencer(
        store.clone(),
        log::LogSigner::of(&app.state).await.expect("log key"),
        Default::default(),
        Duration::from_millis(100),
    ));
    let res = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), "subject-lease-0001", true, true),
        )
        .await;
    assert_eq!(res.status(), 201);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        store.unsequenced("demo").await.expect("db"),
        1,
        "not this process's turn"
    );
    let mut appended = false;
    for _ in 0..100 {
        if store.unsequenced("demo").await.expect("db") == 0 {
            appended = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sequencer.abort();
    assert!(
        appended,
        "the lease expired, so this process took over and appended"
    );
}

#[tokio::test]
async fn two_processes_starting_on_an_empty_store_make_one_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = store(dir.path()).await;
    let other = Store::connect(&url_of(&store, dir.path()).await)
        .await
        .expect("second connection");
    let held = keys(dir.path()).receipts;
    let (a, b) = tokio::join!(
        Signer::load(&store, KeyPurpose::Receipt, &held),
        Signer::load(&other, KeyPurpose::Receipt, &held)
    );
    let (a, b) = (a.expect("first"), b.expect("second"));
    assert_eq!(a.kid(), b.kid(), "both sign with the one key");
    assert_eq!(store.keys().await.expect("keys").len(), 1);

    // A process given another key refuses to start: it is not registered.
    let stranger = tempfile::tempdir().expect("tmp");
    let e = Signer::load(&store, KeyPurpose::Receipt, &keys(stranger.path()).receipts)
        .await
        .expect_err("an unregistered key");
    assert!(e.to_string().contains("keys rotate"), "{e}");

    // Two rotations at once: each either takes the next generation or fails and changes
    // nothing (two keys of one generation cannot exist).
    let (k1, k2) = ([1u8; 32], [2u8; 32]);
    let (x, y) = tokio::join!(
        signing::rotate(&store, KeyPurpose::Receipt, &k1, signing::ROTATION_NOTICE),
        signing::rotate(&other, KeyPurpose::Receipt, &k2, signing::ROTATION_NOTICE)
    );
    let succeeded = usize::from(x.is_ok()) + usize::from(y.is_ok());
    assert!(succeeded >= 1, "{x:?} {y:?}");
    let keys = store.keys().await.expect("keys");
    assert_eq!(keys.len(), 1 + succeeded, "{x:?} {y:?}");
    let mut generations: Vec<i64> = keys.iter().map(|k| k.generation).collect();
    generations.sort_unstable();
    generations.dedup();
    assert_eq!(generations.len(), keys.len(), "one key per generation");

    // A rotation that lost the race (its generation was taken) changes nothing.
    let before = store.keys().await.expect("keys");
    let mut late = before[0].clone();
    late.kid = "a-key-that-lost-the-race".into();
    assert!(store.rotate_key(&late).await.is_err());
    let after = store.keys().await.expect("keys");
    assert_eq!(
        after
            .iter()
            .map(|k| (&k.kid, k.retired_at))
            .collect::<Vec<_>>(),
        before
            .iter()
            .map(|k| (&k.kid, k.retired_at))
            .collect::<Vec<_>>(),
        "nothing changed"
    );
}
