//! The console's audit log: who did what, on which site, from where.

use super::{Result, Store, now_ms};
use sqlx::QueryBuilder;

/// One audit log entry.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct AuditRow {
    /// Id (increasing).
    pub id: i64,
    /// Unix ms.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Which site.
    pub site_id: Option<String>,
    /// Details (filters, receipt id…).
    pub detail: String,
    /// From where (client address).
    pub client: String,
}

/// What an audit log entry records. Stored and shown by [`AuditAction::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// `login`: a console sign-in.
    Login,
    /// `login.failed`: a wrong e-mail or password.
    LoginFailed,
    /// `login.throttled`: a sign-in refused by the throttle.
    LoginThrottled,
    /// `logout`.
    Logout,
    /// `receipts.search`: a receipt search (the filters in the detail).
    ReceiptsSearch,
    /// `receipt.view`: one receipt opened.
    ReceiptView,
    /// `receipts.export`: an export (format and filters in the detail).
    ReceiptsExport,
    /// `notice.publish`: a notice version published from the console.
    NoticePublish,
    /// `user.add`: an account created.
    UserAdd,
    /// `user.disable`: an account disabled.
    UserDisable,
    /// `user.enable`: an account enabled again.
    UserEnable,
    /// `user.passwd`: an account's password reset.
    UserPasswd,
    /// `user.unlock`: an account's failed sign-ins forgotten.
    UserUnlock,
    /// `token.create`: an API token created.
    TokenCreate,
    /// `token.revoke`: an API token revoked.
    TokenRevoke,
    /// `scan.upload`: a cookie scan report uploaded (its violations in the detail).
    ScanUpload,
    /// `consent.check`: a subject's current consent read through the consent-check API.
    ConsentCheck,
    /// `webhook.add`: a webhook endpoint added (its URL in the detail, never the secret).
    WebhookAdd,
    /// `webhook.remove`: a webhook endpoint removed.
    WebhookRemove,
    /// `request.file`: a data-subject request filed (reference, kind, channel).
    RequestFile,
    /// `request.identity`: a requester's identity checked.
    RequestIdentity,
    /// `request.close`: a request case closed (outcome, reason).
    RequestClose,
    /// `request.on_behalf`: staff withdrew consent on a subject's behalf (the case and
    /// the receipt in the detail).
    RequestOnBehalf,
    /// `request.view`: a case opened by staff (record-level: the contact and message).
    RequestView,
    /// `request.export`: a subject's receipts exported or summarized from their case.
    RequestExport,
    /// `receipt.paper`: a consent signed on paper entered by staff (receipt id, form,
    /// document number; never the person's reference).
    PaperEntry,
    /// `user.role`: an account given another role (e-mail and role in the detail).
    UserRole,
    /// `webhook.rotate`: a webhook endpoint's secret rotated (never the secrets).
    WebhookRotate,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [Self; 28] = [
        Self::Login,
        Self::LoginFailed,
        Self::LoginThrottled,
        Self::Logout,
        Self::ReceiptsSearch,
        Self::ReceiptView,
        Self::ReceiptsExport,
        Self::NoticePublish,
        Self::UserAdd,
        Self::UserDisable,
        Self::UserEnable,
        Self::UserPasswd,
        Self::UserUnlock,
        Self::TokenCreate,
        Self::TokenRevoke,
        Self::ScanUpload,
        Self::ConsentCheck,
        Self::WebhookAdd,
        Self::WebhookRemove,
        Self::RequestFile,
        Self::RequestIdentity,
        Self::RequestClose,
        Self::RequestOnBehalf,
        Self::RequestView,
        Self::RequestExport,
        Self::PaperEntry,
        Self::UserRole,
        Self::WebhookRotate,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::LoginFailed => "login.failed",
            Self::LoginThrottled => "login.throttled",
            Self::Logout => "logout",
            Self::ReceiptsSearch => "receipts.search",
            Self::ReceiptView => "receipt.view",
            Self::ReceiptsExport => "receipts.export",
            Self::NoticePublish => "notice.publish",
            Self::UserAdd => "user.add",
            Self::UserDisable => "user.disable",
            Self::UserEnable => "user.enable",
            Self::UserPasswd => "user.passwd",
            Self::UserUnlock => "user.unlock",
            Self::TokenCreate => "token.create",
            Self::TokenRevoke => "token.revoke",
            Self::ScanUpload => "scan.upload",
            Self::ConsentCheck => "consent.check",
            Self::WebhookAdd => "webhook.add",
            Self::WebhookRemove => "webhook.remove",
            Self::RequestFile => "request.file",
            Self::RequestIdentity => "request.identity",
            Self::RequestClose => "request.close",
            Self::RequestOnBehalf => "request.on_behalf",
            Self::RequestView => "request.view",
            Self::RequestExport => "request.export",
            Self::PaperEntry => "receipt.paper",
            Self::UserRole => "user.role",
            Self::WebhookRotate => "webhook.rotate",
        }
    }
}

impl Store {
    /// Appends to the audit log.
    pub async fn audit(
        &self,
        actor: &str,
        action: AuditAction,
        site: Option<&str>,
        detail: &str,
        client: &str,
    ) -> Result<()> {
        let now = now_ms();
        on_pool!(self, pool => sqlx::query(
            "insert into audit_log (at, actor, action, site_id, detail, client) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(now)
        .bind(actor)
        .bind(action.as_str())
        .bind(site)
        .bind(detail)
        .bind(client)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Audit entries, newest first, of the given sites (`None`: every entry), before `before_id`.
    pub async fn audit_entries(
        &self,
        sites: Option<&[String]>,
        before_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRow>> {
        self.newest_first(
            "select id, at, actor, action, site_id, detail, client from audit_log",
            sites,
            before_id,
            limit,
        )
        .await
    }

    /// A page of an append-only log table (the audit log, the release log), newest first:
    /// the rows `select` (a `select … from <table>` whose table has `id` and `site_id`)
    /// reads of the given sites (`None`: every site; none: no rows) with an id below
    /// `before_id`, at most `limit`.
    pub(super) async fn newest_first<T>(
        &self,
        select: &str,
        sites: Option<&[String]>,
        before_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        if sites.is_some_and(<[String]>::is_empty) {
            return Ok(Vec::new());
        }
        let rows = on_pool!(self, pool => {
            let mut q = QueryBuilder::new(select);
            q.push(" where id < ").push_bind(before_id.unwrap_or(i64::MAX));
            if let Some(sites) = sites {
                q.push(" and site_id in (");
                let mut list = q.separated(", ");
                for site in sites {
                    list.push_bind(site);
                }
                q.push(")");
            }
            q.push(" order by id desc limit ").push_bind(limit);
            q.build_query_as().fetch_all(pool).await
        })?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::AuditAction;

    #[test]
    fn each_action_has_its_own_stored_name() {
        let names: std::collections::BTreeSet<&str> =
            AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), AuditAction::ALL.len());
        assert!(names.contains("notice.publish") && names.contains("login.throttled"));
    }
}
