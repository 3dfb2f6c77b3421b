//! The tamper-evident log on a real database: proofs verify, tampering is named.

mod common;

use axum::http::StatusCode;
use common::*;
use yinyom_server::{
    log::{self, Finding, merkle},
    signing::{self, Jwks},
};

fn hash(s: &str) -> merkle::Hash {
    hex::decode(s).expect("hex").try_into().expect("32 bytes")
}

async fn post_n(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let res = app
            .post_json(
                "/v1/sites/demo/receipts",
                &choice(&uuid(), &format!("subject-log-{i:08}"), i % 2 == 0, false),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        ids.push(
            body_json(res).await["receipt"]["receipt_id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    ids
}

/// Receipts are appended in batches; a signed checkpoint covers them; each receipt has an
/// inclusion proof and later checkpoints are provably consistent with earlier ones.
#[tokio::test]
async fn checkpoints_and_proofs_verify() {
    let app = app().await;
    let store = &app.state.store;
    let ids = post_n(&app, 5).await;
    assert_eq!(store.unsequenced("demo").await.expect("db"), 5);
    let cp1 = log::sequence(store, &app.state.signer, "demo")
        .await
        .expect("seq")
        .expect("cp");
    assert_eq!(cp1.checkpoint.tree_size, 5);
    assert!(
        log::sequence(store, &app.state.signer, "demo")
            .await
            .expect("seq")
            .is_none()
    );

    let more = post_n(&app, 6).await;
    let cp2 = log::sequence(store, &app.state.signer, "demo")
        .await
        .expect("seq")
        .expect("cp");
    assert_eq!(cp2.checkpoint.tree_size, 11);

    let jwks: Jwks =
        serde_json::from_value(body_json(app.get("/.well-known/jwks.json").await).await)
            .expect("jwks");
    let served = body_json(app.get("/v1/sites/demo/log/checkpoint").await).await;
    assert_eq!(served["checkpoint"]["tree_size"], 11);
    let payload = signing::verify(served["jws"].as_str().expect("jws"), &jwks).expect("signed");
    let signed: log::Checkpoint = serde_json::from_slice(&payload).expect("checkpoint");
    assert_eq!(signed.root, cp2.checkpoint.root);

    for id in ids.iter().chain(&more) {
        let p = body_json(app.get(&format!("/v1/sites/demo/log/receipts/{id}")).await).await;
        let path: Vec<merkle::Hash> = p["audit_path"]
            .as_array()
            .expect("path")
            .iter()
            .map(|h| hash(h.as_str().expect("hex")))
            .collect();
        let leaf = hash(p["leaf_hash"].as_str().expect("leaf"));
        let index = p["leaf_index"].as_u64().expect("index");
        assert!(
            merkle::verify_inclusion(index, 11, &leaf, &path, &hash(&signed.root)),
            "{id}"
        );
    }

    let c = body_json(
        app.get("/v1/sites/demo/log/consistency?first=5&second=11")
            .await,
    )
    .await;
    let proof: Vec<merkle::Hash> = c["proof"]
        .as_array()
        .expect("proof")
        .iter()
        .map(|h| hash(h.as_str().expect("hex")))
        .collect();
    assert!(merkle::verify_consistency(
        5,
        11,
        &hash(&cp1.checkpoint.root),
        &hash(&cp2.checkpoint.root),
        &proof
    ));
    let unknown = app
        .get(&format!("/v1/sites/demo/log/receipts/{}", uuid()))
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    let report = log::verify(store, "demo").await.expect("verify");
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!((report.leaves, report.checkpoints), (11, 2));
}

/// Someone with database access edits one receipt and deletes another: the log names both,
/// through the library and through `yinyom log verify`.
#[tokio::test]
async fn verify_names_an_edited_and_a_deleted_receipt() {
    let app = app().await;
    let store = &app.state.store;
    let ids = post_n(&app, 8).await;
    log::sequence(store, &app.state.signer, "demo")
        .await
        .expect("seq");
    let (edited, deleted) = (&ids[2], &ids[5]);

    let edit = "update receipts set receipt_json = replace(receipt_json, '\"analytics\":true', '\"analytics\":false') where receipt_id = $1";
    let delete = "delete from receipts where receipt_id = $1";
    match store {
        yinyom_server::store::Store::Sqlite(pool) => {
            sqlx::query(edit)
                .bind(edited)
                .execute(pool)
                .await
                .expect("edit");
            sqlx::query(delete)
                .bind(deleted)
                .execute(pool)
                .await
                .expect("delete");
        }
        yinyom_server::store::Store::Postgres(pool) => {
            sqlx::query(edit)
                .bind(edited)
                .execute(pool)
                .await
                .expect("edit");
            sqlx::query(delete)
                .bind(deleted)
                .execute(pool)
                .await
                .expect("delete");
        }
    }

    let report = log::verify(store, "demo").await.expect("verify");
    assert!(
        report.findings.contains(&Finding::Edited {
            receipt_id: edited.clone(),
            seq: 2
        }),
        "{:?}",
        report.findings
    );
    assert!(
        report.findings.contains(&Finding::Deleted {
            receipt_id: deleted.clone(),
            seq: 5
        }),
        "{:?}",
        report.findings
    );
    assert!(
        report
            .findings
            .contains(&Finding::RootMismatch { tree_size: 8 })
    );

    let url = database_url(&app).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yinyom"))
        .args(["--database-url", &url, "log", "verify", "--site", "demo"])
        .output()
        .expect("run yinyom");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "verify must fail: {stdout}");
    assert!(
        stdout.contains(&format!("receipt {edited} (log position 2) was edited")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("receipt {deleted} (log position 5) was deleted")),
        "{stdout}"
    );
}

/// Moving a receipt to another position is caught even when the attacker rewrites the
/// leaf table consistently.
#[tokio::test]
async fn verify_names_a_reordered_receipt() {
    let app = app().await;
    let store = &app.state.store;
    let ids = post_n(&app, 4).await;
    log::sequence(store, &app.state.signer, "demo")
        .await
        .expect("seq");
    let q1 = "update log_leaves set seq = 100 where receipt_id = $1";
    let q2 = "update log_leaves set seq = 1 where receipt_id = $1";
    let q3 = "update log_leaves set seq = 2 where receipt_id = $1";
    match store {
        yinyom_server::store::Store::Sqlite(pool) => {
            for (q, id) in [(q1, &ids[1]), (q2, &ids[2]), (q3, &ids[1])] {
                sqlx::query(q).bind(id).execute(pool).await.expect("swap");
            }
        }
        yinyom_server::store::Store::Postgres(pool) => {
            for (q, id) in [(q1, &ids[1]), (q2, &ids[2]), (q3, &ids[1])] {
                sqlx::query(q).bind(id).execute(pool).await.expect("swap");
            }
        }
    }
    let report = log::verify(store, "demo").await.expect("verify");
    let moved: Vec<&String> = report
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Reordered { receipt_id, .. } => Some(receipt_id),
            _ => None,
        })
        .collect();
    assert!(
        moved.contains(&&ids[1]) && moved.contains(&&ids[2]),
        "{:?}",
        report.findings
    );
}
