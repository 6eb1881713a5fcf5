//! Browser sessions and the short-lived challenges between the password and the TOTP step.
//! Only hashes of the bearer secrets are stored.

use crate::{Result, Store, read_pool, write_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub agent_id: String,
    pub csrf_token: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionAgentRow {
    #[sqlx(flatten)]
    pub agent: crate::AgentRow,
    pub session_id: String,
    pub session_csrf_token: String,
    pub session_last_seen_at: i64,
}

pub struct NewSession<'a> {
    pub id: &'a str,
    pub token_hash: &'a str,
    pub agent_id: &'a str,
    pub csrf_token: &'a str,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub now: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChallengeRow {
    pub agent_id: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub attempts: i64,
    pub expires_at: i64,
}

const SESSION_COLUMNS: &str = "id, agent_id, csrf_token, ip, user_agent, created_at, last_seen_at, expires_at, revoked_at";

impl Store {
    pub async fn insert_session(&self, s: NewSession<'_>) -> Result<()> {
        write_pool!(self, |p| sqlx::query(
            "INSERT INTO sessions (id, token_hash, agent_id, csrf_token, ip, user_agent, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)"
        )
        .bind(s.id)
        .bind(s.token_hash)
        .bind(s.agent_id)
        .bind(s.csrf_token)
        .bind(s.ip)
        .bind(s.user_agent)
        .bind(s.now)
        .bind(s.expires_at)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    /// The live (unrevoked, unexpired) session whose token hashes to `token_hash`.
    /// The live session with this token hash and its agent, in one query (every console
    /// request asks).
    pub async fn live_session_with_agent(&self, token_hash: &str, now: i64) -> Result<Option<SessionAgentRow>> {
        let sql = format!(
            "SELECT {}, s.id AS session_id, s.csrf_token AS session_csrf_token, s.last_seen_at AS session_last_seen_at \
             FROM sessions s JOIN agents a ON a.id = s.agent_id \
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2",
            crate::agents::agent_columns_of("a")
        );
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(token_hash).bind(now).fetch_optional(p).await?))
    }

    /// Refreshes `last_seen_at` and slides the expiry, at most once a minute per session
    /// so that reads do not turn into a write each.
    pub async fn touch_session(&self, id: &str, now: i64, expires_at: i64) -> Result<()> {
        write_pool!(self, |p| sqlx::query(
            "UPDATE sessions SET last_seen_at = $2, expires_at = $3 WHERE id = $1 AND last_seen_at < $2 - 60000000"
        )
        .bind(id)
        .bind(now)
        .bind(expires_at)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    pub async fn list_live_sessions(&self, agent_id: &str, now: i64) -> Result<Vec<SessionRow>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE agent_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY last_seen_at DESC LIMIT 200"
        );
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(agent_id).bind(now).fetch_all(p).await?))
    }

    pub async fn revoke_session(&self, id: &str, agent_id: &str, now: i64) -> Result<bool> {
        let r = write_pool!(self, |p| sqlx::query(
            "UPDATE sessions SET revoked_at = $3 WHERE id = $1 AND agent_id = $2 AND revoked_at IS NULL"
        )
        .bind(id)
        .bind(agent_id)
        .bind(now)
        .execute(p)
        .await?
        .rows_affected());
        Ok(r == 1)
    }

    pub async fn revoke_agent_sessions(&self, agent_id: &str, now: i64) -> Result<u64> {
        let r = write_pool!(self, |p| sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE agent_id = $1 AND revoked_at IS NULL")
            .bind(agent_id)
            .bind(now)
            .execute(p)
            .await?
            .rows_affected());
        Ok(r)
    }

    pub async fn insert_challenge(
        &self,
        token_hash: &str,
        agent_id: &str,
        ip: Option<&str>,
        user_agent: Option<&str>,
        expires_at: i64,
    ) -> Result<()> {
        write_pool!(self, |p| sqlx::query(
            "INSERT INTO login_challenges (token_hash, agent_id, ip, user_agent, expires_at) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(token_hash)
        .bind(agent_id)
        .bind(ip)
        .bind(user_agent)
        .bind(expires_at)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Counts an attempt against a live challenge and returns it; `None` when it is unknown
    /// or expired.
    pub async fn attempt_challenge(&self, token_hash: &str, now: i64) -> Result<Option<ChallengeRow>> {
        Ok(write_pool!(self, |p| sqlx::query_as(
            "UPDATE login_challenges SET attempts = attempts + 1 WHERE token_hash = $1 AND expires_at > $2 \
             RETURNING agent_id, ip, user_agent, attempts, expires_at"
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(p)
        .await?))
    }

    pub async fn delete_challenge(&self, token_hash: &str) -> Result<()> {
        write_pool!(self, |p| sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1")
            .bind(token_hash)
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Deletes what can no longer be used: expired challenges and sessions long gone.
    pub async fn purge_expired_auth(&self, now: i64, sessions_before: i64) -> Result<u64> {
        let n = write_pool!(self, |p| {
            let a = sqlx::query("DELETE FROM login_challenges WHERE expires_at <= $1").bind(now).execute(p).await?.rows_affected();
            let b = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR revoked_at <= $1")
                .bind(sessions_before)
                .execute(p)
                .await?
                .rows_affected();
            a + b
        });
        Ok(n)
    }
}
