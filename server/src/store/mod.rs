//! The store: every SQL statement of the server lives here.
//!
//! Two back ends, one behaviour: [`Store::Sqlite`] (embedded default, WAL) and
//! [`Store::Postgres`]. Each has its own migrations (`migrations/sqlite`,
//! `migrations/postgres`); the statements are written once in the SQL both dialects
//! share (`$1` parameters, `on conflict`), and [`on_pool!`] runs the same code against
//! whichever pool is configured. The same integration tests run on both.

use sqlx::{
    Row,
    postgres::{PgPool, PgPoolOptions},
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};
use std::{str::FromStr, time::Duration};
use yinyom_model::{
    Text,
    notice::{Notice, PublishedNotice},
    receipt::Receipt,
    site::Site,
};

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database said no.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored document could not be read back.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// The store cannot commit now (full, read-only, unreachable): see
    /// [`StoreError::unavailable`].
    #[error("the store cannot commit: {0}")]
    Unavailable(String),
    /// The database URL is not one we support.
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    BadUrl(String),
}

type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// Why the store cannot commit right now, if that is what this error means: the disk
    /// or the database is full, the file system or the database is read-only (a standby
    /// after failover), the database cannot be reached or is shutting down. Such errors
    /// pass when their cause does; the receipt API answers them with 503 and the widget
    /// retries. `None` for everything else (a bug, bad data).
    pub fn unavailable(&self) -> Option<String> {
        let e = match self {
            StoreError::Db(e) => e,
            StoreError::Unavailable(cause) => return Some(cause.clone()),
            _ => return None,
        };
        match e {
            sqlx::Error::Database(db) => {
                let code = db.code()?;
                let transient = if let Ok(n) = code.parse::<i64>() {
                    // SQLite (extended) result codes: BUSY 5, LOCKED 6, NOMEM 7,
                    // READONLY 8, IOERR 10, CORRUPT 11, FULL 13, CANTOPEN 14, NOTADB 26.
                    matches!(n & 0xff, 5 | 6 | 7 | 8 | 10 | 11 | 13 | 14 | 26)
                } else {
                    // PostgreSQL SQLSTATE: connection exception (08), insufficient
                    // resources such as disk_full (53), operator intervention such as
                    // admin_shutdown (57), system I/O error (58), read-only transaction
                    // (25006, a standby), serialization failure or deadlock (40001, 40P01).
                    ["08", "53", "57", "58"].iter().any(|c| code.starts_with(c))
                        || ["25006", "40001", "40P01"].contains(&code.as_ref())
                };
                transient.then(|| format!("{} (code {code})", db.message()))
            }
            sqlx::Error::Io(io) => Some(format!("I/O error: {io}")),
            sqlx::Error::PoolTimedOut => Some("no database connection within the timeout".into()),
            sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
                Some("the database connection pool is closed".into())
            }
            sqlx::Error::Tls(e) => Some(format!("TLS error: {e}")),
            sqlx::Error::Protocol(e) => Some(format!("database protocol error: {e}")),
            _ => None,
        }
    }
}

/// Runs `$body` in a transaction `$tx` on a connection of `$pool` taken for it alone; the
/// body commits. If anything fails, that connection is closed instead of going back to the
/// pool: after SQLITE_FULL or an I/O error SQLite may roll a transaction back by itself
/// while sqlx still counts it as open, and a connection in that state turned the next
/// `begin` into a SAVEPOINT inside a never-committed transaction (its "commit" released
/// the savepoint and committed nothing, and the open transaction held SQLite's write lock
/// until restart).
macro_rules! in_transaction {
    ($pool:expr, |$tx:ident| $body:block) => {{
        let mut conn = $pool.acquire().await?;
        let result: Result<_> = async {
            #[allow(unused_mut)]
            let mut $tx = sqlx::Connection::begin(&mut *conn).await?;
            $body
        }
        .await;
        if result.is_err() {
            conn.close_on_drop();
        }
        result
    }};
}

/// The configured database.
#[derive(Debug, Clone)]
pub enum Store {
    /// Embedded SQLite file.
    Sqlite(SqlitePool),
    /// PostgreSQL server.
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever pool `$store` holds. The body is
/// compiled once per back end, so it must be valid SQL and Rust for both.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            Store::Sqlite($pool) => $body,
            Store::Postgres($pool) => $body,
        }
    };
}

mod admin;
pub use admin::{
    AccountRow, AuditRow, Claim, PendingUpload, Role, SearchFilter, StatsRow, TOKEN_ID_LEN,
    TokenRow, UserRow, throttle_delay_ms,
};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A receipt as stored: the receipt, the exact canonical JSON that was signed, the JWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReceipt {
    /// The receipt.
    pub receipt: Receipt,
    /// Its canonical JSON (the JWS payload).
    pub json: String,
    /// Compact JWS.
    pub jws: String,
    /// Issue time in unix milliseconds (indexed copy of `receipt.issued_at`).
    pub issued_at_ms: i64,
}

impl StoredReceipt {
    /// A receipt row read back: its stored canonical JSON, JWS and issue time.
    fn read(json: String, jws: String, issued_at_ms: i64) -> Result<Self> {
        Ok(Self {
            receipt: from_json(&json)?,
            json,
            jws,
            issued_at_ms,
        })
    }
}

/// What happened to an inserted receipt.
#[derive(Debug)]
pub enum Inserted {
    /// A new row was written and committed.
    New,
    /// A receipt with the same `request_id` already existed: here it is.
    Existing(Box<StoredReceipt>),
}

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

/// A stored log checkpoint.
#[derive(Debug, Clone)]
pub struct CheckpointRow {
    /// Leaves covered.
    pub tree_size: u64,
    /// Root hash (32 bytes).
    pub root_hash: Vec<u8>,
    /// Frontier, as a JSON array of hex hashes.
    pub frontier_json: String,
    /// Unix ms.
    pub issued_at: i64,
    /// The signed statement (canonical JSON).
    pub checkpoint_json: String,
    /// Its JWS.
    pub jws: String,
}

/// A new log leaf.
#[derive(Debug, Clone)]
pub struct LeafRow {
    /// Position.
    pub seq: u64,
    /// Receipt.
    pub receipt_id: String,
    /// Leaf hash (32 bytes).
    pub leaf_hash: Vec<u8>,
}

/// A log leaf joined with its receipt, for verification.
#[derive(Debug, Clone)]
pub struct LogRow {
    /// Position.
    pub seq: u64,
    /// Receipt id.
    pub receipt_id: String,
    /// Stored leaf hash.
    pub leaf_hash: Vec<u8>,
    /// The receipt's stored JSON and JWS, if the receipt still exists.
    pub receipt: Option<(String, String)>,
}

/// A receipt waiting for the log: JSON, issue time (ms), notice version, method.
type QueuedReceipt = (String, i64, String, String);

/// What the log sequencer adds to `receipt_counts` for the receipts it appends (see
/// migration 0006): per (Thailand day, notice version, method, item, granted), how many.
#[derive(Default)]
struct Counts(std::collections::BTreeMap<(i64, String, String, String, i64), i64>);

impl Counts {
    fn add(
        &mut self,
        issued_at_ms: i64,
        version: String,
        method: String,
        json: &str,
    ) -> Result<()> {
        #[derive(serde::Deserialize)]
        struct Decisions {
            categories: std::collections::BTreeMap<String, bool>,
            purposes: std::collections::BTreeMap<String, bool>,
        }
        let d: Decisions = from_json(json)?;
        let day = (issued_at_ms + 7 * 3_600_000).div_euclid(86_400_000);
        let mut keys = std::collections::BTreeSet::new();
        keys.insert((String::new(), -1));
        for (item, granted) in d.categories.iter().chain(d.purposes.iter()) {
            keys.insert((item.clone(), -1));
            keys.insert((item.clone(), i64::from(*granted)));
        }
        for (item, granted) in keys {
            *self
                .0
                .entry((day, version.clone(), method.clone(), item, granted))
                .or_default() += 1;
        }
        Ok(())
    }
}

/// SQLite has one writer per database, and a writer that finds the lock taken sleeps in
/// SQLite's busy handler, backing off up to 100 ms at a time: receipts waited ~90 ms (p99)
/// whenever the log sequencer was writing. Hot writers of this process (receipt groups,
/// the sequencer) take turns here instead, so the next one starts the moment the last
/// one commits. Other processes (the CLI) still meet the busy handler, rarely.
static SQLITE_WRITER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Rows per multi-row statement: well under SQLite's 32,766 and PostgreSQL's 65,535
/// bound parameters.
const ROWS_PER_STATEMENT: usize = 256;

/// `($1, $2), ($3, $4)` for `rows` rows of `cols` parameters.
fn placeholders(rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(r * cols + c + 1).to_string());
        }
        out.push(')');
    }
    out
}

fn to_u64(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A signing key row.
#[derive(Debug, Clone)]
pub struct KeyRow {
    /// Key id (JWK thumbprint).
    pub kid: String,
    /// 32-byte Ed25519 seed (only for the signing key).
    pub secret: Vec<u8>,
    /// 32-byte public key.
    pub public: Vec<u8>,
    /// Unix ms from which it no longer signs, if set (it stays in the JWKS).
    pub retired_at: Option<i64>,
    /// Unix ms from which it signs (it is in the JWKS before).
    pub activates_at: i64,
    /// 1 for the first key, +1 per rotation.
    pub generation: i64,
}

/// Milliseconds since the unix epoch, now.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

impl Store {
    /// Opens (creating if missing) and migrates the database at `url`.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, None).await
    }

    /// [`Store::connect`] with at most `pool_size` connections (default 8 for SQLite, 16
    /// for PostgreSQL).
    pub async fn connect_with(url: &str, pool_size: Option<u32>) -> Result<Self> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a receipt acknowledged to the widget survives even a power cut.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(pool_size.unwrap_or(8).max(2))
                .connect_with(opts)
                .await?;
            SQLITE_MIGRATIONS.run(&pool).await?;
            Ok(Store::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(pool_size.unwrap_or(16).max(2))
                // A visitor waits at most this long for a connection; while PostgreSQL is
                // down or failing over, that is how long a receipt post takes to be
                // answered 503 (the widget keeps the choice and retries).
                .acquire_timeout(Duration::from_secs(3))
                .connect(url)
                .await?;
            POSTGRES_MIGRATIONS.run(&pool).await?;
            Ok(Store::Postgres(pool))
        } else {
            Err(StoreError::BadUrl(url.to_owned()))
        }
    }

    /// On SQLite, waits for this process's turn to write (see [`SQLITE_WRITER`]).
    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'static, ()>> {
        match self {
            Store::Sqlite(_) => Some(SQLITE_WRITER.lock().await),
            Store::Postgres(_) => None,
        }
    }

    /// Which back end this is: `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, pool => sqlx::query("select 1").execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Commits a tiny write (the `store_probe` row): fails when the store cannot commit.
    pub async fn probe_write(&self) -> Result<()> {
        let _turn = self.write_turn().await;
        on_pool!(self, pool => in_transaction!(pool, |tx| {
            sqlx::query("update store_probe set checked_at = $1 where id = 1")
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }))
    }

    /// Takes or renews the lease `name` for `holder` for `for_ms` from now, if it is free,
    /// expired or already `holder`'s; returns whether `holder` holds it now. Holders of a
    /// lease should be on machines whose clocks agree within a second or so (NTP).
    pub async fn take_lease(&self, name: &str, holder: &str, for_ms: i64) -> Result<bool> {
        let now = now_ms();
        let _turn = self.write_turn().await;
        let held: Option<String> = on_pool!(self, pool => sqlx::query_scalar(
                "insert into leases (name, holder, until_ms) values ($1, $2, $3)
                 on conflict (name) do update
                    set holder = excluded.holder, until_ms = excluded.until_ms
                    where leases.holder = excluded.holder or leases.until_ms < $4
                 returning holder",
            )
            .bind(name)
            .bind(holder)
            .bind(now.saturating_add(for_ms))
            .bind(now)
            .fetch_optional(pool)
            .await)?;
        Ok(held.is_some())
    }

    /// GCRA step for `client` in the shared `rate_limits` table, in one atomic statement:
    /// `None` if the request is allowed (and counted), else by how many milliseconds it
    /// is early.
    pub async fn rate_limit(
        &self,
        client: &str,
        interval_ms: i64,
        tolerance_ms: i64,
    ) -> Result<Option<i64>> {
        let now = now_ms();
        let later = "case when rate_limits.tat_ms > $2 then rate_limits.tat_ms else $2 end";
        let sql = format!(
            "insert into rate_limits (client, tat_ms) values ($1, $2 + $3)
             on conflict (client) do update set tat_ms = {later} + $3
                where {later} - $2 <= $4
             returning tat_ms"
        );
        let allowed: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(&sql)
            .bind(client)
            .bind(now)
            .bind(interval_ms)
            .bind(tolerance_ms)
            .fetch_optional(pool)
            .await)?;
        if allowed.is_some() {
            return Ok(None);
        }
        let tat: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
                "select tat_ms from rate_limits where client = $1",
            )
            .bind(client)
            .fetch_optional(pool)
            .await)?;
        Ok(Some(tat.map_or(0, |t| t - now - tolerance_ms).max(1)))
    }

    /// Deletes the rate-limit rows of clients whose limit has fully recovered.
    pub async fn sweep_rate_limits(&self) -> Result<u64> {
        Ok(
            on_pool!(self, pool => sqlx::query("delete from rate_limits where tat_ms < $1")
            .bind(now_ms())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?,
        )
    }

    /// Creates the site or updates its name and origins.
    pub async fn upsert_site(&self, site: &Site) -> Result<()> {
        let name = to_json(&site.name)?;
        let origins = to_json(&site.origins)?;
        let now = now_ms();
        on_pool!(self, pool => sqlx::query(
            "insert into sites (id, name_json, origins_json, created_at, updated_at)
             values ($1, $2, $3, $4, $4)
             on conflict (id) do update
                set name_json = excluded.name_json,
                    origins_json = excluded.origins_json,
                    updated_at = excluded.updated_at",
        )
        .bind(site.id.as_str())
        .bind(name)
        .bind(origins)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The site `id`, if registered.
    pub async fn site(&self, id: &str) -> Result<Option<Site>> {
        let row = on_pool!(self, pool => {
            let row = sqlx::query("select id, name_json, origins_json from sites where id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
            row.map(|r| -> Result<(String, String, String)> {
                Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))
            })
            .transpose()?
        });
        row.map(|(id, name, origins)| {
            Ok(Site {
                id: yinyom_model::Slug::parse(&id).map_err(StoreError::Corrupt)?,
                name: from_json::<Text>(&name)?,
                origins: from_json(&origins)?,
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
        let rows = on_pool!(self, pool => {
            sqlx::query(
                "select version, consent_revision, sha256, published_at, content_json
                 from notice_versions where site_id = $1 order by seq desc",
            )
            .bind(site)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| -> Result<(String, i64, String, i64, String)> {
                Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?))
            })
            .collect::<Result<Vec<_>>>()?
        });
        rows.into_iter()
            .map(|(version, revision, sha256, published, content)| {
                let notice: Notice = from_json(&content)?;
                Ok(VersionRow {
                    version,
                    consent_revision: u32::try_from(revision)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    effective_from: notice.effective_from,
                    sha256,
                    published_at: rfc3339_ms(published),
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
        let row = on_pool!(self, pool => {
            let row = sqlx::query(
                "select content_json, sha256, published_at from notice_versions
                 where site_id = $1 and ($2 is null or version = $2)
                 order by seq desc limit 1",
            )
            .bind(site)
            .bind(version)
            .fetch_optional(pool)
            .await?;
            row.map(|r| -> Result<(String, String, i64)> {
                Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))
            })
            .transpose()?
        });
        row.map(|(content, sha256, published)| {
            Ok(PublishedNotice {
                notice: from_json::<Notice>(&content)?,
                sha256,
                published_at: rfc3339_ms(published),
            })
        })
        .transpose()
    }

    /// The receipt made for `request_id` on `site`, if any.
    pub async fn receipt_by_request(
        &self,
        site: &str,
        request_id: &str,
    ) -> Result<Option<StoredReceipt>> {
        let row = on_pool!(self, pool => {
            let row = sqlx::query(
                "select receipt_json, jws, issued_at from receipts where site_id = $1 and request_id = $2",
            )
            .bind(site)
            .bind(request_id)
            .fetch_optional(pool)
            .await?;
            row.map(|r| -> Result<(String, String, i64)> {
                Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))
            })
            .transpose()?
        });
        row.map(|(json, jws, issued_at_ms)| StoredReceipt::read(json, jws, issued_at_ms))
            .transpose()
    }

    /// The visitor's receipts on `site`, newest first, at most `limit`.
    pub async fn subject_receipts(
        &self,
        site: &str,
        subject_id: &str,
        limit: i64,
    ) -> Result<Vec<StoredReceipt>> {
        let rows = on_pool!(self, pool => {
            sqlx::query(
                "select receipt_json, jws, issued_at from receipts
                 where site_id = $1 and subject_id = $2
                 order by issued_at desc, receipt_id desc limit $3",
            )
            .bind(site)
            .bind(subject_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| -> Result<(String, String, i64)> { Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)) })
            .collect::<Result<Vec<_>>>()?
        });
        rows.into_iter()
            .map(|(json, jws, issued_at_ms)| StoredReceipt::read(json, jws, issued_at_ms))
            .collect()
    }

    /// Whether the visitor `subject_id` already has a receipt on `site`.
    pub async fn subject_has_receipts(&self, site: &str, subject_id: &str) -> Result<bool> {
        let found: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
                "select 1 from receipts where site_id = $1 and subject_id = $2 limit 1",
            )
            .bind(site)
            .bind(subject_id)
            .fetch_optional(pool)
            .await)?;
        Ok(found.is_some())
    }

    /// Number of receipts of `site`.
    pub async fn count_receipts(&self, site: &str) -> Result<i64> {
        let n: i64 = on_pool!(self, pool => sqlx::query_scalar("select count(*) from receipts where site_id = $1")
            .bind(site)
            .fetch_one(pool)
            .await)?;
        Ok(n)
    }

    /// Writes a receipt and returns only once it is committed. If a receipt with the same
    /// `(site, request_id)` exists (a retry, or a concurrent duplicate), nothing is written
    /// and the existing receipt is returned.
    pub async fn insert_receipt(&self, r: &StoredReceipt) -> Result<Inserted> {
        let rc = &r.receipt;
        let mut one = Some(r.clone());
        let written = self
            .write_receipts(&[(rc.site.as_str(), rc.subject_id.as_str())], |_, _| {
                one.take()
            })
            .await?;
        if matches!(written.first(), Some(Some((_, true)))) {
            return Ok(Inserted::New);
        }
        self.existing_receipt(rc.site.as_str(), &rc.request_id)
            .await
            .map(|e| Inserted::Existing(Box::new(e)))
    }

    /// The receipt whose insert conflicted on `(site, request_id)`.
    pub async fn existing_receipt(&self, site: &str, request_id: &str) -> Result<StoredReceipt> {
        self.receipt_by_request(site, request_id)
            .await?
            .ok_or_else(|| {
                StoreError::Corrupt("receipt conflicted on request_id but none was found".into())
            })
    }

    /// Writes a group of receipts (and their decision rows and log queue entries) in one
    /// transaction: one commit, one fsync, a few multi-row statements.
    ///
    /// `subjects[i]` is the (site, subject id) of the i-th receipt. Inside the transaction
    /// the visitors not seen before are registered (`subjects` table), and only then
    /// `finish(i, first)` makes the i-th receipt, knowing whether it is that visitor's
    /// first on the site (so its event is decided where it commits: two first choices of
    /// one visitor written by two processes at once are one `given` and one `updated`).
    /// `finish` returning `None` leaves the receipt out. Returns, per receipt, what was
    /// made and whether it was written (`false`: a receipt with the same
    /// `(site, request_id)` already existed, maybe earlier in this very group).
    pub async fn write_receipts<F>(
        &self,
        subjects: &[(&str, &str)],
        mut finish: F,
    ) -> Result<Vec<Option<(StoredReceipt, bool)>>>
    where
        F: FnMut(usize, bool) -> Option<StoredReceipt>,
    {
        // One lock order for every writer (PostgreSQL: no deadlock between two groups
        // that register the same new visitors).
        let mut register: Vec<(&str, &str)> = subjects.to_vec();
        register.sort_unstable();
        register.dedup();
        let now = now_ms();
        let _turn = self.write_turn().await;
        on_pool!(self, pool => in_transaction!(pool, |tx| {
            let mut new_subjects = std::collections::HashSet::new();
            for chunk in register.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "insert into subjects (site_id, subject_id, first_at) values {}
                     on conflict (site_id, subject_id) do nothing
                     returning site_id, subject_id",
                    placeholders(chunk.len(), 3)
                );
                let mut q = sqlx::query_as::<_, (String, String)>(&sql);
                for (site, subject) in chunk {
                    q = q.bind(*site).bind(*subject).bind(now);
                }
                new_subjects.extend(q.fetch_all(&mut *tx).await?);
            }
            let made: Vec<Option<StoredReceipt>> = subjects
                .iter()
                .enumerate()
                .map(|(i, (site, subject))| {
                    let first = new_subjects.remove(&((*site).to_owned(), (*subject).to_owned()));
                    finish(i, first)
                })
                .collect();
            let receipts: Vec<&StoredReceipt> = made.iter().flatten().collect();
            let mut written = std::collections::HashSet::new();
            for chunk in receipts.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "insert into receipts
                        (receipt_id, site_id, request_id, subject_id, issued_at, event, method,
                         notice_version, consent_revision, receipt_json, jws)
                     values {}
                     on conflict (site_id, request_id) do nothing
                     returning receipt_id",
                    placeholders(chunk.len(), 11)
                );
                let mut q = sqlx::query_scalar::<_, String>(&sql);
                for r in chunk {
                    let rc = &r.receipt;
                    q = q
                        .bind(&rc.receipt_id)
                        .bind(rc.site.as_str())
                        .bind(&rc.request_id)
                        .bind(&rc.subject_id)
                        .bind(r.issued_at_ms)
                        .bind(rc.event.as_str())
                        .bind(rc.method.as_str())
                        .bind(&rc.notice.version)
                        .bind(i64::from(rc.notice.consent_revision))
                        .bind(&r.json)
                        .bind(&r.jws);
                }
                written.extend(q.fetch_all(&mut *tx).await?);
            }
            let queued: Vec<&StoredReceipt> = receipts
                .iter()
                .copied()
                .filter(|r| written.contains(&r.receipt.receipt_id))
                .collect();
            for chunk in queued.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "insert into log_pending (receipt_id, site_id, issued_at) values {}",
                    placeholders(chunk.len(), 3)
                );
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = q
                        .bind(&r.receipt.receipt_id)
                        .bind(r.receipt.site.as_str())
                        .bind(r.issued_at_ms);
                }
                q.execute(&mut *tx).await?;
            }
            let decisions: Vec<(&str, &str, &str, &str, bool)> = queued
                .iter()
                .map(|r| &r.receipt)
                .flat_map(|rc| {
                    let cats = rc.categories.iter().map(|(i, g)| ("category", i, g));
                    let purposes = rc.purposes.iter().map(|(i, g)| ("purpose", i, g));
                    cats.chain(purposes).map(|(kind, item, granted)| {
                        (rc.receipt_id.as_str(), rc.site.as_str(), kind, item.as_str(), *granted)
                    })
                })
                .collect();
            for chunk in decisions.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "insert into receipt_decisions (receipt_id, site_id, kind, item, granted) values {}",
                    placeholders(chunk.len(), 5)
                );
                let mut q = sqlx::query(&sql);
                for (receipt_id, site, kind, item, granted) in chunk {
                    q = q
                        .bind(*receipt_id)
                        .bind(*site)
                        .bind(*kind)
                        .bind(*item)
                        .bind(i64::from(*granted));
                }
                q.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(made
                .into_iter()
                .map(|m| {
                    m.map(|r| {
                        let new = written.contains(&r.receipt.receipt_id);
                        (r, new)
                    })
                })
                .collect())
        }))
    }

    /// Writes many receipts (and their decision rows) in one transaction: for seeding
    /// benchmarks and demos, not for the receipt path (which is one receipt per request,
    /// idempotent). Their events are kept as they are.
    pub async fn seed_receipts(&self, receipts: &[StoredReceipt]) -> Result<()> {
        let subjects: Vec<(&str, &str)> = receipts
            .iter()
            .map(|r| (r.receipt.site.as_str(), r.receipt.subject_id.as_str()))
            .collect();
        self.write_receipts(&subjects, |i, _| receipts.get(i).cloned())
            .await
            .map(|_| ())
    }

    /// Appends up to `limit` unsequenced receipts of `site` to its log. The reading and
    /// hashing happen outside any lock: the latest checkpoint and the pending receipts are
    /// read, `build` turns them into leaves and a signed checkpoint, and only then a short
    /// transaction takes the site's row lock (one sequencer per site, across processes),
    /// checks that no other sequencer appended meanwhile, and stores both. Returns the new
    /// checkpoint, or `None` if nothing was pending or another sequencer got there first
    /// (the next round appends what is left).
    pub async fn sequence_log<F>(
        &self,
        site: &str,
        limit: i64,
        build: F,
    ) -> Result<Option<CheckpointRow>>
    where
        F: FnOnce(
            Option<CheckpointRow>,
            Vec<(String, String)>,
        ) -> Result<(Vec<LeafRow>, CheckpointRow)>,
    {
        let prev = self.latest_checkpoint(site).await?;
        // A queued receipt that no longer exists (deleted by hand) is dropped from the queue.
        let queued = on_pool!(self, pool => sqlx::query(
                "select p.receipt_id, r.receipt_json, r.issued_at, r.notice_version, r.method
                 from log_pending p left join receipts r on r.receipt_id = p.receipt_id
                 where p.site_id = $1
                 order by p.issued_at, p.receipt_id limit $2",
            )
            .bind(site)
            .bind(limit)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| -> Result<(String, Option<QueuedReceipt>)> {
                let json: Option<String> = r.try_get(1)?;
                let rest = match json {
                    Some(j) => Some((j, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?)),
                    None => None,
                };
                Ok((r.try_get(0)?, rest))
            })
            .collect::<Result<Vec<_>>>())?;
        if queued.is_empty() {
            return Ok(None);
        }
        let dequeue: Vec<String> = queued.iter().map(|(id, _)| id.clone()).collect();
        let mut counts = Counts::default();
        let mut pending = Vec::with_capacity(queued.len());
        for (id, row) in queued {
            if let Some((json, issued_at, version, method)) = row {
                counts.add(issued_at, version, method, &json)?;
                pending.push((id, json));
            }
        }
        let read_size = prev.as_ref().map(|p| p.tree_size);
        let built = if pending.is_empty() {
            None
        } else {
            Some(build(prev, pending)?)
        };
        let _turn = self.write_turn().await;
        on_pool!(self, pool => in_transaction!(pool, |tx| {
            // Taking the write lock first: SQLite's writer lock, PostgreSQL's row lock.
            sqlx::query("update sites set updated_at = updated_at where id = $1")
                .bind(site)
                .execute(&mut *tx)
                .await?;
            let size: Option<i64> = sqlx::query_scalar(
                "select max(tree_size) from log_checkpoints where site_id = $1",
            )
            .bind(site)
            .fetch_one(&mut *tx)
            .await?;
            if size.map(to_u64).transpose()? != read_size {
                return Ok(None);
            }
            for chunk in dequeue.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "delete from log_pending where receipt_id in ({})",
                    (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
                );
                let mut q = sqlx::query(&sql);
                for id in chunk {
                    q = q.bind(id);
                }
                q.execute(&mut *tx).await?;
            }
            let Some((leaves, cp)) = built else {
                tx.commit().await?;
                return Ok(None);
            };
            let counts: Vec<_> = counts.0.into_iter().collect();
            for chunk in counts.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "insert into receipt_counts (site_id, day, notice_version, method, item, granted, n)
                     values {}
                     on conflict (site_id, day, notice_version, method, item, granted)
                     do update set n = receipt_counts.n + excluded.n",
                    placeholders(chunk.len(), 7)
                );
                let mut q = sqlx::query(&sql);
                for ((day, version, method, item, granted), n) in chunk {
                    q = q
                        .bind(site)
                        .bind(*day)
                        .bind(version)
                        .bind(method)
                        .bind(item)
                        .bind(*granted)
                        .bind(*n);
                }
                q.execute(&mut *tx).await?;
            }
            for chunk in leaves.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "insert into log_leaves (site_id, seq, receipt_id, leaf_hash) values {}",
                    placeholders(chunk.len(), 4)
                );
                let mut q = sqlx::query(&sql);
                for leaf in chunk {
                    q = q
                        .bind(site)
                        .bind(to_i64(leaf.seq)?)
                        .bind(&leaf.receipt_id)
                        .bind(&leaf.leaf_hash);
                }
                q.execute(&mut *tx).await?;
            }
            sqlx::query(
                "insert into log_checkpoints
                    (site_id, tree_size, root_hash, frontier_json, issued_at, checkpoint_json, jws)
                 values ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(site)
            .bind(to_i64(cp.tree_size)?)
            .bind(&cp.root_hash)
            .bind(&cp.frontier_json)
            .bind(cp.issued_at)
            .bind(&cp.checkpoint_json)
            .bind(&cp.jws)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Some(cp))
        }))
    }

    /// Receipts of `site` not yet in its log.
    pub async fn unsequenced(&self, site: &str) -> Result<u64> {
        let n: i64 = on_pool!(self, pool => sqlx::query_scalar(
            "select count(*) from log_pending where site_id = $1",
        )
        .bind(site)
        .fetch_one(pool)
        .await)?;
        to_u64(n)
    }

    /// The log position of a receipt, if sequenced.
    pub async fn leaf_seq(&self, site: &str, receipt_id: &str) -> Result<Option<u64>> {
        let seq: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
            "select seq from log_leaves where site_id = $1 and receipt_id = $2",
        )
        .bind(site)
        .bind(receipt_id)
        .fetch_optional(pool)
        .await)?;
        seq.map(to_u64).transpose()
    }

    /// Leaf hashes of the first `upto` positions, in order.
    pub async fn leaf_hashes(&self, site: &str, upto: u64) -> Result<Vec<Vec<u8>>> {
        let rows: Vec<Vec<u8>> = on_pool!(self, pool => sqlx::query_scalar(
            "select leaf_hash from log_leaves where site_id = $1 and seq < $2 order by seq",
        )
        .bind(site)
        .bind(to_i64(upto)?)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    async fn checkpoints_where(
        &self,
        site: &str,
        size: Option<u64>,
        latest_only: bool,
    ) -> Result<Vec<CheckpointRow>> {
        let size = size.map(to_i64).transpose()?;
        let limit: i64 = if latest_only { 1 } else { i64::MAX };
        let rows = on_pool!(self, pool => {
            sqlx::query(
                "select tree_size, root_hash, frontier_json, issued_at, checkpoint_json, jws
                 from log_checkpoints where site_id = $1 and ($2 is null or tree_size = $2)
                 order by tree_size desc limit $3",
            )
            .bind(site)
            .bind(size)
            .bind(limit)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| -> Result<CheckpointRow> {
                Ok(CheckpointRow {
                    tree_size: to_u64(r.try_get(0)?)?,
                    root_hash: r.try_get(1)?,
                    frontier_json: r.try_get(2)?,
                    issued_at: r.try_get(3)?,
                    checkpoint_json: r.try_get(4)?,
                    jws: r.try_get(5)?,
                })
            })
            .collect::<Result<Vec<_>>>()?
        });
        Ok(rows)
    }

    /// The site's newest checkpoint.
    pub async fn latest_checkpoint(&self, site: &str) -> Result<Option<CheckpointRow>> {
        Ok(self
            .checkpoints_where(site, None, true)
            .await?
            .into_iter()
            .next())
    }

    /// The site's checkpoint of exactly `size` leaves.
    pub async fn checkpoint(&self, site: &str, size: u64) -> Result<Option<CheckpointRow>> {
        Ok(self
            .checkpoints_where(site, Some(size), true)
            .await?
            .into_iter()
            .next())
    }

    /// Every checkpoint of the site, newest first.
    pub async fn checkpoints(&self, site: &str) -> Result<Vec<CheckpointRow>> {
        self.checkpoints_where(site, None, false).await
    }

    /// Every leaf of the site's log with its receipt (if it still exists), in log order.
    pub async fn log_rows(&self, site: &str) -> Result<Vec<LogRow>> {
        let rows = on_pool!(self, pool => {
            sqlx::query(
                "select l.seq, l.receipt_id, l.leaf_hash, r.receipt_json, r.jws
                 from log_leaves l left join receipts r on r.receipt_id = l.receipt_id
                 where l.site_id = $1 order by l.seq",
            )
            .bind(site)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| -> Result<LogRow> {
                let json: Option<String> = r.try_get(3)?;
                let jws: Option<String> = r.try_get(4)?;
                Ok(LogRow {
                    seq: to_u64(r.try_get(0)?)?,
                    receipt_id: r.try_get(1)?,
                    leaf_hash: r.try_get(2)?,
                    receipt: match (json, jws) {
                        (Some(j), Some(s)) => Some((j, s)),
                        _ => None,
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?
        });
        Ok(rows)
    }

    /// Every signing key, newest first.
    pub async fn keys(&self) -> Result<Vec<KeyRow>> {
        let rows = on_pool!(self, pool => {
            sqlx::query(
                "select kid, secret_key, public_key, retired_at, activates_at, generation
                 from signing_keys order by generation desc",
            )
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| -> Result<KeyRow> {
                Ok(KeyRow {
                    kid: r.try_get(0)?,
                    secret: r.try_get(1)?,
                    public: r.try_get(2)?,
                    retired_at: r.try_get(3)?,
                    activates_at: r.try_get(4)?,
                    generation: r.try_get(5)?,
                })
            })
            .collect::<Result<Vec<_>>>()?
        });
        Ok(rows)
    }

    /// Stores the first signing key (generation 1) unless one was stored meanwhile;
    /// returns whether it was.
    pub async fn insert_first_key(&self, key: &KeyRow) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query(
            "insert into signing_keys
                (kid, secret_key, public_key, created_at, retired_at, activates_at, generation)
             values ($1, $2, $3, $4, null, $5, 1)
             on conflict (generation) do nothing",
        )
        .bind(&key.kid)
        .bind(&key.secret)
        .bind(&key.public)
        .bind(now_ms())
        .bind(key.activates_at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// In one transaction: stores `key` (its generation must be the next one, else the
    /// insert conflicts and nothing changes) and retires every key that has no retirement
    /// time yet at `key.activates_at`.
    pub async fn rotate_key(&self, key: &KeyRow) -> Result<()> {
        on_pool!(self, pool => in_transaction!(pool, |tx| {
            sqlx::query(
                "update signing_keys set retired_at = $1
                 where retired_at is null or retired_at > $1",
            )
            .bind(key.activates_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "insert into signing_keys
                    (kid, secret_key, public_key, created_at, retired_at, activates_at, generation)
                 values ($1, $2, $3, $4, null, $5, $6)",
            )
            .bind(&key.kid)
            .bind(&key.secret)
            .bind(&key.public)
            .bind(now_ms())
            .bind(key.activates_at)
            .bind(key.generation)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        }))
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Formats unix milliseconds as RFC 3339 UTC with milliseconds.
pub fn rfc3339_ms(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f).unwrap_or_default()
}
