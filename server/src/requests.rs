//! Data-subject request cases: filing (from the widget with the visitor's secret, or by
//! staff for a request that came by post, e-mail or in person), the answer a visitor sees,
//! and each step of the case, audited. The rules of the states are the model's
//! ([`RequestStatus::may_become`]).

use crate::{
    dates::{DAY_MS, buddhist_year, day_name, now_ms, rfc3339_th, thailand_day},
    error::{ApiError, ApiResult},
    store::{
        AuditAction, RequestRow, Store, StoredReceipt,
        requests::{NewRequest, Step},
    },
    subjects::SubjectKey,
};
use yinyom_model::notice::PublishedNotice;
use yinyom_model::request::{
    ANSWER_DAYS, Channel, RefusalReason, RequestKind, RequestStatus, SubjectRequestAnswer,
    SubjectRequestBody,
};

/// Longest identity-check note staff write.
pub const MAX_IDENTITY_CHECK_CHARS: usize = 500;

/// The day an answer is due for a request received at `ms`: the Thailand day
/// [`ANSWER_DAYS`] later.
pub fn due_day(ms: i64) -> String {
    day_name(thailand_day(ms + ANSWER_DAYS * DAY_MS))
}

/// Days from the Thailand day of `now_ms` to the case's due day: negative once overdue;
/// `None` if the stored due day is unreadable.
pub fn days_left(row: &RequestRow, now_ms: i64) -> Option<i64> {
    let due = time::Date::parse(
        &row.due,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()?;
    // Julian day 2,440,588 is 1970-01-01, day 0 of `thailand_day`.
    Some(i64::from(due.to_julian_day()) - 2_440_588 - thailand_day(now_ms))
}

/// Who files a case.
#[derive(Debug, Clone, Copy)]
pub enum Intake<'a> {
    /// The visitor, from the widget: the secret proves them.
    Web,
    /// Staff, for a request by post, e-mail or in person, with the identity check made
    /// (if any) and who entered it.
    Staff {
        /// How it came.
        channel: Channel,
        /// The identity check made.
        identity_check: Option<&'a str>,
        /// Who entered it (for the audit log).
        actor: &'a str,
        /// From where.
        client: &'a str,
    },
}

/// Files a request of the visitor whose browser holds `secret` on `site`.
pub async fn file(
    store: &Store,
    subjects: &SubjectKey,
    site: &str,
    secret: &str,
    body: SubjectRequestBody,
    intake: Intake<'_>,
) -> ApiResult<RequestRow> {
    let body = body.checked().map_err(ApiError::BadRequest)?;
    let secret = secret.to_ascii_lowercase();
    if !yinyom_model::receipt::is_subject_id(&secret) {
        return Err(ApiError::BadRequest(
            "subject_id must be 16-64 characters of A-Z, a-z, 0-9, - or _".into(),
        ));
    }
    // Staff may enter the pseudonym shown in receipts (a visitor who came in person with
    // their receipt) or the secret the visitor read from their browser.
    let subject = match intake {
        Intake::Staff { .. } if crate::subjects::is_pseudonym(&secret) => secret.clone(),
        _ => subjects.pseudonym(&secret),
    };
    let (channel, identity_check) = match intake {
        Intake::Web => (Channel::Web, None),
        Intake::Staff {
            channel,
            identity_check,
            ..
        } => {
            let check = identity_check.map(str::trim).filter(|c| !c.is_empty());
            if check.is_some_and(|c| c.chars().count() > MAX_IDENTITY_CHECK_CHARS) {
                return Err(ApiError::BadRequest(format!(
                    "identity_check must be at most {MAX_IDENTITY_CHECK_CHARS} characters"
                )));
            }
            (channel, check)
        }
    };
    let status = if identity_check.is_some() {
        RequestStatus::IdentityChecked
    } else {
        RequestStatus::Received
    };
    let now = now_ms();
    let due = due_day(now);
    let row = store
        .insert_request(&NewRequest {
            site,
            be_year: buddhist_year(now),
            subject_id: &subject,
            kind: body.kind.as_str(),
            channel: channel.as_str(),
            status: status.as_str(),
            message: body.message.as_deref(),
            contact: body.contact.as_deref(),
            identity_check,
            received_at: now,
            due: &due,
        })
        .await?;
    let (actor, client) = match intake {
        Intake::Web => ("visitor", "web"),
        Intake::Staff { actor, client, .. } => (actor, client),
    };
    store
        .audit(
            actor,
            AuditAction::RequestFile,
            Some(site),
            &format!(
                "reference={} kind={} channel={}",
                row.reference,
                body.kind.as_str(),
                channel.as_str()
            ),
            client,
        )
        .await?;
    Ok(row)
}

/// What a visitor sees of a case.
pub fn answer(row: &RequestRow) -> SubjectRequestAnswer {
    SubjectRequestAnswer {
        reference: row.reference.clone(),
        kind: kind_of(row),
        received_at: rfc3339_th(row.received_at),
        due: row.due.clone(),
        status: status_of(row),
    }
}

/// A stored case's kind.
pub fn kind_of(row: &RequestRow) -> RequestKind {
    RequestKind::parse(&row.kind).unwrap_or(RequestKind::Access)
}

/// The grounds PDPA allows for refusing this case ([`RefusalReason::allowed_for`]).
pub fn grounds_of(row: &RequestRow) -> &'static [RefusalReason] {
    RefusalReason::allowed_for(kind_of(row))
}

fn refusable(row: &RequestRow, why: RefusalReason) -> bool {
    grounds_of(row).contains(&why)
}

/// The refusal ground a refused case was closed with.
pub fn refusal_of(row: &RequestRow) -> Option<RefusalReason> {
    (status_of(row) == RequestStatus::Refused)
        .then(|| row.outcome_reason.as_deref().and_then(RefusalReason::parse))
        .flatten()
}

/// A stored case's status.
pub fn status_of(row: &RequestRow) -> RequestStatus {
    RequestStatus::parse(&row.status).unwrap_or(RequestStatus::Received)
}

/// How a case is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered.
    Answered,
    /// Refused, for a reason PDPA allows.
    Refused(RefusalReason),
    /// The subject's data erased.
    Erased,
}

/// One step of a case by staff (`actor`, from `client`), audited.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// The identity check made.
    CheckIdentity(&'a str),
    /// Close the case.
    Close(Outcome, Option<&'a str>),
}

/// Moves the case `reference` of `site` one step. 404 for an unknown case, 409 when the
/// case cannot take that step from where it stands.
pub async fn act(
    store: &Store,
    site: &str,
    reference: &str,
    action: Action<'_>,
    actor: &str,
    client: &str,
) -> ApiResult<RequestRow> {
    let row = store
        .request(site, reference)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no request `{reference}` on site `{site}`")))?;
    let from = status_of(&row);
    let (to, identity_check, reason, audit) = match action {
        Action::CheckIdentity(check) => {
            let check = check.trim();
            if check.is_empty() || check.chars().count() > MAX_IDENTITY_CHECK_CHARS {
                return Err(ApiError::BadRequest(format!(
                    "identity_check must say how the identity was checked (1-{MAX_IDENTITY_CHECK_CHARS} characters)"
                )));
            }
            (
                RequestStatus::IdentityChecked,
                Some(check),
                None,
                AuditAction::RequestIdentity,
            )
        }
        Action::Close(Outcome::Answered, note) => (
            RequestStatus::Answered,
            None,
            note,
            AuditAction::RequestClose,
        ),
        Action::Close(Outcome::Refused(why), _) if !refusable(&row, why) => {
            return Err(ApiError::Unprocessable {
                code: "refusal_not_allowed",
                message: format!(
                    "a request of kind {} cannot be refused for `{}`: PDPA allows {}",
                    row.kind,
                    why.as_str(),
                    grounds_of(&row)
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        Action::Close(Outcome::Refused(why), _) => (
            RequestStatus::Refused,
            None,
            Some(why.as_str()),
            AuditAction::RequestClose,
        ),
        Action::Close(Outcome::Erased, _) => {
            // Closing as erased carries out the erasure, which needs the server's keys:
            // [`close_erased`] does both.
            return Err(ApiError::Unprocessable {
                code: "erasure_needs_keys",
                message: "closing a case as erased erases the subject's receipts: give the server's keys (yinyom requests close … --outcome erased --signing-key … --log-key …)".into(),
            });
        }
    };
    step(
        store,
        site,
        reference,
        from,
        to,
        identity_check,
        reason,
        audit,
        actor,
        client,
    )
    .await
}

/// Closes case `reference` of `site` as erased, carrying the erasure out first: the
/// subject's receipts at the site lose their personal content, the log keeps their leaf
/// hashes and a signed erasure record naming the case ([`crate::erasure`]). 404 for an
/// unknown case, 409 when the case cannot be closed so (its identity not checked yet).
pub async fn close_erased(
    state: &crate::state::AppState,
    site: &str,
    reference: &str,
    actor: &str,
    client: &str,
) -> ApiResult<(RequestRow, crate::erasure::Erased)> {
    let row =
        state.store.request(site, reference).await?.ok_or_else(|| {
            ApiError::NotFound(format!("no request `{reference}` on site `{site}`"))
        })?;
    let from = status_of(&row);
    let to = RequestStatus::Erased;
    if !from.may_become(to) {
        return Err(ApiError::CaseState(format!(
            "request `{reference}` is {}: it cannot become {}",
            from.as_str(),
            to.as_str()
        )));
    }
    // The pseudonym's receipts, and those from before pseudonyms under the raw id (one
    // signed erasure record each).
    let mut done = crate::erasure::Erased::default();
    let mut records = Vec::new();
    for id in subject_ids(&state.store, &state.subjects, &row).await? {
        let part = crate::erasure::erase_subject(
            state,
            site,
            &id,
            crate::erasure::Reason::SubjectRequest,
            Some(reference),
        )
        .await?;
        done.receipts += part.receipts;
        done.pending += part.pending;
        if let Some(record) = part.erasure_id {
            records.push(record.clone());
            done.erasure_id.get_or_insert(record);
        }
    }
    let note = if records.is_empty() {
        "no receipts to erase".to_owned()
    } else {
        format!(
            "{} receipts erased, erasure record {}",
            done.receipts,
            records.join(", ")
        )
    };
    let row = step(
        &state.store,
        site,
        reference,
        from,
        to,
        None,
        Some(&note),
        AuditAction::RequestClose,
        actor,
        client,
    )
    .await?;
    Ok((row, done))
}

/// Records one step of a case (checked against where it stands), audited.
#[allow(clippy::too_many_arguments)]
async fn step(
    store: &Store,
    site: &str,
    reference: &str,
    from: RequestStatus,
    to: RequestStatus,
    identity_check: Option<&str>,
    reason: Option<&str>,
    audit: AuditAction,
    actor: &str,
    client: &str,
) -> ApiResult<RequestRow> {
    if !from.may_become(to) {
        return Err(ApiError::CaseState(format!(
            "request `{reference}` is {}: it cannot become {}",
            from.as_str(),
            to.as_str()
        )));
    }
    let closed_at = to.is_closed().then(now_ms);
    let moved = store
        .step_request(
            site,
            reference,
            &Step {
                from: from.as_str(),
                to: to.as_str(),
                identity_check,
                closed_at,
                reason,
            },
        )
        .await?;
    if !moved {
        return Err(ApiError::CaseState(format!(
            "request `{reference}` changed meanwhile: reload it"
        )));
    }
    store
        .audit(
            actor,
            audit,
            Some(site),
            &format!(
                "reference={reference} status={}{}",
                to.as_str(),
                reason.map(|r| format!(" reason={r}")).unwrap_or_default()
            ),
            client,
        )
        .await?;
    store
        .request(site, reference)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no request `{reference}` on site `{site}`")))
}

/// Case `reference` of `site`, or 404.
pub async fn case(store: &Store, site: &str, reference: &str) -> ApiResult<RequestRow> {
    store
        .request(site, reference)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no request `{reference}` on site `{site}`")))
}

/// Withdraws every consent of the subject of case `reference` on `site`, on their behalf:
/// a receipt with method `on_behalf` naming the case ([`crate::receipts::record_on_behalf`]),
/// audited. The case must be open with the identity checked (409 otherwise); it stays
/// where it is (staff then answer it).
pub async fn withdraw_on_behalf(
    state: &crate::state::AppState,
    site: &yinyom_model::site::Site,
    reference: &str,
    actor: &str,
    client: &str,
) -> ApiResult<StoredReceipt> {
    let site_id = site.id.as_str();
    let row = case(&state.store, site_id, reference).await?;
    if status_of(&row) != RequestStatus::IdentityChecked {
        return Err(ApiError::CaseState(format!(
            "request `{reference}` is {}: consent is withdrawn on a subject's behalf only once their identity is checked and before the case closes",
            row.status
        )));
    }
    let stored = crate::receipts::record_on_behalf(
        crate::receipts::Recorder {
            catalog: &state.catalog,
            store: &state.store,
            ingest: &state.ingest,
            public_url: &state.settings.public_url,
            subjects: &state.subjects,
        },
        site,
        &row.subject_id,
        reference,
        yinyom_model::receipt::PageRef {
            origin: state.settings.public_url.trim_end_matches('/').to_owned(),
            path: format!("/admin/sites/{site_id}/requests/{reference}"),
        },
    )
    .await?;
    state
        .store
        .audit(
            actor,
            AuditAction::RequestOnBehalf,
            Some(site_id),
            &format!(
                "reference={reference} receipt={}",
                stored.receipt.receipt_id
            ),
            client,
        )
        .await?;
    Ok(stored)
}

/// The ids the case's subject's receipts are stored under: the pseudonym and, when they
/// have receipts from before pseudonyms, the raw id whose pseudonym it is (the case never
/// saw the secret, so the site's raw ids are hashed to find it).
pub async fn subject_ids(
    store: &Store,
    subjects: &SubjectKey,
    row: &RequestRow,
) -> ApiResult<Vec<String>> {
    let pseudonym = row.subject_id.to_ascii_lowercase();
    let raw = store
        .legacy_subject_ids(&row.site_id)
        .await?
        .into_iter()
        .find(|id| !crate::subjects::is_pseudonym(id) && subjects.pseudonym(id) == pseudonym);
    Ok(std::iter::once(pseudonym).chain(raw).collect())
}

/// Every receipt the case's subject has on the site, oldest first, and the notice
/// versions they refer to: what a per-subject export carries.
#[derive(Debug)]
pub struct SubjectRecord {
    /// The receipts: under the pseudonym and, from before pseudonyms, under the raw id
    /// whose pseudonym is the case's.
    pub receipts: Vec<StoredReceipt>,
    /// Each notice version a receipt refers to, once, in version order.
    pub notices: Vec<PublishedNotice>,
}

/// The most receipts one subject's export holds (a visitor makes a few a year).
const MAX_SUBJECT_RECEIPTS: i64 = 10_000;

/// Exactly the receipts of the subject of `row` and the notice versions they refer to.
/// Audited by the caller (what it does with them: a file, a page).
pub async fn subject_record(
    store: &Store,
    subjects: &SubjectKey,
    row: &RequestRow,
) -> ApiResult<SubjectRecord> {
    let site = row.site_id.as_str();
    let ids = subject_ids(store, subjects, row).await?;
    let pair = [
        ids[0].clone(),
        ids.last().cloned().unwrap_or_else(|| ids[0].clone()),
    ];
    let mut receipts = store
        .subject_receipts(site, &pair, MAX_SUBJECT_RECEIPTS)
        .await?;
    receipts.reverse();
    let versions: std::collections::BTreeSet<&str> = receipts
        .iter()
        .map(|r| r.receipt.notice.version.as_str())
        .collect();
    let mut notices = Vec::new();
    for v in versions {
        if let Some(n) = store.notice_version(site, v).await? {
            notices.push(n);
        }
    }
    Ok(SubjectRecord { receipts, notices })
}

/// Writes a record-level read of case `reference` to the audit log (`what`: opened,
/// exported as JSON, summarized, letter).
pub async fn audit_read(
    store: &Store,
    site: &str,
    reference: &str,
    action: AuditAction,
    what: &str,
    actor: &str,
    client: &str,
) -> ApiResult<()> {
    store
        .audit(
            actor,
            action,
            Some(site),
            &format!("reference={reference} {what}"),
            client,
        )
        .await?;
    Ok(())
}
