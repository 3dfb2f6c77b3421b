//! The public halves of the signing keys and when each may sign. The private keys are never
//! here: they are files or HSM objects given to `yinyom serve`. Seeds stored by versions
//! before that wait in `legacy_signing_seeds` until `yinyom keys export` moves them out.

use super::{Result, Store, now_ms};

/// What a key signs: receipts or log checkpoints (two keys, two kinds of document).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyPurpose {
    /// Consent receipts (`serve --signing-key`).
    Receipt,
    /// Log checkpoints (`serve --log-key`).
    Log,
}

impl KeyPurpose {
    /// The stored (and published) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Receipt => "receipt",
            Self::Log => "log",
        }
    }

    /// From the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "receipt" => Some(Self::Receipt),
            "log" => Some(Self::Log),
            _ => None,
        }
    }
}

/// A registered public key and its validity period.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    /// Key id (RFC 7638 JWK thumbprint).
    pub kid: String,
    /// `receipt` or `log` (see [`KeyPurpose`]).
    pub purpose: String,
    /// 32-byte Ed25519 public key.
    #[sqlx(rename = "public_key")]
    pub public: Vec<u8>,
    /// Not after: unix ms from which it no longer signs, if set (it stays published).
    pub retired_at: Option<i64>,
    /// Not before: unix ms from which it signs (it is published before).
    pub activates_at: i64,
    /// 1 for the first key of its purpose, +1 per rotation.
    pub generation: i64,
}

impl KeyRow {
    /// Whether a document dated `at_ms` may carry this key's signature.
    pub fn valid_at(&self, at_ms: i64) -> bool {
        self.activates_at <= at_ms && self.retired_at.is_none_or(|r| at_ms < r)
    }
}

impl Store {
    /// Every registered key of every purpose, newest first.
    pub async fn keys(&self) -> Result<Vec<KeyRow>> {
        let rows = on_pool!(self, pool => sqlx::query_as(
            "select kid, purpose, public_key, retired_at, activates_at, generation
             from signing_keys order by purpose desc, generation desc",
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// The registered keys of one purpose, newest first.
    pub async fn keys_for(&self, purpose: KeyPurpose) -> Result<Vec<KeyRow>> {
        Ok(self
            .keys()
            .await?
            .into_iter()
            .filter(|k| k.purpose == purpose.as_str())
            .collect())
    }

    /// Registers the first key of its purpose (generation 1) unless one was registered
    /// meanwhile (or this public key already is); returns whether it was.
    pub async fn insert_first_key(&self, key: &KeyRow) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query(
            "insert into signing_keys
                (kid, purpose, public_key, created_at, retired_at, activates_at, generation)
             values ($1, $2, $3, $4, null, $5, 1)
             on conflict do nothing",
        )
        .bind(&key.kid)
        .bind(&key.purpose)
        .bind(&key.public)
        .bind(now_ms())
        .bind(key.activates_at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// In one transaction: registers `key` (its generation must be the next one of its
    /// purpose, else the insert conflicts and nothing changes) and closes, at
    /// `key.activates_at`, the period of every key of that purpose still open then.
    pub async fn rotate_key(&self, key: &KeyRow) -> Result<()> {
        on_pool!(self, pool => in_transaction!(pool, |tx| {
            sqlx::query(
                "update signing_keys set retired_at = $1
                 where purpose = $2 and (retired_at is null or retired_at > $1)",
            )
            .bind(key.activates_at)
            .bind(&key.purpose)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "insert into signing_keys
                    (kid, purpose, public_key, created_at, retired_at, activates_at, generation)
                 values ($1, $2, $3, $4, null, $5, $6)",
            )
            .bind(&key.kid)
            .bind(&key.purpose)
            .bind(&key.public)
            .bind(now_ms())
            .bind(key.activates_at)
            .bind(key.generation)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        }))
    }

    /// The private seeds an earlier version kept in the database (kid, 32-byte seed),
    /// until `yinyom keys export` moves them out.
    pub async fn legacy_seeds(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let rows = on_pool!(self, pool => sqlx::query_as(
            "select kid, secret_key from legacy_signing_seeds order by kid",
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// Deletes a legacy seed (after it was written to a file).
    pub async fn delete_legacy_seed(&self, kid: &str) -> Result<()> {
        on_pool!(self, pool => sqlx::query("delete from legacy_signing_seeds where kid = $1")
            .bind(kid)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Rewrites the key tables so that deleted seeds leave no copy in free pages or dead
    /// rows (`VACUUM` on SQLite, `VACUUM FULL` of the two tables on PostgreSQL).
    pub async fn vacuum(&self) -> Result<()> {
        match self {
            Store::Sqlite(pool) => {
                sqlx::query("vacuum").execute(pool).await?;
            }
            Store::Postgres(pool) => {
                sqlx::query("vacuum full signing_keys, legacy_signing_seeds")
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }
}
