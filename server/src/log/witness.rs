//! The server's side of witnessing (C2SP tlog-witness): which witnesses cosign our
//! checkpoints, how many must (the policy, C2SP tlog-policy), and submitting each new
//! checkpoint to them with a consistency proof from the one they last cosigned.

use super::{consistency_hashes, merkle::empty_root, note, signed};
use crate::store::{Store, StoreError};

/// How long a witness may take to answer.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// One witness: its cosignature vkey and its submission prefix (`<url>/add-checkpoint`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    /// Its verifier key (signature type 0x04, cosignature v1).
    pub vkey: note::Vkey,
    /// Its submission prefix.
    pub url: String,
}

/// The witnesses of this server's logs and how many must cosign a checkpoint before it is
/// served (`serve --witness VKEY=URL … --witness-quorum K`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Witnesses {
    /// The witnesses.
    pub list: Vec<Witness>,
    /// Cosignatures a served checkpoint needs (0 when there is no witness).
    pub quorum: usize,
}

impl Witnesses {
    /// Reads `VKEY=URL` items and the quorum (default: 1 when there are witnesses).
    pub fn parse(items: &[String], quorum: Option<usize>) -> Result<Self, String> {
        let mut list: Vec<Witness> = Vec::new();
        for item in items {
            let (vkey, url) = item
                .split_once("=http")
                .map(|(v, u)| (v, format!("http{u}")))
                .ok_or_else(|| format!("`{item}`: a witness is VKEY=URL (http:// or https://)"))?;
            let vkey = note::Vkey::parse(vkey).map_err(|e| format!("witness {vkey}: {e}"))?;
            if vkey.sig_type != note::SIG_COSIGNATURE_V1 {
                return Err(format!(
                    "witness {vkey}: a witness key is a cosignature key (type 0x04), as `yinyom witness serve` prints it"
                ));
            }
            if list
                .iter()
                .any(|w| w.vkey.name == vkey.name || w.vkey.key == vkey.key)
            {
                return Err(format!("witness {} is given twice", vkey.name));
            }
            list.push(Witness {
                vkey,
                url: url.trim_end_matches('/').to_owned(),
            });
        }
        let quorum = match quorum {
            _ if list.is_empty() => 0,
            None => 1,
            Some(k) if (1..=list.len()).contains(&k) => k,
            Some(k) => {
                return Err(format!(
                    "--witness-quorum {k}: between 1 and the number of witnesses ({})",
                    list.len()
                ));
            }
        };
        Ok(Self { list, quorum })
    }

    /// The witnesses' vkeys, as stored beside their cosignatures.
    pub fn vkeys(&self) -> Vec<String> {
        self.list.iter().map(|w| w.vkey.to_string()).collect()
    }

    /// The C2SP tlog-policy of `log` (its vkey): the log, the witnesses and the quorum.
    pub fn policy(&self, log: &note::Vkey) -> String {
        let mut out = format!("log {log}\n");
        for w in &self.list {
            out.push_str(&format!("witness {} {} {}\n", w.vkey.name, w.vkey, w.url));
        }
        match self.list.as_slice() {
            [] => out.push_str("quorum none\n"),
            [only] => out.push_str(&format!("quorum {}\n", only.vkey.name)),
            all => {
                let names: Vec<&str> = all.iter().map(|w| w.vkey.name.as_str()).collect();
                out.push_str(&format!(
                    "group witnesses {} {}\nquorum witnesses\n",
                    self.quorum,
                    names.join(" ")
                ));
            }
        }
        out
    }
}

/// What a witness answered to one submission.
enum Answer {
    /// Its cosignature lines.
    Cosigned(String),
    /// 409: the size of the checkpoint it last cosigned.
    Conflict(u64),
    /// Anything else.
    Refused(String),
}

/// The newest checkpoint of the log `origin` that `w` cosigned, as the witness serves it
/// (`GET <url>/<hex SHA-256 of the origin>/checkpoint`, as `yinyom witness serve` does),
/// once its cosignature verifies with the witness's vkey. `Ok(None)`: the witness has
/// not cosigned that log yet (404). Blocking (an HTTP request).
pub fn latest_cosigned(w: &Witness, origin: &str) -> Result<Option<String>, String> {
    use sha2::Digest as _;
    let url = format!(
        "{}/{}/checkpoint",
        w.url,
        hex::encode(sha2::Sha256::digest(origin.as_bytes()))
    );
    let agent = ureq::AgentBuilder::new().timeout(TIMEOUT).build();
    let text = match agent.get(&url).call() {
        Ok(res) => res.into_string().map_err(|e| format!("{url}: {e}"))?,
        Err(ureq::Error::Status(404, _)) => return Ok(None),
        Err(e) => return Err(format!("{url}: {e}")),
    };
    let parsed = note::Note::parse(&text).map_err(|e| format!("{url}: not a signed note: {e}"))?;
    match parsed.check(&w.vkey) {
        note::Check::Valid(_) => Ok(Some(text)),
        note::Check::Absent => Err(format!(
            "{url}: the checkpoint is not cosigned by {}",
            w.vkey.name
        )),
        note::Check::Invalid => Err(format!(
            "{url}: the cosignature of {} does not verify",
            w.vkey.name
        )),
    }
}

fn post(url: &str, body: String) -> Answer {
    let agent = ureq::AgentBuilder::new().timeout(TIMEOUT).build();
    match agent
        .post(&format!("{url}/add-checkpoint"))
        .set("content-type", "text/plain; charset=utf-8")
        .send_string(&body)
    {
        Ok(res) => match res.into_string() {
            Ok(s) => Answer::Cosigned(s),
            Err(e) => Answer::Refused(e.to_string()),
        },
        Err(ureq::Error::Status(409, res)) => {
            let text = res.into_string().unwrap_or_default();
            match text.trim().parse() {
                Ok(size) => Answer::Conflict(size),
                Err(_) => Answer::Refused(format!("409 without a tree size: {text}")),
            }
        }
        Err(ureq::Error::Status(code, res)) => Answer::Refused(format!(
            "{code}: {}",
            res.into_string().unwrap_or_default().trim()
        )),
        Err(e) => Answer::Refused(e.to_string()),
    }
}

/// The `add-checkpoint` body: old size, consistency proof, blank line, checkpoint.
async fn request(
    store: &Store,
    site: &str,
    old: u64,
    size: u64,
    note: &str,
) -> Result<Option<String>, StoreError> {
    let proof = if old == 0 {
        Vec::new()
    } else {
        match consistency_hashes(store, site, old, size).await? {
            Some(p) => p,
            None => return Ok(None),
        }
    };
    let mut body = format!("old {old}\n");
    for h in &proof {
        body.push_str(&note::hash_b64(h));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(note);
    Ok(Some(body))
}

/// Asks one witness to cosign the checkpoint (`text` is its note text): returns the
/// verified cosignature line.
async fn ask(
    store: &Store,
    site: &str,
    w: &Witness,
    cp: &super::SignedCheckpoint,
    text: &str,
) -> Result<Option<String>, StoreError> {
    let size = cp.checkpoint.size;
    let mut old = store
        .witness_size(site, &w.vkey.to_string())
        .await?
        .unwrap_or(0);
    if old >= size {
        return Ok(None);
    }
    // A witness that knows a size we do not expect says so (409); try once more from it.
    for _ in 0..2 {
        let Some(body) = request(store, site, old, size, &cp.note).await? else {
            return Ok(None);
        };
        let url = w.url.clone();
        let answer = tokio::task::spawn_blocking(move || post(&url, body))
            .await
            .map_err(|e| StoreError::Stopped(format!("witness request: {e}")))?;
        match answer {
            Answer::Cosigned(lines) => {
                let line = lines
                    .lines()
                    .filter_map(|l| note::Signature::parse(l).ok())
                    .find(|s| s.verify(&w.vkey, text).is_some());
                if line.is_none() {
                    tracing::warn!(%site, witness = %w.vkey.name, "the witness's answer holds no valid cosignature");
                }
                return Ok(line.map(|s| s.line()));
            }
            Answer::Conflict(known) if known < size && known != old => old = known,
            Answer::Conflict(known) => {
                tracing::warn!(%site, witness = %w.vkey.name, known, size, "the witness has seen a tree we cannot extend");
                return Ok(None);
            }
            Answer::Refused(why) => {
                tracing::warn!(%site, witness = %w.vkey.name, %why, "the witness did not cosign");
                return Ok(None);
            }
        }
    }
    Ok(None)
}

/// Submits the site's newest checkpoint to every witness that has not cosigned it, at
/// once, and stores the cosignatures. Returns how many were added.
pub async fn round(store: &Store, witnesses: &Witnesses, site: &str) -> Result<usize, StoreError> {
    let Some(row) = store.latest_checkpoint(site).await? else {
        return Ok(0);
    };
    let cp = signed(&row)?;
    if cp.checkpoint.size == 0 && cp.checkpoint.root != empty_root() {
        return Ok(0);
    }
    let text = cp.checkpoint.text();
    let asks = witnesses
        .list
        .iter()
        .map(|w| ask(store, site, w, &cp, &text));
    let answers = futures_util::future::join_all(asks).await;
    let mut lines = Vec::new();
    for (w, a) in witnesses.list.iter().zip(answers) {
        match a {
            Ok(Some(line)) => lines.push((w.vkey.to_string(), line)),
            Ok(None) => {}
            Err(e) => tracing::warn!(%site, witness = %w.vkey.name, error = %e, "witness round"),
        }
    }
    store
        .add_cosignatures(site, cp.checkpoint.size, &lines)
        .await?;
    Ok(lines.len())
}
