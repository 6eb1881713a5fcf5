//! Settings changed at run time from the admin UI, stored as JSON text by key.

use crate::{Result, Store, read_pool, write_pool};

impl Store {
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(read_pool!(self, |p| sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(p).await?))
    }

    pub async fn put_setting(&self, key: &str, value: &str, now: i64) -> Result<()> {
        write_pool!(self, |p| sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
        )
        .bind(key)
        .bind(value)
        .bind(now)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }
}

impl Store {
    /// Stores a setting unless it exists, and returns what is stored: of two nodes (or requests)
    /// that make a first value at once, one value wins and both get it.
    pub async fn setting_or_insert(&self, key: &str, value: &str, now: i64) -> Result<String> {
        write_pool!(self, |p| sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING"
        )
        .bind(key)
        .bind(value)
        .bind(now)
        .execute(p)
        .await?
        .rows_affected());
        Ok(self.setting(key).await?.unwrap_or_else(|| value.to_string()))
    }
}
