//! Personal API tokens: `kefu_` + random secret, shown once, stored hashed, limited by scopes.

use crate::audit::Actor;
use crate::secrets::{random_token, sha256_hex};
use crate::{App, AppError, AppResult, Principal, add};
use chrono::{DateTime, Utc};
use kefu_domain::{FieldError, Id};
use kefu_store::{NewToken, TokenRow, from_micros, micros};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const TOKEN_PREFIX: &str = "kefu_";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read anything the agent may read.
    Read,
    /// Create and change what the agent may change.
    Write,
    /// Use the agent's admin rights (only meaningful for admins).
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Scope::Read, Scope::Write, Scope::Admin].into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenRow> for ApiToken {
    fn from(t: TokenRow) -> Self {
        ApiToken {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            scopes: t.scopes.split_whitespace().filter_map(Scope::parse).collect(),
            created_at: from_micros(t.created_at),
            last_used_at: t.last_used_at.map(from_micros),
            expires_at: t.expires_at.map(from_micros),
            revoked_at: t.revoked_at.map(from_micros),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    pub token: ApiToken,
    /// The whole secret, shown only in this response.
    pub secret: String,
}

pub struct NewTokenRequest {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expires_in_days: Option<u32>,
}

impl App {
    pub async fn create_token(&self, p: &Principal, req: NewTokenRequest) -> AppResult<CreatedToken> {
        p.require_enrolled()?;
        let mut errors = Vec::new();
        let name = req.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            errors.push(FieldError::new("name", "must be 1 to 100 characters, without control characters"));
        }
        if req.scopes.is_empty() {
            errors.push(FieldError::new("scopes", "must name at least one of read, write, admin"));
        }
        if req.scopes.contains(&Scope::Admin) && p.agent.role != kefu_domain::Role::Admin {
            errors.push(FieldError::new("scopes", "only admins can create tokens with the admin scope"));
        }
        if let Some(d) = req.expires_in_days
            && !(1..=3650).contains(&d)
        {
            errors.push(FieldError::new("expires_in_days", "must be between 1 and 3650"));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        // A token can never grant more than the one creating it holds.
        for s in &req.scopes {
            p.require_scope(*s)?;
        }
        let now = self.now();
        let secret = format!("{TOKEN_PREFIX}{}", random_token(32));
        let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
        let mut scopes = req.scopes.clone();
        scopes.sort_by_key(|s| s.as_str());
        scopes.dedup();
        let scope_text = scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
        let id = Id::new().to_string();
        let expires_at = req.expires_in_days.map(|d| add(now, Duration::from_secs(u64::from(d) * 86_400)));
        self.store()
            .insert_token(NewToken {
                id: &id,
                agent_id: p.agent.id.as_str(),
                name,
                prefix: &prefix,
                secret_hash: &sha256_hex(&secret),
                scopes: &scope_text,
                now: micros(now),
                expires_at: expires_at.map(micros),
            })
            .await?;
        self.audit(&Actor::agent(p), "token.created", Some(id.clone()), serde_json::json!({"name": name, "scopes": scope_text})).await?;
        let row = self.store().token_by_id(&id).await?.ok_or(AppError::NotFound("token"))?;
        Ok(CreatedToken { token: row.into(), secret })
    }

    pub async fn list_tokens(&self, p: &Principal) -> AppResult<Vec<ApiToken>> {
        p.require_enrolled()?;
        Ok(self.store().list_tokens(p.agent.id.as_str()).await?.into_iter().map(Into::into).collect())
    }

    pub async fn revoke_token(&self, p: &Principal, id: &str) -> AppResult<()> {
        p.require_enrolled()?;
        let Some(id) = Id::parse(id) else { return Err(AppError::NotFound("token")) };
        let id = id.as_str();
        if !self.store().revoke_token(id, p.agent.id.as_str(), micros(self.now())).await? {
            return Err(AppError::NotFound("token"));
        }
        self.audit(&Actor::agent(p), "token.revoked", Some(id.to_string()), serde_json::json!({})).await?;
        Ok(())
    }
}
