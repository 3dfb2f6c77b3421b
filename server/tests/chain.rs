//! Each visitor's receipts on a site form a chain (`previous`), written under the
//! visitor's lock so concurrent writers cannot fork it.

mod common;

use axum::http::StatusCode;
use common::*;
use yinyom_server::log;

/// Posts a receipt for `subject` and returns its JSON (the `receipt` object).
async fn post(app: &TestApp, subject: &str, withdraw: bool) -> serde_json::Value {
    let mut body = choice(&uuid(), subject, !withdraw, false);
    if withdraw {
        body["method"] = serde_json::json!("withdraw");
    }
    let res = app.post_json("/v1/sites/demo/receipts", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    body_json(res).await["receipt"].clone()
}

/// The canonical JSON the receipt was signed over, read back from the store.
async fn stored_json(app: &TestApp, id: &str) -> String {
    let (stored, _) = app
        .state
        .store
        .receipt("demo", id)
        .await
        .expect("read")
        .expect("stored");
    stored.json
}

/// A visitor's first receipt has no `previous`; each later one names the one before it
/// (base64url SHA-256 of its canonical JSON); another visitor's chain is separate.
#[tokio::test]
async fn a_visitors_receipts_chain_to_each_other() {
    let app = app().await;
    let first = post(&app, "subject-chain-aaaa", false).await;
    let other = post(&app, "subject-chain-bbbb", false).await;
    let second = post(&app, "subject-chain-aaaa", false).await;
    let withdrawal = post(&app, "subject-chain-aaaa", true).await;

    assert!(first.get("previous").is_none(), "{first}");
    assert!(other.get("previous").is_none(), "{other}");
    let id = |r: &serde_json::Value| r["receipt_id"].as_str().expect("id").to_owned();
    let first_json = stored_json(&app, &id(&first)).await;
    let second_json = stored_json(&app, &id(&second)).await;
    assert_eq!(
        second["previous"].as_str(),
        Some(log::chain_hash(&first_json).as_str())
    );
    assert_eq!(
        withdrawal["previous"].as_str(),
        Some(log::chain_hash(&second_json).as_str())
    );
    // The hash is plain SHA-256 of the canonical JSON, base64url without padding.
    use base64::Engine as _;
    use sha2::Digest as _;
    assert_eq!(
        log::chain_hash(&first_json),
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(first_json.as_bytes()))
    );
    // The signed payload carries it too.
    assert!(second_json.contains(&format!(
        "\"previous\":\"{}\"",
        log::chain_hash(&first_json)
    )));
}

/// Many receipts of one visitor at once (grouped by the writers, four of them on
/// PostgreSQL): one chain, no fork, every link names a receipt of that visitor.
#[tokio::test]
async fn concurrent_receipts_of_one_visitor_form_one_chain() {
    let app = std::sync::Arc::new(app().await);
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            post(&app, "subject-chain-busy", false).await
        }));
    }
    let mut receipts = Vec::new();
    for t in tasks {
        receipts.push(t.await.expect("task"));
    }
    let mut hashes = std::collections::HashMap::new();
    for r in &receipts {
        let id = r["receipt_id"].as_str().expect("id");
        hashes.insert(log::chain_hash(&stored_json(&app, id).await), id.to_owned());
    }
    let roots = receipts
        .iter()
        .filter(|r| r.get("previous").is_none())
        .count();
    assert_eq!(roots, 1, "exactly one first receipt");
    let mut named = std::collections::HashSet::new();
    for r in &receipts {
        if let Some(p) = r["previous"].as_str() {
            assert!(
                hashes.contains_key(p),
                "previous names a receipt of the visitor"
            );
            assert!(
                named.insert(p.to_owned()),
                "two receipts name the same previous: a fork"
            );
        }
    }
    assert_eq!(named.len(), receipts.len() - 1);
}
