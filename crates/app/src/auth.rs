//! Signing in and out, and turning a session cookie or an API token into a `Principal`:
//! the agent acting, how they authenticated, and what they may do.

use crate::audit::Actor;
use crate::secrets::{random_token, sha256_hex, verify_password_blocking};
use crate::tokens::Scope;
use crate::{App, AppError, AppResult, add};
use kefu_domain::{Agent, DomainEvent, Email, FieldError, Id, Role};
use kefu_store::{NewSession, from_micros, micros};
use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;

const CHALLENGE_TTL: Duration = Duration::from_secs(300);
const CHALLENGE_MAX_ATTEMPTS: i64 = 5;
/// How stale `last_seen_at` / `last_used_at` may get before a request records its use.
const TOUCH_EVERY_MICROS: i64 = 60_000_000;

/// How long an API token's lookup is reused. A change to the token or its agent made through
/// this process (revocation, role, deactivation, two-factor) ends the reuse at once
/// (`kefu_store::auth_epoch`); one made by another node reaches this one within this time.
const TOKEN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(1);
const TOKEN_CACHE_MAX: usize = 10_000;

/// Recently looked-up API tokens by secret hash: an integration calling many times a second
/// costs one database read a second instead of one a request.
#[derive(Default)]
pub(crate) struct TokenCache(std::sync::Mutex<HashMap<String, (std::time::Instant, u64, kefu_store::TokenAgentRow)>>);

impl TokenCache {
    fn get(&self, hash: &str) -> Option<kefu_store::TokenAgentRow> {
        let epoch = kefu_store::auth_epoch();
        let cache = self.0.lock().ok()?;
        let (at, e, t) = cache.get(hash)?;
        (*e == epoch && at.elapsed() < TOKEN_CACHE_TTL).then(|| t.clone())
    }

    fn put(&self, hash: &str, epoch: u64, t: kefu_store::TokenAgentRow) {
        if let Ok(mut cache) = self.0.lock() {
            if cache.len() >= TOKEN_CACHE_MAX {
                cache.clear();
            }
            cache.insert(hash.to_string(), (std::time::Instant::now(), epoch, t));
        }
    }

    fn touched(&self, hash: &str, now: i64) {
        if let Ok(mut cache) = self.0.lock()
            && let Some((_, _, t)) = cache.get_mut(hash)
        {
            t.token_last_used_at = Some(now);
        }
    }
}

/// Where a request came from, for lockouts and the audit log.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Via {
    Session { id: String, csrf_token: String },
    Token { id: String, scopes: Vec<Scope> },
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub agent: Agent,
    pub via: Via,
    pub ip: Option<String>,
    /// Two-factor is mandatory for this agent's role and not set up yet: only enrolment
    /// and signing out are allowed.
    pub needs_2fa_enrolment: bool,
}

impl Principal {
    pub fn require_admin(&self) -> AppResult<()> {
        if self.agent.role != Role::Admin {
            return Err(AppError::Forbidden);
        }
        self.require_scope(Scope::Admin)
    }

    /// Tokens act only within their scopes; a session carries all of its agent's rights.
    pub fn require_scope(&self, scope: Scope) -> AppResult<()> {
        match &self.via {
            Via::Token { scopes, .. } if !scopes.contains(&scope) => Err(AppError::InsufficientScope(scope.as_str())),
            _ => Ok(()),
        }
    }

    /// Everything but enrolment and sign-out calls this first.
    pub fn require_enrolled(&self) -> AppResult<()> {
        if self.needs_2fa_enrolment { Err(AppError::TwoFactorEnrolmentRequired) } else { Ok(()) }
    }

    pub fn session_id(&self) -> Option<&str> {
        match &self.via {
            Via::Session { id, .. } => Some(id),
            Via::Token { .. } => None,
        }
    }
}

/// What the console needs to know about the signed-in agent.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub agent: Agent,
    /// Send back in `X-CSRF-Token` on every cookie-authenticated write.
    pub csrf_token: String,
    pub two_factor_enrolment_required: bool,
    /// The agent's role must use two-factor, so it cannot be turned off.
    pub two_factor_required: bool,
    /// The agent's role may reveal customers' e-mails and phones in full (audited).
    pub pii_full_view: bool,
    pub demo_mode: bool,
}

/// A new session: the cookie secret (never stored) and what the client may see.
pub struct NewSessionGrant {
    pub token: String,
    pub info: SessionInfo,
}

pub enum LoginOutcome {
    SignedIn(NewSessionGrant),
    /// The password was right; the second factor must follow, presenting this challenge.
    TotpRequired {
        challenge: String,
    },
}

impl App {
    #[tracing::instrument(skip_all, fields(ip = client.ip.as_deref()))]
    pub async fn login(&self, email: &str, password: &str, client: &ClientInfo) -> AppResult<LoginOutcome> {
        let mut missing = Vec::new();
        if email.trim().is_empty() {
            missing.push(FieldError::new("email", "is required"));
        }
        if password.is_empty() {
            missing.push(FieldError::new("password", "is required"));
        }
        if !missing.is_empty() {
            return Err(AppError::Validation(missing));
        }
        self.check_ip_allowed(client).await?;
        let actor = Actor::anonymous(client.ip.clone());
        let agent = match Email::parse("email", email) {
            Ok(e) => self.store().agent_by_email(e.as_str()).await?,
            Err(_) => None,
        };
        let Some(row) = agent else {
            // Same work as for a real account, so response time does not reveal which e-mails exist.
            let _ = verify_password_blocking(password.to_string(), self.0.dummy_hash.clone()).await?;
            self.count_ip_failure(client).await?;
            self.audit(
                &actor,
                "auth.login_failed",
                None,
                serde_json::json!({"email": email.trim().to_lowercase(), "reason": "unknown_email"}),
            )
            .await?;
            return Err(AppError::InvalidCredentials);
        };
        let now = self.now();
        if let Some(until) = row.locked_until.filter(|u| *u > micros(now)) {
            self.count_ip_failure(client).await?;
            self.audit(&actor, "auth.login_refused", Some(row.id.clone()), serde_json::json!({"reason": "account_locked"})).await?;
            return Err(AppError::AccountLocked(from_micros(until)));
        }
        if !verify_password_blocking(password.to_string(), row.password_hash.clone()).await? {
            self.count_ip_failure(client).await?;
            return Err(self.count_account_failure(&row.id, &actor, "wrong_password").await?);
        }
        if !row.active {
            self.audit(&actor, "auth.login_refused", Some(row.id.clone()), serde_json::json!({"reason": "deactivated"})).await?;
            return Err(AppError::AccountDeactivated);
        }
        if row.totp_secret.is_some() {
            let challenge = random_token(32);
            let expires = micros(add(now, CHALLENGE_TTL));
            self.store()
                .insert_challenge(&sha256_hex(&challenge), &row.id, client.ip.as_deref(), client.user_agent.as_deref(), expires)
                .await?;
            return Ok(LoginOutcome::TotpRequired { challenge });
        }
        self.open_session(&row.id, client, "password").await.map(LoginOutcome::SignedIn)
    }

    /// The second step of a sign-in: the code from the authenticator app or a recovery code.
    #[tracing::instrument(skip_all, fields(ip = client.ip.as_deref()))]
    pub async fn login_totp(&self, challenge: &str, code: &str, client: &ClientInfo) -> AppResult<NewSessionGrant> {
        if code.trim().is_empty() {
            return Err(AppError::Validation(vec![FieldError::new("code", "is required")]));
        }
        self.check_ip_allowed(client).await?;
        let hash = sha256_hex(challenge);
        let Some(ch) = self.store().attempt_challenge(&hash, micros(self.now())).await? else {
            return Err(AppError::LoginChallengeExpired);
        };
        if ch.attempts > CHALLENGE_MAX_ATTEMPTS {
            self.store().delete_challenge(&hash).await?;
            return Err(AppError::LoginChallengeExpired);
        }
        let actor = Actor::anonymous(client.ip.clone());
        let how = match self.check_second_factor(&ch.agent_id, code).await? {
            Some(how) => how,
            None => {
                self.count_ip_failure(client).await?;
                return Err(match self.count_account_failure(&ch.agent_id, &actor, "wrong_totp_code").await? {
                    AppError::InvalidCredentials => AppError::InvalidTotpCode,
                    other => other,
                });
            }
        };
        self.store().delete_challenge(&hash).await?;
        self.open_session(&ch.agent_id, client, how).await
    }

    async fn open_session(&self, agent_id: &str, client: &ClientInfo, method: &str) -> AppResult<NewSessionGrant> {
        let now = self.now();
        let token = random_token(32);
        let csrf_token = random_token(32);
        let id = Id::new().to_string();
        self.store()
            .insert_session(NewSession {
                id: &id,
                token_hash: &sha256_hex(&token),
                agent_id,
                csrf_token: &csrf_token,
                ip: client.ip.as_deref(),
                user_agent: client.user_agent.as_deref(),
                now: micros(now),
                expires_at: micros(add(now, self.config().session_idle)),
            })
            .await?;
        self.store().record_login_success(agent_id, micros(now)).await?;
        let agent = self.agent_row(agent_id).await?;
        let agent = crate::agents::to_agent(agent);
        let actor = Actor::agent_at(agent.id.as_str(), agent.email.as_str(), client.ip.clone());
        self.audit(
            &actor,
            "auth.login",
            Some(agent.id.to_string()),
            serde_json::json!({"method": method, "session_id": id, "user_agent": client.user_agent}),
        )
        .await?;
        let info = self.describe_session(agent, csrf_token).await?;
        Ok(NewSessionGrant { token, info })
    }

    async fn check_ip_allowed(&self, client: &ClientInfo) -> AppResult<()> {
        if let Some(ip) = &client.ip
            && let Some(until) = self.store().ip_locked_until(ip, micros(self.now())).await?
        {
            return Err(AppError::TooManyAttempts(from_micros(until)));
        }
        Ok(())
    }

    async fn count_ip_failure(&self, client: &ClientInfo) -> AppResult<()> {
        let Some(ip) = &client.ip else { return Ok(()) };
        let c = self.config();
        let now = self.now();
        let row = self
            .store()
            .record_ip_failure(
                ip,
                micros(now),
                micros(now) - i64::try_from(c.ip_window.as_micros()).unwrap_or(i64::MAX),
                i64::from(c.ip_lock_after),
                micros(add(now, c.ip_lock_for)),
            )
            .await?;
        if row.failures == i64::from(c.ip_lock_after) {
            self.audit(
                &Actor::anonymous(Some(ip.clone())),
                "auth.ip_locked",
                Some(ip.clone()),
                serde_json::json!({"failures": row.failures}),
            )
            .await?;
        }
        Ok(())
    }

    /// Counts a failed factor against the account; returns the error to answer with.
    async fn count_account_failure(&self, agent_id: &str, actor: &Actor, reason: &str) -> AppResult<AppError> {
        let c = self.config();
        let now = self.now();
        let until = micros(add(now, c.account_lock_for));
        let (failures, locked) = self.store().record_login_failure(agent_id, i64::from(c.account_lock_after), until, micros(now)).await?;
        self.audit(actor, "auth.login_failed", Some(agent_id.to_string()), serde_json::json!({"reason": reason, "failures": failures}))
            .await?;
        // This failure set the lock (a lock set earlier carries an earlier time).
        if locked == Some(until) {
            self.audit(actor, "auth.account_locked", Some(agent_id.to_string()), serde_json::json!({"until": from_micros(until)})).await?;
            return Ok(AppError::AccountLocked(from_micros(until)));
        }
        Ok(AppError::InvalidCredentials)
    }

    /// The principal behind a session cookie, if the session is live and its agent active.
    pub async fn principal_from_session(&self, token: &str, ip: Option<String>) -> AppResult<Option<Principal>> {
        let now = self.now();
        let Some(s) = self.store().live_session_with_agent(&sha256_hex(token), micros(now)).await? else { return Ok(None) };
        if !s.agent.active {
            return Ok(None);
        }
        // Reads stay reads: the session's activity is written at most once a minute.
        if micros(now) - s.session_last_seen_at >= TOUCH_EVERY_MICROS {
            self.store().touch_session(&s.session_id, micros(now), micros(add(now, self.config().session_idle))).await?;
        }
        let agent = crate::agents::to_agent(s.agent);
        let needs_2fa_enrolment = self.needs_enrolment(&agent).await?;
        Ok(Some(Principal { agent, via: Via::Session { id: s.session_id, csrf_token: s.session_csrf_token }, ip, needs_2fa_enrolment }))
    }

    /// The principal behind an `Authorization: Bearer kefu_…` token.
    pub async fn principal_from_token(&self, secret: &str, ip: Option<String>) -> AppResult<Option<Principal>> {
        if !secret.starts_with(crate::tokens::TOKEN_PREFIX) {
            return Ok(None);
        }
        let now = self.now();
        let hash = sha256_hex(secret);
        let Some(t) = self.live_token(&hash, micros(now)).await? else { return Ok(None) };
        if !t.agent.active {
            return Ok(None);
        }
        if t.token_last_used_at.is_none_or(|used| micros(now) - used >= TOUCH_EVERY_MICROS) {
            self.store().touch_token(&t.token_id, micros(now)).await?;
            self.0.token_cache.touched(&hash, micros(now));
        }
        let agent = crate::agents::to_agent(t.agent);
        let needs_2fa_enrolment = self.needs_enrolment(&agent).await?;
        let scopes = t.token_scopes.split_whitespace().filter_map(Scope::parse).collect();
        Ok(Some(Principal { agent, via: Via::Token { id: t.token_id, scopes }, ip, needs_2fa_enrolment }))
    }

    /// The live token with this secret hash, from the cache when it is fresh (see
    /// [`TokenCache`]), else from the database.
    async fn live_token(&self, hash: &str, now: i64) -> AppResult<Option<kefu_store::TokenAgentRow>> {
        if let Some(t) = self.0.token_cache.get(hash) {
            return Ok(t.token_expires_at.is_none_or(|e| e > now).then_some(t));
        }
        // Read before the lookup: a change that lands meanwhile makes this entry stale at once.
        let epoch = kefu_store::auth_epoch();
        let t = self.store().live_token_with_agent(hash, now).await?;
        if let Some(t) = &t {
            self.0.token_cache.put(hash, epoch, t.clone());
        }
        Ok(t)
    }

    pub async fn session_info(&self, p: &Principal) -> AppResult<SessionInfo> {
        let csrf_token = match &p.via {
            Via::Session { csrf_token, .. } => csrf_token.clone(),
            Via::Token { .. } => String::new(),
        };
        self.describe_session(p.agent.clone(), csrf_token).await
    }

    async fn describe_session(&self, agent: Agent, csrf_token: String) -> AppResult<SessionInfo> {
        let security = self.security_settings().await?;
        let two_factor_required = security.two_factor_required.includes(agent.role);
        let pii_full_view = security.pii_full_view.includes(agent.role);
        let two_factor_enrolment_required = self.needs_enrolment(&agent).await?;
        Ok(SessionInfo {
            agent,
            csrf_token,
            two_factor_enrolment_required,
            two_factor_required,
            pii_full_view,
            demo_mode: self.config().demo,
        })
    }

    pub async fn logout(&self, p: &Principal) -> AppResult<()> {
        if let Some(id) = p.session_id() {
            self.store().revoke_session(id, p.agent.id.as_str(), micros(self.now())).await?;
            self.audit(&Actor::agent(p), "auth.logout", Some(p.agent.id.to_string()), serde_json::json!({"session_id": id})).await?;
            self.bus().publish(DomainEvent::SessionRevoked { session_id: id.to_string() }).await;
        }
        Ok(())
    }

    pub async fn list_my_sessions(&self, p: &Principal) -> AppResult<Vec<SessionView>> {
        let rows = self.store().list_live_sessions(p.agent.id.as_str(), micros(self.now())).await?;
        Ok(rows
            .into_iter()
            .map(|s| SessionView {
                current: p.session_id() == Some(s.id.as_str()),
                id: s.id,
                created_at: from_micros(s.created_at),
                last_seen_at: from_micros(s.last_seen_at),
                ip: s.ip,
                user_agent: s.user_agent,
            })
            .collect())
    }

    pub async fn revoke_my_session(&self, p: &Principal, session_id: &str) -> AppResult<()> {
        let Some(session_id) = Id::parse(session_id) else { return Err(AppError::NotFound("session")) };
        let session_id = session_id.as_str();
        if !self.store().revoke_session(session_id, p.agent.id.as_str(), micros(self.now())).await? {
            return Err(AppError::NotFound("session"));
        }
        self.audit(&Actor::agent(p), "auth.session_revoked", Some(p.agent.id.to_string()), serde_json::json!({"session_id": session_id}))
            .await?;
        self.bus().publish(DomainEvent::SessionRevoked { session_id: session_id.to_string() }).await;
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_seen_at: chrono::DateTime<chrono::Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The session this request came with.
    pub current: bool,
}
