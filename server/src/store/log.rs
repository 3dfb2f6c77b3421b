//! The transparency log: the queue of receipts waiting for it, its leaves and signed
//! checkpoints, and the daily counts the sequencer keeps beside them.

use super::{ROWS_PER_STATEMENT, Result, Store, from_json, to_i64, to_u64};
use crate::dates::thailand_day;
use sqlx::QueryBuilder;

/// A stored log checkpoint.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CheckpointRow {
    /// Leaves covered.
    #[sqlx(try_from = "i64")]
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

/// A `log_leaves` row joined with its receipt.
#[derive(sqlx::FromRow)]
struct LeafJoinRow {
    seq: i64,
    receipt_id: String,
    leaf_hash: Vec<u8>,
    receipt_json: Option<String>,
    jws: Option<String>,
}

/// A `log_pending` entry joined with its receipt (`None`s: the receipt no longer exists).
#[derive(sqlx::FromRow)]
struct QueuedRow {
    receipt_id: String,
    receipt_json: Option<String>,
    issued_at: Option<i64>,
    notice_version: Option<String>,
    method: Option<String>,
}

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
        let day = thailand_day(issued_at_ms);
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

impl Store {
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
        let queued: Vec<QueuedRow> = on_pool!(self, pool => sqlx::query_as(
            "select p.receipt_id, r.receipt_json, r.issued_at, r.notice_version, r.method
             from log_pending p left join receipts r on r.receipt_id = p.receipt_id
             where p.site_id = $1
             order by p.issued_at, p.receipt_id limit $2",
        )
        .bind(site)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        if queued.is_empty() {
            return Ok(None);
        }
        let dequeue: Vec<String> = queued.iter().map(|q| q.receipt_id.clone()).collect();
        let mut counts = Counts::default();
        let mut pending = Vec::with_capacity(queued.len());
        for q in queued {
            if let (Some(json), Some(issued_at), Some(version), Some(method)) =
                (q.receipt_json, q.issued_at, q.notice_version, q.method)
            {
                counts.add(issued_at, version, method, &json)?;
                pending.push((q.receipt_id, json));
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
                let mut q = QueryBuilder::new("delete from log_pending where receipt_id in (");
                let mut ids = q.separated(", ");
                for id in chunk {
                    ids.push_bind(id);
                }
                q.push(")");
                q.build().execute(&mut *tx).await?;
            }
            let Some((leaves, cp)) = built else {
                tx.commit().await?;
                return Ok(None);
            };
            let counts: Vec<_> = counts.0.into_iter().collect();
            for chunk in counts.chunks(ROWS_PER_STATEMENT) {
                let mut q = QueryBuilder::new(
                    "insert into receipt_counts (site_id, day, notice_version, method, item, granted, n) ",
                );
                q.push_values(chunk, |mut row, ((day, version, method, item, granted), n)| {
                    row.push_bind(site)
                        .push_bind(*day)
                        .push_bind(version)
                        .push_bind(method)
                        .push_bind(item)
                        .push_bind(*granted)
                        .push_bind(*n);
                });
                q.push(
                    " on conflict (site_id, day, notice_version, method, item, granted)
                     do update set n = receipt_counts.n + excluded.n",
                );
                q.build().execute(&mut *tx).await?;
            }
            let seqs = leaves.iter().map(|l| to_i64(l.seq)).collect::<Result<Vec<_>>>()?;
            for (chunk, seqs) in leaves.chunks(ROWS_PER_STATEMENT).zip(seqs.chunks(ROWS_PER_STATEMENT)) {
                let mut q = QueryBuilder::new("insert into log_leaves (site_id, seq, receipt_id, leaf_hash) ");
                q.push_values(chunk.iter().zip(seqs), |mut row, (leaf, seq)| {
                    row.push_bind(site)
                        .push_bind(*seq)
                        .push_bind(&leaf.receipt_id)
                        .push_bind(&leaf.leaf_hash);
                });
                q.build().execute(&mut *tx).await?;
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
        let rows = on_pool!(self, pool => sqlx::query_as(
            "select tree_size, root_hash, frontier_json, issued_at, checkpoint_json, jws
             from log_checkpoints where site_id = $1 and ($2 is null or tree_size = $2)
             order by tree_size desc limit $3",
        )
        .bind(site)
        .bind(size)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
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
        let rows: Vec<LeafJoinRow> = on_pool!(self, pool => sqlx::query_as(
            "select l.seq, l.receipt_id, l.leaf_hash, r.receipt_json, r.jws
             from log_leaves l left join receipts r on r.receipt_id = l.receipt_id
             where l.site_id = $1 order by l.seq",
        )
        .bind(site)
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(|r| {
                Ok(LogRow {
                    seq: to_u64(r.seq)?,
                    receipt_id: r.receipt_id,
                    leaf_hash: r.leaf_hash,
                    receipt: r.receipt_json.zip(r.jws),
                })
            })
            .collect()
    }
}
