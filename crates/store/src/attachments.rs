//! Attachment records: what was uploaded, by whom, where its bytes live in the blob store, and
//! which message carries it. The bytes themselves are in the blob store, addressed by hash.

use crate::contacts::placeholders;
use crate::{Result, Store, read_pool, write_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachmentRow {
    pub id: String,
    pub blob_key: String,
    pub thumbnail_key: Option<String>,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub inline_safe: bool,
    pub uploader_kind: String,
    pub uploader_id: String,
    pub conversation_id: Option<String>,
    pub message_id: Option<String>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, blob_key, thumbnail_key, filename, content_type, size, inline_safe, uploader_kind, uploader_id, conversation_id, message_id, created_at";

impl Store {
    pub async fn insert_attachment(&self, a: &AttachmentRow) -> Result<()> {
        write_pool!(self, |p| {
            sqlx::query(
            "INSERT INTO attachments (id, blob_key, thumbnail_key, filename, content_type, size, inline_safe, uploader_kind, uploader_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        )
        .bind(&a.id)
        .bind(&a.blob_key)
        .bind(&a.thumbnail_key)
        .bind(&a.filename)
        .bind(&a.content_type)
        .bind(a.size)
        .bind(a.inline_safe)
        .bind(&a.uploader_kind)
        .bind(&a.uploader_id)
        .bind(a.created_at)
        .execute(p)
        .await?
        .rows_affected()
        });
        Ok(())
    }

    pub async fn attachment_by_id(&self, id: &str) -> Result<Option<AttachmentRow>> {
        let sql = format!("SELECT {COLUMNS} FROM attachments WHERE id = $1");
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(p).await?))
    }

    pub async fn attachments_by_ids(&self, ids: &[String]) -> Result<Vec<AttachmentRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT {COLUMNS} FROM attachments WHERE id IN ({})", placeholders(1, ids.len()));
        Ok(read_pool!(self, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await?
        }))
    }

    pub async fn attachments_of_messages(&self, message_ids: &[String]) -> Result<Vec<AttachmentRow>> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM attachments WHERE message_id IN ({}) ORDER BY created_at, id",
            placeholders(1, message_ids.len())
        );
        Ok(read_pool!(self, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for id in message_ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await?
        }))
    }
}
