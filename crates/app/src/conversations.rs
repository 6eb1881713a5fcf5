//! Conversations as tickets: opening one on any channel, listing and counting views, changing
//! status, priority, assignee, team and tags under optimistic concurrency, replies and notes,
//! merging, bulk actions, and the timeline that records every change.

use crate::contacts::{ContactInput, parse_contact};
use crate::error::{collect, invalid as validation};
use crate::tokens::Scope;
use crate::{App, AppError, AppResult, Principal};
use base64::Engine;
use chrono::{DateTime, Utc};
use kefu_domain::inbox::{mentioned_ids, parse_fields, parse_locale, parse_tags, parse_text};
use kefu_domain::{
    Activity, Actor, AttachmentInfo, AuthorKind, Channel, Conversation, ConversationFilter, DomainEvent, FieldError, Id, Message, Page,
    Priority, Rating, Role, Status, TimelineItem,
};
use kefu_store::{
    ActivityRow, AgentRow, AttachmentRow, ContactRef, ConversationChanges, ConversationRow, Keyset, ListFilter, MessageEffects,
    MessageOutcome, MessageRow, NewActivity, NewConversation, NewMessage, NewNotification, Sort, StoreError, from_micros, micros,
};
use std::collections::BTreeMap;

/// Longest message body accepted, in characters.
pub const MAX_BODY_CHARS: usize = 50_000;
/// Attachments on one message.
pub const MAX_ATTACHMENTS: usize = 20;

#[derive(Debug, Clone, Default)]
pub struct NewMessageInput {
    pub body: String,
    pub html: Option<String>,
    /// `customer` logs what a customer said (phone call, API channel); `agent` is the default.
    pub author: Option<AuthorKind>,
    pub private: bool,
    pub client_key: Option<String>,
    pub attachment_ids: Vec<String>,
    /// Set the conversation's status along with the reply (e.g. reply and mark pending).
    pub status: Option<Status>,
    /// Quick replies and an article link (bot messages).
    pub actions: Option<kefu_domain::MessageActions>,
}

#[derive(Debug, Clone, Default)]
pub struct NewConversationInput {
    pub channel: Option<Channel>,
    pub subject: Option<String>,
    pub contact: ContactInput,
    /// An existing contact instead of `contact`'s identities.
    pub contact_id: Option<String>,
    pub message: Option<NewMessageInput>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub assignee_id: Option<String>,
    pub team_id: Option<String>,
    pub tags: Vec<String>,
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
    pub language: Option<String>,
    pub intent: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ConversationUpdate {
    /// The version the client saw; `None` applies to whatever is current.
    pub version: Option<i64>,
    pub subject: Option<String>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    /// `Some(None)` unassigns.
    pub assignee_id: Option<Option<String>>,
    pub team_id: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub add_tags: Vec<String>,
    pub remove_tags: Vec<String>,
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
    pub language: Option<Option<String>>,
    pub intent: Option<Option<String>>,
}

/// A listing request: a named or saved view, filters on top, a sort and a page.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    /// `mine`, `unassigned`, `open`, `all`, or a saved view's id.
    pub view: Option<String>,
    pub filter: ConversationFilter,
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ViewCounts {
    /// Assigned to me and still active (open, pending, on hold).
    pub mine: i64,
    /// Active and unassigned.
    pub unassigned: i64,
    /// Status open.
    pub open: i64,
    /// Every conversation not merged away.
    pub all: i64,
    pub by_status: BTreeMap<String, i64>,
    /// Active conversations per team id.
    pub by_team: BTreeMap<String, i64>,
    /// Conversations per saved view id.
    pub views: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Timeline {
    pub conversation: Conversation,
    pub items: Vec<TimelineItem>,
}

/// One bulk action for a selection of conversations.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum BulkAction {
    Assign {
        agent_id: Option<String>,
    },
    AddTags {
        tags: Vec<String>,
    },
    RemoveTags {
        tags: Vec<String>,
    },
    SetStatus {
        status: Status,
    },
    SetPriority {
        priority: Priority,
    },
    SetTeam {
        team_id: Option<String>,
    },
    /// Merge every selected conversation into this one.
    MergeInto {
        target_id: String,
    },
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct BulkResult {
    pub id: String,
    pub ok: bool,
    /// The problem code when this one failed.
    pub error: Option<String>,
}

pub enum Posted {
    Created(Message),
    /// The client key was seen before: this is the message stored then.
    Replayed(Message),
}

impl Posted {
    pub fn message(&self) -> &Message {
        match self {
            Posted::Created(m) | Posted::Replayed(m) => m,
        }
    }
}

pub(crate) fn to_conversation(r: ConversationRow, tags: Vec<String>) -> Conversation {
    let identity_check = crate::identity_check::latest_check(&r);
    Conversation {
        channel: Channel::parse(&r.channel).unwrap_or(Channel::Api),
        status: Status::parse(&r.status).unwrap_or(Status::Open),
        priority: Priority::from_rank(r.priority),
        custom_fields: serde_json::from_str(&r.custom_fields).unwrap_or_default(),
        waiting_since: r.waiting_since.map(from_micros),
        first_response_at: r.first_response_at.map(from_micros),
        resolved_at: r.resolved_at.map(from_micros),
        closed_at: r.closed_at.map(from_micros),
        last_activity_at: from_micros(r.last_activity_at),
        created_at: from_micros(r.created_at),
        updated_at: from_micros(r.updated_at),
        id: r.id,
        number: r.number,
        subject: r.subject,
        contact_id: r.contact_id,
        contact_name: r.contact_name,
        assignee_id: r.assignee_id,
        assignee_name: r.assignee_name,
        team_id: r.team_id,
        tags,
        language: r.language,
        intent: r.intent,
        merged_into: r.merged_into,
        message_count: r.message_count,
        version: r.version,
        verified_identity: r.verified_identity,
        customer_read_seq: r.customer_read_seq,
        rating: r.rating_score.map(|score| Rating {
            score,
            comment: r.rating_comment.filter(|c| !c.is_empty()),
            rated_at: r.rated_at.map(from_micros).unwrap_or_else(|| from_micros(r.updated_at)),
        }),
        identity_check,
    }
}

/// The row of a conversation just created, as the database now holds it.
fn created_row(c: &NewConversation, number: i64, now: i64, contact_name: String, assignee_name: Option<String>) -> ConversationRow {
    let (last_seq, message_count, waiting_since) = match &c.message {
        Some(m) => (1, 1, (m.author_kind == "customer" && !m.private).then_some(now)),
        None => (0, 0, None),
    };
    ConversationRow {
        id: c.id.clone(),
        number,
        channel: c.channel.clone(),
        subject: c.subject.clone(),
        status: c.status.clone(),
        priority: c.priority,
        contact_id: c.contact.id().to_string(),
        contact_name,
        assignee_id: c.assignee_id.clone(),
        assignee_name,
        team_id: c.team_id.clone(),
        language: c.language.clone(),
        intent: c.intent.clone(),
        custom_fields: c.custom_fields.clone(),
        merged_into: None,
        last_seq,
        message_count,
        waiting_since,
        first_response_at: None,
        resolved_at: None,
        closed_at: None,
        last_activity_at: now,
        version: 1,
        created_at: now,
        updated_at: now,
        verified_identity: c.verified_identity,
        customer_read_seq: 0,
        agent_read_seq: 0,
        rating_score: None,
        rating_comment: None,
        rated_at: None,
        identity_check: None,
    }
}

pub(crate) fn attachment_info(a: &AttachmentRow, url_base: &str) -> AttachmentInfo {
    AttachmentInfo {
        id: a.id.clone(),
        filename: a.filename.clone(),
        content_type: a.content_type.clone(),
        size: a.size,
        inline: a.inline_safe,
        has_thumbnail: a.thumbnail_key.is_some(),
        url: format!("{url_base}/{}", a.id),
    }
}

pub(crate) fn to_message(r: MessageRow, attachments: &[AttachmentRow], url_base: &str) -> Message {
    Message {
        author: Actor { kind: AuthorKind::parse(&r.author_kind).unwrap_or(AuthorKind::System), id: r.author_id, name: r.author_name },
        channel: Channel::parse(&r.channel).unwrap_or(Channel::Api),
        mentions: serde_json::from_str(&r.mentions).unwrap_or_default(),
        delivery: serde_json::from_str(&r.delivery).unwrap_or_default(),
        attachments: attachments
            .iter()
            .filter(|a| a.message_id.as_deref() == Some(r.id.as_str()))
            .map(|a| attachment_info(a, url_base))
            .collect(),
        actions: r.actions.as_deref().and_then(|a| serde_json::from_str(a).ok()),
        shield: r.shield.as_deref().and_then(|a| serde_json::from_str(a).ok()),
        created_at: from_micros(r.created_at),
        id: r.id,
        conversation_id: r.conversation_id,
        seq: r.seq,
        private: r.private,
        body: r.body,
        html: r.html,
        client_key: r.client_key,
    }
}

fn to_activity(r: ActivityRow) -> Activity {
    Activity {
        actor: Actor { kind: AuthorKind::parse(&r.actor_kind).unwrap_or(AuthorKind::System), id: r.actor_id, name: r.actor_name },
        data: serde_json::from_str(&r.data).unwrap_or(serde_json::Value::Null),
        created_at: from_micros(r.created_at),
        id: r.id,
        conversation_id: r.conversation_id,
        kind: r.kind,
    }
}

pub(crate) fn agent_actor(p: &Principal) -> (String, Option<String>, String) {
    ("agent".into(), Some(p.agent.id.to_string()), p.agent.name.as_str().to_string())
}

pub(crate) fn activity(actor: &(String, Option<String>, String), kind: &str, data: serde_json::Value) -> NewActivity {
    NewActivity {
        id: Id::new().to_string(),
        actor_kind: actor.0.clone(),
        actor_id: actor.1.clone(),
        actor_name: actor.2.clone(),
        kind: kind.into(),
        data: data.to_string(),
    }
}

fn parse_sort(s: Option<&str>) -> AppResult<Sort> {
    Ok(match s.unwrap_or("last_activity") {
        "last_activity" => Sort::LastActivity,
        "priority" => Sort::Priority,
        "waiting" => Sort::Waiting,
        "created" => Sort::Created,
        _ => return Err(validation("sort", "must be last_activity, priority, waiting or created")),
    })
}

fn sort_name(s: Sort) -> &'static str {
    match s {
        Sort::LastActivity => "last_activity",
        Sort::Priority => "priority",
        Sort::Waiting => "waiting",
        Sort::Created => "created",
    }
}

fn encode_cursor(sort: Sort, k: &Keyset) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}|{}|{}|{}", sort_name(sort), k.a, k.b, k.id))
}

fn decode_cursor(sort: Sort, c: &str) -> AppResult<Keyset> {
    let bad = || validation("cursor", "is not a cursor from this listing (with this sort)");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = raw.splitn(4, '|');
    let (Some(s), Some(a), Some(b), Some(id)) = (parts.next(), parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
    if s != sort_name(sort) || Id::parse(id).is_none() {
        return Err(bad());
    }
    Ok(Keyset { a: a.parse().map_err(|_| bad())?, b: b.parse().map_err(|_| bad())?, id: id.to_string() })
}

/// A client key: 1 to 100 visible ASCII characters, chosen by the client per message.
pub(crate) fn parse_client_key(raw: &str) -> AppResult<String> {
    if raw.is_empty() || raw.len() > 100 || !raw.chars().all(|c| c.is_ascii_graphic()) {
        return Err(validation("client_key", "must be 1 to 100 visible ASCII characters"));
    }
    Ok(raw.to_string())
}

pub(crate) fn sanitize_html(html: &str) -> String {
    ammonia::Builder::default().link_rel(Some("noopener noreferrer nofollow")).clean(html).to_string()
}

/// The subject from the first line of the first message when none was given.
pub(crate) fn subject_from(body: &str) -> String {
    let line = body.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let s: String = line.chars().take(80).collect();
    if s.is_empty() { "(no subject)".into() } else { s }
}

/// Narrows `f` by the filters in `cf` (a saved view's or the request's); `me` resolves `assignee=me`.
fn narrow(f: &mut ListFilter, me: &str, cf: &ConversationFilter) -> AppResult<()> {
    if let Some(st) = &cf.status {
        f.statuses = Some(st.iter().map(|s| s.as_str().to_string()).collect());
    }
    if let Some(a) = &cf.assignee {
        f.assignee = Some(match a.as_str() {
            "me" => Some(me.to_string()),
            "none" => None,
            other => Some(Id::parse(other).ok_or_else(|| validation("assignee", "must be me, none or an agent id"))?.to_string()),
        });
    }
    if let Some(t) = &cf.team {
        f.team = Some(match t.as_str() {
            "none" => None,
            other => Some(Id::parse(other).ok_or_else(|| validation("team", "must be none or a team id"))?.to_string()),
        });
    }
    if let Some(t) = &cf.tag {
        f.tag = Some(kefu_domain::inbox::parse_tag("tag", t)?);
    }
    if let Some(c) = cf.channel {
        f.channel = Some(c.as_str().into());
    }
    if let Some(pr) = cf.priority {
        f.priority = Some(pr.rank());
    }
    if let Some(c) = &cf.contact_id {
        f.contact_id = Some(Id::parse(c).ok_or_else(|| validation("contact_id", "is not a contact id"))?.to_string());
    }
    Ok(())
}

const ACTIVE: [&str; 3] = ["open", "pending", "on_hold"];

impl App {
    /// The store-side filter restricting `p` to what they may see.
    pub(crate) fn visibility(&self, p: &Principal) -> Option<String> {
        (p.agent.role == Role::Agent).then(|| p.agent.id.to_string())
    }

    /// The conversation if `p` may see it; a hidden one is reported as missing.
    pub(crate) async fn visible_conversation(&self, p: &Principal, id: &str) -> AppResult<ConversationRow> {
        let id = self.resolve_conversation_id(id).await?;
        let row = self.store().conversation_by_id(&id).await?.ok_or(AppError::NotFound("conversation"))?;
        if p.agent.role == Role::Agent
            && let Some(team) = &row.team_id
            && !self.store().agent_sees_team(p.agent.id.as_str(), team).await?
        {
            return Err(AppError::NotFound("conversation"));
        }
        Ok(row)
    }

    /// Accepts an id, a number, or `#number`.
    async fn resolve_conversation_id(&self, raw: &str) -> AppResult<String> {
        if let Some(id) = Id::parse(raw) {
            return Ok(id.to_string());
        }
        let n: i64 = raw.trim_start_matches('#').parse().map_err(|_| AppError::NotFound("conversation"))?;
        self.store().conversation_id_by_number(n).await?.ok_or(AppError::NotFound("conversation"))
    }

    pub(crate) async fn conversation_view(&self, row: ConversationRow) -> AppResult<Conversation> {
        let tags = self.store().tags_of(std::slice::from_ref(&row.id)).await?.into_iter().map(|(_, t)| t).collect();
        Ok(to_conversation(row, tags))
    }

    async fn check_agent(&self, field: &str, id: &str) -> AppResult<String> {
        Ok(self.check_agent_row(field, id).await?.id)
    }

    async fn check_agent_row(&self, field: &str, id: &str) -> AppResult<AgentRow> {
        let bad = || validation(field, "is not an active agent");
        let id = Id::parse(id).ok_or_else(bad)?;
        match self.store().agent_by_id(id.as_str()).await? {
            Some(a) if a.active => Ok(a),
            _ => Err(bad()),
        }
    }

    async fn check_team(&self, field: &str, id: &str) -> AppResult<String> {
        let bad = || validation(field, "is not a team");
        let id = Id::parse(id).ok_or_else(bad)?;
        self.store().team_by_id(id.as_str()).await?.map(|t| t.id).ok_or_else(bad)
    }

    /// Checks that each upload exists, belongs to `uploader` and is not on a message yet.
    pub(crate) async fn check_attachments(&self, ids: &[String], uploader: &str) -> AppResult<Vec<String>> {
        if ids.len() > MAX_ATTACHMENTS {
            return Err(validation("attachment_ids", format!("at most {MAX_ATTACHMENTS} attachments")));
        }
        let mut parsed = Vec::new();
        for raw in ids {
            let id = Id::parse(raw).ok_or_else(|| validation("attachment_ids", format!("{raw:?} is not an attachment id")))?;
            if !parsed.contains(&id.to_string()) {
                parsed.push(id.to_string());
            }
        }
        let rows = self.store().attachments_by_ids(&parsed).await?;
        for id in &parsed {
            match rows.iter().find(|r| &r.id == id) {
                Some(r) if r.uploader_id == uploader && r.message_id.is_none() => {}
                _ => return Err(validation("attachment_ids", format!("{id} is not an upload of yours waiting to be sent"))),
            }
        }
        Ok(parsed)
    }

    /// Opens a conversation on any channel, finding or creating its contact.
    #[tracing::instrument(skip_all, fields(actor = %p.agent.id))]
    pub async fn create_conversation(&self, p: &Principal, input: NewConversationInput) -> AppResult<(Conversation, Option<Message>)> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        let mut errors = Vec::new();
        let contact = parse_contact(&input.contact);
        let contact = match contact {
            Ok(c) => Some(c),
            Err(AppError::Validation(f)) => {
                errors.extend(f.into_iter().map(|e| FieldError::new(&format!("contact.{}", e.field), e.message)));
                None
            }
            Err(e) => return Err(e),
        };
        let message = match &input.message {
            Some(m) => collect(&mut errors, parse_text("message.body", &m.body, 1, MAX_BODY_CHARS)),
            None => None,
        };
        let subject = match &input.subject {
            Some(s) => collect(&mut errors, parse_text("subject", s, 1, 300)),
            None => match &message {
                Some(b) => Some(subject_from(b)),
                None => {
                    errors.push(FieldError::new("subject", "give a subject or a first message"));
                    None
                }
            },
        };
        let tags = collect(&mut errors, parse_tags("tags", &input.tags));
        if let Some(f) = &input.custom_fields {
            collect(&mut errors, parse_fields("custom_fields", f));
        }
        let language = input.language.as_deref().and_then(|l| collect(&mut errors, parse_locale("language", l)));
        let intent = input.intent.as_deref().and_then(|i| collect(&mut errors, parse_text("intent", i, 1, 64)));
        let client_key = match input.message.as_ref().and_then(|m| m.client_key.as_deref()) {
            Some(k) => match parse_client_key(k) {
                Ok(k) => Some(k),
                Err(AppError::Validation(f)) => {
                    errors.extend(f.into_iter().map(|e| FieldError::new("message.client_key", e.message)));
                    None
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        if input.contact_id.is_none()
            && contact
                .as_ref()
                .is_some_and(|c| c.identities.as_ref().is_none_or(|i| i.iter().all(|(_, v)| v.is_empty())) && c.name.is_none())
        {
            errors.push(FieldError::new(
                "contact",
                "give contact_id, or a contact with a name, e-mail, phone, exchange_user_id or telegram_id",
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let (Some(contact), Some(subject), Some(tags)) = (contact, subject, tags) else {
            return Err(AppError::Validation(errors));
        };
        let (assignee_id, assignee_name) = match &input.assignee_id {
            Some(a) => {
                let agent = self.check_agent_row("assignee_id", a).await?;
                (Some(agent.id), Some(agent.name))
            }
            None => (None, None),
        };
        let team_id = match &input.team_id {
            Some(t) => Some(self.check_team("team_id", t).await?),
            None => None,
        };
        let msg_input = input.message.clone().unwrap_or_default();
        let author = msg_input.author.unwrap_or(AuthorKind::Customer);
        if matches!(author, AuthorKind::Bot | AuthorKind::System) {
            return Err(validation("message.author", "must be customer or agent"));
        }
        let attachment_ids = match &input.message {
            Some(m) => self.check_attachments(&m.attachment_ids, p.agent.id.as_str()).await?,
            None => Vec::new(),
        };
        let channel = input.channel.unwrap_or(Channel::Api);
        let (contact_ref, contact_name) = match &input.contact_id {
            Some(cid) => {
                let cid = Id::parse(cid).ok_or_else(|| validation("contact_id", "is not a contact"))?;
                let c = self.store().contact_by_id(cid.as_str()).await?.ok_or_else(|| validation("contact_id", "is not a contact"))?;
                let c = self.follow_contact_row(c).await?;
                (ContactRef::Existing(c.id), c.name)
            }
            None => match self.find_contact_row(contact.identities.as_deref().unwrap_or(&[])).await? {
                Some(c) => (ContactRef::Existing(c.id), c.name),
                None => {
                    let n = contact.into_new(&*self.pii().await?);
                    let name = n.name.clone();
                    (ContactRef::New(n), name)
                }
            },
        };
        let id = Id::new().to_string();
        let actor = agent_actor(p);
        let status = input.status.unwrap_or(Status::Open);
        let message = message.map(|body| NewMessage {
            actions: None,
            shield: None,
            id: Id::new().to_string(),
            author_kind: author.as_str().into(),
            author_id: (author == AuthorKind::Agent).then(|| p.agent.id.to_string()),
            author_name: if author == AuthorKind::Agent { p.agent.name.as_str().to_string() } else { contact_name.clone() },
            private: msg_input.private && author == AuthorKind::Agent,
            body,
            html: msg_input.html.as_deref().map(sanitize_html),
            channel: channel.as_str().into(),
            client_key,
            mentions: "[]".into(),
            delivery: "{}".into(),
            attachment_ids,
            attachment_uploader: p.agent.id.to_string(),
        });
        let mut new = NewConversation {
            id: id.clone(),
            channel: channel.as_str().into(),
            subject,
            status: status.as_str().into(),
            priority: input.priority.unwrap_or(Priority::Normal).rank(),
            contact: contact_ref,
            assignee_id,
            team_id: team_id.clone(),
            language,
            intent,
            custom_fields: serde_json::Value::Object(input.custom_fields.clone().unwrap_or_default()).to_string(),
            tags,
            message,
            activity: activity(&actor, "created", serde_json::json!({"channel": channel.as_str()})),
            verified_identity: None,
        };
        let contact_before = new.contact.id().to_string();
        let (number, now, message) = self.insert_conversation(&mut new).await?;
        // The answer is built from what was written rather than read back.
        let contact_name = if new.contact.id() == contact_before { contact_name } else { self.contact_name(new.contact.id()).await? };
        let conversation = to_conversation(created_row(&new, number, now, contact_name, assignee_name), new.tags.clone());
        let has_attachments = new.message.as_ref().is_some_and(|m| !m.attachment_ids.is_empty());
        let message = match message {
            Some(m) if has_attachments => {
                let atts = self.store().attachments_of_messages(std::slice::from_ref(&m.id)).await?;
                Some(to_message(m, &atts, "/api/v1/attachments"))
            }
            Some(m) => Some(to_message(m, &[], "/api/v1/attachments")),
            None => None,
        };
        Ok((conversation, message))
    }

    async fn contact_name(&self, id: &str) -> AppResult<String> {
        Ok(self.store().contact_by_id(id).await?.map(|c| c.name).unwrap_or_default())
    }

    /// Stores a new conversation, announces it and queues it for search; every channel's
    /// conversations are born here.
    /// Returns the number, the creation time and the first message; `new.contact` ends up naming
    /// the contact actually used.
    pub(crate) async fn insert_conversation(&self, new: &mut NewConversation) -> AppResult<(i64, i64, Option<MessageRow>)> {
        // The shield, before anything else sees the text: the first message, and the subject
        // (which is often the message's first line, so it is made again from what is left).
        let shield = self.shield().await?;
        let mut findings = Vec::new();
        if let Some(m) = new.message.as_mut() {
            let scan = shield.scan(&m.body);
            if !scan.findings.is_empty() && m.body.contains(new.subject.trim_end_matches('…')) {
                new.subject = subject_from(&scan.redacted);
            }
            m.html = m.html.as_deref().map(|h| shield.redact(h).text);
            m.shield = crate::shield::note_json(&scan);
            m.body = scan.redacted;
            if m.author_kind == AuthorKind::Customer.as_str() {
                findings = scan.findings;
            }
        }
        new.subject = shield.redact(&new.subject).text;
        let now = micros(self.now());
        let (number, message) = match self.store().create_conversation(new, now).await {
            // Another request created the same new contact a moment ago: use that one.
            Err(StoreError::Conflict(c)) if matches!(new.contact, ContactRef::New(_)) => {
                let ContactRef::New(n) = &new.contact else { return Err(StoreError::Conflict(c).into()) };
                let keys: Vec<(String, String)> = n.identities.iter().map(|i| (i.kind.clone(), i.key.clone())).collect();
                let found = self.find_contact_by_keys(&keys).await?.ok_or(AppError::IdentityTaken)?.id;
                new.contact = ContactRef::Existing(found);
                self.store().create_conversation(new, now).await?
            }
            other => other?,
        };
        self.bus()
            .publish(DomainEvent::ConversationCreated {
                conversation_id: new.id.clone(),
                number,
                team_id: new.team_id.clone(),
                channel: new.channel.clone(),
            })
            .await;
        self.index_later(&new.id);
        if let Some(m) = message.as_ref().filter(|_| !findings.is_empty()) {
            self.secret_shared(&new.id, &m.id, &findings).await?;
        }
        Ok((number, now, message))
    }

    pub async fn get_conversation(&self, p: &Principal, id: &str) -> AppResult<Conversation> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        let row = self.visible_conversation(p, id).await?;
        self.conversation_view(row).await
    }

    /// The store filter for a view name (or saved view) plus explicit filters.
    async fn list_filter(&self, p: &Principal, view: Option<&str>, extra: &ConversationFilter) -> AppResult<ListFilter> {
        let me = p.agent.id.to_string();
        let mut f = ListFilter { hidden_for: self.visibility(p), ..Default::default() };
        let active = || Some(ACTIVE.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let mut base = ConversationFilter::default();
        match view.unwrap_or("all") {
            "all" => {}
            "mine" => {
                f.assignee = Some(Some(me.clone()));
                f.statuses = active();
            }
            "unassigned" => {
                f.assignee = Some(None);
                f.statuses = active();
            }
            "open" => f.statuses = Some(vec!["open".into()]),
            other => {
                let id = Id::parse(other).ok_or_else(|| validation("view", "must be mine, unassigned, open, all or a saved view id"))?;
                let v = self
                    .store()
                    .view_by_id(id.as_str())
                    .await?
                    .filter(|v| v.shared || v.owner_id == me)
                    .ok_or(AppError::NotFound("view"))?;
                base = serde_json::from_str(&v.filters).unwrap_or_default();
            }
        }
        narrow(&mut f, &me, &base)?;
        narrow(&mut f, &me, extra)?;
        Ok(f)
    }

    pub async fn list_conversations(&self, p: &Principal, req: ListRequest) -> AppResult<Page<Conversation>> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        let sort = parse_sort(req.sort.as_deref())?;
        let after = match req.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => Some(decode_cursor(sort, c)?),
            None => None,
        };
        let limit = req.limit.clamp(1, 200);
        let f = self.list_filter(p, req.view.as_deref(), &req.filter).await?;
        let rows = self.store().list_conversations(&f, sort, after.as_ref(), limit + 1).await?;
        let more = rows.len() as i64 > limit;
        let rows: Vec<ConversationRow> = rows.into_iter().take(limit as usize).collect();
        let next_cursor = if more { rows.last().map(|r| encode_cursor(sort, &sort.keyset(r))) } else { None };
        Ok(Page { items: self.conversation_views(rows).await?, next_cursor })
    }

    pub(crate) async fn conversation_views(&self, rows: Vec<ConversationRow>) -> AppResult<Vec<Conversation>> {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut tags: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (cid, t) in self.store().tags_of(&ids).await? {
            tags.entry(cid).or_default().push(t);
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let t = tags.remove(&r.id).unwrap_or_default();
                to_conversation(r, t)
            })
            .collect())
    }

    /// Counts for the inbox's sidebar: the built-in views, statuses, teams and saved views.
    pub async fn view_counts(&self, p: &Principal) -> AppResult<ViewCounts> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        let me = p.agent.id.to_string();
        let base = ListFilter { hidden_for: self.visibility(p), ..Default::default() };
        let mut c = ViewCounts {
            mine: 0,
            unassigned: 0,
            open: 0,
            all: 0,
            by_status: BTreeMap::new(),
            by_team: BTreeMap::new(),
            views: BTreeMap::new(),
        };
        for s in Status::ALL {
            c.by_status.insert(s.as_str().into(), 0);
        }
        for (status, team, assignee, n) in self.store().conversation_counts(&base).await? {
            let active = ACTIVE.contains(&status.as_str());
            c.all += n;
            *c.by_status.entry(status.clone()).or_default() += n;
            if status == "open" {
                c.open += n;
            }
            if active {
                match &assignee {
                    Some(a) if *a == me => c.mine += n,
                    None => c.unassigned += n,
                    _ => {}
                }
                if let Some(t) = team {
                    *c.by_team.entry(t).or_default() += n;
                }
            }
        }
        for v in self.store().list_views(&me).await? {
            let filters: ConversationFilter = serde_json::from_str(&v.filters).unwrap_or_default();
            let mut f = base.clone();
            // A view saved before a filter rule tightened counts as empty rather than failing the sidebar.
            let n = if narrow(&mut f, &me, &filters).is_ok() { self.store().count_conversations(&f).await? } else { 0 };
            c.views.insert(v.id, n);
        }
        Ok(c)
    }

    /// Changes fields of a conversation, each change recorded on its timeline.
    #[tracing::instrument(skip_all, fields(actor = %p.agent.id, conversation = id))]
    pub async fn update_conversation(&self, p: &Principal, id: &str, u: ConversationUpdate) -> AppResult<Conversation> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        let row = self.visible_conversation(p, id).await?;
        self.apply_update(p, row, u, None).await
    }

    pub(crate) async fn apply_update(
        &self,
        p: &Principal,
        row: ConversationRow,
        u: ConversationUpdate,
        macro_name: Option<&str>,
    ) -> AppResult<Conversation> {
        if let Some(v) = u.version
            && v != row.version
        {
            return Err(AppError::VersionConflict(row.version));
        }
        if let Some(target) = &row.merged_into {
            return Err(AppError::ConversationMerged(target.clone()));
        }
        let mut errors = Vec::new();
        let subject = u.subject.as_deref().and_then(|s| collect(&mut errors, parse_text("subject", s, 1, 300)));
        let tags_set = u.tags.as_ref().and_then(|t| collect(&mut errors, parse_tags("tags", t)));
        let add = collect(&mut errors, parse_tags("add_tags", &u.add_tags)).unwrap_or_default();
        let remove = collect(&mut errors, parse_tags("remove_tags", &u.remove_tags)).unwrap_or_default();
        if let Some(f) = &u.custom_fields {
            collect(&mut errors, parse_fields("custom_fields", f));
        }
        let language = u.language.as_ref().map(|l| l.as_deref().and_then(|l| collect(&mut errors, parse_locale("language", l))));
        let intent = u.intent.as_ref().map(|i| i.as_deref().and_then(|i| collect(&mut errors, parse_text("intent", i, 1, 64))));
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let old_status = Status::parse(&row.status).unwrap_or(Status::Open);
        if old_status == Status::Closed && u.status.is_some_and(|s| s != Status::Closed) {
            return Err(AppError::ConversationClosed);
        }
        let actor = agent_actor(p);
        let mut acts = Vec::new();
        let mut ch = ConversationChanges::default();
        let now = micros(self.now());
        if let Some(s) = subject.filter(|s| *s != row.subject) {
            acts.push(activity(&actor, "subject_changed", serde_json::json!({"from": row.subject, "to": s})));
            ch.subject = Some(s);
        }
        if let Some(s) = u.status.filter(|s| *s != old_status) {
            acts.push(activity(&actor, "status_changed", serde_json::json!({"from": row.status, "to": s.as_str()})));
            ch.status = Some(s.as_str().into());
            match s {
                Status::Resolved => ch.resolved_at = Some(Some(now)),
                Status::Closed => {
                    ch.closed_at = Some(Some(now));
                    if row.resolved_at.is_none() {
                        ch.resolved_at = Some(Some(now));
                    }
                }
                _ => ch.resolved_at = Some(None),
            }
        }
        if let Some(pr) = u.priority.filter(|pr| pr.rank() != row.priority) {
            acts.push(activity(
                &actor,
                "priority_changed",
                serde_json::json!({"from": Priority::from_rank(row.priority).as_str(), "to": pr.as_str()}),
            ));
            ch.priority = Some(pr.rank());
        }
        if let Some(a) = &u.assignee_id {
            let new = match a {
                Some(a) => Some(self.check_agent("assignee_id", a).await?),
                None => None,
            };
            if new != row.assignee_id {
                let name = match &new {
                    Some(id) => self.store().agent_by_id(id).await?.map(|a| a.name),
                    None => None,
                };
                acts.push(activity(&actor, "assigned", serde_json::json!({"from": row.assignee_id, "to": new, "to_name": name})));
                ch.assignee_id = Some(new);
            }
        }
        if let Some(t) = &u.team_id {
            let new = match t {
                Some(t) => Some(self.check_team("team_id", t).await?),
                None => None,
            };
            if new != row.team_id {
                acts.push(activity(&actor, "team_changed", serde_json::json!({"from": row.team_id, "to": new})));
                ch.team_id = Some(new);
            }
        }
        let current: Vec<String> = self.store().tags_of(std::slice::from_ref(&row.id)).await?.into_iter().map(|(_, t)| t).collect();
        if tags_set.is_some() || !add.is_empty() || !remove.is_empty() {
            let mut next = tags_set.unwrap_or_else(|| current.clone());
            next.extend(add);
            next.retain(|t| !remove.contains(t));
            next.sort();
            next.dedup();
            if next != current {
                let added: Vec<&String> = next.iter().filter(|t| !current.contains(t)).collect();
                let removed: Vec<&String> = current.iter().filter(|t| !next.contains(t)).collect();
                acts.push(activity(&actor, "tags_changed", serde_json::json!({"added": added, "removed": removed})));
                ch.tags = Some(next);
            }
        }
        if let Some(f) = &u.custom_fields {
            let old: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&row.custom_fields).unwrap_or_default();
            let mut merged = old.clone();
            for (k, v) in f {
                if v.is_null() {
                    merged.remove(k);
                } else {
                    merged.insert(k.clone(), v.clone());
                }
            }
            if merged != old {
                acts.push(activity(&actor, "fields_changed", serde_json::json!({"fields": f})));
                ch.custom_fields = Some(serde_json::Value::Object(merged).to_string());
            }
        }
        if let Some(l) = language.filter(|l| *l != row.language) {
            ch.language = Some(l);
        }
        if let Some(i) = intent.filter(|i| *i != row.intent) {
            ch.intent = Some(i);
        }
        if let Some(name) = macro_name {
            acts.push(activity(&actor, "macro_applied", serde_json::json!({"macro": name})));
        }
        if acts.is_empty() && ch.language.is_none() && ch.intent.is_none() {
            return self.conversation_view(row).await;
        }
        let Some(version) = self.store().update_conversation(&row.id, row.version, &ch, &acts, now).await? else {
            let current = self.store().conversation_by_id(&row.id).await?.map(|r| r.version).unwrap_or(row.version);
            return Err(AppError::VersionConflict(current));
        };
        let changes: Vec<String> = acts.iter().map(|a| a.kind.clone()).collect();
        let team_id = ch.team_id.clone().unwrap_or(row.team_id.clone());
        self.bus().publish(DomainEvent::ConversationUpdated { conversation_id: row.id.clone(), team_id, version, changes }).await;
        self.index_later(&row.id);
        let row = self.store().conversation_by_id(&row.id).await?.ok_or(AppError::NotFound("conversation"))?;
        self.conversation_view(row).await
    }

    /// An agent's reply or private note, or a customer message logged by an agent or integration.
    #[tracing::instrument(skip_all, fields(actor = %p.agent.id, conversation = id))]
    pub async fn post_message(&self, p: &Principal, id: &str, m: NewMessageInput) -> AppResult<(Posted, Conversation)> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        let row = self.visible_conversation(p, id).await?;
        let author = m.author.unwrap_or(AuthorKind::Agent);
        let (name, author_id) = match author {
            AuthorKind::Agent => (p.agent.name.as_str().to_string(), Some(p.agent.id.to_string())),
            AuthorKind::Customer => (row.contact_name.clone(), Some(row.contact_id.clone())),
            _ => return Err(validation("author", "must be agent or customer")),
        };
        if author == AuthorKind::Agent && !m.private {
            self.check_agent_links(p, &row.id, &m.body).await?;
        }
        let posted = self.add_message(&row, author, author_id, name, p.agent.id.as_str(), &m).await?;
        if let (Posted::Created(_), Some(status)) = (&posted, m.status)
            && author == AuthorKind::Agent
        {
            let current = self.store().conversation_by_id(&row.id).await?.ok_or(AppError::NotFound("conversation"))?;
            if Status::parse(&current.status) != Some(status) {
                self.apply_update(p, current, ConversationUpdate { status: Some(status), ..Default::default() }, None).await?;
            }
        }
        if let Posted::Created(msg) = &posted
            && author == AuthorKind::Agent
        {
            if msg.private {
                self.notify_mentions(p, &row, msg).await?;
            } else if row.channel == Channel::Api.as_str() {
                self.enqueue_webhook(&row, msg).await?;
            } else {
                self.schedule_chat_follow_up(&row).await?;
            }
        }
        let conv = self.store().conversation_by_id(&row.id).await?.ok_or(AppError::NotFound("conversation"))?;
        Ok((posted, self.conversation_view(conv).await?))
    }

    /// Records how a message went out on one way of delivery (`webhook`, `email`…), keeping the
    /// others' states.
    pub(crate) async fn mark_delivery(&self, m: &kefu_store::MessageRow, channel: &str, state: &str) -> AppResult<()> {
        let mut delivery: std::collections::BTreeMap<String, String> = serde_json::from_str(&m.delivery).unwrap_or_default();
        delivery.insert(channel.into(), state.into());
        Ok(self.store().set_delivery(&m.id, &serde_json::to_string(&delivery).unwrap_or_default()).await?)
    }

    /// A message from Kefu itself to the customer (a warning, a request), on the conversation's
    /// channel.
    pub(crate) async fn post_system(&self, row: &ConversationRow, body: String) -> AppResult<()> {
        let input = NewMessageInput { body, ..Default::default() };
        // Boxed: storing a customer's message can lead here (the shield's warning), and here back
        // to storing a message.
        Box::pin(self.add_message(row, AuthorKind::System, None, "Kefu".into(), "", &input)).await?;
        Ok(())
    }

    /// Stores a message by anyone and moves the conversation along; the one path every
    /// channel's messages take.
    pub(crate) async fn add_message(
        &self,
        row: &ConversationRow,
        author: AuthorKind,
        author_id: Option<String>,
        author_name: String,
        uploader: &str,
        m: &NewMessageInput,
    ) -> AppResult<Posted> {
        let mut errors = Vec::new();
        // A message of files alone may say nothing.
        let body = collect(&mut errors, parse_text("body", &m.body, usize::from(m.attachment_ids.is_empty()), MAX_BODY_CHARS));
        let client_key = match m.client_key.as_deref() {
            Some(k) => match parse_client_key(k) {
                Ok(k) => Some(k),
                Err(AppError::Validation(f)) => {
                    errors.extend(f);
                    None
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        if m.private && !matches!(author, AuthorKind::Agent | AuthorKind::Bot) {
            errors.push(FieldError::new("private", "only agents write private notes"));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let Some(body) = body else { return Err(AppError::Validation(errors)) };
        // The shield, before anything else sees the text.
        let shield = self.shield().await?;
        // A customer's bare 64-hex string is a key unless it answers a question for a
        // transaction hash: the last thing said to them decides.
        let prompt = if author == AuthorKind::Customer && shield.needs_prompt(&body) {
            let recent = self.store().messages_after(&row.id, row.last_seq - 5, false, 5).await?;
            recent.into_iter().rev().find(|r| r.author_kind != AuthorKind::Customer.as_str()).map(|r| r.body)
        } else {
            None
        };
        let scan = shield.scan_after(&body, prompt.as_deref());
        let html = m.html.as_deref().map(|h| sanitize_html(&shield.redact(h).text));
        let body = scan.redacted.clone();
        if let Some(target) = &row.merged_into {
            return Err(AppError::ConversationMerged(target.clone()));
        }
        if let Some(k) = &client_key
            && let Some(existing) = self.store().message_by_client_key(&row.id, k).await?
        {
            return Ok(Posted::Replayed(self.message_view(existing).await?));
        }
        if author == AuthorKind::Customer && row.status == Status::Closed.as_str() {
            return Err(AppError::ConversationClosed);
        }
        let attachment_ids = self.check_attachments(&m.attachment_ids, uploader).await?;
        let mentions = if m.private {
            let mut ok = Vec::new();
            for a in mentioned_ids(&body) {
                if let Some(agent) = self.store().agent_by_id(&a).await?
                    && agent.active
                {
                    ok.push(agent.id);
                }
            }
            ok
        } else {
            Vec::new()
        };
        let public_agent = author == AuthorKind::Agent && !m.private;
        let delivery = if public_agent && row.channel == Channel::Api.as_str() && self.api_channel_settings().await?.webhook_url.is_some() {
            serde_json::json!({"webhook": "pending"}).to_string()
        } else {
            "{}".into()
        };
        let new = NewMessage {
            id: Id::new().to_string(),
            author_kind: author.as_str().into(),
            author_id,
            author_name,
            private: m.private,
            body,
            html,
            channel: row.channel.clone(),
            client_key,
            mentions: serde_json::to_string(&mentions).unwrap_or_else(|_| "[]".into()),
            delivery,
            actions: m.actions.as_ref().map(|a| serde_json::to_string(a).unwrap_or_default()),
            shield: crate::shield::note_json(&scan),
            attachment_ids,
            attachment_uploader: uploader.to_string(),
        };
        let effects = MessageEffects { from_customer: author == AuthorKind::Customer, public_agent_reply: public_agent };
        match self.store().add_message(&row.id, &new, effects, micros(self.now())).await? {
            MessageOutcome::Missing => Err(AppError::NotFound("conversation")),
            MessageOutcome::Duplicate(existing) => Ok(Posted::Replayed(self.message_view(existing).await?)),
            MessageOutcome::Stored { message, old_status, new_status, version, team_id } => {
                self.bus()
                    .publish(DomainEvent::MessageCreated {
                        conversation_id: row.id.clone(),
                        team_id: team_id.clone(),
                        message_id: message.id.clone(),
                        seq: message.seq,
                        author_kind: message.author_kind.clone(),
                        private: message.private,
                        channel: row.channel.clone(),
                    })
                    .await;
                if old_status != new_status {
                    self.bus()
                        .publish(DomainEvent::ConversationUpdated {
                            conversation_id: row.id.clone(),
                            team_id,
                            version,
                            changes: vec!["status_changed".into()],
                        })
                        .await;
                }
                self.index_later(&row.id);
                if author == AuthorKind::Customer && !scan.findings.is_empty() {
                    self.secret_shared(&row.id, &message.id, &scan.findings).await?;
                }
                Ok(Posted::Created(self.message_view(message).await?))
            }
        }
    }

    pub(crate) async fn message_view(&self, r: MessageRow) -> AppResult<Message> {
        let atts = self.store().attachments_of_messages(std::slice::from_ref(&r.id)).await?;
        Ok(to_message(r, &atts, "/api/v1/attachments"))
    }

    async fn notify_mentions(&self, p: &Principal, row: &ConversationRow, msg: &Message) -> AppResult<()> {
        let excerpt: String = msg.body.chars().take(200).collect();
        for agent in msg.mentions.iter().filter(|a| **a != p.agent.id.as_str()) {
            let id = Id::new().to_string();
            self.store()
                .insert_notification(
                    &NewNotification {
                        id: id.clone(),
                        agent_id: agent,
                        kind: "mention",
                        conversation_id: &row.id,
                        message_id: Some(&msg.id),
                        actor_name: p.agent.name.as_str(),
                        excerpt: &excerpt,
                    },
                    micros(self.now()),
                )
                .await?;
            self.bus().publish(DomainEvent::NotificationCreated { agent_id: agent.clone(), notification_id: id }).await;
        }
        Ok(())
    }

    /// Everything that happened in a conversation, messages and changes, in order.
    pub async fn timeline(&self, p: &Principal, id: &str) -> AppResult<Timeline> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        let row = self.visible_conversation(p, id).await?;
        let messages = self.store().messages_of(std::slice::from_ref(&row.id), true, 10_000).await?;
        let ids: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
        let atts = self.store().attachments_of_messages(&ids).await?;
        let acts = self.store().activities_of(&row.id, 10_000).await?;
        let mut items: Vec<(DateTime<Utc>, i64, TimelineItem)> = Vec::new();
        for m in messages {
            let m = to_message(m, &atts, "/api/v1/attachments");
            items.push((m.created_at, 1, TimelineItem::Message(Box::new(m))));
        }
        for a in acts {
            let a = to_activity(a);
            items.push((a.created_at, 0, TimelineItem::Activity(a)));
        }
        items.sort_by_key(|x| (x.0, x.1));
        Ok(Timeline { conversation: self.conversation_view(row).await?, items: items.into_iter().map(|x| x.2).collect() })
    }

    /// Merges each of `sources` into `target`: their messages move over, they close as merged.
    #[tracing::instrument(skip_all, fields(actor = %p.agent.id, target = target))]
    pub async fn merge_conversations(&self, p: &Principal, target: &str, sources: &[String]) -> AppResult<Conversation> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        if sources.is_empty() || sources.len() > 100 {
            return Err(validation("source_ids", "give 1 to 100 conversations to merge"));
        }
        let t = self.visible_conversation(p, target).await?;
        if let Some(m) = &t.merged_into {
            return Err(AppError::ConversationMerged(m.clone()));
        }
        let mut rows = Vec::new();
        for s in sources {
            let r = self.visible_conversation(p, s).await.map_err(|e| match e {
                AppError::NotFound(_) => validation("source_ids", format!("{s} is not a conversation you can see")),
                e => e,
            })?;
            if r.id == t.id {
                return Err(validation("source_ids", "cannot merge a conversation into itself"));
            }
            if let Some(m) = &r.merged_into {
                return Err(AppError::ConversationMerged(m.clone()));
            }
            rows.push(r);
        }
        let actor = agent_actor(p);
        for r in rows {
            let into = activity(&actor, "merged_from", serde_json::json!({"source_id": r.id, "source_number": r.number}));
            let from = activity(&actor, "merged_into", serde_json::json!({"target_id": t.id, "target_number": t.number}));
            if !self.store().merge_conversations(&t.id, &r.id, &into, &from, micros(self.now())).await? {
                return Err(AppError::ConversationMerged(t.id.clone()));
            }
            let source = self.store().conversation_by_id(&r.id).await?.ok_or(AppError::NotFound("conversation"))?;
            self.bus()
                .publish(DomainEvent::ConversationUpdated {
                    conversation_id: r.id.clone(),
                    team_id: r.team_id.clone(),
                    version: source.version,
                    changes: vec!["merged_into".into()],
                })
                .await;
            self.index_later(&r.id);
        }
        let row = self.store().conversation_by_id(&t.id).await?.ok_or(AppError::NotFound("conversation"))?;
        self.bus()
            .publish(DomainEvent::ConversationUpdated {
                conversation_id: row.id.clone(),
                team_id: row.team_id.clone(),
                version: row.version,
                changes: vec!["merged_from".into()],
            })
            .await;
        self.index_later(&row.id);
        self.conversation_view(row).await
    }

    /// Applies one action to each selected conversation; each succeeds or fails on its own.
    pub async fn bulk_update(&self, p: &Principal, ids: &[String], action: BulkAction) -> AppResult<Vec<BulkResult>> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        if ids.is_empty() || ids.len() > 100 {
            return Err(validation("ids", "select 1 to 100 conversations"));
        }
        let update = match action {
            BulkAction::MergeInto { target_id } => {
                let sources: Vec<String> = ids.iter().filter(|i| **i != target_id).cloned().collect();
                self.merge_conversations(p, &target_id, &sources).await?;
                return Ok(ids.iter().map(|i| BulkResult { id: i.clone(), ok: true, error: None }).collect());
            }
            BulkAction::Assign { agent_id } => ConversationUpdate { assignee_id: Some(agent_id), ..Default::default() },
            BulkAction::AddTags { tags } => ConversationUpdate { add_tags: tags, ..Default::default() },
            BulkAction::RemoveTags { tags } => ConversationUpdate { remove_tags: tags, ..Default::default() },
            BulkAction::SetStatus { status } => ConversationUpdate { status: Some(status), ..Default::default() },
            BulkAction::SetPriority { priority } => ConversationUpdate { priority: Some(priority), ..Default::default() },
            BulkAction::SetTeam { team_id } => ConversationUpdate { team_id: Some(team_id), ..Default::default() },
        };
        let mut out = Vec::new();
        for id in ids {
            let r = match self.visible_conversation(p, id).await {
                Ok(row) => self.apply_update(p, row, update.clone(), None).await.map(|_| ()),
                Err(e) => Err(e),
            };
            match r {
                Ok(()) => out.push(BulkResult { id: id.clone(), ok: true, error: None }),
                // A bad action is the same mistake for every row: say it once, for the request.
                Err(AppError::Validation(f)) => return Err(AppError::Validation(f)),
                Err(e @ AppError::Internal(_)) => return Err(e),
                Err(e) => out.push(BulkResult { id: id.clone(), ok: false, error: Some(e.code().into()) }),
            }
        }
        Ok(out)
    }

    /// Tags in use, most used first.
    pub async fn list_tags(&self, p: &Principal) -> AppResult<Vec<(String, i64)>> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        Ok(self.store().tag_counts(500).await?)
    }

    /// Conversations of a contact (visible ones), newest activity first.
    pub async fn contact_conversations(&self, p: &Principal, contact_id: &str) -> AppResult<Vec<Conversation>> {
        let c = self.get_contact(p, contact_id).await?;
        let f = ListFilter { contact_id: Some(c.id), hidden_for: self.visibility(p), ..Default::default() };
        let rows = self.store().list_conversations(&f, Sort::LastActivity, None, 200).await?;
        self.conversation_views(rows).await
    }
}
