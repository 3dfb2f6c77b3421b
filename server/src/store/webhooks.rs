//! Webhooks (Standard Webhooks): each site's endpoints, the outbox of events written in
//! the transaction that made them, and their deliveries, which workers of any number of
//! processes claim (a lease, and `FOR UPDATE SKIP LOCKED` on PostgreSQL), send and mark.

use super::conn::{Conn, Statement};
use super::{Backend, Result, Store, StoreError, now_ms, rfc3339_ms};
use sqlx::QueryBuilder;
use yinyom_model::receipt::{Event as ReceiptEvent, Receipt};

/// What happened, as a webhook's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// A receipt was recorded (given, refused or changed consent).
    ConsentRecorded,
    /// A subject withdrew consent.
    ConsentWithdrawn,
    /// A data-subject request was received.
    RequestCreated,
    /// A data-subject request was closed.
    RequestClosed,
}

impl EventType {
    /// The `type` field of the payload.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConsentRecorded => "consent.recorded",
            Self::ConsentWithdrawn => "consent.withdrawn",
            Self::RequestCreated => "request.created",
            Self::RequestClosed => "request.closed",
        }
    }
}

/// An event to send to a site's endpoints.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Its type.
    pub kind: EventType,
    /// The site whose endpoints receive it.
    pub site: String,
    /// The subject it is about: one subject's events reach each endpoint in order.
    pub subject: String,
    /// The payload's `data`.
    pub data: serde_json::Value,
}

impl Event {
    /// `consent.recorded` (or `consent.withdrawn`) for a receipt just written.
    pub fn of_receipt(r: &Receipt) -> Self {
        let kind = if r.event == ReceiptEvent::Withdrawn {
            EventType::ConsentWithdrawn
        } else {
            EventType::ConsentRecorded
        };
        Self {
            kind,
            site: r.site.to_string(),
            subject: r.subject_id.clone(),
            data: serde_json::json!({
                "site": r.site,
                "subject": r.subject_id,
                "receipt_id": r.receipt_id,
                "event": r.event.as_str(),
                "method": r.method.as_str(),
                "notice_version": r.notice.version,
                "issued_at": r.issued_at,
                "valid_until": r.valid_until,
                "categories": r.categories,
                "purposes": r.purposes,
            }),
        }
    }

    /// The body sent, as Standard Webhooks shapes it: `{"type", "timestamp", "data"}`.
    pub fn payload(&self, at_ms: i64) -> Result<String> {
        super::to_json(&serde_json::json!({
            "type": self.kind.as_str(),
            "timestamp": rfc3339_ms(at_ms),
            "data": self.data,
        }))
    }
}

/// Writes `event` to the outbox inside the caller's transaction (`&mut *tx`), one delivery
/// per endpoint the site has now; nothing when it has none. Commits with the caller's
/// transaction or not at all. Whether anything was written.
pub async fn enqueue<C: Conn>(conn: &mut C, event: &Event) -> Result<bool> {
    let now = now_ms();
    let id = format!("msg_{}", uuid::Uuid::now_v7().simple());
    let payload = event.payload(now)?;
    let written = conn
        .run(&Statement::with(
            "insert into webhook_events (id, site_id, type, subject, payload, created_at)
             select $1, $2, $3, $4, $5, $6
             where exists (select 1 from webhook_endpoints where site_id = $2 and removed_at is null)",
            vec![
                (&id).into(),
                (&event.site).into(),
                event.kind.as_str().into(),
                (&event.subject).into(),
                payload.into(),
                now.into(),
            ],
        ))
        .await?;
    if written == 0 {
        return Ok(false);
    }
    conn.run(&Statement::with(
        "insert into webhook_deliveries
            (event_id, endpoint_id, subject, status, attempts, next_at, created_at)
         select $1, id, $2, 'pending', 0, $3, $3 from webhook_endpoints
         where site_id = $4 and removed_at is null order by id",
        vec![
            id.into(),
            (&event.subject).into(),
            now.into(),
            (&event.site).into(),
        ],
    ))
    .await?;
    Ok(true)
}

/// A site's webhook endpoint as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct EndpointRow {
    /// Id (what `webhooks remove --id` takes).
    pub id: i64,
    /// Site.
    pub site_id: String,
    /// Where events are posted.
    pub url: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms, when removed.
    pub removed_at: Option<i64>,
}

/// A delivery, as the console's delivery log shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct DeliveryRow {
    /// Id (enqueue order).
    pub id: i64,
    /// The `webhook-id`.
    pub event_id: String,
    /// The event's type.
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    /// The endpoint's id and URL.
    pub endpoint_id: i64,
    /// The endpoint's URL.
    pub url: String,
    /// `pending`, `delivered` or `failed` (gave up, or the endpoint was removed).
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// The next attempt is not before (unix ms; pending only).
    pub next_at: i64,
    /// The last attempt's HTTP status.
    pub last_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Unix ms.
    pub delivered_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
}

/// A claimed delivery, with what sending it needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    /// The delivery's id.
    pub id: i64,
    /// The endpoint's site.
    pub site_id: String,
    /// The endpoint's id.
    pub endpoint_id: i64,
    /// Attempts made before this one.
    pub attempts: i64,
    /// The `webhook-id`.
    pub event_id: String,
    /// The body.
    pub payload: String,
    /// The endpoint's URL.
    pub url: String,
    /// The endpoint's secret as stored (sealed: `crate::webhooks::SealKey` opens it).
    pub secret: String,
    /// The secret before the last rotation, as stored.
    pub previous_secret: Option<String>,
    /// Until when (unix ms) the previous secret signs too.
    pub previous_until: Option<i64>,
}

/// An endpoint's secrets as stored, for sealing those still in clear.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredSecrets {
    /// The endpoint's id.
    pub id: i64,
    /// Its site.
    pub site_id: String,
    /// The current secret as stored.
    pub secret: String,
    /// The previous one, as stored.
    pub previous_secret: Option<String>,
}

/// The outcome of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The HTTP status, if the endpoint answered.
    pub status: Option<u16>,
    /// Why it failed; `None` when delivered.
    pub error: Option<String>,
    /// When to try again (unix ms); `None` after a success, or to give up.
    pub retry_at: Option<i64>,
}

impl Store {
    /// Adds an endpoint to `site`, its secret stored as `seal` gives it for the new id
    /// (one transaction: the row never holds anything else); its id.
    pub async fn add_webhook(
        &self,
        site: &str,
        url: &str,
        seal: &(dyn Fn(i64) -> Result<String> + Sync),
    ) -> Result<i64> {
        let now = now_ms();
        let _turn = self.write_turn().await;
        on_pool!(self, pool => in_transaction!(pool, |tx| {
            let id: i64 = sqlx::query_scalar(
                "insert into webhook_endpoints (site_id, url, secret, created_at) values ($1, $2, '', $3) returning id",
            )
            .bind(site)
            .bind(url)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("update webhook_endpoints set secret = $1 where id = $2")
                .bind(seal(id)?)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(id)
        }))
    }

    /// Endpoint `id` of `site` (in use) gets the secret `sealed`; its current secret
    /// becomes the previous one, which signs too until `previous_until` (unix ms). False
    /// if there is no such endpoint in use.
    pub async fn rotate_webhook(
        &self,
        site: &str,
        id: i64,
        sealed: &str,
        previous_until: i64,
    ) -> Result<bool> {
        let _turn = self.write_turn().await;
        let n = on_pool!(self, pool => sqlx::query(
            "update webhook_endpoints set previous_secret = secret, previous_until = $1, secret = $2
             where id = $3 and site_id = $4 and removed_at is null",
        )
        .bind(previous_until)
        .bind(sealed)
        .bind(id)
        .bind(site)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// The endpoints whose current or previous secret is still stored in clear.
    pub async fn unsealed_webhook_secrets(&self) -> Result<Vec<StoredSecrets>> {
        let rows = on_pool!(self, pool => sqlx::query_as(
            "select id, site_id, secret, previous_secret from webhook_endpoints
             where substr(secret, 1, 6) = 'whsec_' or substr(previous_secret, 1, 6) = 'whsec_'
             order by id",
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// Stores endpoint `id`'s secrets sealed, unless its secret changed since it was read
    /// as `was`; whether it did.
    pub async fn reseal_webhook(
        &self,
        id: i64,
        was: &str,
        secret: &str,
        previous: Option<&str>,
    ) -> Result<bool> {
        let _turn = self.write_turn().await;
        let n = on_pool!(self, pool => sqlx::query(
            "update webhook_endpoints set secret = $1, previous_secret = $2 where id = $3 and secret = $4",
        )
        .bind(secret)
        .bind(previous)
        .bind(id)
        .bind(was)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// The endpoints of `site` (every site: `None`), removed ones too, oldest first.
    pub async fn webhooks(&self, site: Option<&str>) -> Result<Vec<EndpointRow>> {
        let rows = on_pool!(self, pool => sqlx::query_as(
            "select id, site_id, url, created_at, removed_at from webhook_endpoints
             where $1 is null or site_id = $1 order by id",
        )
        .bind(site)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// Removes endpoint `id` of `site`: nothing more is sent to it, and its pending
    /// deliveries are given up. False if there is no such endpoint in use.
    pub async fn remove_webhook(&self, site: &str, id: i64) -> Result<bool> {
        let now = now_ms();
        let _turn = self.write_turn().await;
        on_pool!(self, pool => in_transaction!(pool, |tx| {
            let n = sqlx::query(
                "update webhook_endpoints set removed_at = $1 where id = $2 and site_id = $3 and removed_at is null",
            )
            .bind(now)
            .bind(id)
            .bind(site)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(
                "update webhook_deliveries set status = 'failed', last_error = 'endpoint removed', lease_until = null
                 where endpoint_id = $1 and status = 'pending'",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(n > 0)
        }))
    }

    /// The newest deliveries to `site`'s endpoints, at most `limit`.
    pub async fn webhook_deliveries(&self, site: &str, limit: i64) -> Result<Vec<DeliveryRow>> {
        let rows = on_pool!(self, pool => sqlx::query_as(
            "select d.id, d.event_id, e.type, d.endpoint_id, p.url, d.status, d.attempts, d.next_at,
                    d.last_status, d.last_error, d.delivered_at, d.created_at
             from webhook_deliveries d
             join webhook_events e on e.id = d.event_id
             join webhook_endpoints p on p.id = d.endpoint_id
             where p.site_id = $1 order by d.id desc limit $2",
        )
        .bind(site)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// Claims up to `limit` deliveries due at `now` until `lease_until`: pending, not
    /// leased by a live worker, and the first pending one of their subject at their
    /// endpoint (a subject's later event waits until the earlier one is delivered or given
    /// up). One statement, so two workers never claim the same delivery: SQLite has one
    /// writer; PostgreSQL skips rows another worker is claiming.
    pub async fn claim_webhook_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<Claimed>> {
        let lock = match self.backend() {
            Backend::Postgres => " for update skip locked",
            Backend::Sqlite => "",
        };
        let claim = format!(
            "update webhook_deliveries set lease_until = $1
             where id in (
                 select d.id from webhook_deliveries d
                 where d.status = 'pending' and d.next_at <= $2
                   and (d.lease_until is null or d.lease_until <= $2)
                   and not exists (
                       select 1 from webhook_deliveries e
                       where e.endpoint_id = d.endpoint_id and e.subject = d.subject
                         and e.status = 'pending' and e.id < d.id)
                 order by d.id limit $3{lock})
             returning id"
        );
        // A read first: an idle worker (most of the time) takes no write lock.
        let due: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
            "select id from webhook_deliveries where status = 'pending' and next_at <= $1 limit 1",
        )
        .bind(now)
        .fetch_optional(pool)
        .await)?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = {
            let _turn = self.write_turn().await;
            on_pool!(self, pool => sqlx::query_scalar(&claim)
                .bind(lease_until)
                .bind(now)
                .bind(limit)
                .fetch_all(pool)
                .await)?
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<Claimed> = on_pool!(self, pool => {
            let mut q = QueryBuilder::new(
                "select d.id, p.site_id, d.endpoint_id, d.attempts, d.event_id, e.payload, p.url,
                        p.secret, p.previous_secret, p.previous_until
                 from webhook_deliveries d
                 join webhook_events e on e.id = d.event_id
                 join webhook_endpoints p on p.id = d.endpoint_id
                 where d.id in (",
            );
            let mut list = q.separated(", ");
            for id in &ids {
                list.push_bind(*id);
            }
            q.push(") order by d.id");
            q.build_query_as().fetch_all(pool).await
        })?;
        if rows.len() != ids.len() {
            return Err(StoreError::Corrupt(
                "a claimed webhook delivery has no event or endpoint".into(),
            ));
        }
        Ok(rows)
    }

    /// Records the outcome of an attempt at delivery `id`, claimed until `lease_until`
    /// (if the lease ran out and another worker took it, that worker's outcome counts).
    pub async fn webhook_attempted(&self, id: i64, lease_until: i64, a: &Attempt) -> Result<()> {
        let now = now_ms();
        let (status, next_at, delivered_at) = match (&a.error, a.retry_at) {
            (None, _) => ("delivered", now, Some(now)),
            (Some(_), Some(at)) => ("pending", at, None),
            (Some(_), None) => ("failed", now, None),
        };
        let _turn = self.write_turn().await;
        on_pool!(self, pool => sqlx::query(
            "update webhook_deliveries set status = $1, attempts = attempts + 1, next_at = $2,
                 lease_until = null, last_status = $3, last_error = $4, delivered_at = $5
             where id = $6 and lease_until = $7",
        )
        .bind(status)
        .bind(next_at)
        .bind(a.status.map(i64::from))
        .bind(a.error.as_deref())
        .bind(delivered_at)
        .bind(id)
        .bind(lease_until)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }
}
