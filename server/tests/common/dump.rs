//! What someone holding a copy of the database reads: every row of every table, as text.
//! The tests that keep secrets out of the database (subject secrets, signing keys, webhook
//! secrets) and those that check erasure look through it.

use yinyom_server::store::Store;

/// Every row of every table: `(table, the row's values as text)`. SQLite writes each value
/// with `quote()` (text in quotes, numbers, blobs as `X'…'` hexadecimal); PostgreSQL each
/// row as its record text (`bytea` as `\x…` hexadecimal).
pub async fn rows(store: &Store) -> Vec<(String, String)> {
    let mut out = Vec::new();
    match store {
        Store::Sqlite(pool) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'",
            )
            .fetch_all(pool)
            .await
            .expect("tables");
            for t in tables {
                let cols: Vec<String> =
                    sqlx::query_scalar("select name from pragma_table_info($1)")
                        .bind(&t)
                        .fetch_all(pool)
                        .await
                        .expect("columns");
                let expr = cols
                    .iter()
                    .map(|c| format!("quote(\"{c}\")"))
                    .collect::<Vec<_>>()
                    .join(" || ',' || ");
                let rows: Vec<String> = sqlx::query_scalar(&format!("select {expr} from \"{t}\""))
                    .fetch_all(pool)
                    .await
                    .expect("rows");
                out.extend(rows.into_iter().map(|r| (t.clone(), r)));
            }
        }
        Store::Postgres(pool) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "select table_name::text from information_schema.tables
                 where table_schema = 'public' and table_type = 'BASE TABLE'",
            )
            .fetch_all(pool)
            .await
            .expect("tables");
            for t in tables {
                let rows: Vec<String> =
                    sqlx::query_scalar(&format!("select \"{t}\"::text from \"{t}\""))
                        .fetch_all(pool)
                        .await
                        .expect("rows");
                out.extend(rows.into_iter().map(|r| (t.clone(), r)));
            }
        }
    }
    // A packed receipt body (the server's `store::packing`) is not readable as text in
    // its row: each receipt's JSON as the server reads it back, as a row of its own.
    out.extend(
        receipt_bodies(store)
            .await
            .into_iter()
            .map(|json| ("receipts (body)".to_owned(), json)),
    );
    // Likewise the templates the bodies are packed against (blobs above), as text.
    let sql = "select template from receipt_templates";
    let templates: Vec<Vec<u8>> = match store {
        Store::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        Store::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
    }
    .expect("templates");
    out.extend(templates.into_iter().map(|t| {
        (
            "receipt_templates (text)".to_owned(),
            String::from_utf8_lossy(&t).into_owned(),
        )
    }));
    out
}

/// (site, receipt id) of every receipt row.
async fn receipt_ids(store: &Store, only_packed: bool) -> Vec<(String, String)> {
    let sql = if only_packed {
        "select site_id, receipt_id from receipts where packed is not null"
    } else {
        "select site_id, receipt_id from receipts"
    };
    match store {
        Store::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await,
        Store::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await,
    }
    .expect("receipt ids")
}

/// Every receipt's canonical JSON, read back through the store.
async fn receipt_bodies(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for (site, id) in receipt_ids(store, false).await {
        // A row a test damaged on purpose may not read back.
        if let Ok(Some((r, _))) = store.receipt(&site, &id).await {
            out.push(r.json);
        }
    }
    out
}

/// Rewrites every packed receipt row as servers before packing stored it (plain JSON,
/// the JWS with its header), for the tests that edit a receipt's JSON by hand.
pub async fn unpack(store: &Store) {
    use yinyom_server::store::receipts::detach_jws;
    for (site, id) in receipt_ids(store, true).await {
        let (r, _) = store
            .receipt(&site, &id)
            .await
            .expect("read")
            .expect("receipt");
        let jws = detach_jws(&r.jws, &r.json);
        let plain = "update receipts set receipt_json = $2, packed = null, template_id = null
                     where receipt_id = $1";
        exec2(store, plain, &id, &r.json).await;
        exec2(
            store,
            "update receipts set jws = $2 where receipt_id = $1",
            &id,
            &jws,
        )
        .await;
    }
}

/// Every row of every table as one lower-cased text, a row a line, each `table: values`.
pub async fn text(store: &Store) -> String {
    rows(store)
        .await
        .iter()
        .map(|(t, r)| format!("{t}: {r}"))
        .collect::<Vec<_>>()
        .join("\n")
        .to_lowercase()
}

/// Runs one SQL statement on `store` (a test changing rows behind the server's back).
pub async fn exec(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(pool) => {
            sqlx::query(sql).execute(pool).await.expect(sql);
        }
        Store::Postgres(pool) => {
            sqlx::query(sql).execute(pool).await.expect(sql);
        }
    }
}

/// A second bind for [`exec2`]: text or a number.
pub enum Bind {
    Text(String),
    Int(i64),
}

impl From<&str> for Bind {
    fn from(s: &str) -> Self {
        Bind::Text(s.to_owned())
    }
}

impl From<&String> for Bind {
    fn from(s: &String) -> Self {
        Bind::Text(s.clone())
    }
}

impl From<i64> for Bind {
    fn from(n: i64) -> Self {
        Bind::Int(n)
    }
}

/// Runs one SQL statement with two binds, `a` and `b`, on `store` (a tamper, or a fixture
/// moved in time behind the server's back).
pub async fn exec2(store: &Store, sql: &str, a: &str, b: impl Into<Bind>) {
    macro_rules! run {
        ($pool:expr) => {
            match b.into() {
                Bind::Text(t) => sqlx::query(sql).bind(a).bind(t).execute($pool).await,
                Bind::Int(n) => sqlx::query(sql).bind(a).bind(n).execute($pool).await,
            }
            .map(|_| ())
        };
    }
    match store {
        Store::Sqlite(pool) => run!(pool),
        Store::Postgres(pool) => run!(pool),
    }
    .expect(sql);
}
