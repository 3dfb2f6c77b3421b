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

impl Store {
    /// Appends to the audit log.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
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
        .bind(action)
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
        if sites.is_some_and(<[String]>::is_empty) {
            return Ok(Vec::new());
        }
        let rows = on_pool!(self, pool => {
            let mut q = QueryBuilder::new(
                "select id, at, actor, action, site_id, detail, client from audit_log where id < ",
            );
            q.push_bind(before_id.unwrap_or(i64::MAX));
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
