//! Signing keys live outside the database: the database holds public keys and their
//! validity periods only, so someone holding only the database can neither read a seed nor
//! re-sign a receipt; rotation publishes a key before it signs; a receipt dated outside
//! its key's period is refused; the upgrade moves stored seeds out. SQLite, and PostgreSQL
//! when `YINYOM_TEST_DATABASE_URL` is set.

mod common;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use common::*;
use std::{path::Path, process::Command, sync::Arc};
use tower::ServiceExt;
use yinyom_server::{
    app_state,
    routes::router,
    signing::{self, Ed25519Signer, Jwks, KeyPurpose, Keys, keys},
    sites,
    store::{Store, now_ms, rfc3339_ms},
};

fn spec(p: &Path) -> String {
    p.display().to_string()
}

/// A new key file in `dir`.
fn new_key(dir: &Path, name: &str) -> (String, Arc<dyn Ed25519Signer>) {
    let path = spec(&dir.join(name));
    keys::generate(&path, None).expect("generate");
    let key = keys::load(&path, None).expect("load");
    (path, key)
}

/// The 32-byte seed in a PEM key file (what must never be in the database).
fn seed_of(pem_file: &str) -> [u8; 32] {
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    let pem = std::fs::read_to_string(pem_file).expect("pem");
    ed25519_dalek::SigningKey::from_pkcs8_pem(&pem)
        .expect("PKCS#8")
        .to_bytes()
}

/// Every row of every table (`table: values`), checked to include the signing keys'.
async fn dump(store: &Store) -> Vec<String> {
    let out: Vec<String> = dump::rows(store)
        .await
        .into_iter()
        .map(|(t, r)| format!("{t}: {r}"))
        .collect();
    assert!(
        out.iter().any(|r| r.starts_with("signing_keys: ")),
        "the dump reads the tables"
    );
    out
}

/// The seeds of `files` appear in no table in any encoding, and no 32-byte value in any
/// table (raw, hex or base64) is the seed of a registered key.
async fn assert_no_private_key(store: &Store, files: &[&str]) {
    let rows = dump(store).await.join("\n").to_lowercase();
    for f in files {
        let seed = seed_of(f);
        for form in [
            hex::encode(seed),
            STANDARD.encode(seed).to_lowercase(),
            URL_SAFE_NO_PAD.encode(seed).to_lowercase(),
        ] {
            assert!(!rows.contains(&form), "the seed of {f} is in the database");
        }
    }
    let registered: Vec<Vec<u8>> = store
        .keys()
        .await
        .expect("keys")
        .into_iter()
        .map(|k| k.public)
        .collect();
    assert!(!registered.is_empty());
    // Any hex run of 64 digits or more, read as a seed at every offset: none derives a
    // registered public key.
    let mut candidates = Vec::new();
    for run in rows.split(|c: char| !c.is_ascii_hexdigit()) {
        for i in (0..run.len().saturating_sub(63)).step_by(2) {
            if let Ok(b) = hex::decode(&run[i..i + 64]) {
                candidates.push(b);
            }
        }
    }
    for c in candidates {
        let seed: [u8; 32] = c.try_into().expect("32");
        let public = ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes()
            .to_vec();
        assert!(
            !registered.contains(&public),
            "a registered key's seed is readable in the database"
        );
    }
}

async fn jwks(app: &TestApp) -> Jwks {
    serde_json::from_value(body_json(app.get("/.well-known/jwks.json").await).await).expect("jwks")
}

fn header_of(jws: &str) -> serde_json::Value {
    serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jws.split('.').next().expect("header"))
            .expect("b64"),
    )
    .expect("json")
}

/// A receipt signed by `key` with `issued_at` set to `at_ms`: what someone holding an old
/// key (a backup from before the keys left the database) could make.
fn forged(receipt: &serde_json::Value, key: &dyn Ed25519Signer, at_ms: i64) -> String {
    let mut r = receipt.clone();
    r["issued_at"] = serde_json::json!(rfc3339_ms(at_ms));
    let json = yinyom_model::canonical::to_canonical_json(&r).expect("canonical");
    let kid = signing::thumbprint(&key.public_key());
    let jws = signing::jws(key, &kid, signing::RECEIPT_TYP, json.as_bytes()).expect("sign");
    serde_json::json!({"receipt": r, "jws": jws}).to_string()
}

async fn post_receipt(router: &axum::Router, subject: &str) -> (StatusCode, serde_json::Value) {
    let res = router
        .clone()
        .oneshot(
            Request::post("/v1/sites/demo/receipts")
                .header(header::ORIGIN, ORIGIN)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(choice(&uuid(), subject, true, true).to_string()))
                .expect("request"),
        )
        .await
        .expect("infallible");
    (res.status(), body_json(res).await)
}

/// Start, rotate (planned and after a compromise): the database never holds a seed, a
/// rotated-in key is published before it signs, the servers switch keys by the periods,
/// a server that lacks the current key refuses to sign rather than use a retired one, and
/// every receipt still verifies. Receipts carry `typ` `yinyom-receipt+jwt`.
#[tokio::test]
async fn rotation_publishes_before_signing_and_the_database_never_holds_a_seed() {
    let app = app().await;
    let store = &app.state.store;
    let (a_file, log_file) = key_files(app.dir.path());
    let (a_file, log_file) = (spec(&a_file), spec(&log_file));
    assert_no_private_key(store, &[&a_file, &log_file]).await;

    let r1 = body_json(
        app.post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), "subject-keys-0001", true, true),
        )
        .await,
    )
    .await;
    let a_kid = app.state.signer.kid().expect("signs now");
    let h = header_of(r1["jws"].as_str().expect("jws"));
    assert_eq!(h["typ"], "yinyom-receipt+jwt");
    assert_eq!(h["kid"], a_kid.as_str());

    // The next key is given to a (restarted) server first, then registered.
    let (b_file, b) = new_key(app.dir.path(), "next.pem");
    let held = |extra: Vec<&str>| {
        let mut r = vec![a_file.clone()];
        r.extend(extra.into_iter().map(str::to_owned));
        Keys::load(&r, std::slice::from_ref(&log_file), None)
            .and_then(|k| k.with_subject_key(&common::subject_key_file(app.dir.path())))
            .expect("keys")
    };
    let settings = (*app.state.settings).clone();
    let state2 = app_state(store.clone(), settings.clone(), &held(vec![&b_file]))
        .await
        .expect("a server holding the current and the next key");
    let planned = signing::rotate(
        store,
        KeyPurpose::Receipt,
        &b.public_key(),
        signing::ROTATION_NOTICE,
    )
    .await
    .expect("rotate");
    assert!(planned.activates_at >= now_ms() + 300_000);
    state2.signer.refresh(store).await.expect("refresh");
    assert_eq!(
        state2.signer.kid(),
        Some(a_kid.clone()),
        "the next key waits its turn"
    );
    let set = jwks(&app).await;
    let b_jwk = set
        .keys
        .iter()
        .find(|k| k.kid == planned.kid)
        .expect("the next key is published before it signs");
    assert_eq!(b_jwk.not_before, Some(rfc3339_ms(planned.activates_at)));
    assert_eq!(b_jwk.purpose.as_deref(), Some("receipt"));
    let a_jwk = set.keys.iter().find(|k| k.kid == a_kid).expect("current");
    assert_eq!(a_jwk.not_after, Some(rfc3339_ms(planned.activates_at)));
    let (status, r2) = post_receipt(&router(state2.clone()), "subject-keys-0002").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        header_of(r2["jws"].as_str().expect("jws"))["kid"],
        a_kid.as_str()
    );
    assert_no_private_key(store, &[&a_file, &log_file, &b_file]).await;

    // After a compromise: a third key signs at once; a server given it switches, and a
    // server without it refuses to sign (503) rather than sign with a retired key.
    let (c_file, c) = new_key(app.dir.path(), "after-compromise.pem");
    let state3 = app_state(store.clone(), settings, &held(vec![&b_file, &c_file]))
        .await
        .expect("a server holding every key");
    let now = signing::rotate(
        store,
        KeyPurpose::Receipt,
        &c.public_key(),
        std::time::Duration::ZERO,
    )
    .await
    .expect("rotate now");
    state3.signer.refresh(store).await.expect("refresh");
    assert_eq!(state3.signer.kid(), Some(now.kid.clone()));
    let (status, r3) = post_receipt(&router(state3), "subject-keys-0003").await;
    assert_eq!(status, StatusCode::CREATED, "{r3}");
    assert_eq!(
        header_of(r3["jws"].as_str().expect("jws"))["kid"],
        now.kid.as_str()
    );
    app.state.signer.refresh(store).await.expect("refresh");
    assert_eq!(
        app.state.signer.kid(),
        None,
        "the old server holds no current key"
    );
    let (status, body) = post_receipt(&app.router, "subject-keys-0004").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");

    let set = jwks(&app).await;
    assert_eq!(
        set.keys
            .iter()
            .filter(|k| k.purpose.as_deref() == Some("receipt"))
            .count(),
        3
    );
    assert_eq!(
        set.keys
            .iter()
            .filter(|k| k.purpose.as_deref() == Some("log"))
            .count(),
        1
    );
    let doc = format!("{r1}\n{r2}\n{r3}\n");
    let checked = yinyom_server::receipts::verify_document(&doc, &set);
    assert!(checked.iter().all(|c| c.outcome.is_ok()), "{checked:?}");
    assert_no_private_key(store, &[&a_file, &log_file, &b_file, &c_file]).await;
}

/// A receipt signed with a retired key and dated after its retirement, or signed with the
/// new key and dated before that key existed, has a good signature but is refused: by the
/// library, by `yinyom receipts verify` (with the database's keys and with a JWKS file),
/// and by the console's `/v1/admin/verify`.
#[tokio::test]
async fn a_receipt_dated_outside_its_keys_period_is_refused_everywhere() {
    let c = common::console::console().await;
    let app = &c.app;
    let store = &app.state.store;
    let r1 = body_json(
        app.post_json(
            "/v1/sites/demo/receipts",
            &choice(&uuid(), "subject-backdate-01", true, true),
        )
        .await,
    )
    .await;
    let (old_file, _) = key_files(app.dir.path());
    let old = keys::load(&spec(&old_file), None).expect("old key");
    let (_, new) = new_key(app.dir.path(), "new.pem");
    let rotation = signing::rotate(
        store,
        KeyPurpose::Receipt,
        &new.public_key(),
        std::time::Duration::ZERO,
    )
    .await
    .expect("rotate");
    let receipt = &r1["receipt"];
    let after_retirement = forged(receipt, old.as_ref(), rotation.activates_at + 60_000);
    let before_activation = forged(receipt, new.as_ref(), rotation.activates_at - 1);
    let genuine_old = forged(receipt, old.as_ref(), rotation.activates_at - 1);

    let set = jwks(app).await;
    for (doc, valid) in [
        (&after_retirement, false),
        (&before_activation, false),
        (&genuine_old, true),
    ] {
        let checked = yinyom_server::receipts::verify_document(doc, &set);
        assert_eq!(checked[0].outcome.is_ok(), valid, "{doc}: {checked:?}");
        if !valid {
            assert!(
                checked[0]
                    .outcome
                    .as_ref()
                    .is_err_and(|e| e.contains("outside the validity period")),
                "{checked:?}"
            );
        }
        let res = app
            .send(
                Request::post("/v1/admin/verify")
                    .header(header::AUTHORIZATION, format!("Bearer {}", c.dpo))
                    .body(Body::from(doc.clone()))
                    .expect("request"),
            )
            .await;
        let console = body_json(res).await;
        let refused = console[0]["outcome"]["Err"]
            .as_str()
            .is_some_and(|e| e.contains("outside the validity period"));
        assert_eq!(refused, !valid, "{console}");
    }

    let url = database_url(app).await;
    let dir = app.dir.path();
    std::fs::write(
        dir.join("forged.jsonl"),
        format!("{after_retirement}\n{before_activation}\n"),
    )
    .expect("write");
    std::fs::write(
        dir.join("jwks.json"),
        serde_json::to_string(&set).expect("json"),
    )
    .expect("write");
    for jwks_arg in [None, Some(dir.join("jwks.json"))] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_yinyom"));
        cmd.args(["--database-url", &url, "receipts", "verify"])
            .arg(dir.join("forged.jsonl"));
        if let Some(j) = &jwks_arg {
            cmd.arg("--jwks").arg(j);
        }
        let out = cmd.output().expect("yinyom receipts verify");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{stdout}");
        assert_eq!(
            stdout.matches("outside the validity period").count(),
            2,
            "{stdout}"
        );
    }
}

/// `keys generate`: a PKCS#8 PEM file of mode 0600, never overwritten; its public key and,
/// with `--name`, its signed-note vkey; the key then signs as printed. `keys list` shows
/// purposes and periods.
#[tokio::test]
async fn keys_generate_writes_a_private_pem_and_prints_its_public_key_and_vkey() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("log.pem");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_yinyom"))
            .current_dir(dir.path())
            .args(args)
            .output()
            .expect("yinyom")
    };
    let out = run(&[
        "keys",
        "generate",
        "--out",
        &spec(&file),
        "--name",
        "consent.example.go.th/demo",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !dir.path().join("yinyom.db").exists(),
        "generate needs no database"
    );
    let key = keys::load(&spec(&file), None).expect("a PEM key");
    let public = key.public_key();
    let jwk = signing::jwk(&public);
    assert!(
        stdout.contains(&format!("public key: {}", jwk.x)),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("kid: {}", jwk.kid)), "{stdout}");
    let vkey = stdout
        .lines()
        .find_map(|l| l.strip_prefix("vkey: "))
        .expect("a vkey line");
    let parts: Vec<&str> = vkey.splitn(3, '+').collect();
    assert_eq!(parts[0], "consent.example.go.th/demo");
    assert_eq!(parts[1].len(), 8, "4-byte key id in hex");
    assert_eq!(
        STANDARD.decode(parts[2]).expect("base64"),
        [&[1u8][..], &public].concat()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let before = std::fs::read(&file).expect("read");
    let again = run(&["keys", "generate", "--out", &spec(&file)]);
    assert!(!again.status.success());
    assert_eq!(
        std::fs::read(&file).expect("read"),
        before,
        "never overwritten"
    );

    // `keys rotate --key` registers the next key (published, signing 6 minutes later);
    // `keys list` shows both with their periods; the same key cannot be registered twice.
    let app = app().await;
    let url = database_url(&app).await;
    let next = dir.path().join("next.pem");
    assert!(
        run(&["keys", "generate", "--out", &spec(&next)])
            .status
            .success()
    );
    let rotated = run(&[
        "--database-url",
        &url,
        "keys",
        "rotate",
        "--key",
        &spec(&next),
    ]);
    let said = String::from_utf8_lossy(&rotated.stdout);
    assert!(
        rotated.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let next_kid = signing::thumbprint(&keys::load(&spec(&next), None).expect("next").public_key());
    assert!(said.contains(&next_kid), "{said}");
    let list = run(&["--database-url", &url, "keys", "list"]);
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.lines().any(|l| l.starts_with("receipt")
            && l.contains(&next_kid)
            && l.contains("published, signs from")),
        "{listed}"
    );
    assert!(
        listed.lines().any(|l| l.starts_with("receipt")
            && !l.contains(&next_kid)
            && l.contains("current since")
            && l.contains("until")),
        "{listed}"
    );
    assert!(listed.lines().any(|l| l.starts_with("log")), "{listed}");
    let twice = run(&[
        "--database-url",
        &url,
        "keys",
        "rotate",
        "--key",
        &spec(&next),
    ]);
    assert!(!twice.status.success(), "a key is registered once");
}

/// Receipts and checkpoints need two keys: a server given one key for both refuses to
/// start, and so does a server given a key that was never registered. The log signer
/// signs with the `--log-key`, published with purpose `log`.
#[tokio::test]
async fn the_receipt_and_log_keys_must_differ_and_be_registered() {
    let app = app().await;
    let (receipt_file, log_file) = key_files(app.dir.path());
    let log_key = keys::load(&spec(&log_file), None).expect("log key");
    let (public, sig) = app.state.log_signer.sign_raw(b"a note").expect("signs");
    assert_eq!(public, log_key.public_key());
    ed25519_dalek::VerifyingKey::from_bytes(&public)
        .expect("key")
        .verify_strict(b"a note", &ed25519_dalek::Signature::from_bytes(&sig))
        .expect("verifies");
    let set = jwks(&app).await;
    let published = set
        .keys
        .iter()
        .find(|k| k.kid == signing::thumbprint(&public))
        .expect("the log key is published");
    assert_eq!(published.purpose.as_deref(), Some("log"));
    let settings = (*app.state.settings).clone();
    let same = Keys::load(&[spec(&receipt_file)], &[spec(&receipt_file)], None).expect("keys");
    let e = app_state(app.state.store.clone(), settings.clone(), &same)
        .await
        .expect_err("one key for both");
    assert!(e.to_string().contains("two different keys"), "{e}");
    let (stranger, _) = new_key(app.dir.path(), "stranger.pem");
    let unknown =
        Keys::load(&[stranger], &[spec(&key_files(app.dir.path()).1)], None).expect("keys");
    let e = app_state(app.state.store.clone(), settings, &unknown)
        .await
        .expect_err("unregistered");
    assert!(e.to_string().contains("yinyom keys rotate --key"), "{e}");
}

/// The upgrade: a database of the previous version holds its seed in `signing_keys`.
/// After migrating, the server refuses to start and says which command to run; `keys
/// export` writes the seed as a PEM file (0600) and wipes it from the database; the server
/// then starts with that file, signs with the same key id, and the receipts signed before
/// the upgrade still verify.
#[tokio::test]
async fn upgrade_moves_stored_seeds_out_and_the_server_refuses_to_start_until_then() {
    let dir = tempfile::tempdir().expect("tmp");
    let url = legacy_database(dir.path()).await;
    // What the previous version stored: a key row with its seed, and a receipt it signed.
    let seed = [42u8; 32];
    let old = ed25519_dalek::SigningKey::from_bytes(&seed);
    let public = old.verifying_key().to_bytes();
    let kid = signing::thumbprint(&public);
    let t0 = now_ms() - 86_400_000;
    let insert = "insert into signing_keys
            (kid, secret_key, public_key, created_at, retired_at, activates_at, generation)
         values ($1, $2, $3, $4, null, $4, 1)";
    macro_rules! old_row {
        ($pool:expr) => {{
            sqlx::query(insert)
                .bind(&kid)
                .bind(seed.to_vec())
                .bind(public.to_vec())
                .bind(t0)
                .execute(&$pool)
                .await
                .expect("old key row");
            $pool.close().await;
        }};
    }
    if url.starts_with("sqlite:") {
        old_row!(sqlx::SqlitePool::connect(&url).await.expect("connect"));
    } else {
        old_row!(sqlx::PgPool::connect(&url).await.expect("connect"));
    }
    let store = Store::connect(&url).await.expect("migrate");
    let rows = dump(&store).await.join("\n").to_lowercase();
    assert!(
        rows.contains(&hex::encode(seed)),
        "the seed waits in legacy_signing_seeds"
    );

    sites::import(&store, &fixture()).await.expect("import");
    let (_, log) = new_key(dir.path(), "log.pem");
    let (_, other) = new_key(dir.path(), "other.pem");
    let e = yinyom_server::signing::Signer::load(&store, KeyPurpose::Receipt, &[other])
        .await
        .expect_err("refuses while seeds remain");
    assert!(
        e.to_string().contains("yinyom keys export --out-dir"),
        "{e}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_yinyom"))
        .args(["--database-url", &url, "keys", "export", "--out-dir"])
        .arg(dir.path().join("exported"))
        .output()
        .expect("yinyom keys export");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = dir
        .path()
        .join("exported")
        .join(format!("receipt-1-{kid}.pem"));
    assert!(stdout.contains("signs now"), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)
            .expect("exported file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(seed_of(&spec(&file)), seed);
    assert!(store.legacy_seeds().await.expect("seeds").is_empty());
    assert_no_private_key(&store, &[&spec(&file)]).await;

    // The server starts with the exported file and signs with the same key.
    let held = Keys {
        receipts: vec![keys::load(&spec(&file), None).expect("exported key")],
        log: vec![log],
        subjects: Some(common::subject_key(dir.path())),
    };
    let settings = yinyom_server::state::Settings {
        public_url: "http://yinyom.test".into(),
        trusted_proxies: 1,
        rate_limit_per_minute: 600,
        rate_limit_burst: 100,
        ..Default::default()
    };
    let state = app_state(store.clone(), settings, &held)
        .await
        .expect("starts");
    assert_eq!(state.signer.kid(), Some(kid.clone()));
    let (status, r) = post_receipt(&router(state.clone()), "subject-upgrade-01").await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert_eq!(
        header_of(r["jws"].as_str().expect("jws"))["kid"],
        kid.as_str()
    );
    // A receipt the previous version signed (typ JWT) still verifies.
    let before = {
        let key: Arc<dyn Ed25519Signer> = Arc::new(ExportedSeed(old));
        let mut receipt = r["receipt"].clone();
        receipt["issued_at"] = serde_json::json!(rfc3339_ms(t0 + 1_000));
        let json = yinyom_model::canonical::to_canonical_json(&receipt).expect("canonical");
        let jws = signing::jws(key.as_ref(), &kid, "JWT", json.as_bytes()).expect("sign");
        serde_json::json!({"receipt": receipt, "jws": jws}).to_string()
    };
    let set = signing::jwks(&store).await.expect("jwks");
    let checked = yinyom_server::receipts::verify_document(&format!("{before}\n{r}\n"), &set);
    assert!(checked.iter().all(|c| c.outcome.is_ok()), "{checked:?}");
}

/// The previous version's in-memory key, to sign as it did.
#[derive(Debug)]
struct ExportedSeed(ed25519_dalek::SigningKey);

impl Ed25519Signer for ExportedSeed {
    fn public_key(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }
    fn sign(&self, msg: &[u8]) -> Result<[u8; 64], signing::KeyError> {
        use ed25519_dalek::Signer as _;
        Ok(self.0.sign(msg).to_bytes())
    }
    fn location(&self) -> String {
        "memory".into()
    }
}

/// A fresh database migrated as the previous version left it (every migration before
/// `*_keys_outside.sql`); returns its URL.
async fn legacy_database(dir: &Path) -> String {
    let fresh = store(dir).await;
    let url = url_of(&fresh, dir).await;
    let kind = match fresh {
        Store::Sqlite(p) => {
            p.close().await;
            "sqlite"
        }
        Store::Postgres(p) => {
            // `store` migrated it: start the database again, empty.
            let name: String = sqlx::query_scalar("select current_database()")
                .fetch_one(&p)
                .await
                .expect("name");
            p.close().await;
            let admin = std::env::var("YINYOM_TEST_DATABASE_URL").expect("url");
            let pool = sqlx::PgPool::connect(&admin).await.expect("admin");
            // The closed pool's backends may still be exiting: force them out.
            sqlx::query(&format!("drop database {name} with (force)"))
                .execute(&pool)
                .await
                .expect("drop");
            sqlx::query(&format!("create database {name}"))
                .execute(&pool)
                .await
                .expect("create");
            "postgres"
        }
    };
    if kind == "sqlite" {
        std::fs::remove_file(dir.join("test.db")).expect("remove");
        for ext in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.join(format!("test.db{ext}")));
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(kind);
    let old = dir.join(format!("migrations-{kind}"));
    std::fs::create_dir_all(&old).expect("dir");
    let names: Vec<String> = std::fs::read_dir(&src)
        .expect("migrations")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let ours = names
        .iter()
        .find(|n| n.contains("_keys_outside"))
        .expect("the keys migration");
    for name in names.iter().filter(|n| n.as_str() < ours.as_str()) {
        std::fs::copy(src.join(name), old.join(name)).expect("copy");
    }
    let migrator = sqlx::migrate::Migrator::new(old.as_path())
        .await
        .expect("migrator");
    if kind == "sqlite" {
        let url = format!("{url}?mode=rwc");
        let pool = sqlx::SqlitePool::connect(&url).await.expect("connect");
        migrator.run(&pool).await.expect("old migrations");
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&url).await.expect("connect");
        migrator.run(&pool).await.expect("old migrations");
        pool.close().await;
    }
    url
}
