//! Visitors hold their own proof: the history entries carry each receipt's tlog-proof
//! once it is in the witnessed log, and `yinyom receipts verify --jwks --vkey --policy`
//! checks such entries offline (signature, inclusion, log signature, cosignatures), naming
//! each tampered one. The proofs are also checked by code we did not write (`tlog_tiles`,
//! `signed_note`).

mod common;

use axum::http::{StatusCode, header};
use base64::Engine;
use common::*;
use std::{process::Command, sync::Arc};
use yinyom_server::{
    log::{
        self,
        note::{self, NoteKey},
        witness::Witnesses,
    },
    routes::router,
    state::AppState,
    witness::Witness,
};

async fn get(router: &axum::Router, uri: &str) -> (StatusCode, String) {
    use tower::ServiceExt;
    let res = router
        .clone()
        .oneshot(
            axum::http::Request::get(uri)
                .header(header::ORIGIN, ORIGIN)
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    (res.status(), body_text(res).await)
}

async fn post(router: &axum::Router, content_type: &str, body: String) -> serde_json::Value {
    use tower::ServiceExt;
    let res = router
        .clone()
        .oneshot(
            axum::http::Request::post("/v1/verify")
                .header(header::CONTENT_TYPE, content_type)
                .body(axum::body::Body::from(body))
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(res.status(), StatusCode::OK);
    body_json(res).await
}

fn payload(jws: &str) -> Vec<u8> {
    let part = jws.split('.').nth(1).expect("payload");
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url")
}

/// Runs `yinyom receipts verify FILE --jwks … [more]`: (success, stdout).
fn verify(dir: &std::path::Path, lines: &[String], more: &[&str]) -> (bool, String) {
    let file = dir.join("bundles.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_yinyom"))
        .args(["receipts", "verify"])
        .arg(&file)
        .arg("--jwks")
        .arg(dir.join("jwks.json"))
        .args(more)
        .output()
        .expect("yinyom receipts verify");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test]
async fn a_visitors_bundles_carry_proofs_that_verify_offline_and_tampering_is_named() {
    let app = app().await;
    let dir = app.dir.path();
    let store = &app.state.store;
    let signer = log::LogSigner::of(&app.state).await.expect("log key");
    let log_vkey = signer.vkey("demo").expect("vkey");

    // A witness in this process.
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let witness_dir = dir.join("witness");
    std::fs::create_dir_all(&witness_dir).expect("dir");
    let witness = Witness::new(
        common::store(&witness_dir).await,
        "witness.example.go.th/w1",
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
    let witnesses = Witnesses::parse(&[format!("{w_vkey}={url}")], None).expect("config");
    let mut settings = (*app.state.settings).clone();
    settings.witnesses = witnesses.clone();
    let routes = router(AppState {
        settings: Arc::new(settings),
        ..app.state.clone()
    });

    let subject = "visitor-bundle-0001";
    for (analytics, newsletter) in [(true, true), (false, false)] {
        let res = app
            .post_json(
                "/v1/sites/demo/receipts",
                &choice(&uuid(), subject, analytics, newsletter),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let history_uri = format!("/v1/sites/demo/subjects/{subject}/receipts");

    // Not yet in the log: the entries have no proof, and still verify by signature.
    let (status, body) = get(&routes, &history_uri).await;
    assert_eq!(status, StatusCode::OK);
    let before: Vec<serde_json::Value> = serde_json::from_str(&body).expect("json");
    assert_eq!(before.len(), 2);
    assert!(before.iter().all(|e| e.get("proof").is_none()), "{body}");

    log::sequence(store, &signer, "demo")
        .await
        .expect("seq")
        .expect("cp");
    // Sequenced but not cosigned: still no proof (only cosigned checkpoints are served).
    let (_, body) = get(&routes, &history_uri).await;
    assert!(body.find("\"proof\"").is_none(), "{body}");
    log::witness::round(store, &witnesses, "demo")
        .await
        .expect("round");
    let (_, body) = get(&routes, &history_uri).await;
    let entries: Vec<serde_json::Value> = serde_json::from_str(&body).expect("json");
    assert_eq!(entries.len(), 2);
    let (_, served) = get(&routes, "/v1/sites/demo/log/checkpoint").await;
    for e in &entries {
        assert!(e["receipt"].is_object() && e["jws"].is_string(), "{e}");
        let proof = e["proof"].as_str().expect("a proof once cosigned");
        // The same proof as the proof route's.
        let id = e["receipt"]["receipt_id"].as_str().expect("id");
        let (status, routed) = get(&routes, &format!("/v1/sites/demo/log/receipts/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(proof, routed);
        // Checked by code we did not write: the inclusion by `tlog_tiles`, the log's
        // signature by `signed_note`.
        let parsed = log::proof::TlogProof::parse(proof).expect("parse");
        assert!(proof.ends_with(&served), "against the served checkpoint");
        let root = tlog_tiles::Hash(parsed.checkpoint.root);
        let path: Vec<tlog_tiles::Hash> =
            parsed.path.iter().map(|h| tlog_tiles::Hash(*h)).collect();
        let leaf = tlog_tiles::record_hash(&payload(e["jws"].as_str().expect("jws")));
        tlog_tiles::check_record(&path, parsed.checkpoint.size, root, parsed.index, leaf)
            .expect("their inclusion check");
        let verifier = signed_note::StandardVerifier::new(&log_vkey.to_string()).expect("vkey");
        signed_note::Note::from_bytes(served.as_bytes())
            .expect("their parser")
            .verify(&signed_note::VerifierList::new(vec![Box::new(verifier)]))
            .expect("their verifier");
    }

    // The files an auditor downloads.
    let (_, jwks) = get(&routes, "/.well-known/jwks.json").await;
    std::fs::write(dir.join("jwks.json"), jwks).expect("write");
    let (_, vkey) = get(&routes, "/v1/sites/demo/log/vkey").await;
    std::fs::write(dir.join("log.vkey"), vkey).expect("write");
    let (_, policy) = get(&routes, "/v1/sites/demo/log/policy").await;
    std::fs::write(dir.join("policy.txt"), &policy).expect("write");
    let lines: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
    let vkey_arg = dir.join("log.vkey").display().to_string();
    let policy_arg = dir.join("policy.txt").display().to_string();
    let trust = ["--vkey", vkey_arg.as_str(), "--policy", policy_arg.as_str()];

    let (ok, out) = verify(dir, &lines, &trust);
    assert!(ok, "{out}");
    assert_eq!(out.matches("VALID ").count(), 2, "{out}");
    assert_eq!(
        out.matches("cosigned by witness.example.go.th/w1").count(),
        2,
        "{out}"
    );
    // Plain JWS lines and entries from before the log still pass on their signature.
    let plain: Vec<String> = before
        .iter()
        .map(|e| e["jws"].as_str().expect("jws").to_owned())
        .chain(before.iter().map(|e| e.to_string()))
        .collect();
    let (ok, out) = verify(dir, &plain, &trust);
    assert!(ok, "{out}");
    assert_eq!(out.matches("no log proof").count(), 4, "{out}");

    // Tampering, each detected and named, the other line still valid.
    let mut tampered = Vec::new();
    // 1. A hash of the inclusion proof changed.
    let mut e = entries[0].clone();
    let proof = e["proof"].as_str().expect("proof").to_owned();
    let mut proof_lines: Vec<String> = proof.lines().map(str::to_owned).collect();
    proof_lines[1] = if proof_lines[1] == "index 1" {
        "index 0"
    } else {
        "index 1"
    }
    .to_owned();
    e["proof"] = serde_json::Value::String(proof_lines.join("\n") + "\n");
    tampered.push((e, "is not included"));
    // 2. The checkpoint's root changed (the log signature no longer verifies).
    let mut e = entries[0].clone();
    let cp = log::proof::TlogProof::parse(&proof)
        .expect("parse")
        .checkpoint;
    let other_root = note::hash_b64(&[9; 32]);
    e["proof"] = serde_json::Value::String(proof.replace(&note::hash_b64(&cp.root), &other_root));
    tampered.push((e, "log proof is not"));
    // 3. The cosignature removed: the policy's quorum is not met.
    let mut e = entries[0].clone();
    let without: String = proof
        .lines()
        .filter(|l| !l.starts_with(&format!("\u{2014} {} ", w_vkey.name)))
        .map(|l| format!("{l}\n"))
        .collect();
    e["proof"] = serde_json::Value::String(without);
    tampered.push((e, "not cosigned as the policy requires"));
    // The public check, without signing in: the same verdicts.
    let v = post(&routes, "application/json", lines[0].clone()).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["in_log"], true, "{v}");
    assert_eq!(v["site"], "demo", "{v}");
    assert_eq!(v["notice_version"], "v1", "{v}");
    assert_eq!(v["cosignatures"][0], "witness.example.go.th/w1", "{v}");
    let raw = entries[0]["jws"].as_str().expect("jws").to_owned();
    let v = post(&routes, "text/plain", raw).await;
    assert_eq!(
        (v["valid"].clone(), v["in_log"].clone()),
        (true.into(), false.into()),
        "{v}"
    );
    for (bad, why) in &tampered {
        let v = post(&routes, "application/json", bad.to_string()).await;
        assert_eq!(v["valid"], false, "{v}");
        assert!(
            v["problems"][0].as_str().is_some_and(|p| p.contains(why)),
            "{why}: {v}"
        );
    }

    for (bad, why) in tampered {
        let (ok, out) = verify(dir, &[bad.to_string(), lines[1].clone()], &trust);
        assert!(!ok, "{out}");
        assert!(
            out.contains("INVALID  #1") && out.contains(why),
            "{why}: {out}"
        );
        assert!(out.contains("VALID    #2"), "{out}");
    }

    // Another log's vkey: the checkpoint is not ours.
    let other = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    let other_vkey =
        note::Vkey::new(&log_vkey.name, note::SIG_ED25519, other.public_key()).expect("vkey");
    std::fs::write(dir.join("other.vkey"), format!("{other_vkey}\n")).expect("write");
    let other_arg = dir.join("other.vkey").display().to_string();
    let (ok, out) = verify(dir, &lines, &["--vkey", other_arg.as_str()]);
    assert!(!ok, "{out}");
    assert_eq!(
        out.matches("not signed by the log's vkey").count(),
        2,
        "{out}"
    );

    // A policy asking for two witnesses of which only one cosigned.
    let second = note::Vkey::new(
        "witness.example.go.th/w2",
        note::SIG_COSIGNATURE_V1,
        other.public_key(),
    )
    .expect("vkey");
    let strict = format!(
        "log {log_vkey}\nwitness w1 {w_vkey}\nwitness w2 {second}\ngroup both all w1 w2\nquorum both\n"
    );
    std::fs::write(dir.join("strict.txt"), strict).expect("write");
    let strict_arg = dir.join("strict.txt").display().to_string();
    let (ok, out) = verify(dir, &lines, &["--policy", strict_arg.as_str()]);
    assert!(!ok, "{out}");
    assert_eq!(out.matches("quorum `both`").count(), 2, "{out}");
}
