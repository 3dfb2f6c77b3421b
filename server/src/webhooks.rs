//! Webhooks as Standard Webhooks (<https://www.standardwebhooks.com>) specifies them: each
//! event is posted as JSON to every endpoint of its site with the headers `webhook-id`
//! (the same on every retry), `webhook-timestamp` (unix seconds of the attempt) and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the
//! endpoint's secret `whsec_<base64>`.
//!
//! The secrets are kept sealed ([`SealKey`]): the database holds each one encrypted with
//! XChaCha20-Poly1305 under a key derived from the subject key (which lives outside the
//! database, like the signing keys), bound to its site and endpoint id, so a copy of the
//! database alone cannot forge a webhook. `yinyom webhooks rotate` gives an endpoint a new
//! secret; the old one keeps signing beside it (several space-separated signatures, as the
//! specification allows) until the overlap ends.
//!
//! Events are written to an outbox in the transaction that made them
//! ([`crate::store::webhooks::enqueue`]); [`run`], started by `yinyom serve`, delivers them:
//! at least once, a subject's events in order at each endpoint, each delivery claimed by
//! one worker among all the processes sharing the database, retried on any answer but 2xx
//! (or none within [`REQUEST_TIMEOUT`]) on the schedule [`RETRY_AFTER`], then given up.

use crate::{
    store::{
        AuditAction, Store, StoreError,
        webhooks::{Attempt, Claimed},
    },
    subjects::SubjectKey,
};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, Payload},
};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

pub use crate::store::webhooks::{Event, EventType, enqueue};

/// Secrets start with this, as Standard Webhooks libraries expect.
pub const SECRET_PREFIX: &str = "whsec_";

/// A sealed secret as stored: this, then the base64 of the 24-byte nonce and the
/// ciphertext with its tag.
pub const SEALED_PREFIX: &str = "sealed:v1:";

/// The HKDF `info` of the sealing key: a name of its own, so no other key derived from
/// the subject key is this one.
const SEAL_INFO: &[u8] = b"yinyom webhook secrets v1";

/// The key that seals endpoint secrets in the database: XChaCha20-Poly1305 (random
/// 192-bit nonces, so no counter to keep), its key derived from the subject key with
/// HKDF-SHA256 ([`SubjectKey::derive`]). Every `serve` and every CLI command that adds or
/// rotates an endpoint already has the subject key, so there is no other file to keep; the
/// derived key cannot give the subject key (or pseudonyms) back. The site and endpoint id
/// are the associated data: a sealed secret copied to another endpoint does not open.
#[derive(Clone)]
pub struct SealKey(XChaCha20Poly1305);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(…)")
    }
}

impl SealKey {
    /// The sealing key derived from `subjects`.
    pub fn of(subjects: &SubjectKey) -> Self {
        use chacha20poly1305::KeyInit;
        Self(XChaCha20Poly1305::new(&subjects.derive(SEAL_INFO).into()))
    }

    fn aad(site: &str, id: i64) -> String {
        format!("yinyom webhook endpoint {site} {id}")
    }

    /// `secret` sealed for endpoint `id` of `site`, as stored.
    pub fn seal(&self, site: &str, id: i64, secret: &str) -> Result<String, StoreError> {
        let mut nonce = [0u8; 24];
        getrandom::getrandom(&mut nonce).map_err(|e| StoreError::NoRandomness(e.to_string()))?;
        let aad = Self::aad(site, id);
        let sealed = self
            .0
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Corrupt("cannot seal a webhook secret".into()))?;
        Ok(format!(
            "{SEALED_PREFIX}{}",
            B64.encode([&nonce[..], &sealed].concat())
        ))
    }

    /// The `whsec_…` secret of endpoint `id` of `site` from its stored form; `None` if it
    /// does not open (sealed under another subject key, for another endpoint, or altered).
    /// A secret stored before sealing (`whsec_…` as is) is taken as it is until
    /// [`seal_stored`] seals it.
    pub fn open(&self, site: &str, id: i64, stored: &str) -> Option<String> {
        if stored.starts_with(SECRET_PREFIX) {
            return Some(stored.to_owned());
        }
        let raw = B64.decode(stored.strip_prefix(SEALED_PREFIX)?).ok()?;
        if raw.len() < 24 {
            return None;
        }
        let (nonce, sealed) = raw.split_at(24);
        let aad = Self::aad(site, id);
        let secret = self
            .0
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(secret).ok()
    }
}

/// Seals every endpoint secret still stored in clear (rows from before secrets were
/// sealed); how many endpoints. `yinyom serve` runs it at start, before delivering.
pub async fn seal_stored(store: &Store, key: &SealKey) -> Result<usize, StoreError> {
    let mut n = 0;
    for e in store.unsealed_webhook_secrets().await? {
        let seal = |s: &str| {
            if s.starts_with(SECRET_PREFIX) {
                key.seal(&e.site_id, e.id, s)
            } else {
                Ok(s.to_owned())
            }
        };
        let secret = seal(&e.secret)?;
        let previous = e.previous_secret.as_deref().map(seal).transpose()?;
        if store
            .reseal_webhook(e.id, &e.secret, &secret, previous.as_deref())
            .await?
        {
            n += 1;
        }
    }
    Ok(n)
}

/// How long one attempt may take (connect, send, answer).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A claim lasts this long: a worker that dies mid-attempt leaves its deliveries to
/// another after it (longer than [`REQUEST_TIMEOUT`]).
pub const LEASE: Duration = Duration::from_secs(60);

/// The wait after the n-th failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then
/// a day three times (the Standard Webhooks schedule, stretched): 11 attempts over about
/// 4 days and 23 hours, then the delivery is given up (`failed`) and the subject's next
/// event goes out.
pub const RETRY_AFTER: [Duration; 10] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(24 * 3600),
    Duration::from_secs(24 * 3600),
    Duration::from_secs(24 * 3600),
];

/// How often an idle worker looks for due deliveries.
pub const POLL: Duration = Duration::from_secs(1);

/// Deliveries claimed and sent at once by one worker.
const BATCH: i64 = 16;

/// Why an endpoint cannot be added.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// Not an http(s) URL.
    #[error("the URL must start with https:// or http:// and hold no spaces (got `{0}`)")]
    BadUrl(String),
    /// No such site.
    #[error("there is no site `{0}`")]
    UnknownSite(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new endpoint secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| StoreError::NoRandomness(e.to_string()))?;
    Ok(format!("{SECRET_PREFIX}{}", B64.encode(bytes)))
}

/// The `webhook-signature` value of a message: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` keyed with the secret's bytes. `None` if the secret is not
/// `whsec_<base64>`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = B64
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Some(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
}

/// Adds an endpoint to `site` (audited as `webhook.add` by `actor`, with its URL); its id
/// and secret, which the caller shows once and never logs. The database gets the secret
/// sealed with `key`.
pub async fn add(
    store: &Store,
    key: &SealKey,
    actor: &str,
    client: &str,
    site: &str,
    url: &str,
) -> Result<(i64, String), AddError> {
    let url = url.trim();
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    if !scheme_ok || url.len() > 2048 || url.chars().any(char::is_whitespace) || url.len() < 9 {
        return Err(AddError::BadUrl(url.to_owned()));
    }
    if store.site(site).await?.is_none() {
        return Err(AddError::UnknownSite(site.to_owned()));
    }
    let secret = new_secret()?;
    let id = store
        .add_webhook(site, url, &|id| key.seal(site, id, &secret))
        .await?;
    store
        .audit(
            actor,
            AuditAction::WebhookAdd,
            Some(site),
            &format!("{id} {url}"),
            client,
        )
        .await?;
    Ok((id, secret))
}

/// Gives endpoint `id` of `site` a new secret (audited as `webhook.rotate`, never with
/// the secrets) and returns it, to be shown once; `None` if there is no such endpoint in
/// use. The current secret keeps signing beside the new one for `overlap` (each delivery
/// then carries two signatures), so the agency's system can switch without losing an
/// event; a secret older than that stops signing.
pub async fn rotate(
    store: &Store,
    key: &SealKey,
    actor: &str,
    client: &str,
    site: &str,
    id: i64,
    overlap: Duration,
) -> Result<Option<String>, StoreError> {
    let secret = new_secret()?;
    let sealed = key.seal(site, id, &secret)?;
    let until = crate::store::now_ms() + i64::try_from(overlap.as_millis()).unwrap_or(i64::MAX);
    if !store.rotate_webhook(site, id, &sealed, until).await? {
        return Ok(None);
    }
    store
        .audit(
            actor,
            AuditAction::WebhookRotate,
            Some(site),
            &format!("{id} overlap {} s", overlap.as_secs()),
            client,
        )
        .await?;
    Ok(Some(secret))
}

/// Removes endpoint `id` of `site` (audited as `webhook.remove`); false if there is no such
/// endpoint in use.
pub async fn remove(
    store: &Store,
    actor: &str,
    client: &str,
    site: &str,
    id: i64,
) -> Result<bool, StoreError> {
    let removed = store.remove_webhook(site, id).await?;
    if removed {
        store
            .audit(
                actor,
                AuditAction::WebhookRemove,
                Some(site),
                &id.to_string(),
                client,
            )
            .await?;
    }
    Ok(removed)
}

/// Delivers due webhooks until the task is dropped (`yinyom serve` runs one per process),
/// opening the endpoints' secrets with `key`; first seals any secret still stored in
/// clear ([`seal_stored`]).
pub async fn run(store: Store, key: SealKey) {
    match seal_stored(&store, &key).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            endpoints = n,
            "webhook secrets stored in clear are now sealed"
        ),
        Err(e) => tracing::warn!(error = %e, "cannot seal the webhook secrets stored in clear"),
    }
    let agent = ureq::AgentBuilder::new()
        .timeout(REQUEST_TIMEOUT)
        .redirects(0)
        .user_agent("yinyom-webhooks")
        .build();
    loop {
        match deliver_due(&store, &key, &agent).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot deliver webhooks"),
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Claims the deliveries due now, sends them at once and records each outcome; how many.
async fn deliver_due(
    store: &Store,
    key: &SealKey,
    agent: &ureq::Agent,
) -> Result<usize, StoreError> {
    let now = crate::store::now_ms();
    let lease_until = now + LEASE.as_millis() as i64;
    let claimed = store
        .claim_webhook_deliveries(now, lease_until, BATCH)
        .await?;
    let n = claimed.len();
    let mut sending = tokio::task::JoinSet::new();
    for c in claimed {
        let (agent, key) = (agent.clone(), key.clone());
        sending.spawn_blocking(move || {
            let attempt = send(&agent, &key, &c);
            (c.id, attempt)
        });
    }
    while let Some(done) = sending.join_next().await {
        let Ok((id, attempt)) = done else {
            continue; // a panic in ureq: the lease runs out and it is tried again
        };
        if let Some(e) = &attempt.error {
            tracing::info!(delivery = id, error = %e, "webhook not delivered");
        }
        store.webhook_attempted(id, lease_until, &attempt).await?;
    }
    Ok(n)
}

/// The `webhook-signature` of a claimed delivery at `timestamp`: the current secret's
/// signature, and the previous secret's after it while a rotation's overlap lasts
/// (space-separated). `None` if a secret does not open with `key`.
fn signatures(key: &SealKey, c: &Claimed, now_ms: i64, timestamp: i64) -> Option<String> {
    let previous = match (&c.previous_secret, c.previous_until) {
        (Some(p), Some(until)) if now_ms < until => Some(p),
        _ => None,
    };
    let mut out = Vec::new();
    for stored in std::iter::once(&c.secret).chain(previous) {
        let secret = key.open(&c.site_id, c.endpoint_id, stored)?;
        out.push(sign(&secret, &c.event_id, timestamp, &c.payload)?);
    }
    Some(out.join(" "))
}

/// One attempt at a claimed delivery.
fn send(agent: &ureq::Agent, key: &SealKey, c: &Claimed) -> Attempt {
    let now = crate::store::now_ms();
    let timestamp = now / 1000;
    let failed = |status: Option<u16>, error: String| {
        let retry = usize::try_from(c.attempts)
            .ok()
            .and_then(|n| RETRY_AFTER.get(n))
            .map(|d| now + d.as_millis() as i64);
        Attempt {
            status,
            error: Some(error),
            retry_at: retry,
        }
    };
    let Some(signature) = signatures(key, c, now, timestamp) else {
        return failed(
            None,
            "the endpoint's secret does not open with this server's subject key".into(),
        );
    };
    let sent = agent
        .post(&c.url)
        .set("content-type", "application/json")
        .set("webhook-id", &c.event_id)
        .set("webhook-timestamp", &timestamp.to_string())
        .set("webhook-signature", &signature)
        .send_string(&c.payload);
    match sent {
        Ok(res) if (200..300).contains(&res.status()) => Attempt {
            status: Some(res.status()),
            error: None,
            retry_at: None,
        },
        Ok(res) => failed(Some(res.status()), format!("HTTP {}", res.status())),
        Err(ureq::Error::Status(code, _)) => failed(Some(code), format!("HTTP {code}")),
        Err(ureq::Error::Transport(t)) => failed(None, t.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn signs_as_the_specification_s_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn secrets_are_whsec_and_32_bytes() {
        let s = new_secret().expect("secret");
        let key = B64
            .decode(s.strip_prefix(SECRET_PREFIX).expect("prefix"))
            .expect("b64");
        assert_eq!(key.len(), 32);
        assert_ne!(s, new_secret().expect("another"));
    }

    #[test]
    fn sealed_secrets_open_only_for_their_endpoint_and_key() {
        let dir = tempfile::tempdir().expect("dir");
        let subjects = |name: &str| SubjectKey::generate(&dir.path().join(name)).expect("key");
        let (key, other) = (SealKey::of(&subjects("a")), SealKey::of(&subjects("b")));
        let secret = new_secret().expect("secret");
        let sealed = key.seal("demo", 7, &secret).expect("seal");
        assert!(sealed.starts_with(SEALED_PREFIX) && !sealed.contains(&secret[6..]));
        assert_ne!(
            sealed,
            key.seal("demo", 7, &secret).expect("again"),
            "a fresh nonce"
        );
        assert_eq!(key.open("demo", 7, &sealed), Some(secret.clone()));
        assert_eq!(key.open("demo", 8, &sealed), None, "another endpoint");
        assert_eq!(key.open("other", 7, &sealed), None, "another site");
        assert_eq!(other.open("demo", 7, &sealed), None, "another subject key");
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(key.open("demo", 7, &altered), None);
        // A secret stored before sealing still signs until it is sealed.
        assert_eq!(key.open("demo", 7, &secret), Some(secret.clone()));
    }

    #[test]
    fn retries_run_for_days() {
        let total: Duration = RETRY_AFTER.iter().sum();
        assert!(total > Duration::from_secs(4 * 24 * 3600), "{total:?}");
        assert!(RETRY_AFTER.windows(2).all(|w| w[0] <= w[1]));
    }
}
