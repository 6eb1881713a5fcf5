//! Help-center search: the in-memory article index every node keeps in step with the database,
//! the one search use case the help center, the widget, the console and the bot share, and the
//! search log behind the analytics.
//!
//! The index catches up by revision: every article change takes the next value of a counter in
//! the database, so a node (or a command-line import on the same database) changes what every
//! node finds within a second, with no message between them.

use super::{Categories, markdown};
use crate::service::{Service, Shutdown};
use crate::{App, AppError, AppResult, Principal};
use kefu_domain::inbox::parse_locale;
use kefu_domain::kb::{ArticleHit, ArticleSearch};
use kefu_domain::{FieldError, Id};
use kefu_search::{ArticleDoc, ArticleIndex, ArticleQuery, SearchError};
use kefu_store::{KbArticleRow, KbSearchEvent, micros};
use std::sync::Arc;
use std::time::Duration;

/// How often a node looks for changes made elsewhere (another node, the command line).
const POLL_EVERY: Duration = Duration::from_secs(1);

/// Articles read per query while catching up.
const SYNC_BATCH: i64 = 1_000;

/// The search log is written at most this often, in one transaction.
const LOG_EVERY: Duration = Duration::from_secs(1);

/// Searches held for the log at most; past this, new ones are not logged until it drains.
const LOG_BACKLOG: usize = 50_000;

/// The settings key of the synonym groups.
pub(crate) const SYNONYMS_KEY: &str = "kb_synonyms";

/// The synonyms a new help center starts with: words customers use for the same thing.
pub(crate) const DEFAULT_SYNONYMS: &[&[&str]] = &[
    &[
        "2fa",
        "二次验证",
        "双重验证",
        "两步验证",
        "谷歌验证器",
        "谷歌验证",
        "google authenticator",
        "身份验证器",
        "authenticator",
        "two-factor",
    ],
    &["提币", "提现", "提領", "出金", "转出", "withdraw", "withdrawal"],
    &["充值", "充币", "入金", "存入", "转入", "deposit"],
    &["到账", "入账", "credited", "arrived"],
    &["memo", "tag", "备注", "标签", "destination tag"],
    &["助记词", "seed phrase", "mnemonic", "recovery phrase"],
    &["kyc", "实名认证", "身份认证", "identity verification"],
    &["手续费", "费率", "fee", "fees"],
    &["钓鱼", "诈骗", "phishing", "scam"],
    &["冻结", "锁定", "锁住", "封号", "frozen", "locked"],
    &["拒绝", "被拒", "驳回", "不通过", "失败", "rejected", "declined", "failed"],
    &["官方", "真假", "official", "genuine", "legit"],
    &["注册", "开户", "sign up", "register", "create account"],
    &["成交", "filled", "executed"],
    &["现货", "币币", "spot"],
    &["api key", "api 密钥", "api密钥", "api 金鑰"],
];

/// Where a search came from; kept in the log so admins can tell readers from agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchSource {
    HelpCenter,
    Widget,
    Console,
    Bot,
    Api,
}

impl SearchSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HelpCenter => "help_center",
            Self::Widget => "widget",
            Self::Console => "console",
            Self::Bot => "bot",
            Self::Api => "api",
        }
    }
}

#[derive(Debug, Clone)]
pub struct KbSearchRequest {
    pub q: String,
    pub locale: Option<String>,
    pub limit: usize,
    pub source: SearchSource,
    /// Record the search for analytics (suggestions while typing should not).
    pub track: bool,
    /// Drafts too: editors only.
    pub include_drafts: bool,
    pub kind: Option<String>,
}

/// What the index has caught up to.
#[derive(Default)]
struct Mark {
    built: bool,
    revision: i64,
    rebuild: i64,
}

#[derive(Default)]
pub(crate) struct KbState {
    index: tokio::sync::OnceCell<Arc<ArticleIndex>>,
    mark: tokio::sync::Mutex<Mark>,
    /// Whether the index was built once.
    pub(crate) built: std::sync::atomic::AtomicBool,
    /// The revision the index shows, for the pages' cache.
    pub(crate) shown: std::sync::atomic::AtomicI64,
    log: std::sync::OnceLock<tokio::sync::mpsc::Sender<KbSearchEvent>>,
    log_rx: std::sync::Mutex<Option<tokio::sync::mpsc::Receiver<KbSearchEvent>>>,
    pub(crate) pages: super::pages::PageCache,
}

impl KbState {
    pub(crate) fn new() -> Self {
        let (tx, rx) = tokio::sync::mpsc::channel(LOG_BACKLOG);
        let state = Self { log_rx: std::sync::Mutex::new(Some(rx)), ..Default::default() };
        let _ = state.log.set(tx);
        state
    }
}

/// A query as stored for analytics: e-mail addresses, long numbers and long ids replaced, so the
/// log holds what people look for and not who they are.
pub(crate) fn scrub_query(q: &str) -> String {
    let printable: String = q.chars().filter(|c| !c.is_control()).collect();
    let words: Vec<String> = printable
        .split_whitespace()
        .map(|w| {
            let digits = w.chars().filter(char::is_ascii_digit).count();
            if w.contains('@') && w.contains('.') {
                "[email]".to_string()
            } else if digits >= 6 {
                "[number]".to_string()
            } else if w.len() >= 20 && w.chars().all(|c| c.is_ascii_alphanumeric()) {
                "[id]".to_string()
            } else {
                w.to_string()
            }
        })
        .collect();
    words.join(" ").chars().take(200).collect()
}

fn doc(r: KbArticleRow, cats: &Categories) -> ArticleDoc {
    ArticleDoc {
        category: r.category_id.as_ref().and_then(|c| cats.slug_of.get(c).cloned()).unwrap_or_default(),
        tags: serde_json::from_str(&r.tags).unwrap_or_default(),
        body: markdown::to_text(&r.body),
        id: r.id,
        slug: r.slug,
        locale: r.locale,
        group: r.group_id,
        kind: r.kind,
        status: r.status,
        title: r.title,
        summary: r.summary,
    }
}

impl App {
    async fn kb_index(&self) -> AppResult<Arc<ArticleIndex>> {
        self.0
            .kb
            .index
            .get_or_try_init(|| async {
                let index = tokio::task::spawn_blocking(ArticleIndex::in_memory).await.map_err(AppError::internal)?;
                index.map(Arc::new).map_err(AppError::internal)
            })
            .await
            .cloned()
    }

    /// The synonym groups in use.
    pub async fn kb_synonyms(&self) -> AppResult<Vec<Vec<String>>> {
        match self.store().setting(SYNONYMS_KEY).await? {
            Some(raw) => Ok(serde_json::from_str(&raw).unwrap_or_default()),
            None => Ok(DEFAULT_SYNONYMS.iter().map(|g| g.iter().map(|w| w.to_string()).collect()).collect()),
        }
    }

    /// Replaces the synonym groups; every node's search uses them within a second.
    pub async fn set_kb_synonyms(&self, p: &Principal, groups: Vec<Vec<String>>) -> AppResult<Vec<Vec<String>>> {
        Self::require_kb_manager(p)?;
        let mut clean: Vec<Vec<String>> = Vec::new();
        let mut errors = Vec::new();
        if groups.len() > 500 {
            errors.push(FieldError::new("groups", "at most 500"));
        }
        for (i, g) in groups.iter().take(500).enumerate() {
            let mut words: Vec<String> = Vec::new();
            for w in g {
                let w = w.trim().to_lowercase();
                if w.is_empty() || w.chars().count() > 60 || w.chars().any(char::is_control) {
                    errors.push(FieldError::new(&format!("groups[{i}]"), "each word must be 1 to 60 characters"));
                } else if !words.contains(&w) {
                    words.push(w);
                }
            }
            if words.len() < 2 || words.len() > 30 {
                errors.push(FieldError::new(&format!("groups[{i}]"), "needs 2 to 30 different words"));
            }
            clean.push(words);
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let now = micros(self.now());
        self.store().put_setting(SYNONYMS_KEY, &serde_json::to_string(&clean).map_err(AppError::internal)?, now).await?;
        self.store().request_kb_rebuild().await?;
        self.audit(&crate::audit::Actor::agent(p), "kb.synonyms.changed", None, serde_json::json!({"groups": clean.len()})).await?;
        self.kb_changed().await;
        Ok(clean)
    }

    /// Asks every node to rebuild its help-center index from the database.
    pub async fn request_kb_rebuild(&self) -> AppResult<i64> {
        let n = self.store().request_kb_rebuild().await?;
        self.kb_changed().await;
        Ok(n)
    }

    /// Brings this node's index up to date after a change made here; a failure is logged, as the
    /// poll retries it within a second.
    pub(crate) async fn kb_changed(&self) {
        if let Err(e) = self.kb_sync().await {
            tracing::error!(error = %e, "help-center index update failed");
        }
    }

    /// Catches the index up with the database: everything when never built or a rebuild was
    /// asked for, else the articles changed since the last time. Returns the articles indexed.
    pub async fn kb_sync(&self) -> AppResult<u64> {
        let index = self.kb_index().await?;
        let mut mark = self.0.kb.mark.lock().await;
        let (revision, rebuild) = self.store().kb_state().await?;
        let full = !mark.built || rebuild != mark.rebuild;
        if !full && revision == mark.revision {
            return Ok(index.num_docs());
        }
        let started = std::time::Instant::now();
        let cats = self.kb_category_map().await?;
        let mut from = mark.revision;
        if full {
            index.set_synonyms(&self.kb_synonyms().await?);
            index.clear().map_err(AppError::internal)?;
            from = 0;
        }
        let mut seen = from;
        loop {
            let (changed, deleted) = self.store().kb_changes_since(seen, SYNC_BATCH).await?;
            if changed.is_empty() && deleted.is_empty() {
                break;
            }
            // Stop this batch where either list was cut, so nothing in between is skipped.
            let mut upto = i64::MAX;
            if changed.len() as i64 == SYNC_BATCH {
                upto = upto.min(changed.last().map_or(i64::MAX, |r| r.revision));
            }
            if deleted.len() as i64 == SYNC_BATCH {
                upto = upto.min(deleted.last().map_or(i64::MAX, |d| d.1));
            }
            let mut top = seen;
            let docs: Vec<ArticleDoc> =
                changed.into_iter().filter(|r| r.revision <= upto).inspect(|r| top = top.max(r.revision)).map(|r| doc(r, &cats)).collect();
            let gone: Vec<String> = deleted.into_iter().filter(|d| d.1 <= upto).inspect(|d| top = top.max(d.1)).map(|d| d.0).collect();
            let index = index.clone();
            tokio::task::spawn_blocking(move || -> kefu_search::Result<()> {
                for id in &gone {
                    index.delete(id)?;
                }
                index.upsert(&docs)
            })
            .await
            .map_err(AppError::internal)?
            .map_err(AppError::internal)?;
            if top == seen {
                break;
            }
            seen = top;
        }
        let committing = index.clone();
        tokio::task::spawn_blocking(move || committing.commit()).await.map_err(AppError::internal)?.map_err(AppError::internal)?;
        *mark = Mark { built: true, revision: seen.max(revision), rebuild };
        self.0.kb.shown.store(mark.revision, std::sync::atomic::Ordering::Release);
        self.0.kb.built.store(true, std::sync::atomic::Ordering::Release);
        if full {
            tracing::info!(articles = index.num_docs(), ms = started.elapsed().as_millis() as u64, "help-center index built");
        }
        Ok(index.num_docs())
    }

    pub(crate) async fn kb_ready_index(&self) -> AppResult<Arc<ArticleIndex>> {
        if !self.0.kb.built.load(std::sync::atomic::Ordering::Acquire) {
            self.kb_sync().await?;
        }
        self.kb_index().await
    }

    /// Searches the help center. Readers (no principal) see published articles only.
    pub async fn kb_search(&self, viewer: Option<&Principal>, req: KbSearchRequest) -> AppResult<ArticleSearch> {
        let started = std::time::Instant::now();
        let q = req.q.trim();
        let mut errors = Vec::new();
        if q.is_empty() {
            errors.push(FieldError::new("q", "must not be empty"));
        } else if q.chars().count() > 200 {
            errors.push(FieldError::new("q", "must be at most 200 characters"));
        }
        let locale = match req.locale.as_deref() {
            Some(l) => crate::error::collect(&mut errors, parse_locale("locale", l)),
            None => None,
        };
        if !(1..=kefu_search::articles::MAX_HITS).contains(&req.limit) {
            errors.push(FieldError::new("limit", format!("must be 1 to {}", kefu_search::articles::MAX_HITS)));
        }
        if let Some(k) = &req.kind
            && kefu_domain::kb::ArticleKind::parse(k).is_none()
        {
            errors.push(FieldError::new("kind", "must be article or announcement"));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        if req.include_drafts {
            let p = viewer.ok_or(AppError::Unauthenticated)?;
            p.require_enrolled()?;
        }
        let query = ArticleQuery {
            text: q.to_string(),
            locale: locale.clone(),
            published_only: !req.include_drafts,
            kind: req.kind.clone(),
            category: None,
            limit: req.limit,
        };
        let index = self.kb_ready_index().await?;
        let hits = match tokio::task::spawn_blocking(move || index.search(&query)).await.map_err(AppError::internal)? {
            Ok(h) => h,
            Err(SearchError::EmptyQuery) => return Err(AppError::Validation(vec![FieldError::new("q", "has no words to search for")])),
            Err(e) => return Err(AppError::internal(e)),
        };
        let search_id = req.track.then(|| Id::new().to_string());
        if let Some(id) = &search_id {
            self.kb_log(KbSearchEvent::Search {
                id: id.clone(),
                query: scrub_query(q),
                locale: locale.unwrap_or_else(|| "any".into()),
                source: req.source.as_str().into(),
                results: hits.len() as i64,
                created_at: micros(self.now()),
            });
        }
        let hits = hits
            .into_iter()
            .map(|h| {
                let mut url = markdown::article_path(&h.locale, &h.slug);
                if let Some(id) = &search_id {
                    url.push_str("?sid=");
                    url.push_str(id);
                }
                ArticleHit {
                    id: h.id,
                    slug: h.slug,
                    locale: h.locale,
                    title: h.title,
                    summary: h.summary,
                    score: h.score,
                    snippet: h.snippet,
                    highlights: h.highlights,
                    url,
                }
            })
            .collect();
        Ok(ArticleSearch { search_id, hits, took_ms: started.elapsed().as_secs_f64() * 1000.0 })
    }

    /// Records that a reader opened `article_id` from the search `search_id`.
    pub fn kb_record_click(&self, search_id: &str, article_id: &str) -> AppResult<()> {
        let mut errors = Vec::new();
        if Id::parse(search_id).is_none() {
            errors.push(FieldError::new("search_id", "is not a search id"));
        }
        if Id::parse(article_id).is_none() {
            errors.push(FieldError::new("article_id", "is not an article id"));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        self.kb_log(KbSearchEvent::Click { search_id: search_id.to_string(), article_id: article_id.to_string() });
        Ok(())
    }

    fn kb_log(&self, event: KbSearchEvent) {
        if let Some(tx) = self.0.kb.log.get()
            && tx.try_send(event).is_err()
        {
            tracing::warn!("search log backlog full: a search was not recorded");
        }
    }
}

/// Writes the search log in batches.
pub struct KbSearchLog {
    app: App,
    rx: tokio::sync::Mutex<tokio::sync::mpsc::Receiver<KbSearchEvent>>,
}

impl KbSearchLog {
    pub fn new(app: &App) -> Option<Arc<Self>> {
        let rx = app.0.kb.log_rx.lock().ok()?.take()?;
        Some(Arc::new(Self { app: app.clone(), rx: tokio::sync::Mutex::new(rx) }))
    }
}

#[async_trait::async_trait]
impl Service for KbSearchLog {
    fn name(&self) -> &'static str {
        "kb-search-log"
    }

    async fn run(self: Arc<Self>, mut shutdown: Shutdown) {
        let mut rx = self.rx.lock().await;
        loop {
            let first = tokio::select! {
                _ = shutdown.wait() => break,
                e = rx.recv() => match e { Some(e) => e, None => break },
            };
            tokio::select! {
                _ = shutdown.wait() => {},
                _ = tokio::time::sleep(LOG_EVERY) => {},
            }
            let mut batch = vec![first];
            while let Ok(e) = rx.try_recv() {
                batch.push(e);
            }
            if let Err(e) = self.app.store().record_kb_searches(&batch).await {
                tracing::error!(error = %e, searches = batch.len(), "search log write failed");
            }
            if shutdown.is_shutting_down() {
                break;
            }
        }
        let mut rest = Vec::new();
        while let Ok(e) = rx.try_recv() {
            rest.push(e);
        }
        if !rest.is_empty()
            && let Err(e) = self.app.store().record_kb_searches(&rest).await
        {
            tracing::error!(error = %e, "final search log write failed");
        }
    }
}

/// Keeps this node's help-center index in step with changes made elsewhere.
pub struct KbIndexer {
    app: App,
}

impl KbIndexer {
    pub fn new(app: &App) -> Arc<Self> {
        Arc::new(Self { app: app.clone() })
    }
}

#[async_trait::async_trait]
impl Service for KbIndexer {
    fn name(&self) -> &'static str {
        "kb-indexer"
    }

    async fn run(self: Arc<Self>, mut shutdown: Shutdown) {
        loop {
            if let Err(e) = self.app.kb_sync().await {
                tracing::error!(error = %e, "help-center index sync failed");
            }
            tokio::select! {
                _ = shutdown.wait() => break,
                _ = tokio::time::sleep(POLL_EVERY) => {},
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::scrub_query;

    #[test]
    fn the_log_keeps_no_personal_data() {
        assert_eq!(scrub_query("withdrawal alice@example.com 12345678"), "withdrawal [email] [number]");
        assert_eq!(scrub_query("txid 0x3f5a9c1b2d4e6f7a8b9c0d1e2f3a4b5c6d7e8f90"), "txid [number]");
        assert_eq!(scrub_query("忘记密码 2fa"), "忘记密码 2fa");
    }
}
