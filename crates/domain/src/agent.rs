//! Agents (the support team's people), their roles, and the validated values that describe them.

use crate::{DomainError, Id};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Supervisor,
    Agent,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Supervisor, Role::Agent];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lower-cased, trimmed e-mail address of plausible shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim().to_lowercase();
        let bad = || DomainError::field(field, "must be an e-mail address like name@example.com");
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
        if local.is_empty() || local.contains('@') || domain.len() < 3 || !domain.contains('.') {
            return Err(bad());
        }
        if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
            return Err(bad());
        }
        Ok(Self(s))
    }

    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: 1 to 100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct AgentName(String);

impl AgentName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(DomainError::field("name", "must not be empty"));
        }
        if s.chars().count() > 100 {
            return Err(DomainError::field("name", "must be at most 100 characters"));
        }
        if s.chars().any(char::is_control) {
            return Err(DomainError::field("name", "must not contain control characters"));
        }
        Ok(Self(s.to_string()))
    }

    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password as chosen by a person: 10 to 256 characters.
/// Its `Debug` never shows the value.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;

    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(DomainError::field(field, format!("must be at least {} characters", Self::MIN_CHARS)));
        }
        if n > 256 {
            return Err(DomainError::field(field, "must be at most 256 characters"));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Agent {
    pub id: Id,
    #[schema(value_type = String, format = "email")]
    pub email: Email,
    #[schema(value_type = String)]
    pub name: AgentName,
    pub role: Role,
    pub active: bool,
    pub two_factor_enabled: bool,
    /// Set while failed sign-ins keep the account locked.
    pub locked_until: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(Email::parse("email", "  Li.Na@Example.COM ").map(|e| e.0), Ok("li.na@example.com".into()));
        for bad in ["", "plain", "@example.com", "a@b", "a@.com", "a b@example.com", "a@example..com", "a@example.com."] {
            assert!(Email::parse("email", bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn names_and_passwords_have_bounds() {
        assert!(AgentName::parse("  ").is_err());
        assert!(AgentName::parse(&"名".repeat(101)).is_err());
        assert_eq!(AgentName::parse(" 陈静 ").map(|n| n.0), Ok("陈静".into()));
        assert!(Password::parse("password", "short").is_err());
        assert!(Password::parse("password", "long enough pw").is_ok());
        assert_eq!(format!("{:?}", Password::parse("p", "secret-secret").ok()), "Some(Password(***))");
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
