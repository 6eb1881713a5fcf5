//! The team's shared and personal tools: teams and their members, canned responses, macros,
//! saved views, and the notifications an @mention leaves.

use crate::contacts::placeholders;
use crate::{Result, Store, StoreError, read_pool, write_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TeamRow {
    pub id: String,
    pub name: String,
    pub private: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CannedRow {
    pub id: String,
    pub owner_id: String,
    pub shortcut: String,
    pub title: String,
    pub locale: String,
    pub body: String,
    pub updated_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MacroRow {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub actions: String,
    /// Acts on the customer's account: runs only once the customer passed an identity check.
    pub sensitive: bool,
    pub updated_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ViewRow {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub shared: bool,
    pub filters: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: String,
    pub kind: String,
    pub conversation_id: String,
    pub conversation_number: i64,
    pub message_id: Option<String>,
    pub actor_name: String,
    pub excerpt: String,
    pub read_at: Option<i64>,
    pub created_at: i64,
}

pub struct NewNotification<'a> {
    pub id: String,
    pub agent_id: &'a str,
    pub kind: &'a str,
    pub conversation_id: &'a str,
    pub message_id: Option<&'a str>,
    pub actor_name: &'a str,
    pub excerpt: &'a str,
}

impl Store {
    pub async fn insert_team(&self, id: &str, name: &str, private: bool, now: i64) -> Result<()> {
        write_pool!(self, |p| sqlx::query("INSERT INTO teams (id, name, private, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)")
            .bind(id)
            .bind(name)
            .bind(private)
            .bind(now)
            .execute(p)
            .await
            .map_err(StoreError::from_write)?
            .rows_affected());
        Ok(())
    }

    pub async fn update_team(&self, id: &str, name: Option<&str>, private: Option<bool>, now: i64) -> Result<bool> {
        let n = write_pool!(self, |p| sqlx::query(
            "UPDATE teams SET name = COALESCE($2, name), private = COALESCE($3, private), updated_at = $4 WHERE id = $1"
        )
        .bind(id)
        .bind(name)
        .bind(private)
        .bind(now)
        .execute(p)
        .await
        .map_err(StoreError::from_write)?
        .rows_affected());
        Ok(n == 1)
    }

    pub async fn delete_team(&self, id: &str) -> Result<bool> {
        let n = write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE conversations SET team_id = NULL WHERE team_id = $1").bind(id).execute(&mut *tx).await?;
            let n = sqlx::query("DELETE FROM teams WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            n
        });
        Ok(n == 1)
    }

    pub async fn teams(&self) -> Result<Vec<TeamRow>> {
        Ok(read_pool!(self, |p| sqlx::query_as("SELECT id, name, private, created_at FROM teams ORDER BY name").fetch_all(p).await?))
    }

    pub async fn team_by_id(&self, id: &str) -> Result<Option<TeamRow>> {
        Ok(read_pool!(self, |p| sqlx::query_as("SELECT id, name, private, created_at FROM teams WHERE id = $1")
            .bind(id)
            .fetch_optional(p)
            .await?))
    }

    /// (team_id, agent_id) pairs of every team.
    pub async fn team_members(&self) -> Result<Vec<(String, String)>> {
        Ok(read_pool!(self, |p| sqlx::query_as("SELECT team_id, agent_id FROM team_members ORDER BY team_id, agent_id")
            .fetch_all(p)
            .await?))
    }

    pub async fn set_team_members(&self, team_id: &str, agent_ids: &[String], now: i64) -> Result<()> {
        write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM team_members WHERE team_id = $1").bind(team_id).execute(&mut *tx).await?;
            for a in agent_ids {
                sqlx::query("INSERT INTO team_members (team_id, agent_id) VALUES ($1, $2)").bind(team_id).bind(a).execute(&mut *tx).await?;
            }
            sqlx::query("UPDATE teams SET updated_at = $2 WHERE id = $1").bind(team_id).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// How many of `ids` are existing agents.
    pub async fn count_agents_among(&self, ids: &[String]) -> Result<i64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let sql = format!("SELECT COUNT(*) FROM agents WHERE id IN ({})", placeholders(1, ids.len()));
        Ok(read_pool!(self, |p| {
            let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()));
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_one(p).await?
        }))
    }

    pub async fn insert_canned(&self, r: &CannedRow, created_by: &str) -> Result<()> {
        write_pool!(self, |p| sqlx::query(
            "INSERT INTO canned_responses (id, owner_id, shortcut, title, locale, body, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)"
        )
        .bind(&r.id)
        .bind(&r.owner_id)
        .bind(&r.shortcut)
        .bind(&r.title)
        .bind(&r.locale)
        .bind(&r.body)
        .bind(created_by)
        .bind(r.updated_at)
        .execute(p)
        .await
        .map_err(StoreError::from_write)?
        .rows_affected());
        Ok(())
    }

    pub async fn update_canned(&self, r: &CannedRow) -> Result<bool> {
        let n = write_pool!(self, |p| {
            sqlx::query(
            "UPDATE canned_responses SET shortcut = $2, title = $3, locale = $4, body = $5, updated_at = $6, owner_id = $7 WHERE id = $1"
        )
        .bind(&r.id)
        .bind(&r.shortcut)
        .bind(&r.title)
        .bind(&r.locale)
        .bind(&r.body)
        .bind(r.updated_at)
        .bind(&r.owner_id)
        .execute(p)
        .await
        .map_err(StoreError::from_write)?
        .rows_affected()
        });
        Ok(n == 1)
    }

    pub async fn delete_canned(&self, id: &str) -> Result<bool> {
        let n = write_pool!(self, |p| sqlx::query("DELETE FROM canned_responses WHERE id = $1").bind(id).execute(p).await?.rows_affected());
        Ok(n == 1)
    }

    pub async fn canned_by_id(&self, id: &str) -> Result<Option<CannedRow>> {
        Ok(read_pool!(self, |p| sqlx::query_as(
            "SELECT id, owner_id, shortcut, title, locale, body, updated_at FROM canned_responses WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await?))
    }

    /// Shared responses and `agent_id`'s own, matching `q` in shortcut, title or body.
    pub async fn list_canned(&self, agent_id: &str, q: Option<&str>, locale: Option<&str>, limit: i64) -> Result<Vec<CannedRow>> {
        let pattern = q.map(crate::contains_pattern);
        Ok(read_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, owner_id, shortcut, title, locale, body, updated_at FROM canned_responses \
             WHERE (owner_id = '' OR owner_id = $1) AND ($2 IS NULL OR locale = $2) \
               AND ($3 IS NULL OR LOWER(shortcut) LIKE $3 ESCAPE '\\' OR LOWER(title) LIKE $3 ESCAPE '\\' OR LOWER(body) LIKE $3 ESCAPE '\\') \
             ORDER BY shortcut, locale LIMIT CAST($4 AS BIGINT)"
        )
        .bind(agent_id)
        .bind(locale)
        .bind(&pattern)
        .bind(limit)
        .fetch_all(p)
        .await?
        }))
    }

    pub async fn insert_macro(&self, r: &MacroRow, created_by: &str) -> Result<()> {
        write_pool!(self, |p| {
            sqlx::query(
            "INSERT INTO macros (id, owner_id, name, actions, created_by, created_at, updated_at, sensitive) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)"
        )
        .bind(&r.id)
        .bind(&r.owner_id)
        .bind(&r.name)
        .bind(&r.actions)
        .bind(created_by)
        .bind(r.updated_at)
        .bind(r.sensitive)
        .execute(p)
        .await
        .map_err(StoreError::from_write)?
        .rows_affected()
        });
        Ok(())
    }

    pub async fn update_macro(&self, r: &MacroRow) -> Result<bool> {
        let n = write_pool!(self, |p| sqlx::query(
            "UPDATE macros SET name = $2, actions = $3, owner_id = $4, updated_at = $5, sensitive = $6 WHERE id = $1"
        )
        .bind(&r.id)
        .bind(&r.name)
        .bind(&r.actions)
        .bind(&r.owner_id)
        .bind(r.updated_at)
        .bind(r.sensitive)
        .execute(p)
        .await
        .map_err(StoreError::from_write)?
        .rows_affected());
        Ok(n == 1)
    }

    pub async fn delete_macro(&self, id: &str) -> Result<bool> {
        let n = write_pool!(self, |p| sqlx::query("DELETE FROM macros WHERE id = $1").bind(id).execute(p).await?.rows_affected());
        Ok(n == 1)
    }

    pub async fn macro_by_id(&self, id: &str) -> Result<Option<MacroRow>> {
        Ok(read_pool!(self, |p| sqlx::query_as("SELECT id, owner_id, name, actions, sensitive, updated_at FROM macros WHERE id = $1")
            .bind(id)
            .fetch_optional(p)
            .await?))
    }

    pub async fn list_macros(&self, agent_id: &str) -> Result<Vec<MacroRow>> {
        Ok(read_pool!(self, |p| sqlx::query_as(
            "SELECT id, owner_id, name, actions, sensitive, updated_at FROM macros WHERE owner_id = '' OR owner_id = $1 ORDER BY name"
        )
        .bind(agent_id)
        .fetch_all(p)
        .await?))
    }

    pub async fn insert_view(&self, r: &ViewRow) -> Result<()> {
        write_pool!(self, |p| sqlx::query(
            "INSERT INTO saved_views (id, owner_id, name, shared, filters, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(&r.id)
        .bind(&r.owner_id)
        .bind(&r.name)
        .bind(r.shared)
        .bind(&r.filters)
        .bind(r.created_at)
        .execute(p)
        .await
        .map_err(StoreError::from_write)?
        .rows_affected());
        Ok(())
    }

    pub async fn delete_view(&self, id: &str) -> Result<bool> {
        let n = write_pool!(self, |p| sqlx::query("DELETE FROM saved_views WHERE id = $1").bind(id).execute(p).await?.rows_affected());
        Ok(n == 1)
    }

    pub async fn view_by_id(&self, id: &str) -> Result<Option<ViewRow>> {
        Ok(read_pool!(self, |p| sqlx::query_as("SELECT id, owner_id, name, shared, filters, created_at FROM saved_views WHERE id = $1")
            .bind(id)
            .fetch_optional(p)
            .await?))
    }

    pub async fn list_views(&self, agent_id: &str) -> Result<Vec<ViewRow>> {
        Ok(read_pool!(self, |p| sqlx::query_as(
            "SELECT id, owner_id, name, shared, filters, created_at FROM saved_views WHERE owner_id = $1 OR shared ORDER BY name, id"
        )
        .bind(agent_id)
        .fetch_all(p)
        .await?))
    }

    pub async fn insert_notification(&self, n: &NewNotification<'_>, now: i64) -> Result<()> {
        write_pool!(self, |p| sqlx::query(
            "INSERT INTO notifications (id, agent_id, kind, conversation_id, message_id, actor_name, excerpt, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(&n.id)
        .bind(n.agent_id)
        .bind(n.kind)
        .bind(n.conversation_id)
        .bind(n.message_id)
        .bind(n.actor_name)
        .bind(n.excerpt)
        .bind(now)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    pub async fn list_notifications(&self, agent_id: &str, unread_only: bool, limit: i64) -> Result<Vec<NotificationRow>> {
        Ok(read_pool!(self, |p| {
            sqlx::query_as(
            "SELECT n.id, n.kind, n.conversation_id, c.number AS conversation_number, n.message_id, n.actor_name, n.excerpt, n.read_at, n.created_at \
             FROM notifications n JOIN conversations c ON c.id = n.conversation_id \
             WHERE n.agent_id = $1 AND (NOT $2 OR n.read_at IS NULL) ORDER BY n.created_at DESC, n.id DESC LIMIT CAST($3 AS BIGINT)"
        )
        .bind(agent_id)
        .bind(unread_only)
        .bind(limit)
        .fetch_all(p)
        .await?
        }))
    }

    /// Marks one (or, with `None`, every unread) notification of the agent read; the count
    /// includes a named one that was read already, so 0 means it is not theirs.
    pub async fn mark_notifications_read(&self, agent_id: &str, id: Option<&str>, now: i64) -> Result<u64> {
        Ok(write_pool!(self, |p| sqlx::query(
            "UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE agent_id = $1 AND ($2 IS NULL OR id = $2) \
             AND ($2 IS NOT NULL OR read_at IS NULL)"
        )
        .bind(agent_id)
        .bind(id)
        .bind(now)
        .execute(p)
        .await?
        .rows_affected()))
    }
}
