//! A receipt signing key that never leaves an HSM: SoftHSM2 through PKCS#11 (CKM_EDDSA).
//! `yinyom keys generate` makes the key inside the token, `yinyom serve --signing-key
//! pkcs11:…` signs receipts with it, and outside JOSE libraries (node's `jose`, installed
//! from npm into `target/jose` on first use, and Python's PyJWT) verify them against the
//! served JWKS.
//!
//! Needs SoftHSM2 and PyJWT (Debian: `apt-get install softhsm2 python3-jwt`; `cargo xtask
//! test` and `.ci/run` install them). Without them this test fails and says so: it is
//! never skipped.

mod common;

use common::{binary::free_port, *};
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The SoftHSM2 PKCS#11 library.
fn softhsm_module() -> PathBuf {
    let candidates = [
        std::env::var_os("YINYOM_TEST_PKCS11_MODULE").map(PathBuf::from),
        Some(PathBuf::from("/usr/lib/softhsm/libsofthsm2.so")),
        Some(PathBuf::from(
            "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        )),
        Some(PathBuf::from(
            "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
        )),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
        .expect(
            "SoftHSM2 is not installed: `sudo apt-get install softhsm2` (cargo xtask test installs it when run as root)",
        )
}

/// A fresh SoftHSM2 token `yinyom-test` (user PIN 1234) in `dir`; returns the
/// `SOFTHSM2_CONF` to give every process that opens it.
fn softhsm_token(dir: &Path) -> PathBuf {
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).expect("token dir");
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .expect("conf");
    let out = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args([
            "--init-token",
            "--free",
            "--label",
            "yinyom-test",
            "--pin",
            "1234",
            "--so-pin",
            "12345678",
        ])
        .output()
        .expect("softhsm2-util (apt-get install softhsm2)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    conf
}

/// node's `jose` in `target/jose`, installed on first use.
fn jose_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/jose");
    if !dir.join("node_modules/jose/package.json").is_file() {
        std::fs::create_dir_all(&dir).expect("target/jose");
        let status = Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--loglevel=error",
                "--prefix",
            ])
            .arg(&dir)
            .arg("jose@6.2.19")
            .status()
            .expect("npm is needed for this test (Debian: apt-get install npm)");
        assert!(status.success(), "npm install jose failed");
    }
    dir
}

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_key_held_in_softhsm2_signs_receipts_that_node_jose_verifies() {
    let module = softhsm_module();
    let dir = tempfile::tempdir().expect("tmp");
    let conf = softhsm_token(dir.path());
    let pin = dir.path().join("pin");
    std::fs::write(&pin, "1234\n").expect("pin file");
    let uri = format!(
        "pkcs11:token=yinyom-test;object=receipts-2026?pin-source={}",
        pin.display()
    );
    let yinyom = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_yinyom"))
            .env("SOFTHSM2_CONF", &conf)
            .env("YINYOM_PKCS11_MODULE", &module)
            .args(args)
            .output()
            .expect("yinyom")
    };

    let made = yinyom(&["keys", "generate", "--out", &uri]);
    let printed = String::from_utf8_lossy(&made.stdout).into_owned();
    assert!(
        made.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let kid = printed
        .lines()
        .find_map(|l| l.strip_prefix("kid: "))
        .expect("kid line")
        .to_owned();
    let again = yinyom(&["keys", "generate", "--out", &uri]);
    assert!(!again.status.success(), "a label is never reused");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("never replaced"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // The server, on a database with the demo site, signing receipts in the token.
    let store = store(dir.path()).await;
    yinyom_server::sites::import(&store, &fixture())
        .await
        .expect("import");
    let url = url_of(&store, dir.path()).await;
    let (_, log_key) = key_files(dir.path());
    let port = free_port();
    let log = dir.path().join("serve.log");
    let _server = Serve(
        Command::new(env!("CARGO_BIN_EXE_yinyom"))
            .env("SOFTHSM2_CONF", &conf)
            .env("YINYOM_PKCS11_MODULE", &module)
            .args(["--database-url", &url, "serve", "--rate-limit", "0"])
            .args(["--signing-key", &uri])
            .arg("--log-key")
            .arg(&log_key)
            .arg("--subject-key")
            .arg(common::subject_key_file(dir.path()))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--dist")
            .arg(dir.path().join("dist"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("yinyom serve"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while ureq::get(&format!("{base}/healthz")).call().is_err() {
        assert!(
            Instant::now() < deadline,
            "the server did not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let posted: serde_json::Value = ureq::post(&format!("{base}/v1/sites/demo/receipts"))
        .set("origin", ORIGIN)
        .send_json(choice(&uuid(), "subject-hsm-000001", true, false))
        .expect("receipt")
        .into_json()
        .expect("json");
    let jws = posted["jws"].as_str().expect("jws");
    let jwks: serde_json::Value = ureq::get(&format!("{base}/.well-known/jwks.json"))
        .call()
        .expect("jwks")
        .into_json()
        .expect("json");

    // node's jose: the JWS verifies against the served JWKS, its typ is the receipt's, and
    // the key is the one made in the token.
    let script = r#"
import { compactVerify, createLocalJWKSet } from 'jose';
const [jws, jwks] = [process.argv[1], JSON.parse(process.argv[2])];
const keys = createLocalJWKSet(jwks);
const { payload, protectedHeader } = await compactVerify(jws, keys, { algorithms: ['EdDSA'] });
let forged = 'rejected';
try {
  const [h, p, s] = jws.split('.');
  const other = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url')), event: 'withdrawn' })).toString('base64url');
  await compactVerify(`${h}.${other}.${s}`, keys);
  forged = 'accepted';
} catch (e) {}
console.log(JSON.stringify({ header: protectedHeader, receipt_id: JSON.parse(new TextDecoder().decode(payload)).receipt_id, forged }));
"#;
    let out = Command::new("node")
        .current_dir(jose_dir())
        .args(["--input-type=module", "-e", script, jws, &jwks.to_string()])
        .output()
        .expect("node is installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("node output");
    assert_eq!(v["header"]["typ"], "yinyom-receipt+jwt");
    assert_eq!(
        v["header"]["kid"],
        kid.as_str(),
        "signed by the key in the token"
    );
    assert_eq!(v["receipt_id"], posted["receipt"]["receipt_id"]);
    assert_eq!(v["forged"], "rejected");

    // Python's PyJWT (Debian's python3-jwt) verifies it too, and refuses it with another
    // key of the set.
    let script = r#"
import json, sys, jwt
token, jwks = sys.argv[1], json.loads(sys.argv[2])
kid = jwt.get_unverified_header(token)["kid"]
key = next(jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid)
claims = jwt.decode(token, key=key.key, algorithms=["EdDSA"])
others = [jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] != kid]
wrong = []
for o in others:
    try:
        jwt.decode(token, key=o.key, algorithms=["EdDSA"])
        wrong.append(o.key_id)
    except jwt.InvalidSignatureError:
        pass
print(json.dumps({"receipt_id": claims["receipt_id"], "wrong": wrong, "others": len(others)}))
"#;
    let python = if Path::new("/usr/bin/python3").is_file() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let out = Command::new(python)
        .args(["-c", script, jws, &jwks.to_string()])
        .output()
        .expect("python3 is installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "PyJWT (Debian: apt-get install python3-jwt): {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("python output");
    assert_eq!(v["receipt_id"], posted["receipt"]["receipt_id"]);
    assert_eq!(v["others"], 1, "the log key is the other key of the set");
    assert_eq!(v["wrong"], serde_json::json!([]));

    // Our own verifier agrees, and the database holds the public key only.
    let set: yinyom_server::signing::Jwks = serde_json::from_value(jwks).expect("jwks");
    let checked = yinyom_server::receipts::verify_document(&posted.to_string(), &set);
    assert!(checked[0].outcome.is_ok(), "{checked:?}");
    assert!(store.legacy_seeds().await.expect("seeds").is_empty());
}
