//! Data-subject request cases (`subject_requests`).

use super::webhooks::{Event, EventType};
use super::{Result, Store};

/// One case as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct RequestRow {
    /// Site id.
    pub site_id: String,
    /// `<Buddhist-era year>-<number>`, e.g. `2569-000123`.
    pub reference: String,
    /// The visitor's pseudonym.
    pub subject_id: String,
    /// `RequestKind` wire name.
    pub kind: String,
    /// `Channel` wire name.
    pub channel: String,
    /// `RequestStatus` wire name.
    pub status: String,
    /// What the requester wrote.
    pub message: Option<String>,
    /// How to reach the requester (dpo/admin only).
    pub contact: Option<String>,
    /// The identity check staff made.
    pub identity_check: Option<String>,
    /// Unix ms.
    pub received_at: i64,
    /// `YYYY-MM-DD`, Thailand time.
    pub due: String,
    /// Unix ms, once closed.
    pub closed_at: Option<i64>,
    /// The refusal reason or a note on the outcome.
    pub outcome_reason: Option<String>,
}

/// A case to file.
#[derive(Debug, Clone)]
pub struct NewRequest<'a> {
    /// Site id.
    pub site: &'a str,
    /// Buddhist-era year of receipt (the reference's first part).
    pub be_year: i64,
    /// The visitor's pseudonym.
    pub subject_id: &'a str,
    /// Kind.
    pub kind: &'a str,
    /// Channel.
    pub channel: &'a str,
    /// Initial status.
    pub status: &'a str,
    /// Message.
    pub message: Option<&'a str>,
    /// Contact.
    pub contact: Option<&'a str>,
    /// Identity check made at intake.
    pub identity_check: Option<&'a str>,
    /// Unix ms.
    pub received_at: i64,
    /// Due day.
    pub due: &'a str,
}

/// A step of a case: from one status to the next.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    /// The status the case must have.
    pub from: &'a str,
    /// The new status.
    pub to: &'a str,
    /// The identity check made (when `to` is `identity_checked`).
    pub identity_check: Option<&'a str>,
    /// When it closed (a closing step).
    pub closed_at: Option<i64>,
    /// The refusal reason or a note.
    pub reason: Option<&'a str>,
}

const COLUMNS: &str = "site_id, reference, subject_id, kind, channel, status, message, contact, \
     identity_check, received_at, due, closed_at, outcome_reason";

/// The reference of number `n` in year `be_year`.
pub fn reference(be_year: i64, n: i64) -> String {
    format!("{be_year}-{n:06}")
}

impl Store {
    /// Files a case, numbering it after the site's last one of the year. Returns its row.
    pub async fn insert_request(&self, r: &NewRequest<'_>) -> Result<RequestRow> {
        // Two processes may read the same last number: the unique key refuses the second,
        // which tries the next number.
        let mut tries = 0;
        let n = loop {
            tries += 1;
            let done: Result<i64> = on_pool!(self, pool => in_transaction!(pool, |tx| {
                let last: Option<i64> = sqlx::query_scalar(
                    "select max(number) from subject_requests where site_id = $1 and be_year = $2",
                )
                .bind(r.site)
                .bind(r.be_year)
                .fetch_one(&mut *tx)
                .await?;
                let n = last.unwrap_or(0) + 1;
                let reference = reference(r.be_year, n);
                sqlx::query(
                    "insert into subject_requests (site_id, reference, be_year, number, subject_id,
                     kind, channel, status, message, contact, identity_check, received_at, due)
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(r.site)
                .bind(&reference)
                .bind(r.be_year)
                .bind(n)
                .bind(r.subject_id)
                .bind(r.kind)
                .bind(r.channel)
                .bind(r.status)
                .bind(r.message)
                .bind(r.contact)
                .bind(r.identity_check)
                .bind(r.received_at)
                .bind(r.due)
                .execute(&mut *tx)
                .await?;
                // The site's back-office hears of it from the same transaction (never the
                // message or the contact: those stay with the DPO).
                let event = Event {
                    kind: EventType::RequestCreated,
                    site: r.site.to_owned(),
                    subject: r.subject_id.to_owned(),
                    data: serde_json::json!({
                        "reference": reference, "kind": r.kind, "channel": r.channel,
                        "status": r.status, "subject": r.subject_id,
                        "received_at": crate::dates::rfc3339_ms(r.received_at), "due": r.due,
                    }),
                };
                super::webhooks::enqueue(&mut *tx, &event).await?;
                tx.commit().await?;
                Ok(n)
            }));
            match done {
                Ok(n) => break n,
                Err(super::StoreError::Db(sqlx::Error::Database(e)))
                    if e.is_unique_violation() && tries < 20 => {}
                Err(e) => return Err(e),
            }
        };
        self.request(r.site, &reference(r.be_year, n))
            .await?
            .ok_or_else(|| super::StoreError::Corrupt("a filed request is not found".into()))
    }

    /// The visitor's cases on `site` under either id, newest first.
    pub async fn subject_requests(
        &self,
        site: &str,
        subject_ids: &[String; 2],
    ) -> Result<Vec<RequestRow>> {
        let rows = on_pool!(self, pool => sqlx::query_as(&format!(
            "select {COLUMNS} from subject_requests
             where site_id = $1 and subject_id in ($2, $3)
             order by received_at desc, number desc"
        ))
        .bind(site)
        .bind(&subject_ids[0])
        .bind(&subject_ids[1])
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// Every case of `site`: open ones first by due date, then closed ones, newest first.
    pub async fn site_requests(&self, site: &str) -> Result<Vec<RequestRow>> {
        let rows = on_pool!(self, pool => sqlx::query_as(&format!(
            "select {COLUMNS} from subject_requests where site_id = $1
             order by case when closed_at is null then 0 else 1 end, due,
             received_at desc, number"
        ))
        .bind(site)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// One case.
    pub async fn request(&self, site: &str, reference: &str) -> Result<Option<RequestRow>> {
        let row = on_pool!(self, pool => sqlx::query_as(&format!(
            "select {COLUMNS} from subject_requests where site_id = $1 and reference = $2"
        ))
        .bind(site)
        .bind(reference)
        .fetch_optional(pool)
        .await)?;
        Ok(row)
    }

    /// Moves a case one step, if it still has the status `step.from`. Whether it moved. A
    /// closing step sends `request.closed` to the site's webhooks in the same transaction.
    pub async fn step_request(&self, site: &str, reference: &str, step: &Step<'_>) -> Result<bool> {
        on_pool!(self, pool => in_transaction!(pool, |tx| {
            let done = sqlx::query(
                "update subject_requests set status = $1,
                 identity_check = coalesce($2, identity_check),
                 closed_at = coalesce($3, closed_at),
                 outcome_reason = coalesce($4, outcome_reason)
                 where site_id = $5 and reference = $6 and status = $7",
            )
            .bind(step.to)
            .bind(step.identity_check)
            .bind(step.closed_at)
            .bind(step.reason)
            .bind(site)
            .bind(reference)
            .bind(step.from)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 1 && step.closed_at.is_some() {
                let (subject, kind): (String, String) = sqlx::query_as(
                    "select subject_id, kind from subject_requests where site_id = $1 and reference = $2",
                )
                .bind(site)
                .bind(reference)
                .fetch_one(&mut *tx)
                .await?;
                let event = Event {
                    kind: EventType::RequestClosed,
                    site: site.to_owned(),
                    subject: subject.clone(),
                    data: serde_json::json!({
                        "reference": reference, "kind": kind, "status": step.to,
                        "reason": step.reason, "subject": subject,
                        "closed_at": step.closed_at.map(crate::dates::rfc3339_ms),
                    }),
                };
                super::webhooks::enqueue(&mut *tx, &event).await?;
            }
            tx.commit().await?;
            Ok(done == 1)
        }))
    }

    /// The ids of `site`'s receipts from before pseudonyms (the visitor's raw secret: not
    /// shaped like a 32-digit pseudonym), each once. A case knows only the pseudonym, so
    /// its subject's older receipts are found by hashing these ([`crate::requests`]).
    pub async fn legacy_subject_ids(&self, site: &str) -> Result<Vec<String>> {
        let ids = on_pool!(self, pool => sqlx::query_scalar(
            "select distinct subject_id from receipts where site_id = $1 and length(subject_id) <> 32",
        )
        .bind(site)
        .fetch_all(pool)
        .await)?;
        Ok(ids)
    }

    /// The audit log entries of case `reference` of `site` (filed, each step, withdrawals
    /// on the subject's behalf, exports), oldest first: the case's history.
    pub async fn request_history(
        &self,
        site: &str,
        reference: &str,
    ) -> Result<Vec<super::AuditRow>> {
        let rows = on_pool!(self, pool => sqlx::query_as(
            "select id, at, actor, action, site_id, detail, client from audit_log
             where site_id = $1 and action like 'request.%' and detail like $2
             order by id",
        )
        .bind(site)
        .bind(format!("reference={reference} %"))
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }
}
