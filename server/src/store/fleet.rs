//! What the servers of a fleet share: leases (one log sequencer at a time), the rate
//! limits, and the write probe behind `/readyz`.

use super::{Result, Store, now_ms};

impl Store {
    /// Commits a tiny write (the `store_probe` row): fails when the store cannot commit.
    pub async fn probe_write(&self) -> Result<()> {
        let _turn = self.write_turn().await;
        on_pool!(self, pool => in_transaction!(pool, |tx| {
            sqlx::query("update store_probe set checked_at = $1 where id = 1")
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }))
    }

    /// Takes or renews the lease `name` for `holder` for `for_ms` from now, if it is free,
    /// expired or already `holder`'s; returns whether `holder` holds it now. Holders of a
    /// lease should be on machines whose clocks agree within a second or so (NTP).
    pub async fn take_lease(&self, name: &str, holder: &str, for_ms: i64) -> Result<bool> {
        let now = now_ms();
        let _turn = self.write_turn().await;
        let held: Option<String> = on_pool!(self, pool => sqlx::query_scalar(
                "insert into leases (name, holder, until_ms) values ($1, $2, $3)
                 on conflict (name) do update
                    set holder = excluded.holder, until_ms = excluded.until_ms
                    where leases.holder = excluded.holder or leases.until_ms < $4
                 returning holder",
            )
            .bind(name)
            .bind(holder)
            .bind(now.saturating_add(for_ms))
            .bind(now)
            .fetch_optional(pool)
            .await)?;
        Ok(held.is_some())
    }

    /// GCRA step for `client` in the shared `rate_limits` table, in one atomic statement:
    /// `None` if the request is allowed (and counted), else by how many milliseconds it
    /// is early.
    pub async fn rate_limit(
        &self,
        client: &str,
        interval_ms: i64,
        tolerance_ms: i64,
    ) -> Result<Option<i64>> {
        let now = now_ms();
        let later = "case when rate_limits.tat_ms > $2 then rate_limits.tat_ms else $2 end";
        let sql = format!(
            "insert into rate_limits (client, tat_ms) values ($1, $2 + $3)
             on conflict (client) do update set tat_ms = {later} + $3
                where {later} - $2 <= $4
             returning tat_ms"
        );
        let allowed: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(&sql)
            .bind(client)
            .bind(now)
            .bind(interval_ms)
            .bind(tolerance_ms)
            .fetch_optional(pool)
            .await)?;
        if allowed.is_some() {
            return Ok(None);
        }
        let tat: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
                "select tat_ms from rate_limits where client = $1",
            )
            .bind(client)
            .fetch_optional(pool)
            .await)?;
        Ok(Some(tat.map_or(0, |t| t - now - tolerance_ms).max(1)))
    }

    /// Deletes the rate-limit rows of clients whose limit has fully recovered.
    pub async fn sweep_rate_limits(&self) -> Result<u64> {
        Ok(
            on_pool!(self, pool => sqlx::query("delete from rate_limits where tat_ms < $1")
            .bind(now_ms())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?,
        )
    }
}
