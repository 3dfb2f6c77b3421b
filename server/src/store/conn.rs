//! One statement, three connections. The receipt group write ([`super::receipts`]) and
//! what it writes along (`consent_now`, the webhook outbox, the visitors' heads) are
//! written once as [`Statement`]s and run on whichever [`Conn`] the transaction holds: a
//! sqlx SQLite or PostgreSQL connection, or the receipt writer's own SQLite connection
//! ([`super::writer`]), which runs a whole group on one thread with no hand-off per
//! statement. The console's search builds its filters as `Statement`s too, run on the
//! pool ([`super::Store::fetch_all`]) or on an export's own SQLite connection
//! ([`super::export_reader`]).
//!
//! Values are the four SQL types both stores share here: integers, text, bytes and NULL.

use super::{Result, StoreError};
use std::future::Future;

/// A value bound to a statement or read from a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// NULL, of a column of this type (PostgreSQL types every bound value).
    Null(Kind),
    /// An integer (`bigint`).
    Int(i64),
    /// Text.
    Text(String),
    /// Bytes (`bytea`, a BLOB).
    Blob(Vec<u8>),
}

/// The type of a column, for a NULL bound to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `bigint`.
    Int,
    /// `text`.
    Text,
    /// `bytea`.
    Blob,
}

/// A Rust type bound as one SQL type.
pub trait Typed: Into<Value> {
    /// Its SQL type.
    const KIND: Kind;
}

impl Typed for i64 {
    const KIND: Kind = Kind::Int;
}
impl Typed for &str {
    const KIND: Kind = Kind::Text;
}
impl Typed for &String {
    const KIND: Kind = Kind::Text;
}
impl Typed for String {
    const KIND: Kind = Kind::Text;
}
impl Typed for Vec<u8> {
    const KIND: Kind = Kind::Blob;
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(v)
    }
}

impl<T: Typed> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null(T::KIND), Into::into)
    }
}

/// A statement and its values, in the SQL both stores share: each value is bound as `$n`.
#[derive(Debug, Default)]
pub struct Statement {
    sql: String,
    values: Vec<Value>,
    /// Rows of its multi-row lists.
    rows: usize,
    /// Written whole ([`Statement::with`]), not built value by value.
    whole: bool,
    /// Where [`Statement::bind`] wrote each `$` (see [`Statement::sqlite_sql`]).
    marks: Vec<usize>,
}

impl Statement {
    /// A statement starting with `sql`.
    pub fn new(sql: &str) -> Self {
        Self {
            sql: sql.to_owned(),
            ..Self::default()
        }
    }

    /// A statement written whole: `sql` names its `values` `$1`, `$2`, … (a value may be
    /// named twice). Not to be extended with [`Statement::bind`].
    pub fn with(sql: &str, values: Vec<Value>) -> Self {
        Self {
            sql: sql.to_owned(),
            values,
            rows: 0,
            whole: true,
            marks: Vec::new(),
        }
    }

    /// Appends SQL text.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a value (as its `$n`).
    pub fn bind(&mut self, v: impl Into<Value>) -> &mut Self {
        self.values.push(v.into());
        self.marks.push(self.sql.len());
        self.sql.push('$');
        self.sql.push_str(&self.values.len().to_string());
        self
    }

    /// Appends `(v1, v2, …)`.
    pub fn tuple(&mut self, values: impl IntoIterator<Item = Value>) -> &mut Self {
        self.sql.push('(');
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.bind(v);
        }
        self.sql.push(')');
        self
    }

    /// Appends `values (…), (…)` for a multi-row insert: one tuple per row.
    pub fn values<T>(&mut self, rows: &[T], row: impl Fn(&T) -> Vec<Value>) -> &mut Self {
        self.sql.push_str(" values ");
        self.list(rows, row)
    }

    /// Appends `(…), (…)`: one tuple per row.
    pub fn list<T>(&mut self, rows: &[T], row: impl Fn(&T) -> Vec<Value>) -> &mut Self {
        self.rows += rows.len();
        for (i, r) in rows.iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.tuple(row(r));
        }
        self
    }

    /// The text for SQLite: each bound value a plain `?` (its place in order) instead of
    /// `$n`. SQLite keeps a list of parameter names, and looks a name up in it (and sqlx
    /// asks each parameter's name) by walking it: with the thousands of values of a
    /// multi-row insert, most of a group's time went to parsing and binding. A plain
    /// `?` has no name.
    fn sqlite_sql(&self) -> std::borrow::Cow<'_, str> {
        if self.marks.is_empty() {
            return self.sql.as_str().into();
        }
        let mut sql = String::with_capacity(self.sql.len());
        let mut from = 0;
        for &at in &self.marks {
            sql.push_str(self.sql.get(from..at).unwrap_or_default());
            sql.push('?');
            // Past the `$` and its digits.
            let digits = self
                .sql
                .get(at + 1..)
                .unwrap_or_default()
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            from = at + 1 + digits;
        }
        sql.push_str(self.sql.get(from..).unwrap_or_default());
        sql.into()
    }

    /// Whether the connection keeps it prepared ([`super::prepared`]).
    fn keep(&self) -> bool {
        super::prepared(self.rows)
    }
}

/// A row read: its columns in order.
#[derive(Debug)]
pub struct Row(Vec<Value>);

impl Row {
    fn at(&self, i: usize) -> Result<&Value> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::Corrupt(format!("no column {i}")))
    }

    /// Column `i`, or NULL, if `pick` takes it (`what` it expects, for the error).
    fn get<T>(
        &self,
        i: usize,
        what: &str,
        pick: impl Fn(&Value) -> Option<T>,
    ) -> Result<Option<T>> {
        match self.at(i)? {
            Value::Null(_) => Ok(None),
            v => pick(v)
                .map(Some)
                .ok_or_else(|| StoreError::Corrupt(format!("column {i}: {what} expected, {v:?}"))),
        }
    }

    /// Column `i` as text, or NULL.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        self.get(i, "text", |v| match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        })
    }

    /// Column `i` as text.
    pub fn text(&self, i: usize) -> Result<String> {
        not_null(i, self.opt_text(i)?)
    }

    /// Column `i` as an integer, or NULL.
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        self.get(i, "integer", |v| match v {
            Value::Int(n) => Some(*n),
            _ => None,
        })
    }

    /// Column `i` as an integer.
    pub fn int(&self, i: usize) -> Result<i64> {
        not_null(i, self.opt_int(i)?)
    }

    /// Column `i` as bytes, or NULL.
    pub fn opt_blob(&self, i: usize) -> Result<Option<Vec<u8>>> {
        self.get(i, "bytes", |v| match v {
            Value::Blob(b) => Some(b.clone()),
            _ => None,
        })
    }

    /// Column `i` as bytes.
    pub fn blob(&self, i: usize) -> Result<Vec<u8>> {
        not_null(i, self.opt_blob(i)?)
    }
}

/// Column `i` holds a value of a type the store never writes.
fn unreadable(i: usize, kind: &str) -> StoreError {
    StoreError::Corrupt(format!("column {i}: a value of type {kind}"))
}

/// A column that may not be NULL.
fn not_null<T>(i: usize, v: Option<T>) -> Result<T> {
    v.ok_or_else(|| StoreError::Corrupt(format!("column {i} is null")))
}

/// A connection a transaction runs on.
pub trait Conn: Send {
    /// Runs `st` and returns its rows.
    fn rows(&mut self, st: &Statement) -> impl Future<Output = Result<Vec<Row>>> + Send;

    /// Runs `st` and returns how many rows it changed.
    fn run(&mut self, st: &Statement) -> impl Future<Output = Result<u64>> + Send;
}

impl Conn for sqlx::SqliteConnection {
    async fn rows(&mut self, st: &Statement) -> Result<Vec<Row>> {
        use sqlx::{Row as _, TypeInfo as _, ValueRef as _};
        let sql = st.sqlite_sql();
        let rows = sqlx::query_with(&sql, sqlite_args(st)?)
            .persistent(st.keep())
            .fetch_all(&mut *self)
            .await?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        let raw = r.try_get_raw(i)?;
                        if raw.is_null() {
                            return Ok(Value::Null(Kind::Int));
                        }
                        let kind = raw.type_info().name().to_owned();
                        Ok(match kind.as_str() {
                            "INTEGER" => Value::Int(r.try_get(i)?),
                            "TEXT" => Value::Text(r.try_get(i)?),
                            "BLOB" => Value::Blob(r.try_get(i)?),
                            other => return Err(unreadable(i, other)),
                        })
                    })
                    .collect::<Result<Vec<_>>>()
                    .map(Row)
            })
            .collect()
    }

    async fn run(&mut self, st: &Statement) -> Result<u64> {
        let sql = st.sqlite_sql();
        Ok(sqlx::query_with(&sql, sqlite_args(st)?)
            .persistent(st.keep())
            .execute(&mut *self)
            .await?
            .rows_affected())
    }
}

fn sqlite_args(st: &Statement) -> Result<sqlx::sqlite::SqliteArguments<'_>> {
    use sqlx::Arguments as _;
    let mut args = sqlx::sqlite::SqliteArguments::default();
    for v in &st.values {
        match v {
            Value::Null(_) => args.add(None::<i64>),
            Value::Int(n) => args.add(*n),
            Value::Text(s) => args.add(s.as_str()),
            Value::Blob(b) => args.add(b.as_slice()),
        }
        .map_err(|e| StoreError::Corrupt(format!("cannot bind: {e}")))?;
    }
    Ok(args)
}

impl Conn for sqlx::PgConnection {
    async fn rows(&mut self, st: &Statement) -> Result<Vec<Row>> {
        use sqlx::{Column as _, Row as _, TypeInfo as _};
        let rows = sqlx::query_with(&st.sql, pg_args(st)?)
            .persistent(st.keep())
            .fetch_all(&mut *self)
            .await?;
        rows.iter()
            .map(|r| {
                r.columns()
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        Ok(match c.type_info().name() {
                            "INT8" => r.try_get::<Option<i64>, _>(i)?.into(),
                            "INT4" => r.try_get::<Option<i32>, _>(i)?.map(i64::from).into(),
                            "TEXT" | "VARCHAR" => r.try_get::<Option<String>, _>(i)?.into(),
                            "BYTEA" => r.try_get::<Option<Vec<u8>>, _>(i)?.into(),
                            other => return Err(unreadable(i, other)),
                        })
                    })
                    .collect::<Result<Vec<_>>>()
                    .map(Row)
            })
            .collect()
    }

    async fn run(&mut self, st: &Statement) -> Result<u64> {
        Ok(sqlx::query_with(&st.sql, pg_args(st)?)
            .persistent(st.keep())
            .execute(&mut *self)
            .await?
            .rows_affected())
    }
}

fn pg_args(st: &Statement) -> Result<sqlx::postgres::PgArguments> {
    use sqlx::Arguments as _;
    let mut args = sqlx::postgres::PgArguments::default();
    for v in &st.values {
        match v {
            Value::Null(Kind::Int) => args.add(None::<i64>),
            Value::Null(Kind::Text) => args.add(None::<&str>),
            Value::Null(Kind::Blob) => args.add(None::<&[u8]>),
            Value::Int(n) => args.add(*n),
            Value::Text(s) => args.add(s.as_str()),
            Value::Blob(b) => args.add(b.as_slice()),
        }
        .map_err(|e| StoreError::Corrupt(format!("cannot bind: {e}")))?;
    }
    Ok(args)
}

impl super::Store {
    /// The rows of `st` on the pool, each decoded as `O` (its columns by name).
    pub(super) async fn fetch_all<O>(&self, st: &Statement) -> Result<Vec<O>>
    where
        O: Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        Ok(match self {
            super::Store::Sqlite(pool) => {
                let sql = st.sqlite_sql();
                sqlx::query_as_with(&sql, sqlite_args(st)?)
                    .persistent(st.keep())
                    .fetch_all(pool)
                    .await?
            }
            super::Store::Postgres(pool) => {
                sqlx::query_as_with(&st.sql, pg_args(st)?)
                    .persistent(st.keep())
                    .fetch_all(pool)
                    .await?
            }
        })
    }

    /// The one integer `st` selects, on the pool.
    pub(super) async fn fetch_int(&self, st: &Statement) -> Result<i64> {
        Ok(match self {
            super::Store::Sqlite(pool) => {
                let sql = st.sqlite_sql();
                sqlx::query_scalar_with(&sql, sqlite_args(st)?)
                    .persistent(st.keep())
                    .fetch_one(pool)
                    .await?
            }
            super::Store::Postgres(pool) => {
                sqlx::query_scalar_with(&st.sql, pg_args(st)?)
                    .persistent(st.keep())
                    .fetch_one(pool)
                    .await?
            }
        })
    }
}

/// Runs `work`, the [`Conn`] statements of a rusqlite connection owned by this thread:
/// they run to the end on it, so the future is ready at once (a pending one would be a
/// bug, reported as a failed write).
pub(super) fn at_once<T>(work: impl Future<Output = Result<T>>) -> Result<T> {
    use futures_util::FutureExt as _;
    work.now_or_never()
        .ok_or_else(|| StoreError::Write("a statement did not finish".into()))?
}

impl Conn for rusqlite::Connection {
    async fn rows(&mut self, st: &Statement) -> Result<Vec<Row>> {
        let mut statement = prepare(self, st)?;
        let n = statement.column_count();
        let mut rows = statement.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sqlite_error)? {
            let values = (0..n)
                .map(|i| {
                    use rusqlite::types::ValueRef;
                    Ok(match row.get_ref(i).map_err(sqlite_error)? {
                        ValueRef::Null => Value::Null(Kind::Int),
                        ValueRef::Integer(v) => Value::Int(v),
                        ValueRef::Text(t) => Value::Text(
                            std::str::from_utf8(t)
                                .map_err(|e| StoreError::Corrupt(e.to_string()))?
                                .to_owned(),
                        ),
                        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                        ValueRef::Real(_) => return Err(unreadable(i, "REAL")),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            out.push(Row(values));
        }
        Ok(out)
    }

    async fn run(&mut self, st: &Statement) -> Result<u64> {
        let mut statement = prepare(self, st)?;
        let changed = statement.raw_execute().map_err(sqlite_error)?;
        Ok(changed as u64)
    }
}

/// `st` prepared (and kept prepared when [`Statement::keep`]) with its values bound.
fn prepare<'c>(conn: &'c rusqlite::Connection, st: &Statement) -> Result<PreparedSqlite<'c>> {
    let mut statement = if st.keep() {
        PreparedSqlite::Cached(
            conn.prepare_cached(&st.sqlite_sql())
                .map_err(sqlite_error)?,
        )
    } else {
        PreparedSqlite::Once(conn.prepare(&st.sqlite_sql()).map_err(sqlite_error)?)
    };
    for (i, v) in st.values.iter().enumerate() {
        // A built statement binds its values by place (`?`, in order). One written whole
        // names them `$n`, maybe in another order or twice: found by name (SQLite walks
        // every name for that, too slow for a multi-row insert).
        let at = if st.whole {
            match statement
                .parameter_index(&format!("${}", i + 1))
                .map_err(sqlite_error)?
            {
                Some(at) => at,
                None => continue,
            }
        } else {
            i + 1
        };
        match v {
            Value::Null(_) => statement.raw_bind_parameter(at, rusqlite::types::Null),
            Value::Int(n) => statement.raw_bind_parameter(at, n),
            Value::Text(s) => statement.raw_bind_parameter(at, s),
            Value::Blob(b) => statement.raw_bind_parameter(at, b),
        }
        .map_err(sqlite_error)?;
    }
    Ok(statement)
}

/// A statement of the writer's connection: from its cache, or prepared for once.
enum PreparedSqlite<'c> {
    Cached(rusqlite::CachedStatement<'c>),
    Once(rusqlite::Statement<'c>),
}

impl<'c> std::ops::Deref for PreparedSqlite<'c> {
    type Target = rusqlite::Statement<'c>;
    fn deref(&self) -> &Self::Target {
        match self {
            PreparedSqlite::Cached(s) => s,
            PreparedSqlite::Once(s) => s,
        }
    }
}

impl std::ops::DerefMut for PreparedSqlite<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            PreparedSqlite::Cached(s) => s,
            PreparedSqlite::Once(s) => s,
        }
    }
}

/// A failure of the writer's own SQLite connection, classified as sqlx's are
/// ([`StoreError::unavailable`]): a full disk or a read-only file passes; a constraint
/// or a bug does not.
pub fn sqlite_error(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && super::transient_sqlite_code(i64::from(f.extended_code))
    {
        return StoreError::Unavailable(format!("{e} (code {})", f.extended_code));
    }
    StoreError::Write(e.to_string())
}
