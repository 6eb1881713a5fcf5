//! Failed sign-ins counted per client address, in a sliding window, with a lock once too many.

use crate::{Result, Store, read_pool, write_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IpLockoutRow {
    pub ip: String,
    pub failures: i64,
    pub window_start: i64,
    pub locked_until: Option<i64>,
}

impl Store {
    /// Counts a failure from `ip`. A window older than `window_start_cutoff` starts afresh.
    /// Reaching `max_failures` locks the address until `lock_until`.
    pub async fn record_ip_failure(
        &self,
        ip: &str,
        now: i64,
        window_start_cutoff: i64,
        max_failures: i64,
        lock_until: i64,
    ) -> Result<IpLockoutRow> {
        Ok(write_pool!(self, |p| sqlx::query_as(
            "INSERT INTO ip_lockouts (ip, failures, window_start, locked_until) \
             VALUES ($1, 1, $2, CASE WHEN 1 >= $4 THEN $5 ELSE NULL END) \
             ON CONFLICT (ip) DO UPDATE SET \
               failures = CASE WHEN ip_lockouts.window_start < $3 THEN 1 ELSE ip_lockouts.failures + 1 END, \
               window_start = CASE WHEN ip_lockouts.window_start < $3 THEN $2 ELSE ip_lockouts.window_start END, \
               locked_until = CASE WHEN (CASE WHEN ip_lockouts.window_start < $3 THEN 1 ELSE ip_lockouts.failures + 1 END) >= $4 \
                                   THEN $5 ELSE ip_lockouts.locked_until END \
             RETURNING ip, failures, window_start, locked_until"
        )
        .bind(ip)
        .bind(now)
        .bind(window_start_cutoff)
        .bind(max_failures)
        .bind(lock_until)
        .fetch_one(p)
        .await?))
    }

    pub async fn ip_locked_until(&self, ip: &str, now: i64) -> Result<Option<i64>> {
        Ok(read_pool!(self, |p| sqlx::query_scalar("SELECT locked_until FROM ip_lockouts WHERE ip = $1 AND locked_until > $2")
            .bind(ip)
            .bind(now)
            .fetch_optional(p)
            .await?)
        .flatten())
    }

    pub async fn list_ip_lockouts(&self, now: i64) -> Result<Vec<IpLockoutRow>> {
        Ok(read_pool!(self, |p| sqlx::query_as(
            "SELECT ip, failures, window_start, locked_until FROM ip_lockouts WHERE locked_until > $1 ORDER BY locked_until DESC LIMIT 500"
        )
        .bind(now)
        .fetch_all(p)
        .await?))
    }

    pub async fn clear_ip_lockout(&self, ip: &str) -> Result<bool> {
        let r = write_pool!(self, |p| sqlx::query("DELETE FROM ip_lockouts WHERE ip = $1").bind(ip).execute(p).await?.rows_affected());
        Ok(r == 1)
    }
}
