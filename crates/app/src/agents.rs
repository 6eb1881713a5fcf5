//! Managing the support team: creating agents, changing roles, deactivating, resetting
//! two-factor, lifting lockouts; and an agent changing their own password.

use crate::audit::Actor;
use crate::error::collect;
use crate::secrets::{hash_password_blocking, verify_password_blocking};
use crate::{App, AppError, AppResult, Principal};
use kefu_domain::{Agent, AgentName, DomainEvent, Email, FieldError, Id, Page, Password, Role};
use kefu_store::{AgentRow, NewAgent, StoreError, from_micros, micros};

pub(crate) fn to_agent(r: AgentRow) -> Agent {
    Agent {
        id: Id::from_trusted(r.id),
        email: Email::from_trusted(r.email),
        name: AgentName::from_trusted(r.name),
        role: Role::parse(&r.role).unwrap_or(Role::Agent),
        active: r.active,
        two_factor_enabled: r.totp_secret.is_some(),
        locked_until: r.locked_until.map(from_micros),
        last_login_at: r.last_login_at.map(from_micros),
        created_at: from_micros(r.created_at),
        updated_at: from_micros(r.updated_at),
    }
}

/// A request to create an agent, as it arrives: every field is checked, all errors at once.
pub struct NewAgentRequest {
    pub email: String,
    pub name: String,
    pub role: String,
    pub password: String,
}

#[derive(Default)]
pub struct AgentChanges {
    pub name: Option<String>,
    pub role: Option<String>,
    pub active: Option<bool>,
}

fn parse_role(errors: &mut Vec<FieldError>, raw: &str) -> Option<Role> {
    let r = Role::parse(raw);
    if r.is_none() {
        errors.push(FieldError::new("role", "must be one of admin, supervisor, agent"));
    }
    r
}

impl App {
    pub(crate) async fn agent_row(&self, id: &str) -> AppResult<AgentRow> {
        self.store().agent_by_id(id).await?.ok_or(AppError::NotFound("agent"))
    }

    async fn agent_by_id_param(&self, id: &str) -> AppResult<AgentRow> {
        let Some(id) = Id::parse(id) else { return Err(AppError::NotFound("agent")) };
        self.agent_row(id.as_str()).await
    }

    #[tracing::instrument(skip_all, fields(actor = %p.agent.id))]
    pub async fn create_agent(&self, p: &Principal, req: NewAgentRequest) -> AppResult<Agent> {
        p.require_admin()?;
        self.insert_agent(&Actor::agent(p), req).await
    }

    /// For the command line and first-run bootstrap, where no one is signed in.
    pub async fn create_agent_as_operator(&self, req: NewAgentRequest) -> AppResult<Agent> {
        self.insert_agent(&Actor::cli(), req).await
    }

    async fn insert_agent(&self, actor: &Actor, req: NewAgentRequest) -> AppResult<Agent> {
        let mut errors = Vec::new();
        let email = collect(&mut errors, Email::parse("email", &req.email));
        let name = collect(&mut errors, AgentName::parse(&req.name));
        let role = parse_role(&mut errors, &req.role);
        let password = collect(&mut errors, Password::parse("password", &req.password));
        let (Some(email), Some(name), Some(role), Some(password)) = (email, name, role, password) else {
            return Err(AppError::Validation(errors));
        };
        let hash = hash_password_blocking(password.expose().to_string()).await?;
        let id = Id::new();
        let now = micros(self.now());
        match self
            .store()
            .insert_agent(NewAgent {
                id: id.as_str(),
                email: email.as_str(),
                name: name.as_str(),
                role: role.as_str(),
                password_hash: &hash,
                now,
            })
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(AppError::EmailTaken),
            Err(e) => return Err(e.into()),
        }
        self.audit(actor, "agent.created", Some(id.to_string()), serde_json::json!({"email": email.as_str(), "role": role})).await?;
        self.bus().publish(DomainEvent::AgentCreated { agent_id: id.to_string() }).await;
        Ok(to_agent(self.agent_row(id.as_str()).await?))
    }

    pub async fn list_agents(&self, p: &Principal, cursor: Option<&str>, limit: i64) -> AppResult<Page<Agent>> {
        p.require_enrolled()?;
        p.require_scope(crate::tokens::Scope::Read)?;
        let limit = limit.clamp(1, 200);
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                Id::parse(c).ok_or_else(|| AppError::Validation(vec![FieldError::new("cursor", "is not a cursor from this listing")]))?,
            ),
        };
        let mut rows = self.store().list_agents(after.as_ref().map(Id::as_str), limit + 1).await?;
        let next_cursor = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| r.id.clone())
        } else {
            None
        };
        Ok(Page { items: rows.into_iter().map(to_agent).collect(), next_cursor })
    }

    pub async fn get_agent(&self, p: &Principal, id: &str) -> AppResult<Agent> {
        p.require_enrolled()?;
        p.require_scope(crate::tokens::Scope::Read)?;
        Ok(to_agent(self.agent_by_id_param(id).await?))
    }

    #[tracing::instrument(skip_all, fields(actor = %p.agent.id, agent = id))]
    pub async fn update_agent(&self, p: &Principal, id: &str, changes: AgentChanges) -> AppResult<Agent> {
        p.require_admin()?;
        let row = self.agent_by_id_param(id).await?;
        let mut errors = Vec::new();
        let name = match &changes.name {
            Some(n) => collect(&mut errors, AgentName::parse(n)),
            None => Some(AgentName::from_trusted(row.name.clone())),
        };
        let role = match &changes.role {
            Some(r) => parse_role(&mut errors, r),
            None => Role::parse(&row.role),
        };
        let (Some(name), Some(role)) = (name, role) else { return Err(AppError::Validation(errors)) };
        let active = changes.active.unwrap_or(row.active);
        if !self.store().update_agent_profile(&row.id, name.as_str(), role.as_str(), active, micros(self.now())).await? {
            return Err(AppError::LastAdmin);
        }
        let actor = Actor::agent(p);
        if role.as_str() != row.role {
            self.audit(&actor, "agent.role_changed", Some(row.id.clone()), serde_json::json!({"from": row.role, "to": role})).await?;
        }
        if active != row.active {
            let action = if active { "agent.reactivated" } else { "agent.deactivated" };
            self.audit(&actor, action, Some(row.id.clone()), serde_json::json!({})).await?;
            if !active {
                self.store().revoke_agent_sessions(&row.id, micros(self.now())).await?;
                self.bus().publish(DomainEvent::AgentSessionsRevoked { agent_id: row.id.clone() }).await;
            }
        }
        if name.as_str() != row.name {
            self.audit(&actor, "agent.renamed", Some(row.id.clone()), serde_json::json!({"from": row.name, "to": name.as_str()})).await?;
        }
        self.bus().publish(DomainEvent::AgentUpdated { agent_id: row.id.clone() }).await;
        Ok(to_agent(self.agent_row(&row.id).await?))
    }

    /// Removes an agent's second factor (lost phone); they enrol again at next sign-in.
    pub async fn reset_agent_2fa(&self, p: &Principal, id: &str) -> AppResult<()> {
        p.require_admin()?;
        let row = self.agent_by_id_param(id).await?;
        self.reset_2fa(&Actor::agent(p), &row).await
    }

    pub async fn reset_2fa_as_operator(&self, email: &str) -> AppResult<Agent> {
        let email = Email::parse("email", email)?;
        let row = self.store().agent_by_email(email.as_str()).await?.ok_or(AppError::NotFound("agent"))?;
        self.reset_2fa(&Actor::cli(), &row).await?;
        Ok(to_agent(self.agent_row(&row.id).await?))
    }

    async fn reset_2fa(&self, actor: &Actor, row: &AgentRow) -> AppResult<()> {
        let now = micros(self.now());
        self.store().disable_totp(&row.id, now).await?;
        // Whoever holds a session may be the one who took the phone: sign them out too.
        self.store().revoke_agent_sessions(&row.id, now).await?;
        self.audit(actor, "2fa.reset", Some(row.id.clone()), serde_json::json!({"email": row.email})).await?;
        self.bus().publish(DomainEvent::AgentSessionsRevoked { agent_id: row.id.clone() }).await;
        Ok(())
    }

    pub async fn unlock_agent(&self, p: &Principal, id: &str) -> AppResult<()> {
        p.require_admin()?;
        let row = self.agent_by_id_param(id).await?;
        self.store().unlock_agent(&row.id, micros(self.now())).await?;
        self.audit(&Actor::agent(p), "agent.unlocked", Some(row.id.clone()), serde_json::json!({})).await?;
        Ok(())
    }

    pub async fn revoke_agent_sessions(&self, p: &Principal, id: &str) -> AppResult<()> {
        p.require_admin()?;
        let row = self.agent_by_id_param(id).await?;
        let n = self.store().revoke_agent_sessions(&row.id, micros(self.now())).await?;
        self.audit(&Actor::agent(p), "agent.sessions_revoked", Some(row.id.clone()), serde_json::json!({"sessions": n})).await?;
        self.bus().publish(DomainEvent::AgentSessionsRevoked { agent_id: row.id.clone() }).await;
        Ok(())
    }

    pub async fn change_own_password(&self, p: &Principal, current: &str, new: &str) -> AppResult<()> {
        let new = Password::parse("new_password", new)?;
        let row = self.agent_row(p.agent.id.as_str()).await?;
        if !verify_password_blocking(current.to_string(), row.password_hash.clone()).await? {
            return Err(AppError::InvalidCredentials);
        }
        let hash = hash_password_blocking(new.expose().to_string()).await?;
        self.store().set_password_hash(&row.id, &hash, micros(self.now())).await?;
        self.audit(&Actor::agent(p), "auth.password_changed", Some(row.id.clone()), serde_json::json!({})).await?;
        Ok(())
    }

    pub async fn count_active_admins(&self) -> AppResult<i64> {
        Ok(self.store().count_active_admins().await?)
    }

    pub async fn list_ip_lockouts(&self, p: &Principal) -> AppResult<Vec<IpLockout>> {
        p.require_admin()?;
        Ok(self
            .store()
            .list_ip_lockouts(micros(self.now()))
            .await?
            .into_iter()
            .map(|r| IpLockout { ip: r.ip, failures: r.failures, locked_until: r.locked_until.map(from_micros) })
            .collect())
    }

    pub async fn lift_ip_lockout(&self, p: &Principal, ip: &str) -> AppResult<()> {
        p.require_admin()?;
        let Ok(ip) = ip.parse::<std::net::IpAddr>() else { return Err(AppError::NotFound("ip lockout")) };
        let ip = &ip.to_string();
        if !self.store().clear_ip_lockout(ip).await? {
            return Err(AppError::NotFound("ip lockout"));
        }
        self.audit(&Actor::agent(p), "auth.ip_unlocked", Some(ip.to_string()), serde_json::json!({})).await?;
        Ok(())
    }
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct IpLockout {
    pub ip: String,
    pub failures: i64,
    pub locked_until: Option<chrono::DateTime<chrono::Utc>>,
}
