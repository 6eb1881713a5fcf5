//! The retention policy: closed conversations older than the policy's days lose their text and
//! files (anonymise) or are deleted. Applied by the hourly maintenance job; audited.

use crate::audit::Actor;
use crate::error::invalid as validation;
use crate::{App, AppResult, Principal};
use kefu_store::{Purge, micros};
use serde::{Deserialize, Serialize};

const KEY: &str = "retention";
/// Conversations purged per transaction batch.
const BATCH: i64 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetentionAction {
    /// Messages' text, subjects and files go; statuses, times and who answered stay for metrics.
    Anonymise,
    /// The conversation goes entirely.
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    pub enabled: bool,
    /// Days after a conversation closed (1 to 3650).
    pub after_days: u32,
    pub action: RetentionAction,
}

impl Default for RetentionSettings {
    /// Off until an admin sets a policy.
    fn default() -> Self {
        Self { enabled: false, after_days: 365, action: RetentionAction::Anonymise }
    }
}

impl App {
    pub async fn retention_settings(&self) -> AppResult<RetentionSettings> {
        Ok(match self.store().setting(KEY).await? {
            Some(v) => serde_json::from_str(&v).unwrap_or_default(),
            None => RetentionSettings::default(),
        })
    }

    pub async fn get_retention_settings(&self, p: &Principal) -> AppResult<RetentionSettings> {
        p.require_admin()?;
        self.retention_settings().await
    }

    pub async fn put_retention_settings(&self, p: &Principal, new: RetentionSettings) -> AppResult<RetentionSettings> {
        p.require_admin()?;
        if !(1..=3650).contains(&new.after_days) {
            return Err(validation("after_days", "must be 1 to 3650"));
        }
        let old = self.retention_settings().await?;
        self.store().put_setting(KEY, &serde_json::to_string(&new).map_err(crate::AppError::internal)?, micros(self.now())).await?;
        self.audit(&Actor::agent(p), "settings.retention_updated", None, serde_json::json!({"before": old, "after": new})).await?;
        Ok(new)
    }

    /// Applies the policy to every conversation due; how many were purged.
    pub async fn apply_retention(&self) -> AppResult<usize> {
        let s = self.retention_settings().await?;
        if !s.enabled {
            return Ok(0);
        }
        let purge = match s.action {
            RetentionAction::Anonymise => Purge::Anonymise,
            RetentionAction::Delete => Purge::Delete,
        };
        let before = micros(self.now() - chrono::Duration::days(i64::from(s.after_days)));
        let mut total = 0;
        loop {
            let done = self.store().purge_closed(before, purge, micros(self.now()), BATCH).await?;
            for key in &done.unreferenced_blobs {
                if let Some(key) = kefu_domain::blob::BlobKey::parse(key)
                    && let Err(e) = self.blobs()?.delete(&key).await
                {
                    tracing::warn!(error = %e, "a purged file could not be deleted");
                }
            }
            for id in &done.conversation_ids {
                self.index_later(id);
            }
            let n = done.conversation_ids.len();
            total += n;
            if n < BATCH as usize {
                break;
            }
        }
        if total > 0 {
            let details = serde_json::json!({"action": s.action, "after_days": s.after_days, "conversations": total});
            self.audit(&Actor::system(), "retention.applied", None, details).await?;
            tracing::info!(conversations = total, action = ?s.action, "retention policy applied");
        }
        Ok(total)
    }
}
