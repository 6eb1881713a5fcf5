//! Kefu's use cases. Each public function is one thing a person or a system asks Kefu to do;
//! it validates, applies the rules, calls the store and the ports, and records what happened.

pub mod agents;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod bot;
pub mod chat;
pub mod chat_follow_up;
pub mod contacts;
pub mod conversations;
pub mod demo;
mod error;
pub mod idempotency;
pub mod identity_check;
pub mod jobs;
pub mod kb;
pub mod library;
pub mod mail;
pub mod pii;
pub mod portal;
pub mod presence;
pub mod retention;
pub mod search;
mod secrets;
pub mod service;
pub mod settings;
pub mod shield;
pub mod tokens;
pub mod twofactor;
pub mod webhooks;

pub use auth::{Principal, Via};
pub use error::{AppError, AppResult};
pub use jobs::{JobHandler, JobRegistry};
pub use secrets::constant_time_eq;

use chrono::{DateTime, Utc};
use kefu_domain::{BlobStore, Clock, EventBus};
use kefu_store::Store;
use std::sync::Arc;
use std::time::Duration;

/// The rules that an operator may tune.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Demo mode: demo data is seeded and two-factor is not enforced.
    pub demo: bool,
    /// A session ends after this long without use.
    pub session_idle: Duration,
    /// Failed sign-ins in a row that lock an account, and for how long.
    pub account_lock_after: u32,
    pub account_lock_for: Duration,
    /// Failed sign-ins from one address within `ip_window` that lock the address out.
    pub ip_lock_after: u32,
    pub ip_window: Duration,
    pub ip_lock_for: Duration,
    /// Shown in authenticator apps next to the account.
    pub totp_issuer: String,
    /// How long a worker holds a job before another may take it over.
    pub job_lease: Duration,
    pub job_poll: Duration,
    /// Where attachments (`blobs/`) and the search index (`search/`) live.
    pub data_dir: std::path::PathBuf,
    /// Largest attachment accepted, in bytes.
    pub max_attachment_bytes: usize,
    /// The bot's guided flows (the shipped ones unless an operator gave a file).
    pub bot_flows: Arc<kefu_bot::Flows>,
    /// The language model for the bot's generated answers, when configured.
    pub llm: Option<bot::llm::LlmConfig>,
    /// The shield's starting configuration (`[shield]`, `KEFU_OFFICIAL_DOMAINS`).
    pub shield: shield::ShieldConfig,
    /// The SMTP server for outbound e-mail (`[smtp]`); without it nothing is mailed.
    pub smtp: Option<mail::SmtpConfig>,
    /// Where customers reach Kefu (`public_url`): links in mail point there; without it mail
    /// carries no links.
    pub public_url: Option<String>,
    /// The exchange's endpoint that checks a customer's authenticator code
    /// (`[identity_checks] totp_url`); without it that method is not offered.
    pub totp_check_url: Option<String>,
    /// The master keys that seal attachments at rest (`KEFU_MASTER_KEY`); without them the key
    /// file in the data directory is used, made on first start.
    pub keyring: Option<Arc<kefu_blob::Keyring>>,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            demo: false,
            session_idle: Duration::from_secs(12 * 3600),
            account_lock_after: 5,
            account_lock_for: Duration::from_secs(15 * 60),
            ip_lock_after: 20,
            ip_window: Duration::from_secs(15 * 60),
            ip_lock_for: Duration::from_secs(15 * 60),
            totp_issuer: "Kefu".into(),
            job_lease: Duration::from_secs(300),
            job_poll: Duration::from_secs(1),
            data_dir: std::path::PathBuf::from("kefu-data"),
            max_attachment_bytes: 20 * 1024 * 1024,
            bot_flows: Arc::new(kefu_bot::Flows::shipped()),
            llm: None,
            shield: Default::default(),
            smtp: None,
            public_url: None,
            totp_check_url: None,
            keyring: None,
        }
    }
}

#[derive(Clone)]
pub struct App(Arc<Inner>);

struct Inner {
    store: Store,
    bus: Arc<dyn EventBus>,
    clock: Arc<dyn Clock>,
    config: AppConfig,
    jobs: JobRegistry,
    /// Verified against when the e-mail is unknown, so a miss costs as long as a hit.
    dummy_hash: String,
    security_cache: std::sync::Mutex<Option<(std::time::Instant, settings::SecuritySettings)>>,
    /// Opened on first use (it reads or makes the master key): commands that never touch
    /// attachments leave the data directory alone.
    blobs: std::sync::Mutex<Option<Arc<dyn BlobStore>>>,
    /// The master keys, read (or made) on first use.
    keyring: std::sync::Mutex<Option<Arc<kefu_blob::Keyring>>>,
    /// Contacts' identities sealed at rest, opened on first use.
    pii: tokio::sync::OnceCell<Arc<pii::PiiVault>>,
    /// Opened on first use: command-line runs never need it, and it may be held by a server.
    search: std::sync::Mutex<Option<Arc<kefu_search::ConversationIndex>>>,
    /// Conversations waiting to be (re)indexed; the indexer service drains it.
    index_queue: tokio::sync::mpsc::UnboundedSender<String>,
    index_rx: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<String>>>,
    presence: presence::PresenceMap,
    availability: presence::Availability,
    token_cache: auth::TokenCache,
    /// Signs live-chat attachment URLs; read (or made) once.
    chat_key: tokio::sync::OnceCell<Vec<u8>>,
    /// The recent median first-reply time of chats, and when it was read.
    chat_median: std::sync::Mutex<Option<(std::time::Instant, i64)>>,
    /// The help center's search index, its catch-up mark, search log and page cache.
    kb: kb::index::KbState,
    /// The bot's trained model.
    bot: bot::BotState,
    /// The compiled shield and its settings, read again after a few seconds.
    shield: shield::ShieldCache,
    /// Outbound e-mail, when an SMTP server is configured.
    mailer: Option<Arc<mail::Mailer>>,
    /// Calls the exchange (authenticator-code checks).
    exchange_http: reqwest::Client,
}

impl App {
    pub fn new(store: Store, bus: Arc<dyn EventBus>, clock: Arc<dyn Clock>, config: AppConfig, jobs: JobRegistry) -> AppResult<Self> {
        let dummy_hash = secrets::hash_password("kefu-dummy-password-for-timing")?;
        let (index_queue, index_rx) = tokio::sync::mpsc::unbounded_channel();
        let mailer = config.smtp.as_ref().map(mail::Mailer::new).transpose().map_err(AppError::internal)?.map(Arc::new);
        let exchange_http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        Ok(Self(Arc::new(Inner {
            store,
            bus,
            clock,
            config,
            jobs,
            dummy_hash,
            security_cache: Default::default(),
            blobs: Default::default(),
            keyring: Default::default(),
            pii: Default::default(),
            search: Default::default(),
            index_queue,
            index_rx: std::sync::Mutex::new(Some(index_rx)),
            presence: Default::default(),
            availability: Default::default(),
            token_cache: Default::default(),
            chat_key: Default::default(),
            chat_median: Default::default(),
            kb: kb::index::KbState::new(),
            bot: Default::default(),
            shield: Default::default(),
            mailer,
            exchange_http,
        })))
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    pub fn bus(&self) -> &Arc<dyn EventBus> {
        &self.0.bus
    }

    pub fn config(&self) -> &AppConfig {
        &self.0.config
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.0.clock.now()
    }

    /// The conversation search index, opened on first use.
    pub(crate) fn search_index(&self) -> AppResult<Arc<kefu_search::ConversationIndex>> {
        let mut guard = self.0.search.lock().map_err(|_| AppError::internal("search index lock poisoned"))?;
        if let Some(i) = guard.as_ref() {
            return Ok(i.clone());
        }
        let index = Arc::new(open_search_index(&self.0.config.data_dir.join("search"))?);
        *guard = Some(index.clone());
        Ok(index)
    }

    /// The attachment store, sealing under the master key (`KEFU_MASTER_KEY`, or the data
    /// directory's key file, made with a warning the first time). `serve` opens it at start.
    pub fn blobs(&self) -> AppResult<Arc<dyn BlobStore>> {
        let mut slot = self.0.blobs.lock().map_err(|_| AppError::internal("blob store lock poisoned"))?;
        if let Some(b) = slot.as_ref() {
            return Ok(b.clone());
        }
        let store: Arc<dyn BlobStore> = Arc::new(kefu_blob::FsBlobStore::sealed(self.0.config.data_dir.join("blobs"), self.keyring()?));
        *slot = Some(store.clone());
        Ok(store)
    }

    /// The master keys (`KEFU_MASTER_KEY`, or the data directory's key file, made with a
    /// warning the first time).
    pub(crate) fn keyring(&self) -> AppResult<Arc<kefu_blob::Keyring>> {
        // Held while the key file is made, so that two first uses never make two keys.
        let mut slot = self.0.keyring.lock().map_err(|_| AppError::internal("keyring lock poisoned"))?;
        if let Some(k) = slot.as_ref() {
            return Ok(k.clone());
        }
        let keyring = match &self.0.config.keyring {
            Some(k) => k.clone(),
            None => Arc::new(load_key_file(&self.0.config.data_dir)?),
        };
        *slot = Some(keyring.clone());
        Ok(keyring)
    }

    /// Outbound e-mail, when an SMTP server is configured.
    pub fn mailer(&self) -> Option<&Arc<mail::Mailer>> {
        self.0.mailer.as_ref()
    }

    pub(crate) fn exchange_http(&self) -> &reqwest::Client {
        &self.0.exchange_http
    }

    pub(crate) fn job_registry(&self) -> &JobRegistry {
        &self.0.jobs
    }

    /// Whether the database answers: the readiness probe.
    pub async fn ready(&self) -> AppResult<()> {
        Ok(self.0.store.ping().await?)
    }
}

/// The file that holds the master keys when `KEFU_MASTER_KEY` is not set.
pub fn key_file(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("master.key")
}

/// The keyring of the data directory's key file, made (with a warning) on first start.
fn load_key_file(data_dir: &std::path::Path) -> AppResult<kefu_blob::Keyring> {
    let path = key_file(data_dir);
    let (keyring, created) = kefu_blob::Keyring::load_or_create(&path).map_err(AppError::internal)?;
    if created {
        tracing::warn!(
            path = %path.display(),
            "made a new master key to seal attachments and contact details at rest: keep a copy apart from the data (without it they cannot be read), or give one in KEFU_MASTER_KEY"
        );
    }
    Ok(keyring)
}

/// Opens the search index, starting afresh when it was written by an incompatible version (the
/// indexer then rebuilds it from the database).
fn open_search_index(dir: &std::path::Path) -> AppResult<kefu_search::ConversationIndex> {
    std::fs::create_dir_all(dir).map_err(|e| AppError::internal(format!("cannot create {}: {e}", dir.display())))?;
    match kefu_search::ConversationIndex::open(dir) {
        Ok(i) => Ok(i),
        Err(kefu_search::SearchError::IncompatibleIndex { .. }) => {
            tracing::warn!(dir = %dir.display(), "search index is from another version: rebuilding it");
            std::fs::remove_dir_all(dir).map_err(AppError::internal)?;
            std::fs::create_dir_all(dir).map_err(AppError::internal)?;
            kefu_search::ConversationIndex::open(dir).map_err(AppError::internal)
        }
        Err(e) => Err(AppError::internal(e)),
    }
}

pub(crate) fn add(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
