//! Webhooks as Standard Webhooks (<https://www.standardwebhooks.com>) specifies them: each
//! event is posted as JSON to every endpoint of its site with the headers `webhook-id`
//! (the same on every retry), `webhook-timestamp` (unix seconds of the attempt) and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the
//! endpoint's secret `whsec_<base64>`.
//!
//! Events are written to an outbox in the transaction that made them
//! ([`crate::store::webhooks::enqueue`]); [`run`], started by `yinyom serve`, delivers them:
//! at least once, a subject's events in order at each endpoint, each delivery claimed by
//! one worker among all the processes sharing the database, retried on any answer but 2xx
//! (or none within [`REQUEST_TIMEOUT`]) on the schedule [`RETRY_AFTER`], then given up.

use crate::store::{
    AuditAction, Store, StoreError,
    webhooks::{Attempt, Claimed},
};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

pub use crate::store::webhooks::{Event, EventType, enqueue};

/// Secrets start with this, as Standard Webhooks libraries expect.
pub const SECRET_PREFIX: &str = "whsec_";

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
/// and secret, which the caller shows once and never logs.
pub async fn add(
    store: &Store,
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
    let id = store.add_webhook(site, url, &secret).await?;
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

/// Delivers due webhooks until the task is dropped (`yinyom serve` runs one per process).
pub async fn run(store: Store) {
    let agent = ureq::AgentBuilder::new()
        .timeout(REQUEST_TIMEOUT)
        .redirects(0)
        .user_agent("yinyom-webhooks")
        .build();
    loop {
        match deliver_due(&store, &agent).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot deliver webhooks"),
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Claims the deliveries due now, sends them at once and records each outcome; how many.
async fn deliver_due(store: &Store, agent: &ureq::Agent) -> Result<usize, StoreError> {
    let now = crate::store::now_ms();
    let lease_until = now + LEASE.as_millis() as i64;
    let claimed = store
        .claim_webhook_deliveries(now, lease_until, BATCH)
        .await?;
    let n = claimed.len();
    let mut sending = tokio::task::JoinSet::new();
    for c in claimed {
        let agent = agent.clone();
        sending.spawn_blocking(move || {
            let attempt = send(&agent, &c);
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

/// One attempt at a claimed delivery.
fn send(agent: &ureq::Agent, c: &Claimed) -> Attempt {
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
    let Some(signature) = sign(&c.secret, &c.event_id, timestamp, &c.payload) else {
        return failed(None, "the endpoint's secret is not whsec_<base64>".into());
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
    fn retries_run_for_days() {
        let total: Duration = RETRY_AFTER.iter().sum();
        assert!(total > Duration::from_secs(4 * 24 * 3600), "{total:?}");
        assert!(RETRY_AFTER.windows(2).all(|w| w[0] <= w[1]));
    }
}
