//! Agencies' references for people (`subject_references`): only their keyed hashes
//! (`subjects::SubjectKey::reference_hash`), each linked to the subjects whose receipts
//! carried it. Erasure removes a subject's links (`store/erasure.rs`).

use super::{Result, Store, StoredReceipt, now_ms, receipts::ReceiptRow};

impl Store {
    /// Links the reference hash `hash` to `subject` on `site` (once: linking again keeps
    /// the first link).
    pub async fn link_reference(&self, site: &str, hash: &str, subject: &str) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "insert into subject_references (site_id, reference_hash, subject_id, linked_at)
             values ($1, $2, $3, $4) on conflict (site_id, reference_hash, subject_id) do nothing",
        )
        .bind(site)
        .bind(hash)
        .bind(subject)
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// The subject a reference hash names on `site`: of those linked to it, the one with
    /// the newest receipt (then the newest link). `None` when the reference is unknown.
    pub async fn reference_subject(&self, site: &str, hash: &str) -> Result<Option<String>> {
        let found: Option<String> = on_pool!(self, pool => sqlx::query_scalar(
            "select s.subject_id from subject_references s
             left join receipts r on r.site_id = s.site_id and r.subject_id = s.subject_id
             where s.site_id = $1 and s.reference_hash = $2
             order by coalesce(r.issued_at, 0) desc, s.linked_at desc limit 1",
        )
        .bind(site)
        .bind(hash)
        .fetch_optional(pool)
        .await)?;
        Ok(found)
    }

    /// The receipts on `site` of every subject linked to the reference hash `hash`, newest
    /// first, at most `limit`: what the consent check by reference answers from.
    pub async fn reference_receipts(
        &self,
        site: &str,
        hash: &str,
        limit: i64,
    ) -> Result<Vec<StoredReceipt>> {
        let rows: Vec<ReceiptRow> = on_pool!(self, pool => sqlx::query_as(
            // The reference's visitors first (`cross join` keeps SQLite to that order),
            // then each one's receipts by `receipts_subject_latest`, sorted: see
            // `Store::subject_receipts` for the `+`.
            concat!(
                "select ", super::receipts::receipt_columns!(), "
                 from subject_references s
                 cross join receipts r",
                super::packing::template_join!(),
                "where s.site_id = $1 and s.reference_hash = $2
                   and r.site_id = s.site_id and r.subject_id = s.subject_id
                 order by +r.issued_at desc, r.receipt_id desc limit $3"
            ),
        )
        .bind(site)
        .bind(hash)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(StoredReceipt::try_from).collect()
    }
}
