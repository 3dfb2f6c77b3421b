//! Notices: the published versions of each site's notice, and console uploads waiting
//! to be confirmed.

use super::{Result, Store, StoreError, from_json, now_ms, rfc3339_ms};
use yinyom_model::notice::{Notice, PublishedNotice};

/// One entry of a site's notice history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VersionRow {
    /// Version label.
    pub version: String,
    /// Consent revision.
    pub consent_revision: u32,
    /// Date it takes effect.
    pub effective_from: String,
    /// Hash of its canonical JSON.
    pub sha256: String,
    /// When it was published.
    pub published_at: String,
}

/// A console upload of a site folder waiting for confirmation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingUpload {
    /// Site id (of the page it was uploaded on).
    pub site_id: String,
    /// `site.toml`.
    pub site_toml: String,
    /// `notice.th.md`, if uploaded.
    pub notice_th: Option<String>,
    /// `notice.en.md`, if uploaded.
    pub notice_en: Option<String>,
}

/// A `notice_versions` row of the history.
#[derive(sqlx::FromRow)]
struct HistoryRow {
    version: String,
    consent_revision: i64,
    sha256: String,
    published_at: i64,
    content_json: String,
}

/// A `notice_versions` row read back as the notice.
#[derive(sqlx::FromRow)]
struct NoticeRow {
    content_json: String,
    sha256: String,
    published_at: i64,
}

impl Store {
    /// Publishes a new notice version as the site's current one. The caller has checked
    /// that it differs from the current version.
    pub async fn insert_notice(&self, n: &PublishedNotice, content_json: &str) -> Result<()> {
        let published = time::OffsetDateTime::parse(
            &n.published_at,
            &time::format_description::well_known::Rfc3339,
        )
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let published_ms =
            i64::try_from(published.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        on_pool!(self, pool => sqlx::query(
            "insert into notice_versions
                (site_id, version, seq, consent_revision, sha256, content_json, published_at)
             values ($1, $2,
                (select coalesce(max(seq), 0) + 1 from notice_versions where site_id = $1),
                $3, $4, $5, $6)",
        )
        .bind(n.notice.site.as_str())
        .bind(&n.notice.version)
        .bind(i64::from(n.notice.consent_revision))
        .bind(&n.sha256)
        .bind(content_json)
        .bind(published_ms)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Every published version of the site's notice, newest first.
    pub async fn notice_versions(&self, site: &str) -> Result<Vec<VersionRow>> {
        let rows: Vec<HistoryRow> = on_pool!(self, pool => sqlx::query_as(
            "select version, consent_revision, sha256, published_at, content_json
             from notice_versions where site_id = $1 order by seq desc",
        )
        .bind(site)
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(|r| {
                let notice: Notice = from_json(&r.content_json)?;
                Ok(VersionRow {
                    version: r.version,
                    consent_revision: u32::try_from(r.consent_revision)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    effective_from: notice.effective_from,
                    sha256: r.sha256,
                    published_at: rfc3339_ms(r.published_at),
                })
            })
            .collect()
    }

    /// When the version published after `version` of the site's notice was published
    /// (unix ms); `None` while `version` is the current one (or is unknown).
    pub async fn superseded_at(&self, site: &str, version: &str) -> Result<Option<i64>> {
        let at = on_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "select n.published_at from notice_versions n
             join notice_versions v on v.site_id = n.site_id and n.seq > v.seq
             where v.site_id = $1 and v.version = $2
             order by n.seq limit 1",
        )
        .bind(site)
        .bind(version)
        .fetch_optional(pool)
        .await)?;
        Ok(at)
    }

    /// The site's current (latest published) notice.
    pub async fn current_notice(&self, site: &str) -> Result<Option<PublishedNotice>> {
        self.notice_where(site, None).await
    }

    /// A given version of the site's notice.
    pub async fn notice_version(
        &self,
        site: &str,
        version: &str,
    ) -> Result<Option<PublishedNotice>> {
        self.notice_where(site, Some(version)).await
    }

    async fn notice_where(
        &self,
        site: &str,
        version: Option<&str>,
    ) -> Result<Option<PublishedNotice>> {
        let row: Option<NoticeRow> = on_pool!(self, pool => sqlx::query_as(
            "select content_json, sha256, published_at from notice_versions
             where site_id = $1 and ($2 is null or version = $2)
             order by seq desc limit 1",
        )
        .bind(site)
        .bind(version)
        .fetch_optional(pool)
        .await)?;
        row.map(|r| {
            Ok(PublishedNotice {
                notice: from_json::<Notice>(&r.content_json)?,
                sha256: r.sha256,
                published_at: rfc3339_ms(r.published_at),
            })
        })
        .transpose()
    }

    /// Keeps an upload until `expires_at` (unix ms) for its owner to confirm; forgets
    /// expired ones.
    pub async fn put_pending_upload(
        &self,
        id_hash: &str,
        owner_hash: &str,
        upload: &PendingUpload,
        expires_at: i64,
    ) -> Result<()> {
        let now = now_ms();
        on_pool!(self, pool => {
            sqlx::query("delete from pending_publications where expires_at <= $1")
                .bind(now)
                .execute(pool)
                .await?;
            sqlx::query(
                "insert into pending_publications
                    (id_hash, owner_hash, site_id, site_toml, notice_th, notice_en, expires_at)
                 values ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id_hash)
            .bind(owner_hash)
            .bind(&upload.site_id)
            .bind(&upload.site_toml)
            .bind(&upload.notice_th)
            .bind(&upload.notice_en)
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Takes (reads and deletes, at once) the unexpired upload `id_hash` of `owner_hash`
    /// for `site`: a second confirmation finds nothing.
    pub async fn take_pending_upload(
        &self,
        id_hash: &str,
        owner_hash: &str,
        site: &str,
    ) -> Result<Option<PendingUpload>> {
        let now = now_ms();
        let row = on_pool!(self, pool => sqlx::query_as(
            "delete from pending_publications
             where id_hash = $1 and owner_hash = $2 and site_id = $3 and expires_at > $4
             returning site_id, site_toml, notice_th, notice_en",
        )
        .bind(id_hash)
        .bind(owner_hash)
        .bind(site)
        .bind(now)
        .fetch_optional(pool)
        .await)?;
        Ok(row)
    }
}
