//! The one typed configuration: defaults < `kefu.toml` < `KEFU_*` environment < flags.
//! Flags and environment come from clap; the file fills in whatever neither set.

use clap::{Args, ValueEnum};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Options every subcommand understands. Each may also be set in the environment or in
/// `kefu.toml` (same name, with underscores).
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// Configuration file [default: ./kefu.toml when it exists]
    #[arg(long, global = true, env = "KEFU_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where Kefu keeps its SQLite database and files [default: ./kefu-data]
    #[arg(long, global = true, env = "KEFU_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// postgres://user:pass@host/db to run on PostgreSQL, or sqlite:PATH [default: SQLite in the data directory]
    #[arg(long, global = true, env = "KEFU_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// The address people reach Kefu at, e.g. https://support.example.com; https marks cookies Secure
    #[arg(long, global = true, env = "KEFU_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Trust X-Forwarded-For for client addresses (only behind a reverse proxy that sets it) [default: false]
    #[arg(long, global = true, env = "KEFU_TRUST_PROXY", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub trust_proxy: Option<bool>,
    /// Log format [default: text]
    #[arg(long, global = true, env = "KEFU_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log filter, e.g. info or kefu_app=debug,info [default: info]
    #[arg(long, global = true, env = "KEFU_LOG", value_name = "FILTER")]
    pub log: Option<String>,
    /// Sign agents out after this many hours without activity [default: 12]
    #[arg(long, global = true, env = "KEFU_SESSION_IDLE_HOURS", value_name = "HOURS")]
    pub session_idle_hours: Option<u64>,
    /// Failed sign-ins in a row that lock an account [default: 5]
    #[arg(long, global = true, env = "KEFU_LOCKOUT_AFTER", value_name = "N")]
    pub lockout_after: Option<u32>,
    /// Minutes an account stays locked [default: 15]
    #[arg(long, global = true, env = "KEFU_LOCKOUT_MINUTES", value_name = "MIN")]
    pub lockout_minutes: Option<u64>,
    /// Failed sign-ins from one address within the window that lock the address out [default: 20]
    #[arg(long, global = true, env = "KEFU_IP_LOCKOUT_AFTER", value_name = "N")]
    pub ip_lockout_after: Option<u32>,
    /// Minutes an address lockout lasts, and the window failures are counted in [default: 15]
    #[arg(long, global = true, env = "KEFU_IP_LOCKOUT_MINUTES", value_name = "MIN")]
    pub ip_lockout_minutes: Option<u64>,
    /// Largest accepted request body in KiB [default: 1024]
    #[arg(long, global = true, env = "KEFU_MAX_BODY_KIB", value_name = "KIB")]
    pub max_body_kib: Option<usize>,
    /// Largest attachment in MiB [default: 20]
    #[arg(long, global = true, env = "KEFU_MAX_ATTACHMENT_MIB", value_name = "MIB")]
    pub max_attachment_mib: Option<usize>,
    /// The bot's guided flows, a YAML file like the shipped crates/bot/flows.yaml [default: the shipped flows]
    #[arg(long, global = true, env = "KEFU_BOT_FLOWS", value_name = "FILE")]
    pub bot_flows: Option<PathBuf>,
    /// An OpenAI-compatible API for the bot's generated answers, e.g. https://api.example.com/v1 [default: none]
    #[arg(long, global = true, env = "KEFU_LLM_URL", value_name = "URL")]
    pub llm_url: Option<String>,
    /// The model the bot's generated answers use [default: gpt-4o-mini]
    #[arg(long, global = true, env = "KEFU_LLM_MODEL", value_name = "NAME")]
    pub llm_model: Option<String>,
    /// The API key for KEFU_LLM_URL [default: none]
    #[arg(long, global = true, env = "KEFU_LLM_KEY", value_name = "KEY", hide_env_values = true)]
    pub llm_key: Option<String>,
    /// The exchange's official domains, comma-separated; overrides `[shield] official_domains`
    /// and the admin page's list [default: none]
    #[arg(long, global = true, env = "KEFU_OFFICIAL_DOMAINS", value_name = "DOMAINS")]
    pub official_domains: Option<String>,
    /// The SMTP server for outbound mail: smtp://host:25, smtp://user:pass@host:587?tls=required
    /// or smtps://host:465 [default: none, nothing is mailed]
    #[arg(long, global = true, env = "KEFU_SMTP_URL", value_name = "URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of outbound mail, e.g. "Support <help@example.com>"
    #[arg(long, global = true, env = "KEFU_SMTP_FROM", value_name = "MAILBOX")]
    pub smtp_from: Option<String>,
    /// The exchange's endpoint that checks a customer's authenticator code for an identity
    /// check [default: none, that method is not offered]
    #[arg(long, global = true, env = "KEFU_TOTP_CHECK_URL", value_name = "URL")]
    pub totp_check_url: Option<String>,
}

/// `kefu.toml`: the same settings; unknown keys are an error, so typos do not pass silently.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    listen: Option<String>,
    public_url: Option<String>,
    trust_proxy: Option<bool>,
    log_format: Option<LogFormat>,
    log: Option<String>,
    session_idle_hours: Option<u64>,
    lockout_after: Option<u32>,
    lockout_minutes: Option<u64>,
    ip_lockout_after: Option<u32>,
    ip_lockout_minutes: Option<u64>,
    max_body_kib: Option<usize>,
    max_attachment_mib: Option<usize>,
    help_center: Option<HelpCenterFile>,
    bot: Option<BotFile>,
    shield: Option<ShieldFile>,
    smtp: Option<SmtpFile>,
    identity_checks: Option<IdentityChecksFile>,
}

/// `[smtp]`: the server outbound mail is handed to, and its sender.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmtpFile {
    url: Option<String>,
    from: Option<String>,
}

/// `[identity_checks]`: the exchange's side of step-up identity checks.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityChecksFile {
    /// POSTed `{"user_id", "code"}` (signed like webhooks); answers `{"valid": bool}`.
    totp_url: Option<String>,
}

/// `[shield]`: the official channels and the exchange's API secret patterns, until an admin
/// saves them on the Security page.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShieldFile {
    #[serde(default)]
    official_domains: Vec<String>,
    #[serde(default)]
    official_emails: Vec<String>,
    #[serde(default)]
    official_telegram: Vec<String>,
    #[serde(default)]
    official_phones: Vec<String>,
    #[serde(default)]
    official_agent_ids: Vec<String>,
    #[serde(default)]
    allowed_link_domains: Vec<String>,
    /// `[[shield.secret_patterns]]` with `name` and `pattern`.
    #[serde(default)]
    secret_patterns: Vec<kefu_app::shield::SecretPatternSetting>,
}

/// `[bot]`: the bot's flows file and the language model for its generated answers.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct BotFile {
    flows: Option<PathBuf>,
    llm_url: Option<String>,
    llm_model: Option<String>,
    llm_key: Option<String>,
}

/// `[help_center]`: the exchange's branding on the public help center.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct HelpCenterFile {
    name: Option<String>,
    logo_url: Option<String>,
    primary_color: Option<String>,
    home_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub config_file: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub database_url: Option<SecretString>,
    pub listen: SocketAddr,
    pub public_url: Option<String>,
    pub trust_proxy: bool,
    pub log_format: LogFormat,
    pub log: String,
    pub session_idle: Duration,
    pub lockout_after: u32,
    pub lockout_for: Duration,
    pub ip_lockout_after: u32,
    pub ip_lockout_for: Duration,
    pub max_body_bytes: usize,
    pub max_attachment_bytes: usize,
    /// `None` when `[help_center]` names no exchange: demo mode then brands it as the demo's.
    pub help_name: Option<String>,
    pub help: kefu_web::routes::help::HelpBranding,
    pub bot_flows_file: Option<PathBuf>,
    pub bot_flows: std::sync::Arc<kefu_bot::Flows>,
    pub llm: Option<kefu_app::bot::llm::LlmConfig>,
    pub shield: kefu_app::shield::ShieldConfig,
    pub smtp: Option<kefu_app::mail::SmtpConfig>,
    pub totp_check_url: Option<String>,
    /// From `KEFU_MASTER_KEY`; `None`: the data directory's key file.
    pub keyring: Option<std::sync::Arc<kefu_blob::Keyring>>,
}

fn positive<T: PartialOrd + Default + std::fmt::Display>(name: &str, v: T) -> Result<T, String> {
    if v > T::default() { Ok(v) } else { Err(format!("{name} must be greater than 0 (got {v})")) }
}

impl Config {
    /// Resolves the layers. `listen` is the serve flag (or `KEFU_LISTEN`), when given.
    pub fn load(args: &ConfigArgs, listen: Option<&str>) -> Result<Self, String> {
        let (file, config_file) = match &args.config {
            Some(p) => (read_file(p)?, Some(p.clone())),
            None if Path::new("kefu.toml").exists() => (read_file(Path::new("kefu.toml"))?, Some(PathBuf::from("kefu.toml"))),
            None => (FileConfig::default(), None),
        };
        let listen_raw = listen.map(str::to_string).or(file.listen).unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_raw.parse().map_err(|_| format!("listen: {listen_raw:?} is not an address like 127.0.0.1:8080"))?;
        let database_url = args.database_url.clone().or(file.database_url).filter(|s| !s.is_empty());
        if let Some(u) = &database_url
            && !(u.starts_with("postgres://") || u.starts_with("postgresql://") || u.starts_with("sqlite:"))
        {
            return Err("database_url must start with postgres://, postgresql:// or sqlite:".into());
        }
        let public_url = args.public_url.clone().or(file.public_url).filter(|s| !s.is_empty());
        if let Some(u) = &public_url {
            let parsed = url::Url::parse(u).map_err(|e| format!("public_url: {u:?} is not a URL ({e})"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!("public_url: {u:?} must be http:// or https://"));
            }
        }
        let log = args.log.clone().or(file.log).unwrap_or_else(|| "info".into());
        tracing_subscriber::EnvFilter::try_new(&log).map_err(|e| format!("log: {log:?} is not a log filter ({e})"))?;
        let minutes = |m: u64| Duration::from_secs(m * 60);
        let hc = file.help_center.unwrap_or_default();
        let mut help = kefu_web::routes::help::HelpBranding::default();
        let help_name = hc.name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        if let Some(n) = &help_name {
            if n.chars().count() > 80 {
                return Err("help_center.name must be at most 80 characters".into());
            }
            help.name = n.clone();
        }
        if let Some(c) = hc.primary_color {
            let ok = c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit());
            if !ok {
                return Err(format!("help_center.primary_color: {c:?} must be a colour like #1a73e8"));
            }
            help.primary_color = c;
        }
        for (key, value, slot) in [("logo_url", hc.logo_url, &mut help.logo_url), ("home_url", hc.home_url, &mut help.home_url)] {
            if let Some(u) = value.filter(|u| !u.is_empty()) {
                let ok = url::Url::parse(&u).is_ok_and(|p| matches!(p.scheme(), "http" | "https"))
                    || (u.starts_with('/') && !u.starts_with("//"));
                if !ok {
                    return Err(format!("help_center.{key}: {u:?} must be an http(s) URL or a path"));
                }
                *slot = Some(u);
            }
        }
        let bot = file.bot.unwrap_or_default();
        let bot_flows_file = args.bot_flows.clone().or(bot.flows);
        let bot_flows = match &bot_flows_file {
            None => kefu_bot::Flows::shipped(),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| format!("bot.flows: cannot read {}: {e}", p.display()))?;
                kefu_bot::Flows::parse(&text).map_err(|errors| format!("bot.flows: {}: {}", p.display(), errors.join("; ")))?
            }
        };
        let llm = match args.llm_url.clone().or(bot.llm_url).filter(|u| !u.is_empty()) {
            None => None,
            Some(u) => {
                let ok = url::Url::parse(&u).is_ok_and(|p| matches!(p.scheme(), "http" | "https"));
                if !ok {
                    return Err(format!("bot.llm_url: {u:?} must be an http(s) URL"));
                }
                Some(kefu_app::bot::llm::LlmConfig {
                    url: u,
                    model: args.llm_model.clone().or(bot.llm_model).unwrap_or_else(|| "gpt-4o-mini".into()),
                    key: args.llm_key.clone().or(bot.llm_key).filter(|k| !k.is_empty()),
                    timeout: Duration::from_secs(8),
                })
            }
        };
        let sf = file.shield.unwrap_or_default();
        let settings = kefu_app::shield::ShieldSettings {
            official_domains: sf.official_domains,
            official_emails: sf.official_emails,
            official_telegram: sf.official_telegram,
            official_phones: sf.official_phones,
            official_agent_ids: sf.official_agent_ids,
            allowed_link_domains: sf.allowed_link_domains,
            secret_patterns: sf.secret_patterns,
            domains_from_environment: false,
        };
        let domains_override = args
            .official_domains
            .as_deref()
            .map(|d| d.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect::<Vec<_>>());
        let mut check = settings.clone();
        if let Some(d) = &domains_override {
            check.official_domains = d.clone();
        }
        if let Err(errors) = check.compile() {
            let env = if domains_override.is_some() { " (official_domains from KEFU_OFFICIAL_DOMAINS)" } else { "" };
            let list: Vec<String> = errors.iter().map(|e| format!("shield.{}: {}", e.field, e.message)).collect();
            return Err(format!("{}{env}", list.join("; ")));
        }
        let shield = kefu_app::shield::ShieldConfig { settings, domains_override };
        let smtp_file = file.smtp.unwrap_or_default();
        let smtp = match args.smtp_url.clone().or(smtp_file.url).filter(|u| !u.is_empty()) {
            None => None,
            Some(url) => {
                let from =
                    args.smtp_from.clone().or(smtp_file.from).filter(|f| !f.is_empty()).ok_or("smtp.from is required with smtp.url")?;
                let c = kefu_app::mail::SmtpConfig { url, from };
                c.validate()?;
                Some(c)
            }
        };
        let totp_check_url = args.totp_check_url.clone().or(file.identity_checks.unwrap_or_default().totp_url).filter(|u| !u.is_empty());
        if let Some(u) = &totp_check_url
            && !url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https"))
        {
            return Err(format!("identity_checks.totp_url: {u:?} must be an http(s) URL"));
        }
        // Only from the environment (a flag would show in the process list).
        let keyring = match std::env::var("KEFU_MASTER_KEY").ok().filter(|k| !k.trim().is_empty()) {
            None => None,
            Some(k) => Some(std::sync::Arc::new(kefu_blob::Keyring::parse(&k).map_err(|e| format!("KEFU_MASTER_KEY: {e}"))?)),
        };
        Ok(Config {
            keyring,
            smtp,
            totp_check_url,
            shield,
            bot_flows_file,
            bot_flows: std::sync::Arc::new(bot_flows),
            llm,
            help_name,
            help,
            config_file,
            data_dir: args.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from("kefu-data")),
            database_url: database_url.map(SecretString::from),
            listen,
            public_url,
            trust_proxy: args.trust_proxy.or(file.trust_proxy).unwrap_or(false),
            log_format: args.log_format.or(file.log_format).unwrap_or(LogFormat::Text),
            log,
            session_idle: Duration::from_secs(
                3600 * positive("session_idle_hours", args.session_idle_hours.or(file.session_idle_hours).unwrap_or(12))?,
            ),
            lockout_after: positive("lockout_after", args.lockout_after.or(file.lockout_after).unwrap_or(5))?,
            lockout_for: minutes(positive("lockout_minutes", args.lockout_minutes.or(file.lockout_minutes).unwrap_or(15))?),
            ip_lockout_after: positive("ip_lockout_after", args.ip_lockout_after.or(file.ip_lockout_after).unwrap_or(20))?,
            ip_lockout_for: minutes(positive("ip_lockout_minutes", args.ip_lockout_minutes.or(file.ip_lockout_minutes).unwrap_or(15))?),
            max_body_bytes: 1024 * positive("max_body_kib", args.max_body_kib.or(file.max_body_kib).unwrap_or(1024))?,
            max_attachment_bytes: 1024
                * 1024
                * positive("max_attachment_mib", args.max_attachment_mib.or(file.max_attachment_mib).unwrap_or(20))?,
        })
    }

    pub fn app_config(&self, demo: bool) -> kefu_app::AppConfig {
        kefu_app::AppConfig {
            demo,
            session_idle: self.session_idle,
            account_lock_after: self.lockout_after,
            account_lock_for: self.lockout_for,
            ip_lock_after: self.ip_lockout_after,
            ip_window: self.ip_lockout_for,
            ip_lock_for: self.ip_lockout_for,
            data_dir: self.data_dir.clone(),
            max_attachment_bytes: self.max_attachment_bytes,
            bot_flows: self.bot_flows.clone(),
            llm: self.llm.clone(),
            shield: self.shield.clone(),
            smtp: self.smtp.clone(),
            public_url: self.public_url.clone(),
            totp_check_url: self.totp_check_url.clone(),
            keyring: self.keyring.clone(),
            ..Default::default()
        }
    }

    pub fn web_config(&self, demo: bool) -> kefu_web::WebConfig {
        let mut help = self.help.clone();
        if demo && self.help_name.is_none() {
            help.name = kefu_app::demo::DEMO_EXCHANGE.into();
            help.home_url = help.home_url.or_else(|| Some("/demo".into()));
        }
        kefu_web::WebConfig {
            public_url: self.public_url.clone(),
            trust_proxy: self.trust_proxy,
            max_body_bytes: self.max_body_bytes,
            help,
        }
    }

    /// The official domains in force from configuration (`KEFU_OFFICIAL_DOMAINS` over `[shield]`).
    pub fn official_domains(&self) -> Vec<String> {
        self.shield.domains_override.clone().unwrap_or_else(|| self.shield.settings.official_domains.clone())
    }

    pub fn database_url(&self) -> Option<&str> {
        self.database_url.as_ref().map(|s| s.expose_secret())
    }

    /// The effective configuration as TOML, with the password in the database URL masked.
    pub fn render_masked(&self) -> String {
        let db = match self.database_url() {
            None => format!("(SQLite at {})", self.data_dir.join("kefu.db").display()),
            Some(u) => mask_url_password(u),
        };
        let rows: Vec<(&str, String)> = vec![
            ("config_file", self.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "(none)".into())),
            ("data_dir", self.data_dir.display().to_string()),
            ("database_url", db),
            ("listen", self.listen.to_string()),
            ("public_url", self.public_url.clone().unwrap_or_else(|| "(none)".into())),
            ("trust_proxy", self.trust_proxy.to_string()),
            ("log_format", format!("{:?}", self.log_format).to_lowercase()),
            ("log", self.log.clone()),
            ("session_idle_hours", (self.session_idle.as_secs() / 3600).to_string()),
            ("lockout_after", self.lockout_after.to_string()),
            ("lockout_minutes", (self.lockout_for.as_secs() / 60).to_string()),
            ("ip_lockout_after", self.ip_lockout_after.to_string()),
            ("ip_lockout_minutes", (self.ip_lockout_for.as_secs() / 60).to_string()),
            ("max_body_kib", (self.max_body_bytes / 1024).to_string()),
            ("max_attachment_mib", (self.max_attachment_bytes / 1024 / 1024).to_string()),
            ("help_center.name", self.help.name.clone()),
            ("help_center.primary_color", self.help.primary_color.clone()),
            ("help_center.logo_url", self.help.logo_url.clone().unwrap_or_else(|| "(none)".into())),
            ("help_center.home_url", self.help.home_url.clone().unwrap_or_else(|| "(none)".into())),
            ("bot.flows", self.bot_flows_file.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "(shipped)".into())),
            ("bot.llm_url", self.llm.as_ref().map(|l| l.url.clone()).unwrap_or_else(|| "(none)".into())),
            ("bot.llm_model", self.llm.as_ref().map(|l| l.model.clone()).unwrap_or_else(|| "(none)".into())),
            (
                "bot.llm_key",
                self.llm.as_ref().and_then(|l| l.key.as_ref()).map(|_| "********".to_string()).unwrap_or_else(|| "(none)".into()),
            ),
            ("shield.official_domains", self.official_domains().join(", ")),
            ("smtp.url", self.smtp.as_ref().map(|c| mask_url_password(&c.url)).unwrap_or_else(|| "(none)".into())),
            ("smtp.from", self.smtp.as_ref().map(|c| c.from.clone()).unwrap_or_else(|| "(none)".into())),
            (
                "master_key",
                match &self.keyring {
                    Some(k) => format!("KEFU_MASTER_KEY ({} keys, sealing with {})", k.len(), k.current_id()),
                    None => format!("{} (made on first start)", kefu_app::key_file(&self.data_dir).display()),
                },
            ),
            ("identity_checks.totp_url", self.totp_check_url.clone().unwrap_or_else(|| "(none)".into())),
            ("shield.secret_patterns", self.shield.settings.secret_patterns.iter().map(|p| p.name.clone()).collect::<Vec<_>>().join(", ")),
        ];
        rows.into_iter().map(|(k, v)| format!("{k} = {v:?}\n")).collect()
    }
}

fn read_file(p: &Path) -> Result<FileConfig, String> {
    let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
}

fn mask_url_password(u: &str) -> String {
    match url::Url::parse(u) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("********"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "(unparsable)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_database_urls_are_masked() {
        assert_eq!(mask_url_password("postgres://kefu:s3cret@db:5432/kefu"), "postgres://kefu:********@db:5432/kefu");
        assert_eq!(mask_url_password("postgres://db/kefu"), "postgres://db/kefu");
    }
}
