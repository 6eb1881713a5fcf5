//! The customer ticket portal: opening a ticket from a web form, magic links, sign-in with the
//! exchange's signed identity, and a customer's view of their own tickets (public messages
//! only). A link from the form opens that one ticket; a verified identity opens all of them.

use crate::attachments::Viewer;
use crate::contacts::{ContactInput, parse_contact};
use crate::conversations::{NewMessageInput, Posted, activity, to_message};
use crate::error::collect;
use crate::secrets::{random_token, sha256_hex};
use crate::{App, AppError, AppResult, Principal, add};
use chrono::{DateTime, Utc};
use kefu_domain::inbox::parse_text;
use kefu_domain::{AttachmentInfo, AuthorKind, Channel, FieldError, Id, Status};
use kefu_store::{ContactRef, ConversationRow, ListFilter, NewConversation, NewMessage, NewPortalAccess, Sort, micros};
use std::time::Duration;

/// Topics a customer picks on the form; stored as the `category` custom field and a tag.
pub const CATEGORIES: [&str; 6] = ["account", "deposit", "withdrawal", "trading", "security", "other"];
const LINK_TTL: Duration = Duration::from_secs(90 * 86_400);
const SESSION_TTL: Duration = Duration::from_secs(7 * 86_400);
const SETTINGS_KEY: &str = "portal";

/// A signed-in portal visitor.
#[derive(Debug, Clone)]
pub struct PortalPrincipal {
    pub access_id: String,
    pub contact_id: String,
    /// Set when the visitor came through a ticket's own link: only that ticket is theirs.
    pub conversation_id: Option<String>,
}

impl PortalPrincipal {
    pub(crate) fn uploader_key(&self) -> String {
        self.contact_id.clone()
    }

    pub(crate) async fn may_open(&self, app: &App, conversation_id: &str) -> AppResult<bool> {
        let Some(row) = app.store().conversation_by_id(conversation_id).await? else { return Ok(false) };
        Ok(match &self.conversation_id {
            Some(only) => *only == row.id || row.merged_into.as_deref() == Some(only.as_str()),
            None => row.contact_id == self.contact_id,
        })
    }
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PortalTicket {
    pub id: String,
    pub number: i64,
    pub subject: String,
    pub status: Status,
    pub category: Option<String>,
    /// The agent handling it, by name.
    pub handled_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    /// The latest identity check an agent asked of the customer: while `pending`, the portal
    /// asks for the answer.
    pub identity_check: Option<kefu_domain::IdentityCheck>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PortalMessage {
    pub id: String,
    /// `customer`, `agent`, `bot` or `system`.
    pub author_kind: AuthorKind,
    pub author_name: String,
    pub body: String,
    pub attachments: Vec<AttachmentInfo>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PortalTicketDetail {
    pub ticket: PortalTicket,
    pub messages: Vec<PortalMessage>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PortalSession {
    pub contact_name: String,
    /// True when signed in through the exchange (all tickets); false for a single ticket's link.
    pub verified: bool,
    pub ticket_id: Option<String>,
}

pub struct NewTicket {
    pub name: String,
    pub email: String,
    pub subject: String,
    pub description: String,
    pub category: String,
    pub files: Vec<(String, Vec<u8>)>,
    pub language: Option<String>,
}

pub struct TicketOpened {
    pub ticket: PortalTicket,
    /// The private link path (`/portal/t/<token>`): shown once and, with e-mail, mailed.
    pub link_path: String,
    pub session_token: String,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PortalSettings {
    /// Verifies `user_hash = hex(HMAC-SHA256(secret, user_id))` from the exchange. Write-only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_secret: Option<String>,
    #[serde(default)]
    pub has_identity_secret: bool,
}

/// Whether `user_hash` is the hex HMAC-SHA256 of `user_id` under `secret` (compared in
/// constant time).
pub(crate) fn hmac_matches(secret: &str, user_id: &str, user_hash: &str) -> bool {
    hmac_hex(secret, user_id).is_some_and(|h| crate::constant_time_eq(h.as_bytes(), user_hash.trim().to_lowercase().as_bytes()))
}

/// The hex HMAC-SHA256 of `user_id` under `secret`: what the exchange's backend signs.
pub(crate) fn hmac_hex(secret: &str, user_id: &str) -> Option<String> {
    crate::secrets::hmac_sha256_hex(secret.as_bytes(), user_id.as_bytes())
}

/// Where customers fetch attachments (agents use `/api/v1/attachments`).
const PORTAL_ATTACHMENTS: &str = "/api/v1/portal/attachments";

/// A message as the customer sees it: notes never reach here, and files come from the portal's URLs.
fn portal_message(m: kefu_domain::Message) -> PortalMessage {
    let attachments = m.attachments.into_iter().map(|a| AttachmentInfo { url: format!("{PORTAL_ATTACHMENTS}/{}", a.id), ..a }).collect();
    PortalMessage { id: m.id, author_kind: m.author.kind, author_name: m.author.name, body: m.body, attachments, created_at: m.created_at }
}

fn to_ticket(r: &ConversationRow) -> PortalTicket {
    let fields: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&r.custom_fields).unwrap_or_default();
    PortalTicket {
        id: r.id.clone(),
        number: r.number,
        subject: r.subject.clone(),
        status: Status::parse(&r.status).unwrap_or(Status::Open),
        category: fields.get("category").and_then(|v| v.as_str()).map(str::to_string),
        handled_by: r.assignee_name.clone(),
        created_at: kefu_store::from_micros(r.created_at),
        last_activity_at: kefu_store::from_micros(r.last_activity_at),
        identity_check: crate::identity_check::latest_check(r),
    }
}

impl App {
    async fn portal_settings(&self) -> AppResult<PortalSettings> {
        Ok(match self.store().setting(SETTINGS_KEY).await? {
            Some(v) => serde_json::from_str(&v).unwrap_or_default(),
            None => PortalSettings::default(),
        })
    }

    pub async fn get_portal_settings(&self, p: &Principal) -> AppResult<PortalSettings> {
        p.require_admin()?;
        let s = self.portal_settings().await?;
        Ok(PortalSettings { has_identity_secret: s.identity_secret.is_some(), identity_secret: None })
    }

    pub async fn put_portal_settings(&self, p: &Principal, identity_secret: Option<String>) -> AppResult<PortalSettings> {
        p.require_admin()?;
        if let Some(s) = &identity_secret
            && (s.len() < 16 || s.len() > 256)
        {
            return Err(AppError::Validation(vec![FieldError::new("identity_secret", "must be 16 to 256 characters")]));
        }
        let set = identity_secret.is_some();
        self.set_portal_identity_secret(identity_secret).await?;
        self.audit(&crate::audit::Actor::agent(p), "settings.portal", None, serde_json::json!({"identity_secret_set": set})).await?;
        self.get_portal_settings(p).await
    }

    /// A private link's token that opens one conversation of a contact in the portal.
    pub(crate) async fn portal_link(&self, contact_id: &str, conversation_id: &str) -> AppResult<String> {
        self.new_portal_access("link", contact_id, Some(conversation_id), LINK_TTL).await
    }

    async fn new_portal_access(&self, kind: &str, contact_id: &str, conversation_id: Option<&str>, ttl: Duration) -> AppResult<String> {
        let token = random_token(32);
        let now = self.now();
        self.store()
            .insert_portal_access(
                &NewPortalAccess {
                    id: Id::new().as_str(),
                    token_hash: &sha256_hex(&token),
                    kind,
                    contact_id,
                    conversation_id,
                    expires_at: micros(add(now, ttl)),
                },
                micros(now),
            )
            .await?;
        Ok(token)
    }

    pub async fn portal_principal(&self, session_token: &str) -> AppResult<Option<PortalPrincipal>> {
        let Some(a) = self.store().portal_access(&sha256_hex(session_token), "session", micros(self.now())).await? else { return Ok(None) };
        let contact_id = self.follow_contact_merges(a.contact_id).await?;
        Ok(Some(PortalPrincipal { access_id: a.id, contact_id, conversation_id: a.conversation_id }))
    }

    pub async fn portal_session_info(&self, pp: &PortalPrincipal) -> AppResult<PortalSession> {
        let c = self.store().contact_by_id(&pp.contact_id).await?.ok_or(AppError::Unauthenticated)?;
        Ok(PortalSession { contact_name: c.name, verified: pp.conversation_id.is_none(), ticket_id: pp.conversation_id.clone() })
    }

    /// Exchanges a magic link's token for a session; the link stays usable until it expires.
    pub async fn portal_sign_in_with_link(&self, link_token: &str) -> AppResult<String> {
        let a =
            self.store().portal_access(&sha256_hex(link_token), "link", micros(self.now())).await?.ok_or(AppError::PortalLinkInvalid)?;
        self.new_portal_access("session", &a.contact_id, a.conversation_id.as_deref(), SESSION_TTL).await
    }

    /// The secret under which the exchange signs its users' identities (portal and chat).
    /// Stores the identity secret (or none); `put_portal_settings` checks and audits it first.
    pub(crate) async fn set_portal_identity_secret(&self, identity_secret: Option<String>) -> AppResult<()> {
        let s = PortalSettings { identity_secret, has_identity_secret: false };
        self.store().put_setting(SETTINGS_KEY, &serde_json::to_string(&s).map_err(AppError::internal)?, micros(self.now())).await?;
        Ok(())
    }

    pub(crate) async fn portal_identity_secret(&self) -> AppResult<Option<String>> {
        Ok(self.portal_settings().await?.identity_secret)
    }

    /// Signs in a customer the exchange vouches for: `user_hash` must be the HMAC-SHA256 of
    /// `user_id` under the portal's identity secret.
    pub async fn portal_sign_in_with_identity(
        &self,
        user_id: &str,
        user_hash: &str,
        email: Option<&str>,
        name: Option<&str>,
    ) -> AppResult<String> {
        let Some(secret) = self.portal_identity_secret().await? else { return Err(AppError::InvalidSignature) };
        if !hmac_matches(&secret, user_id, user_hash) {
            return Err(AppError::InvalidSignature);
        }
        let contact_id = self.contact_for_exchange_user(user_id, email, name).await?;
        self.new_portal_access("session", &contact_id, None, SESSION_TTL).await
    }

    /// The contact of the exchange's user `user_id`, made when new. Only the user id is trusted:
    /// the e-mail is kept on a new contact, never used to find one.
    pub(crate) async fn contact_for_exchange_user(&self, user_id: &str, email: Option<&str>, name: Option<&str>) -> AppResult<String> {
        let input = ContactInput {
            name: name.map(str::to_string),
            emails: email.map(|e| vec![e.to_string()]),
            exchange_user_id: Some(Some(user_id.to_string())),
            ..Default::default()
        };
        let parsed = parse_contact(&input)?;
        let by_user = vec![("exchange_user".to_string(), user_id.trim().to_string())];
        if let Some(id) = self.find_contact(&by_user).await? {
            return Ok(id);
        }
        let mut new = parsed.into_new(&*self.pii().await?);
        let taken = match email {
            Some(e) => self.contact_id_by_identity("email", e).await?.is_some(),
            None => false,
        };
        if taken {
            new.identities.retain(|i| i.kind != "email");
        }
        let id = new.id.clone();
        match self.store().insert_contact(&new, micros(self.now())).await {
            Ok(()) => Ok(id),
            Err(kefu_store::StoreError::Conflict(_)) => self.find_contact(&by_user).await?.ok_or(AppError::IdentityTaken),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn portal_sign_out(&self, pp: &PortalPrincipal) -> AppResult<()> {
        Ok(self.store().delete_portal_access(&pp.access_id).await?)
    }

    /// Opens a ticket from the portal form. A signed-in customer's ticket joins their others;
    /// an anonymous one gets a link to just this ticket.
    pub async fn portal_open_ticket(&self, who: Option<&PortalPrincipal>, t: NewTicket) -> AppResult<TicketOpened> {
        let mut errors = Vec::new();
        let subject = collect(&mut errors, parse_text("subject", &t.subject, 1, 300));
        let description = collect(&mut errors, parse_text("description", &t.description, 1, crate::conversations::MAX_BODY_CHARS));
        if !CATEGORIES.contains(&t.category.as_str()) {
            errors.push(FieldError::new("category", format!("must be one of {}", CATEGORIES.join(", "))));
        }
        let contact_input = ContactInput {
            name: Some(t.name.clone()),
            emails: (who.is_none() || !t.email.trim().is_empty()).then(|| vec![t.email.clone()]),
            language: t.language.clone().map(Some),
            ..Default::default()
        };
        let parsed = match parse_contact(&contact_input) {
            Ok(c) => Some(c),
            Err(AppError::Validation(f)) => {
                errors.extend(f.into_iter().map(|e| if e.field == "emails" { FieldError::new("email", e.message) } else { e }));
                None
            }
            Err(e) => return Err(e),
        };
        if t.files.len() > crate::conversations::MAX_ATTACHMENTS {
            errors.push(FieldError::new("files", "too many files"));
        }
        let (Some(subject), Some(description), Some(parsed)) = (subject, description, parsed) else {
            return Err(AppError::Validation(errors));
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let contact = match who {
            Some(pp) => ContactRef::Existing(pp.contact_id.clone()),
            None => match self.find_contact(parsed.identities.as_deref().unwrap_or(&[])).await? {
                Some(id) => ContactRef::Existing(id),
                None => ContactRef::New(parsed.into_new(&*self.pii().await?)),
            },
        };
        let contact_id = match &contact {
            ContactRef::Existing(id) => id.clone(),
            ContactRef::New(n) => n.id.clone(),
        };
        let contact_name = match &contact {
            ContactRef::Existing(id) => self.store().contact_by_id(id).await?.map(|c| c.name).unwrap_or_default(),
            ContactRef::New(n) => n.name.clone(),
        };
        // A new contact must exist before its uploads can be checked against it.
        let contact = match contact {
            ContactRef::New(n) => {
                self.store().insert_contact(&n, micros(self.now())).await.map_err(|e| match e {
                    kefu_store::StoreError::Conflict(_) => AppError::IdentityTaken,
                    e => e.into(),
                })?;
                ContactRef::Existing(n.id)
            }
            existing => existing,
        };
        let uploader = PortalPrincipal { access_id: String::new(), contact_id: contact_id.clone(), conversation_id: None };
        let mut attachment_ids = Vec::new();
        for (name, bytes) in t.files {
            attachment_ids.push(self.upload_attachment(Viewer::Customer(&uploader), &name, bytes).await?.id);
        }
        let id = Id::new().to_string();
        let actor = ("customer".to_string(), Some(contact_id.clone()), contact_name.clone());
        let mut new = NewConversation {
            id: id.clone(),
            channel: Channel::Portal.as_str().into(),
            subject,
            status: Status::Open.as_str().into(),
            priority: kefu_domain::Priority::Normal.rank(),
            contact,
            assignee_id: None,
            team_id: None,
            language: t.language.clone(),
            intent: None,
            custom_fields: serde_json::json!({"category": t.category}).to_string(),
            tags: vec![t.category.clone()],
            message: Some(NewMessage {
                actions: None,
                shield: None,
                id: Id::new().to_string(),
                author_kind: "customer".into(),
                author_id: Some(contact_id.clone()),
                author_name: contact_name,
                private: false,
                body: description,
                html: None,
                channel: Channel::Portal.as_str().into(),
                client_key: None,
                mentions: "[]".into(),
                delivery: "{}".into(),
                attachment_ids,
                attachment_uploader: contact_id.clone(),
            }),
            activity: activity(&actor, "created", serde_json::json!({"channel": "portal"})),
            verified_identity: None,
        };
        self.insert_conversation(&mut new).await?;
        let row = self.store().conversation_by_id(&id).await?.ok_or(AppError::NotFound("conversation"))?;
        let scope = if who.is_some_and(|pp| pp.conversation_id.is_none()) { None } else { Some(id.as_str()) };
        let link = self.new_portal_access("link", &contact_id, Some(&id), LINK_TTL).await?;
        let session_token = match who {
            Some(pp) if pp.conversation_id.is_none() => String::new(),
            _ => self.new_portal_access("session", &contact_id, scope, SESSION_TTL).await?,
        };
        Ok(TicketOpened { ticket: to_ticket(&row), link_path: format!("/portal/t/{link}"), session_token })
    }

    pub async fn portal_tickets(&self, pp: &PortalPrincipal) -> AppResult<Vec<PortalTicket>> {
        let f = match &pp.conversation_id {
            Some(only) => ListFilter { ids: Some(vec![only.clone()]), include_merged: true, ..Default::default() },
            None => ListFilter { contact_id: Some(pp.contact_id.clone()), include_merged: false, ..Default::default() },
        };
        let rows = self.store().list_conversations(&f, Sort::LastActivity, None, 200).await?;
        Ok(rows.iter().map(to_ticket).collect())
    }

    async fn portal_row(&self, pp: &PortalPrincipal, id: &str) -> AppResult<ConversationRow> {
        let id = Id::parse(id).ok_or(AppError::NotFound("ticket"))?;
        if !pp.may_open(self, id.as_str()).await? {
            return Err(AppError::NotFound("ticket"));
        }
        let mut row = self.store().conversation_by_id(id.as_str()).await?.ok_or(AppError::NotFound("ticket"))?;
        // A merged ticket continues in the one it was merged into.
        if let Some(target) = row.merged_into.clone() {
            row = self.store().conversation_by_id(&target).await?.ok_or(AppError::NotFound("ticket"))?;
        }
        Ok(row)
    }

    pub async fn portal_ticket(&self, pp: &PortalPrincipal, id: &str) -> AppResult<PortalTicketDetail> {
        let row = self.portal_row(pp, id).await?;
        let msgs = self.store().messages_of(std::slice::from_ref(&row.id), false, 5_000).await?;
        let ids: Vec<String> = msgs.iter().map(|m| m.id.clone()).collect();
        let atts = self.store().attachments_of_messages(&ids).await?;
        let messages = msgs.into_iter().map(|m| portal_message(to_message(m, &atts, PORTAL_ATTACHMENTS))).collect();
        Ok(PortalTicketDetail { ticket: to_ticket(&row), messages })
    }

    pub async fn portal_reply(
        &self,
        pp: &PortalPrincipal,
        id: &str,
        body: String,
        client_key: Option<String>,
        attachment_ids: Vec<String>,
    ) -> AppResult<(bool, PortalMessage)> {
        let row = self.portal_row(pp, id).await?;
        let input = NewMessageInput { body, client_key, attachment_ids, ..Default::default() };
        let posted = self
            .add_message(&row, AuthorKind::Customer, Some(row.contact_id.clone()), row.contact_name.clone(), &pp.contact_id, &input)
            .await?;
        let created = matches!(posted, Posted::Created(_));
        Ok((created, portal_message(posted.message().clone())))
    }

    /// The customer's answer to an identity check on one of their tickets.
    pub async fn portal_answer_check(
        &self,
        pp: &PortalPrincipal,
        ticket_id: &str,
        check_id: &str,
        answer: &crate::identity_check::CheckAnswer,
    ) -> AppResult<kefu_domain::IdentityCheck> {
        let row = self.portal_row(pp, ticket_id).await?;
        self.answer_identity_check(&row, check_id, answer).await
    }
}
