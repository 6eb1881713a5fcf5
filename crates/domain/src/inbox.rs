//! The unified inbox's vocabulary: contacts, conversations (tickets), messages, the activity
//! timeline, teams, canned responses, macros and saved views, with the rules for their values.

use crate::{DomainError, FieldError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A closed set of snake_case names with `as_str`, `parse` and `ALL`.
macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }

            /// The names, for an error message that says what is allowed.
            pub fn names() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }
    };
}

named_enum!(
    /// Where a conversation takes place.
    Channel { Chat = "chat", Email = "email", Telegram = "telegram", Api = "api", Portal = "portal", Phone = "phone" }
);

named_enum!(
    /// `pending` waits on the customer, `on_hold` on a third party. A customer reply reopens a
    /// resolved conversation; a closed one stays closed.
    Status { Open = "open", Pending = "pending", OnHold = "on_hold", Resolved = "resolved", Closed = "closed" }
);

named_enum!(Priority { Low = "low", Normal = "normal", High = "high", Urgent = "urgent" });

named_enum!(AuthorKind { Customer = "customer", Agent = "agent", Bot = "bot", System = "system" });

named_enum!(IdentityKind { Email = "email", Phone = "phone", ExchangeUser = "exchange_user", Telegram = "telegram" });

named_enum!(
    /// How a customer proves who they are in a step-up identity check: a one-time code sent to
    /// their registered e-mail, a code from the authenticator app they set up with the
    /// exchange (checked by the exchange), or a fresh sign-in at the exchange (a newly signed
    /// identity token).
    CheckMethod { EmailCode = "email_code", ExchangeTotp = "exchange_totp", SignedSession = "signed_session" }
);

named_enum!(
    /// Where a step-up identity check stands. `cancelled`: a newer check replaced it.
    CheckStatus { Pending = "pending", Passed = "passed", Failed = "failed", Expired = "expired", Cancelled = "cancelled" }
);

named_enum!(
    /// Why an agent asks a customer to prove who they are: the sensitive requests.
    CheckReason {
        AccountUnlock = "account_unlock",
        TwofaReset = "twofa_reset",
        ContactChange = "contact_change",
        WithdrawalDispute = "withdrawal_dispute",
        SecurityHacked = "security_hacked",
        CloseAccount = "close_account",
        Other = "other",
    }
);

/// The bot's intents (`intents.md`) that ask for something only the account's owner may have:
/// the console suggests an identity check for them.
pub const SENSITIVE_INTENTS: &[&str] =
    &["account_locked", "twofa_reset", "password_reset", "security_hacked", "withdrawal_failed", "withdrawal_pending", "close_account"];

/// A step-up identity check as agents and the customer see it (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IdentityCheck {
    pub id: String,
    pub method: CheckMethod,
    pub status: CheckStatus,
    pub reason: CheckReason,
    /// Where the challenge went, masked (`j***@example.com`), for `email_code`.
    pub destination: Option<String>,
    /// Wrong answers still allowed before the check fails.
    pub attempts_left: i64,
    pub requested_by_name: String,
    pub created_at: DateTime<Utc>,
    /// A pending check cannot be answered after this.
    pub expires_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// For a passed check: sensitive actions are allowed until then.
    pub verified_until: Option<DateTime<Utc>>,
}

impl IdentityCheck {
    /// True while a passed check still lets sensitive actions run.
    pub fn verifies_at(&self, now: DateTime<Utc>) -> bool {
        self.status == CheckStatus::Passed && self.verified_until.is_some_and(|u| u > now)
    }
}

impl Priority {
    /// Stored as a number so views sort by urgency with an index.
    pub fn rank(self) -> i64 {
        match self {
            Priority::Low => 0,
            Priority::Normal => 1,
            Priority::High => 2,
            Priority::Urgent => 3,
        }
    }

    pub fn from_rank(r: i64) -> Self {
        match r {
            0 => Priority::Low,
            2 => Priority::High,
            3 => Priority::Urgent,
            _ => Priority::Normal,
        }
    }
}

impl Status {
    /// Statuses in which the conversation still needs someone to act.
    pub fn is_active(self) -> bool {
        matches!(self, Status::Open | Status::Pending | Status::OnHold)
    }
}

/// A customer, with every channel identity they have been seen with.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Contact {
    pub id: String,
    pub name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub exchange_user_id: Option<String>,
    pub telegram_id: Option<String>,
    /// zh-CN, zh-TW or en.
    pub language: Option<String>,
    pub vip_tier: i64,
    pub kyc_level: i64,
    pub tags: Vec<String>,
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub notes: String,
    /// Set when this contact was merged into another; the other one holds the history now.
    pub merged_into: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// True when `emails`, `phones` and `unverified_email` are partly masked; agents whose role
    /// grants full view reveal them (`POST /api/v1/contacts/{id}/reveal`), and each reveal is
    /// audited.
    pub pii_masked: bool,
    /// The e-mail address an anonymous chat visitor typed in the pre-chat form: chat replies
    /// they miss are mailed there, but nobody proved it is theirs, so it finds no contact.
    pub unverified_email: Option<String>,
}

impl Contact {
    /// The contact with its e-mails and phones partly masked.
    pub fn masked(mut self) -> Self {
        self.emails = self.emails.iter().map(|e| mask_email(e)).collect();
        self.phones = self.phones.iter().map(|p| mask_phone(p)).collect();
        self.unverified_email = self.unverified_email.as_deref().map(mask_email);
        self.pii_masked = true;
        self
    }
}

/// `jane.doe@example.com` → `j***@example.com`: enough for its owner or an agent to recognise,
/// not enough to use.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".into(),
    }
}

/// `+86 138 0013 8000` → `+86 1** **** **00`: the first three digits and the last two stay,
/// separators keep their places.
pub fn mask_phone(phone: &str) -> String {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let mut seen = 0;
    phone
        .chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                return c;
            }
            seen += 1;
            if seen <= 3 || seen > digits.saturating_sub(2) { c } else { '*' }
        })
        .collect()
}

/// Who did something, as shown on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Actor {
    pub kind: AuthorKind,
    pub id: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Conversation {
    pub id: String,
    /// The human-readable ticket number, shown as `#10234`.
    pub number: i64,
    pub channel: Channel,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
    pub contact_id: String,
    pub contact_name: String,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub team_id: Option<String>,
    pub tags: Vec<String>,
    #[schema(value_type = Object)]
    pub custom_fields: serde_json::Map<String, serde_json::Value>,
    pub language: Option<String>,
    pub intent: Option<String>,
    pub merged_into: Option<String>,
    pub message_count: i64,
    /// Since when a customer message has waited for an agent's reply; `null` when none waits.
    pub waiting_since: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub last_activity_at: DateTime<Utc>,
    /// Send it back as `If-Match` (or `version`) on updates; a stale one gets 409.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Live chat: `true` when the exchange signed the customer's identity, `false` for an
    /// unverified visitor (whatever name or e-mail they typed); `null` on other channels.
    pub verified_identity: Option<bool>,
    /// The last message (`seq`) the customer has seen.
    pub customer_read_seq: i64,
    /// The customer's rating of the resolved conversation (CSAT), if they gave one.
    pub rating: Option<Rating>,
    /// The latest step-up identity check of the customer in this conversation.
    pub identity_check: Option<IdentityCheck>,
}

/// A customer's satisfaction rating of a resolved conversation.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Rating {
    /// 1 (very unhappy) to 5 (very happy).
    pub score: i16,
    pub comment: Option<String>,
    pub rated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachmentInfo {
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    /// Safe to show inline (PNG, JPEG, GIF, WebP); everything else downloads.
    pub inline: bool,
    pub has_thumbnail: bool,
    pub url: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    /// Position in the conversation, from 1, without gaps.
    pub seq: i64,
    pub author: Actor,
    /// A private note, seen by agents only.
    pub private: bool,
    pub body: String,
    /// Sanitized HTML, where the channel has it.
    pub html: Option<String>,
    pub channel: Channel,
    pub client_key: Option<String>,
    /// Agent ids mentioned with `@` in a note.
    pub mentions: Vec<String>,
    /// Delivery state per outbound channel, e.g. `{"webhook": "delivered"}`.
    #[schema(value_type = Object)]
    pub delivery: BTreeMap<String, String>,
    pub attachments: Vec<AttachmentInfo>,
    /// On bot messages: quick replies and the help-center article it points to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<MessageActions>,
    /// What the security shield noted: secrets taken out, the verdict on each link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shield: Option<MessageShield>,
    pub created_at: DateTime<Utc>,
}

/// The security shield's note on a message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessageShield {
    /// Kinds of the secrets replaced before the message was stored: `seed_phrase`,
    /// `private_key`, `wif_key`, `extended_key`, `keystore`, `api_secret`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redacted: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkFlag>,
}

/// A link in a message and what it is next to the official domains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LinkFlag {
    pub url: String,
    /// The host in Unicode.
    pub host: String,
    /// `official`, `lookalike` or `unknown`.
    pub verdict: String,
    /// The official domain a lookalike imitates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookalike_of: Option<String>,
    /// Why: `homoglyph`, `typo`, `tld_swap`, `bitflip`, `added_words`, `subdomain`, `at_sign`;
    /// or `shortener` for a link whose destination is hidden.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a bot message offers besides its text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessageActions {
    /// Quick replies: pressing one sends its text as the customer's message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article: Option<ArticleLink>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ArticleLink {
    pub id: String,
    pub title: String,
    pub url: String,
}

/// A change on a conversation: status, assignee, priority, tags, team, merge...
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Activity {
    pub id: String,
    pub conversation_id: String,
    pub actor: Actor,
    /// `created`, `status_changed`, `priority_changed`, `assigned`, `team_changed`,
    /// `tags_changed`, `subject_changed`, `fields_changed`, `merged_into`, `merged_from`, `macro_applied`, `rated`
    /// (the customer's rating: `score`, `comment`).
    pub kind: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimelineItem {
    Message(Box<Message>),
    Activity(Activity),
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Team {
    pub id: String,
    pub name: String,
    /// Agents outside a private team cannot see its conversations (supervisors and admins can).
    pub private: bool,
    pub member_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CannedResponse {
    pub id: String,
    /// Typed after `/` in the reply box.
    pub shortcut: String,
    pub title: String,
    pub locale: String,
    /// May use `{{contact.name}}`, `{{conversation.number}}`, `{{agent.name}}`.
    pub body: String,
    /// `null` when shared with the whole team; otherwise the owner's agent id.
    pub owner_id: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum MacroAction {
    Reply {
        body: String,
    },
    Note {
        body: String,
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
    /// `null` unassigns.
    Assign {
        agent_id: Option<String>,
    },
    SetTeam {
        team_id: Option<String>,
    },
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Macro {
    pub id: String,
    pub name: String,
    pub actions: Vec<MacroAction>,
    pub owner_id: Option<String>,
    /// Acts on the customer's account: runs only once the customer passed an identity check.
    pub sensitive: bool,
    pub updated_at: DateTime<Utc>,
}

/// The filters a view or a listing applies. Every field is optional; all given ones must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationFilter {
    pub status: Option<Vec<Status>>,
    /// An agent id, `me`, or `none` for unassigned.
    pub assignee: Option<String>,
    /// A team id, or `none`.
    pub team: Option<String>,
    pub tag: Option<String>,
    pub channel: Option<Channel>,
    pub priority: Option<Priority>,
    pub contact_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SavedView {
    pub id: String,
    pub name: String,
    pub owner_id: String,
    /// Shared views are listed for every agent.
    pub shared: bool,
    pub filters: ConversationFilter,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Notification {
    pub id: String,
    /// `mention`.
    pub kind: String,
    pub conversation_id: String,
    pub conversation_number: i64,
    pub message_id: Option<String>,
    pub actor_name: String,
    pub excerpt: String,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A tag: trimmed, lower-cased, 1 to 50 characters of letters, digits, `-`, `_`, `.`, `:` or `/`
/// (Chinese letters included), so that tags stay comparable and safe in URLs.
pub fn parse_tag(field: &str, raw: &str) -> Result<String, DomainError> {
    let t = raw.trim().to_lowercase();
    let n = t.chars().count();
    if n == 0 || n > 50 {
        return Err(DomainError::field(field, "tags are 1 to 50 characters"));
    }
    if !t.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/')) {
        return Err(DomainError::field(field, format!("tag {raw:?} may hold only letters, digits and - _ . : /")));
    }
    Ok(t)
}

/// Parses a list of tags, sorted and without duplicates; all errors at once.
pub fn parse_tags(field: &str, raw: &[String]) -> Result<Vec<String>, DomainError> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    if raw.len() > 50 {
        return Err(DomainError::field(field, "at most 50 tags"));
    }
    for r in raw {
        match parse_tag(field, r) {
            Ok(t) => out.push(t),
            Err(DomainError::Validation(f)) => errors.extend(f),
        }
    }
    if !errors.is_empty() {
        return Err(DomainError::Validation(errors));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Free text of bounded length with no control characters but newlines and tabs.
/// Line breaks are stored as `\n` whatever the client sent (browsers send form text as `\r\n`).
pub fn parse_text(field: &str, raw: &str, min: usize, max: usize) -> Result<String, DomainError> {
    let normalised = raw.replace("\r\n", "\n").replace('\r', "\n");
    let s = normalised.trim();
    let n = s.chars().count();
    if n < min {
        return Err(DomainError::field(
            field,
            if min == 1 { "must not be empty".to_string() } else { format!("needs at least {min} characters") },
        ));
    }
    if n > max {
        return Err(DomainError::field(field, format!("must be at most {max} characters")));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(DomainError::field(field, "must not contain control characters"));
    }
    Ok(s.to_string())
}

/// The three languages customers write in.
pub const LOCALES: [&str; 3] = ["zh-CN", "zh-TW", "en"];

pub fn parse_locale(field: &str, raw: &str) -> Result<String, DomainError> {
    LOCALES
        .iter()
        .find(|l| l.eq_ignore_ascii_case(raw.trim()))
        .map(|l| l.to_string())
        .ok_or_else(|| DomainError::field(field, "must be zh-CN, zh-TW or en"))
}

/// A custom-fields or attributes object: at most 50 keys of up to 64 characters, values that
/// are strings (up to 1000 characters), numbers, booleans or null.
pub fn parse_fields(field: &str, raw: &serde_json::Map<String, serde_json::Value>) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    if raw.len() > 50 {
        errors.push(FieldError::new(field, "at most 50 keys"));
    }
    for (k, v) in raw {
        if k.is_empty() || k.chars().count() > 64 || k.chars().any(char::is_control) {
            errors.push(FieldError::new(field, format!("key {k:?} must be 1 to 64 characters")));
        }
        let ok = match v {
            serde_json::Value::String(s) => s.chars().count() <= 1000,
            serde_json::Value::Number(_) | serde_json::Value::Bool(_) | serde_json::Value::Null => true,
            _ => false,
        };
        if !ok {
            errors.push(FieldError::new(field, format!("{k:?} must be a string (up to 1000 characters), a number, a boolean or null")));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(DomainError::Validation(errors)) }
}

/// Agent ids mentioned as `@[name](agent-id)` in a note: the console inserts that form when
/// an agent picks a colleague, so a mention never depends on a name being unique.
pub fn mentioned_ids(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find("@[") {
        rest = &rest[i + 2..];
        let Some(close) = rest.find("](") else { break };
        let after = &rest[close + 2..];
        let Some(end) = after.find(')') else { break };
        let id = &after[..end];
        if crate::Id::parse(id).is_some() && !out.iter().any(|x| x == id) {
            out.push(id.to_string());
        }
        rest = &after[end..];
    }
    out
}

/// Fills `{{contact.name}}`, `{{conversation.number}}`, `{{agent.name}}` (and any other
/// `{{key}}` given); unknown variables are left as they are so an agent sees what is missing.
pub fn render_template(body: &str, vars: &BTreeMap<&str, String>) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let key = after[..end].trim();
                match vars.get(key) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_is_masked_but_recognisable() {
        assert_eq!(mask_email("jane.doe@example.com"), "j***@example.com");
        assert_eq!(mask_email("nobody"), "***");
        assert_eq!(mask_phone("+86 138 0013 8000"), "+86 1** **** **00");
        assert_eq!(mask_phone("13800138000"), "138******00");
        assert_eq!(mask_phone("12"), "12");
    }

    #[test]
    fn tags_are_normalised_and_checked() {
        assert_eq!(parse_tags("tags", &["VIP".into(), " 提币 ".into(), "vip".into()]).ok(), Some(vec!["vip".into(), "提币".into()]));
        assert!(parse_tag("tags", "a b").is_err());
        assert!(parse_tag("tags", "").is_err());
        assert!(parse_tag("tags", "<script>").is_err());
    }

    #[test]
    fn mentions_are_read_from_the_console_form() {
        let a = crate::Id::new().to_string();
        let body = format!("please check @[Li Wei]({a}) and @[x](not-an-id) @[Li Wei]({a})");
        assert_eq!(mentioned_ids(&body), vec![a]);
    }

    #[test]
    fn templates_fill_known_variables_and_keep_unknown_ones() {
        let mut v = BTreeMap::new();
        v.insert("contact.name", "王小明".to_string());
        v.insert("conversation.number", "10234".to_string());
        assert_eq!(
            render_template("您好 {{contact.name}}，工单 #{{ conversation.number }} {{x}} {{", &v),
            "您好 王小明，工单 #10234 {{x}} {{"
        );
    }

    #[test]
    fn priority_rank_round_trips() {
        for p in Priority::ALL {
            assert_eq!(Priority::from_rank(p.rank()), *p);
        }
    }
}
