//! Visitors' secrets and their requests: the server keeps only a keyed hash (pseudonym) of
//! the secret a browser holds; the history and request endpoints take the secret.

mod common;

use axum::http::StatusCode;
use common::*;
use yinyom_server::store::Store;

async fn exec(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(pool) => {
            sqlx::query(sql).execute(pool).await.expect(sql);
        }
        Store::Postgres(pool) => {
            sqlx::query(sql).execute(pool).await.expect(sql);
        }
    }
}

/// Every text of every table, lower-cased, one string (binary values in hexadecimal).
async fn all_text(store: &Store) -> String {
    let mut out = String::new();
    match store {
        Store::Sqlite(pool) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'",
            )
            .fetch_all(pool)
            .await
            .expect("tables");
            for t in tables {
                let cols: Vec<String> =
                    sqlx::query_scalar(&format!("select name from pragma_table_info('{t}')"))
                        .fetch_all(pool)
                        .await
                        .expect("columns");
                for c in cols {
                    let v: Option<String> = sqlx::query_scalar(&format!(
                        "select group_concat(case when typeof(\"{c}\") = 'blob' then hex(\"{c}\") \
                         else cast(\"{c}\" as text) end, '|') from \"{t}\""
                    ))
                    .fetch_one(pool)
                    .await
                    .expect("column text");
                    out.push_str(&v.unwrap_or_default());
                    out.push('\n');
                }
            }
        }
        Store::Postgres(pool) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "select table_name::text from information_schema.tables
                 where table_schema = 'public' and table_type = 'BASE TABLE'",
            )
            .fetch_all(pool)
            .await
            .expect("tables");
            for t in tables {
                let v: Option<String> =
                    sqlx::query_scalar(&format!("select string_agg(x::text, '|') from \"{t}\" x"))
                        .fetch_one(pool)
                        .await
                        .expect("table text");
                out.push_str(&v.unwrap_or_default());
                out.push('\n');
            }
        }
    }
    out.to_ascii_lowercase()
}

async fn post_choice(app: &TestApp, secret: &str, analytics: bool) -> serde_json::Value {
    let res = app
        .post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), secret, analytics, false),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    body_json(res).await["receipt"].clone()
}

async fn history(app: &TestApp, secret: &str) -> Vec<serde_json::Value> {
    let res = app
        .get(&format!("/v1/sites/demo/subjects/{secret}/receipts"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    body_json(res).await.as_array().expect("array").clone()
}

/// Receipts carry the pseudonym, never the secret; the history endpoint still takes the
/// secret, and the chain runs on the pseudonym; no table holds the secret in clear.
#[tokio::test]
async fn the_secret_is_never_stored_and_the_history_still_works() {
    let app = app().await;
    let secret = "Secret-Of-A-Browser-0001";
    let first = post_choice(&app, secret, true).await;
    let second = post_choice(&app, secret, false).await;
    post_choice(&app, "secret-of-another-one-02", true).await;
    let pseudonym = app.pseudonym(secret);
    assert_eq!(pseudonym.len(), 32);
    assert_eq!(first["subject_id"], pseudonym.as_str());
    assert!(
        second["previous"].is_string(),
        "the chain runs on the pseudonym"
    );

    let mine = history(&app, secret).await;
    assert_eq!(mine.len(), 2);
    assert!(
        mine.iter()
            .all(|e| e["receipt"]["subject_id"] == pseudonym.as_str())
    );
    // The pseudonym is not a secret: it does not open the history.
    assert!(history(&app, &pseudonym).await.is_empty());

    let text = all_text(&app.state.store).await;
    assert!(text.contains(&pseudonym), "the dump reads the tables");
    assert!(
        !text.contains("secret-of-a-browser-0001"),
        "the secret is stored nowhere"
    );
    assert!(!text.contains("secret-of-another-one-02"));
    assert!(!text.contains(&hex::encode("secret-of-a-browser-0001")));
}

/// After the upgrade, receipts issued before it keep the raw id they were signed with;
/// the history finds them by the secret and the new ones by its pseudonym, and the
/// console search finds the visitor by the pseudonym or by the secret pasted.
#[tokio::test]
async fn receipts_from_before_the_upgrade_stay_under_the_raw_id_and_are_found() {
    let c = console::console().await;
    let app = &c.app;
    let secret = "visitor-before-upgrade-01";
    let old = post_choice(app, secret, true).await;
    let pseudonym = app.pseudonym(secret);
    // What an older server stored: the raw id in the row and in the signed JSON.
    for sql in [
        format!(
            "update receipts set subject_id = '{secret}', receipt_json = replace(receipt_json, '{pseudonym}', '{secret}') where subject_id = '{pseudonym}'"
        ),
        format!("update subjects set subject_id = '{secret}' where subject_id = '{pseudonym}'"),
    ] {
        exec(&app.state.store, &sql).await;
    }
    let new = post_choice(app, secret, false).await;
    assert_eq!(new["subject_id"], pseudonym.as_str());
    assert!(
        new["previous"].is_null(),
        "the chain starts afresh under the pseudonym"
    );

    let mine = history(app, secret).await;
    let ids: Vec<&str> = mine
        .iter()
        .filter_map(|e| e["receipt"]["receipt_id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            new["receipt_id"].as_str().expect("id"),
            old["receipt_id"].as_str().expect("id")
        ]
    );
    assert_eq!(mine[1]["receipt"]["subject_id"], secret);

    // The pseudonym names the new receipts; the secret pasted finds both.
    for (typed, n) in [(pseudonym.as_str(), 1), (secret, 2)] {
        let found = body_json(
            console::get_as(
                app,
                &c.dpo,
                &format!("/v1/admin/sites/demo/receipts?subject={typed}"),
            )
            .await,
        )
        .await;
        assert_eq!(found["total"], n, "search by {typed}");
    }
}
