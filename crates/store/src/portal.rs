//! Customer portal access: magic links and the sessions they open, stored as token hashes.

use crate::{Result, Store, read_pool, write_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PortalAccessRow {
    pub id: String,
    pub kind: String,
    pub contact_id: String,
    pub conversation_id: Option<String>,
    pub expires_at: i64,
}

pub struct NewPortalAccess<'a> {
    pub id: &'a str,
    pub token_hash: &'a str,
    pub kind: &'a str,
    pub contact_id: &'a str,
    pub conversation_id: Option<&'a str>,
    pub expires_at: i64,
}

impl Store {
    pub async fn insert_portal_access(&self, a: &NewPortalAccess<'_>, now: i64) -> Result<()> {
        write_pool!(self, |p| {
            sqlx::query(
            "INSERT INTO portal_access (id, token_hash, kind, contact_id, conversation_id, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(a.id)
        .bind(a.token_hash)
        .bind(a.kind)
        .bind(a.contact_id)
        .bind(a.conversation_id)
        .bind(a.expires_at)
        .bind(now)
        .execute(p)
        .await?
        .rows_affected()
        });
        Ok(())
    }

    pub async fn portal_access(&self, token_hash: &str, kind: &str, now: i64) -> Result<Option<PortalAccessRow>> {
        Ok(read_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, kind, contact_id, conversation_id, expires_at FROM portal_access WHERE token_hash = $1 AND kind = $2 AND expires_at > $3"
        )
        .bind(token_hash)
        .bind(kind)
        .bind(now)
        .fetch_optional(p)
        .await?
        }))
    }

    pub async fn delete_portal_access(&self, id: &str) -> Result<()> {
        write_pool!(self, |p| sqlx::query("DELETE FROM portal_access WHERE id = $1").bind(id).execute(p).await?.rows_affected());
        Ok(())
    }
}
