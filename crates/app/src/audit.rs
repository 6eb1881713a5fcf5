//! Recording security-relevant actions on the hash-chained audit log, reading it, and
//! verifying that nobody edited or removed a record.

use crate::{App, AppError, AppResult, Principal};
use kefu_domain::audit::GENESIS_HASH;
use kefu_domain::{AuditEntry, AuditRecord, Id, Page};
use kefu_store::AuditFilter;

/// Who did something, as the audit log names them.
#[derive(Debug, Clone)]
pub struct Actor {
    pub kind: &'static str,
    pub id: Option<String>,
    pub label: Option<String>,
    pub ip: Option<String>,
}

impl Actor {
    pub fn system() -> Self {
        Self { kind: "system", id: None, label: Some("kefu".into()), ip: None }
    }

    pub fn anonymous(ip: Option<String>) -> Self {
        Self { kind: "anonymous", id: None, label: None, ip }
    }

    pub fn agent(p: &Principal) -> Self {
        Self::agent_at(p.agent.id.as_str(), p.agent.email.as_str(), p.ip.clone())
    }

    /// An agent acting before a principal exists (completing a sign-in).
    pub fn agent_at(id: &str, email: &str, ip: Option<String>) -> Self {
        Self { kind: "agent", id: Some(id.to_string()), label: Some(email.to_string()), ip }
    }

    /// A command-line operator on the server itself.
    pub fn cli() -> Self {
        Self { kind: "cli", id: None, label: Some("kefu command line".into()), ip: None }
    }
}

impl App {
    /// Appends to the audit log. A failure here fails the action that asked: an action we
    /// cannot record is an action we do not take.
    pub async fn audit(
        &self,
        actor: &Actor,
        action: &'static str,
        target: Option<String>,
        details: serde_json::Value,
    ) -> AppResult<AuditRecord> {
        let entry = AuditEntry {
            actor_type: actor.kind,
            actor_id: actor.id.clone(),
            actor_label: actor.label.clone(),
            action,
            target,
            ip: actor.ip.clone(),
            details,
        };
        Ok(self.store().append_audit(&entry, Id::new().to_string(), self.now()).await?)
    }

    pub async fn list_audit(&self, p: &Principal, filter: AuditQuery) -> AppResult<Page<AuditRecord>> {
        p.require_admin()?;
        let limit = filter.limit.clamp(1, 200);
        let before_seq = match filter.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                c.parse::<i64>()
                    .map_err(|_| AppError::Validation(vec![kefu_domain::FieldError::new("cursor", "is not a cursor from this listing")]))?,
            ),
        };
        let action = filter.action.filter(|s| !s.is_empty());
        if let Some(a) = &action
            && (a.len() > 64 || !a.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_'))
        {
            return Err(AppError::Validation(vec![kefu_domain::FieldError::new(
                "action",
                "is not an audit action like auth.login_failed",
            )]));
        }
        let actor_id = match filter.actor_id.filter(|s| !s.is_empty()) {
            None => None,
            Some(a) => Some(
                Id::parse(&a)
                    .ok_or_else(|| AppError::Validation(vec![kefu_domain::FieldError::new("actor_id", "is not an agent id")]))?
                    .to_string(),
            ),
        };
        let f = AuditFilter {
            before_seq,
            action,
            actor_id,
            since: filter.since.map(|t| t.timestamp_micros()),
            until: filter.until.map(|t| t.timestamp_micros()),
        };
        let mut items = self.store().list_audit(&f, limit + 1).await?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|r| r.seq.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Walks the whole chain from the first record and reports the first that does not fit.
    #[tracing::instrument(skip_all)]
    pub async fn verify_audit(&self) -> AppResult<AuditVerdict> {
        let mut expected_prev = GENESIS_HASH.to_string();
        let mut expected_seq = 1i64;
        let mut checked = 0u64;
        loop {
            let batch = self.store().audit_chain_batch(expected_seq - 1, 1000).await?;
            if batch.is_empty() {
                break;
            }
            for r in batch {
                let problem = if r.seq != expected_seq {
                    Some(format!("record {expected_seq} is missing (next present is {})", r.seq))
                } else if r.prev_hash != expected_prev {
                    Some("its prev_hash does not match the record before it".to_string())
                } else if r.compute_hash() != r.hash {
                    Some("its contents do not match its hash (edited)".to_string())
                } else {
                    None
                };
                if let Some(reason) = problem {
                    return Ok(AuditVerdict { checked, first_bad: Some(BadRecord { seq: expected_seq.min(r.seq), reason }) });
                }
                checked += 1;
                expected_prev = r.hash;
                expected_seq += 1;
            }
        }
        let (head_seq, head_hash) = self.store().audit_head().await?;
        if head_seq != expected_seq - 1 || head_hash != expected_prev {
            return Ok(AuditVerdict {
                checked,
                first_bad: Some(BadRecord {
                    seq: expected_seq,
                    reason: format!(
                        "the chain ends at {} but {head_seq} records were written (records removed from the end)",
                        expected_seq - 1
                    ),
                }),
            });
        }
        Ok(AuditVerdict { checked, first_bad: None })
    }
}

#[derive(Debug, Default, Clone)]
pub struct AuditQuery {
    pub cursor: Option<String>,
    pub limit: i64,
    pub action: Option<String>,
    pub actor_id: Option<String>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct BadRecord {
    pub seq: i64,
    pub reason: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditVerdict {
    pub checked: u64,
    pub first_bad: Option<BadRecord>,
}
