//! The receipt signing keys.

use super::{Result, Store, now_ms};

/// A signing key row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    /// Key id (JWK thumbprint).
    pub kid: String,
    /// 32-byte Ed25519 seed (only for the signing key).
    #[sqlx(rename = "secret_key")]
    pub secret: Vec<u8>,
    /// 32-byte public key.
    #[sqlx(rename = "public_key")]
    pub public: Vec<u8>,
    /// Unix ms from which it no longer signs, if set (it stays in the JWKS).
    pub retired_at: Option<i64>,
    /// Unix ms from which it signs (it is in the JWKS before).
    pub activates_at: i64,
    /// 1 for the first key, +1 per rotation.
    pub generation: i64,
}

impl Store {
    /// Every signing key, newest first.
    pub async fn keys(&self) -> Result<Vec<KeyRow>> {
        let rows = on_pool!(self, pool => sqlx::query_as(
            "select kid, secret_key, public_key, retired_at, activates_at, generation
             from signing_keys order by generation desc",
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// Stores the first signing key (generation 1) unless one was stored meanwhile;
    /// returns whether it was.
    pub async fn insert_first_key(&self, key: &KeyRow) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query(
            "insert into signing_keys
                (kid, secret_key, public_key, created_at, retired_at, activates_at, generation)
             values ($1, $2, $3, $4, null, $5, 1)
             on conflict (generation) do nothing",
        )
        .bind(&key.kid)
        .bind(&key.secret)
        .bind(&key.public)
        .bind(now_ms())
        .bind(key.activates_at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// In one transaction: stores `key` (its generation must be the next one, else the
    /// insert conflicts and nothing changes) and retires every key that has no retirement
    /// time yet at `key.activates_at`.
    pub async fn rotate_key(&self, key: &KeyRow) -> Result<()> {
        on_pool!(self, pool => in_transaction!(pool, |tx| {
            sqlx::query(
                "update signing_keys set retired_at = $1
                 where retired_at is null or retired_at > $1",
            )
            .bind(key.activates_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "insert into signing_keys
                    (kid, secret_key, public_key, created_at, retired_at, activates_at, generation)
                 values ($1, $2, $3, $4, null, $5, $6)",
            )
            .bind(&key.kid)
            .bind(&key.secret)
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
}
