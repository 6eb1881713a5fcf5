//! Settings that admins change at run time: which roles must use two-factor, and which may
//! see customers' e-mails and phones in full.

use crate::audit::Actor;
use crate::{App, AppResult, Principal};
use kefu_domain::{Agent, Role};
use kefu_store::micros;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

const SECURITY_KEY: &str = "security";
const SETTINGS_TTL: Duration = Duration::from_secs(5);

/// A yes or no for each role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolePolicy {
    pub admin: bool,
    pub supervisor: bool,
    pub agent: bool,
}

impl RolePolicy {
    pub fn includes(&self, role: Role) -> bool {
        match role {
            Role::Admin => self.admin,
            Role::Supervisor => self.supervisor,
            Role::Agent => self.agent,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// Roles whose agents must set up two-factor before doing anything else.
    pub two_factor_required: RolePolicy,
    /// Roles whose agents may reveal a customer's e-mails and phones in full (each reveal is
    /// audited); everyone else sees them partly masked. Admins and supervisors by default.
    #[serde(default = "default_pii_full_view")]
    pub pii_full_view: RolePolicy,
}

fn default_pii_full_view() -> RolePolicy {
    RolePolicy { admin: true, supervisor: true, agent: false }
}

impl Default for SecuritySettings {
    /// Two-factor mandatory for admins out of the box.
    fn default() -> Self {
        Self { two_factor_required: RolePolicy { admin: true, supervisor: false, agent: false }, pii_full_view: default_pii_full_view() }
    }
}

impl App {
    /// Read on every authenticated request, so kept in memory for a few seconds; a change made
    /// on this node is seen at once, one made on another node within `SETTINGS_TTL`.
    pub async fn security_settings(&self) -> AppResult<SecuritySettings> {
        if let Ok(cache) = self.0.security_cache.lock()
            && let Some((at, s)) = *cache
            && at.elapsed() < SETTINGS_TTL
        {
            return Ok(s);
        }
        let s = match self.store().setting(SECURITY_KEY).await? {
            Some(v) => serde_json::from_str(&v).unwrap_or_default(),
            None => SecuritySettings::default(),
        };
        if let Ok(mut cache) = self.0.security_cache.lock() {
            *cache = Some((Instant::now(), s));
        }
        Ok(s)
    }

    /// Forgets the cached settings, after a change.
    pub fn forget_cached_settings(&self) {
        if let Ok(mut cache) = self.0.security_cache.lock() {
            *cache = None;
        }
    }

    pub async fn get_security_settings(&self, p: &Principal) -> AppResult<SecuritySettings> {
        p.require_admin()?;
        self.security_settings().await
    }

    pub async fn update_security_settings(&self, p: &Principal, new: SecuritySettings) -> AppResult<SecuritySettings> {
        p.require_admin()?;
        let old = self.security_settings().await?;
        let value = serde_json::to_string(&new).map_err(crate::AppError::internal)?;
        self.store().put_setting(SECURITY_KEY, &value, micros(self.now())).await?;
        self.forget_cached_settings();
        self.audit(&Actor::agent(p), "settings.security_updated", None, serde_json::json!({"before": old, "after": new})).await?;
        Ok(new)
    }

    /// Whether this agent must enrol in two-factor before anything else. Never in demo mode.
    pub(crate) async fn needs_enrolment(&self, agent: &Agent) -> AppResult<bool> {
        if self.config().demo || agent.two_factor_enabled {
            return Ok(false);
        }
        Ok(self.security_settings().await?.two_factor_required.includes(agent.role))
    }
}
