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
//! Many rows go to a statement as a row source ([`Statement::rows`]): a `values` list on
//! SQLite, one array per column on PostgreSQL.

use super::{Backend, Result, StoreError};
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
    /// A column of values of one type, bound as one PostgreSQL array
    /// ([`Statement::rows`]); never bound on SQLite, never read.
    Array(Kind, Vec<Value>),
}

impl Value {
    /// Its SQL type (an array: its elements').
    fn kind(&self) -> Kind {
        match self {
            Value::Null(k) | Value::Array(k, _) => *k,
            Value::Int(_) => Kind::Int,
            Value::Text(_) => Kind::Text,
            Value::Blob(_) => Kind::Blob,
        }
    }
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

    /// Appends `st` (built with [`Statement::bind`]), its values numbered after this one's.
    fn append(&mut self, st: Statement) -> Result<()> {
        if st.whole {
            return Err(StoreError::Corrupt(
                "a statement written whole cannot be appended".into(),
            ));
        }
        let offset = self.values.len();
        let start = self.sql.len();
        let (sql, marks) = st.renumbered(|n| format!("${}", n + offset))?;
        self.sql.push_str(&sql);
        self.marks.extend(marks.into_iter().map(|at| start + at));
        self.values.extend(st.values);
        self.rows += st.rows;
        Ok(())
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
    fn values<T>(&mut self, rows: &[T], row: impl Fn(&T) -> Vec<Value>) -> &mut Self {
        self.sql.push_str(" values ");
        self.list(rows, row)
    }

    /// Appends `rows` as a query whose columns are named `column1`, `column2`…, for an
    /// `insert`, an `in (…)` or a `from (…) v`:
    /// - on SQLite ` values (…), (…)`, each value bound;
    /// - on PostgreSQL ` select * from unnest($1::text[], …) as u(column1, …)`, one array
    ///   per column. Its text is then the same whatever the number of rows: prepared once
    ///   and kept, one round trip each time, and no limit on rows per statement.
    ///
    /// `rows` must not be empty; each column's type is read from the first row.
    pub fn rows<T>(
        &mut self,
        backend: Backend,
        rows: &[T],
        row: impl Fn(&T) -> Vec<Value>,
    ) -> &mut Self {
        if backend == Backend::Sqlite {
            return self.values(rows, row);
        }
        let mut columns: Vec<(Kind, Vec<Value>)> = Vec::new();
        for r in rows {
            for (i, v) in row(r).into_iter().enumerate() {
                if columns.len() <= i {
                    columns.push((v.kind(), Vec::with_capacity(rows.len())));
                }
                if let Some((_, column)) = columns.get_mut(i) {
                    column.push(v);
                }
            }
        }
        self.push(" select * from unnest(");
        let n = columns.len();
        for (i, (kind, column)) in columns.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(Value::Array(kind, column));
            self.push(match kind {
                Kind::Int => "::int8[]",
                Kind::Text => "::text[]",
                Kind::Blob => "::bytea[]",
            });
        }
        self.push(") as u(");
        let names: Vec<String> = (1..=n).map(|i| format!("column{i}")).collect();
        self.push(&names.join(", ")).push(")")
    }

    /// Appends `(…), (…)`: one tuple per row.
    fn list<T>(&mut self, rows: &[T], row: impl Fn(&T) -> Vec<Value>) -> &mut Self {
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
        // Only a `$` written by `bind` is a mark, so this never fails.
        self.renumbered(|_| "?".to_owned())
            .map_or_else(|_| self.sql.as_str().into(), |(sql, _)| sql.into())
    }

    /// Its text with each bound value's `$n` written as `mark(n)` instead, and where each
    /// mark now starts.
    fn renumbered(&self, mark: impl Fn(usize) -> String) -> Result<(String, Vec<usize>)> {
        let mut sql = String::with_capacity(self.sql.len());
        let mut marks = Vec::with_capacity(self.marks.len());
        let mut from = 0;
        for &at in &self.marks {
            sql.push_str(self.sql.get(from..at).unwrap_or_default());
            // Past the `$` and its digits.
            let digits = self
                .sql
                .get(at + 1..)
                .unwrap_or_default()
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            let n: usize = self
                .sql
                .get(at + 1..at + 1 + digits)
                .and_then(|d| d.parse().ok())
                .ok_or_else(|| StoreError::Corrupt("a bound value without its number".into()))?;
            marks.push(sql.len());
            sql.push_str(&mark(n));
            from = at + 1 + digits;
        }
        sql.push_str(self.sql.get(from..).unwrap_or_default());
        Ok((sql, marks))
    }

    /// Whether the connection keeps it prepared ([`super::prepared`]).
    fn keep(&self) -> bool {
        super::prepared(self.rows)
    }
}

/// Statements that write, run in the caller's transaction in the order given: on SQLite one
/// after the other (a statement there costs no round trip); on PostgreSQL as one
/// statement, each a part of its `with`, so the whole batch is one round trip to the
/// server instead of one per statement. Built with [`Statement::bind`] (and
/// [`Statement::rows`]), each given without `returning`.
///
/// On PostgreSQL the parts see the same snapshot of the tables: none may read what another
/// writes, and two may not write the same row.
#[derive(Debug, Default)]
pub struct Batch(Vec<(Statement, bool)>);

impl Batch {
    /// Adds `st`.
    pub fn push(&mut self, st: Statement) {
        self.0.push((st, false));
    }

    /// Adds `st`, if any.
    pub fn extend(&mut self, st: Option<Statement>) {
        self.0.extend(st.map(|st| (st, false)));
    }

    /// Adds `st`, whose rows written [`Batch::run`] tells; returns its place in that answer.
    pub fn push_counted(&mut self, st: Statement) -> usize {
        let at = self.0.iter().filter(|(_, counted)| *counted).count();
        self.0.push((st, true));
        at
    }

    /// Runs the statements; returns how many rows each counted one wrote (inserted or
    /// updated), in order.
    pub async fn run<C: Conn>(self, conn: &mut C) -> Result<Vec<u64>> {
        if conn.backend() == Backend::Sqlite || self.0.len() < 2 {
            let mut counts = Vec::new();
            for (st, counted) in &self.0 {
                let n = conn.run(st).await?;
                if *counted {
                    counts.push(n);
                }
            }
            return Ok(counts);
        }
        let mut all = Statement::new("with ");
        let mut counts = Vec::new();
        for (i, (st, counted)) in self.0.into_iter().enumerate() {
            if i > 0 {
                all.push(", ");
            }
            all.push(&format!("w{i} as ("));
            all.append(st)?;
            if counted {
                all.push(" returning 1");
                counts.push(format!("(select count(*) from w{i})"));
            }
            all.push(")");
        }
        let n = counts.len();
        if counts.is_empty() {
            counts.push("1".into());
        }
        all.push(" select ").push(&counts.join(", "));
        let rows = conn.rows(&all).await?;
        let row = rows
            .first()
            .ok_or_else(|| StoreError::Corrupt("a batch answered no row".into()))?;
        (0..n).map(|i| super::to_u64(row.int(i)?)).collect()
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

    /// Column `i` as text whatever it holds, for an audit of columns someone may have
    /// rewritten with another type (SQLite keeps what it is given): an integer as its
    /// digits, bytes as `x'…'`, NULL as empty. The audit then names the column as
    /// differing from the signed receipt instead of failing the whole read.
    pub fn any_text(&self, i: usize) -> Result<String> {
        Ok(match self.at(i)? {
            Value::Text(s) => s.clone(),
            Value::Int(n) => n.to_string(),
            Value::Blob(b) => format!("x'{}'", hex::encode(b)),
            Value::Null(_) => String::new(),
            Value::Array(..) => return Err(no_arrays()),
        })
    }

    /// [`Row::any_text`], or `None` for NULL.
    pub fn opt_any_text(&self, i: usize) -> Result<Option<String>> {
        match self.at(i)? {
            Value::Null(_) => Ok(None),
            _ => self.any_text(i).map(Some),
        }
    }

    /// Column `i` as an integer whatever it holds, for the same audit: anything but an
    /// integer reads as `i64::MIN`, a value no receipt carries, so it differs from the
    /// signed one.
    pub fn any_int(&self, i: usize) -> Result<i64> {
        Ok(match self.at(i)? {
            Value::Int(n) => *n,
            _ => i64::MIN,
        })
    }

    /// [`Row::any_int`], or `None` for NULL.
    pub fn opt_any_int(&self, i: usize) -> Result<Option<i64>> {
        match self.at(i)? {
            Value::Null(_) => Ok(None),
            _ => self.any_int(i).map(Some),
        }
    }

    /// Column `i` as bytes whatever it holds, for the same audit (text and integers as
    /// their bytes: they then fail to unpack or to match a hash), or `None` for NULL.
    pub fn opt_any_blob(&self, i: usize) -> Result<Option<Vec<u8>>> {
        Ok(match self.at(i)? {
            Value::Blob(b) => Some(b.clone()),
            Value::Text(s) => Some(s.as_bytes().to_vec()),
            Value::Int(n) => Some(n.to_string().into_bytes()),
            Value::Null(_) => None,
            Value::Array(..) => return Err(no_arrays()),
        })
    }

    /// Column `i` as read, to bind again as it is (a page's key).
    pub fn value(&self, i: usize) -> Result<Value> {
        self.at(i).cloned()
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
    /// The store it is a connection to.
    fn backend(&self) -> Backend;

    /// Runs `st` and returns its rows.
    fn rows(&mut self, st: &Statement) -> impl Future<Output = Result<Vec<Row>>> + Send;

    /// Runs `st` and returns how many rows it changed.
    fn run(&mut self, st: &Statement) -> impl Future<Output = Result<u64>> + Send;
}

impl Conn for sqlx::SqliteConnection {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

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
            Value::Array(..) => return Err(no_arrays()),
        }
        .map_err(|e| StoreError::Corrupt(format!("cannot bind: {e}")))?;
    }
    Ok(args)
}

/// An array bound on SQLite: a bug ([`Statement::rows`] makes none there).
fn no_arrays() -> StoreError {
    StoreError::Corrupt("an array bound to a SQLite statement".into())
}

impl Conn for sqlx::PgConnection {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

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
            Value::Array(kind, column) => add_array(&mut args, *kind, column),
        }
        .map_err(|e| StoreError::Corrupt(format!("cannot bind: {e}")))?;
    }
    Ok(args)
}

/// Binds `column` as one PostgreSQL array of `kind` (a NULL element where a value is NULL).
fn add_array(
    args: &mut sqlx::postgres::PgArguments,
    kind: Kind,
    column: &[Value],
) -> std::result::Result<(), sqlx::error::BoxDynError> {
    use sqlx::Arguments as _;
    fn each<'v, T>(
        column: &'v [Value],
        pick: impl Fn(&'v Value) -> Option<T>,
    ) -> std::result::Result<Vec<Option<T>>, sqlx::error::BoxDynError> {
        column
            .iter()
            .map(|v| match v {
                Value::Null(_) => Ok(None),
                v => pick(v)
                    .map(Some)
                    .ok_or_else(|| format!("an array of mixed types: {v:?}").into()),
            })
            .collect()
    }
    match kind {
        Kind::Int => args.add(each(column, |v| match v {
            Value::Int(n) => Some(*n),
            _ => None,
        })?),
        Kind::Text => args.add(each(column, |v| match v {
            Value::Text(s) => Some(s.as_str()),
            _ => None,
        })?),
        Kind::Blob => args.add(each(column, |v| match v {
            Value::Blob(b) => Some(b.as_slice()),
            _ => None,
        })?),
    }
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
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

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
            Value::Array(..) => return Err(no_arrays()),
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

#[cfg(test)]
mod tests {
    use super::{Backend, Kind, Statement, Value};

    fn pair(r: &(i64, Option<&str>)) -> Vec<Value> {
        vec![r.0.into(), r.1.into()]
    }

    #[test]
    fn rows_are_a_values_list_on_sqlite_and_an_array_per_column_on_postgres() {
        let rows = [(1, Some("a")), (2, None)];
        let mut sqlite = Statement::new("insert into t (n, s)");
        sqlite.rows(Backend::Sqlite, &rows, pair);
        assert_eq!(
            sqlite.sqlite_sql(),
            "insert into t (n, s) values (?, ?), (?, ?)"
        );
        assert_eq!(sqlite.values.len(), 4);

        let mut pg = Statement::new("insert into t (n, s)");
        pg.rows(Backend::Postgres, &rows, pair);
        assert_eq!(
            pg.sql,
            "insert into t (n, s) select * from unnest($1::int8[], $2::text[]) as u(column1, column2)"
        );
        assert_eq!(
            pg.values,
            vec![
                Value::Array(Kind::Int, vec![Value::Int(1), Value::Int(2)]),
                Value::Array(
                    Kind::Text,
                    vec![Value::Text("a".into()), Value::Null(Kind::Text)]
                ),
            ]
        );
        // The same text for any number of rows: prepared once.
        let mut more = Statement::new("insert into t (n, s)");
        more.rows(Backend::Postgres, &[(3, None); 40], pair);
        assert_eq!(more.sql, pg.sql);
        assert!(more.keep());
    }

    #[test]
    fn an_appended_statement_numbers_its_values_after_the_first() {
        let mut first = Statement::new("delete from a where x = ");
        first.bind(1_i64).push(" and y = ").bind("b");
        let mut second = Statement::new("update c set z = ");
        second
            .bind(3_i64)
            .push(" where w = ")
            .bind("d")
            .push(" or v = ")
            .bind(5_i64);
        first.push("; ");
        first.append(second).expect("built by bind");
        assert_eq!(
            first.sql,
            "delete from a where x = $1 and y = $2; update c set z = $3 where w = $4 or v = $5"
        );
        assert_eq!(first.values.len(), 5);
        assert_eq!(
            first.sqlite_sql(),
            "delete from a where x = ? and y = ?; update c set z = ? where w = ? or v = ?"
        );
        assert!(
            Statement::new("x")
                .append(Statement::with("select $1", vec![1_i64.into()]))
                .is_err(),
            "a statement written whole has no marks to renumber by"
        );
    }
}
