//! The reader behind every export: pages of receipts, oldest first, streamed through a
//! bounded channel while the export formats the page before. `log verify` reads its pages
//! the same way ([`Store::bulk_rows`]).
//!
//! On SQLite the pages are read by a thread of their own on its own connection
//! (rusqlite, the same libsqlite3 as sqlx): sqlx hands each row from its worker thread to
//! the async side one at a time, which held CSV exports at about 130,000 rows/s on two
//! cores. On PostgreSQL (and an in-memory SQLite) a task reads the pages through the pool.
//! Each page is its own statement (keyset paging: [`export_page`], one
//! [`super::conn::Statement`] for both readers), so no read transaction stays open for
//! the whole export and the WAL can still be checkpointed meanwhile.

use super::{
    Result, Store, StoreError,
    conn::{Conn as _, Row, Statement, at_once},
    packing::{self, Templates},
    search::{ExportRow, SearchFilter, export_page},
};
use std::{path::PathBuf, time::Duration};
use tokio::sync::mpsc;

/// Pages waiting in the channel at most: with the page being read and the page being
/// formatted, an export holds three pages in memory.
const AHEAD: usize = 1;

type Pages = mpsc::Receiver<Result<Vec<ExportRow>>>;

impl Store {
    /// The receipts matching `f`, oldest first ((issue time, id) order), in pages of
    /// `page` rows; the channel closes after the last page (a short or empty one) or an
    /// error. Dropping the receiver stops the reading.
    pub fn export_pages(&self, f: SearchFilter, page: i64) -> Pages {
        let (tx, rx) = mpsc::channel(AHEAD);
        if let Some(path) = self.sqlite_file() {
            let failed = tx.clone();
            let spawned = std::thread::Builder::new()
                .name("yinyom-export".into())
                .spawn(move || {
                    if let Err(e) = read_sqlite(path, &f, page, &tx) {
                        let _ = tx.blocking_send(Err(e));
                    }
                });
            if let Err(e) = spawned {
                let _ = failed.try_send(Err(StoreError::Read(format!("no thread: {e}"))));
            }
        } else {
            let store = self.clone();
            tokio::spawn(async move {
                let mut after = None;
                loop {
                    let rows = match store.export_rows(&f, after.take(), page).await {
                        Ok(rows) => rows,
                        Err(e) => {
                            let _ = tx.send(Err(e)).await;
                            return;
                        }
                    };
                    let full = rows.len() as i64 == page;
                    after = rows.last().map(|(id, ms, _, _)| (*ms, id.clone()));
                    if tx.send(Ok(rows)).await.is_err() || !full {
                        return;
                    }
                }
            });
        }
        rx
    }

    /// The rows of `st`, a read of many rows (a page of `log verify`), and the templates
    /// their bodies name (read after them, so every template they name is there). On a
    /// SQLite file they are read on a blocking thread with a connection of its own, as
    /// the export pages are: through the pool, sqlx's hand-off of each row from its
    /// worker thread took a third of `log verify`'s CPU. Elsewhere through the pool.
    pub(super) async fn bulk_rows(&self, st: Statement) -> Result<(Vec<Row>, Templates)> {
        if let Some(path) = self.sqlite_file() {
            return tokio::task::spawn_blocking(move || {
                let mut conn = open_reader(path)?;
                let rows = at_once(conn.rows(&st)).map_err(as_read)?;
                let templates =
                    packing::templates_of(&conn).map_err(|e| StoreError::Read(e.to_string()))?;
                Ok((rows, templates))
            })
            .await
            .map_err(|e| StoreError::Read(format!("a read stopped: {e}")))?;
        }
        Ok((self.read_rows(&st).await?, self.templates().await?))
    }

    /// The rows of `st`, a read of a few rows, read through the pool.
    pub(super) async fn read_rows(&self, st: &Statement) -> Result<Vec<Row>> {
        Ok(match self {
            Store::Sqlite(pool) => pool.acquire().await?.rows(st).await?,
            Store::Postgres(pool) => pool.acquire().await?.rows(st).await?,
        })
    }

    /// The file of a SQLite store (`None` on PostgreSQL or in memory).
    pub(super) fn sqlite_file(&self) -> Option<PathBuf> {
        let Store::Sqlite(pool) = self else {
            return None;
        };
        let options = pool.connect_options();
        let path = options.get_filename();
        let name = path.to_string_lossy();
        // sqlx names an in-memory database `file:sqlx-in-memory-N`.
        (!name.starts_with("file:") && name != ":memory:").then(|| path.to_path_buf())
    }
}

/// Reads the pages on this (blocking) thread and sends them; stops early when the export
/// is dropped.
fn read_sqlite(
    path: PathBuf,
    f: &SearchFilter,
    page: i64,
    tx: &mpsc::Sender<Result<Vec<ExportRow>>>,
) -> Result<()> {
    let read = |e: rusqlite::Error| StoreError::Read(e.to_string());
    let mut conn = open_reader(path)?;
    let mut after = None;
    loop {
        // The connection is this thread's own.
        let stored = at_once(conn.rows(&export_page(f, after.take(), page))).map_err(as_read)?;
        // After the rows: every template they name was written before them.
        let templates = packing::templates_of(&conn).map_err(read)?;
        // The columns of `search::EXPORT_FROM`.
        let rows = stored
            .into_iter()
            .map(|r| {
                let (json, jws) =
                    templates.body(r.text(2)?, r.opt_blob(3)?, r.opt_int(4)?, r.text(5)?)?;
                Ok((r.text(0)?, r.int(1)?, json, jws))
            })
            .collect::<Result<Vec<ExportRow>>>()?;
        let full = rows.len() as i64 == page;
        after = rows.last().map(|(id, ms, _, _)| (*ms, id.clone()));
        if tx.blocking_send(Ok(rows)).is_err() || !full {
            return Ok(());
        }
    }
}

/// A read-only connection of its own to the SQLite file at `path`, for one thread.
fn open_reader(path: PathBuf) -> Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let read = |e: rusqlite::Error| StoreError::Read(e.to_string());
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(read)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(read)?;
    conn.pragma_update(None, "query_only", true).map_err(read)?;
    Ok(conn)
}

/// A failed statement of a reader is a failed read (the statements report writes).
fn as_read(e: StoreError) -> StoreError {
    match e {
        StoreError::Write(m) => StoreError::Read(m),
        e => e,
    }
}
