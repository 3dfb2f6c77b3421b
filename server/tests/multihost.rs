//! A PostgreSQL URL naming several hosts (a primary and its standbys, as libpq takes it):
//! the store tries them in order and, with `target_session_attrs=read-write`, takes only a
//! host that accepts writes. (PostgreSQL only; the failover itself is measured by
//! `cargo xtask bench --only failover` against a real Patroni cluster.)

mod common;

use yinyom_server::store::{Store, StoreError};

/// `postgres://user@` and `/database` around the test server's `host:port`, and a fresh
/// database on it; `None` on SQLite.
async fn test_server() -> Option<(String, String, String)> {
    let admin = std::env::var("YINYOM_TEST_DATABASE_URL").ok()?;
    let (scheme_user, rest) = admin.split_once('@').expect("user@host in the test URL");
    let (host, _) = rest.split_once('/').expect("host/database in the test URL");
    let name = format!("yinyom_test_{}", uuid::Uuid::now_v7().simple());
    let pool = sqlx::PgPool::connect(&admin).await.expect("admin");
    sqlx::query(&format!("create database {name}"))
        .execute(&pool)
        .await
        .expect("create database");
    Some((format!("{scheme_user}@"), host.to_owned(), name))
}

#[tokio::test]
async fn a_host_that_does_not_answer_is_skipped() {
    let Some((user, host, db)) = test_server().await else {
        eprintln!("PostgreSQL only (set YINYOM_TEST_DATABASE_URL)");
        return;
    };
    let dead = format!("127.0.0.1:{}", common::binary::free_port());
    let url = format!("{user}{dead},{host}/{db}?target_session_attrs=read-write");
    let store = Store::connect(&url).await.expect("the second host");
    yinyom_server::sites::import(&store, &common::fixture())
        .await
        .expect("import writes through the live host");
    store.ping().await.expect("ping");
}

#[tokio::test]
async fn read_write_takes_no_host_that_refuses_writes() {
    let Some((user, host, db)) = test_server().await else {
        eprintln!("PostgreSQL only (set YINYOM_TEST_DATABASE_URL)");
        return;
    };
    // Both entries reach the same server, which here answers every session read-only,
    // as a standby does.
    let read_only = "options=-c%20default_transaction_read_only%3Don";
    let url = format!("{user}{host},{host}/{db}?{read_only}&target_session_attrs=read-write");
    match Store::connect(&url).await {
        Err(StoreError::Unavailable(why)) => assert!(why.contains("accepts no writes"), "{why}"),
        Err(e) => panic!("expected no writable host, got {e}"),
        Ok(_) => panic!("connected to a host that accepts no writes"),
    }
}
