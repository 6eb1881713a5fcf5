//! Conversations (tickets), their tags, messages and activity timeline. A write that changes a
//! conversation and records why happens in one transaction, so the timeline never lies.

use crate::contacts::{NewContact, placeholders};
use crate::script::Script;
use crate::{Result, Store, StoreError, read_pool, write_pool};

/// Records `$a` on conversation `$conv`'s timeline at `$at`, inside the open transaction `$tx`.
macro_rules! insert_activity_tx {
    ($tx:expr, $conv:expr, $a:expr, $at:expr) => {{
        let a: &NewActivity = $a;
        sqlx::query(INSERT_ACTIVITY)
            .bind(&a.id)
            .bind($conv)
            .bind(&a.actor_kind)
            .bind(&a.actor_id)
            .bind(&a.actor_name)
            .bind(&a.kind)
            .bind(&a.data)
            .bind($at)
            .execute(&mut *$tx)
            .await?;
    }};
}
pub(crate) use insert_activity_tx;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversationRow {
    pub id: String,
    pub number: i64,
    pub channel: String,
    pub subject: String,
    pub status: String,
    pub priority: i64,
    pub contact_id: String,
    pub contact_name: String,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub team_id: Option<String>,
    pub language: Option<String>,
    pub intent: Option<String>,
    pub custom_fields: String,
    pub merged_into: Option<String>,
    pub last_seq: i64,
    pub message_count: i64,
    pub waiting_since: Option<i64>,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub last_activity_at: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Live chat: whether the exchange vouched for the customer (None on other channels).
    pub verified_identity: Option<bool>,
    /// The highest message `seq` the customer, and any agent, has seen.
    pub customer_read_seq: i64,
    pub agent_read_seq: i64,
    /// The customer's rating (1 to 5) of a resolved chat, with their comment.
    pub rating_score: Option<i16>,
    pub rating_comment: Option<String>,
    pub rated_at: Option<i64>,
    /// The latest identity check's public state (JSON), if one was ever started.
    pub identity_check: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: String,
    pub conversation_id: String,
    pub seq: i64,
    pub author_kind: String,
    pub author_id: Option<String>,
    pub author_name: String,
    pub private: bool,
    pub body: String,
    pub html: Option<String>,
    pub channel: String,
    pub client_key: Option<String>,
    pub mentions: String,
    pub delivery: String,
    /// Quick replies and an article link on bot messages (JSON).
    pub actions: Option<String>,
    /// What the security shield noted: secrets redacted, links' verdicts (JSON).
    pub shield: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActivityRow {
    pub id: String,
    pub conversation_id: String,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub kind: String,
    pub data: String,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewActivity {
    pub id: String,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub kind: String,
    pub data: String,
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: String,
    pub author_kind: String,
    pub author_id: Option<String>,
    pub author_name: String,
    pub private: bool,
    pub body: String,
    pub html: Option<String>,
    pub channel: String,
    pub client_key: Option<String>,
    pub mentions: String,
    pub delivery: String,
    /// Quick replies and an article link on bot messages (JSON).
    pub actions: Option<String>,
    /// What the security shield noted: secrets redacted, links' verdicts (JSON).
    pub shield: Option<String>,
    /// Uploads by the same author, not yet on a message, to attach.
    pub attachment_ids: Vec<String>,
    pub attachment_uploader: String,
}

impl NewMessage {
    /// The row this message becomes as number `seq` of its conversation.
    fn row(&self, conversation_id: &str, seq: i64, author_id: Option<String>, now: i64) -> MessageRow {
        MessageRow {
            id: self.id.clone(),
            conversation_id: conversation_id.to_string(),
            seq,
            author_kind: self.author_kind.clone(),
            author_id,
            author_name: self.author_name.clone(),
            private: self.private,
            body: self.body.clone(),
            html: self.html.clone(),
            channel: self.channel.clone(),
            client_key: self.client_key.clone(),
            mentions: self.mentions.clone(),
            delivery: self.delivery.clone(),
            actions: self.actions.clone(),
            shield: self.shield.clone(),
            created_at: now,
        }
    }
}

pub enum ContactRef {
    Existing(String),
    New(NewContact),
}

impl ContactRef {
    pub fn id(&self) -> &str {
        match self {
            ContactRef::Existing(id) => id,
            ContactRef::New(n) => &n.id,
        }
    }
}

pub struct NewConversation {
    pub id: String,
    pub channel: String,
    pub subject: String,
    pub status: String,
    pub priority: i64,
    pub contact: ContactRef,
    pub assignee_id: Option<String>,
    pub team_id: Option<String>,
    pub language: Option<String>,
    pub intent: Option<String>,
    pub custom_fields: String,
    pub tags: Vec<String>,
    pub message: Option<NewMessage>,
    pub activity: NewActivity,
    /// Live chat: whether the exchange vouched for the customer.
    pub verified_identity: Option<bool>,
}

/// How a new message moves its conversation along.
#[derive(Debug, Clone, Copy, Default)]
pub struct MessageEffects {
    /// A customer wrote: a resolved conversation opens again and the wait starts.
    pub from_customer: bool,
    /// An agent replied publicly: the wait ends and the first response is recorded.
    pub public_agent_reply: bool,
}

pub enum MessageOutcome {
    Stored {
        message: MessageRow,
        old_status: String,
        new_status: String,
        version: i64,
        team_id: Option<String>,
    },
    /// A message with this client key is already stored: the retry gets it back.
    Duplicate(MessageRow),
    /// The conversation does not exist.
    Missing,
}

/// What an update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ConversationChanges {
    pub subject: Option<String>,
    pub status: Option<String>,
    pub priority: Option<i64>,
    pub assignee_id: Option<Option<String>>,
    pub team_id: Option<Option<String>>,
    pub language: Option<Option<String>>,
    pub intent: Option<Option<String>>,
    pub custom_fields: Option<String>,
    pub tags: Option<Vec<String>>,
    pub resolved_at: Option<Option<i64>>,
    pub closed_at: Option<Option<i64>>,
    pub merged_into: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Most recent activity first.
    LastActivity,
    /// Most urgent first, then most recent.
    Priority,
    /// Longest-waiting customer first; conversations nobody waits on come last.
    Waiting,
    /// Newest first.
    Created,
}

/// A listing's filter, in store terms. `hidden_for` restricts to what that (non-supervisor)
/// agent may see: no conversation of a private team they are not in.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub statuses: Option<Vec<String>>,
    /// `Some(None)`: unassigned.
    pub assignee: Option<Option<String>>,
    pub team: Option<Option<String>>,
    pub tag: Option<String>,
    pub channel: Option<String>,
    pub priority: Option<i64>,
    pub contact_id: Option<String>,
    pub ids: Option<Vec<String>>,
    pub hidden_for: Option<String>,
    pub include_merged: bool,
}

/// Position after the last row of a page: the sort key values and the id.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyset {
    pub a: i64,
    pub b: i64,
    pub id: String,
}

const SELECT_CONVERSATION: &str = "SELECT c.id, c.number, c.channel, c.subject, c.status, c.priority, c.contact_id, ct.name AS contact_name, \
       c.assignee_id, a.name AS assignee_name, c.team_id, c.language, c.intent, c.custom_fields, c.merged_into, c.last_seq, \
       c.message_count, c.waiting_since, c.first_response_at, c.resolved_at, c.closed_at, c.last_activity_at, c.version, \
       c.created_at, c.updated_at, c.verified_identity, c.customer_read_seq, c.agent_read_seq, \
       c.rating_score, c.rating_comment, c.rated_at, c.identity_check \
     FROM conversations c JOIN contacts ct ON ct.id = c.contact_id LEFT JOIN agents a ON a.id = c.assignee_id";

pub(crate) const MESSAGE_COLUMNS: &str = "id, conversation_id, seq, author_kind, author_id, author_name, private, body, html, channel, client_key, mentions, delivery, actions, shield, created_at";

/// A message, taking its `seq` from the conversation's `last_seq` (set just before in the same
/// script); inserts nothing when the conversation does not exist.
const INSERT_MESSAGE: &str = "INSERT INTO messages (id, conversation_id, seq, author_kind, author_id, author_name, private, body, html, \
       channel, client_key, mentions, delivery, actions, shield, created_at) \
     SELECT $1, id, last_seq, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $14, $15, $12 FROM conversations WHERE id = $13";

/// Pushes message `r` and the linking of its files (the uploader's own, not yet attached).
fn push_message(script: &mut Script, r: &MessageRow, m: &NewMessage) {
    let id = &r.conversation_id;
    script.push(
        INSERT_MESSAGE,
        vec![
            (&r.id).into(),
            (&r.author_kind).into(),
            (&r.author_id).into(),
            (&r.author_name).into(),
            r.private.into(),
            (&r.body).into(),
            (&r.html).into(),
            (&r.channel).into(),
            (&r.client_key).into(),
            (&r.mentions).into(),
            (&r.delivery).into(),
            r.created_at.into(),
            id.into(),
            (&r.actions).into(),
            (&r.shield).into(),
        ],
    );
    for a in &m.attachment_ids {
        script.push(
            "UPDATE attachments SET message_id = $1, conversation_id = $2 WHERE id = $3 AND uploader_id = $4 AND message_id IS NULL",
            vec![(&r.id).into(), id.into(), a.into(), (&m.attachment_uploader).into()],
        );
    }
}

pub(crate) const INSERT_ACTIVITY: &str = "INSERT INTO activities (id, conversation_id, actor_kind, actor_id, actor_name, kind, data, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Keeps the waiting customer's clock: customer messages start it, public agent replies stop it.
/// A customer's answer puts a conversation waiting on them (pending) or resolved back to open;
/// one on hold keeps waiting for its third party.
const APPLY_MESSAGE: &str = "UPDATE conversations SET last_seq = last_seq + 1, message_count = message_count + 1, \
       last_activity_at = $2, updated_at = $2, \
       status = CASE WHEN $3 AND status IN ('resolved', 'pending') THEN 'open' ELSE status END, \
       resolved_at = CASE WHEN $3 AND status = 'resolved' THEN NULL ELSE resolved_at END, \
       version = CASE WHEN $3 AND status IN ('resolved', 'pending') THEN version + 1 ELSE version END, \
       waiting_since = CASE WHEN $3 THEN COALESCE(waiting_since, $2) WHEN $4 THEN NULL ELSE waiting_since END, \
       first_response_at = CASE WHEN $4 THEN COALESCE(first_response_at, $2) ELSE first_response_at END \
     WHERE id = $1 RETURNING last_seq, status, version, team_id";

enum Bind {
    Text(String),
    Int(i64),
}

impl Sort {
    /// (ORDER BY, keyset expressions a and b, comparison) for this sort.
    fn sql(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Sort::LastActivity => ("c.last_activity_at DESC, c.id DESC", "c.last_activity_at", "0", "<"),
            Sort::Priority => ("c.priority DESC, c.last_activity_at DESC, c.id DESC", "c.priority", "c.last_activity_at", "<"),
            Sort::Waiting => {
                ("COALESCE(c.waiting_since, 9223372036854775807) ASC, c.id ASC", "COALESCE(c.waiting_since, 9223372036854775807)", "0", ">")
            }
            Sort::Created => ("c.created_at DESC, c.id DESC", "c.created_at", "0", "<"),
        }
    }

    /// The keyset of `row` under this sort.
    pub fn keyset(self, row: &ConversationRow) -> Keyset {
        let (a, b) = match self {
            Sort::LastActivity => (row.last_activity_at, 0),
            Sort::Priority => (row.priority, row.last_activity_at),
            Sort::Waiting => (row.waiting_since.unwrap_or(i64::MAX), 0),
            Sort::Created => (row.created_at, 0),
        };
        Keyset { a, b, id: row.id.clone() }
    }
}

fn where_clause(f: &ListFilter, binds: &mut Vec<Bind>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let push = |binds: &mut Vec<Bind>, b: Bind| -> String {
        binds.push(b);
        format!("${}", binds.len())
    };
    if !f.include_merged {
        parts.push("c.merged_into IS NULL".into());
    }
    if let Some(st) = &f.statuses {
        if st.is_empty() {
            parts.push("1 = 0".into());
        } else {
            let ps: Vec<String> = st.iter().map(|s| push(binds, Bind::Text(s.clone()))).collect();
            parts.push(format!("c.status IN ({})", ps.join(", ")));
        }
    }
    match &f.assignee {
        Some(Some(a)) => parts.push(format!("c.assignee_id = {}", push(binds, Bind::Text(a.clone())))),
        Some(None) => parts.push("c.assignee_id IS NULL".into()),
        None => {}
    }
    match &f.team {
        Some(Some(t)) => parts.push(format!("c.team_id = {}", push(binds, Bind::Text(t.clone())))),
        Some(None) => parts.push("c.team_id IS NULL".into()),
        None => {}
    }
    if let Some(t) = &f.tag {
        parts.push(format!(
            "EXISTS (SELECT 1 FROM conversation_tags t WHERE t.conversation_id = c.id AND t.tag = {})",
            push(binds, Bind::Text(t.clone()))
        ));
    }
    if let Some(ch) = &f.channel {
        parts.push(format!("c.channel = {}", push(binds, Bind::Text(ch.clone()))));
    }
    if let Some(p) = f.priority {
        parts.push(format!("c.priority = {}", push(binds, Bind::Int(p))));
    }
    if let Some(ct) = &f.contact_id {
        parts.push(format!("c.contact_id = {}", push(binds, Bind::Text(ct.clone()))));
    }
    if let Some(ids) = &f.ids {
        if ids.is_empty() {
            parts.push("1 = 0".into());
        } else {
            let ps: Vec<String> = ids.iter().map(|s| push(binds, Bind::Text(s.clone()))).collect();
            parts.push(format!("c.id IN ({})", ps.join(", ")));
        }
    }
    if let Some(agent) = &f.hidden_for {
        let a = push(binds, Bind::Text(agent.clone()));
        parts.push(format!(
            "(c.team_id IS NULL OR c.team_id IN (SELECT id FROM teams WHERE NOT private) \
              OR c.team_id IN (SELECT team_id FROM team_members WHERE agent_id = {a}))"
        ));
    }
    if parts.is_empty() { "1 = 1".into() } else { parts.join(" AND ") }
}

macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

/// The statements that create a conversation (see [`Store::create_conversation`]); its insert
/// answers the number it was given, the one row the script returns. One list for both
/// backends: SQLite runs it as one script.
fn create_script(c: &NewConversation, now: i64) -> (Script, Option<MessageRow>) {
    let mut script = Script::default();
    let contact_id = match &c.contact {
        ContactRef::Existing(id) => id.clone(),
        ContactRef::New(n) => {
            script.push(
                crate::contacts::INSERT_CONTACT,
                vec![
                    (&n.id).into(),
                    (&n.name).into(),
                    (&n.language).into(),
                    n.vip_tier.into(),
                    n.kyc_level.into(),
                    (&n.tags).into(),
                    (&n.attributes).into(),
                    (&n.notes).into(),
                    now.into(),
                    crate::contacts::name_key(&n.name).as_str().into(),
                    crate::contacts::name_rest_key(&n.name).as_str().into(),
                    (&n.unverified_email).into(),
                ],
            );
            for i in &n.identities {
                script.push(
                    crate::contacts::INSERT_IDENTITY,
                    vec![(&i.kind).into(), (&i.key).into(), (&n.id).into(), now.into(), (&i.sealed).into()],
                );
            }
            n.id.clone()
        }
    };
    script.push("UPDATE counters SET value = value + 1 WHERE name = 'conversation_number'", vec![]);
    let (seq, count, waiting) = match &c.message {
        Some(m) => (1_i64, 1_i64, (m.author_kind == "customer" && !m.private).then_some(now)),
        None => (0, 0, None),
    };
    script.push(
        "INSERT INTO conversations (id, number, channel, subject, status, priority, contact_id, assignee_id, team_id, language, intent, \
           custom_fields, last_seq, message_count, waiting_since, last_activity_at, version, created_at, updated_at, verified_identity) \
         VALUES ($1, (SELECT value FROM counters WHERE name = 'conversation_number'), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
           $13, $14, $15, 1, $15, $15, $16) RETURNING number",
        vec![
            (&c.id).into(),
            (&c.channel).into(),
            (&c.subject).into(),
            (&c.status).into(),
            c.priority.into(),
            (&contact_id).into(),
            (&c.assignee_id).into(),
            (&c.team_id).into(),
            (&c.language).into(),
            (&c.intent).into(),
            (&c.custom_fields).into(),
            seq.into(),
            count.into(),
            waiting.into(),
            now.into(),
            c.verified_identity.into(),
        ],
    );
    for t in &c.tags {
        script.push("INSERT INTO conversation_tags (conversation_id, tag) VALUES ($1, $2)", vec![(&c.id).into(), t.into()]);
    }
    let a = &c.activity;
    script.push(
        INSERT_ACTIVITY,
        vec![
            (&a.id).into(),
            (&c.id).into(),
            (&a.actor_kind).into(),
            (&a.actor_id).into(),
            (&a.actor_name).into(),
            (&a.kind).into(),
            (&a.data).into(),
            now.into(),
        ],
    );
    let message = c.message.as_ref().map(|m| {
        let author_id = if m.author_kind == "customer" { Some(contact_id.clone()) } else { m.author_id.clone() };
        m.row(&c.id, 1, author_id, now)
    });
    if let (Some(r), Some(m)) = (&message, &c.message) {
        push_message(&mut script, r, m);
    }
    (script, message)
}

/// The statements that add a message (see [`Store::add_message`]): the status before, a
/// `status_changed` activity when a customer's message reopens the conversation, the
/// conversation's counters and clocks (which give the message its `seq`), the message, its
/// files. Rows: the status before, then (seq, status, version, team) after; neither when the
/// conversation does not exist. PostgreSQL locks the row first so two messages at once cannot
/// both reopen it.
fn add_message_script(postgres: bool, r: &MessageRow, m: &NewMessage, effects: MessageEffects, now: i64) -> Script {
    let mut script = Script::default();
    let id = &r.conversation_id;
    script.push(
        if postgres {
            "SELECT status FROM conversations WHERE id = $1 FOR UPDATE"
        } else {
            "SELECT status FROM conversations WHERE id = $1"
        },
        vec![id.into()],
    );
    // Just after the message that caused it (created_at + 1), so the timeline reads in cause
    // order; the statuses are fixed words, so the JSON is built as text.
    script.push(
        "INSERT INTO activities (id, conversation_id, actor_kind, actor_id, actor_name, kind, data, created_at) \
         SELECT $1, id, 'system', NULL, 'Kefu', 'status_changed', \
           '{\"from\":\"' || status || '\",\"to\":\"open\",\"reason\":\"customer_reply\"}', $2 \
         FROM conversations WHERE id = $3 AND $4 AND status IN ('resolved', 'pending')",
        vec![ulid::Ulid::new().to_string().as_str().into(), (now + 1).into(), id.into(), effects.from_customer.into()],
    );
    script.push(APPLY_MESSAGE, vec![id.into(), now.into(), effects.from_customer.into(), effects.public_agent_reply.into()]);
    push_message(&mut script, r, m);
    script
}

/// The status before and the (seq, status, version, team) after, from an add-message script's
/// rows.
type Applied = (Option<String>, Option<(i64, String, i64, Option<String>)>);

fn message_rows<R: sqlx::Row>(rows: &[R]) -> Result<Applied>
where
    usize: sqlx::ColumnIndex<R>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let [before, after] = rows else { return Ok((None, None)) };
    Ok((Some(before.try_get(0)?), Some((after.try_get(0)?, after.try_get(1)?, after.try_get(2)?, after.try_get(3)?))))
}

impl Store {
    /// Creates the conversation (and its contact when new) with its first message, tags and
    /// `created` activity; the next ticket number is taken in the same transaction.
    pub async fn create_conversation(&self, c: &NewConversation, now: i64) -> Result<(i64, Option<MessageRow>)> {
        let (script, message) = create_script(c, now);
        // The conversation's insert answers the number.
        let number: Option<i64> = match self {
            Store::Sqlite(s) => s.scripts.run(script).await?.first().map(|r| sqlx::Row::try_get(r, 0)).transpose()?,
            Store::Postgres(pg) => script.run_on_postgres(pg).await?.first().map(|r| sqlx::Row::try_get(r, 0)).transpose()?,
        };
        Ok((number.ok_or(sqlx::Error::RowNotFound)?, message))
    }

    pub async fn conversation_by_id(&self, id: &str) -> Result<Option<ConversationRow>> {
        let sql = format!("{SELECT_CONVERSATION} WHERE c.id = $1");
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(p).await?))
    }

    pub async fn conversation_id_by_number(&self, number: i64) -> Result<Option<String>> {
        Ok(read_pool!(self, |p| sqlx::query_scalar("SELECT id FROM conversations WHERE number = $1")
            .bind(number)
            .fetch_optional(p)
            .await?))
    }

    /// Whether agent `agent_id` (not a supervisor) may see a conversation of team `team_id`.
    pub async fn agent_sees_team(&self, agent_id: &str, team_id: &str) -> Result<bool> {
        let n: i64 = read_pool!(self, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM teams t WHERE t.id = $1 AND (NOT t.private OR EXISTS \
               (SELECT 1 FROM team_members m WHERE m.team_id = t.id AND m.agent_id = $2))"
        )
        .bind(team_id)
        .bind(agent_id)
        .fetch_one(p)
        .await?);
        Ok(n > 0)
    }

    /// Private teams `agent_id` is not a member of: what the live feed must hide from them.
    pub async fn teams_hidden_from(&self, agent_id: &str) -> Result<Vec<String>> {
        Ok(read_pool!(self, |p| {
            sqlx::query_scalar(
            "SELECT id FROM teams t WHERE t.private AND NOT EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = t.id AND m.agent_id = $1)"
        )
        .bind(agent_id)
        .fetch_all(p)
        .await?
        }))
    }

    pub async fn list_conversations(&self, f: &ListFilter, sort: Sort, after: Option<&Keyset>, limit: i64) -> Result<Vec<ConversationRow>> {
        let mut binds = Vec::new();
        let mut wh = where_clause(f, &mut binds);
        let (order, ka, kb, cmp) = sort.sql();
        if let Some(k) = after {
            binds.push(Bind::Int(k.a));
            let a = binds.len();
            binds.push(Bind::Int(k.b));
            let b = binds.len();
            binds.push(Bind::Text(k.id.clone()));
            let i = binds.len();
            wh.push_str(&format!(" AND ({ka}, {kb}, c.id) {cmp} (${a}, ${b}, ${i})"));
        }
        binds.push(Bind::Int(limit));
        let sql = format!("{SELECT_CONVERSATION} WHERE {wh} ORDER BY {order} LIMIT CAST(${} AS BIGINT)", binds.len());
        Ok(read_pool!(self, |p| bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), &binds).fetch_all(p).await?))
    }

    pub async fn count_conversations(&self, f: &ListFilter) -> Result<i64> {
        let mut binds = Vec::new();
        let wh = where_clause(f, &mut binds);
        let sql = format!("SELECT COUNT(*) FROM conversations c WHERE {wh}");
        Ok(read_pool!(self, |p| bind_all!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str())), &binds).fetch_one(p).await?))
    }

    /// Conversation counts per status, per team and per assignee in one pass over the filter.
    pub async fn conversation_counts(&self, f: &ListFilter) -> Result<Vec<(String, Option<String>, Option<String>, i64)>> {
        let mut binds = Vec::new();
        let wh = where_clause(f, &mut binds);
        let sql = format!(
            "SELECT c.status, c.team_id, c.assignee_id, COUNT(*) FROM conversations c WHERE {wh} GROUP BY c.status, c.team_id, c.assignee_id"
        );
        Ok(read_pool!(self, |p| bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), &binds).fetch_all(p).await?))
    }

    pub async fn tags_of(&self, conversation_ids: &[String]) -> Result<Vec<(String, String)>> {
        if conversation_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT conversation_id, tag FROM conversation_tags WHERE conversation_id IN ({}) ORDER BY tag",
            placeholders(1, conversation_ids.len())
        );
        Ok(read_pool!(self, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for id in conversation_ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await?
        }))
    }

    /// Tags in use on conversations that are not merged away, with how often.
    pub async fn tag_counts(&self, limit: i64) -> Result<Vec<(String, i64)>> {
        Ok(read_pool!(self, |p| sqlx::query_as(
            "SELECT tag, COUNT(*) AS n FROM conversation_tags GROUP BY tag ORDER BY n DESC, tag LIMIT CAST($1 AS BIGINT)"
        )
        .bind(limit)
        .fetch_all(p)
        .await?))
    }

    /// Applies `ch` when the conversation is still at `expected_version` and records
    /// `activities`; returns the new version, or `None` when someone changed it first.
    pub async fn update_conversation(
        &self,
        id: &str,
        expected_version: i64,
        ch: &ConversationChanges,
        activities: &[NewActivity],
        now: i64,
    ) -> Result<Option<i64>> {
        let version = write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let v: Option<i64> = sqlx::query_scalar(
                "UPDATE conversations SET subject = COALESCE($3, subject), status = COALESCE($4, status), priority = COALESCE($5, priority), \
                   assignee_id = CASE WHEN $6 THEN $7 ELSE assignee_id END, team_id = CASE WHEN $8 THEN $9 ELSE team_id END, \
                   language = CASE WHEN $10 THEN $11 ELSE language END, intent = CASE WHEN $12 THEN $13 ELSE intent END, \
                   custom_fields = COALESCE($14, custom_fields), resolved_at = CASE WHEN $15 THEN $16 ELSE resolved_at END, \
                   closed_at = CASE WHEN $17 THEN $18 ELSE closed_at END, merged_into = COALESCE($19, merged_into), \
                   version = version + 1, updated_at = $20, last_activity_at = $20 \
                 WHERE id = $1 AND version = $2 RETURNING version",
            )
            .bind(id)
            .bind(expected_version)
            .bind(&ch.subject)
            .bind(&ch.status)
            .bind(ch.priority)
            .bind(ch.assignee_id.is_some())
            .bind(ch.assignee_id.clone().flatten())
            .bind(ch.team_id.is_some())
            .bind(ch.team_id.clone().flatten())
            .bind(ch.language.is_some())
            .bind(ch.language.clone().flatten())
            .bind(ch.intent.is_some())
            .bind(ch.intent.clone().flatten())
            .bind(&ch.custom_fields)
            .bind(ch.resolved_at.is_some())
            .bind(ch.resolved_at.flatten())
            .bind(ch.closed_at.is_some())
            .bind(ch.closed_at.flatten())
            .bind(&ch.merged_into)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from_write)?;
            if v.is_some() {
                if let Some(tags) = &ch.tags {
                    sqlx::query("DELETE FROM conversation_tags WHERE conversation_id = $1").bind(id).execute(&mut *tx).await?;
                    for t in tags {
                        sqlx::query("INSERT INTO conversation_tags (conversation_id, tag) VALUES ($1, $2)")
                            .bind(id)
                            .bind(t)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                // One microsecond apart, so the timeline keeps the order the changes were listed in.
                for (i, a) in (0_i64..).zip(activities) {
                    insert_activity_tx!(tx, id, a, now + i);
                }
            }
            tx.commit().await?;
            v
        });
        Ok(version)
    }

    /// Stores a message as the conversation's next in sequence and moves the conversation
    /// along (`effects`); a client key seen before returns the stored message instead.
    /// A message whose client key is already stored comes back as `Duplicate` (callers look
    /// it up first; this catches the race of two sends at once).
    pub async fn add_message(&self, conversation_id: &str, m: &NewMessage, effects: MessageEffects, now: i64) -> Result<MessageOutcome> {
        let message = m.row(conversation_id, 0, m.author_id.clone(), now);
        let script = add_message_script(matches!(self, Store::Postgres(_)), &message, m, effects, now);
        let rows = match self {
            Store::Sqlite(s) => s.scripts.run(script).await.map(|rows| message_rows(&rows)),
            Store::Postgres(pg) => script.run_on_postgres(pg).await.map(|rows| message_rows(&rows)),
        };
        let (old_status, applied) = match rows {
            Ok(r) => r?,
            // The same client key raced in: the other insert won, hand back its message.
            Err(StoreError::Conflict(c)) if m.client_key.is_some() => {
                let key = m.client_key.clone().unwrap_or_default();
                return match self.message_by_client_key(conversation_id, &key).await? {
                    Some(existing) => Ok(MessageOutcome::Duplicate(existing)),
                    None => Err(StoreError::Conflict(c)),
                };
            }
            Err(e) => return Err(e),
        };
        let (Some(old_status), Some((seq, new_status, version, team_id))) = (old_status, applied) else {
            return Ok(MessageOutcome::Missing);
        };
        Ok(MessageOutcome::Stored { message: MessageRow { seq, ..message }, old_status, new_status, version, team_id })
    }

    pub async fn message_by_client_key(&self, conversation_id: &str, key: &str) -> Result<Option<MessageRow>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND client_key = $2");
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(conversation_id)
            .bind(key)
            .fetch_optional(p)
            .await?))
    }

    pub async fn message_by_id(&self, id: &str) -> Result<Option<MessageRow>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1");
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(p).await?))
    }

    /// Messages of these conversations after `after_seq` (within one conversation), in order.
    pub async fn messages_of(&self, conversation_ids: &[String], include_private: bool, limit: i64) -> Result<Vec<MessageRow>> {
        if conversation_ids.is_empty() {
            return Ok(Vec::new());
        }
        let n = conversation_ids.len();
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id IN ({}) AND (${} OR NOT private) ORDER BY created_at, seq LIMIT CAST(${} AS BIGINT)",
            placeholders(1, n),
            n + 1,
            n + 2
        );
        Ok(read_pool!(self, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for id in conversation_ids {
                q = q.bind(id);
            }
            q.bind(include_private).bind(limit).fetch_all(p).await?
        }))
    }

    pub async fn activities_of(&self, conversation_id: &str, limit: i64) -> Result<Vec<ActivityRow>> {
        Ok(read_pool!(self, |p| sqlx::query_as(
            "SELECT id, conversation_id, actor_kind, actor_id, actor_name, kind, data, created_at FROM activities \
             WHERE conversation_id = $1 ORDER BY created_at, id LIMIT CAST($2 AS BIGINT)"
        )
        .bind(conversation_id)
        .bind(limit)
        .fetch_all(p)
        .await?))
    }

    pub async fn set_delivery(&self, message_id: &str, delivery: &str) -> Result<()> {
        write_pool!(self, |p| sqlx::query("UPDATE messages SET delivery = $2 WHERE id = $1")
            .bind(message_id)
            .bind(delivery)
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Moves every message of `source` into `target` (renumbered after target's last) and marks
    /// `source` closed and merged; both timelines record it. False when either is gone or merged.
    pub async fn merge_conversations(
        &self,
        target: &str,
        source: &str,
        target_activity: &NewActivity,
        source_activity: &NewActivity,
        now: i64,
    ) -> Result<bool> {
        let done = write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let marked = sqlx::query(
                "UPDATE conversations SET merged_into = $1, status = 'closed', closed_at = $3, waiting_since = NULL, version = version + 1, updated_at = $3 \
                 WHERE id = $2 AND merged_into IS NULL AND id <> $1 \
                   AND EXISTS (SELECT 1 FROM conversations t WHERE t.id = $1 AND t.merged_into IS NULL)",
            )
            .bind(target)
            .bind(source)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if marked == 1 {
                let base: i64 =
                    sqlx::query_scalar("SELECT last_seq FROM conversations WHERE id = $1").bind(target).fetch_one(&mut *tx).await?;
                let moved = sqlx::query(
                    "UPDATE messages SET conversation_id = $1, seq = seq + $3, \
                       client_key = CASE WHEN client_key IS NULL THEN NULL ELSE client_key || ':' || $2 END \
                     WHERE conversation_id = $2",
                )
                .bind(target)
                .bind(source)
                .bind(base)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                sqlx::query("UPDATE attachments SET conversation_id = $1 WHERE conversation_id = $2")
                    .bind(target)
                    .bind(source)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO conversation_tags (conversation_id, tag) SELECT $1, tag FROM conversation_tags WHERE conversation_id = $2 \
                     ON CONFLICT DO NOTHING",
                )
                .bind(target)
                .bind(source)
                .execute(&mut *tx)
                .await?;
                let moved = i64::try_from(moved).unwrap_or(0);
                sqlx::query(
                    "UPDATE conversations SET last_seq = last_seq + $2, message_count = message_count + $2, version = version + 1, \
                       updated_at = $3, last_activity_at = $3 WHERE id = $1",
                )
                .bind(target)
                .bind(moved)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE conversations SET last_seq = 0, message_count = 0 WHERE id = $1")
                    .bind(source)
                    .execute(&mut *tx)
                    .await?;
                for (conv, a) in [(target, target_activity), (source, source_activity)] {
                    insert_activity_tx!(tx, conv, a, now);
                }
            }
            tx.commit().await?;
            marked == 1
        });
        Ok(done)
    }
}

impl Store {
    /// Records the customer's rating of a resolved or closed conversation (replacing an earlier
    /// one) and notes it on the timeline; false when the conversation is not resolved or closed.
    /// The version stays: a rating is not an agent's edit, and must not make theirs stale.
    pub async fn rate_conversation(&self, id: &str, score: i16, comment: Option<&str>, a: &NewActivity, now: i64) -> Result<bool> {
        let n = write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE conversations SET rating_score = $2, rating_comment = $3, rated_at = $4 \
                 WHERE id = $1 AND status IN ('resolved', 'closed')",
            )
            .bind(id)
            .bind(score)
            .bind(comment)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n > 0 {
                insert_activity_tx!(tx, id, a, now);
            }
            tx.commit().await?;
            n
        });
        Ok(n > 0)
    }
}
