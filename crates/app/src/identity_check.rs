//! Step-up identity checks. Before a sensitive action (unlocking an account, resetting 2FA,
//! changing the e-mail or phone, a withdrawal dispute, a hacked account) an agent asks the
//! customer to prove who they are through a channel already proven: a one-time code mailed to
//! their registered address, a code from the authenticator they set up with the exchange
//! (checked by the exchange), or a fresh sign-in at the exchange. The customer answers in the
//! chat widget or the ticket portal; the result is kept on the conversation, sensitive macros
//! wait for it, starts and wrong answers are limited, and a failure alerts the supervisors.

use crate::audit::Actor;
use crate::chat::SignedIdentity;
use crate::conversations::activity;
use crate::error::invalid as validation;
use crate::jobs::JobHandler;
use crate::secrets::constant_time_eq;
use crate::tokens::Scope;
use crate::{App, AppError, AppResult, Principal};
use chrono::{DateTime, Duration, Utc};
use kefu_domain::{Channel, CheckMethod, CheckReason, CheckStatus, DomainEvent, FieldError, Id, IdentityCheck, IdentityKind, Role};
use kefu_store::{ConversationRow, IdentityCheckRow, NewActivity, NewNotification, from_micros, micros};
use sha2::{Digest, Sha256};

/// The job that mails an `email_code` check's code.
pub const EMAIL_JOB: &str = "identity_check.email";
/// A check not answered within this is expired.
const ANSWER_WITHIN_MINUTES: i64 = 10;
/// Wrong answers that fail a check.
pub const MAX_WRONG_ANSWERS: i64 = 5;
/// A passed check lets sensitive actions run for this long.
const VALID_FOR_MINUTES: i64 = 60;
/// Checks that may be started for one customer within an hour.
pub const MAX_CHECKS_PER_HOUR: i64 = 3;
/// A fresh sign-in's token must be signed at most this long before the check started.
const SIGN_IN_LEEWAY_SECS: i64 = 30;

/// One way of checking, and whether it can be used for this customer now.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CheckMethodOption {
    pub method: CheckMethod,
    pub available: bool,
    /// Why it cannot be used, when it cannot.
    pub unavailable_reason: Option<String>,
}

/// A conversation's identity checks, as the console shows them.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct IdentityChecks {
    /// Newest first.
    pub checks: Vec<IdentityCheck>,
    pub methods: Vec<CheckMethodOption>,
    /// The customer passed a check recently enough for sensitive actions.
    pub verified: bool,
    /// The conversation's intent asks for something only the account's owner may have.
    pub suggested: bool,
}

/// A customer's answer: the code (`email_code`, `exchange_totp`) or the identity the exchange
/// signed at a fresh sign-in (`signed_session`: a token with `iat`).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckAnswer {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub identity: Option<SignedIdentity>,
}

fn to_check(r: &IdentityCheckRow) -> IdentityCheck {
    let status = CheckStatus::parse(&r.status).unwrap_or(CheckStatus::Cancelled);
    let completed_at = r.completed_at.map(from_micros);
    IdentityCheck {
        id: r.id.clone(),
        method: CheckMethod::parse(&r.method).unwrap_or(CheckMethod::EmailCode),
        status,
        reason: CheckReason::parse(&r.reason).unwrap_or(CheckReason::Other),
        destination: r.destination.clone(),
        attempts_left: (MAX_WRONG_ANSWERS - r.attempts).max(0),
        requested_by_name: r.requested_by_name.clone(),
        created_at: from_micros(r.created_at),
        expires_at: from_micros(r.expires_at),
        completed_at,
        verified_until: completed_at.filter(|_| status == CheckStatus::Passed).map(|t| t + Duration::minutes(VALID_FOR_MINUTES)),
    }
}

/// The conversation's latest check, as kept on its row.
pub(crate) fn latest_check(row: &ConversationRow) -> Option<IdentityCheck> {
    row.identity_check.as_deref().and_then(|j| serde_json::from_str(j).ok())
}

/// True when the conversation's customer passed a check recently enough for sensitive actions.
pub(crate) fn verified(row: &ConversationRow, now: DateTime<Utc>) -> bool {
    latest_check(row).is_some_and(|c| c.verifies_at(now))
}

fn code_hash(check_id: &str, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{check_id}:{code}").as_bytes()))
}

/// Six digits, spaces and dashes allowed between them (as people copy codes).
fn parse_code(raw: Option<&str>) -> AppResult<String> {
    let code: String = raw.unwrap_or_default().chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(validation("code", "enter the 6-digit code"));
    }
    Ok(code)
}

fn new_code() -> String {
    use rand::Rng;
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32))
}

/// What the customer is told, in their language.
mod texts {
    use kefu_domain::CheckMethod;

    use kefu_bot::Lang;

    fn pick<'a>(lang: Option<&str>, zh_cn: &'a str, zh_tw: &'a str, en: &'a str) -> &'a str {
        match Lang::for_locale(lang) {
            Lang::ZhCn => zh_cn,
            Lang::ZhTw => zh_tw,
            Lang::En => en,
        }
    }

    pub fn asked(lang: Option<&str>, method: CheckMethod, destination: Option<&str>) -> String {
        let to = destination.unwrap_or("");
        let how = match method {
            CheckMethod::EmailCode => pick(
                lang,
                &format!("我们已向 {to} 发送了 6 位验证码，请在下方输入。"),
                &format!("我們已向 {to} 發送了 6 位驗證碼，請在下方輸入。"),
                &format!("We sent a 6-digit code to {to}. Enter it below."),
            )
            .to_string(),
            CheckMethod::ExchangeTotp => pick(
                lang,
                "请在下方输入您账户绑定的身份验证器（如 Google Authenticator）中显示的 6 位验证码。",
                "請在下方輸入您帳戶綁定的身分驗證器（如 Google Authenticator）中顯示的 6 位驗證碼。",
                "Enter the 6-digit code from the authenticator app linked to your account (e.g. Google Authenticator) below.",
            )
            .to_string(),
            CheckMethod::SignedSession => pick(
                lang,
                "请点击下方按钮，重新登录您的账户以确认身份。",
                "請點擊下方按鈕，重新登入您的帳戶以確認身分。",
                "Please confirm by signing in to your account again below.",
            )
            .to_string(),
        };
        let why = pick(
            lang,
            "为保护您的账户安全，在处理此请求前需要确认是您本人。",
            "為保護您的帳戶安全，在處理此請求前需要確認是您本人。",
            "To protect your account, we need to confirm it's you before we continue.",
        );
        let never = pick(
            lang,
            "我们绝不会索要您的密码、助记词或私钥。",
            "我們絕不會索取您的密碼、助記詞或私鑰。",
            "We will never ask for your password, seed phrase or private keys.",
        );
        format!("{why} {how} {never}")
    }

    pub fn passed(lang: Option<&str>) -> &'static str {
        pick(lang, "谢谢，您的身份已确认。", "謝謝，您的身分已確認。", "Thank you, your identity is confirmed.")
    }

    pub fn failed(lang: Option<&str>) -> &'static str {
        pick(
            lang,
            "我们未能确认您的身份。为保护您的账户，此请求已暂停，客服人员会与您联系。",
            "我們未能確認您的身分。為保護您的帳戶，此請求已暫停，客服人員會與您聯繫。",
            "We could not confirm your identity. To protect your account this request is on hold; an agent will follow up.",
        )
    }

    pub fn mail_subject(lang: Option<&str>) -> &'static str {
        pick(lang, "您的身份验证码", "您的身分驗證碼", "Your verification code")
    }

    pub fn mail_body(lang: Option<&str>, code: &str, number: i64, minutes: i64) -> String {
        match Lang::for_locale(lang) {
            Lang::ZhCn => format!(
                "您的验证码是：{code}\n\n客服在工单 #{number} 中请求确认您的身份。验证码 {minutes} 分钟内有效，请只在客服对话或工单页面中输入。\n\n请勿将验证码告诉任何人。我们绝不会索要您的密码、助记词或私钥。如果您没有联系过客服，请忽略此邮件。\n"
            ),
            Lang::ZhTw => format!(
                "您的驗證碼是：{code}\n\n客服在工單 #{number} 中請求確認您的身分。驗證碼 {minutes} 分鐘內有效，請只在客服對話或工單頁面中輸入。\n\n請勿將驗證碼告訴任何人。我們絕不會索取您的密碼、助記詞或私鑰。如果您沒有聯繫過客服，請忽略此郵件。\n"
            ),
            Lang::En => format!(
                "Your verification code is: {code}\n\nSupport asked to confirm your identity in ticket #{number}. The code is valid for {minutes} minutes; enter it only in the support chat or on the ticket page.\n\nNever share this code with anyone. We will never ask for your password, seed phrase or private keys. If you did not contact support, ignore this e-mail.\n"
            ),
        }
    }
}

impl App {
    /// The customer's registered e-mail and exchange account, as far as they are known.
    async fn check_contact(&self, row: &ConversationRow) -> AppResult<(Option<String>, Option<String>)> {
        let ids = self.identities_of(std::slice::from_ref(&row.contact_id)).await?;
        let first = |k: IdentityKind| ids.iter().find(|i| i.kind == k.as_str()).map(|i| i.value.clone());
        Ok((first(IdentityKind::Email), first(IdentityKind::ExchangeUser)))
    }

    /// Each method and whether it can be used for this conversation's customer now; and the
    /// customer's registered e-mail, where a code would go.
    async fn check_methods(&self, row: &ConversationRow) -> AppResult<(Vec<CheckMethodOption>, Option<String>)> {
        let (email, user) = self.check_contact(row).await?;
        let secret = self.portal_identity_secret().await?.is_some();
        let signing = secret || self.chat_settings().await?.jwt_public_key.is_some();
        let no_account = "the customer is not linked to an exchange account (they never signed in through the exchange)";
        let mut out = Vec::new();
        for &method in CheckMethod::ALL {
            let why = match method {
                CheckMethod::EmailCode if self.mailer().is_none() => Some("no outbound mail server is configured ([smtp] in kefu.toml)"),
                CheckMethod::EmailCode if email.is_none() => Some("the customer has no registered e-mail address"),
                CheckMethod::ExchangeTotp if self.config().totp_check_url.is_none() => {
                    Some("the exchange's authenticator check is not configured ([identity_checks] totp_url in kefu.toml)")
                }
                CheckMethod::ExchangeTotp if !secret => Some("no identity secret is shared with the exchange (Channels → identity secret)"),
                CheckMethod::ExchangeTotp | CheckMethod::SignedSession if user.is_none() => Some(no_account),
                CheckMethod::SignedSession if !signing => Some("no identity secret or key is shared with the exchange (Channels)"),
                // The exchange's page hands the widget a fresh token (`KefuChat.stepUp`); the
                // portal is reached by a link that proves no time of sign-in.
                CheckMethod::SignedSession if row.channel != Channel::Chat.as_str() => {
                    Some("a fresh sign-in can only be given in the chat widget on the exchange's site")
                }
                _ => None,
            };
            out.push(CheckMethodOption { method, available: why.is_none(), unavailable_reason: why.map(str::to_string) });
        }
        Ok((out, email))
    }

    /// A conversation's checks and the ways one can be started now.
    pub async fn identity_checks(&self, p: &Principal, conversation_id: &str) -> AppResult<IdentityChecks> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        let row = self.visible_conversation(p, conversation_id).await?;
        self.expire_identity_check(&row).await?;
        let rows = self.store().identity_checks_of(&row.id, 50).await?;
        let checks: Vec<IdentityCheck> = rows.iter().map(to_check).collect();
        let now = self.now();
        Ok(IdentityChecks {
            verified: checks.first().is_some_and(|c| c.verifies_at(now)),
            checks,
            methods: self.check_methods(&row).await?.0,
            suggested: row.intent.as_deref().is_some_and(|i| kefu_domain::SENSITIVE_INTENTS.contains(&i)),
        })
    }

    /// Starts a check: the customer is asked in the conversation (and mailed a code for
    /// `email_code`); any pending check is replaced.
    pub async fn start_identity_check(&self, p: &Principal, conversation_id: &str, method: &str, reason: &str) -> AppResult<IdentityCheck> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        let mut errors = Vec::new();
        let method = CheckMethod::parse(method);
        let reason = CheckReason::parse(reason);
        if method.is_none() {
            errors.push(FieldError::new("method", format!("must be one of {}", CheckMethod::names())));
        }
        if reason.is_none() {
            errors.push(FieldError::new("reason", format!("must be one of {}", CheckReason::names())));
        }
        let (Some(method), Some(reason)) = (method, reason) else { return Err(AppError::Validation(errors)) };
        let row = self.visible_conversation(p, conversation_id).await?;
        if let Some(target) = &row.merged_into {
            return Err(AppError::ConversationMerged(target.clone()));
        }
        if row.status == kefu_domain::Status::Closed.as_str() {
            return Err(AppError::ConversationClosed);
        }
        let (options, email) = self.check_methods(&row).await?;
        if let Some(why) = options.iter().find(|o| o.method == method).and_then(|o| o.unavailable_reason.clone()) {
            return Err(AppError::IdentityCheckUnavailable(why));
        }
        let now = self.now();
        let (started, oldest) = self.store().identity_checks_since(&row.contact_id, micros(now - Duration::hours(1))).await?;
        if started >= MAX_CHECKS_PER_HOUR {
            let again = oldest.map_or(now + Duration::hours(1), |t| from_micros(t) + Duration::hours(1));
            self.audit(&Actor::agent(p), "identity_check.limited", Some(row.id.clone()), serde_json::json!({"method": method.as_str()}))
                .await?;
            return Err(AppError::IdentityCheckLimited(again));
        }
        let destination = email.filter(|_| method == CheckMethod::EmailCode).map(|e| kefu_domain::inbox::mask_email(&e));
        let check = IdentityCheckRow {
            id: Id::new().to_string(),
            conversation_id: row.id.clone(),
            method: method.as_str().into(),
            status: CheckStatus::Pending.as_str().into(),
            reason: reason.as_str().into(),
            destination,
            secret_hash: None,
            attempts: 0,
            requested_by: p.agent.id.to_string(),
            requested_by_name: p.agent.name.as_str().to_string(),
            created_at: micros(now),
            expires_at: micros(now + Duration::minutes(ANSWER_WITHIN_MINUTES)),
            completed_at: None,
        };
        let public = to_check(&check);
        let actor = ("agent".to_string(), Some(p.agent.id.to_string()), p.agent.name.as_str().to_string());
        let a = activity(
            &actor,
            "identity_check_requested",
            serde_json::json!({"check_id": check.id, "method": method.as_str(), "reason": reason.as_str()}),
        );
        self.store().insert_identity_check(&check, &json(&public), &a, micros(now)).await?;
        self.audit(
            &Actor::agent(p),
            "identity_check.started",
            Some(row.id.clone()),
            serde_json::json!({"check_id": check.id, "method": method.as_str(), "reason": reason.as_str()}),
        )
        .await?;
        if method == CheckMethod::EmailCode {
            self.enqueue_job_with(EMAIL_JOB, serde_json::json!({"check_id": check.id}), std::time::Duration::ZERO, 5).await?;
        }
        let text = texts::asked(row.language.as_deref(), method, public.destination.as_deref());
        self.post_system(&row, text).await?;
        self.check_changed(&row, "identity_check_requested").await;
        Ok(public)
    }

    async fn check_changed(&self, row: &ConversationRow, change: &str) {
        self.bus()
            .publish(DomainEvent::ConversationUpdated {
                conversation_id: row.id.clone(),
                team_id: row.team_id.clone(),
                version: row.version,
                changes: vec![change.to_string()],
            })
            .await;
    }

    /// Marks the conversation's pending check expired once its time is up.
    async fn expire_identity_check(&self, row: &ConversationRow) -> AppResult<()> {
        let Some(c) = latest_check(row).filter(|c| c.status == CheckStatus::Pending && c.expires_at <= self.now()) else { return Ok(()) };
        let Some(r) = self.store().identity_check_by_id(&c.id).await? else { return Ok(()) };
        self.close_check(row, &r, CheckStatus::Expired, r.attempts).await?;
        Ok(())
    }

    /// Ends a check, as `r` was read, as `status` after `attempts` wrong answers, noting it on
    /// the timeline; false when someone else changed it first.
    async fn close_check(&self, row: &ConversationRow, r: &IdentityCheckRow, status: CheckStatus, attempts: i64) -> AppResult<bool> {
        let now = self.now();
        let mut next = r.clone();
        next.status = status.as_str().into();
        next.attempts = attempts;
        next.completed_at = Some(micros(now));
        let customer = ("customer".to_string(), Some(row.contact_id.clone()), row.contact_name.clone());
        let kind = format!("identity_check_{}", status.as_str());
        let a = activity(&customer, &kind, serde_json::json!({"check_id": r.id, "method": r.method, "attempts": attempts}));
        let done =
            self.store().update_identity_check(&next, (&r.status, r.attempts), &json(&to_check(&next)), Some(&a), micros(now)).await?;
        if done {
            let details = serde_json::json!({"check_id": r.id, "method": r.method, "reason": r.reason, "attempts": next.attempts});
            let action = match status {
                CheckStatus::Passed => "identity_check.passed",
                CheckStatus::Failed => "identity_check.failed",
                _ => "identity_check.expired",
            };
            self.audit(&Actor::system(), action, Some(row.id.clone()), details).await?;
            self.check_changed(row, &kind).await;
        }
        Ok(done)
    }

    /// The customer's answer to a pending check of `row` (which they may see): passes it, or
    /// counts a wrong answer and fails it at the limit.
    pub(crate) async fn answer_identity_check(
        &self,
        row: &ConversationRow,
        check_id: &str,
        answer: &CheckAnswer,
    ) -> AppResult<IdentityCheck> {
        let not_found = || AppError::NotFound("identity check");
        let id = Id::parse(check_id).ok_or_else(not_found)?;
        for _ in 0..3 {
            let r = self.store().identity_check_by_id(id.as_str()).await?.filter(|r| r.conversation_id == row.id).ok_or_else(not_found)?;
            let status = CheckStatus::parse(&r.status).unwrap_or(CheckStatus::Cancelled);
            if status != CheckStatus::Pending {
                return Err(AppError::IdentityCheckClosed(status.as_str()));
            }
            if from_micros(r.expires_at) <= self.now() {
                self.close_check(row, &r, CheckStatus::Expired, r.attempts).await?;
                return Err(AppError::IdentityCheckClosed(CheckStatus::Expired.as_str()));
            }
            let right = self.answer_is_right(row, &r, answer).await?;
            if right {
                if self.close_check(row, &r, CheckStatus::Passed, r.attempts).await? {
                    self.post_system(row, texts::passed(row.language.as_deref()).into()).await?;
                    let done = self.store().identity_check_by_id(id.as_str()).await?.ok_or_else(not_found)?;
                    return Ok(to_check(&done));
                }
                continue;
            }
            let wrong = r.attempts + 1;
            if wrong >= MAX_WRONG_ANSWERS {
                if self.close_check(row, &r, CheckStatus::Failed, wrong).await? {
                    self.alert_supervisors(row, &r).await?;
                    self.post_system(row, texts::failed(row.language.as_deref()).into()).await?;
                    return Err(AppError::IdentityCheckClosed(CheckStatus::Failed.as_str()));
                }
                continue;
            }
            let mut next = r.clone();
            next.attempts = wrong;
            let none: Option<&NewActivity> = None;
            if self.store().update_identity_check(&next, (&r.status, r.attempts), &json(&to_check(&next)), none, micros(self.now())).await?
            {
                self.check_changed(row, "identity_check_attempt").await;
                return Err(AppError::IdentityCheckFailed(MAX_WRONG_ANSWERS - wrong));
            }
        }
        Err(AppError::internal("the identity check kept changing under an answer"))
    }

    async fn answer_is_right(&self, row: &ConversationRow, r: &IdentityCheckRow, answer: &CheckAnswer) -> AppResult<bool> {
        match CheckMethod::parse(&r.method) {
            Some(CheckMethod::EmailCode) => {
                let code = parse_code(answer.code.as_deref())?;
                Ok(r.secret_hash.as_deref().is_some_and(|h| constant_time_eq(h.as_bytes(), code_hash(&r.id, &code).as_bytes())))
            }
            Some(CheckMethod::ExchangeTotp) => {
                let code = parse_code(answer.code.as_deref())?;
                let user =
                    self.check_contact(row).await?.1.ok_or_else(|| AppError::IdentityCheckUnavailable("no exchange account".into()))?;
                self.exchange_accepts_code(&user, &code).await
            }
            Some(CheckMethod::SignedSession) => {
                let identity =
                    answer.identity.as_ref().ok_or_else(|| validation("identity", "give the identity the exchange signed at sign-in"))?;
                let user = self.check_contact(row).await?.1;
                // A bad or stale signature is a wrong answer, not a client mistake: it counts.
                let signed = match self.signed_user(identity).await {
                    Ok(u) => u,
                    Err(AppError::InvalidSignature | AppError::IdentityExpired) => return Ok(false),
                    Err(e) => return Err(e),
                };
                let fresh = signed.issued_at.is_some_and(|iat| iat >= r.created_at / 1_000_000 - SIGN_IN_LEEWAY_SECS);
                Ok(fresh && user.as_deref() == Some(signed.user_id.as_str()))
            }
            None => Err(AppError::internal(format!("identity check {} has an unknown method", r.id))),
        }
    }

    /// Asks the exchange whether `code` is its user's current authenticator code. The request
    /// is signed like webhooks (`X-Kefu-Timestamp`, `X-Kefu-Signature` under the identity
    /// secret); the exchange answers `{"valid": true|false}`.
    async fn exchange_accepts_code(&self, user_id: &str, code: &str) -> AppResult<bool> {
        let unavailable = |why: &str| AppError::IdentityCheckUnavailable(why.to_string());
        let url =
            self.config().totp_check_url.clone().ok_or_else(|| unavailable("the exchange's authenticator check is not configured"))?;
        let secret = self.portal_identity_secret().await?.ok_or_else(|| unavailable("no identity secret is shared with the exchange"))?;
        let body = serde_json::json!({"user_id": user_id, "code": code}).to_string();
        let ts = self.now().timestamp();
        let sent = self
            .exchange_http()
            .post(&url)
            .header("Content-Type", "application/json")
            .header("User-Agent", "Kefu/1")
            .header("X-Kefu-Timestamp", ts.to_string())
            .header("X-Kefu-Signature", crate::webhooks::webhook_signature(&secret, ts, body.as_bytes()))
            .body(body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {
                let v: serde_json::Value =
                    r.json().await.map_err(|_| unavailable("the exchange's answer was not JSON: try again later"))?;
                Ok(v.get("valid").and_then(serde_json::Value::as_bool) == Some(true))
            }
            Ok(r) => {
                tracing::warn!(status = %r.status(), "the exchange refused an authenticator check");
                Err(unavailable("the exchange could not check the code right now: try again in a moment"))
            }
            Err(e) => {
                tracing::warn!(error = %e, "the exchange's authenticator check is unreachable");
                Err(unavailable("the exchange could not check the code right now: try again in a moment"))
            }
        }
    }

    /// Tells every active supervisor and admin that a customer failed a check.
    async fn alert_supervisors(&self, row: &ConversationRow, r: &IdentityCheckRow) -> AppResult<()> {
        let excerpt = format!("Identity check failed ({}, {}) after {} wrong answers", r.method, r.reason, MAX_WRONG_ANSWERS);
        let mut after: Option<String> = None;
        loop {
            let page = self.store().list_agents(after.as_deref(), 200).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            for a in page.iter().filter(|a| a.active && matches!(Role::parse(&a.role), Some(Role::Admin | Role::Supervisor))) {
                let id = Id::new().to_string();
                let n = NewNotification {
                    id: id.clone(),
                    agent_id: &a.id,
                    kind: "identity_check_failed",
                    conversation_id: &row.id,
                    message_id: None,
                    actor_name: &row.contact_name,
                    excerpt: &excerpt,
                };
                self.store().insert_notification(&n, micros(self.now())).await?;
                self.bus().publish(DomainEvent::NotificationCreated { agent_id: a.id.clone(), notification_id: id }).await;
            }
            if page.len() < 200 {
                break;
            }
        }
        Ok(())
    }

    /// The job's work: a new code, its hash stored, the code mailed. A retry sends a new code
    /// (the one that failed to go out was never seen).
    async fn mail_check_code(&self, check_id: &str) -> Result<(), String> {
        let s = self.store();
        let Some(r) = s.identity_check_by_id(check_id).await.map_err(|e| e.to_string())? else { return Ok(()) };
        if r.status != CheckStatus::Pending.as_str() || from_micros(r.expires_at) <= self.now() {
            return Ok(());
        }
        let row = s.conversation_by_id(&r.conversation_id).await.map_err(|e| e.to_string())?.ok_or("the conversation is gone")?;
        let to = self.check_contact(&row).await.map_err(|e| e.to_string())?.0.ok_or("the customer has no e-mail address")?;
        let mailer = self.mailer().ok_or("no SMTP server is configured")?;
        let code = new_code();
        let mut next = r.clone();
        next.secret_hash = Some(code_hash(&r.id, &code));
        let none: Option<&NewActivity> = None;
        let stored = s
            .update_identity_check(&next, (&r.status, r.attempts), &json(&to_check(&next)), none, micros(self.now()))
            .await
            .map_err(|e| e.to_string())?;
        if !stored {
            return Err("the check changed while its code was made: try again".into());
        }
        let lang = row.language.as_deref();
        mailer.send(&to, texts::mail_subject(lang), texts::mail_body(lang, &code, row.number, ANSWER_WITHIN_MINUTES)).await
    }
}

fn json(c: &IdentityCheck) -> String {
    serde_json::to_string(c).unwrap_or_default()
}

/// Mails an `email_code` check's code.
pub struct MailCode;

#[async_trait::async_trait]
impl JobHandler for MailCode {
    async fn run(&self, app: &App, payload: serde_json::Value) -> Result<(), String> {
        let id = payload.get("check_id").and_then(|v| v.as_str()).ok_or("payload lacks check_id")?;
        app.mail_check_code(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_forgive_spaces() {
        assert_eq!(parse_code(Some(" 123 456 ")).ok().as_deref(), Some("123456"));
        assert_eq!(parse_code(Some("123-456")).ok().as_deref(), Some("123456"));
        for bad in [None, Some(""), Some("12345"), Some("1234567"), Some("12345a")] {
            assert!(matches!(parse_code(bad), Err(AppError::Validation(_))), "{bad:?}");
        }
        let c = new_code();
        assert!(c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn the_customer_is_asked_in_their_language() {
        assert!(texts::asked(Some("zh-CN"), CheckMethod::EmailCode, Some("j***@example.com")).contains("j***@example.com"));
        assert!(texts::asked(Some("zh-TW"), CheckMethod::ExchangeTotp, None).contains("驗證碼"));
        assert!(texts::asked(None, CheckMethod::SignedSession, None).contains("signing in"));
        assert!(texts::mail_body(Some("en"), "042917", 10234, 10).contains("042917"));
    }

    #[test]
    fn only_a_passed_check_in_its_window_verifies() {
        let now = Utc::now();
        let mut r = IdentityCheckRow {
            id: "c".into(),
            conversation_id: "v".into(),
            method: "email_code".into(),
            status: "passed".into(),
            reason: "twofa_reset".into(),
            destination: None,
            secret_hash: None,
            attempts: 1,
            requested_by: "a".into(),
            requested_by_name: "A".into(),
            created_at: micros(now - Duration::minutes(5)),
            expires_at: micros(now + Duration::minutes(5)),
            completed_at: Some(micros(now - Duration::minutes(1))),
        };
        let c = to_check(&r);
        assert_eq!(c.attempts_left, MAX_WRONG_ANSWERS - 1);
        assert!(c.verifies_at(now));
        assert!(!c.verifies_at(now + Duration::minutes(VALID_FOR_MINUTES)));
        r.status = "failed".into();
        assert!(!to_check(&r).verifies_at(now));
    }
}
