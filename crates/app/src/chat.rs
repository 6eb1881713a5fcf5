//! Live chat: who a widget visitor is (a customer the exchange signed for, or an anonymous
//! visitor known by a random key their browser keeps), what they may read and send, and the
//! chat settings. The WebSocket protocol on top lives in the web layer (`docs/chat-protocol.md`).

use crate::contacts::ContactInput;
use crate::conversations::{NewMessageInput, Posted, activity, parse_client_key, subject_from, to_message};
use crate::secrets::sha256_hex;
use crate::{App, AppError, AppResult, Principal};
use chrono::{DateTime, Utc};
use kefu_domain::events::DomainEvent;
use kefu_domain::{AttachmentInfo, AuthorKind, Channel, FieldError, Id, Status};
use kefu_store::{
    ContactChanges, ContactRef, ConversationRow, ListFilter, MessageRow, NewContact, NewConversation, NewMessage, ReadSide, Sort, micros,
};
use std::collections::BTreeMap;

const SETTINGS_KEY: &str = "chat";
/// The key that signs visitors' attachment URLs.
const KEY_SETTING: &str = "chat_signing_key";
/// Where a visitor fetches files, with a signed URL.
const CHAT_ATTACHMENTS_URL: &str = "/api/v1/chat/attachments";
/// How long the recent median first-reply time is reused for queue estimates.
const MEDIAN_TTL: std::time::Duration = std::time::Duration::from_secs(10);
/// Longest rating comment, in characters.
const MAX_RATING_COMMENT: usize = 1000;
/// The most messages one history or resume answer carries; a client asks again after the last.
pub const HISTORY_PAGE: i64 = 200;
/// The topics of the pre-chat form, as the portal's categories.
const PRECHAT_TOPICS: [&str; 6] = crate::portal::CATEGORIES;
/// An identity token may not be valid for longer than this (it is meant to be short-lived).
const MAX_TOKEN_LIFETIME_SECS: i64 = 24 * 3600;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ChatSettings {
    /// The id that the embed tag's `data-channel` names.
    #[serde(default)]
    pub widget_id: String,
    /// The greeting per language (`zh-CN`, `zh-TW`, `en`); a language without one gets the
    /// widget's built-in greeting.
    #[serde(default)]
    pub greeting: BTreeMap<String, String>,
    /// Ask anonymous visitors for their name, e-mail and topic before the first message.
    #[serde(default)]
    pub prechat_form: bool,
    /// PEM of the exchange's ES256 public key, for identity tokens signed with ES256. HS256
    /// tokens and `user_hash` signatures use the identity secret (see the portal settings).
    #[serde(default)]
    pub jwt_public_key: Option<String>,
    /// When the team answers chats; `null`: around the clock.
    #[serde(default)]
    pub business_hours: Option<BusinessHours>,
    /// What the widget says when nobody is there, per language; a language without one gets
    /// the widget's built-in text.
    #[serde(default)]
    pub offline_message: BTreeMap<String, String>,
    /// The answer time promised to offline visitors when the team is within hours but nobody
    /// is online (1 to 168).
    #[serde(default = "default_reply_hours")]
    pub reply_within_hours: u32,
    /// Replies a customer has not read this many minutes (0 to 1440) after the last one are
    /// mailed to them, with a link to the conversation in the portal (an outbound mail server
    /// is needed); `null`: never.
    #[serde(default = "default_follow_up_minutes")]
    pub email_follow_up_minutes: Option<u32>,
}

fn default_follow_up_minutes() -> Option<u32> {
    Some(5)
}

fn default_reply_hours() -> u32 {
    12
}

impl Default for ChatSettings {
    fn default() -> Self {
        ChatSettings {
            widget_id: String::new(),
            greeting: BTreeMap::new(),
            prechat_form: false,
            jwt_public_key: None,
            business_hours: None,
            offline_message: BTreeMap::new(),
            reply_within_hours: default_reply_hours(),
            email_follow_up_minutes: default_follow_up_minutes(),
        }
    }
}

/// A weekly schedule in one UTC offset.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BusinessHours {
    /// Like `+08:00` or `-05:00`.
    pub utc_offset: String,
    /// Per weekday (`mon` … `sun`) the opening and closing time, `HH:MM` (closing may be
    /// `24:00`); a day not listed is closed.
    pub days: BTreeMap<String, DayHours>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DayHours {
    pub open: String,
    pub close: String,
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Texts per language (greeting, offline message): known languages, 500 characters each.
fn check_texts(errors: &mut Vec<FieldError>, field: &str, texts: &BTreeMap<String, String>) {
    for (lang, text) in texts {
        if !["zh-CN", "zh-TW", "en"].contains(&lang.as_str()) {
            errors.push(FieldError::new(field, format!("{lang:?} is not one of zh-CN, zh-TW, en")));
        } else if text.chars().count() > 500 {
            errors.push(FieldError::new(&format!("{field}.{lang}"), "must be at most 500 characters"));
        }
    }
}

/// `HH:MM` as minutes after midnight (up to `24:00`).
fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

/// `+08:00` as seconds east of UTC.
fn parse_offset(s: &str) -> Option<chrono::FixedOffset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let mins = parse_hhmm(rest)?;
    if mins > 14 * 60 {
        return None;
    }
    chrono::FixedOffset::east_opt(sign * mins as i32 * 60)
}

impl BusinessHours {
    fn errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if parse_offset(&self.utc_offset).is_none() {
            errors.push(FieldError::new("business_hours.utc_offset", "must be like +08:00 (at most 14 hours)"));
        }
        for (day, h) in &self.days {
            if !WEEKDAYS.contains(&day.as_str()) {
                errors.push(FieldError::new("business_hours.days", format!("{day:?} is not one of mon, tue, wed, thu, fri, sat, sun")));
                continue;
            }
            match (parse_hhmm(&h.open), parse_hhmm(&h.close)) {
                (Some(o), Some(c)) if o < c => {}
                (Some(_), Some(_)) => errors.push(FieldError::new(&format!("business_hours.days.{day}"), "must open before it closes")),
                _ => errors.push(FieldError::new(&format!("business_hours.days.{day}"), "times must be HH:MM, from 00:00 to 24:00")),
            }
        }
        errors
    }

    /// Whether `now` is within hours, and if not, when they next begin (within a week).
    pub(crate) fn state(&self, now: DateTime<Utc>) -> (bool, Option<DateTime<Utc>>) {
        use chrono::{Datelike, TimeZone, Timelike};
        let Some(offset) = parse_offset(&self.utc_offset) else { return (true, None) };
        let local = now.with_timezone(&offset);
        let minute = local.hour() * 60 + local.minute();
        for ahead in 0..8i64 {
            let date = local.date_naive() + chrono::Duration::days(ahead);
            let day = WEEKDAYS[date.weekday().num_days_from_monday() as usize];
            let Some(h) = self.days.get(day) else { continue };
            let (Some(open), Some(close)) = (parse_hhmm(&h.open), parse_hhmm(&h.close)) else { continue };
            if ahead == 0 && (open..close).contains(&minute) {
                return (true, None);
            }
            if ahead > 0 || minute < open {
                let at = date.and_hms_opt(open / 60, open % 60, 0).and_then(|t| offset.from_local_datetime(&t).single());
                return (false, at.map(|t| t.with_timezone(&Utc)));
            }
        }
        (false, None)
    }
}

/// What the widget learns before a visitor connects (public: no secret in it).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct WidgetConfig {
    pub widget_id: String,
    pub greeting: BTreeMap<String, String>,
    pub prechat_form: bool,
    /// The topics the pre-chat form offers.
    pub topics: Vec<String>,
    /// Within business hours and at least one agent has the console open.
    pub online: bool,
    /// Outside business hours: when they begin again.
    pub next_open_at: Option<DateTime<Utc>>,
    pub offline_message: BTreeMap<String, String>,
    pub reply_within_hours: u32,
    /// Replies the visitor misses are mailed to them: the widget asks an anonymous visitor for
    /// an e-mail address while nobody is online.
    pub email_follow_up: bool,
}

/// The identity the exchange's backend signed for its logged-in user.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum SignedIdentity {
    /// `user_hash` = hex HMAC-SHA256 of `user_id` under the identity secret.
    Hash { user_id: String, user_hash: String, email: Option<String>, name: Option<String> },
    /// A JWT (HS256 under the identity secret, or ES256 under `jwt_public_key`) with `sub` (the
    /// user id), `exp`, and optionally `email`, `name`, `vip_tier`, `language`.
    Token { token: String },
}

#[derive(Debug, serde::Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    /// When the exchange signed it: a fresh sign-in for an identity check.
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    vip_tier: Option<i64>,
    #[serde(default)]
    language: Option<String>,
}

/// A customer the exchange vouched for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VerifiedUser {
    pub user_id: String,
    email: Option<String>,
    name: Option<String>,
    vip_tier: Option<i64>,
    language: Option<String>,
    /// When a token was signed (`iat`); `None` for a `user_hash` and tokens without it.
    pub issued_at: Option<i64>,
}

/// A connected widget visitor.
#[derive(Debug, Clone)]
pub struct ChatVisitor {
    /// `None` until an anonymous visitor's first message creates their contact.
    pub contact_id: Option<String>,
    /// True when the exchange signed the identity.
    pub verified: bool,
    /// The hash of an anonymous visitor's key.
    key_hash: Option<String>,
    pub name: String,
    pub language: Option<String>,
}

/// The pre-chat form of an anonymous visitor's first message.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct PreChat {
    pub name: Option<String>,
    /// Kept on the conversation for the agent, never used to find or merge a contact: nobody
    /// proved it is theirs.
    pub email: Option<String>,
    pub topic: Option<String>,
}

/// A chat as its customer sees it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ChatConversation {
    pub id: String,
    pub number: i64,
    pub subject: String,
    pub status: Status,
    /// The agent handling it, by name.
    pub agent_name: Option<String>,
    pub verified: bool,
    /// The conversation's last message `seq` (notes count too, so a customer may see gaps).
    pub last_seq: i64,
    /// How far the customer, and the agents, have read.
    pub customer_read_seq: i64,
    pub agent_read_seq: i64,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    /// The customer's rating, once given.
    pub rating: Option<ChatRating>,
    /// While the chat is open and no agent has it: its place in the queue.
    pub queue: Option<Queue>,
    /// The latest identity check an agent asked of the customer: while `pending`, the widget
    /// asks for the answer (a `verify` frame).
    pub identity_check: Option<kefu_domain::IdentityCheck>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ChatRating {
    pub score: i16,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Queue {
    /// 1: the next chat an agent takes.
    pub position: i64,
    /// `null` without recent chats to estimate from.
    pub estimated_wait_secs: Option<i64>,
}

/// A public message as the customer sees it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ChatMessage {
    pub id: String,
    pub conversation_id: String,
    pub seq: i64,
    /// `customer`, `agent`, `bot` or `system`.
    pub author_kind: AuthorKind,
    pub author_name: String,
    pub body: String,
    pub attachments: Vec<AttachmentInfo>,
    /// The customer's own client id for messages they sent.
    pub client_id: Option<String>,
    /// On bot messages: quick replies and the article it points to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<kefu_domain::MessageActions>,
    /// Secrets taken out and the verdict on each link, for the widget to flag lookalikes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shield: Option<kefu_domain::MessageShield>,
    pub created_at: DateTime<Utc>,
}

/// A stored (or recognised as already stored) customer message.
#[derive(Debug, Clone)]
pub struct ChatSent {
    /// The chat; for a message to an existing one, as it was just before the message.
    pub conversation: ChatConversation,
    pub message: ChatMessage,
    /// The client id was seen before: this is what was stored then.
    pub replayed: bool,
}

fn chat_conversation(r: &ConversationRow) -> ChatConversation {
    ChatConversation {
        id: r.id.clone(),
        number: r.number,
        subject: r.subject.clone(),
        status: Status::parse(&r.status).unwrap_or(Status::Open),
        agent_name: r.assignee_name.clone(),
        verified: r.verified_identity == Some(true),
        last_seq: r.last_seq,
        customer_read_seq: r.customer_read_seq,
        agent_read_seq: r.agent_read_seq,
        created_at: kefu_store::from_micros(r.created_at),
        last_activity_at: kefu_store::from_micros(r.last_activity_at),
        rating: r.rating_score.map(|score| ChatRating { score, comment: r.rating_comment.clone().filter(|c| !c.is_empty()) }),
        queue: None,
        identity_check: crate::identity_check::latest_check(r),
    }
}

fn chat_message(m: kefu_domain::Message) -> ChatMessage {
    let client_id = if m.author.kind == AuthorKind::Customer { m.client_key } else { None };
    ChatMessage {
        id: m.id,
        conversation_id: m.conversation_id,
        seq: m.seq,
        author_kind: m.author.kind,
        author_name: m.author.name,
        body: m.body,
        attachments: m.attachments,
        client_id,
        actions: m.actions,
        shield: m.shield,
        created_at: m.created_at,
    }
}

/// A visitor key: 22 to 128 characters of `A-Z a-z 0-9 - _` (128 bits or more of randomness
/// from the browser).
fn valid_visitor_key(k: &str) -> bool {
    (22..=128).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl App {
    pub(crate) async fn chat_settings(&self) -> AppResult<ChatSettings> {
        let raw = match self.store().setting(SETTINGS_KEY).await? {
            Some(v) => v,
            None => {
                // The first read makes the widget's id; of two first reads at once, one id wins.
                let fresh = ChatSettings {
                    widget_id: Id::new().to_string().to_lowercase(),
                    reply_within_hours: default_reply_hours(),
                    ..Default::default()
                };
                let json = serde_json::to_string(&fresh).map_err(AppError::internal)?;
                self.store().setting_or_insert(SETTINGS_KEY, &json, micros(self.now())).await?
            }
        };
        serde_json::from_str(&raw).map_err(AppError::internal)
    }

    /// The key that signs attachment URLs for visitors: made once, kept in the settings.
    async fn chat_key(&self) -> AppResult<&[u8]> {
        let key = self
            .0
            .chat_key
            .get_or_try_init(|| async {
                let fresh = crate::secrets::random_token(32);
                self.store().setting_or_insert(KEY_SETTING, &fresh, micros(self.now())).await.map(String::into_bytes)
            })
            .await?;
        Ok(key.as_slice())
    }

    /// 128 bits of HMAC over the attachment and until when; the same signature opens the file
    /// and its thumbnail (`…/thumbnail` with the same query).
    fn attachment_signature(key: &[u8], id: &str, exp: i64) -> Option<String> {
        let mut sig = crate::secrets::hmac_sha256_hex(key, format!("{id}:{exp}").as_bytes())?;
        sig.truncate(32);
        Some(sig)
    }

    /// A visitor's URL of an attachment: signed, good for 7 to 8 days (the same all day, so
    /// browsers can cache it).
    async fn signed_attachment_url(&self, id: &str) -> AppResult<String> {
        let day = 86_400;
        let exp = (self.now().timestamp() / day + 8) * day;
        let sig = Self::attachment_signature(self.chat_key().await?, id, exp).ok_or_else(|| AppError::internal("signing failed"))?;
        Ok(format!("{CHAT_ATTACHMENTS_URL}/{id}?exp={exp}&sig={sig}"))
    }

    async fn sign_attachments(&self, atts: &mut [AttachmentInfo]) -> AppResult<()> {
        for a in atts {
            a.url = self.signed_attachment_url(&a.id).await?;
        }
        Ok(())
    }

    /// An attachment (or its thumbnail) through a signed URL; a wrong or old signature is not
    /// found.
    pub async fn chat_attachment(&self, id: &str, thumbnail: bool, exp: i64, sig: &str) -> AppResult<crate::attachments::Download> {
        let now = self.now().timestamp();
        let good = exp >= now
            && exp <= now + 9 * 86_400
            && Self::attachment_signature(self.chat_key().await?, id, exp)
                .is_some_and(|good| crate::constant_time_eq(good.as_bytes(), sig.as_bytes()));
        if !good {
            return Err(AppError::NotFound("attachment"));
        }
        self.download_attachment(crate::attachments::Viewer::Signed, id, thumbnail).await
    }

    /// A visitor's upload, before the message that carries it; an anonymous visitor's first
    /// upload makes their contact, as a first message would.
    pub async fn chat_upload(&self, v: &mut ChatVisitor, declared_name: &str, bytes: Vec<u8>) -> AppResult<AttachmentInfo> {
        let contact = self.visitor_contact(v, None).await?;
        let mut info = self.upload_attachment(crate::attachments::Viewer::ChatVisitor(&contact), declared_name, bytes).await?;
        self.sign_attachments(std::slice::from_mut(&mut info)).await?;
        Ok(info)
    }

    /// Where an open chat that no agent has stands in the queue.
    async fn queue_of(&self, r: &ConversationRow) -> AppResult<Option<Queue>> {
        if r.channel != Channel::Chat.as_str() || r.status != Status::Open.as_str() || r.assignee_id.is_some() {
            return Ok(None);
        }
        let position = self.store().chat_queue_position(&r.id, r.created_at).await?;
        let agents = self.agents_online().max(1) as i64;
        let estimated_wait_secs = self.median_first_response().await?.map(|m| (m / 1_000_000).max(1) * position / agents);
        Ok(Some(Queue { position, estimated_wait_secs }))
    }

    /// The recent median time to a chat's first reply: the same for every waiting chat, so it
    /// is read at most every `MEDIAN_TTL` however many sockets ask. (Without any history it is
    /// read every time, so that the first answered chat counts at once; that read is cheap.)
    pub(crate) async fn median_first_response(&self) -> AppResult<Option<i64>> {
        if let Ok(c) = self.0.chat_median.lock()
            && let Some((at, m)) = *c
            && at.elapsed() < MEDIAN_TTL
        {
            return Ok(Some(m));
        }
        let m = self.store().chat_median_first_response(micros(self.now() - chrono::Duration::days(7))).await?;
        if let (Some(m), Ok(mut c)) = (m, self.0.chat_median.lock()) {
            *c = Some((std::time::Instant::now(), m));
        }
        Ok(m)
    }

    /// A chat as its customer sees it, with its place in the queue.
    async fn chat_view(&self, r: &ConversationRow) -> AppResult<ChatConversation> {
        let mut c = chat_conversation(r);
        c.queue = self.queue_of(r).await?;
        Ok(c)
    }

    /// The widget's id (public: the embed tag carries it).
    pub async fn chat_widget_id(&self) -> AppResult<String> {
        Ok(self.chat_settings().await?.widget_id)
    }

    pub async fn get_chat_settings(&self, p: &Principal) -> AppResult<ChatSettings> {
        p.require_admin()?;
        self.chat_settings().await
    }

    /// Changes the greeting, the pre-chat form and the ES256 key; the widget id stays.
    pub async fn put_chat_settings(&self, p: &Principal, input: ChatSettings) -> AppResult<ChatSettings> {
        p.require_admin()?;
        let mut errors = Vec::new();
        check_texts(&mut errors, "greeting", &input.greeting);
        let key = input.jwt_public_key.as_deref().map(str::trim).filter(|k| !k.is_empty()).map(str::to_string);
        if let Some(k) = &key
            && jsonwebtoken::DecodingKey::from_ec_pem(k.as_bytes()).is_err()
        {
            errors.push(FieldError::new("jwt_public_key", "must be a PEM-encoded P-256 public key (-----BEGIN PUBLIC KEY-----)"));
        }
        check_texts(&mut errors, "offline_message", &input.offline_message);
        if !(1..=168).contains(&input.reply_within_hours) {
            errors.push(FieldError::new("reply_within_hours", "must be 1 to 168"));
        }
        if input.email_follow_up_minutes.is_some_and(|m| m > 1440) {
            errors.push(FieldError::new("email_follow_up_minutes", "must be 0 to 1440, or null for never"));
        }
        if let Some(h) = &input.business_hours {
            errors.extend(h.errors());
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let current = self.chat_settings().await?;
        let texts = |m: BTreeMap<String, String>| -> BTreeMap<String, String> {
            m.into_iter().filter(|(_, t)| !t.trim().is_empty()).map(|(l, t)| (l, t.trim().to_string())).collect()
        };
        let s = ChatSettings {
            widget_id: current.widget_id,
            greeting: texts(input.greeting),
            prechat_form: input.prechat_form,
            jwt_public_key: key,
            business_hours: input.business_hours,
            offline_message: texts(input.offline_message),
            reply_within_hours: input.reply_within_hours,
            email_follow_up_minutes: input.email_follow_up_minutes,
        };
        self.store().put_setting(SETTINGS_KEY, &serde_json::to_string(&s).map_err(AppError::internal)?, micros(self.now())).await?;
        self.audit(
            &crate::audit::Actor::agent(p),
            "settings.chat",
            None,
            serde_json::json!({"prechat_form": s.prechat_form, "jwt_public_key_set": s.jwt_public_key.is_some()}),
        )
        .await?;
        Ok(s)
    }

    /// The widget's public configuration; an unknown widget id is not found.
    pub async fn widget_config(&self, widget_id: &str) -> AppResult<WidgetConfig> {
        let s = self.chat_settings().await?;
        if !crate::constant_time_eq(s.widget_id.as_bytes(), widget_id.as_bytes()) {
            return Err(AppError::NotFound("chat widget"));
        }
        let (within_hours, next_open_at) = s.business_hours.as_ref().map_or((true, None), |h| h.state(self.now()));
        Ok(WidgetConfig {
            widget_id: s.widget_id,
            greeting: s.greeting,
            prechat_form: s.prechat_form,
            topics: PRECHAT_TOPICS.iter().map(|t| t.to_string()).collect(),
            online: within_hours && self.agents_online() > 0,
            next_open_at,
            offline_message: s.offline_message,
            reply_within_hours: s.reply_within_hours,
            email_follow_up: s.email_follow_up_minutes.is_some() && self.mailer().is_some(),
        })
    }

    /// Checks a signed identity: a bad signature, a token of another algorithm or one without
    /// a key configured is `invalid_signature`, an expired token `identity_expired`. Never
    /// falls back to treating the visitor as anonymous: the caller refuses the connection.
    async fn verify_identity(&self, id: &SignedIdentity, settings: &ChatSettings) -> AppResult<VerifiedUser> {
        let secret = self.portal_identity_secret().await?;
        match id {
            SignedIdentity::Hash { user_id, user_hash, email, name } => {
                let secret = secret.ok_or(AppError::InvalidSignature)?;
                if !crate::portal::hmac_matches(&secret, user_id, user_hash) {
                    return Err(AppError::InvalidSignature);
                }
                Ok(VerifiedUser {
                    user_id: user_id.clone(),
                    email: email.clone(),
                    name: name.clone(),
                    vip_tier: None,
                    language: None,
                    issued_at: None,
                })
            }
            SignedIdentity::Token { token } => {
                use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
                let header = decode_header(token).map_err(|_| AppError::InvalidSignature)?;
                let key = match header.alg {
                    Algorithm::HS256 => DecodingKey::from_secret(secret.ok_or(AppError::InvalidSignature)?.as_bytes()),
                    Algorithm::ES256 => {
                        let pem = settings.jwt_public_key.as_deref().ok_or(AppError::InvalidSignature)?;
                        DecodingKey::from_ec_pem(pem.as_bytes()).map_err(|_| AppError::InvalidSignature)?
                    }
                    _ => return Err(AppError::InvalidSignature),
                };
                let mut v = Validation::new(header.alg);
                v.leeway = 30;
                v.validate_aud = false;
                v.set_required_spec_claims(&["exp", "sub"]);
                let data = decode::<Claims>(token, &key, &v).map_err(|e| match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => AppError::IdentityExpired,
                    _ => AppError::InvalidSignature,
                })?;
                let c = data.claims;
                if c.exp - self.now().timestamp() > MAX_TOKEN_LIFETIME_SECS || c.sub.trim().is_empty() {
                    return Err(AppError::InvalidSignature);
                }
                Ok(VerifiedUser {
                    user_id: c.sub,
                    email: c.email,
                    name: c.name,
                    vip_tier: c.vip_tier,
                    language: c.language,
                    issued_at: c.iat,
                })
            }
        }
    }

    /// Checks an identity the exchange signed, under the current settings.
    pub(crate) async fn signed_user(&self, id: &SignedIdentity) -> AppResult<VerifiedUser> {
        let settings = self.chat_settings().await?;
        self.verify_identity(id, &settings).await
    }

    /// The visitor's answer to an identity check in one of their chats.
    pub async fn chat_answer_check(
        &self,
        v: &ChatVisitor,
        conversation_id: &str,
        check_id: &str,
        answer: &crate::identity_check::CheckAnswer,
    ) -> AppResult<kefu_domain::IdentityCheck> {
        let row = self.visitor_row(v, conversation_id).await?;
        self.answer_identity_check(&row, check_id, answer).await
    }

    /// Who is connecting: a signed identity (verified; an invalid one is refused), or else an
    /// anonymous visitor's key.
    pub async fn chat_connect(
        &self,
        widget_id: &str,
        identity: Option<&SignedIdentity>,
        visitor_key: Option<&str>,
        language: Option<&str>,
    ) -> AppResult<ChatVisitor> {
        let settings = self.chat_settings().await?;
        if !crate::constant_time_eq(settings.widget_id.as_bytes(), widget_id.as_bytes()) {
            return Err(AppError::NotFound("chat widget"));
        }
        let language = language.and_then(|l| kefu_domain::inbox::parse_locale("language", l).ok());
        if let Some(id) = identity {
            let u = self.verify_identity(id, &settings).await?;
            let contact_id = self.contact_for_exchange_user(&u.user_id, u.email.as_deref(), u.name.as_deref()).await?;
            let language = u.language.as_deref().and_then(|l| kefu_domain::inbox::parse_locale("language", l).ok()).or(language);
            let changes = ContactChanges {
                vip_tier: u.vip_tier.filter(|t| (0..=10).contains(t)),
                language: language.clone().map(Some),
                ..Default::default()
            };
            if changes.vip_tier.is_some() || changes.language.is_some() {
                self.store().update_contact(&contact_id, &changes, micros(self.now())).await?;
            }
            let name = self.store().contact_by_id(&contact_id).await?.map(|c| c.name).unwrap_or_default();
            return Ok(ChatVisitor { contact_id: Some(contact_id), verified: true, key_hash: None, name, language });
        }
        let key = visitor_key.filter(|k| valid_visitor_key(k)).ok_or_else(|| {
            AppError::Validation(vec![FieldError::new(
                "visitor_key",
                "send a signed identity, or a visitor key of 22 to 128 letters, digits, - or _",
            )])
        })?;
        let key_hash = sha256_hex(key);
        let contact = self.store().chat_visitor_contact(&key_hash).await?;
        let name = match &contact {
            Some(id) => self.store().contact_by_id(id).await?.map(|c| c.name).unwrap_or_default(),
            None => String::new(),
        };
        Ok(ChatVisitor { contact_id: contact, verified: false, key_hash: Some(key_hash), name, language })
    }

    /// The visitor's chats, newest first.
    pub async fn chat_conversations(&self, v: &ChatVisitor) -> AppResult<Vec<ChatConversation>> {
        let Some(contact) = &v.contact_id else { return Ok(Vec::new()) };
        let f = ListFilter { contact_id: Some(contact.clone()), channel: Some(Channel::Chat.as_str().into()), ..Default::default() };
        let rows = self.store().list_conversations(&f, Sort::LastActivity, None, 50).await?;
        let mut out = Vec::new();
        for r in rows.iter().filter(|r| r.verified_identity == Some(v.verified)) {
            out.push(self.chat_view(r).await?);
        }
        Ok(out)
    }

    /// One of the visitor's chats; anything else is not found (whether or not it exists).
    pub async fn chat_conversation(&self, v: &ChatVisitor, id: &str) -> AppResult<ChatConversation> {
        self.chat_view(&self.visitor_row(v, id).await?).await
    }

    async fn visitor_row(&self, v: &ChatVisitor, id: &str) -> AppResult<ConversationRow> {
        let not_found = || AppError::NotFound("conversation");
        let id = Id::parse(id).ok_or_else(not_found)?;
        let contact = v.contact_id.as_deref().ok_or_else(not_found)?;
        let row = self.store().conversation_by_id(id.as_str()).await?.ok_or_else(not_found)?;
        // A verified customer's chats are never open to an unverified visitor, even of the same
        // contact, nor the other way round.
        if row.contact_id != contact || row.channel != Channel::Chat.as_str() || row.verified_identity != Some(v.verified) {
            return Err(not_found());
        }
        Ok(row)
    }

    /// Public messages of one of the visitor's chats after `after_seq`, at most a page.
    pub async fn chat_messages_after(&self, v: &ChatVisitor, id: &str, after_seq: i64) -> AppResult<(ChatConversation, Vec<ChatMessage>)> {
        let row = self.visitor_row(v, id).await?;
        let msgs = self.store().messages_after(&row.id, after_seq.max(0), false, HISTORY_PAGE).await?;
        Ok((chat_conversation(&row), self.chat_messages(msgs).await?))
    }

    async fn chat_messages(&self, msgs: Vec<MessageRow>) -> AppResult<Vec<ChatMessage>> {
        let ids: Vec<String> = msgs.iter().map(|m| m.id.clone()).collect();
        let atts = if ids.is_empty() { Vec::new() } else { self.store().attachments_of_messages(&ids).await? };
        let mut out: Vec<ChatMessage> = msgs.into_iter().map(|m| chat_message(to_message(m, &atts, CHAT_ATTACHMENTS_URL))).collect();
        for m in &mut out {
            self.sign_attachments(&mut m.attachments).await?;
        }
        Ok(out)
    }

    /// A public message as customers see it, for live delivery; `None` for a note or a message
    /// that is gone.
    pub async fn chat_message_by_id(&self, id: &str) -> AppResult<Option<ChatMessage>> {
        match self.store().message_by_id(id).await? {
            Some(m) if !m.private => Ok(self.chat_messages(vec![m]).await?.pop()),
            _ => Ok(None),
        }
    }

    /// A conversation as customers see it, for live delivery.
    pub async fn chat_conversation_by_id(&self, id: &str) -> AppResult<Option<ChatConversation>> {
        match self.store().conversation_by_id(id).await? {
            Some(r) => Ok(Some(self.chat_view(&r).await?)),
            None => Ok(None),
        }
    }

    /// An anonymous visitor's contact, made with their first message (their typed name and
    /// e-mail are kept on it, never used to find another contact).
    async fn visitor_contact(&self, v: &mut ChatVisitor, prechat: Option<&PreChat>) -> AppResult<String> {
        if let Some(c) = &v.contact_id {
            return Ok(c.clone());
        }
        let key_hash = v.key_hash.clone().ok_or(AppError::Unauthenticated)?;
        let mut errors = Vec::new();
        let name = prechat.and_then(|p| p.name.as_deref()).map(str::trim).filter(|n| !n.is_empty());
        if name.is_some_and(|n| n.chars().count() > 120) {
            errors.push(FieldError::new("prechat.name", "must be at most 120 characters"));
        }
        let email = prechat.and_then(|p| p.email.as_deref()).map(str::trim).filter(|e| !e.is_empty());
        if let Some(e) = email {
            let input = ContactInput { emails: Some(vec![e.to_string()]), ..Default::default() };
            if crate::contacts::parse_contact(&input).is_err() {
                errors.push(FieldError::new("prechat.email", "must be an e-mail address like name@example.com"));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let id = Id::new().to_string();
        let name = name.map(str::to_string).unwrap_or_else(|| format!("Visitor {}", &id[id.len() - 6..]));
        let unverified_email = match email {
            Some(e) => Some(self.pii().await?.seal_text(&e.to_lowercase())),
            None => None,
        };
        let contact = NewContact {
            id: id.clone(),
            name: name.clone(),
            language: v.language.clone(),
            vip_tier: 0,
            kyc_level: 0,
            tags: "[]".into(),
            attributes: "{}".into(),
            notes: String::new(),
            identities: Vec::new(),
            unverified_email,
        };
        let contact_id = match self.store().create_chat_visitor(&contact, &Id::new().to_string(), &key_hash, micros(self.now())).await {
            Ok(()) => id,
            // The same browser's other connection made it a moment ago.
            Err(kefu_store::StoreError::Conflict(_)) => {
                self.store().chat_visitor_contact(&key_hash).await?.ok_or(AppError::IdentityTaken)?
            }
            Err(e) => return Err(e.into()),
        };
        v.contact_id = Some(contact_id.clone());
        v.name = name;
        Ok(contact_id)
    }

    /// Stores a customer's message and answers only once it is stored. Without a conversation
    /// id it starts a new chat. The client id makes a retry safe: the same id answers what was
    /// stored the first time, even when the retry lost the conversation id.
    pub async fn chat_send(
        &self,
        v: &mut ChatVisitor,
        conversation_id: Option<&str>,
        client_id: &str,
        body: &str,
        attachment_ids: &[String],
        prechat: Option<&PreChat>,
    ) -> AppResult<ChatSent> {
        let client_id = parse_client_key(client_id)
            .map_err(|_| AppError::Validation(vec![FieldError::new("client_id", "must be 1 to 100 visible ASCII characters")]))?;
        let mut errors = Vec::new();
        let min = usize::from(attachment_ids.is_empty());
        let body =
            crate::error::collect(&mut errors, kefu_domain::inbox::parse_text("body", body, min, crate::conversations::MAX_BODY_CHARS));
        let topic = prechat.and_then(|p| p.topic.as_deref()).filter(|t| !t.is_empty());
        if topic.is_some_and(|t| !PRECHAT_TOPICS.contains(&t)) {
            errors.push(FieldError::new("prechat.topic", format!("must be one of {}", PRECHAT_TOPICS.join(", "))));
        }
        let (Some(body), true) = (body, errors.is_empty()) else { return Err(AppError::Validation(errors)) };
        if let Some(id) = conversation_id {
            let row = self.visitor_row(v, id).await?;
            let contact = row.contact_id.clone();
            let input =
                NewMessageInput { body, client_key: Some(client_id), attachment_ids: attachment_ids.to_vec(), ..Default::default() };
            let posted = self.add_message(&row, AuthorKind::Customer, Some(contact.clone()), v.name.clone(), &contact, &input).await?;
            let replayed = matches!(posted, Posted::Replayed(_));
            let mut message = chat_message(posted.message().clone());
            self.sign_attachments(&mut message.attachments).await?;
            // As read before the message: the socket needs only its id, and reads it afresh
            // when it must describe it.
            return Ok(ChatSent { conversation: chat_conversation(&row), message, replayed });
        }
        let contact = self.visitor_contact(v, prechat).await?;
        if let Some(m) = self.store().message_by_contact_client_key(&contact, &client_id).await? {
            let row = self.store().conversation_by_id(&m.conversation_id).await?.ok_or(AppError::NotFound("conversation"))?;
            let message = self.chat_messages(vec![m]).await?.pop().ok_or(AppError::NotFound("message"))?;
            return Ok(ChatSent { conversation: self.chat_view(&row).await?, message, replayed: true });
        }
        let attachment_ids = self.check_attachments(attachment_ids, &contact).await?;
        let subject = match (body.trim().is_empty(), attachment_ids.is_empty()) {
            (true, false) => {
                self.store().attachments_by_ids(&attachment_ids).await?.first().map(|a| a.filename.clone()).unwrap_or_default()
            }
            _ => subject_from(&body),
        };
        let id = Id::new().to_string();
        let actor = ("customer".to_string(), Some(contact.clone()), v.name.clone());
        let mut fields = serde_json::Map::new();
        if let Some(t) = topic {
            fields.insert("category".into(), t.into());
        }
        let mut new = NewConversation {
            id: id.clone(),
            channel: Channel::Chat.as_str().into(),
            subject: subject_from(&subject),
            status: Status::Open.as_str().into(),
            priority: kefu_domain::Priority::Normal.rank(),
            contact: ContactRef::Existing(contact.clone()),
            assignee_id: None,
            team_id: None,
            language: v.language.clone(),
            intent: None,
            custom_fields: serde_json::Value::Object(fields).to_string(),
            tags: topic.map(|t| vec![t.to_string()]).unwrap_or_default(),
            message: Some(NewMessage {
                actions: None,
                shield: None,
                id: Id::new().to_string(),
                author_kind: "customer".into(),
                author_id: Some(contact.clone()),
                author_name: v.name.clone(),
                private: false,
                body,
                html: None,
                channel: Channel::Chat.as_str().into(),
                client_key: Some(client_id),
                mentions: "[]".into(),
                delivery: "{}".into(),
                attachment_ids,
                attachment_uploader: contact.clone(),
            }),
            activity: activity(&actor, "created", serde_json::json!({"channel": "chat", "verified_identity": v.verified})),
            verified_identity: Some(v.verified),
        };
        let (_, _, message) = self.insert_conversation(&mut new).await?;
        let row = self.store().conversation_by_id(&id).await?.ok_or(AppError::NotFound("conversation"))?;
        let message = self.chat_messages(message.into_iter().collect()).await?.pop().ok_or(AppError::NotFound("message"))?;
        Ok(ChatSent { conversation: self.chat_view(&row).await?, message, replayed: false })
    }

    /// The customer rates a resolved (or closed) chat, 1 to 5 with an optional comment; a
    /// second rating replaces the first. Agents see it on the conversation and its timeline.
    pub async fn chat_rate(&self, v: &ChatVisitor, id: &str, score: i64, comment: Option<&str>) -> AppResult<ChatRating> {
        let mut errors = Vec::new();
        if !(1..=5).contains(&score) {
            errors.push(FieldError::new("score", "must be 1 to 5"));
        }
        let comment = match comment.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => crate::error::collect(&mut errors, kefu_domain::inbox::parse_text("comment", c, 1, MAX_RATING_COMMENT)),
            None => None,
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let row = self.visitor_row(v, id).await?;
        let actor = ("customer".to_string(), Some(row.contact_id.clone()), v.name.clone());
        let a = activity(&actor, "rated", serde_json::json!({"score": score, "comment": comment}));
        if !self.store().rate_conversation(&row.id, score as i16, comment.as_deref(), &a, micros(self.now())).await? {
            return Err(AppError::NotResolved);
        }
        self.bus()
            .publish(DomainEvent::ConversationUpdated {
                conversation_id: row.id.clone(),
                team_id: row.team_id.clone(),
                version: row.version,
                changes: vec!["rated".into()],
            })
            .await;
        Ok(ChatRating { score: score as i16, comment })
    }

    /// The customer is typing (or stopped) in one of their chats; agents see it live.
    pub async fn chat_typing(&self, v: &ChatVisitor, id: &str, typing: bool) -> AppResult<()> {
        let row = self.visitor_row(v, id).await?;
        self.bus().publish(DomainEvent::CustomerTyping { conversation_id: row.id, team_id: row.team_id, typing }).await;
        Ok(())
    }

    /// The customer has seen their chat up to `seq`; agents see the read mark.
    pub async fn chat_read(&self, v: &ChatVisitor, id: &str, seq: i64) -> AppResult<()> {
        let row = self.visitor_row(v, id).await?;
        self.mark_read(row, ReadSide::Customer, seq).await
    }

    /// An agent has seen a conversation up to `seq`; the customer's widget shows it as read.
    pub async fn agent_read(&self, p: &Principal, id: &str, seq: i64) -> AppResult<()> {
        p.require_enrolled()?;
        let row = self.visible_conversation(p, id).await?;
        self.mark_read(row, ReadSide::Agent, seq).await
    }

    /// Moves one side's read mark and tells the other side, when it moved.
    async fn mark_read(&self, row: ConversationRow, side: ReadSide, seq: i64) -> AppResult<()> {
        if self.store().mark_read(&row.id, side, seq).await? {
            let reader = if side == ReadSide::Agent { "agent" } else { "customer" };
            self.bus()
                .publish(DomainEvent::MessagesRead { conversation_id: row.id, team_id: row.team_id, reader: reader.into(), seq })
                .await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap_or_default()
    }

    #[test]
    fn business_hours_follow_their_offset_across_days_and_weeks() {
        // Mondays only, 09:00 to 18:00 in UTC+8 (01:00 to 10:00 UTC). 2026-11-23 is a Monday.
        let h = BusinessHours {
            utc_offset: "+08:00".into(),
            days: [("mon".to_string(), DayHours { open: "09:00".into(), close: "18:00".into() })].into(),
        };
        assert!(h.errors().is_empty());
        // Sunday 23:30 UTC is Monday 07:30 there: closed until 09:00 there.
        assert_eq!(h.state(at(2026, 11, 22, 23, 30)), (false, Some(at(2026, 11, 23, 1, 0))));
        assert_eq!(h.state(at(2026, 11, 23, 2, 0)), (true, None));
        // 18:00 there is closing time: the next opening is a week later.
        assert_eq!(h.state(at(2026, 11, 23, 10, 0)), (false, Some(at(2026, 11, 30, 1, 0))));
        // West of UTC, and a day that closes at midnight.
        let h = BusinessHours {
            utc_offset: "-05:00".into(),
            days: [("sun".to_string(), DayHours { open: "20:00".into(), close: "24:00".into() })].into(),
        };
        assert_eq!(h.state(at(2026, 11, 23, 4, 59)), (true, None), "Sunday 23:59 there");
        assert_eq!(h.state(at(2026, 11, 23, 5, 0)), (false, Some(at(2026, 11, 30, 1, 0))), "Monday 00:00 there");
        let bad = BusinessHours {
            utc_offset: "8".into(),
            days: [("mon".to_string(), DayHours { open: "9:00".into(), close: "24:30".into() })].into(),
        };
        assert_eq!(bad.errors().len(), 2);
    }
}
