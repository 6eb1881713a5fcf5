//! Personal API tokens: stored as a SHA-256 of the secret, with scopes, expiry and revocation.

use crate::{Result, Store, read_pool, write_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: String,
    pub agent_id: String,
    pub name: String,
    pub prefix: String,
    /// Space-separated scope names.
    pub scopes: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub struct NewToken<'a> {
    pub id: &'a str,
    pub agent_id: &'a str,
    pub name: &'a str,
    pub prefix: &'a str,
    pub secret_hash: &'a str,
    pub scopes: &'a str,
    pub now: i64,
    pub expires_at: Option<i64>,
}

/// A usable token with its agent, read together on every API request.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenAgentRow {
    #[sqlx(flatten)]
    pub agent: crate::AgentRow,
    pub token_id: String,
    pub token_scopes: String,
    pub token_last_used_at: Option<i64>,
    pub token_expires_at: Option<i64>,
}

const TOKEN_COLUMNS: &str = "id, agent_id, name, prefix, scopes, created_at, last_used_at, expires_at, revoked_at";

impl Store {
    pub async fn insert_token(&self, t: NewToken<'_>) -> Result<()> {
        write_pool!(self, |p| sqlx::query(
            "INSERT INTO api_tokens (id, agent_id, name, prefix, secret_hash, scopes, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(t.id)
        .bind(t.agent_id)
        .bind(t.name)
        .bind(t.prefix)
        .bind(t.secret_hash)
        .bind(t.scopes)
        .bind(t.now)
        .bind(t.expires_at)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    /// The usable token with this secret hash and its agent, in one query.
    pub async fn live_token_with_agent(&self, secret_hash: &str, now: i64) -> Result<Option<TokenAgentRow>> {
        let sql = format!(
            "SELECT {}, t.id AS token_id, t.scopes AS token_scopes, t.last_used_at AS token_last_used_at, \
               t.expires_at AS token_expires_at \
             FROM api_tokens t JOIN agents a ON a.id = t.agent_id \
             WHERE t.secret_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)",
            crate::agents::agent_columns_of("a")
        );
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(secret_hash).bind(now).fetch_optional(p).await?))
    }

    pub async fn token_by_id(&self, id: &str) -> Result<Option<TokenRow>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1");
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(p).await?))
    }

    pub async fn list_tokens(&self, agent_id: &str) -> Result<Vec<TokenRow>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE agent_id = $1 ORDER BY id DESC LIMIT 500");
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(agent_id).fetch_all(p).await?))
    }

    pub async fn revoke_token(&self, id: &str, agent_id: &str, now: i64) -> Result<bool> {
        let r = write_pool!(self, |p| sqlx::query(
            "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND agent_id = $2 AND revoked_at IS NULL"
        )
        .bind(id)
        .bind(agent_id)
        .bind(now)
        .execute(p)
        .await?
        .rows_affected());
        crate::auth_changed();
        Ok(r == 1)
    }

    /// Notes a use, at most once a minute per token.
    pub async fn touch_token(&self, id: &str, now: i64) -> Result<()> {
        write_pool!(self, |p| sqlx::query(
            "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2 - 60000000)"
        )
        .bind(id)
        .bind(now)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }
}
