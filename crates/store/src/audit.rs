//! The audit log's storage: appends serialise on the `audit_head` row so the chain has no forks.

use crate::{Result, Store, from_micros, micros, read_pool, write_pool};
use kefu_domain::{AuditEntry, AuditRecord};

#[derive(sqlx::FromRow)]
struct AuditRow {
    seq: i64,
    id: String,
    at: i64,
    actor_type: String,
    actor_id: Option<String>,
    actor_label: Option<String>,
    action: String,
    target: Option<String>,
    ip: Option<String>,
    details: String,
    prev_hash: String,
    hash: String,
}

impl From<AuditRow> for AuditRecord {
    fn from(r: AuditRow) -> Self {
        AuditRecord {
            seq: r.seq,
            id: r.id,
            at: from_micros(r.at),
            actor_type: r.actor_type,
            actor_id: r.actor_id,
            actor_label: r.actor_label,
            action: r.action,
            target: r.target,
            ip: r.ip,
            // A row whose details no longer parse keeps its text, so verification still sees it.
            details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::String(r.details)),
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub before_seq: Option<i64>,
    pub action: Option<String>,
    pub actor_id: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

const AUDIT_COLUMNS: &str = "seq, id, at, actor_type, actor_id, actor_label, action, target, ip, details, prev_hash, hash";

impl Store {
    /// Appends one record to the chain and returns it as stored.
    pub async fn append_audit(&self, entry: &AuditEntry, id: String, at: chrono::DateTime<chrono::Utc>) -> Result<AuditRecord> {
        let record = write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            // Taking the head row first makes this transaction the chain's only writer until commit.
            let (seq, prev_hash): (i64, String) =
                sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash").fetch_one(&mut *tx).await?;
            let mut record = AuditRecord {
                seq,
                id,
                at,
                actor_type: entry.actor_type.to_string(),
                actor_id: entry.actor_id.clone(),
                actor_label: entry.actor_label.clone(),
                action: entry.action.to_string(),
                target: entry.target.clone(),
                ip: entry.ip.clone(),
                details: entry.details.clone(),
                prev_hash,
                hash: String::new(),
            };
            record.hash = record.compute_hash();
            let sql = format!("INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)");
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(record.seq)
                .bind(&record.id)
                .bind(micros(record.at))
                .bind(&record.actor_type)
                .bind(&record.actor_id)
                .bind(&record.actor_label)
                .bind(&record.action)
                .bind(&record.target)
                .bind(&record.ip)
                .bind(serde_json::to_string(&record.details).unwrap_or_default())
                .bind(&record.prev_hash)
                .bind(&record.hash)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&record.hash).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            record
        });
        Ok(record)
    }

    /// Newest first, filtered, at most `limit`.
    pub async fn list_audit(&self, f: &AuditFilter, limit: i64) -> Result<Vec<AuditRecord>> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE ($1 IS NULL OR seq < $1) AND ($2 IS NULL OR action = $2) \
             AND ($3 IS NULL OR actor_id = $3) AND ($4 IS NULL OR at >= $4) AND ($5 IS NULL OR at < $5) ORDER BY seq DESC LIMIT CAST($6 AS BIGINT)"
        );
        let rows: Vec<AuditRow> = read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(f.before_seq)
            .bind(&f.action)
            .bind(&f.actor_id)
            .bind(f.since)
            .bind(f.until)
            .bind(limit)
            .fetch_all(p)
            .await?);
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Oldest first from `after_seq`, for walking the whole chain in batches.
    pub async fn audit_chain_batch(&self, after_seq: i64, limit: i64) -> Result<Vec<AuditRecord>> {
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT CAST($2 AS BIGINT)");
        let rows: Vec<AuditRow> =
            read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(after_seq).bind(limit).fetch_all(p).await?);
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The chain's head as the last append left it: (seq, hash).
    pub async fn audit_head(&self) -> Result<(i64, String)> {
        Ok(read_pool!(self, |p| sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(p).await?))
    }
}
