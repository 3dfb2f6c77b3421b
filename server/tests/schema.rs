//! The SQLite and PostgreSQL migrations build the same schema: after migrating, both have
//! the same tables, the same columns (by name and kind of value), and the same indexes
//! (by name, table, columns and uniqueness). Runs when `YINYOM_TEST_DATABASE_URL` names a
//! PostgreSQL server, against a fresh SQLite file. Also: what a migration does to the rows
//! of an older store.

mod common;

use std::collections::BTreeMap;
use yinyom_server::store::Store;

/// Table → column → kind of value (`integer`, `text`, `bytes`, `real`).
type Columns = BTreeMap<String, BTreeMap<String, String>>;
/// Index name → (table, columns in order, unique).
type Indexes = BTreeMap<String, (String, Vec<String>, bool)>;

/// The kind of value a declared column type holds, in either dialect.
fn kind(declared: &str) -> String {
    let t = declared.to_ascii_lowercase();
    let k = if t.contains("int") || t == "boolean" {
        "integer"
    } else if t.contains("char") || t.contains("text") {
        "text"
    } else if t.contains("blob") || t == "bytea" {
        "bytes"
    } else if t.contains("real") || t.contains("double") || t.contains("float") {
        "real"
    } else {
        return t;
    };
    k.to_owned()
}

async fn sqlite_schema(store: &Store) -> (Columns, Indexes) {
    let Store::Sqlite(pool) = store else {
        panic!("expected SQLite")
    };
    let tables: Vec<String> = sqlx::query_scalar(
        "select name from sqlite_master where type = 'table'
         and name not like 'sqlite_%' and name <> '_sqlx_migrations' order by name",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    let mut columns = Columns::new();
    for table in &tables {
        let cols: Vec<(String, String)> =
            sqlx::query_as("select name, type from pragma_table_info($1)")
                .bind(table)
                .fetch_all(pool)
                .await
                .expect("columns");
        columns.insert(
            table.clone(),
            cols.into_iter().map(|(n, t)| (n, kind(&t))).collect(),
        );
    }
    // Indexes created by `create index` (not the automatic ones of keys and constraints).
    let named: Vec<(String, String)> = sqlx::query_as(
        "select name, tbl_name from sqlite_master where type = 'index' and sql is not null
         order by name",
    )
    .fetch_all(pool)
    .await
    .expect("indexes");
    let mut indexes = Indexes::new();
    for (name, table) in named {
        let cols: Vec<String> =
            sqlx::query_scalar("select name from pragma_index_info($1) order by seqno")
                .bind(&name)
                .fetch_all(pool)
                .await
                .expect("index columns");
        let unique: i64 =
            sqlx::query_scalar("select \"unique\" from pragma_index_list($1) where name = $2")
                .bind(&table)
                .bind(&name)
                .fetch_one(pool)
                .await
                .expect("index uniqueness");
        indexes.insert(name, (table, cols, unique == 1));
    }
    (columns, indexes)
}

async fn postgres_schema(store: &Store) -> (Columns, Indexes) {
    let Store::Postgres(pool) = store else {
        panic!("expected PostgreSQL")
    };
    let cols: Vec<(String, String, String)> = sqlx::query_as(
        "select c.table_name::text, c.column_name::text, c.data_type::text
         from information_schema.columns c
         join information_schema.tables t
           on t.table_schema = c.table_schema and t.table_name = c.table_name
         where c.table_schema = current_schema() and t.table_type = 'BASE TABLE'
           and c.table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .expect("columns");
    let mut columns = Columns::new();
    for (table, column, declared) in cols {
        columns
            .entry(table)
            .or_default()
            .insert(column, kind(&declared));
    }
    // Indexes that no key or constraint made.
    let rows: Vec<(String, String, Vec<String>, bool)> = sqlx::query_as(
        "select ic.relname::text, tc.relname::text,
                array(select a.attname::text from unnest(i.indkey::int2[]) with ordinality k(n, o)
                      join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.n
                      order by k.o),
                i.indisunique
         from pg_index i
         join pg_class ic on ic.oid = i.indexrelid
         join pg_class tc on tc.oid = i.indrelid
         join pg_namespace ns on ns.oid = tc.relnamespace
         where ns.nspname = current_schema() and tc.relname <> '_sqlx_migrations'
           and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)",
    )
    .fetch_all(pool)
    .await
    .expect("indexes");
    let indexes = rows
        .into_iter()
        .map(|(name, table, cols, unique)| (name, (table, cols, unique)))
        .collect();
    (columns, indexes)
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_build_the_same_schema() {
    if std::env::var("YINYOM_TEST_DATABASE_URL").is_err() {
        eprintln!("YINYOM_TEST_DATABASE_URL is not set: nothing to compare SQLite with");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let postgres = common::store(dir.path()).await;
    let sqlite = Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("schema.db").display()
    ))
    .await
    .expect("open sqlite");

    let (sqlite_columns, sqlite_indexes) = sqlite_schema(&sqlite).await;
    let (postgres_columns, postgres_indexes) = postgres_schema(&postgres).await;
    assert!(
        sqlite_columns.contains_key("receipts") && sqlite_indexes.len() > 3,
        "the schema was read: {sqlite_columns:?} {sqlite_indexes:?}"
    );
    assert_eq!(
        sqlite_columns.keys().collect::<Vec<_>>(),
        postgres_columns.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (table, columns) in &sqlite_columns {
        assert_eq!(
            Some(columns),
            postgres_columns.get(table),
            "the same columns in `{table}` (SQLite left, PostgreSQL right)"
        );
    }
    assert_eq!(
        sqlite_indexes, postgres_indexes,
        "the same indexes (SQLite left, PostgreSQL right)"
    );
}

/// A store written before receipts kept their decisions as `choice` (one row per decision
/// in `receipt_decisions`) is upgraded: each receipt's rows become its `choice`, in the
/// order the writer uses (categories then purposes, each in id order), and the rows go.
#[tokio::test]
async fn decision_rows_become_the_receipts_choice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = common::bare_store(dir.path()).await;
    // The store as it was: every migration before the one under test.
    let choice = common::migration_version(&store, "receipt choice").await;
    common::migrate(&store, |version, _| version < choice).await;
    let old = [
        "insert into sites (id, name_json, origins_json, created_at, updated_at)
         values ('demo', '{}', '[]', 0, 0)",
        "insert into receipts (receipt_id, site_id, request_id, subject_id, issued_at, event,
                               method, notice_version, consent_revision, receipt_json, jws)
         values ('r1', 'demo', 'q1', 's1', 1, 'given', 'partial', 'v1', 1, '{}', 'h..s'),
                ('r2', 'demo', 'q2', 's2', 2, 'withdrawn', 'withdraw', 'v1', 1, '{}', 'h..s')",
        "insert into receipt_decisions (receipt_id, site_id, kind, item, granted)
         values ('r1', 'demo', 'purpose', 'newsletter', 0),
                ('r1', 'demo', 'category', 'ab', 1),
                ('r1', 'demo', 'category', 'a_z', 0),
                ('r1', 'demo', 'purpose', 'card', 1)",
    ];
    for sql in old {
        common::dump::exec(&store, sql).await;
    }
    common::migrate(&store, |_, _| true).await;
    let choices: Vec<(String, String)> = match &store {
        Store::Sqlite(pool) => {
            sqlx::query_as("select receipt_id, choice from receipts order by receipt_id")
                .fetch_all(pool)
                .await
        }
        Store::Postgres(pool) => {
            sqlx::query_as("select receipt_id, choice from receipts order by receipt_id")
                .fetch_all(pool)
                .await
        }
    }
    .expect("choices");
    assert_eq!(
        choices,
        [
            (
                "r1".to_owned(),
                "c:a_z=0 c:ab=1 p:card=1 p:newsletter=0".to_owned()
            ),
            ("r2".to_owned(), String::new()),
        ]
    );
}

/// A store from before request ids were each visitor's own keeps every receipt (SQLite
/// makes the table again) and its indexes, and afterwards two visitors may send the same
/// request id; the old unique index is gone.
#[tokio::test]
async fn receipts_survive_the_request_per_visitor_migration() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = common::bare_store(dir.path()).await;
    let per_visitor = common::migration_version(&store, "request per visitor").await;
    common::migrate(&store, |version, _| version < per_visitor).await;
    let old = [
        "insert into sites (id, name_json, origins_json, created_at, updated_at)
         values ('demo', '{}', '[]', 0, 0)",
        "insert into receipts (receipt_id, site_id, request_id, subject_id, issued_at, event,
                               method, notice_version, consent_revision, receipt_json, jws,
                               choice)
         values ('r1', 'demo', 'q1', 's1', 1, 'given', 'accept_all', 'v1', 1, '{\"a\":1}', 'h..s', 'c:a=1'),
                ('r2', 'demo', 'q2', 's2', 2, 'refused', 'reject_all', 'v1', 1, '{\"a\":2}', 'h..t', 'c:a=0')",
    ];
    for sql in old {
        common::dump::exec(&store, sql).await;
    }
    common::migrate(&store, |_, _| true).await;
    let rows = "select receipt_id || ' ' || request_id || ' ' || subject_id || ' ' || receipt_json
                || ' ' || jws || ' ' || choice from receipts order by receipt_id";
    let indexes = "select count(*) from (
                   select name from sqlite_master where type = 'index' and tbl_name = 'receipts'
                   and name in ('receipts_site_method', 'receipts_site_time_id',
                                'receipts_subject_latest')) i";
    let pg_indexes = "select count(*) from pg_indexes where tablename = 'receipts'
                      and indexname in ('receipts_site_method', 'receipts_site_time_id',
                                        'receipts_subject_latest')";
    let (kept, indexed): (Vec<String>, i64) = match &store {
        Store::Sqlite(pool) => (
            sqlx::query_scalar(rows)
                .fetch_all(pool)
                .await
                .expect("rows"),
            sqlx::query_scalar(indexes)
                .fetch_one(pool)
                .await
                .expect("indexes"),
        ),
        Store::Postgres(pool) => (
            sqlx::query_scalar(rows)
                .fetch_all(pool)
                .await
                .expect("rows"),
            sqlx::query_scalar(pg_indexes)
                .fetch_one(pool)
                .await
                .expect("indexes"),
        ),
    };
    assert_eq!(
        kept,
        [
            "r1 q1 s1 {\"a\":1} h..s c:a=1",
            "r2 q2 s2 {\"a\":2} h..t c:a=0"
        ]
    );
    assert_eq!(indexed, 3, "the receipts' indexes are there");
    common::dump::exec(
        &store,
        "insert into receipts (receipt_id, site_id, request_id, subject_id, issued_at, event,
                               method, notice_version, consent_revision, receipt_json, jws)
         values ('r3', 'demo', 'q1', 's3', 3, 'given', 'accept_all', 'v1', 1, '{}', 'h..u')",
    )
    .await;
}
