//! The security shield in the app: every inbound text passes [`App::screen`] before it is
//! stored, indexed, announced or logged; secrets become placeholders, the customer is warned,
//! the conversation flagged and the event audited. Links get verdicts that agents and
//! customers see, and agents may not send customers links outside the official (or allowed)
//! domains. The official channels answer the public verification service.

use crate::audit::Actor;
use crate::conversations::activity;
use crate::{App, AppError, AppResult, Principal};
use kefu_domain::{FieldError, LinkFlag, MessageShield, Priority};
use kefu_shield::{Finding, Link, Official, Scan, SecretPattern, Shield, Verification};
use kefu_store::micros;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SETTINGS_KEY: &str = "shield";
const SETTINGS_TTL: Duration = Duration::from_secs(5);
/// The tag on conversations in which a customer shared a secret.
pub const TAG_SECRET: &str = "secret-shared";
const MAX_ENTRIES: usize = 200;

/// The shield's configuration as kefu.toml's `[shield]` gives it: the starting point until an
/// admin saves settings. `domains_override` is `KEFU_OFFICIAL_DOMAINS`, which always wins.
#[derive(Debug, Clone, Default)]
pub struct ShieldConfig {
    pub settings: ShieldSettings,
    pub domains_override: Option<Vec<String>>,
}

/// The official channels, the domains agents may also link to, and the patterns of the
/// exchange's API secrets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShieldSettings {
    /// Official domains; their subdomains are official too (`nebula-ex.com`).
    #[serde(default)]
    pub official_domains: Vec<String>,
    /// Official e-mail addresses (any address at an official domain counts too).
    #[serde(default)]
    pub official_emails: Vec<String>,
    /// Official Telegram accounts (`@NebulaExchange`).
    #[serde(default)]
    pub official_telegram: Vec<String>,
    /// Official phone numbers, as written.
    #[serde(default)]
    pub official_phones: Vec<String>,
    /// The ids agents give customers (`NBX-1024`).
    #[serde(default)]
    pub official_agent_ids: Vec<String>,
    /// Domains agents may link customers to besides the official ones (a block explorer).
    #[serde(default)]
    pub allowed_link_domains: Vec<String>,
    /// The exchange's API secrets, by regular expression: redacted like keys.
    #[serde(default)]
    pub secret_patterns: Vec<SecretPatternSetting>,
    /// Read only (ignored when sent): the domains come from `KEFU_OFFICIAL_DOMAINS` and cannot
    /// be changed here.
    #[serde(default)]
    pub domains_from_environment: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretPatternSetting {
    pub name: String,
    /// A regular expression (Rust `regex` syntax).
    pub pattern: String,
}

impl ShieldSettings {
    /// The compiled shield, or the field errors that stop it.
    pub fn compile(&self) -> Result<Shield, Vec<FieldError>> {
        let mut errors = Vec::new();
        let lists = [
            ("official_domains", &self.official_domains),
            ("official_emails", &self.official_emails),
            ("official_telegram", &self.official_telegram),
            ("official_phones", &self.official_phones),
            ("official_agent_ids", &self.official_agent_ids),
            ("allowed_link_domains", &self.allowed_link_domains),
        ];
        for (field, list) in lists {
            if list.len() > MAX_ENTRIES {
                errors.push(FieldError::new(field, format!("must be at most {MAX_ENTRIES} entries")));
            }
        }
        let mut patterns = Vec::new();
        for (i, p) in self.secret_patterns.iter().enumerate() {
            match SecretPattern::new(&p.name, &p.pattern) {
                Ok(p) => patterns.push(p),
                Err(e) => errors.push(FieldError::new(&format!("secret_patterns[{i}]"), e)),
            }
        }
        // Each list on its own, so the error names the field.
        for (field, list) in lists {
            let one = |o: Official| Shield::new(o, &[] as &[&str], Vec::new()).err();
            let err = match field {
                "official_domains" | "allowed_link_domains" => kefu_shield::Domains::new(list).err(),
                "official_emails" => one(Official { emails: list.clone(), ..Default::default() }),
                "official_telegram" => one(Official { telegram: list.clone(), ..Default::default() }),
                "official_phones" => one(Official { phones: list.clone(), ..Default::default() }),
                _ => one(Official { agent_ids: list.clone(), ..Default::default() }),
            };
            if let Some(e) = err {
                errors.push(FieldError::new(field, e));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let official = Official {
            domains: self.official_domains.clone(),
            emails: self.official_emails.clone(),
            telegram: self.official_telegram.clone(),
            phones: self.official_phones.clone(),
            agent_ids: self.official_agent_ids.clone(),
        };
        Shield::new(official, &self.allowed_link_domains, patterns).map_err(|e| vec![FieldError::new("official_domains", e)])
    }

    fn trimmed(&self) -> Self {
        let clean = |v: &Vec<String>| {
            let mut out: Vec<String> = v.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
            out.dedup();
            out
        };
        ShieldSettings {
            official_domains: clean(&self.official_domains),
            official_emails: clean(&self.official_emails),
            official_telegram: clean(&self.official_telegram),
            official_phones: clean(&self.official_phones),
            official_agent_ids: clean(&self.official_agent_ids),
            allowed_link_domains: clean(&self.allowed_link_domains),
            secret_patterns: self
                .secret_patterns
                .iter()
                .map(|p| SecretPatternSetting { name: p.name.trim().to_string(), pattern: p.pattern.clone() })
                .collect(),
            domains_from_environment: false,
        }
    }
}

fn flag(l: &Link) -> LinkFlag {
    LinkFlag {
        url: l.url.clone(),
        host: l.host.clone(),
        verdict: l.verdict.as_str().into(),
        lookalike_of: l.lookalike_of.clone(),
        reason: l.reason.and_then(|r| serde_json::to_value(r).ok()).and_then(|v| v.as_str().map(str::to_string)),
    }
}

/// What the shield noted on a message (kept in `messages.shield`, JSON): the kinds of secrets
/// taken out, in order of first appearance, and the links' verdicts; `None` when nothing.
pub(crate) fn note_json(scan: &Scan) -> Option<String> {
    let mut redacted: Vec<String> = Vec::new();
    for f in &scan.findings {
        if !redacted.iter().any(|k| k == f.kind.as_str()) {
            redacted.push(f.kind.as_str().to_string());
        }
    }
    let links: Vec<LinkFlag> = scan.links.iter().map(flag).collect();
    (!redacted.is_empty() || !links.is_empty()).then(|| serde_json::to_string(&MessageShield { redacted, links }).ok()).flatten()
}

/// The warning a customer gets after sharing a secret, in their language.
fn warning(language: Option<&str>) -> &'static str {
    match kefu_bot::Lang::for_locale(language) {
        kefu_bot::Lang::ZhTw => {
            "安全提醒：您剛才發送的內容含有助記詞或私鑰。我們已在儲存前將其刪除，客服人員看不到它。我們的工作人員絕不會向您索取助記詞、私鑰或密碼。如果您曾在其他地方透露過它，請立即將資產轉移到新的錢包。"
        }
        kefu_bot::Lang::ZhCn => {
            "安全提醒：您刚才发送的内容含有助记词或私钥。我们已在保存前将其删除，客服人员看不到它。我们的工作人员绝不会向您索取助记词、私钥或密码。如果您曾在其他地方泄露过它，请立即将资产转移到新的钱包。"
        }
        kefu_bot::Lang::En => {
            "Security warning: your message contained a seed phrase or private key. We removed it before storing anything, so no one in support can see it. Our staff will never ask for your seed phrase, private keys or password. If you shared it anywhere else, move your funds to a new wallet right away."
        }
    }
}

pub(crate) struct ShieldCache(std::sync::Mutex<Option<(Instant, Arc<Shield>, ShieldSettings)>>);

impl Default for ShieldCache {
    fn default() -> Self {
        ShieldCache(std::sync::Mutex::new(None))
    }
}

impl App {
    /// The settings in force: an admin's saved ones, else kefu.toml's; `KEFU_OFFICIAL_DOMAINS`
    /// over either.
    async fn shield_state(&self) -> AppResult<(Arc<Shield>, ShieldSettings)> {
        if let Ok(cache) = self.0.shield.0.lock()
            && let Some((at, shield, settings)) = &*cache
            && at.elapsed() < SETTINGS_TTL
        {
            return Ok((shield.clone(), settings.clone()));
        }
        let config = &self.0.config.shield;
        let mut settings = match self.store().setting(SETTINGS_KEY).await? {
            Some(raw) => serde_json::from_str(&raw).map_err(AppError::internal)?,
            None => config.settings.clone(),
        };
        if let Some(domains) = &config.domains_override {
            settings.official_domains = domains.clone();
            settings.domains_from_environment = true;
        }
        // Settings were checked when saved; a file that no longer compiles keeps the detector
        // (which needs no configuration) and loses only what is broken.
        let shield = match settings.compile() {
            Ok(s) => s,
            Err(errors) => {
                tracing::error!(?errors, "the shield settings do not compile; official channels ignored until fixed");
                Shield::default()
            }
        };
        let shield = Arc::new(shield);
        if let Ok(mut cache) = self.0.shield.0.lock() {
            *cache = Some((Instant::now(), shield.clone(), settings.clone()));
        }
        Ok((shield, settings))
    }

    /// The shield in force (see `shield_state`).
    pub async fn shield(&self) -> AppResult<Arc<Shield>> {
        Ok(self.shield_state().await?.0)
    }

    pub async fn get_shield_settings(&self, p: &Principal) -> AppResult<ShieldSettings> {
        p.require_enrolled()?;
        p.require_admin()?;
        Ok(self.shield_state().await?.1)
    }

    pub async fn put_shield_settings(&self, p: &Principal, input: ShieldSettings) -> AppResult<ShieldSettings> {
        p.require_enrolled()?;
        p.require_admin()?;
        let s = input.trimmed();
        s.compile().map_err(AppError::Validation)?;
        let json = serde_json::to_string(&s).map_err(AppError::internal)?;
        self.store().put_setting(SETTINGS_KEY, &json, micros(self.now())).await?;
        if let Ok(mut cache) = self.0.shield.0.lock() {
            *cache = None;
        }
        let counts = serde_json::json!({
            "official_domains": s.official_domains, "official_emails": s.official_emails.len(),
            "official_telegram": s.official_telegram, "official_phones": s.official_phones.len(),
            "official_agent_ids": s.official_agent_ids.len(), "allowed_link_domains": s.allowed_link_domains,
            "secret_patterns": s.secret_patterns.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
        });
        self.audit(&Actor::agent(p), "shield.settings.changed", None, counts).await?;
        Ok(self.shield_state().await?.1)
    }

    /// Seeds the demo exchange's official channels, unless someone saved settings already.
    pub(crate) async fn seed_demo_shield(&self, settings: ShieldSettings) -> AppResult<()> {
        if self.store().setting(SETTINGS_KEY).await?.is_none() {
            let json = serde_json::to_string(&settings).map_err(AppError::internal)?;
            self.store().put_setting(SETTINGS_KEY, &json, micros(self.now())).await?;
            if let Ok(mut cache) = self.0.shield.0.lock() {
                *cache = None;
            }
        }
        Ok(())
    }

    /// The official verification service: anyone may ask.
    pub async fn verify(&self, query: &str) -> AppResult<Verification> {
        let shield = self.shield().await?;
        shield.verify(query).map_err(|e| AppError::Validation(vec![FieldError::new("q", e)]))
    }

    /// An agent's public reply may link only to official or allowed domains; an attempt
    /// otherwise is refused and audited.
    pub(crate) async fn check_agent_links(&self, p: &Principal, conversation_id: &str, body: &str) -> AppResult<()> {
        let shield = self.shield().await?;
        let Some(bad) = shield.links(body).into_iter().find(|l| !shield.link_allowed(l)) else { return Ok(()) };
        self.audit(
            &Actor::agent(p),
            "shield.link_blocked",
            Some(conversation_id.to_string()),
            serde_json::json!({"host": bad.host, "verdict": bad.verdict.as_str(), "lookalike_of": bad.lookalike_of}),
        )
        .await?;
        Err(AppError::LinkNotAllowed(bad.host))
    }

    /// After a customer's message lost a secret: the customer is warned in their language, the
    /// conversation tagged and raised to urgent, the event audited (kinds only, never the text).
    pub(crate) async fn secret_shared(&self, conversation_id: &str, message_id: &str, findings: &[Finding]) -> AppResult<()> {
        let mut kinds: Vec<&str> = findings.iter().map(|f| f.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let Some(row) = self.store().conversation_by_id(conversation_id).await? else { return Ok(()) };
        let tags: Vec<String> = self.store().tags_of(&[conversation_id.to_string()]).await?.into_iter().map(|(_, t)| t).collect();
        self.change_as(conversation_id, ("system".into(), None, "Kefu shield".into()), |row, ch, acts, actor| {
            if !tags.iter().any(|t| t == TAG_SECRET) {
                let mut next = tags.clone();
                next.push(TAG_SECRET.into());
                next.sort();
                acts.push(activity(actor, "tags_changed", serde_json::json!({"added": [TAG_SECRET], "removed": []})));
                ch.tags = Some(next);
            }
            if row.priority < Priority::Urgent.rank() {
                acts.push(activity(
                    actor,
                    "priority_changed",
                    serde_json::json!({"from": Priority::from_rank(row.priority).as_str(), "to": Priority::Urgent.as_str()}),
                ));
                ch.priority = Some(Priority::Urgent.rank());
            }
            acts.push(activity(actor, "secret_redacted", serde_json::json!({"kinds": kinds, "message_id": message_id})));
        })
        .await?;
        self.post_system(&row, warning(row.language.as_deref()).to_string()).await?;
        self.audit(
            &Actor::system(),
            "shield.secret_redacted",
            Some(conversation_id.to_string()),
            serde_json::json!({"kinds": kinds, "message_id": message_id}),
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_errors_name_their_field() {
        let s = ShieldSettings {
            official_domains: vec!["not a domain".into()],
            official_telegram: vec!["@x".into()],
            secret_patterns: vec![SecretPatternSetting { name: "api".into(), pattern: "(".into() }],
            ..Default::default()
        };
        let errors = s.compile().err().unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["secret_patterns[0]", "official_domains", "official_telegram"]);
    }

    #[test]
    fn the_warning_speaks_the_customers_language() {
        assert!(warning(Some("zh-CN")).contains("助记词"));
        assert!(warning(Some("zh-TW")).contains("助記詞"));
        assert!(warning(None).starts_with("Security warning"));
    }
}
