//! The tamper-evident audit log: each record carries the hash of the one before it,
//! so editing or deleting any record breaks the chain from that point on.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What a caller asks to record.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// `agent`, `system` or `anonymous`.
    pub actor_type: &'static str,
    pub actor_id: Option<String>,
    /// A human label for the actor, kept because agents can be renamed later.
    pub actor_label: Option<String>,
    /// Dotted verb, e.g. `auth.login_failed`, `agent.role_changed`.
    pub action: &'static str,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditRecord {
    /// Position in the chain, starting at 1.
    pub seq: i64,
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub actor_label: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// Hex SHA-256 of the previous record (64 zeros for the first).
    pub prev_hash: String,
    /// Hex SHA-256 over this record's fields and `prev_hash`.
    pub hash: String,
}

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl AuditRecord {
    /// The hash a record must carry: SHA-256 over every field, each length-prefixed so no two
    /// records collide by shifting text between fields. Timestamps count to the microsecond.
    pub fn compute_hash(&self) -> String {
        let at = self.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        let details = serde_json::to_string(&self.details).unwrap_or_default();
        let seq = self.seq.to_string();
        let mut h = Sha256::new();
        for f in [
            seq.as_str(),
            &self.id,
            &at,
            &self.actor_type,
            self.actor_id.as_deref().unwrap_or("\u{0}"),
            self.actor_label.as_deref().unwrap_or("\u{0}"),
            &self.action,
            self.target.as_deref().unwrap_or("\u{0}"),
            self.ip.as_deref().unwrap_or("\u{0}"),
            &details,
            &self.prev_hash,
        ] {
            h.update((f.len() as u64).to_be_bytes());
            h.update(f.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> AuditRecord {
        AuditRecord {
            seq: 1,
            id: "01JD3W6Q2R8V9Y5X4N7M1K0P2S".into(),
            at: DateTime::parse_from_rfc3339("2026-11-22T10:00:00.123456Z").map(|t| t.to_utc()).unwrap_or_default(),
            actor_type: "agent".into(),
            actor_id: Some("a".into()),
            actor_label: None,
            action: "auth.login".into(),
            target: None,
            ip: Some("127.0.0.1".into()),
            details: serde_json::json!({"k": 1}),
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
        }
    }

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let base = record().compute_hash();
        assert_eq!(base.len(), 64);
        assert_eq!(base, record().compute_hash());
        let mut r = record();
        r.action = "auth.logout".into();
        assert_ne!(r.compute_hash(), base);
        let mut r = record();
        r.details = serde_json::json!({"k": 2});
        assert_ne!(r.compute_hash(), base);
        let mut r = record();
        r.actor_id = None;
        assert_ne!(r.compute_hash(), base);
        // Moving text from one field to the next must change the hash.
        let mut a = record();
        a.actor_type = "agentx".into();
        a.actor_id = Some(String::new());
        let mut b = record();
        b.actor_type = "agent".into();
        b.actor_id = Some("x".into());
        assert_ne!(a.compute_hash(), b.compute_hash());
    }
}
