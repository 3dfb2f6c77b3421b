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
        // The row: header and signature only; the payload is the JSON beside it.
        let kept = stored_jws(&app.state.store, id).await;
        let (header, signature) = kept.split_once("..").expect("detached JWS");
        assert!(jws.starts_with(&format!("{header}.")), "{kept}");
        assert!(jws.ends_with(&format!(".{signature}")), "{kept}");
        assert!(kept.len() * 3 < jws.len(), "{kept}");

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
