//! The support bot's tables: its dialogue per conversation, the turns it took (for its reports)
//! and the training examples admins added.

use crate::{Result, Store, StoreError, read_pool, write_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BotSessionRow {
    pub conversation_id: String,
    pub status: String,
    pub state: String,
    pub handled_seq: i64,
    pub intent: Option<String>,
    pub language: Option<String>,
    pub handoff_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewBotTurn<'a> {
    pub id: &'a str,
    pub conversation_id: &'a str,
    pub message_id: &'a str,
    pub intent: &'a str,
    pub confidence: i64,
    pub language: &'a str,
    pub outcome: &'a str,
    pub reason: Option<&'a str>,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BotExampleRow {
    pub id: String,
    pub text: String,
    pub intent: String,
    pub lang: String,
    pub created_by: Option<String>,
    pub created_at: i64,
}

/// A message the bot could not answer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BotMissRow {
    pub conversation_id: String,
    pub number: i64,
    pub message_id: String,
    pub body: String,
    pub intent: String,
    pub confidence: i64,
    pub language: String,
    pub reason: Option<String>,
    pub created_at: i64,
}

const SESSION_COLUMNS: &str = "conversation_id, status, state, handled_seq, intent, language, handoff_reason, created_at, updated_at";

impl Store {
    /// Starts the bot on a conversation; nothing when it has a session already.
    pub async fn start_bot_session(&self, conversation_id: &str, now: i64) -> Result<()> {
        write_pool!(self, |p| sqlx::query(
            "INSERT INTO bot_sessions (conversation_id, status, created_at, updated_at) VALUES ($1, 'active', $2, $2) \
             ON CONFLICT (conversation_id) DO NOTHING"
        )
        .bind(conversation_id)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ())?);
        Ok(())
    }

    pub async fn bot_session(&self, conversation_id: &str) -> Result<Option<BotSessionRow>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM bot_sessions WHERE conversation_id = $1");
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(conversation_id).fetch_optional(p).await?))
    }

    /// Takes the customer's messages up to `seq` for this node to answer: `false` when the bot
    /// is not active there or another node (or an earlier run) took them.
    pub async fn claim_bot_turn(&self, conversation_id: &str, seq: i64, now: i64) -> Result<bool> {
        let n = write_pool!(self, |p| {
            sqlx::query(
            "UPDATE bot_sessions SET handled_seq = $2, updated_at = $3 WHERE conversation_id = $1 AND status = 'active' AND handled_seq < $2"
        )
        .bind(conversation_id)
        .bind(seq)
        .bind(now)
        .execute(p)
        .await?
        .rows_affected()
        });
        Ok(n == 1)
    }

    /// Stores the dialogue after a turn. A session an agent took meanwhile keeps its status.
    #[allow(clippy::too_many_arguments)]
    pub async fn save_bot_session(
        &self,
        conversation_id: &str,
        status: &str,
        state: &str,
        handled_seq: i64,
        intent: Option<&str>,
        language: &str,
        handoff_reason: Option<&str>,
        now: i64,
    ) -> Result<()> {
        write_pool!(self, |p| sqlx::query(
            "UPDATE bot_sessions SET status = CASE WHEN status = 'agent' THEN status ELSE $2 END, state = $3, \
             handled_seq = CASE WHEN handled_seq > $4 THEN handled_seq ELSE $4 END, intent = COALESCE($5, intent), language = $6, \
             handoff_reason = COALESCE($7, handoff_reason), updated_at = $8 WHERE conversation_id = $1"
        )
        .bind(conversation_id)
        .bind(status)
        .bind(state)
        .bind(handled_seq)
        .bind(intent)
        .bind(language)
        .bind(handoff_reason)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// Moves a session from one of `from` to `to`; whether it moved.
    pub async fn set_bot_status(&self, conversation_id: &str, from: &[&str], to: &str, now: i64) -> Result<bool> {
        let list = (0..from.len()).map(|i| format!("${}", i + 4)).collect::<Vec<_>>().join(", ");
        let sql = format!("UPDATE bot_sessions SET status = $2, updated_at = $3 WHERE conversation_id = $1 AND status IN ({list})");
        let n = write_pool!(self, |p| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(conversation_id).bind(to).bind(now);
            for f in from {
                q = q.bind(*f);
            }
            q.execute(p).await?.rows_affected()
        });
        Ok(n == 1)
    }

    /// Active sessions with customer messages the bot has not answered (after a restart).
    pub async fn bot_sessions_waiting(&self, limit: i64) -> Result<Vec<String>> {
        Ok(read_pool!(self, |p| sqlx::query_scalar(
            "SELECT DISTINCT s.conversation_id FROM bot_sessions s JOIN messages m ON m.conversation_id = s.conversation_id \
             AND m.seq > s.handled_seq AND m.author_kind = 'customer' AND NOT m.private WHERE s.status = 'active' LIMIT CAST($1 AS BIGINT)"
        )
        .bind(limit)
        .fetch_all(p)
        .await?))
    }

    pub async fn insert_bot_turn(&self, t: &NewBotTurn<'_>) -> Result<()> {
        write_pool!(self, |p| sqlx::query(
            "INSERT INTO bot_turns (id, conversation_id, message_id, intent, confidence, language, outcome, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(t.id)
        .bind(t.conversation_id)
        .bind(t.message_id)
        .bind(t.intent)
        .bind(t.confidence)
        .bind(t.language)
        .bind(t.outcome)
        .bind(t.reason)
        .bind(t.created_at)
        .execute(p)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// Sessions started since `since` by status.
    pub async fn bot_session_counts(&self, since: i64) -> Result<Vec<(String, i64)>> {
        Ok(read_pool!(self, |p| sqlx::query_as(
            "SELECT status, COUNT(*) FROM bot_sessions WHERE created_at >= $1 GROUP BY status ORDER BY status"
        )
        .bind(since)
        .fetch_all(p)
        .await?))
    }

    /// Handoffs of sessions started since `since` by reason, commonest first.
    pub async fn bot_handoff_reasons(&self, since: i64) -> Result<Vec<(String, i64)>> {
        Ok(read_pool!(self, |p| sqlx::query_as(
            "SELECT handoff_reason, COUNT(*) AS n FROM bot_sessions WHERE created_at >= $1 AND handoff_reason IS NOT NULL \
             GROUP BY handoff_reason ORDER BY n DESC, handoff_reason"
        )
        .bind(since)
        .fetch_all(p)
        .await?))
    }

    /// The commonest intents of the bot's turns since `since`, excluding the not understood.
    pub async fn bot_top_intents(&self, since: i64, limit: i64) -> Result<Vec<(String, i64)>> {
        Ok(read_pool!(self, |p| sqlx::query_as(
            "SELECT intent, COUNT(*) AS n FROM bot_turns WHERE created_at >= $1 AND outcome <> 'not_understood' \
             GROUP BY intent ORDER BY n DESC, intent LIMIT CAST($2 AS BIGINT)"
        )
        .bind(since)
        .bind(limit)
        .fetch_all(p)
        .await?))
    }

    /// Turns since `since`, and how many of them the bot did not understand.
    pub async fn bot_turn_counts(&self, since: i64) -> Result<(i64, i64)> {
        Ok(read_pool!(self, |p| {
            sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN outcome = 'not_understood' OR reason IN ('no_answer', 'low_confidence') THEN 1 ELSE 0 END), 0) \
             FROM bot_turns WHERE created_at >= $1"
        )
        .bind(since)
        .fetch_one(p)
        .await?
        }))
    }

    /// The latest messages the bot could not answer, newest first.
    pub async fn bot_misses(&self, since: i64, limit: i64) -> Result<Vec<BotMissRow>> {
        Ok(read_pool!(self, |p| sqlx::query_as(
            "SELECT t.conversation_id, c.number, t.message_id, m.body, t.intent, t.confidence, t.language, t.reason, t.created_at \
             FROM bot_turns t JOIN messages m ON m.id = t.message_id JOIN conversations c ON c.id = t.conversation_id \
             WHERE t.created_at >= $1 AND (t.outcome = 'not_understood' OR t.reason IN ('no_answer', 'low_confidence')) \
             ORDER BY t.created_at DESC LIMIT CAST($2 AS BIGINT)"
        )
        .bind(since)
        .bind(limit)
        .fetch_all(p)
        .await?))
    }

    pub async fn bot_examples(&self) -> Result<Vec<BotExampleRow>> {
        Ok(read_pool!(self, |p| sqlx::query_as(
            "SELECT id, text, intent, lang, created_by, created_at FROM bot_examples ORDER BY created_at DESC, id"
        )
        .fetch_all(p)
        .await?))
    }

    /// Adds an example; the same text twice is a `Conflict`.
    pub async fn insert_bot_example(&self, r: &BotExampleRow) -> Result<()> {
        write_pool!(self, |p| sqlx::query(
            "INSERT INTO bot_examples (id, text, intent, lang, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(&r.id)
        .bind(&r.text)
        .bind(&r.intent)
        .bind(&r.lang)
        .bind(&r.created_by)
        .bind(r.created_at)
        .execute(p)
        .await
        .map(|_| ())
        .map_err(StoreError::from_write)?);
        Ok(())
    }

    /// Deletes an example; whether it existed.
    pub async fn delete_bot_example(&self, id: &str) -> Result<bool> {
        let n = write_pool!(self, |p| sqlx::query("DELETE FROM bot_examples WHERE id = $1").bind(id).execute(p).await?.rows_affected());
        Ok(n == 1)
    }
}
