//! The support bot at work: it answers customers' chats first, from the help center and its
//! guided flows, and steps aside for a person when it should. This module keeps the trained
//! model, the settings, each conversation's dialogue state, the handoff to agents and the bot's
//! reports; the dialogue itself is `kefu_bot`'s.

pub mod llm;

use crate::conversations::{NewMessageInput, Posted, activity};
use crate::service::{Service, Shutdown};
use crate::{App, AppError, AppResult, Principal};
use kefu_bot::{Article, Bot, Classifier, HandoffReason, Knowledge, Lang, Outcome, Reply, State, Turn, Verdict};
use kefu_domain::events::DomainEvent;
use kefu_domain::{ArticleLink, AuthorKind, Channel, FieldError, Id, MessageActions, Priority, Role, Status};
use kefu_search::ArticleIndex;
use kefu_store::{BotExampleRow, ConversationChanges, ConversationRow, NewBotTurn, micros};
use std::sync::Arc;
use std::time::Duration;

const SETTINGS_KEY: &str = "bot";
/// Bumped whenever the examples change, so that every node retrains.
const REVISION_KEY: &str = "bot_examples_revision";
/// How often a node looks for chats waiting on the bot (after a restart, or a missed event) and
/// for new examples.
const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// Customer messages answered per conversation and sweep, at most.
const MAX_PENDING: i64 = 20;
const TAG_HANDOFF: &str = "bot-handoff";

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BotSettings {
    /// The bot answers new chats first.
    #[serde(default)]
    pub enabled: bool,
    /// The name customers see on its messages.
    #[serde(default = "default_name")]
    pub name: String,
    /// Below this confidence (0.1 to 0.9) a message is not understood.
    #[serde(default = "default_threshold")]
    pub threshold: f32,
    /// Write answers with the configured language model (`KEFU_LLM_URL`), from the articles
    /// found and citing them. Without a model configured the bot quotes the article's summary.
    #[serde(default)]
    pub generated_answers: bool,
}

fn default_name() -> String {
    "Assistant".into()
}

fn default_threshold() -> f32 {
    kefu_bot::dialogue::DEFAULT_THRESHOLD
}

impl Default for BotSettings {
    fn default() -> Self {
        Self { enabled: false, name: default_name(), threshold: default_threshold(), generated_answers: false }
    }
}

/// The trained model and what it was trained from.
#[derive(Default)]
pub(crate) struct BotState {
    model: std::sync::RwLock<Option<(Arc<Bot>, String)>>,
    training: tokio::sync::Mutex<()>,
    http: std::sync::OnceLock<reqwest::Client>,
}

/// The result of a training run.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TrainingReport {
    pub examples: usize,
    /// Of which added by admins.
    pub added_examples: usize,
    pub intents: usize,
    pub took_ms: f64,
}

/// What the classifier makes of a text.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Classification {
    pub intent: String,
    /// Calibrated, 0 to 1.
    pub confidence: f32,
    /// `zh-CN`, `zh-TW` or `en`.
    pub language: String,
    /// The three likeliest intents.
    pub ranked: Vec<RankedIntent>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RankedIntent {
    pub intent: String,
    pub confidence: f32,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BotExample {
    pub id: String,
    pub text: String,
    pub intent: String,
    pub lang: String,
    pub created_by: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// One turn of "try the bot": the reply, and the state to send with the next message.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TryReply {
    pub classification: Classification,
    pub messages: Vec<TryMessage>,
    /// Set when the bot would hand the conversation to a person: why, and the agent's summary.
    pub handoff: Option<TryHandoff>,
    /// The customer confirmed the answer helped.
    pub resolved: bool,
    /// `answered`, `flow`, `small_talk`, `not_understood`, `feedback` or `handoff`.
    pub outcome: String,
    /// The dialogue so far: send it back with the next message.
    #[schema(value_type = Object)]
    pub state: serde_json::Value,
    /// Milliseconds the reply took on the server, help-center search included.
    pub took_ms: f64,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TryMessage {
    pub text: String,
    pub actions: Option<MessageActions>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TryHandoff {
    pub reason: String,
    pub summary: String,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct BotAnalytics {
    pub days: i64,
    /// Conversations the bot took.
    pub conversations: i64,
    /// Settled by the bot: the customer said its answer helped.
    pub contained: i64,
    pub handed_off: i64,
    /// An agent stepped in without a handoff.
    pub taken_by_agent: i64,
    /// Still with the bot.
    pub active: i64,
    /// `contained / conversations`, 0 to 1.
    pub containment_rate: f64,
    /// `handed_off / conversations`, 0 to 1.
    pub handoff_rate: f64,
    pub handoff_reasons: Vec<NamedCount>,
    pub top_intents: Vec<NamedCount>,
    /// Customer messages the bot answered, and those it did not understand or had no answer for.
    pub messages: i64,
    pub unanswered_messages: i64,
    pub unanswered: Vec<UnansweredMessage>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct NamedCount {
    pub name: String,
    pub count: i64,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct UnansweredMessage {
    pub conversation_id: String,
    pub number: i64,
    pub message_id: String,
    pub text: String,
    /// The classifier's best guess and its confidence.
    pub intent: String,
    pub confidence: f32,
    pub language: String,
    /// `low_confidence` or `no_answer`, when the bot handed off for it.
    pub reason: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The help center's published articles and the shield's official channels, as the bot sees them.
struct Lookup<'a> {
    index: &'a ArticleIndex,
    shield: &'a kefu_shield::Shield,
}

impl Knowledge for Lookup<'_> {
    fn articles(&self, query: &str, lang: Lang, limit: usize) -> Vec<Article> {
        let q = kefu_search::ArticleQuery {
            text: query.chars().take(200).collect(),
            locale: Some(lang.as_str().into()),
            published_only: true,
            kind: Some("article".into()),
            category: None,
            limit,
        };
        self.index
            .search(&q)
            .unwrap_or_default()
            .into_iter()
            .map(|h| Article { url: crate::kb::markdown::article_path(&h.locale, &h.slug), id: h.id, title: h.title, summary: h.summary })
            .collect()
    }

    fn official(&self, target: &str) -> Verdict {
        official_verdict(self.shield, target)
    }
}

/// Not on the official lists is not official; with no lists configured the bot cannot say.
fn official_verdict(shield: &kefu_shield::Shield, target: &str) -> Verdict {
    if shield.official().is_empty() {
        return Verdict::Unknown;
    }
    match shield.verify(target) {
        Ok(v) if v.verdict == kefu_shield::Verdict::Official => Verdict::Official,
        Ok(_) => Verdict::NotOfficial,
        Err(_) => Verdict::Unknown,
    }
}

fn check_settings(s: &BotSettings) -> AppResult<BotSettings> {
    let mut errors = Vec::new();
    let name = s.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 60 {
        errors.push(FieldError::new("name", "must be 1 to 60 characters"));
    }
    if !(0.1..=0.9).contains(&s.threshold) {
        errors.push(FieldError::new("threshold", "must be 0.1 to 0.9"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(BotSettings { name, ..s.clone() })
}

fn to_classification(p: &kefu_bot::Prediction, lang: Lang) -> Classification {
    Classification {
        intent: p.intent.clone(),
        confidence: p.confidence,
        language: lang.as_str().into(),
        ranked: p.ranked.iter().map(|(i, c)| RankedIntent { intent: i.clone(), confidence: *c }).collect(),
    }
}

fn actions_of(m: &kefu_bot::Message) -> Option<MessageActions> {
    if m.buttons.is_empty() && m.article.is_none() {
        return None;
    }
    Some(MessageActions {
        buttons: m.buttons.clone(),
        article: m.article.as_ref().map(|a| ArticleLink { id: a.id.clone(), title: a.title.clone(), url: a.url.clone() }),
    })
}

impl App {
    pub(crate) async fn bot_settings(&self) -> AppResult<BotSettings> {
        match self.store().setting(SETTINGS_KEY).await? {
            Some(raw) => serde_json::from_str(&raw).map_err(AppError::internal),
            None => Ok(BotSettings::default()),
        }
    }

    pub async fn get_bot_settings(&self, p: &Principal) -> AppResult<BotSettings> {
        p.require_enrolled()?;
        p.require_admin()?;
        self.bot_settings().await
    }

    pub async fn put_bot_settings(&self, p: &Principal, input: BotSettings) -> AppResult<BotSettings> {
        p.require_enrolled()?;
        p.require_admin()?;
        let s = check_settings(&input)?;
        let json = serde_json::to_string(&s).map_err(AppError::internal)?;
        self.store().put_setting(SETTINGS_KEY, &json, micros(self.now())).await?;
        self.audit_bot(
            p,
            "bot.settings.changed",
            None,
            serde_json::json!({"enabled": s.enabled, "generated_answers": s.generated_answers}),
        )
        .await?;
        Ok(s)
    }

    /// Turns the bot on with the demo exchange's name.
    pub(crate) async fn seed_demo_bot(&self, name: &str) -> AppResult<()> {
        let s = BotSettings { enabled: true, name: name.into(), ..Default::default() };
        let json = serde_json::to_string(&s).map_err(AppError::internal)?;
        self.store().put_setting(SETTINGS_KEY, &json, micros(self.now())).await?;
        Ok(())
    }

    async fn audit_bot(&self, p: &Principal, action: &'static str, target: Option<String>, data: serde_json::Value) -> AppResult<()> {
        self.audit(&crate::audit::Actor::agent(p), action, target, data).await.map(|_| ())
    }

    fn http(&self) -> &reqwest::Client {
        self.0.bot.http.get_or_init(|| reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap_or_default())
    }

    async fn examples_revision(&self) -> AppResult<String> {
        Ok(self.store().setting(REVISION_KEY).await?.unwrap_or_default())
    }

    /// The trained bot; trains it on first use (the shipped set and the examples admins added).
    pub(crate) async fn bot(&self) -> AppResult<Arc<Bot>> {
        if let Ok(m) = self.0.bot.model.read()
            && let Some((bot, _)) = m.as_ref()
        {
            return Ok(bot.clone());
        }
        self.bot_train_now().await?;
        self.0.bot.model.read().ok().and_then(|m| m.as_ref().map(|(b, _)| b.clone())).ok_or_else(|| AppError::internal("bot not trained"))
    }

    /// The classifier in use (trained now if need be), for evaluation.
    pub async fn bot_classifier(&self) -> AppResult<Arc<Classifier>> {
        Ok(self.bot().await?.classifier.clone())
    }

    /// Trains a fresh model and puts it in use.
    async fn bot_train_now(&self) -> AppResult<TrainingReport> {
        let _one_at_a_time = self.0.bot.training.lock().await;
        let revision = self.examples_revision().await?;
        let added = self.store().bot_examples().await?;
        let added_examples = added.len();
        let mut examples = kefu_bot::examples::shipped();
        examples.extend(added.into_iter().map(|r| kefu_bot::Example { text: r.text, intent: r.intent, lang: r.lang }));
        let started = std::time::Instant::now();
        let total = examples.len();
        let classifier = tokio::task::spawn_blocking(move || Classifier::train(&examples))
            .await
            .map_err(AppError::internal)?
            .map_err(AppError::internal)?;
        let took_ms = started.elapsed().as_secs_f64() * 1000.0;
        let intents = classifier.intents().len();
        let bot = Bot::new(Arc::new(classifier), self.config().bot_flows.clone());
        if let Ok(mut m) = self.0.bot.model.write() {
            *m = Some((Arc::new(bot), revision));
        }
        tracing::info!(examples = total, intents, took_ms, "bot trained");
        Ok(TrainingReport { examples: total, added_examples, intents, took_ms })
    }

    /// Trains when the bot is on and has no model yet (at start, or once an admin turns it on),
    /// so that no customer waits for it; retrains when another node (or the command line)
    /// changed the examples.
    async fn bot_follow_examples(&self, enabled: bool) -> AppResult<()> {
        let current = self.0.bot.model.read().ok().and_then(|m| m.as_ref().map(|(_, r)| r.clone()));
        match current {
            None if enabled => {
                self.bot_train_now().await?;
            }
            Some(trained) if trained != self.examples_revision().await? => {
                self.bot_train_now().await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn bump_examples_revision(&self) -> AppResult<()> {
        self.store().put_setting(REVISION_KEY, &Id::new().to_string(), micros(self.now())).await?;
        Ok(())
    }

    /// Retrains now (admins, and `kefu bot train`); other nodes follow within seconds.
    pub async fn bot_train(&self, p: Option<&Principal>) -> AppResult<TrainingReport> {
        if let Some(p) = p {
            p.require_enrolled()?;
            p.require_admin()?;
        }
        self.bump_examples_revision().await?;
        let r = self.bot_train_now().await?;
        if let Some(p) = p {
            self.audit_bot(p, "bot.trained", None, serde_json::json!({"examples": r.examples, "added_examples": r.added_examples})).await?;
        }
        Ok(r)
    }

    pub async fn bot_classify(&self, p: Option<&Principal>, text: &str) -> AppResult<Classification> {
        if let Some(p) = p {
            p.require_enrolled()?;
        }
        let text = check_text("text", text)?;
        let bot = self.bot().await?;
        let prediction = bot.classifier.classify(&text);
        Ok(to_classification(&prediction, kefu_bot::language::detect(&text, None)))
    }

    /// "Try the bot": one turn of a conversation that exists only in the caller's hands (the
    /// state goes back and forth). Nothing is stored or sent.
    pub async fn bot_try(&self, p: &Principal, text: &str, state: Option<serde_json::Value>, vip: bool) -> AppResult<TryReply> {
        p.require_enrolled()?;
        let text = check_text("text", text)?;
        let mut state: State = match state {
            None | Some(serde_json::Value::Null) => State::default(),
            Some(v) => serde_json::from_value(v).map_err(|e| AppError::Validation(vec![FieldError::new("state", e.to_string())]))?,
        };
        let started = std::time::Instant::now();
        let settings = self.bot_settings().await?;
        let bot = self.bot().await?;
        let index = self.kb_ready_index().await?;
        let shield = self.shield().await?;
        let lookup = Lookup { index: &index, shield: &shield };
        let bot = Bot { threshold: settings.threshold, ..(*bot).clone() };
        let reply = bot.respond(&mut state, &Turn { text: &text, vip, language_hint: None }, &lookup);
        Ok(TryReply {
            classification: to_classification(&reply.prediction, reply.language),
            messages: reply.messages.iter().map(|m| TryMessage { text: m.text.clone(), actions: actions_of(m) }).collect(),
            handoff: reply.handoff.as_ref().map(|h| TryHandoff { reason: h.reason.as_str().into(), summary: h.summary.clone() }),
            resolved: reply.resolved,
            outcome: reply.outcome.as_str().into(),
            state: serde_json::to_value(&state).map_err(AppError::internal)?,
            took_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }

    pub async fn bot_examples(&self, p: &Principal) -> AppResult<Vec<BotExample>> {
        p.require_enrolled()?;
        p.require_admin()?;
        Ok(self.store().bot_examples().await?.into_iter().map(to_example).collect())
    }

    /// Adds a training example (it counts from the next training).
    pub async fn add_bot_example(&self, p: &Principal, text: &str, intent: &str, lang: &str) -> AppResult<BotExample> {
        p.require_enrolled()?;
        p.require_admin()?;
        let e = kefu_bot::Example { text: text.trim().to_string(), intent: intent.trim().to_string(), lang: lang.trim().to_string() };
        if let Err(m) = kefu_bot::examples::check(&e) {
            let field = if m.starts_with("text") {
                "text"
            } else if m.starts_with("intent") {
                "intent"
            } else {
                "lang"
            };
            return Err(AppError::Validation(vec![FieldError::new(field, m)]));
        }
        let row = BotExampleRow {
            id: Id::new().to_string(),
            text: e.text,
            intent: e.intent,
            lang: e.lang,
            created_by: Some(p.agent.id.to_string()),
            created_at: micros(self.now()),
        };
        match self.store().insert_bot_example(&row).await {
            Ok(()) => {}
            Err(kefu_store::StoreError::Conflict(_)) => return Err(AppError::ExampleTaken),
            Err(e) => return Err(e.into()),
        }
        self.bump_examples_revision().await?;
        self.audit_bot(p, "bot.example.added", Some(row.id.clone()), serde_json::json!({"intent": row.intent, "lang": row.lang})).await?;
        Ok(to_example(row))
    }

    pub async fn delete_bot_example(&self, p: &Principal, id: &str) -> AppResult<()> {
        p.require_enrolled()?;
        p.require_admin()?;
        let id = Id::parse(id).ok_or(AppError::NotFound("bot example"))?;
        if !self.store().delete_bot_example(id.as_str()).await? {
            return Err(AppError::NotFound("bot example"));
        }
        self.bump_examples_revision().await?;
        self.audit_bot(p, "bot.example.deleted", Some(id.to_string()), serde_json::json!({})).await?;
        Ok(())
    }

    /// Containment, handoffs and their reasons, top intents and what the bot could not answer.
    pub async fn bot_analytics(&self, p: &Principal, days: i64) -> AppResult<BotAnalytics> {
        p.require_enrolled()?;
        if !matches!(p.agent.role, Role::Admin | Role::Supervisor) {
            return Err(AppError::Forbidden);
        }
        if !(1..=365).contains(&days) {
            return Err(AppError::Validation(vec![FieldError::new("days", "must be 1 to 365")]));
        }
        let since = micros(self.now() - chrono::Duration::days(days));
        let s = self.store();
        let counts = s.bot_session_counts(since).await?;
        let count = |status: &str| counts.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
        let conversations: i64 = counts.iter().map(|(_, n)| n).sum();
        let (contained, handed_off) = (count("contained"), count("handed_off"));
        let rate = |n: i64| if conversations > 0 { n as f64 / conversations as f64 } else { 0.0 };
        let named = |v: Vec<(String, i64)>| v.into_iter().map(|(name, count)| NamedCount { name, count }).collect();
        let (messages, unanswered_messages) = s.bot_turn_counts(since).await?;
        let unanswered = s
            .bot_misses(since, 50)
            .await?
            .into_iter()
            .map(|m| UnansweredMessage {
                conversation_id: m.conversation_id,
                number: m.number,
                message_id: m.message_id,
                text: m.body,
                intent: m.intent,
                confidence: m.confidence as f32 / 1000.0,
                language: m.language,
                reason: m.reason,
                created_at: kefu_store::from_micros(m.created_at),
            })
            .collect();
        Ok(BotAnalytics {
            days,
            conversations,
            contained,
            handed_off,
            taken_by_agent: count("agent"),
            active: count("active"),
            containment_rate: rate(contained),
            handoff_rate: rate(handed_off),
            handoff_reasons: named(s.bot_handoff_reasons(since).await?),
            top_intents: named(s.bot_top_intents(since, 10).await?),
            messages,
            unanswered_messages,
            unanswered,
        })
    }

    /// Answers the customer's messages in `conversation_id` that the bot has not answered yet,
    /// when the bot has (or should take) the conversation.
    pub async fn bot_handle(&self, conversation_id: &str) -> AppResult<()> {
        let settings = self.bot_settings().await?;
        if !settings.enabled {
            return Ok(());
        }
        let Some(row) = self.store().conversation_by_id(conversation_id).await? else { return Ok(()) };
        if row.channel != Channel::Chat.as_str() || row.merged_into.is_some() {
            return Ok(());
        }
        let now = micros(self.now());
        let session = match self.store().bot_session(&row.id).await? {
            Some(s) => s,
            // A chat the team has not touched: the bot takes it.
            None if row.assignee_id.is_none() && row.first_response_at.is_none() => {
                self.store().start_bot_session(&row.id, now).await?;
                self.store().bot_session(&row.id).await?.ok_or(AppError::NotFound("bot session"))?
            }
            None => return Ok(()),
        };
        if session.status != "active" {
            return Ok(());
        }
        if row.assignee_id.is_some() {
            self.store().set_bot_status(&row.id, &["active"], "agent", now).await?;
            return Ok(());
        }
        let pending: Vec<_> = self
            .store()
            .messages_after(&row.id, session.handled_seq, false, MAX_PENDING)
            .await?
            .into_iter()
            .filter(|m| m.author_kind == AuthorKind::Customer.as_str())
            .collect();
        let Some(last) = pending.last().map(|m| m.seq) else { return Ok(()) };
        if !self.store().claim_bot_turn(&row.id, last, now).await? {
            return Ok(());
        }
        let bot = self.bot().await?;
        let bot = Bot { threshold: settings.threshold, ..(*bot).clone() };
        let index = self.kb_ready_index().await?;
        let shield = self.shield().await?;
        let contact = self.store().contact_by_id(&row.contact_id).await?;
        let vip = contact.as_ref().is_some_and(|c| c.vip_tier > 0);
        let hint = row.language.as_deref().or(contact.as_ref().and_then(|c| c.language.as_deref())).and_then(Lang::parse);
        let mut state: State = serde_json::from_str(&session.state).unwrap_or_default();
        let mut status = "active";
        let mut reason = None;
        for m in pending {
            if m.body.trim().is_empty() {
                continue;
            }
            let reply = {
                let lookup = Lookup { index: &index, shield: &shield };
                bot.respond(&mut state, &Turn { text: &m.body, vip, language_hint: hint }, &lookup)
            };
            let reply = self.bot_generated(&settings, &m.body, reply).await;
            for msg in &reply.messages {
                self.bot_say(&row, &settings.name, &msg.text, actions_of(msg), &m.id).await?;
            }
            let turn_reason =
                reply.handoff.as_ref().map(|h| h.reason.as_str()).or((reply.outcome == Outcome::NotUnderstood).then_some("low_confidence"));
            self.store()
                .insert_bot_turn(&NewBotTurn {
                    id: Id::new().as_str(),
                    conversation_id: &row.id,
                    message_id: &m.id,
                    intent: &reply.prediction.intent,
                    confidence: (reply.prediction.confidence * 1000.0).round() as i64,
                    language: reply.language.as_str(),
                    outcome: reply.outcome.as_str(),
                    reason: turn_reason,
                    created_at: micros(self.now()),
                })
                .await?;
            if reply.resolved {
                status = "contained";
                self.bot_resolve(&row, &settings.name).await?;
            } else if status == "contained" {
                // A new question after a settled one: the bot is on it again.
                status = "active";
            }
            if let Some(h) = &reply.handoff {
                status = "handed_off";
                reason = Some(h.reason.as_str());
                self.bot_hand_off(&row, &settings.name, &reply, h, &m.id).await?;
                break;
            }
        }
        let state_json = serde_json::to_string(&state).map_err(AppError::internal)?;
        let language = state.language.unwrap_or(Lang::En).as_str();
        self.store()
            .save_bot_session(&row.id, status, &state_json, last, state.intent.as_deref(), language, reason, micros(self.now()))
            .await?;
        Ok(())
    }

    /// With generated answers on and a model configured, an article answer is rewritten by the
    /// model from the articles found; on any failure the article's summary stands.
    async fn bot_generated(&self, settings: &BotSettings, question: &str, mut reply: Reply) -> Reply {
        let Some(cfg) = self.config().llm.as_ref() else { return reply };
        if !settings.generated_answers || reply.outcome != Outcome::Answered {
            return reply;
        }
        let Some(first) = reply.messages.first().and_then(|m| m.article.clone()) else { return reply };
        let mut sources = Vec::new();
        if let Ok(Some(a)) = self.store().kb_article(&first.id).await {
            sources.push(llm::Source { title: a.title, url: first.url.clone(), text: a.body });
        }
        if sources.is_empty() {
            return reply;
        }
        if let Some(text) = llm::generate(self.http(), cfg, question, reply.language, &sources).await
            && let Some(m) = reply.messages.first_mut()
        {
            m.text = format!("{text}\n\n[1] {}", first.title);
        }
        reply
    }

    /// Posts one bot message (keyed to the customer message it answers, so that a retried turn
    /// does not say it twice).
    async fn bot_say(
        &self,
        row: &ConversationRow,
        name: &str,
        text: &str,
        actions: Option<MessageActions>,
        answering: &str,
    ) -> AppResult<()> {
        let key = format!("bot:{}:{}", answering, crate::secrets::sha256_hex(text).get(..16).unwrap_or_default());
        let input = NewMessageInput { body: text.to_string(), client_key: Some(key), actions, ..Default::default() };
        match self.add_message(row, AuthorKind::Bot, None, name.to_string(), "", &input).await {
            Ok(Posted::Created(_) | Posted::Replayed(_)) => Ok(()),
            Err(AppError::ConversationClosed) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The customer said the answer helped: the conversation is resolved, by the bot.
    async fn bot_resolve(&self, row: &ConversationRow, name: &str) -> AppResult<()> {
        let now = micros(self.now());
        self.bot_change(&row.id, name, move |row, ch, acts, actor| {
            if row.status == Status::Resolved.as_str() || row.status == Status::Closed.as_str() {
                return;
            }
            acts.push(activity(actor, "status_changed", serde_json::json!({"from": row.status, "to": "resolved"})));
            ch.status = Some(Status::Resolved.as_str().into());
            ch.resolved_at = Some(Some(now));
        })
        .await
    }

    /// Hands the conversation to the team: the customer is told what happens next and how long it
    /// takes; agents get a note with the case and the conversation carries the intent, a tag and,
    /// when money, access or an upset customer is involved, a higher priority.
    /// `answering`: the customer message that led to it (keys the messages, so a retry does not
    /// repeat them).
    async fn bot_hand_off(
        &self,
        row: &ConversationRow,
        name: &str,
        reply: &Reply,
        h: &kefu_bot::Handoff,
        answering: &str,
    ) -> AppResult<()> {
        let eta = self.bot_eta(reply.language).await?;
        self.bot_say(row, name, &eta, None, answering).await?;
        let mut note = format!("Bot handoff: {}\n", reason_label(h.reason));
        if let Some(i) = &h.intent {
            note.push_str(&format!("Intent: {i} ({:.0}%) · language {}\n", h.confidence * 100.0, reply.language.as_str()));
        }
        if !h.slots.is_empty() {
            let slots: Vec<String> = h.slots.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            note.push_str(&format!("Collected: {}\n", slots.join(", ")));
        }
        note.push_str(&format!("Summary: {}", h.summary));
        let input = NewMessageInput { body: note, private: true, client_key: Some(format!("bot-note:{answering}")), ..Default::default() };
        self.add_message(row, AuthorKind::Bot, None, name.to_string(), "", &input).await?;
        let intent = h.intent.clone();
        let language = reply.language.as_str().to_string();
        let urgent = matches!(h.reason, HandoffReason::Sensitive | HandoffReason::Angry | HandoffReason::Vip);
        let (reason, summary) = (h.reason.as_str(), h.summary.clone());
        let tags: Vec<String> = self.store().tags_of(std::slice::from_ref(&row.id)).await?.into_iter().map(|(_, t)| t).collect();
        self.bot_change(&row.id, name, move |row, ch, acts, actor| {
            acts.push(activity(actor, "bot_handoff", serde_json::json!({"reason": reason, "intent": intent, "summary": summary})));
            if intent.is_some() && intent != row.intent {
                ch.intent = Some(intent.clone());
            }
            if row.language.as_deref() != Some(language.as_str()) {
                ch.language = Some(Some(language.clone()));
            }
            if !tags.iter().any(|t| t == TAG_HANDOFF) {
                let mut next = tags.clone();
                next.push(TAG_HANDOFF.into());
                next.sort();
                acts.push(activity(actor, "tags_changed", serde_json::json!({"added": [TAG_HANDOFF], "removed": []})));
                ch.tags = Some(next);
            }
            if urgent && row.priority < Priority::High.rank() {
                acts.push(activity(
                    actor,
                    "priority_changed",
                    serde_json::json!({"from": Priority::from_rank(row.priority).as_str(), "to": Priority::High.as_str()}),
                ));
                ch.priority = Some(Priority::High.rank());
            }
            if row.status != Status::Open.as_str() {
                acts.push(activity(actor, "status_changed", serde_json::json!({"from": row.status, "to": "open"})));
                ch.status = Some(Status::Open.as_str().into());
                ch.resolved_at = Some(None);
            }
        })
        .await
    }

    /// Applies a change the bot makes, retrying when an agent changed the conversation meanwhile.
    async fn bot_change<F>(&self, id: &str, name: &str, f: F) -> AppResult<()>
    where
        F: Fn(&ConversationRow, &mut ConversationChanges, &mut Vec<kefu_store::NewActivity>, &(String, Option<String>, String)),
    {
        self.change_as(id, ("bot".to_string(), None, name.to_string()), f).await
    }

    /// Applies a change an automatic actor (kind, id, name) makes, retrying when someone
    /// changed the conversation meanwhile.
    pub(crate) async fn change_as<F>(&self, id: &str, actor: (String, Option<String>, String), f: F) -> AppResult<()>
    where
        F: Fn(&ConversationRow, &mut ConversationChanges, &mut Vec<kefu_store::NewActivity>, &(String, Option<String>, String)),
    {
        for _ in 0..3 {
            let row = self.store().conversation_by_id(id).await?.ok_or(AppError::NotFound("conversation"))?;
            let mut ch = ConversationChanges::default();
            let mut acts = Vec::new();
            f(&row, &mut ch, &mut acts, &actor);
            if acts.is_empty() && ch.intent.is_none() && ch.language.is_none() {
                return Ok(());
            }
            if let Some(version) = self.store().update_conversation(id, row.version, &ch, &acts, micros(self.now())).await? {
                let changes = acts.iter().map(|a| a.kind.clone()).collect();
                self.bus()
                    .publish(DomainEvent::ConversationUpdated { conversation_id: id.into(), team_id: row.team_id, version, changes })
                    .await;
                self.index_later(id);
                return Ok(());
            }
        }
        Err(AppError::internal("the conversation kept changing under an automatic change"))
    }

    /// What the customer is told after a handoff: when someone will answer.
    async fn bot_eta(&self, lang: Lang) -> AppResult<String> {
        use kefu_bot::texts::{Phrase, text};
        let chat = self.chat_settings().await?;
        let within_hours = chat.business_hours.as_ref().is_none_or(|h| h.state(self.now()).0);
        if !within_hours || self.agents_online() == 0 {
            return Ok(text(Phrase::EtaOffline, lang).replace("{n}", &chat.reply_within_hours.to_string()));
        }
        Ok(match self.median_first_response().await? {
            Some(m) => text(Phrase::EtaMinutes, lang).replace("{n}", &((m / 60_000_000).max(1)).to_string()),
            None => text(Phrase::EtaSoon, lang).to_string(),
        })
    }

    /// An agent replied in a conversation the bot had: the bot steps back.
    async fn bot_agent_replied(&self, conversation_id: &str) -> AppResult<()> {
        self.store().set_bot_status(conversation_id, &["active", "contained"], "agent", micros(self.now())).await?;
        Ok(())
    }
}

/// Whether an event's conversation is a chat, the one channel the bot serves. An event from
/// a node that does not send the channel yet (empty) is looked at, as before.
fn is_chat(channel: &str) -> bool {
    channel.is_empty() || channel == Channel::Chat.as_str()
}

fn reason_label(r: HandoffReason) -> &'static str {
    match r {
        HandoffReason::Asked => "the customer asked for a person",
        HandoffReason::LowConfidence => "the bot did not understand twice in a row",
        HandoffReason::Angry => "the customer is upset",
        HandoffReason::Vip => "VIP customer",
        HandoffReason::Sensitive => "sensitive case (account access or funds)",
        HandoffReason::NotHelped => "the answers offered did not help",
        HandoffReason::NoAnswer => "the help center has no answer",
    }
}

fn check_text(field: &str, text: &str) -> AppResult<String> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > 2000 {
        return Err(AppError::Validation(vec![FieldError::new(field, "must be 1 to 2000 characters")]));
    }
    Ok(t.to_string())
}

fn to_example(r: BotExampleRow) -> BotExample {
    BotExample {
        id: r.id,
        text: r.text,
        intent: r.intent,
        lang: r.lang,
        created_by: r.created_by,
        created_at: kefu_store::from_micros(r.created_at),
    }
}

/// Answers chats as their messages arrive, and on a sweep every few seconds picks up what was
/// missed (a restart between a customer's message and the bot's answer, an event lost) and
/// retrains when the examples changed.
pub struct BotService {
    app: App,
    /// Conversations with a turn running, and whether more came for them meanwhile. Chats are
    /// answered side by side (a slow one, waiting on a language model, holds up no other), each
    /// conversation's turns one after another.
    running: std::sync::Mutex<std::collections::HashMap<String, bool>>,
}

impl BotService {
    pub fn new(app: &App) -> Arc<Self> {
        Arc::new(Self { app: app.clone(), running: Default::default() })
    }

    /// Answers `conversation_id` in a task of its own, or, when a turn is running there, once
    /// more after it.
    fn answer(self: &Arc<Self>, conversation_id: String) {
        let Ok(mut running) = self.running.lock() else { return };
        if let Some(again) = running.get_mut(&conversation_id) {
            *again = true;
            return;
        }
        running.insert(conversation_id.clone(), false);
        drop(running);
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = this.app.bot_handle(&conversation_id).await {
                    tracing::error!(error = %e, conversation = %conversation_id, "bot turn failed");
                }
                let Ok(mut running) = this.running.lock() else { return };
                if running.get(&conversation_id) == Some(&true) {
                    running.insert(conversation_id.clone(), false);
                } else {
                    running.remove(&conversation_id);
                    return;
                }
            }
        });
    }

    async fn sweep(self: &Arc<Self>) {
        let enabled = match self.app.bot_settings().await {
            Ok(s) => s.enabled,
            Err(e) => {
                tracing::error!(error = %e, "bot settings unreadable");
                return;
            }
        };
        if let Err(e) = self.app.bot_follow_examples(enabled).await {
            tracing::error!(error = %e, "bot training failed");
        }
        if !enabled {
            return;
        }
        match self.app.store().bot_sessions_waiting(100).await {
            Ok(ids) => {
                for id in ids {
                    self.answer(id);
                }
            }
            Err(e) => tracing::error!(error = %e, "bot sweep failed"),
        }
    }
}

#[async_trait::async_trait]
impl Service for BotService {
    fn name(&self) -> &'static str {
        "bot"
    }

    async fn run(self: Arc<Self>, mut shutdown: Shutdown) {
        let mut events = self.app.bus().subscribe();
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.wait() => break,
                _ = sweep.tick() => self.sweep().await,
                e = events.next() => match e {
                    // A new chat comes with its first message, announced as the conversation.
                    // The bot serves chats only; other channels pass without a read.
                    Some(DomainEvent::ConversationCreated { conversation_id, channel, .. }) if is_chat(&channel) => self.answer(conversation_id),
                    Some(DomainEvent::MessageCreated { conversation_id, author_kind, private: false, channel, .. }) if is_chat(&channel) => match author_kind.as_str() {
                        "customer" => self.answer(conversation_id),
                        "agent" => {
                            if let Err(e) = self.app.bot_agent_replied(&conversation_id).await {
                                tracing::error!(error = %e, conversation = %conversation_id, "bot step-back failed");
                            }
                        }
                        _ => {}
                    },
                    Some(_) => {}
                    None => break,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_channels_match_by_what_identifies_them() {
        let official = kefu_shield::Official {
            domains: vec!["nebula.example".into()],
            emails: vec!["support@nebula-ex.com".into()],
            telegram: vec!["@NebulaExchange".into()],
            phones: vec!["+1 (555) 010-2000".into()],
            agent_ids: Vec::new(),
        };
        let shield = kefu_shield::Shield::new(official, &[] as &[&str], Vec::new()).unwrap_or_else(|e| panic!("{e}"));
        let v = |t: &str| official_verdict(&shield, t);
        assert_eq!(v("https://www.nebula.example/login"), Verdict::Official);
        assert_eq!(v("help.nebula.example"), Verdict::Official);
        assert_eq!(v("SUPPORT@nebula-ex.com"), Verdict::Official);
        assert_eq!(v("security@mail.nebula.example"), Verdict::Official);
        assert_eq!(v("security@nebula-example.com"), Verdict::NotOfficial);
        assert_eq!(v("t.me/nebulaexchange"), Verdict::Official);
        assert_eq!(v("+15550102000"), Verdict::Official);
        assert_eq!(v("nebula.example.phish.io"), Verdict::NotOfficial);
        assert_eq!(v("https://nebu1a.example"), Verdict::NotOfficial);
        assert_eq!(v("@NebulaExchange_Support"), Verdict::NotOfficial);
        assert_eq!(official_verdict(&kefu_shield::Shield::default(), "nebula.example"), Verdict::Unknown);
    }
}
