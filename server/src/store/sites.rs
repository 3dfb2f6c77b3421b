//! Registered sites.

use super::{Result, Store, StoreError, from_json, now_ms, to_json};
use yinyom_model::{Text, site::Site};

/// A `sites` row.
#[derive(sqlx::FromRow)]
struct SiteRow {
    id: String,
    name_json: String,
    origins_json: String,
    retention_days: i64,
}

impl Store {
    /// Creates the site or updates its name and origins.
    pub async fn upsert_site(&self, site: &Site) -> Result<()> {
        let name = to_json(&site.name)?;
        let origins = to_json(&site.origins)?;
        let now = now_ms();
        on_pool!(self, pool => sqlx::query(
            "insert into sites (id, name_json, origins_json, created_at, updated_at, retention_days)
             values ($1, $2, $3, $4, $4, $5)
             on conflict (id) do update
                set name_json = excluded.name_json,
                    origins_json = excluded.origins_json,
                    updated_at = excluded.updated_at,
                    retention_days = excluded.retention_days",
        )
        .bind(site.id.as_str())
        .bind(name)
        .bind(origins)
        .bind(now)
        .bind(i64::from(site.retention_days))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The site `id`, if registered.
    pub async fn site(&self, id: &str) -> Result<Option<Site>> {
        let row: Option<SiteRow> = on_pool!(self, pool => sqlx::query_as(
            "select id, name_json, origins_json, retention_days from sites where id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        row.map(|r| {
            Ok(Site {
                id: yinyom_model::Slug::parse(&r.id).map_err(StoreError::Corrupt)?,
                name: from_json::<Text>(&r.name_json)?,
                origins: from_json(&r.origins_json)?,
                retention_days: u32::try_from(r.retention_days)
                    .map_err(|e| StoreError::Corrupt(format!("retention_days: {e}")))?,
            })
        })
        .transpose()
    }

    /// Ids of every registered site, sorted.
    pub async fn site_ids(&self) -> Result<Vec<String>> {
        let ids = on_pool!(self, pool => sqlx::query_scalar::<_, String>("select id from sites order by id")
            .fetch_all(pool)
            .await)?;
        Ok(ids)
    }
}
