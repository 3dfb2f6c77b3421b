//! Reading the whole database back, to prove what it does not hold.

use yinyom_server::store::Store;

/// Every row of every table of the database, as text (blobs decoded lossily).
pub async fn every_row(store: &Store) -> Vec<(String, String)> {
    use sqlx::{Column as _, Row as _};
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
                for row in sqlx::query(&format!("select * from \"{t}\""))
                    .fetch_all(pool)
                    .await
                    .expect("rows")
                {
                    let mut text = String::new();
                    for (i, c) in row.columns().iter().enumerate() {
                        let v = row
                            .try_get::<Option<String>, _>(i)
                            .ok()
                            .flatten()
                            .or_else(|| {
                                row.try_get::<Option<Vec<u8>>, _>(i)
                                    .ok()
                                    .flatten()
                                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                            })
                            .unwrap_or_default();
                        text.push_str(&format!("{}={v} ", c.name()));
                    }
                    out.push((t.clone(), text));
                }
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
                    sqlx::query_scalar(&format!("select row_to_json(t)::text from \"{t}\" t"))
                        .fetch_all(pool)
                        .await
                        .expect("rows");
                out.extend(rows.into_iter().map(|r| (t.clone(), r)));
            }
        }
    }
    out
}
