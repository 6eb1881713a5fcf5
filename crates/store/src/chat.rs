//! Live chat: the widget's anonymous visitors (a key hash naming a contact), messages after a
//! sequence number for a reconnecting client, and how far each side has read.

use crate::contacts::insert_contact_tx;
use crate::conversations::MESSAGE_COLUMNS;
use crate::{MessageRow, NewContact, Result, Store, StoreError, read_pool, write_pool};

/// Which side of a conversation read up to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadSide {
    Customer,
    Agent,
}

impl Store {
    /// Creates an anonymous visitor's contact and the visitor whose key opens it, together. A
    /// key already taken (the same browser asking twice at once) is a `Conflict`.
    pub async fn create_chat_visitor(&self, contact: &NewContact, visitor_id: &str, key_hash: &str, now: i64) -> Result<()> {
        write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            insert_contact_tx!(tx, contact, now);
            sqlx::query("INSERT INTO chat_visitors (id, key_hash, contact_id, created_at) VALUES ($1, $2, $3, $4)")
                .bind(visitor_id)
                .bind(key_hash)
                .bind(&contact.id)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from_write)?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The contact a visitor's key opens.
    pub async fn chat_visitor_contact(&self, key_hash: &str) -> Result<Option<String>> {
        Ok(read_pool!(self, |p| sqlx::query_scalar("SELECT contact_id FROM chat_visitors WHERE key_hash = $1")
            .bind(key_hash)
            .fetch_optional(p)
            .await?))
    }

    /// Messages of a conversation after `after_seq`, in order, at most `limit`.
    pub async fn messages_after(
        &self,
        conversation_id: &str,
        after_seq: i64,
        include_private: bool,
        limit: i64,
    ) -> Result<Vec<MessageRow>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq > $2 {} ORDER BY seq LIMIT CAST($3 AS BIGINT)",
            if include_private { "" } else { "AND NOT private" }
        );
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(conversation_id)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(p)
            .await?))
    }

    /// A message a contact's client sent with this key in any of the contact's conversations:
    /// how a retried first message (whose conversation the client never learnt) is recognised.
    pub async fn message_by_contact_client_key(&self, contact_id: &str, key: &str) -> Result<Option<MessageRow>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE client_key = $2 \
               AND conversation_id IN (SELECT id FROM conversations WHERE contact_id = $1) LIMIT 1"
        );
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(contact_id).bind(key).fetch_optional(p).await?))
    }

    /// Records that `side` has seen the conversation up to `seq` (never moving back, never past
    /// its last message); true when that moved the mark.
    pub async fn mark_read(&self, conversation_id: &str, side: ReadSide, seq: i64) -> Result<bool> {
        let sql = match side {
            ReadSide::Customer => {
                "UPDATE conversations SET customer_read_seq = $2 WHERE id = $1 AND customer_read_seq < $2 AND last_seq >= $2"
            }
            ReadSide::Agent => "UPDATE conversations SET agent_read_seq = $2 WHERE id = $1 AND agent_read_seq < $2 AND last_seq >= $2",
        };
        let n = write_pool!(self, |p| sqlx::query(sql).bind(conversation_id).bind(seq).execute(p).await?.rows_affected());
        Ok(n > 0)
    }
}

impl Store {
    /// How far a chat's replies were mailed to its customer (a message `seq`).
    pub async fn chat_emailed_seq(&self, conversation_id: &str) -> Result<i64> {
        Ok(read_pool!(self, |p| sqlx::query_scalar("SELECT emailed_seq FROM conversations WHERE id = $1")
            .bind(conversation_id)
            .fetch_optional(p)
            .await?
            .unwrap_or(0)))
    }

    /// Moves the mailed mark from `from` to `to`; false when another run moved it first.
    pub async fn mark_chat_emailed(&self, conversation_id: &str, from: i64, to: i64) -> Result<bool> {
        let n = write_pool!(self, |p| sqlx::query("UPDATE conversations SET emailed_seq = $3 WHERE id = $1 AND emailed_seq = $2")
            .bind(conversation_id)
            .bind(from)
            .bind(to)
            .execute(p)
            .await?
            .rows_affected());
        Ok(n == 1)
    }
}

impl Store {
    /// The place (1 = next) of an open, unassigned chat created at `created_at` (ties by id)
    /// among the open chats that no agent has.
    pub async fn chat_queue_position(&self, id: &str, created_at: i64) -> Result<i64> {
        let n: i64 = read_pool!(self, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM conversations WHERE channel = 'chat' AND status = 'open' AND assignee_id IS NULL \
               AND (created_at < $1 OR (created_at = $1 AND id <= $2))",
        )
        .bind(created_at)
        .bind(id)
        .fetch_one(p)
        .await?);
        Ok(n.max(1))
    }

    /// The median time from a chat's start to an agent's first reply, in microseconds, over
    /// the last 50 chats started since `since` and answered; `None` without any.
    pub async fn chat_median_first_response(&self, since: i64) -> Result<Option<i64>> {
        let mut recent: Vec<i64> = read_pool!(self, |p| sqlx::query_scalar(
            "SELECT first_response_at - created_at FROM conversations \
             WHERE channel = 'chat' AND first_response_at IS NOT NULL AND created_at >= $1 \
             ORDER BY created_at DESC LIMIT 50",
        )
        .bind(since)
        .fetch_all(p)
        .await?);
        recent.sort_unstable();
        Ok((!recent.is_empty()).then(|| recent[recent.len() / 2]))
    }
}
