//! Erasure and retention: the receipts that may be erased, and the erasure itself (one
//! transaction: the signed record in, the personal rows out, the counts adjusted).

use super::{ROWS_PER_STATEMENT, Result, Store, log::Counts, to_u64};
use sqlx::QueryBuilder;

/// A receipt of a site as erasure and retention look at it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ErasableRow {
    /// Receipt id.
    pub receipt_id: String,
    /// The visitor.
    pub subject_id: String,
    /// Unix ms.
    pub issued_at: i64,
    /// `given`, `refused`, `updated`, `withdrawn`, `expired`.
    pub event: String,
    /// Notice version.
    pub notice_version: String,
    /// Method.
    pub method: String,
    /// The signed canonical JSON.
    #[sqlx(flatten)]
    pub receipt_json: super::packing::ReceiptJson,
    /// Its log position, once sequenced.
    pub seq: Option<i64>,
    /// Its leaf hash, once sequenced.
    pub leaf_hash: Option<Vec<u8>>,
    /// When the same visitor's next receipt on the site was issued (unix ms), if any.
    pub next_at: Option<i64>,
}

/// A stored erasure record.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ErasureRow {
    /// UUIDv7.
    pub erasure_id: String,
    /// Site.
    pub site_id: String,
    /// Unix ms.
    pub erased_at: i64,
    /// `subject_request` or `retention`.
    pub reason: String,
    /// The case it was done under, if any.
    pub case_reference: Option<String>,
    /// How many receipts.
    pub receipts: i64,
    /// The signed record (the JWS payload).
    pub record_json: String,
    /// Compact JWS over `record_json`.
    pub jws: String,
}

impl Store {
    /// The receipts of one visitor of the site, each with its log leaf and the time of the
    /// visitor's next receipt, by time.
    pub async fn erasable(&self, site: &str, subject: &str) -> Result<Vec<ErasableRow>> {
        let rows = on_pool!(self, pool => sqlx::query_as(
            "select r.receipt_id, r.subject_id, r.issued_at, r.event, r.notice_version, r.method,
                    r.receipt_json, r.packed, t.template, l.seq, l.leaf_hash,
                    lead(r.issued_at) over (partition by r.subject_id
                                            order by r.issued_at, r.receipt_id) as next_at
             from receipts r
             left join log_leaves l on l.site_id = r.site_id and l.receipt_id = r.receipt_id
             left join receipt_templates t on t.id = r.template_id
             where r.site_id = $1 and r.subject_id = $2
             order by r.issued_at, r.receipt_id",
        )
        .bind(site)
        .bind(subject)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// Retention's candidates, a page at a time: the site's receipts issued at or before
    /// `cutoff` (unix ms), oldest first ((issue time, id) order), after `after`, as
    /// [`Store::erasable`] gives them (the visitor's next receipt may be issued later). A
    /// consent ends no earlier than its receipt was issued, so nothing issued after
    /// `now - retention` can be due: the daily run reads what might be due, not the site.
    pub async fn erasable_before(
        &self,
        site: &str,
        cutoff: i64,
        after: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<ErasableRow>> {
        let (after_ms, after_id) = after.unwrap_or((i64::MIN, ""));
        let rows = on_pool!(self, pool => sqlx::query_as(
            "select r.receipt_id, r.subject_id, r.issued_at, r.event, r.notice_version, r.method,
                    r.receipt_json, r.packed, t.template, l.seq, l.leaf_hash,
                    (select n.issued_at from receipts n
                     where n.site_id = r.site_id and n.subject_id = r.subject_id
                       and (n.issued_at > r.issued_at
                            or (n.issued_at = r.issued_at and n.receipt_id > r.receipt_id))
                     order by n.issued_at, n.receipt_id limit 1) as next_at
             from receipts r
             left join log_leaves l on l.site_id = r.site_id and l.receipt_id = r.receipt_id
             left join receipt_templates t on t.id = r.template_id
             where r.site_id = $1 and r.issued_at <= $2 and r.issued_at >= $3
               and (r.issued_at > $3 or r.receipt_id > $4)
             order by r.issued_at, r.receipt_id limit $5",
        )
        .bind(site)
        .bind(cutoff)
        .bind(after_ms)
        .bind(after_id)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// How many receipts of the site were issued at or before `cutoff` (unix ms).
    pub async fn count_issued_before(&self, site: &str, cutoff: i64) -> Result<u64> {
        let n: i64 = on_pool!(self, pool => sqlx::query_scalar(
            "select count(*) from receipts where site_id = $1 and issued_at <= $2",
        )
        .bind(site)
        .bind(cutoff)
        .fetch_one(pool)
        .await)?;
        super::to_u64(n)
    }

    /// Erases `receipts` of `site` (ids) in one transaction: stores `record`, deletes the
    /// receipts, takes `counts` off `receipt_counts`, and for each of `subjects` that has
    /// no receipt left on the site deletes its visitor row and replaces its id in the
    /// site's audit log with `[erased]`. Returns how many receipt rows were deleted (fewer
    /// than asked if some were erased meanwhile: the caller counted them in the record,
    /// and the transaction is rolled back then).
    pub async fn erase(
        &self,
        record: &ErasureRow,
        receipts: &[String],
        counts: &Counts,
        subjects: &[String],
    ) -> Result<u64> {
        let site = record.site_id.as_str();
        let _turn = self.write_turn().await;
        on_pool!(self, pool => in_transaction!(pool, |tx| {

            sqlx::query(
                "insert into erasures (erasure_id, site_id, erased_at, reason, case_reference,
                                       receipts, record_json, jws)
                 values ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&record.erasure_id)
            .bind(site)
            .bind(record.erased_at)
            .bind(&record.reason)
            .bind(&record.case_reference)
            .bind(record.receipts)
            .bind(&record.record_json)
            .bind(&record.jws)
            .execute(&mut *tx)
            .await?;
            let mut deleted = 0u64;
            for chunk in receipts.chunks(ROWS_PER_STATEMENT) {
                let mut q = QueryBuilder::new("delete from receipts where site_id = ");
                q.push_bind(site).push(" and receipt_id in (");
                let mut ids = q.separated(", ");
                for id in chunk {
                    ids.push_bind(id);
                }
                q.push(")");
                deleted += q.build().execute(&mut *tx).await?.rows_affected();
            }
            if deleted != receipts.len() as u64 {
                return Err(super::StoreError::Corrupt(format!(
                    "{} of the {} receipts to erase were already gone: erasure not recorded",
                    receipts.len() as u64 - deleted,
                    receipts.len()
                )));
            }
            for ((day, version, method, item, granted), n) in &counts.0 {
                sqlx::query(
                    "update receipt_counts set n = n - $7
                     where site_id = $1 and day = $2 and notice_version = $3 and method = $4
                       and item = $5 and granted = $6",
                )
                .bind(site)
                .bind(*day)
                .bind(version)
                .bind(method)
                .bind(item)
                .bind(*granted)
                .bind(*n)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("delete from receipt_counts where site_id = $1 and n = 0")
                .bind(site)
                .execute(&mut *tx)
                .await?;
            // The visitors' latest choices, from the receipts they have left.
            super::heads::recompute_heads(&mut *tx, site, subjects, false).await?;
            for subject in subjects {
                // The agency's references linked to a subject go with its last receipt.
                sqlx::query(
                    "delete from subject_references where site_id = $1 and subject_id = $2
                     and not exists (select 1 from receipts
                                     where site_id = $1 and subject_id = $2)",
                )
                .bind(site)
                .bind(subject)
                .execute(&mut *tx)
                .await?;
                let gone = sqlx::query(
                    "delete from subjects where site_id = $1 and subject_id = $2
                     and not exists (select 1 from receipts
                                     where site_id = $1 and subject_id = $2)",
                )
                .bind(site)
                .bind(subject)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if gone > 0 {
                    sqlx::query(
                        "update audit_log set detail = replace(detail, $2, '[erased]')
                         where site_id = $1 and detail like $3",
                    )
                    .bind(site)
                    .bind(subject)
                    .bind(format!("%{subject}%"))
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            Ok(deleted)
        }))
    }

    /// The site's erasure records, oldest first.
    pub async fn erasures(&self, site: &str) -> Result<Vec<ErasureRow>> {
        let rows = on_pool!(self, pool => sqlx::query_as(
            "select erasure_id, site_id, erased_at, reason, case_reference, receipts,
                    record_json, jws
             from erasures where site_id = $1 order by erased_at, erasure_id",
        )
        .bind(site)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// How many receipts of the site were erased, in all.
    pub async fn erased_count(&self, site: &str) -> Result<u64> {
        let n: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
            "select cast(sum(receipts) as bigint) from erasures where site_id = $1",
        )
        .bind(site)
        .fetch_one(pool)
        .await)?;
        to_u64(n.unwrap_or(0))
    }
}
