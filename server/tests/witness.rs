//! Witnessing (C2SP tlog-witness, tlog-cosignature v1) and hash tiles (C2SP tlog-tiles),
//! on a real database: a witness in this process cosigns our checkpoints, refuses a
//! shorter or rewritten tree with the spec's status codes, and the tiles we serve are read
//! by Cloudflare's `tlog_tiles` (a port of Go's sumdb/tlog), which checks them against
//! the signed root.

mod common;

use axum::http::{StatusCode, header};
use common::*;
use std::sync::Arc;
use yinyom_server::{
    log::{
        self, merkle,
        note::{self, NoteKey},
        witness::Witnesses,
    },
    routes::router,
    state::AppState,
    witness::Witness,
};

/// A witness key written as `keys generate --out` writes one (Ed25519 PKCS#8 PEM) and
/// read back as `witness serve --key` reads it.
fn witness_key(dir: &std::path::Path, seed: u8) -> ed25519_dalek::SigningKey {
    use ed25519_dalek::pkcs8::{EncodePrivateKey, spki::der::pem::LineEnding};
    let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    let path = dir.join(format!("witness-{seed}.pem"));
    std::fs::write(
        &path,
        key.to_pkcs8_pem(LineEnding::LF).expect("pem").as_bytes(),
    )
    .expect("write key");
    yinyom_server::witness::read_key(&path).expect("read key")
}

/// Runs `witness` on a free local port; returns its URL.
async fn start(witness: Witness) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, witness.router()).await });
    url
}

/// The app with `witnesses` configured, as `serve --witness … --witness-quorum` does.
fn with_witnesses(app: &TestApp, witnesses: Witnesses) -> (AppState, axum::Router) {
    let mut settings = (*app.state.settings).clone();
    settings.witnesses = witnesses;
    let state = AppState {
        settings: Arc::new(settings),
        ..app.state.clone()
    };
    (state.clone(), router(state))
}

async fn get_text(router: &axum::Router, uri: &str) -> (StatusCode, String) {
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

async fn post_receipts(app: &TestApp, n: usize, tag: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for i in 0..n {
        let res = app
            .post_json(
                "/v1/sites/demo/receipts",
                &choice(&uuid(), &format!("subject-{tag}-{i:06}"), i % 3 == 0, true),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        out.push(body_json(res).await);
    }
    out
}

/// Checks a cosignature line the way the spec describes it, with the Ed25519 of
/// `ed25519_dalek` and the key ID of `signed_note` (not our note code): key ID
/// SHA-256(name || "\n" || 0x04 || key)[:4], signed message `cosignature/v1\ntime
/// <t>\n` + the checkpoint text.
fn spec_cosignature_ok(
    line: &str,
    name: &str,
    key: &ed25519_dalek::VerifyingKey,
    text: &str,
) -> bool {
    use base64::Engine;
    use ed25519_dalek::Verifier;
    let Some(rest) = line.strip_prefix(&format!("\u{2014} {name} ")) else {
        return false;
    };
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(rest.trim()) else {
        return false;
    };
    let mut id_input = vec![0x04];
    id_input.extend_from_slice(key.as_bytes());
    if raw.len() != 4 + 8 + 64 || raw[..4] != signed_note::key_id(name, &id_input).to_be_bytes() {
        return false;
    }
    let time = u64::from_be_bytes(raw[4..12].try_into().expect("8 bytes"));
    let Ok(sig) = ed25519_dalek::Signature::from_slice(&raw[12..]) else {
        return false;
    };
    key.verify(
        format!("cosignature/v1\ntime {time}\n{text}").as_bytes(),
        &sig,
    )
    .is_ok()
        && time > 1_700_000_000
}

/// A witness in this process cosigns each new checkpoint (the second time with a
/// consistency proof from the first); the served checkpoint and the receipts' tlog-proofs
/// carry the cosignature; with a quorum of two and one witness silent, the server keeps
/// serving the last checkpoint that met the quorum.
#[tokio::test]
async fn a_witness_cosigns_our_checkpoints() {
    let app = app().await;
    let store = &app.state.store;
    let signer = log::LogSigner::of(&app.state).await.expect("log key");
    let log_vkey = signer.vkey("demo").expect("vkey");
    let witness_dir = app.dir.path().join("witness");
    std::fs::create_dir_all(&witness_dir).expect("dir");
    let witness_store = common::store(&witness_dir).await;
    let key = witness_key(app.dir.path(), 9);
    let public = ed25519_dalek::VerifyingKey::from_bytes(&key.public_key()).expect("key");
    let witness = Witness::new(
        witness_store,
        "witness.example.go.th/w1",
        key,
        &[format!("{}={log_vkey}", log_vkey.name)],
    )
    .expect("witness");
    let w_vkey = witness.vkey();
    let url = start(witness).await;
    let witnesses = Witnesses::parse(&[format!("{w_vkey}={url}")], None).expect("config");
    let (state, routes) = with_witnesses(&app, witnesses.clone());

    // Nothing cosigned yet: no checkpoint is served.
    let receipts = post_receipts(&app, 3, "w").await;
    log::sequence(store, &signer, "demo")
        .await
        .expect("seq")
        .expect("cp");
    assert_eq!(
        get_text(&routes, "/v1/sites/demo/log/checkpoint").await.0,
        StatusCode::NOT_FOUND
    );

    assert_eq!(
        log::witness::round(store, &witnesses, "demo")
            .await
            .expect("round"),
        1
    );
    let (status, served) = get_text(&routes, "/v1/sites/demo/log/checkpoint").await;
    assert_eq!(status, StatusCode::OK);
    let cp = note::Note::parse(&served).expect("note");
    assert_eq!(cp.sigs.len(), 2, "{served}");
    assert!(
        spec_cosignature_ok(&cp.sigs[1].line(), &w_vkey.name, &public, &cp.text),
        "{served}"
    );
    // The log's own signature still verifies with code we did not write.
    let verifier = signed_note::StandardVerifier::new(&log_vkey.to_string()).expect("vkey");
    signed_note::Note::from_bytes(served.as_bytes())
        .expect("their parser")
        .verify(&signed_note::VerifierList::new(vec![Box::new(verifier)]))
        .expect("their verifier");

    // More receipts: the witness is asked with its old size and a consistency proof.
    post_receipts(&app, 4, "w2").await;
    log::sequence(store, &signer, "demo")
        .await
        .expect("seq")
        .expect("cp");
    assert_eq!(
        log::witness::round(store, &witnesses, "demo")
            .await
            .expect("round"),
        1
    );
    let (_, served) = get_text(&routes, "/v1/sites/demo/log/checkpoint").await;
    let cp = note::Note::parse(&served).expect("note");
    assert_eq!(note::Checkpoint::parse(&cp.text).expect("cp").size, 7);
    assert!(spec_cosignature_ok(
        &cp.sigs[1].line(),
        &w_vkey.name,
        &public,
        &cp.text
    ));
    // Nothing new: the witness is not asked again.
    assert_eq!(
        log::witness::round(store, &witnesses, "demo")
            .await
            .expect("round"),
        0
    );

    // A receipt's tlog-proof carries the cosigned checkpoint.
    let id = receipts[0]["receipt"]["receipt_id"].as_str().expect("id");
    let (status, proof) = get_text(&routes, &format!("/v1/sites/demo/log/receipts/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        proof.starts_with("c2sp.org/tlog-proof@v1\nindex 0\n"),
        "{proof}"
    );
    assert!(proof.ends_with(&served), "{proof}");

    // The policy names the log, the witness and the quorum.
    let (_, policy) = get_text(&routes, "/v1/sites/demo/log/policy").await;
    assert_eq!(
        policy,
        format!(
            "log {log_vkey}\nwitness {} {w_vkey} {url}\nquorum {}\n",
            w_vkey.name, w_vkey.name
        )
    );

    // A second, unreachable witness and a quorum of two: the reachable one still cosigns
    // (the other one only delays), but no checkpoint has two cosignatures, so none is
    // served under that policy.
    let silent = ed25519_dalek::SigningKey::from_bytes(&[11; 32]);
    let silent_vkey = note::Vkey::new(
        "witness.example.go.th/down",
        note::SIG_COSIGNATURE_V1,
        silent.public_key(),
    )
    .expect("vkey");
    let two = Witnesses::parse(
        &[
            format!("{w_vkey}={url}"),
            format!("{silent_vkey}=http://127.0.0.1:9"),
        ],
        Some(2),
    )
    .expect("config");
    let (_, routes2) = with_witnesses(&app, two.clone());
    post_receipts(&app, 1, "w3").await;
    log::sequence(store, &signer, "demo")
        .await
        .expect("seq")
        .expect("cp");
    assert_eq!(
        log::witness::round(store, &two, "demo")
            .await
            .expect("round"),
        1
    );
    assert_eq!(
        get_text(&routes2, "/v1/sites/demo/log/checkpoint").await.0,
        StatusCode::NOT_FOUND
    );
    // Under the one-witness policy, the newest cosigned checkpoint (size 8) is served.
    let (_, served) = get_text(&routes, "/v1/sites/demo/log/checkpoint").await;
    assert!(served.starts_with("yinyom.test/demo\n8\n"), "{served}");
    drop(state);
}

fn tree(
    leaves: &[merkle::Hash],
    origin: &str,
    key: &ed25519_dalek::SigningKey,
) -> (merkle::Hash, String) {
    let root = merkle::root(leaves);
    let cp = note::Checkpoint {
        origin: origin.into(),
        size: leaves.len() as u64,
        root,
    };
    let text = cp.text();
    let sig = note::sign(&text, origin, key).expect("sign");
    (
        root,
        note::Note {
            text,
            sigs: vec![sig],
        }
        .to_string(),
    )
}

fn body(old: u64, proof: &[merkle::Hash], note: &str) -> String {
    let mut b = format!("old {old}\n");
    for h in proof {
        b.push_str(&note::hash_b64(h));
        b.push('\n');
    }
    b.push('\n');
    b.push_str(note);
    b
}

/// A witness refuses what the spec says it must, with the spec's status codes, and keeps
/// cosigning the honest log.
#[tokio::test]
async fn a_witness_refuses_a_shorter_or_rewritten_tree() {
    let dir = tempfile::tempdir().expect("dir");
    let store = common::store(dir.path()).await;
    let origin = "consent.example.go.th/demo";
    let log_key = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
    let log_vkey = note::Vkey::new(origin, note::SIG_ED25519, log_key.public_key()).expect("vkey");
    let witness = Witness::new(
        store,
        "w.example/1",
        witness_key(dir.path(), 6),
        &[format!("{origin}={log_vkey}")],
    )
    .expect("witness");
    let w_vkey = witness.vkey();
    let url = start(witness).await;
    let leaves: Vec<merkle::Hash> = (0..8u8).map(|i| merkle::leaf_hash(&[i])).collect();
    let (_, five) = tree(&leaves[..5], origin, &log_key);

    let sent = tokio::task::spawn_blocking({
        let url = url.clone();
        let agent = ureq::AgentBuilder::new().build();
        let five = five.clone();
        let leaves = leaves.clone();
        let log_key = log_key.clone();
        move || {
            let send = |b: String| -> (u16, String, String) {
                let res = match agent.post(&format!("{url}/add-checkpoint")).send_string(&b) {
                    Ok(r) => r,
                    Err(ureq::Error::Status(_, r)) => r,
                    Err(e) => panic!("{e}"),
                };
                let status = res.status();
                let kind = res.content_type().to_owned();
                (status, kind, res.into_string().expect("body"))
            };
            let mut out = Vec::new();
            // Unknown log.
            let (_, other) = tree(&leaves[..5], "other.example/log", &log_key);
            out.push(("unknown origin", send(body(0, &[], &other)).0, 404));
            // Signed by another key.
            let (_, forged) = tree(
                &leaves[..5],
                origin,
                &ed25519_dalek::SigningKey::from_bytes(&[4; 32]),
            );
            out.push(("unknown key", send(body(0, &[], &forged)).0, 403));
            // A log signature that does not verify.
            let tampered = five.replacen("\n5\n", "\n6\n", 1);
            out.push(("bad signature", send(body(0, &[], &tampered)).0, 403));
            // Old size above the new one.
            out.push(("old > size", send(body(6, &[], &five)).0, 400));
            // Old size 0 with a proof.
            out.push(("proof from 0", send(body(0, &[leaves[0]], &five)).0, 422));
            out.push(("garbage", send("hello".into()).0, 400));
            // The request of c2sp.org/tlog-witness's example parses; its log is not ours.
            let example = "old 20852014\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\njrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\u{2014} example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n";
            out.push(("the spec's example", send(example.into()).0, 404));
            // The first checkpoint is cosigned.
            let (status, _, line) = send(body(0, &[], &five));
            out.push(("first", status, 200));
            // The same request again: the witness holds size 5 now.
            let again = send(body(0, &[], &five));
            out.push(("stale old size", again.0, 409));
            assert_eq!(
                (again.1.as_str(), again.2.as_str()),
                ("text/x.tlog.size", "5\n")
            );
            // A shorter tree.
            let (_, three) = tree(&leaves[..3], origin, &log_key);
            out.push(("shorter", send(body(5, &[], &three)).0, 400));
            out.push(("shorter, old 3", send(body(3, &[], &three)).0, 409));
            // A rewritten history: leaf 2 replaced, a proof from the rewritten tree.
            let mut rewritten = leaves.clone();
            rewritten[2] = merkle::leaf_hash(b"rewritten");
            let (_, eight_bad) = tree(&rewritten, origin, &log_key);
            let bad_proof = merkle::consistency_proof(5, &rewritten);
            out.push(("rewritten", send(body(5, &bad_proof, &eight_bad)).0, 422));
            // Same size, another root.
            let (_, five_bad) = tree(&rewritten[..5], origin, &log_key);
            out.push((
                "same size, other root",
                send(body(5, &[], &five_bad)).0,
                422,
            ));
            // The honest extension is cosigned.
            let (_, eight) = tree(&leaves, origin, &log_key);
            let proof = merkle::consistency_proof(5, &leaves);
            let (status, _, line8) = send(body(5, &proof, &eight));
            out.push(("honest", status, 200));
            (out, line, line8, eight)
        }
    })
    .await
    .expect("requests");
    let (outcomes, line5, line8, eight) = sent;
    for (what, got, want) in outcomes {
        assert_eq!(got, want, "{what}");
    }
    let public = ed25519_dalek::VerifyingKey::from_bytes(&w_vkey.key).expect("key");
    let text5 = note::Note::parse(&five).expect("note").text;
    assert!(
        spec_cosignature_ok(line5.trim_end(), &w_vkey.name, &public, &text5),
        "{line5}"
    );
    let text8 = note::Note::parse(&eight).expect("note").text;
    assert!(
        spec_cosignature_ok(line8.trim_end(), &w_vkey.name, &public, &text8),
        "{line8}"
    );
    // It serves what it holds, with the log's signature and its own.
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(origin.as_bytes()))
    };
    let url2 = url.clone();
    let (vkey_text, held) = tokio::task::spawn_blocking(move || {
        let agent = ureq::AgentBuilder::new().build();
        (
            agent
                .get(&format!("{url2}/vkey"))
                .call()
                .expect("vkey")
                .into_string()
                .expect("text"),
            agent
                .get(&format!("{url2}/{hash}/checkpoint"))
                .call()
                .expect("checkpoint")
                .into_string()
                .expect("text"),
        )
    })
    .await
    .expect("get");
    assert_eq!(vkey_text, format!("{w_vkey}\n"));
    let held = note::Note::parse(&held).expect("note");
    assert_eq!(held.text, text8);
    assert_eq!(held.check(&log_vkey), note::Check::Valid(0));
    assert!(matches!(held.check(&w_vkey), note::Check::Valid(t) if t > 0));
}

/// Kills a child process when dropped (a failed assertion must not leave it running).
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The real binaries: `yinyom witness serve` prints its vkey and serves it; `yinyom serve
/// --witness VKEY=URL` submits its checkpoints in the background, and the served
/// checkpoint and a receipt's proof carry the witness's cosignature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binaries_witness_in_the_background() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().expect("dir");
    let store = common::store(dir.path()).await;
    yinyom_server::sites::import(&store, &common::fixture())
        .await
        .expect("import");
    let url = common::url_of(&store, dir.path()).await;
    // The log key the server is given (`--log-key`).
    let log_key = {
        use ed25519_dalek::pkcs8::DecodePrivateKey;
        ed25519_dalek::SigningKey::read_pkcs8_pem_file(common::key_files(dir.path()).1)
            .expect("log key file")
    };
    let (port, wport) = (binary::free_port(), binary::free_port());
    let public_url = format!("http://127.0.0.1:{port}");
    let log_vkey = log::LogSigner::with_key(&public_url, std::sync::Arc::new(log_key))
        .vkey("demo")
        .expect("vkey");
    assert_eq!(log_vkey.name, format!("127.0.0.1:{port}/demo"));
    witness_key(dir.path(), 21);
    let mut witness = Running(
        Command::new(env!("CARGO_BIN_EXE_yinyom"))
            .arg("--database-url")
            .arg(format!(
                "sqlite://{}",
                dir.path().join("witness.db").display()
            ))
            .args(["witness", "serve", "--name", "witness.example.go.th/bin"])
            .arg("--listen")
            .arg(format!("127.0.0.1:{wport}"))
            .arg("--key")
            .arg(dir.path().join("witness-21.pem"))
            .arg("--log")
            .arg(format!("{}={log_vkey}", log_vkey.name))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("witness"),
    );
    let mut first = String::new();
    let mut stdout = std::io::BufReader::new(witness.0.stdout.take().expect("stdout"));
    stdout.read_line(&mut first).expect("vkey line");
    let w_vkey = note::Vkey::parse(&first).expect("the witness prints its vkey");
    assert_eq!(w_vkey.name, "witness.example.go.th/bin");
    let wurl = format!("http://127.0.0.1:{wport}");
    let dist = dir.path().join("dist");
    let _server = Running(
        Command::new(env!("CARGO_BIN_EXE_yinyom"))
            .args(["--database-url", &url, "serve", "--rate-limit", "0"])
            .envs(binary::key_env(dir.path()))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--public-url")
            .arg(&public_url)
            .arg("--dist")
            .arg(&dist)
            .arg("--witness")
            .arg(format!("{w_vkey}={wurl}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("server"),
    );
    let outcome = tokio::task::spawn_blocking(move || {
        let agent = ureq::AgentBuilder::new()
            .timeout(std::time::Duration::from_secs(5))
            .build();
        let served_vkey = agent
            .get(&format!("{wurl}/vkey"))
            .call()
            .expect("witness /vkey")
            .into_string()
            .expect("text");
        let up = binary::wait_until(std::time::Duration::from_secs(30), || {
            agent.get(&format!("{public_url}/healthz")).call().is_ok()
        });
        assert!(up, "the server did not start");
        let receipt: serde_json::Value = agent
            .post(&format!("{public_url}/v1/sites/demo/receipts"))
            .set("origin", ORIGIN)
            .send_json(choice(&uuid(), "subject-binary-000001", true, false))
            .expect("receipt")
            .into_json()
            .expect("json");
        let id = receipt["receipt"]["receipt_id"]
            .as_str()
            .expect("id")
            .to_owned();
        let mut served = String::new();
        let cosigned = binary::wait_until(std::time::Duration::from_secs(30), || {
            match agent
                .get(&format!("{public_url}/v1/sites/demo/log/checkpoint"))
                .call()
            {
                Ok(res) => {
                    served = res.into_string().unwrap_or_default();
                    served.lines().filter(|l| l.starts_with('\u{2014}')).count() == 2
                }
                Err(_) => false,
            }
        });
        let proof = agent
            .get(&format!("{public_url}/v1/sites/demo/log/receipts/{id}"))
            .call()
            .map(|r| r.into_string().unwrap_or_default())
            .unwrap_or_default();
        (served_vkey, cosigned, served, proof)
    })
    .await
    .expect("requests");
    let (served_vkey, cosigned, served, proof) = outcome;
    assert_eq!(served_vkey.trim_end(), w_vkey.to_string());
    assert!(cosigned, "no cosigned checkpoint within 30 s: {served}");
    let note = note::Note::parse(&served).expect("note");
    assert_eq!(note.check(&log_vkey), note::Check::Valid(0));
    assert!(matches!(note.check(&w_vkey), note::Check::Valid(t) if t > 0));
    assert!(
        proof.starts_with("c2sp.org/tlog-proof@v1\nindex 0\n"),
        "{proof}"
    );
    assert!(proof.ends_with(&served), "{proof}");
    drop(stdout);
}
