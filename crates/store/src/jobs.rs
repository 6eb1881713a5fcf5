//! The durable job queue. Jobs are claimed with a lease: a worker that dies leaves a lease that
//! runs out, and the job is claimed again. On PostgreSQL claims skip rows other nodes hold.

use crate::{Result, Store, read_pool, write_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: String,
    pub kind: String,
    pub payload: String,
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub locked_by: Option<String>,
    pub locked_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub struct NewJob<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub payload: &'a str,
    pub max_attempts: i64,
    pub run_at: i64,
    pub now: i64,
}

const JOB_COLUMNS: &str =
    "id, kind, payload, status, attempts, max_attempts, run_at, locked_by, locked_until, last_error, created_at, updated_at";

/// Due jobs: queued and due, or running with a lease that ran out.
const DUE: &str = "(status = 'queued' AND run_at <= $2) OR (status = 'running' AND locked_until <= $2)";

impl Store {
    pub async fn enqueue_job(&self, j: NewJob<'_>) -> Result<()> {
        write_pool!(self, |p| {
            sqlx::query(
            "INSERT INTO jobs (id, kind, payload, status, max_attempts, run_at, created_at, updated_at) VALUES ($1, $2, $3, 'queued', $4, $5, $6, $6)"
        )
        .bind(j.id)
        .bind(j.kind)
        .bind(j.payload)
        .bind(j.max_attempts)
        .bind(j.run_at)
        .bind(j.now)
        .execute(p)
        .await?
        .rows_affected()
        });
        Ok(())
    }

    /// Claims up to `limit` due jobs for `worker` until `lease_until`, counting an attempt each.
    pub async fn claim_jobs(&self, worker: &str, now: i64, lease_until: i64, limit: i64) -> Result<Vec<JobRow>> {
        let rows = match self {
            // One writer connection: the subquery and the update cannot interleave with another claim.
            Store::Sqlite(s) => {
                let sql = format!(
                    "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $3, attempts = attempts + 1, updated_at = $2 \
                     WHERE id IN (SELECT id FROM jobs WHERE {DUE} ORDER BY run_at LIMIT CAST($4 AS BIGINT)) RETURNING {JOB_COLUMNS}"
                );
                sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(worker)
                    .bind(now)
                    .bind(lease_until)
                    .bind(limit)
                    .fetch_all(&s.write)
                    .await?
            }
            Store::Postgres(pg) => {
                let sql = format!(
                    "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $3, attempts = attempts + 1, updated_at = $2 \
                     WHERE id IN (SELECT id FROM jobs WHERE {DUE} ORDER BY run_at LIMIT CAST($4 AS BIGINT) FOR UPDATE SKIP LOCKED) RETURNING {JOB_COLUMNS}"
                );
                sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(worker).bind(now).bind(lease_until).bind(limit).fetch_all(pg).await?
            }
        };
        Ok(rows)
    }

    /// Marks a job done, if `worker` still holds it.
    pub async fn complete_job(&self, id: &str, worker: &str, now: i64) -> Result<bool> {
        let r = write_pool!(self, |p| sqlx::query(
            "UPDATE jobs SET status = 'done', locked_by = NULL, locked_until = NULL, last_error = NULL, updated_at = $3 \
             WHERE id = $1 AND locked_by = $2 AND status = 'running'"
        )
        .bind(id)
        .bind(worker)
        .bind(now)
        .execute(p)
        .await?
        .rows_affected());
        Ok(r == 1)
    }

    /// Records a failed attempt: back to the queue at `retry_at`, or `failed` for good when
    /// there is none.
    pub async fn fail_job(&self, id: &str, worker: &str, now: i64, error: &str, retry_at: Option<i64>) -> Result<bool> {
        let r = write_pool!(self, |p| sqlx::query(
            "UPDATE jobs SET status = CASE WHEN $5 IS NULL THEN 'failed' ELSE 'queued' END, run_at = COALESCE($5, run_at), \
             locked_by = NULL, locked_until = NULL, last_error = $4, updated_at = $3 \
             WHERE id = $1 AND locked_by = $2 AND status = 'running'"
        )
        .bind(id)
        .bind(worker)
        .bind(now)
        .bind(error)
        .bind(retry_at)
        .execute(p)
        .await?
        .rows_affected());
        Ok(r == 1)
    }

    pub async fn job(&self, id: &str) -> Result<Option<JobRow>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(p).await?))
    }

    /// Queued jobs of `kind`, to avoid scheduling a recurring job twice.
    pub async fn count_pending_jobs(&self, kind: &str) -> Result<i64> {
        Ok(read_pool!(self, |p| sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = $1 AND status IN ('queued', 'running')")
            .bind(kind)
            .fetch_one(p)
            .await?))
    }

    pub async fn purge_finished_jobs(&self, before: i64) -> Result<u64> {
        let r = write_pool!(self, |p| sqlx::query("DELETE FROM jobs WHERE status IN ('done', 'failed') AND updated_at < $1")
            .bind(before)
            .execute(p)
            .await?
            .rows_affected());
        Ok(r)
    }
}
