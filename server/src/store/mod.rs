//! The store: every SQL statement of the server lives here, one module per aggregate.
//!
//! Two back ends, one behaviour: [`Store::Sqlite`] (embedded default, WAL) and
//! [`Store::Postgres`]. Each has its own migrations (`migrations/sqlite`,
//! `migrations/postgres`); the statements are written once in the SQL both dialects
//! share (`$1` parameters, `on conflict`), and [`on_pool!`] runs the same code against
//! whichever pool is configured. Statements whose shape depends on the input (multi-row
//! inserts, search filters) are built with [`sqlx::QueryBuilder`]; rows are decoded with
//! `#[derive(sqlx::FromRow)]`. Every write transaction runs in [`in_transaction!`]. The
//! same integration tests run on both.
//!
//! This module holds the connection, the error type and the shared helpers; the
//! statements are in [`sites`], [`notices`], [`receipts`] (their bodies packed by [`packing`]), [`log`], [`keys`],
//! [`accounts`] (users, sessions, tokens, sign-in throttling), [`audit`], [`search`]
//! (console search and export pages; [`export_reader`] streams them), [`stats`], [`fleet`]
//! (leases, rate limits, the write probe) and [`webhooks`] (endpoints, the outbox,
//! deliveries). The receipt group write is written as [`conn::Statement`]s, which also
//! run on the receipt writer's own SQLite connection ([`writer`]).

use sqlx::{
    postgres::{PgPool, PgPoolOptions},
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};
use std::{str::FromStr, time::Duration};

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
    /// The operating system gave no random bytes (for a key, a token or a session).
    #[error("no randomness: {0}")]
    NoRandomness(String),
    /// A background task of this process that a request waits on has stopped (the
    /// receipt writer, an export's reader).
    #[error("{0} has stopped")]
    Stopped(String),
    /// A document could not be written as canonical JSON (RFC 8785) to be signed.
    #[error("cannot canonicalize: {0}")]
    Canonical(String),
    /// The store cannot commit now (full, read-only, unreachable): see
    /// [`StoreError::unavailable`].
    #[error("the store cannot commit: {0}")]
    Unavailable(String),
    /// A document could not be signed: no key this process holds may sign now, or the
    /// HSM failed. Answered like [`StoreError::Unavailable`] (503, the widget retries).
    #[error("cannot sign: {0}")]
    Signing(String),
    /// The receipt writer's own SQLite connection failed ([`writer`]) for a reason that
    /// does not pass by itself (a constraint, a bug).
    #[error("cannot write the receipts: {0}")]
    Write(String),
    /// The export's own SQLite reader failed ([`export_reader`]).
    #[error("cannot read the receipts to export: {0}")]
    Read(String),
    /// Another process wrote the same thing at the same moment (a visitor's first
    /// receipt, a request id), so what this transaction read is stale; it was rolled
    /// back. A group of receipts is then written one by one; a receipt written alone is
    /// answered 503 with `Retry-After`, and the widget sends it again.
    #[error("written concurrently by another process: {0}")]
    Contended(String),
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
            StoreError::Unavailable(cause) | StoreError::Signing(cause) => {
                return Some(cause.clone());
            }
            _ => return None,
        };
        match e {
            sqlx::Error::Database(db) => {
                let code = db.code()?;
                let transient = if let Ok(n) = code.parse::<i64>() {
                    transient_sqlite_code(n)
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

/// Whether a SQLite (extended) result code means the store cannot commit now: BUSY 5,
/// LOCKED 6, NOMEM 7, READONLY 8, IOERR 10, CORRUPT 11, FULL 13, CANTOPEN 14, NOTADB 26.
fn transient_sqlite_code(n: i64) -> bool {
    matches!(n & 0xff, 5 | 6 | 7 | 8 | 10 | 11 | 13 | 14 | 26)
}

/// Runs `$body` in a transaction `$tx` on a connection of `$pool` taken for it alone; the
/// body commits. If anything fails, that connection is closed instead of going back to the
/// pool: after SQLITE_FULL or an I/O error SQLite may roll a transaction back by itself
/// while sqlx still counts it as open, and a connection in that state turned the next
/// `begin` into a SAVEPOINT inside a never-committed transaction (its "commit" released
/// the savepoint and committed nothing, and the open transaction held SQLite's write lock
/// until restart).
///
/// `begin = "…"` starts the transaction with that statement instead of `BEGIN`.
macro_rules! in_transaction {
    ($pool:expr, |$tx:ident| $body:block) => {
        in_transaction!(@start $pool, |c| sqlx::Connection::begin(c), |$tx| $body)
    };
    ($pool:expr, begin = $begin:expr, |$tx:ident| $body:block) => {
        in_transaction!(@start $pool, |c| sqlx::Connection::begin_with(c, $begin), |$tx| $body)
    };
    (@start $pool:expr, |$c:ident| $start:expr, |$tx:ident| $body:block) => {{
        let mut conn = $pool.acquire().await?;
        let result: Result<_> = async {
            let $c = &mut *conn;
            #[allow(unused_mut)]
            let mut $tx = $start.await?;
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

pub mod accounts;
pub mod audit;
pub mod conn;
mod dump;
pub mod erasure;
mod export_reader;
pub mod fleet;
pub mod heads;
mod hosts;
pub mod keys;
pub mod log;
pub mod notices;
pub mod packing;
pub mod receipts;
pub mod references;
pub mod releases;
pub mod requests;
pub mod scans;
pub mod search;
pub mod sites;
pub mod stats;
pub mod webhooks;
mod writer;

/// Kept here for the callers that read times with the rows they store.
pub use crate::dates::{now_ms, rfc3339_ms};
pub use accounts::{
    AccountRow, Claim, Role, ServiceToken, TOKEN_ID_LEN, TokenRow, UserRow, throttle_delay_ms,
};
pub use audit::{AuditAction, AuditRow};
pub use erasure::{ErasableRow, ErasureRow};
pub use keys::KeyRow;
pub use log::{CheckpointRow, LeafRow, LogRow, VerifyRow};
pub use notices::{PendingUpload, VersionRow};
pub use receipts::{Inserted, ReceiptKey, StoredReceipt};
pub use releases::{NewRelease, ReleaseRow};
pub use requests::RequestRow;
pub use scans::ScanRow;
pub use search::{ExportRow, SearchFilter};
pub use stats::StatsRow;
pub use writer::SqliteWriter;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// SQLite has one writer per database, and a writer that finds the lock taken sleeps in
/// SQLite's busy handler, backing off up to 100 ms at a time: receipts waited ~90 ms (p99)
/// whenever the log sequencer was writing. Hot writers of this process (receipt groups,
/// the sequencer) take turns here instead, so the next one starts the moment the last
/// one commits. Other processes (the CLI) still meet the busy handler, rarely.
static SQLITE_WRITER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Rows per multi-row statement: well under SQLite's 32,766 and PostgreSQL's 65,535
/// bound parameters.
const ROWS_PER_STATEMENT: usize = 256;

/// Whether a multi-row statement of `rows` rows stays prepared on its connection. sqlx keeps
/// up to 100 prepared statements per connection, and a multi-row statement is a different
/// statement for every row count: under 256 connections of load, groups of 1 to 256 rows
/// filled every connection's cache with large statements used once (the server's memory
/// grew from 20 MB to 160 MB). Small groups, the common case, stay prepared; big ones are
/// prepared, run and finalized.
fn prepared(rows: usize) -> bool {
    rows <= 16
}

/// `rows` split into the multi-row statements that write (or look up) them, each given its
/// rows by [`conn::Statement::rows`]. On PostgreSQL each statement is a round trip, and
/// takes its rows as one array per column whatever their number: one piece. On SQLite a
/// statement costs no round trip, but its text is parsed and planned again unless the
/// connection keeps it [`prepared`]: pieces of 16, 4 and 1 rows make three texts per
/// statement, all kept (parsing a new text for every group size was 5 % of the receipt
/// writer's time).
fn pieces<T>(backend: Backend, rows: &[T]) -> Vec<&[T]> {
    if backend == Backend::Postgres {
        return if rows.is_empty() { vec![] } else { vec![rows] };
    }
    let mut out = Vec::new();
    let mut rest = rows;
    for size in [16, 4, 1] {
        while rest.len() >= size {
            let (piece, tail) = rest.split_at(size);
            out.push(piece);
            rest = tail;
        }
    }
    out
}

fn to_u64(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The database behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file, one process.
    Sqlite,
    /// PostgreSQL, possibly a fleet of processes.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`, as logged.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
            Self::sqlite_with(Self::sqlite_options(url)?, pool_size).await
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgPoolOptions::new()
                .max_connections(pool_size.unwrap_or(16).max(2))
                // A visitor waits at most this long for a connection; while PostgreSQL is
                // down or failing over, that is how long a receipt post takes to be
                // answered 503 (the widget keeps the choice and retries).
                .acquire_timeout(Duration::from_secs(3));
            let pool = match hosts::parse(url)? {
                None => options.connect(url).await?,
                // Several hosts (a primary and its standbys): see [`hosts`].
                Some(list) => {
                    let read_write = list.read_write;
                    let pool = options
                        .after_connect(move |conn, _| {
                            Box::pin(async move {
                                if read_write && !hosts::writable(conn).await? {
                                    return Err(sqlx::Error::Configuration(
                                        "this PostgreSQL host accepts no writes".into(),
                                    ));
                                }
                                Ok(())
                            })
                        })
                        .connect_with(hosts::find(&list).await?)
                        .await?;
                    hosts::watch(pool.clone(), list);
                    pool
                }
            };
            POSTGRES_MIGRATIONS.run(&pool).await?;
            let store = Store::Postgres(pool);
            store.backfill_heads().await?;
            Ok(store)
        } else {
            Err(StoreError::BadUrl(url.to_owned()))
        }
    }

    /// The connection options of a SQLite store at `url` (`sqlite://PATH`).
    pub fn sqlite_options(url: &str) -> Result<SqliteConnectOptions> {
        Ok(SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            // A new database gets 4 KiB pages. Each new visitor's receipt changes a random
            // page of two indexes (the visitors' key, their receipts' index), and the WAL
            // takes every changed page whole: at 5,000 receipts/s the writer wrote 59 KB
            // per receipt with 8 KiB pages, 37 KB with 4 KiB, the same CPU, and 21 bytes
            // more per receipt stored (1,011 and 1,032 at 115,000: a packed receipt row
            // is a few hundred bytes). An existing file keeps its page size
            // (docs/OPERATIONS.md says how to change it).
            .page_size(4096)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a receipt acknowledged to the widget survives even a power cut.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Deleted content is overwritten, not left in free space: an erased receipt
            // must be gone from the file (docs/OPERATIONS.md, "Erasure and retention").
            .pragma("secure_delete", "on")
            // Statement journals and sorts stay in memory: a group of receipts is one
            // multi-row statement per table, and its statement journal (the pages it
            // changed, kept to undo it alone) spilled to a temporary file on every group,
            // a third of the writes of an ingest.
            .pragma("temp_store", "memory")
            .busy_timeout(Duration::from_secs(10)))
    }

    /// Opens and migrates a SQLite store with these options (from [`Store::sqlite_options`],
    /// perhaps with a pragma added, as the fault tests cap the file's size).
    pub async fn sqlite_with(opts: SqliteConnectOptions, pool_size: Option<u32>) -> Result<Self> {
        let pool = SqlitePoolOptions::new()
            .max_connections(pool_size.unwrap_or(8).max(2))
            .connect_with(opts)
            .await?;
        SQLITE_MIGRATIONS.run(&pool).await?;
        let store = Store::Sqlite(pool);
        store.backfill_heads().await?;
        Ok(store)
    }

    /// On SQLite, waits for this process's turn to write (see [`SQLITE_WRITER`]).
    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'static, ()>> {
        match self {
            Store::Sqlite(_) => Some(SQLITE_WRITER.lock().await),
            Store::Postgres(_) => None,
        }
    }

    /// Which back end this is.
    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite(_) => Backend::Sqlite,
            Store::Postgres(_) => Backend::Postgres,
        }
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, pool => sqlx::query("select 1").execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Backend, StoreError, pieces};

    #[test]
    fn sqlite_statements_come_in_three_sizes_and_keep_every_row_in_order() {
        for n in [0, 1, 3, 4, 11, 16, 17, 63, 256, 300] {
            let rows: Vec<usize> = (0..n).collect();
            let split = pieces(Backend::Sqlite, &rows);
            assert!(split.iter().all(|p| [1, 4, 16].contains(&p.len())), "{n}");
            assert_eq!(split.concat(), rows, "{n}");
            let pg = pieces(Backend::Postgres, &rows);
            assert_eq!(pg.len(), usize::from(n > 0), "{n}");
            assert_eq!(pg.concat(), rows, "{n}");
        }
        assert_eq!(
            pieces(Backend::Sqlite, &[0; 11]).len(),
            5,
            "4 + 4 + 1 + 1 + 1"
        );
    }

    #[test]
    fn only_passing_causes_are_unavailable() {
        let cause = StoreError::Unavailable("the disk is full".into());
        assert_eq!(cause.unavailable().as_deref(), Some("the disk is full"));
        let timeout = StoreError::Db(sqlx::Error::PoolTimedOut);
        assert!(timeout.unavailable().is_some());
        for bug in [
            StoreError::Corrupt("a stored receipt".into()),
            StoreError::NoRandomness("getrandom failed".into()),
            StoreError::Stopped("the receipt writer".into()),
            StoreError::Canonical("a number out of range".into()),
            StoreError::Db(sqlx::Error::RowNotFound),
        ] {
            assert_eq!(bug.unavailable(), None, "{bug}");
        }
    }
}
