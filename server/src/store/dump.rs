//! The whole database as text: every row of every table. Nothing in the server reads
//! it; the tests use it to prove what the database does not hold (an erased visitor, an
//! agency's reference in clear).

use super::{Result, Store};

impl Store {
    /// Every row of every table, as `(table, "column=value …")` (blobs decoded lossily;
    /// on PostgreSQL each row as JSON).
    pub async fn every_row(&self) -> Result<Vec<(String, String)>> {
        use sqlx::{Column as _, Row as _};
        let mut out = Vec::new();
        match self {
            Store::Sqlite(pool) => {
                let tables: Vec<String> = sqlx::query_scalar(
                    "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'",
                )
                .fetch_all(pool)
                .await
                ?;
                for t in tables {
                    for row in sqlx::query(&format!("select * from \"{t}\""))
                        .fetch_all(pool)
                        .await?
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
                .await?;
                for t in tables {
                    let rows: Vec<String> =
                        sqlx::query_scalar(&format!("select row_to_json(t)::text from \"{t}\" t"))
                            .fetch_all(pool)
                            .await?;
                    out.extend(rows.into_iter().map(|r| (t.clone(), r)));
                }
            }
        }
        // A packed receipt body (see [`super::packing`]) is not text in its row: every
        // receipt's JSON as read back, as a row of its own.
        let ids: Vec<(String, String)> = on_pool!(self, pool => sqlx::query_as(
            "select site_id, receipt_id from receipts",
        )
        .fetch_all(pool)
        .await)?;
        for (site, id) in ids {
            if let Some((r, _)) = self.receipt(&site, &id).await? {
                out.push(("receipts (body)".to_owned(), r.json));
            }
        }
        Ok(out)
    }
}
