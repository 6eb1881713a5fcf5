//! Idempotency records: the first request with a key claims it, its response is kept, and a
//! retry with the same key gets that response back instead of acting twice.

use crate::{Result, Store, read_pool, write_pool};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// This request is the first with the key: run it, then `complete_idempotency`.
    New,
    /// Another request with the key is still running.
    InFlight {
        request_hash: String,
    },
    Done {
        request_hash: String,
        status: u16,
        content_type: Option<String>,
        body: Vec<u8>,
    },
}

/// request_hash, status, content_type, body: the last three are null while in flight.
type StoredAnswer = (String, Option<i64>, Option<String>, Option<Vec<u8>>);

impl Store {
    pub async fn claim_idempotency(&self, scope: &str, key: &str, request_hash: &str, now: i64) -> Result<IdempotencyClaim> {
        let inserted = write_pool!(self, |p| {
            sqlx::query(
            "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (scope, key) DO NOTHING"
        )
        .bind(scope)
        .bind(key)
        .bind(request_hash)
        .bind(now)
        .execute(p)
        .await?
        .rows_affected()
        });
        if inserted == 1 {
            return Ok(IdempotencyClaim::New);
        }
        let row: Option<StoredAnswer> = read_pool!(self, |p| sqlx::query_as(
            "SELECT request_hash, status, content_type, body FROM idempotency_keys WHERE scope = $1 AND key = $2"
        )
        .bind(scope)
        .bind(key)
        .fetch_optional(p)
        .await?);
        Ok(match row {
            Some((request_hash, Some(status), content_type, body)) => IdempotencyClaim::Done {
                request_hash,
                status: u16::try_from(status).unwrap_or(500),
                content_type,
                body: body.unwrap_or_default(),
            },
            Some((request_hash, None, _, _)) => IdempotencyClaim::InFlight { request_hash },
            // Released between our insert and read: treat as in flight; the client retries.
            None => IdempotencyClaim::InFlight { request_hash: request_hash.to_string() },
        })
    }

    pub async fn complete_idempotency(&self, scope: &str, key: &str, status: u16, content_type: Option<&str>, body: &[u8]) -> Result<()> {
        write_pool!(self, |p| sqlx::query(
            "UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5 WHERE scope = $1 AND key = $2"
        )
        .bind(scope)
        .bind(key)
        .bind(i64::from(status))
        .bind(content_type)
        .bind(body)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Forgets a claim whose request failed on our side, so the client's retry runs again.
    pub async fn release_idempotency(&self, scope: &str, key: &str) -> Result<()> {
        write_pool!(self, |p| sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2")
            .bind(scope)
            .bind(key)
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    pub async fn purge_idempotency(&self, before: i64) -> Result<u64> {
        let r = write_pool!(self, |p| sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(before)
            .execute(p)
            .await?
            .rows_affected());
        Ok(r)
    }
}
