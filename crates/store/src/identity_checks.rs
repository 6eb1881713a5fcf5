//! Step-up identity checks of a conversation's customer. Each write also sets the
//! conversation's copy of the latest check's public state and notes the change on its
//! timeline, in one transaction.

use crate::conversations::{INSERT_ACTIVITY, NewActivity, insert_activity_tx};
use crate::{Result, Store, read_pool, write_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IdentityCheckRow {
    pub id: String,
    pub conversation_id: String,
    pub method: String,
    pub status: String,
    pub reason: String,
    /// Where the challenge went, masked (`j***@example.com`).
    pub destination: Option<String>,
    /// SHA-256 of the id and the one-time code, once a code was sent.
    pub secret_hash: Option<String>,
    /// Wrong answers so far.
    pub attempts: i64,
    pub requested_by: String,
    pub requested_by_name: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub completed_at: Option<i64>,
}

macro_rules! columns {
    () => {
        "id, conversation_id, method, status, reason, destination, secret_hash, attempts, requested_by, \
         requested_by_name, created_at, expires_at, completed_at"
    };
}

impl Store {
    /// Starts a check: earlier pending checks of the conversation are cancelled, the new one
    /// becomes the conversation's latest (`public` is its public state as JSON).
    pub async fn insert_identity_check(&self, r: &IdentityCheckRow, public: &str, a: &NewActivity, now: i64) -> Result<()> {
        write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE identity_checks SET status = 'cancelled', completed_at = $2 WHERE conversation_id = $1 AND status = 'pending'",
            )
            .bind(&r.conversation_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(concat!(
                "INSERT INTO identity_checks (",
                columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            ))
            .bind(&r.id)
            .bind(&r.conversation_id)
            .bind(&r.method)
            .bind(&r.status)
            .bind(&r.reason)
            .bind(&r.destination)
            .bind(&r.secret_hash)
            .bind(r.attempts)
            .bind(&r.requested_by)
            .bind(&r.requested_by_name)
            .bind(r.created_at)
            .bind(r.expires_at)
            .bind(r.completed_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE conversations SET identity_check = $2, last_activity_at = $3 WHERE id = $1")
                .bind(&r.conversation_id)
                .bind(public)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            insert_activity_tx!(tx, &r.conversation_id, a, now);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Writes a check's new state if it is still as `seen` left it (same status and attempts);
    /// false when another answer came first. The conversation's copy follows only while this
    /// check is its latest. `a` notes the change on the timeline.
    pub async fn update_identity_check(
        &self,
        r: &IdentityCheckRow,
        seen: (&str, i64),
        public: &str,
        a: Option<&NewActivity>,
        now: i64,
    ) -> Result<bool> {
        let done = write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE identity_checks SET status = $2, attempts = $3, secret_hash = $4, completed_at = $5 \
                 WHERE id = $1 AND status = $6 AND attempts = $7",
            )
            .bind(&r.id)
            .bind(&r.status)
            .bind(r.attempts)
            .bind(&r.secret_hash)
            .bind(r.completed_at)
            .bind(seen.0)
            .bind(seen.1)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                sqlx::query(
                    "UPDATE conversations SET identity_check = $2 WHERE id = $1 AND identity_check IS NOT NULL \
                     AND NOT EXISTS (SELECT 1 FROM identity_checks WHERE conversation_id = $1 AND created_at > $3)",
                )
                .bind(&r.conversation_id)
                .bind(public)
                .bind(r.created_at)
                .execute(&mut *tx)
                .await?;
                if let Some(a) = a {
                    insert_activity_tx!(tx, &r.conversation_id, a, now);
                }
            }
            tx.commit().await?;
            n == 1
        });
        Ok(done)
    }

    pub async fn identity_check_by_id(&self, id: &str) -> Result<Option<IdentityCheckRow>> {
        Ok(read_pool!(self, |p| sqlx::query_as(concat!("SELECT ", columns!(), " FROM identity_checks WHERE id = $1"))
            .bind(id)
            .fetch_optional(p)
            .await?))
    }

    /// A conversation's checks, newest first.
    pub async fn identity_checks_of(&self, conversation_id: &str, limit: i64) -> Result<Vec<IdentityCheckRow>> {
        Ok(read_pool!(self, |p| sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM identity_checks WHERE conversation_id = $1 ORDER BY created_at DESC, id DESC LIMIT CAST($2 AS BIGINT)"
        ))
        .bind(conversation_id)
        .bind(limit)
        .fetch_all(p)
        .await?))
    }

    /// How many checks were started for a customer since `since`, across all of their
    /// conversations (a new conversation must not reset the limit), and when the first of them was.
    pub async fn identity_checks_since(&self, contact_id: &str, since: i64) -> Result<(i64, Option<i64>)> {
        Ok(read_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*), MIN(k.created_at) FROM identity_checks k JOIN conversations c ON c.id = k.conversation_id \
             WHERE c.contact_id = $1 AND k.created_at >= $2"
        )
        .bind(contact_id)
        .bind(since)
        .fetch_one(p)
        .await?))
    }
}
