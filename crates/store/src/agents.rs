//! Agents and their credentials: password hash, TOTP secret, recovery codes, lockout counters.

use crate::{Result, Store, StoreError, read_pool, write_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgentRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub active: bool,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub totp_pending: Option<String>,
    pub totp_last_step: Option<i64>,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub last_login_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub struct NewAgent<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
    pub now: i64,
}

const AGENT_COLUMNS: &str = "id, email, name, role, active, password_hash, totp_secret, totp_pending, totp_last_step, \
     failed_logins, locked_until, last_login_at, created_at, updated_at";

/// The agent columns qualified by `alias`, for queries that join agents to another table.
pub(crate) fn agent_columns_of(alias: &str) -> String {
    AGENT_COLUMNS.split(", ").map(|c| format!("{alias}.{c}")).collect::<Vec<_>>().join(", ")
}

impl Store {
    pub async fn insert_agent(&self, a: NewAgent<'_>) -> Result<()> {
        write_pool!(self, |p| sqlx::query(
            "INSERT INTO agents (id, email, name, role, active, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, TRUE, $5, $6, $6)"
        )
        .bind(a.id)
        .bind(a.email)
        .bind(a.name)
        .bind(a.role)
        .bind(a.password_hash)
        .bind(a.now)
        .execute(p)
        .await
        .map_err(StoreError::from_write)?
        .rows_affected());
        Ok(())
    }

    pub async fn agent_by_id(&self, id: &str) -> Result<Option<AgentRow>> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = $1");
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(p).await?))
    }

    pub async fn agent_by_email(&self, email: &str) -> Result<Option<AgentRow>> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE email = $1");
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(email).fetch_optional(p).await?))
    }

    /// Agents in id (creation) order after `after`, at most `limit`.
    pub async fn list_agents(&self, after: Option<&str>, limit: i64) -> Result<Vec<AgentRow>> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT CAST($2 AS BIGINT)");
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(after).bind(limit).fetch_all(p).await?))
    }

    pub async fn count_agents(&self) -> Result<i64> {
        Ok(read_pool!(self, |p| sqlx::query_scalar("SELECT COUNT(*) FROM agents").fetch_one(p).await?))
    }

    pub async fn count_active_admins(&self) -> Result<i64> {
        Ok(read_pool!(self, |p| sqlx::query_scalar("SELECT COUNT(*) FROM agents WHERE role = 'admin' AND active").fetch_one(p).await?))
    }

    /// Changes name, role and active flag together; refuses (returns false) when the change
    /// would leave no active admin, checked inside the same statement so two admins demoting
    /// each other at once cannot both succeed.
    pub async fn update_agent_profile(&self, id: &str, name: &str, role: &str, active: bool, now: i64) -> Result<bool> {
        let done = write_pool!(self, |p| sqlx::query(
            "UPDATE agents SET name = $2, role = $3, active = $4, updated_at = $5 WHERE id = $1 \
             AND (($3 = 'admin' AND $4) OR NOT (role = 'admin' AND active) \
                  OR (SELECT COUNT(*) FROM agents WHERE role = 'admin' AND active AND id <> $1) > 0)"
        )
        .bind(id)
        .bind(name)
        .bind(role)
        .bind(active)
        .bind(now)
        .execute(p)
        .await?
        .rows_affected());
        crate::auth_changed();
        Ok(done == 1)
    }

    pub async fn set_password_hash(&self, id: &str, hash: &str, now: i64) -> Result<()> {
        write_pool!(self, |p| sqlx::query("UPDATE agents SET password_hash = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(hash)
            .bind(now)
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Counts one failed sign-in; once `lock_after` are reached the account is locked until
    /// `lock_until`. A lock that has run out starts the count afresh. Returns the new count and lock.
    pub async fn record_login_failure(&self, id: &str, lock_after: i64, lock_until: i64, now: i64) -> Result<(i64, Option<i64>)> {
        Ok(write_pool!(self, |p| sqlx::query_as(
            "UPDATE agents SET \
               failed_logins = CASE WHEN locked_until <= $4 THEN 1 ELSE failed_logins + 1 END, \
               locked_until = CASE WHEN (CASE WHEN locked_until <= $4 THEN 1 ELSE failed_logins + 1 END) >= $2 THEN $3 \
                                   WHEN locked_until <= $4 THEN NULL ELSE locked_until END \
             WHERE id = $1 RETURNING failed_logins, locked_until"
        )
        .bind(id)
        .bind(lock_after)
        .bind(lock_until)
        .bind(now)
        .fetch_one(p)
        .await?))
    }

    pub async fn record_login_success(&self, id: &str, now: i64) -> Result<()> {
        write_pool!(self, |p| sqlx::query("UPDATE agents SET failed_logins = 0, locked_until = NULL, last_login_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Lifts a lockout; the failure count starts again from zero.
    pub async fn unlock_agent(&self, id: &str, now: i64) -> Result<bool> {
        let r =
            write_pool!(self, |p| sqlx::query("UPDATE agents SET failed_logins = 0, locked_until = NULL, updated_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(p)
                .await?
                .rows_affected());
        Ok(r == 1)
    }

    pub async fn set_totp_pending(&self, id: &str, secret: &str, now: i64) -> Result<()> {
        write_pool!(self, |p| sqlx::query("UPDATE agents SET totp_pending = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(secret)
            .bind(now)
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Makes the pending secret the active one and stores fresh recovery codes, atomically.
    pub async fn enable_totp(&self, id: &str, secret: &str, step: i64, recovery_hashes: &[String], now: i64) -> Result<()> {
        self.write_recovery_codes(id, recovery_hashes, Some((secret, step, now))).await
    }

    pub async fn replace_recovery_codes(&self, id: &str, recovery_hashes: &[String]) -> Result<()> {
        self.write_recovery_codes(id, recovery_hashes, None).await
    }

    /// Replaces the recovery codes and, with `activate` = (secret, step, now), turns TOTP on in the
    /// same transaction.
    async fn write_recovery_codes(&self, id: &str, recovery_hashes: &[String], activate: Option<(&str, i64, i64)>) -> Result<()> {
        write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            if let Some((secret, step, now)) = activate {
                sqlx::query("UPDATE agents SET totp_secret = $2, totp_pending = NULL, totp_last_step = $3, updated_at = $4 WHERE id = $1")
                    .bind(id)
                    .bind(secret)
                    .bind(step)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("DELETE FROM recovery_codes WHERE agent_id = $1").bind(id).execute(&mut *tx).await?;
            for h in recovery_hashes {
                sqlx::query("INSERT INTO recovery_codes (agent_id, code_hash) VALUES ($1, $2)").bind(id).bind(h).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        if activate.is_some() {
            crate::auth_changed();
        }
        Ok(())
    }

    pub async fn disable_totp(&self, id: &str, now: i64) -> Result<bool> {
        let n = write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let r = sqlx::query(
                "UPDATE agents SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL, updated_at = $2 WHERE id = $1",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query("DELETE FROM recovery_codes WHERE agent_id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            r
        });
        crate::auth_changed();
        Ok(n == 1)
    }

    /// Records that the TOTP code of time step `step` was used. False when that step (or a
    /// later one) was already used: a replayed code.
    pub async fn consume_totp_step(&self, id: &str, step: i64) -> Result<bool> {
        let r = write_pool!(self, |p| sqlx::query(
            "UPDATE agents SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)"
        )
        .bind(id)
        .bind(step)
        .execute(p)
        .await?
        .rows_affected());
        Ok(r == 1)
    }

    /// Marks a recovery code used; false when it does not exist or was used before.
    pub async fn consume_recovery_code(&self, id: &str, code_hash: &str, now: i64) -> Result<bool> {
        let r = write_pool!(self, |p| sqlx::query(
            "UPDATE recovery_codes SET used_at = $3 WHERE agent_id = $1 AND code_hash = $2 AND used_at IS NULL"
        )
        .bind(id)
        .bind(code_hash)
        .bind(now)
        .execute(p)
        .await?
        .rows_affected());
        Ok(r == 1)
    }

    pub async fn unused_recovery_codes(&self, id: &str) -> Result<i64> {
        Ok(read_pool!(self, |p| sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE agent_id = $1 AND used_at IS NULL")
            .bind(id)
            .fetch_one(p)
            .await?))
    }
}
