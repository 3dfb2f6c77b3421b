//! The hot writers' own connections to a SQLite file: the receipt writer's and the log
//! sequencer's ([`Store::write_on`]).
//!
//! Through sqlx, every statement of a group write is a hand-off from the async task to
//! sqlx's SQLite worker thread and back, about a dozen per group; on two busy cores each
//! hand-off waits for a core, and the one writer SQLite allows spent most of its time
//! waiting (measured: the writer busy 97 % of the time while the machine was 36–39 %
//! idle; a sequencer turn of 250 receipts held the write lock 9 ms on average under
//! load, 3.7 ms on its own connection). Here a writer runs its whole transaction, from
//! `begin` to `commit`, on the thread that asked (tokio's `block_in_place`), on a
//! connection of its own (rusqlite, the same libsqlite3 as sqlx), with the same
//! statements as on any other connection ([`super::receipts::write_group`],
//! `super::log::append`).
//!
//! The connection is set as the pool's connections are: it copies their per-connection
//! settings (synchronous, foreign keys, secure delete, temporary storage, busy timeout,
//! a page-count cap) when it opens. After any failure it is closed (which rolls back
//! what was open) and opened again for the next transaction.

use super::conn::{at_once, sqlite_error};
use super::receipts::{ReceiptKey, StoredReceipt, write_group};
use super::{Backend, Result, Store, StoreError, now_ms};
use rusqlite::OptionalExtension as _;
use std::{path::PathBuf, sync::Mutex};

/// The per-connection settings copied from the pool.
const SETTINGS: [&str; 6] = [
    "synchronous",
    "foreign_keys",
    "secure_delete",
    "temp_store",
    "busy_timeout",
    "max_page_count",
];

/// The page cache of a hot writer's connection: 64 MiB at most, filled only as pages are
/// read (SQLite's default is 2 MiB). Each receipt touches a random page of the visitors'
/// key and of their receipts' index; with the default cache those pages were read again
/// from the operating system group after group (`pread`: 6.2 % of the server's CPU under
/// load at 256 connections, 4.2 % with this cache).
const WRITER_CACHE: &str = "pragma cache_size = -65536";

/// A hot writer's own SQLite connection, opened on first use.
#[derive(Debug)]
pub struct SqliteWriter {
    path: PathBuf,
    conn: Mutex<Option<rusqlite::Connection>>,
}

impl SqliteWriter {
    fn is_open(&self) -> bool {
        self.conn.lock().is_ok_and(|c| c.is_some())
    }
}

impl Store {
    /// A hot writer's own connection, on a SQLite file (`None` on PostgreSQL or in
    /// memory, where the pool is the way: [`Store::write_receipts`], `sequence_log`
    /// without one).
    pub fn sqlite_writer(&self) -> Option<SqliteWriter> {
        self.sqlite_file().map(|path| SqliteWriter {
            path,
            conn: Mutex::new(None),
        })
    }

    /// [`Store::write_receipts`] on `writer`'s own connection, in a transaction of its
    /// own (`begin immediate`): the same statements, the same answer.
    pub async fn write_receipts_on<F>(
        &self,
        writer: &SqliteWriter,
        keys: &[ReceiptKey<'_>],
        finish: F,
    ) -> Result<Vec<Option<(StoredReceipt, bool)>>>
    where
        F: FnMut(usize, bool, Option<String>) -> Option<StoredReceipt> + Send,
    {
        let now = now_ms();
        self.write_on(writer, |conn| {
            at_once(write_group(conn, Backend::Sqlite, keys, finish, now))
        })
        .await
    }

    /// Runs `write` on `writer`'s own connection in a transaction of its own (`begin
    /// immediate`), in this process's turn of SQLite's one writer, and commits what it
    /// wrote (a failure rolls it back).
    pub(super) async fn write_on<T>(
        &self,
        writer: &SqliteWriter,
        write: impl FnOnce(&mut rusqlite::Connection) -> Result<T>,
    ) -> Result<T> {
        let settings = match writer.is_open() {
            true => Vec::new(),
            false => self.connection_settings().await?,
        };
        let _turn = self.write_turn().await;
        let write = || {
            let mut slot = writer
                .conn
                .lock()
                .map_err(|_| StoreError::Stopped("the SQLite writer".into()))?;
            let open = match slot.take() {
                Some(c) => c,
                None => open(&writer.path, &settings)?,
            };
            let conn = slot.insert(open);
            let result = (|| {
                conn.execute_batch("begin immediate")
                    .map_err(sqlite_error)?;
                let written = write(conn)?;
                conn.execute_batch("commit").map_err(sqlite_error)?;
                Ok(written)
            })();
            if result.is_err() {
                // Closing rolls back whatever is still open; the next write opens afresh.
                *slot = None;
            }
            result
        };
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi_thread {
            // The other tasks of this worker thread move to another while SQLite works.
            tokio::task::block_in_place(write)
        } else {
            write()
        }
    }

    /// The per-connection [`SETTINGS`] of one of the pool's connections.
    async fn connection_settings(&self) -> Result<Vec<(&'static str, i64)>> {
        let Store::Sqlite(pool) = self else {
            return Ok(Vec::new());
        };
        let mut conn = pool.acquire().await?;
        let mut settings = Vec::new();
        for name in SETTINGS {
            let value: i64 = sqlx::query_scalar(&format!("pragma {name}"))
                .fetch_one(&mut *conn)
                .await?;
            settings.push((name, value));
        }
        Ok(settings)
    }
}

/// Opens the writer's connection with the pool's `settings`.
fn open(path: &PathBuf, settings: &[(&str, i64)]) -> Result<rusqlite::Connection> {
    if settings.is_empty() {
        return Err(StoreError::Unavailable(
            "the receipt writer's connection is not set up".into(),
        ));
    }
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_error)?;
    // Every statement of a group write stays prepared (see `super::pieces`).
    conn.set_prepared_statement_cache_capacity(64);
    for (name, value) in settings {
        // Some of these answer with the value set, some with nothing.
        conn.query_row(&format!("pragma {name} = {value}"), [], |_| Ok(()))
            .optional()
            .map_err(sqlite_error)?;
    }
    conn.execute_batch(WRITER_CACHE).map_err(sqlite_error)?;
    Ok(conn)
}
