//! The transparency log: the queue of receipts waiting for it, its leaves, hash tiles,
//! signed checkpoints and witnesses' cosignatures, the daily counts the sequencer keeps
//! beside them, and what `yinyom witness serve` remembers of the logs it follows.

use super::conn::{Conn, Statement, at_once};
use super::{Backend, ROWS_PER_STATEMENT, Result, Store, StoreError, from_json, to_i64, to_u64};
use crate::dates::thailand_day;
use crate::log::tiles::{TileKey, TileMap, partial_tiles};
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
    /// The checkpoint as a C2SP signed note, with the log's signature.
    pub note: String,
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

/// A `log_pending` entry joined with its receipt (`None`s: the receipt no longer exists).
#[derive(sqlx::FromRow)]
struct QueuedRow {
    receipt_id: String,
    /// Its entry's issue time (the queue's key is site, issue time, receipt).
    queued_at: i64,
    /// The leaf hash written with the receipt (`None`: queued before it was).
    leaf_hash: Option<Vec<u8>>,
    /// The receipt's JSON columns, read only for an entry without a leaf hash.
    #[sqlx(flatten)]
    body: super::packing::StoredBody,
    issued_at: Option<i64>,
    notice_version: Option<String>,
    method: Option<String>,
    choice: Option<String>,
}

/// A `receipt_counts` key: (Thailand day, notice version, method, item, granted).
pub type CountKey = (i64, String, String, String, i64);

/// What the log sequencer adds to `receipt_counts` for the receipts it appends (see
/// migration 0006): per (Thailand day, notice version, method, item, granted), how many.
/// Erasure takes its receipts out again; `log verify` recomputes it from the receipts.
#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub struct Counts(pub std::collections::BTreeMap<CountKey, i64>);

impl Counts {
    /// Counts one receipt (issued at `issued_at_ms`, its canonical JSON `json`).
    pub fn add(
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
        let decisions = d.categories.iter().chain(d.purposes.iter());
        self.add_decisions(
            issued_at_ms,
            version,
            method,
            decisions.map(|(item, granted)| (item.as_str(), *granted)),
        );
        Ok(())
    }

    /// [`Counts::add`] from the receipt's stored `choice` ([`super::heads::choice_of`]),
    /// which `log verify` checks against the signed JSON.
    pub fn add_choice(&mut self, issued_at_ms: i64, version: String, method: String, choice: &str) {
        let decisions = super::heads::decisions(choice).map(|(_, item, granted)| (item, granted));
        self.add_decisions(issued_at_ms, version, method, decisions);
    }

    /// One receipt's counts: the receipt itself (item `""`), and per decided item the
    /// receipt (granted `-1`) and its decision.
    fn add_decisions<'a>(
        &mut self,
        issued_at_ms: i64,
        version: String,
        method: String,
        decisions: impl Iterator<Item = (&'a str, bool)>,
    ) {
        let day = thailand_day(issued_at_ms);
        let mut keys = std::collections::BTreeSet::new();
        keys.insert((String::new(), -1));
        for (item, granted) in decisions {
            keys.insert((item.to_owned(), -1));
            keys.insert((item.to_owned(), i64::from(granted)));
        }
        for (item, granted) in keys {
            *self
                .0
                .entry((day, version.clone(), method.clone(), item, granted))
                .or_default() += 1;
        }
    }
}

/// What one sequencer turn writes, read and built before it takes the write lock.
struct Batch<'a> {
    site: &'a str,
    /// The log's size the batch was built on (`None`: empty).
    read_size: Option<u64>,
    /// The queue entries read, (issue time, receipt), appended or gone.
    dequeue: Vec<(i64, String)>,
    counts: Counts,
    /// The new leaves, checkpoint and tiles (`None`: every receipt read was gone).
    built: Option<(Vec<LeafRow>, CheckpointRow, TileMap)>,
}

/// Writes `batch` inside the caller's transaction, once for every connection ([`Conn`]).
/// Returns the new checkpoint, or `None` if there was none to write or another sequencer
/// appended since the batch was read (nothing is written then).
async fn append<C: Conn>(
    tx: &mut C,
    backend: Backend,
    batch: Batch<'_>,
) -> Result<Option<CheckpointRow>> {
    let site = batch.site;
    // Taking the write lock first: SQLite's writer lock, PostgreSQL's row lock on the
    // site's `log_locks` row (not its `sites` row, which every receipt's foreign-key check
    // locks: see migration 0027_log_locks).
    tx.run(
        Statement::new("insert into log_locks (site_id) values (")
            .bind(site)
            .push(") on conflict (site_id) do update set site_id = excluded.site_id"),
    )
    .await?;
    let size = tx
        .rows(
            Statement::new("select max(tree_size) from log_checkpoints where site_id = ")
                .bind(site),
        )
        .await?
        .first()
        .map(|row| row.opt_int(0))
        .transpose()?
        .flatten();
    if size.map(to_u64).transpose()? != batch.read_size {
        return Ok(None);
    }
    for chunk in super::pieces(backend, &batch.dequeue) {
        let mut q = Statement::new("delete from log_pending where site_id = ");
        q.bind(site).push(" and (issued_at, receipt_id) in (");
        q.rows(backend, chunk, |(at, id)| vec![(*at).into(), id.into()]);
        q.push(")");
        tx.run(&q).await?;
    }
    let Some((leaves, cp, tiles)) = batch.built else {
        return Ok(None);
    };
    let counts: Vec<_> = batch.counts.0.into_iter().collect();
    for chunk in super::pieces(backend, &counts) {
        let mut q = Statement::new(
            "insert into receipt_counts (site_id, day, notice_version, method, item, granted, n)",
        );
        q.rows(
            backend,
            chunk,
            |((day, version, method, item, granted), n)| {
                vec![
                    site.into(),
                    (*day).into(),
                    version.into(),
                    method.into(),
                    item.into(),
                    (*granted).into(),
                    (*n).into(),
                ]
            },
        );
        q.push(
            " on conflict (site_id, day, notice_version, method, item, granted)
             do update set n = receipt_counts.n + excluded.n",
        );
        tx.run(&q).await?;
    }
    let leaves = leaves
        .into_iter()
        .map(|l| Ok((to_i64(l.seq)?, l.receipt_id, l.leaf_hash)))
        .collect::<Result<Vec<_>>>()?;
    for chunk in super::pieces(backend, &leaves) {
        let mut q = Statement::new("insert into log_leaves (site_id, seq, receipt_id, leaf_hash)");
        q.rows(backend, chunk, |(seq, id, hash)| {
            vec![site.into(), (*seq).into(), id.into(), hash.clone().into()]
        });
        tx.run(&q).await?;
    }
    let tiles = tiles
        .into_iter()
        .map(|((level, idx), hashes)| Ok((i64::from(level), to_i64(idx)?, hashes)))
        .collect::<Result<Vec<_>>>()?;
    for chunk in super::pieces(backend, &tiles) {
        let mut q = Statement::new("insert into log_tiles (site_id, level, idx, hashes)");
        q.rows(backend, chunk, |(level, idx, hashes)| {
            vec![
                site.into(),
                (*level).into(),
                (*idx).into(),
                hashes.clone().into(),
            ]
        });
        q.push(" on conflict (site_id, level, idx) do update set hashes = excluded.hashes");
        tx.run(&q).await?;
    }
    let q = Statement::with(
        "insert into log_checkpoints (site_id, tree_size, root_hash, frontier_json, issued_at, note)
         values ($1, $2, $3, $4, $5, $6)",
        vec![
            site.into(),
            to_i64(cp.tree_size)?.into(),
            cp.root_hash.clone().into(),
            (&cp.frontier_json).into(),
            cp.issued_at.into(),
            (&cp.note).into(),
        ],
    );
    tx.run(&q).await?;
    Ok(Some(cp))
}

impl Store {
    /// Appends up to `limit` unsequenced receipts of `site` to its log. The reading and
    /// hashing happen outside any lock: the latest checkpoint and the pending receipts are
    /// read, `build` turns them into leaves and a signed checkpoint, and only then a short
    /// transaction takes the site's log lock (one sequencer per site, across processes),
    /// checks that no other sequencer appended meanwhile, and stores both. Returns the new
    /// checkpoint, or `None` if nothing was pending or another sequencer got there first
    /// (the next round appends what is left).
    pub async fn sequence_log<F>(
        &self,
        site: &str,
        limit: i64,
        own: Option<&super::SqliteWriter>,
        build: F,
    ) -> Result<Option<CheckpointRow>>
    where
        F: FnOnce(
            Option<CheckpointRow>,
            Vec<(String, crate::log::merkle::Hash)>,
            TileMap,
        ) -> Result<(Vec<LeafRow>, CheckpointRow, TileMap)>,
    {
        let prev = self.latest_checkpoint(site).await?;
        // A queued receipt that no longer exists (deleted by hand) is dropped from the queue.
        // Its JSON is read only for an entry queued without its leaf hash.
        let queued: Vec<QueuedRow> = on_pool!(self, pool => sqlx::query_as(
            "select p.receipt_id, p.issued_at as queued_at, p.leaf_hash,
                    case when p.leaf_hash is null then r.receipt_json end as receipt_json,
                    case when p.leaf_hash is null then r.packed end as packed,
                    t.template, r.issued_at, r.notice_version, r.method, r.choice
             from log_pending p left join receipts r on r.receipt_id = p.receipt_id
             left join receipt_templates t on t.id = r.template_id and p.leaf_hash is null
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
        let dequeue: Vec<(i64, String)> = queued
            .iter()
            .map(|q| (q.queued_at, q.receipt_id.clone()))
            .collect();
        let mut counts = Counts::default();
        let mut pending = Vec::with_capacity(queued.len());
        for q in queued {
            let (Some(issued_at), Some(version), Some(method), Some(choice)) =
                (q.issued_at, q.notice_version, q.method, q.choice)
            else {
                continue;
            };
            let leaf = match q.leaf_hash {
                Some(hash) => crate::log::hash32(&hash)?,
                None => match q.body.json()? {
                    Some(json) => crate::log::receipt_leaf(&json),
                    None => continue,
                },
            };
            counts.add_choice(issued_at, version, method, &choice);
            pending.push((q.receipt_id, leaf));
        }
        let read_size = prev.as_ref().map(|p| p.tree_size);
        let built = if pending.is_empty() {
            None
        } else {
            // The tiles the new leaves extend: the rightmost partial tile of each level.
            let partial = partial_tiles(read_size.unwrap_or(0));
            let keys: Vec<TileKey> = partial.iter().map(|(k, _)| *k).collect();
            let tiles = self.tiles(site, &keys).await?;
            for (key, width) in &partial {
                let stored = tiles.get(key).map_or(0, |t| t.len() as u64 / 32);
                if stored != *width {
                    // Another sequencer appended since the checkpoint was read (a fleet's
                    // lease changing hands): its turn wrote the tiles. Not corruption; the
                    // next turn appends what is left.
                    let now = self.latest_checkpoint(site).await?;
                    if now.map(|c| c.tree_size) != read_size {
                        return Ok(None);
                    }
                    return Err(StoreError::Corrupt(format!(
                        "log tile {key:?} of `{site}` holds {stored} hashes, not {width}"
                    )));
                }
            }
            Some(build(prev, pending, tiles)?)
        };
        let batch = Batch {
            site,
            read_size,
            dequeue,
            counts,
            built,
        };
        let backend = self.backend();
        if let Some(own) = own {
            return self
                .write_on(own, |conn| at_once(append(conn, backend, batch)))
                .await;
        }
        let _turn = self.write_turn().await;
        on_pool!(self, pool => in_transaction!(pool, |tx| {
            let appended = append(&mut *tx, backend, batch).await?;
            tx.commit().await?;
            Ok(appended)
        }))
    }

    /// The site's stored per-day counts (rows with a count of 0 left out).
    /// Each column is read whatever its type (`log verify` compares them with the signed
    /// receipts: one rewritten with another type is a difference, not a failed read).
    pub async fn receipt_counts(&self, site: &str) -> Result<Counts> {
        let rows = self
            .read_rows(&Statement::with(
                "select day, notice_version, method, item, granted, n from receipt_counts
                 where site_id = $1 and n <> 0",
                vec![site.into()],
            ))
            .await?;
        let count = |r: &super::conn::Row| {
            let key = (
                r.any_int(0)?,
                r.any_text(1)?,
                r.any_text(2)?,
                r.any_text(3)?,
                r.any_int(4)?,
            );
            Ok((key, r.any_int(5)?))
        };
        Ok(Counts(rows.iter().map(count).collect::<Result<_>>()?))
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
        Ok(self.leaf(site, receipt_id).await?.map(|(seq, _)| seq))
    }

    /// The log position and leaf hash of a receipt, if sequenced.
    pub async fn leaf(&self, site: &str, receipt_id: &str) -> Result<Option<(u64, Vec<u8>)>> {
        let row: Option<(i64, Vec<u8>)> = on_pool!(self, pool => sqlx::query_as(
            "select seq, leaf_hash from log_leaves where site_id = $1 and receipt_id = $2",
        )
        .bind(site)
        .bind(receipt_id)
        .fetch_optional(pool)
        .await)?;
        row.map(|(seq, leaf)| Ok((to_u64(seq)?, leaf))).transpose()
    }

    /// The site's checkpoints, newest first: of exactly `size` leaves, or else the newest
    /// (`latest_only`) or all. The size is its own statement: `($2 is null or tree_size =
    /// $2)` made both databases walk the primary key from the newest checkpoint down to
    /// the one asked for, a read per checkpoint in between (a consistency proof from an
    /// old checkpoint read thousands).
    async fn checkpoints_where(
        &self,
        site: &str,
        size: Option<u64>,
        latest_only: bool,
    ) -> Result<Vec<CheckpointRow>> {
        const COLUMNS: &str =
            "select tree_size, root_hash, frontier_json, issued_at, note from log_checkpoints";
        let rows = match size.map(to_i64).transpose()? {
            Some(size) => on_pool!(self, pool => sqlx::query_as(&format!(
                "{COLUMNS} where site_id = $1 and tree_size = $2"
            ))
            .bind(site)
            .bind(size)
            .fetch_all(pool)
            .await)?,
            None => {
                let limit: i64 = if latest_only { 1 } else { i64::MAX };
                on_pool!(self, pool => sqlx::query_as(&format!(
                    "{COLUMNS} where site_id = $1 order by tree_size desc limit $2"
                ))
                .bind(site)
                .bind(limit)
                .fetch_all(pool)
                .await)?
            }
        };
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

    /// Up to `limit` leaves of the site's log after position `after` (from the first:
    /// `None`), in log order, each with its receipt if it still exists (`log verify`).
    pub async fn log_page(
        &self,
        site: &str,
        after: Option<u64>,
        limit: i64,
    ) -> Result<Vec<LogRow>> {
        let after = after.map(to_i64).transpose()?.unwrap_or(-1);
        let (rows, templates) = self
            .bulk_rows(Statement::with(
                "select l.seq, l.receipt_id, l.leaf_hash,
                        r.receipt_json, r.packed, r.template_id, r.jws
                 from log_leaves l left join receipts r on r.receipt_id = l.receipt_id
                 where l.site_id = $1 and l.seq > $2 order by l.seq limit $3",
                vec![site.into(), after.into(), limit.into()],
            ))
            .await?;
        rows.iter()
            .map(|r| {
                // The body's text columns are read whatever their type: one rewritten
                // with another is then named as edited, not a failed read.
                let receipt = match r.opt_any_text(6)? {
                    None => None,
                    Some(jws) => {
                        let (json, jws) = templates.audited(
                            r.opt_any_text(3)?,
                            r.opt_any_blob(4)?,
                            r.opt_any_int(5)?,
                            &jws,
                        );
                        let jws = super::receipts::attach_jws(&jws, &json);
                        Some((json, jws))
                    }
                };
                Ok(LogRow {
                    seq: to_u64(r.int(0)?)?,
                    receipt_id: r.any_text(1)?,
                    leaf_hash: r.opt_any_blob(2)?.unwrap_or_default(),
                    receipt,
                })
            })
            .collect()
    }

    /// How much `log verify` reads of the site: (leaves in its log, its receipt rows).
    pub async fn verify_sizes(&self, site: &str) -> Result<(u64, u64)> {
        let (leaves, rows): (i64, i64) = on_pool!(self, pool => sqlx::query_as(
            "select (select count(*) from log_leaves where site_id = $1),
                    (select count(*) from receipts where site_id = $1)",
        )
        .bind(site)
        .fetch_one(pool)
        .await)?;
        Ok((to_u64(leaves)?, to_u64(rows)?))
    }

    /// The stored tiles among `keys` (a proof needs a few: O(log n)).
    pub async fn tiles(&self, site: &str, keys: &[TileKey]) -> Result<TileMap> {
        let mut out = TileMap::new();
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let keys = chunk
                .iter()
                .map(|(level, idx)| Ok((i64::from(*level), to_i64(*idx)?)))
                .collect::<Result<Vec<_>>>()?;
            let rows: Vec<TileRow> = on_pool!(self, pool => {
                // Each term names a whole primary key, so both databases read exactly
                // these rows through the index (SQLite's OR optimization needs that).
                let mut q = QueryBuilder::new("select level, idx, hashes from log_tiles where ");
                for (i, (level, idx)) in keys.iter().enumerate() {
                    if i > 0 {
                        q.push(" or ");
                    }
                    q.push("(site_id = ")
                        .push_bind(site)
                        .push(" and level = ")
                        .push_bind(*level)
                        .push(" and idx = ")
                        .push_bind(*idx)
                        .push(")");
                }
                q.build_query_as().fetch_all(pool).await?
            });
            for r in rows {
                out.insert(r.key()?, r.hashes);
            }
        }
        Ok(out)
    }

    /// One stored tile.
    pub async fn tile(&self, site: &str, key: TileKey) -> Result<Option<Vec<u8>>> {
        Ok(self.tiles(site, &[key]).await?.remove(&key))
    }

    /// Every stored tile of the site (for `log verify`).
    pub async fn all_tiles(&self, site: &str) -> Result<TileMap> {
        let rows: Vec<TileRow> = on_pool!(self, pool => sqlx::query_as(
            "select level, idx, hashes from log_tiles where site_id = $1",
        )
        .bind(site)
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(|r| Ok((r.key()?, r.hashes))).collect()
    }

    /// Stores witnesses' cosignature lines on the checkpoint of `size` (one per witness;
    /// a newer line from the same witness replaces the older).
    pub async fn add_cosignatures(
        &self,
        site: &str,
        size: u64,
        lines: &[(String, String)],
    ) -> Result<()> {
        let now = super::now_ms();
        for (witness, line) in lines {
            on_pool!(self, pool => sqlx::query(
                "insert into log_cosignatures (site_id, tree_size, witness, line, received_at)
                 values ($1, $2, $3, $4, $5)
                 on conflict (site_id, tree_size, witness) do update
                 set line = excluded.line, received_at = excluded.received_at",
            )
            .bind(site)
            .bind(to_i64(size)?)
            .bind(witness)
            .bind(line)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ()))?;
        }
        Ok(())
    }

    /// The cosignature lines of the checkpoint of `size` by the given witnesses (vkeys).
    pub async fn cosignatures(
        &self,
        site: &str,
        size: u64,
        witnesses: &[String],
    ) -> Result<Vec<String>> {
        if witnesses.is_empty() {
            return Ok(Vec::new());
        }
        let size = to_i64(size)?;
        let lines: Vec<String> = on_pool!(self, pool => {
            let mut q = QueryBuilder::new("select line from log_cosignatures where site_id = ");
            q.push_bind(site)
                .push(" and tree_size = ")
                .push_bind(size)
                .push(" and witness in (");
            let mut list = q.separated(", ");
            for w in witnesses {
                list.push_bind(w);
            }
            q.push(") order by witness");
            q.build_query_scalar().fetch_all(pool).await?
        });
        Ok(lines)
    }

    /// The newest checkpoint cosigned by at least `quorum` of `witnesses` (vkeys).
    pub async fn witnessed_checkpoint(
        &self,
        site: &str,
        witnesses: &[String],
        quorum: usize,
    ) -> Result<Option<CheckpointRow>> {
        if witnesses.is_empty() || quorum == 0 {
            return self.latest_checkpoint(site).await;
        }
        let quorum = i64::try_from(quorum).unwrap_or(i64::MAX);
        let size: Option<i64> = on_pool!(self, pool => {
            let mut q = QueryBuilder::new(
                "select tree_size from log_cosignatures where site_id = ",
            );
            q.push_bind(site).push(" and witness in (");
            let mut list = q.separated(", ");
            for w in witnesses {
                list.push_bind(w);
            }
            q.push(") group by tree_size having count(*) >= ")
                .push_bind(quorum)
                .push(" order by tree_size desc limit 1");
            q.build_query_scalar().fetch_optional(pool).await?
        });
        match size {
            Some(size) => self.checkpoint(site, to_u64(size)?).await,
            None => Ok(None),
        }
    }

    /// The largest checkpoint of `site` that `witness` (its vkey) cosigned.
    pub async fn witness_size(&self, site: &str, witness: &str) -> Result<Option<u64>> {
        let size: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
            "select max(tree_size) from log_cosignatures where site_id = $1 and witness = $2",
        )
        .bind(site)
        .bind(witness)
        .fetch_one(pool)
        .await)?;
        size.map(to_u64).transpose()
    }

    /// A witness's newest cosigned checkpoint of the log `origin`: size, root, note.
    pub async fn witnessed(&self, origin: &str) -> Result<Option<(u64, Vec<u8>, String)>> {
        let row: Option<(i64, Vec<u8>, String)> = on_pool!(self, pool => sqlx::query_as(
            "select tree_size, root_hash, note from witness_checkpoints where origin = $1",
        )
        .bind(origin)
        .fetch_optional(pool)
        .await)?;
        row.map(|(s, r, n)| Ok((to_u64(s)?, r, n))).transpose()
    }

    /// A witness records `origin`'s new checkpoint, only if its record is still of
    /// `old_size` (0: none). `false` when another request changed it first.
    pub async fn witness_advance(
        &self,
        origin: &str,
        old_size: u64,
        size: u64,
        root: &[u8],
        note: &str,
    ) -> Result<bool> {
        let (old, size) = (to_i64(old_size)?, to_i64(size)?);
        let now = super::now_ms();
        let done = on_pool!(self, pool => sqlx::query(
            "insert into witness_checkpoints (origin, tree_size, root_hash, note, updated_at)
             select $1, $2, $3, $4, $5 where $6 = 0
             on conflict (origin) do update
             set tree_size = excluded.tree_size, root_hash = excluded.root_hash,
                 note = excluded.note, updated_at = excluded.updated_at
             where witness_checkpoints.tree_size = $6",
        )
        .bind(origin)
        .bind(size)
        .bind(root)
        .bind(note)
        .bind(now)
        .bind(old)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        if done == 1 {
            return Ok(true);
        }
        // Old size 0 with no row yet inserts; with a row, only its size matters.
        let updated = on_pool!(self, pool => sqlx::query(
            "update witness_checkpoints
             set tree_size = $2, root_hash = $3, note = $4, updated_at = $5
             where origin = $1 and tree_size = $6",
        )
        .bind(origin)
        .bind(size)
        .bind(root)
        .bind(note)
        .bind(now)
        .bind(old)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(updated == 1)
    }
}

/// A `log_tiles` row.
#[derive(sqlx::FromRow)]
struct TileRow {
    level: i64,
    idx: i64,
    hashes: Vec<u8>,
}

impl TileRow {
    fn key(&self) -> Result<TileKey> {
        Ok((
            u8::try_from(self.level).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            to_u64(self.idx)?,
        ))
    }
}

/// A receipt row as `log verify` audits it: the derived columns next to the signed JSON,
/// and whether it is in the site's log or waiting for it.
#[derive(Debug, Clone)]
pub struct VerifyRow {
    /// Receipt id.
    pub receipt_id: String,
    /// `receipts.site_id`.
    pub site_id: String,
    /// `receipts.subject_id`.
    pub subject_id: String,
    /// `receipts.event`.
    pub event: String,
    /// `receipts.method`.
    pub method: String,
    /// `receipts.notice_version`.
    pub notice_version: String,
    /// `receipts.issued_at` (unix ms).
    pub issued_at: i64,
    /// `receipts.consent_revision`.
    pub consent_revision: i64,
    /// `receipts.choice`: its decisions ([`super::heads::choice_of`]).
    pub choice: String,
    /// The signed canonical JSON, unpacked (see [`super::packing`]); empty when it cannot
    /// be ([`super::packing::Templates::audited`]).
    pub json: String,
    /// 1 when the site's log has a leaf for it.
    pub in_log: i64,
    /// 1 when it waits in `log_pending`.
    pub pending: i64,
    /// The visitor's `subjects` row on the receipt's site, if there is one.
    pub subject_row: Option<String>,
    /// Its stored chain head.
    pub last_receipt: Option<String>,
    /// Its stored latest choice.
    pub stored_head: super::heads::HeadColumns,
    /// `(subject_id, issued_at, receipt_id)` as stored, whatever their type: the next
    /// page starts after it (a key read as text would not, were one rewritten as bytes).
    page_key: [super::conn::Value; 3],
}

impl VerifyRow {
    /// The row of [`VERIFY_COLUMNS`] and [`VISITOR_COLUMNS`].
    fn of(r: &super::conn::Row, templates: &super::packing::Templates) -> Result<Self> {
        // Only the JSON is wanted here: the JWS is checked in the log's pass.
        let (json, _) = templates.audited(
            r.opt_any_text(9)?,
            r.opt_any_blob(10)?,
            r.opt_any_int(11)?,
            "",
        );
        // The columns compared with the signed receipt are read whatever their type.
        Ok(Self {
            receipt_id: r.any_text(0)?,
            site_id: r.any_text(1)?,
            subject_id: r.any_text(2)?,
            event: r.any_text(3)?,
            method: r.any_text(4)?,
            notice_version: r.any_text(5)?,
            issued_at: r.any_int(6)?,
            consent_revision: r.any_int(7)?,
            choice: r.any_text(8)?,
            json,
            in_log: r.int(12)?,
            pending: r.int(13)?,
            subject_row: r.opt_any_text(14)?,
            last_receipt: r.opt_any_text(15)?,
            stored_head: super::heads::HeadColumns::of_audited_row(r, 16)?,
            page_key: [r.value(2)?, r.value(6)?, r.value(0)?],
        })
    }
}

impl Store {
    /// Up to `limit` receipt rows of the site after `after` (from the first: `None`) in
    /// visitor order (visitor, issue time, id), each with its visitor's `subjects` row,
    /// for `log verify` (the index `receipts_subject_latest` walks them in this order).
    pub async fn audit_page(
        &self,
        site: &str,
        after: Option<&VerifyRow>,
        limit: i64,
    ) -> Result<Vec<VerifyRow>> {
        let from = if after.is_some() {
            "and (r.subject_id, r.issued_at, r.receipt_id) > ($2, $3, $4)"
        } else {
            "and $2 = $2 and $3 = $3 and $4 = $4"
        };
        let [subject, at, id] =
            after.map_or_else(|| ["".into(), 0.into(), "".into()], |r| r.page_key.clone());
        let sql = format!(
            "{VERIFY_COLUMNS}, {VISITOR_COLUMNS}
             from receipts r
             left join subjects s on s.site_id = r.site_id and s.subject_id = r.subject_id
             where r.site_id = $1 {from}
             order by r.subject_id, r.issued_at, r.receipt_id limit $5"
        );
        let (rows, templates) = self
            .bulk_rows(Statement::with(
                &sql,
                vec![site.into(), subject, at, id, limit.into()],
            ))
            .await?;
        rows.iter().map(|r| VerifyRow::of(r, &templates)).collect()
    }

    /// The receipt rows in the site's log that claim another site (only where `site_id`
    /// was changed by hand), in visitor order, for `log verify`.
    pub async fn foreign_audit_rows(&self, site: &str) -> Result<Vec<VerifyRow>> {
        let sql = format!(
            "{VERIFY_COLUMNS}, cast(null as text) as subject_row,
                    cast(null as text) as last_receipt, cast(null as bigint) as head_until,
                    cast(null as bigint) as head_withdrawn, cast(null as text) as head_version,
                    cast(null as bigint) as head_mixed, cast(null as text) as head_choice
             from log_leaves l join receipts r on r.receipt_id = l.receipt_id
             where l.site_id = $1 and r.site_id <> $1
             order by r.subject_id, r.issued_at, r.receipt_id"
        );
        let (rows, templates) = self
            .bulk_rows(Statement::with(&sql, vec![site.into()]))
            .await?;
        rows.iter().map(|r| VerifyRow::of(r, &templates)).collect()
    }

    /// Up to `limit` visitors of the site after `after` (by id) that have a `subjects` row
    /// and no receipt on the site, for `log verify`.
    pub async fn visitors_without_receipts(
        &self,
        site: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<LoneVisitor>> {
        Ok(on_pool!(self, pool => sqlx::query_as(
            "select s.subject_id, s.last_receipt, s.head_until, s.head_withdrawn,
                    s.head_version, s.head_mixed, s.head_choice
             from subjects s
             where s.site_id = $1 and s.subject_id > $2
               and not exists (select 1 from receipts r
                               where r.site_id = $1 and r.subject_id = s.subject_id)
             order by s.subject_id limit $3",
        )
        .bind(site)
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(pool)
        .await)?)
    }
}

/// A visitor with a `subjects` row and no receipt on the site.
#[derive(Debug, sqlx::FromRow)]
pub struct LoneVisitor {
    /// The visitor.
    pub subject_id: String,
    /// Its stored chain head.
    pub last_receipt: Option<String>,
    /// Its stored latest choice.
    #[sqlx(flatten)]
    pub head: super::heads::HeadColumns,
}

/// The receipt columns of a [`VerifyRow`] (`$1`: the site).
const VERIFY_COLUMNS: &str = "select r.receipt_id, r.site_id, r.subject_id, r.event, r.method,
        r.notice_version, r.issued_at, r.consent_revision, r.choice,
        r.receipt_json, r.packed, r.template_id,
        cast(case when exists (select 1 from log_leaves l2
                               where l2.site_id = $1 and l2.receipt_id = r.receipt_id)
             then 1 else 0 end as bigint) as in_log,
        cast(case when exists (select 1 from log_pending p where p.site_id = r.site_id
                               and p.issued_at = r.issued_at and p.receipt_id = r.receipt_id)
             then 1 else 0 end as bigint) as pending";

/// The visitor's columns of a [`VerifyRow`] (`s`: its `subjects` row).
const VISITOR_COLUMNS: &str = "s.subject_id as subject_row, s.last_receipt, s.head_until,
    s.head_withdrawn, s.head_version, s.head_mixed, s.head_choice";

impl Store {
    /// Every notice version of the site as stored: `(version, sha256, content_json)`.
    /// Each column is read whatever its type, as [`Store::receipt_counts`].
    pub async fn notice_texts(&self, site: &str) -> Result<Vec<(String, String, String)>> {
        let rows = self
            .read_rows(&Statement::with(
                "select version, sha256, content_json from notice_versions where site_id = $1",
                vec![site.into()],
            ))
            .await?;
        rows.iter()
            .map(|r| Ok((r.any_text(0)?, r.any_text(1)?, r.any_text(2)?)))
            .collect()
    }
}
