//! `yinyom witness serve`: a C2SP tlog-witness that another body (another agency, the
//! auditor, DGA) runs with its own key.
//!
//! For each log it follows (origin and the log's vkey) it keeps the newest checkpoint it
//! cosigned. `POST /add-checkpoint` takes the size of that checkpoint, a consistency proof
//! and a new checkpoint; the witness checks the log's signature and that the new tree
//! extends the old one, records it and answers with its cosignature (C2SP
//! tlog-cosignature v1, Ed25519, timestamped). It refuses an unknown log (404), a bad or
//! missing log signature (403), an old size above the new one or a malformed request
//! (400), an old size that is not the one it holds (409, with that size) and a tree that
//! is not consistent with it (422). `GET /vkey` is its verifier key; `GET
//! /<sha256(origin) hex>/checkpoint` the newest checkpoint it cosigned of that log.

use crate::{
    log::{
        merkle::{self, Hash},
        note::{self, NoteKey},
    },
    store::Store,
};
use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use sha2::{Digest, Sha256};
use std::{collections::BTreeMap, sync::Arc};

/// Most consistency proof lines a request may carry (the spec's limit).
const MAX_PROOF: usize = 63;
/// Largest request body.
const MAX_BODY: usize = 64 * 1024;

/// A running witness.
#[derive(Debug, Clone)]
pub struct Witness {
    store: Store,
    name: String,
    key: Arc<ed25519_dalek::SigningKey>,
    logs: Arc<BTreeMap<String, note::Vkey>>,
    /// Checking the old size and recording the new checkpoint happen under this lock
    /// (and the store refuses a record whose size changed meanwhile).
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl Witness {
    /// A witness named `name` with `key`, following `logs` (`ORIGIN=VKEY` items).
    pub fn new(
        store: Store,
        name: &str,
        key: ed25519_dalek::SigningKey,
        logs: &[String],
    ) -> anyhow::Result<Self> {
        if !note::valid_name(name) {
            anyhow::bail!("`{name}` cannot name a witness key (no spaces, no `+`)");
        }
        let mut map = BTreeMap::new();
        for item in logs {
            let (origin, vkey) = item
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("`{item}`: a log is ORIGIN=VKEY"))?;
            let vkey = note::Vkey::parse(vkey).map_err(|e| anyhow::anyhow!("log {origin}: {e}"))?;
            if vkey.sig_type != note::SIG_ED25519 {
                anyhow::bail!("log {origin}: its vkey is not an Ed25519 note key (type 0x01)");
            }
            map.insert(origin.to_owned(), vkey);
        }
        if map.is_empty() {
            anyhow::bail!("a witness follows at least one log: --log ORIGIN=VKEY");
        }
        Ok(Self {
            store,
            name: name.to_owned(),
            key: Arc::new(key),
            logs: Arc::new(map),
            turn: Arc::default(),
        })
    }

    /// The witness's verifier key (cosignature v1).
    pub fn vkey(&self) -> note::Vkey {
        note::Vkey {
            name: self.name.clone(),
            id: note::key_id(&self.name, note::SIG_COSIGNATURE_V1, &self.key.public_key()),
            sig_type: note::SIG_COSIGNATURE_V1,
            key: self.key.public_key(),
        }
    }

    /// The witness's HTTP interface.
    pub fn router(self) -> Router {
        Router::new()
            .route("/add-checkpoint", post(add_checkpoint))
            .route("/vkey", get(vkey))
            .route("/{origin_hash}/checkpoint", get(checkpoint))
            .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
            .with_state(self)
    }
}

/// Reads an Ed25519 key from a PKCS#8 PEM file (as `yinyom keys generate --out` writes).
pub fn read_key(path: &std::path::Path) -> anyhow::Result<ed25519_dalek::SigningKey> {
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    let pem =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    ed25519_dalek::SigningKey::from_pkcs8_pem(&pem)
        .map_err(|e| anyhow::anyhow!("{}: not an Ed25519 PKCS#8 PEM key: {e}", path.display()))
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn conflict(size: u64) -> Response {
    (
        StatusCode::CONFLICT,
        [(header::CONTENT_TYPE, "text/x.tlog.size")],
        format!("{size}\n"),
    )
        .into_response()
}

/// A parsed `add-checkpoint` body.
struct Submission {
    old: u64,
    proof: Vec<Hash>,
    note: note::Note,
    checkpoint: note::Checkpoint,
}

fn parse(body: &[u8]) -> Result<Submission, String> {
    let body = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    let (head, rest) = body
        .split_once("\n\n")
        .ok_or("the body is `old N`, proof lines, a blank line and a checkpoint")?;
    let mut lines = head.split('\n');
    let old = lines
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .filter(|n| *n == "0" || !n.starts_with('0'))
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or("the first line is `old N`")?;
    let proof = lines
        .map(|l| note::parse_hash(l).ok_or_else(|| format!("`{l}` is not a base64 hash")))
        .collect::<Result<Vec<_>, _>>()?;
    if proof.len() > MAX_PROOF {
        return Err(format!("more than {MAX_PROOF} proof lines"));
    }
    let note = note::Note::parse(rest).map_err(|e| e.to_string())?;
    let checkpoint = note::Checkpoint::parse(&note.text).map_err(|e| e.to_string())?;
    Ok(Submission {
        old,
        proof,
        note,
        checkpoint,
    })
}

async fn add_checkpoint(State(w): State<Witness>, body: Bytes) -> Response {
    let s = match parse(&body) {
        Ok(s) => s,
        Err(why) => return text(StatusCode::BAD_REQUEST, format!("{why}\n")),
    };
    let origin = &s.checkpoint.origin;
    let Some(log) = w.logs.get(origin) else {
        return text(
            StatusCode::NOT_FOUND,
            format!("this witness does not follow `{origin}`\n"),
        );
    };
    match s.note.check(log) {
        note::Check::Valid(_) => {}
        note::Check::Absent => {
            return text(
                StatusCode::FORBIDDEN,
                "the checkpoint is not signed by the log's key\n",
            );
        }
        note::Check::Invalid => {
            return text(
                StatusCode::FORBIDDEN,
                "the log's signature does not verify\n",
            );
        }
    }
    let size = s.checkpoint.size;
    if s.old > size {
        return text(
            StatusCode::BAD_REQUEST,
            "the old size is larger than the checkpoint's\n",
        );
    }
    let _turn = w.turn.lock().await;
    let known = match w.store.witnessed(origin).await {
        Ok(k) => k,
        Err(e) => return text(StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")),
    };
    let known_size = known.as_ref().map_or(0, |k| k.0);
    if s.old != known_size {
        return conflict(known_size);
    }
    if size == 0 && s.checkpoint.root != merkle::empty_root() {
        return text(
            StatusCode::UNPROCESSABLE_ENTITY,
            "an empty tree has the empty root\n",
        );
    }
    let consistent = if s.old == 0 {
        s.proof.is_empty()
    } else {
        let Some(known_root) = known
            .as_ref()
            .and_then(|k| Hash::try_from(k.1.as_slice()).ok())
        else {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "the stored checkpoint is unreadable\n",
            );
        };
        merkle::verify_consistency(s.old, size, &known_root, &s.checkpoint.root, &s.proof)
    };
    if !consistent {
        tracing::warn!(%origin, old = s.old, size, "refused a checkpoint inconsistent with the one we hold");
        return text(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the checkpoint is not consistent with the one this witness holds\n",
        );
    }
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let cosig = match note::cosign(&s.note.text, &w.name, w.key.as_ref(), time) {
        Ok(c) => c,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    };
    let mut kept = s.note.clone();
    kept.sigs.retain(|sig| sig.is_by(log));
    kept.sigs.push(cosig.clone());
    match w
        .store
        .witness_advance(origin, s.old, size, &s.checkpoint.root, &kept.to_string())
        .await
    {
        Ok(true) => {
            tracing::info!(%origin, size, "cosigned");
            text(StatusCode::OK, cosig.line())
        }
        Ok(false) => match w.store.witnessed(origin).await {
            Ok(k) => conflict(k.map_or(0, |k| k.0)),
            Err(e) => text(StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")),
        },
        Err(e) => text(StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")),
    }
}

async fn vkey(State(w): State<Witness>) -> Response {
    text(StatusCode::OK, format!("{}\n", w.vkey()))
}

async fn checkpoint(State(w): State<Witness>, Path(hash): Path<String>) -> Response {
    let origin = w
        .logs
        .keys()
        .find(|o| hex::encode(Sha256::digest(o.as_bytes())) == hash);
    let Some(origin) = origin else {
        return text(StatusCode::NOT_FOUND, "no such log\n");
    };
    match w.store.witnessed(origin).await {
        Ok(Some((_, _, note))) => text(StatusCode::OK, note),
        Ok(None) => text(
            StatusCode::NOT_FOUND,
            "this witness has not cosigned that log yet\n",
        ),
        Err(e) => text(StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")),
    }
}

/// Runs `yinyom witness serve` until Ctrl-C or SIGTERM.
pub async fn serve(witness: Witness, listen: std::net::SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    // The vkey first, alone on its line, for whoever configures the logs' servers. (A
    // closed standard output must not stop the witness.)
    use std::io::Write;
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{}", witness.vkey());
    let _ = writeln!(
        out,
        "yinyom witness: listening on http://{}, following {}",
        listener.local_addr()?,
        witness.logs.keys().cloned().collect::<Vec<_>>().join(", ")
    );
    let _ = out.flush();
    axum::serve(listener, witness.router())
        .with_graceful_shutdown(crate::shutdown_signal())
        .await?;
    Ok(())
}
