//! Contacts: creating, finding by channel identity, editing and merging customers.

use crate::error::collect;
use crate::pii::PiiVault;
use crate::tokens::Scope;
use crate::{App, AppError, AppResult, Principal};
use kefu_domain::inbox::{parse_fields, parse_locale, parse_tags, parse_text};
use kefu_domain::{Contact, DomainError, Email, FieldError, Id, IdentityKind, Page};
use kefu_store::{ContactChanges, ContactRow, IdentityChanges, IdentityRow, NewContact, StoreError, from_micros, micros};

/// A contact as a client describes it; every field is checked, all errors at once.
#[derive(Debug, Clone, Default)]
pub struct ContactInput {
    pub name: Option<String>,
    pub emails: Option<Vec<String>>,
    pub phones: Option<Vec<String>>,
    pub exchange_user_id: Option<Option<String>>,
    pub telegram_id: Option<Option<String>>,
    pub language: Option<Option<String>>,
    pub vip_tier: Option<i64>,
    pub kyc_level: Option<i64>,
    pub tags: Option<Vec<String>>,
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
    pub notes: Option<String>,
}

/// A phone number: `+` and 6 to 20 digits once spaces, dashes and brackets are dropped.
fn parse_phone(raw: &str) -> Result<String, DomainError> {
    let s: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect();
    let digits = s.strip_prefix('+').unwrap_or(&s);
    if digits.len() < 6 || digits.len() > 20 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(DomainError::field("phones", format!("{raw:?} is not a phone number")));
    }
    Ok(s)
}

/// An external id (exchange user id, Telegram id): 1 to 100 visible ASCII characters.
fn parse_external_id(field: &str, raw: &str) -> Result<String, DomainError> {
    let s = raw.trim();
    if s.is_empty() || s.len() > 100 || !s.chars().all(|c| c.is_ascii_graphic()) {
        return Err(DomainError::field(field, "must be 1 to 100 visible ASCII characters"));
    }
    Ok(s.to_string())
}

/// The checked values of a contact input.
pub(crate) struct ParsedContact {
    pub name: Option<String>,
    pub identities: Option<Vec<(String, String)>>,
    pub language: Option<Option<String>>,
    pub vip_tier: Option<i64>,
    pub kyc_level: Option<i64>,
    pub tags: Option<Vec<String>>,
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
    pub notes: Option<String>,
}

pub(crate) fn parse_contact(c: &ContactInput) -> AppResult<ParsedContact> {
    let mut errors = Vec::new();
    let name = c.name.as_deref().and_then(|n| collect(&mut errors, parse_text("name", n, 1, 200)));
    let mut identities: Option<Vec<(String, String)>> = None;
    let mut add = |kind: IdentityKind, values: Vec<String>| {
        let list = identities.get_or_insert_with(Vec::new);
        // An empty list still names the kind, so that an update removes what was there.
        if values.is_empty() {
            list.push((kind.as_str().to_string(), String::new()));
        }
        for v in values {
            list.push((kind.as_str().to_string(), v));
        }
    };
    if let Some(emails) = &c.emails {
        let v: Vec<String> =
            emails.iter().filter_map(|e| collect(&mut errors, Email::parse("emails", e)).map(|e| e.as_str().to_string())).collect();
        add(IdentityKind::Email, dedup(v));
    }
    if let Some(phones) = &c.phones {
        let v: Vec<String> = phones.iter().filter_map(|p| collect(&mut errors, parse_phone(p))).collect();
        add(IdentityKind::Phone, dedup(v));
    }
    if let Some(x) = &c.exchange_user_id {
        let v = x.as_deref().and_then(|x| collect(&mut errors, parse_external_id("exchange_user_id", x)));
        add(IdentityKind::ExchangeUser, v.into_iter().collect());
    }
    if let Some(x) = &c.telegram_id {
        let v = x.as_deref().and_then(|x| collect(&mut errors, parse_external_id("telegram_id", x)));
        add(IdentityKind::Telegram, v.into_iter().collect());
    }
    let language = c.language.as_ref().map(|l| l.as_deref().and_then(|l| collect(&mut errors, parse_locale("language", l))));
    for (field, v) in [("vip_tier", c.vip_tier), ("kyc_level", c.kyc_level)] {
        if let Some(v) = v
            && !(0..=10).contains(&v)
        {
            errors.push(FieldError::new(field, "must be 0 to 10"));
        }
    }
    let tags = c.tags.as_ref().and_then(|t| collect(&mut errors, parse_tags("tags", t)));
    if let Some(a) = &c.attributes {
        collect(&mut errors, parse_fields("attributes", a));
    }
    let notes = c.notes.as_deref().and_then(|n| {
        if n.chars().count() > 10_000 {
            errors.push(FieldError::new("notes", "must be at most 10000 characters"));
            None
        } else {
            Some(n.to_string())
        }
    });
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(ParsedContact {
        name,
        identities,
        language,
        vip_tier: c.vip_tier,
        kyc_level: c.kyc_level,
        tags,
        attributes: c.attributes.clone(),
        notes,
    })
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
    v
}

/// A contact from its row and its identities (opened); `vault` opens the unverified e-mail.
pub(crate) fn to_contact(r: ContactRow, identities: &[IdentityRow], vault: &PiiVault) -> AppResult<Contact> {
    let of = |kind: &str| identities.iter().filter(|i| i.contact_id == r.id && i.kind == kind).map(|i| i.value.clone()).collect::<Vec<_>>();
    Ok(Contact {
        unverified_email: r.unverified_email.as_deref().map(|e| vault.open_text(e)).transpose()?,
        emails: of("email"),
        phones: of("phone"),
        exchange_user_id: of("exchange_user").into_iter().next(),
        telegram_id: of("telegram").into_iter().next(),
        tags: serde_json::from_str(&r.tags).unwrap_or_default(),
        attributes: serde_json::from_str(&r.attributes).unwrap_or_default(),
        id: r.id,
        name: r.name,
        language: r.language,
        vip_tier: r.vip_tier,
        kyc_level: r.kyc_level,
        notes: r.notes,
        merged_into: r.merged_into,
        pii_masked: false,
        created_at: from_micros(r.created_at),
        updated_at: from_micros(r.updated_at),
    })
}

impl ParsedContact {
    /// A new contact row, its identities sealed; its name falls back to the e-mail's local part,
    /// then "Customer".
    pub(crate) fn into_new(self, vault: &PiiVault) -> NewContact {
        let identities: Vec<(String, String)> = self.identities.unwrap_or_default().into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let name = self.name.unwrap_or_else(|| {
            identities
                .iter()
                .find(|(k, _)| k == "email")
                .and_then(|(_, v)| v.split('@').next())
                .map(str::to_string)
                .unwrap_or_else(|| "Customer".to_string())
        });
        NewContact {
            id: Id::new().to_string(),
            name,
            language: self.language.flatten(),
            vip_tier: self.vip_tier.unwrap_or(0),
            kyc_level: self.kyc_level.unwrap_or(0),
            tags: serde_json::to_string(&self.tags.unwrap_or_default()).unwrap_or_else(|_| "[]".into()),
            attributes: serde_json::Value::Object(self.attributes.unwrap_or_default()).to_string(),
            notes: self.notes.unwrap_or_default(),
            identities: identities.iter().map(|(k, v)| vault.seal(k, v)).collect(),
            unverified_email: None,
        }
    }

    /// The identities an update replaces (every one of the kinds named), sealed.
    pub(crate) fn identity_changes(&self, vault: &PiiVault) -> Option<IdentityChanges> {
        let ids = self.identities.as_ref()?;
        let mut kinds: Vec<String> = ids.iter().map(|(k, _)| k.clone()).collect();
        kinds.sort();
        kinds.dedup();
        Some(IdentityChanges { kinds, values: ids.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| vault.seal(k, v)).collect() })
    }
}

/// The blind keys of every identity `q` could be given whole: an e-mail address, a phone
/// number, an exchange user id or a Telegram id.
pub(crate) fn query_keys(vault: &PiiVault, q: &str) -> Vec<String> {
    let q = q.trim();
    let mut keys = Vec::new();
    if let Ok(e) = Email::parse("q", q) {
        keys.push(vault.blind_key(IdentityKind::Email.as_str(), e.as_str()));
    }
    if let Ok(p) = parse_phone(q) {
        keys.push(vault.blind_key(IdentityKind::Phone.as_str(), &p));
    }
    if let Ok(x) = parse_external_id("q", q) {
        keys.push(vault.blind_key(IdentityKind::ExchangeUser.as_str(), &x));
        keys.push(vault.blind_key(IdentityKind::Telegram.as_str(), &x));
    }
    keys
}

impl App {
    /// A contact as agents see it: e-mails and phones partly masked.
    pub(crate) async fn contact_view(&self, id: &str) -> AppResult<Contact> {
        Ok(self.contact_in_full(id).await?.masked())
    }

    /// A contact unmasked: only for a reveal or an export, which are audited, and for mailing
    /// the customer.
    pub(crate) async fn contact_in_full(&self, id: &str) -> AppResult<Contact> {
        let row = self.store().contact_by_id(id).await?.ok_or(AppError::NotFound("contact"))?;
        let ids = self.identities_of(std::slice::from_ref(&row.id)).await?;
        to_contact(row, &ids, &*self.pii().await?)
    }

    /// The contact id a known identity leads to, following merges.
    pub(crate) async fn find_contact(&self, identities: &[(String, String)]) -> AppResult<Option<String>> {
        Ok(self.find_contact_row(identities).await?.map(|c| c.id))
    }

    /// The contact one of these identities leads to (the exchange's user id first, then
    /// e-mail, phone, Telegram), after any merges.
    pub(crate) async fn find_contact_row(&self, identities: &[(String, String)]) -> AppResult<Option<ContactRow>> {
        let keys = self.identity_keys(identities).await?;
        self.find_contact_by_keys(&keys).await
    }

    /// The contact one of these (kind, blind key) pairs leads to, as `find_contact_row`.
    pub(crate) async fn find_contact_by_keys(&self, keys: &[(String, String)]) -> AppResult<Option<ContactRow>> {
        match self.store().contact_by_identities(keys).await? {
            Some(c) if c.merged_into.is_some() => self.follow_contact_row(c).await.map(Some),
            other => Ok(other),
        }
    }

    pub(crate) async fn follow_contact_merges(&self, id: String) -> AppResult<String> {
        match self.store().contact_by_id(&id).await? {
            Some(c) => Ok(self.follow_contact_row(c).await?.id),
            None => Ok(id),
        }
    }

    /// The contact that `c` was merged into, and so on, up to the one that stays.
    pub(crate) async fn follow_contact_row(&self, mut c: ContactRow) -> AppResult<ContactRow> {
        for _ in 0..8 {
            let Some(next) = c.merged_into.as_deref() else { break };
            match self.store().contact_by_id(next).await? {
                Some(n) => c = n,
                None => break,
            }
        }
        Ok(c)
    }

    pub async fn create_contact(&self, p: &Principal, input: ContactInput) -> AppResult<Contact> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        let parsed = parse_contact(&input)?;
        if parsed.name.is_none() {
            return Err(AppError::Validation(vec![FieldError::new("name", "must not be empty")]));
        }
        let new = parsed.into_new(&*self.pii().await?);
        match self.store().insert_contact(&new, micros(self.now())).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(AppError::IdentityTaken),
            Err(e) => return Err(e.into()),
        }
        self.contact_view(&new.id).await
    }

    pub async fn get_contact(&self, p: &Principal, id: &str) -> AppResult<Contact> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        let id = Id::parse(id).ok_or(AppError::NotFound("contact"))?;
        self.contact_view(id.as_str()).await
    }

    /// The contact's e-mails and phones in full, for agents whose role grants full view; each
    /// reveal is audited.
    pub async fn reveal_contact(&self, p: &Principal, id: &str) -> AppResult<Contact> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        if !self.security_settings().await?.pii_full_view.includes(p.agent.role) {
            return Err(AppError::Forbidden);
        }
        let id = Id::parse(id).ok_or(AppError::NotFound("contact"))?;
        let c = self.contact_in_full(id.as_str()).await?;
        self.audit(&crate::audit::Actor::agent(p), "contact.pii_revealed", Some(c.id.clone()), serde_json::json!({})).await?;
        Ok(c)
    }

    pub async fn list_contacts(&self, p: &Principal, q: Option<&str>, cursor: Option<&str>, limit: i64) -> AppResult<Page<Contact>> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        let limit = limit.clamp(1, 200);
        let before = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                Id::parse(c).ok_or_else(|| AppError::Validation(vec![FieldError::new("cursor", "is not a cursor from this listing")]))?,
            ),
        };
        let q = q.map(str::trim).filter(|q| !q.is_empty());
        let keys = match q {
            Some(q) => query_keys(&*self.pii().await?, q),
            None => Vec::new(),
        };
        let rows = self.store().list_contacts(q, &keys, before.as_ref().map(|b| b.as_str()), limit + 1).await?;
        let more = rows.len() as i64 > limit;
        let rows: Vec<ContactRow> = rows.into_iter().take(limit as usize).collect();
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let identities = self.identities_of(&ids).await?;
        let next_cursor = if more { rows.last().map(|r| r.id.clone()) } else { None };
        let vault = self.pii().await?;
        let items = rows.into_iter().map(|r| Ok(to_contact(r, &identities, &vault)?.masked())).collect::<AppResult<Vec<_>>>()?;
        Ok(Page { items, next_cursor })
    }

    pub async fn update_contact(&self, p: &Principal, id: &str, mut input: ContactInput) -> AppResult<Contact> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        let id = Id::parse(id).ok_or(AppError::NotFound("contact"))?;
        // A console shows e-mails and phones masked: what it sends back masked means "keep it".
        let known = self.identities_of(&[id.to_string()]).await?;
        for (list, kind, mask) in [
            (&mut input.emails, "email", kefu_domain::inbox::mask_email as fn(&str) -> String),
            (&mut input.phones, "phone", kefu_domain::inbox::mask_phone),
        ] {
            for v in list.iter_mut().flatten() {
                if let Some(real) = known.iter().find(|i| i.kind == kind && mask(&i.value) == *v) {
                    v.clone_from(&real.value);
                }
            }
        }
        let parsed = parse_contact(&input)?;
        let identities = parsed.identity_changes(&*self.pii().await?);
        let changes = ContactChanges {
            name: parsed.name,
            language: parsed.language,
            vip_tier: parsed.vip_tier,
            kyc_level: parsed.kyc_level,
            tags: parsed.tags.map(|t| serde_json::to_string(&t).unwrap_or_else(|_| "[]".into())),
            attributes: parsed.attributes.map(|a| serde_json::Value::Object(a).to_string()),
            notes: parsed.notes,
            identities,
        };
        let existing = self.store().contact_by_id(id.as_str()).await?.ok_or(AppError::NotFound("contact"))?;
        if let Some(target) = existing.merged_into {
            return Err(AppError::ContactMerged(target));
        }
        match self.store().update_contact(id.as_str(), &changes, micros(self.now())).await {
            Ok(true) => {}
            Ok(false) => return Err(AppError::NotFound("contact")),
            Err(StoreError::Conflict(_)) => return Err(AppError::IdentityTaken),
            Err(e) => return Err(e.into()),
        }
        self.contact_view(id.as_str()).await
    }

    /// Merges `source` into `target`: one person seen on two channels becomes one contact with
    /// all identities and all conversations.
    pub async fn merge_contacts(&self, p: &Principal, target: &str, source: &str) -> AppResult<Contact> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        let t = Id::parse(target).ok_or(AppError::NotFound("contact"))?;
        let Some(s) = Id::parse(source) else {
            return Err(AppError::Validation(vec![FieldError::new("source_id", "is not a contact id")]));
        };
        if t == s {
            return Err(AppError::Validation(vec![FieldError::new("source_id", "cannot merge a contact into itself")]));
        }
        let target_row = self.store().contact_by_id(t.as_str()).await?.ok_or(AppError::NotFound("contact"))?;
        let source_row = self.store().contact_by_id(s.as_str()).await?.ok_or(AppError::NotFound("contact"))?;
        if let Some(m) = target_row.merged_into.or(source_row.merged_into) {
            return Err(AppError::ContactMerged(m));
        }
        if !self.store().merge_contacts(t.as_str(), s.as_str(), micros(self.now())).await? {
            return Err(AppError::NotFound("contact"));
        }
        self.audit(&crate::audit::Actor::agent(p), "contact.merged", Some(t.to_string()), serde_json::json!({"source": s.as_str()}))
            .await?;
        self.reindex_contact(t.as_str()).await?;
        self.contact_view(t.as_str()).await
    }
}

/// Everything Kefu holds about one customer, for their data-access request.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ContactExport {
    pub exported_at: chrono::DateTime<chrono::Utc>,
    /// In full (not masked).
    pub contact: Contact,
    /// Each conversation with its whole timeline: messages (notes included) and changes.
    pub conversations: Vec<crate::conversations::Timeline>,
}

impl App {
    /// A customer's data as JSON, for roles that may see it in full; audited.
    pub async fn export_contact(&self, p: &Principal, id: &str) -> AppResult<ContactExport> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        if !self.security_settings().await?.pii_full_view.includes(p.agent.role) {
            return Err(AppError::Forbidden);
        }
        let id = Id::parse(id).ok_or(AppError::NotFound("contact"))?;
        let contact = self.contact_in_full(id.as_str()).await?;
        if let Some(target) = &contact.merged_into {
            return Err(AppError::ContactMerged(target.clone()));
        }
        let f = kefu_store::ListFilter { contact_id: Some(contact.id.clone()), include_merged: true, ..Default::default() };
        let rows = self.store().list_conversations(&f, kefu_store::Sort::Created, None, 10_000).await?;
        let mut conversations = Vec::with_capacity(rows.len());
        for r in rows {
            match self.timeline(p, &r.id).await {
                Ok(t) => conversations.push(t),
                // A team's private conversation this agent may not see stays out.
                Err(AppError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        self.audit(
            &crate::audit::Actor::agent(p),
            "contact.exported",
            Some(contact.id.clone()),
            serde_json::json!({"conversations": conversations.len()}),
        )
        .await?;
        Ok(ContactExport { exported_at: self.now(), contact, conversations })
    }

    /// Erases a customer (admins): identities and profile, and in their conversations the text,
    /// files and dialogue state; what metrics need stays. Audited; the search index follows.
    pub async fn erase_contact(&self, p: &Principal, id: &str) -> AppResult<Contact> {
        p.require_enrolled()?;
        p.require_admin()?;
        let id = Id::parse(id).ok_or(AppError::NotFound("contact"))?;
        let existing = self.store().contact_by_id(id.as_str()).await?.ok_or(AppError::NotFound("contact"))?;
        if let Some(target) = existing.merged_into {
            return Err(AppError::ContactMerged(target));
        }
        let erased = self.store().erase_contact(id.as_str(), micros(self.now())).await?.ok_or(AppError::NotFound("contact"))?;
        for key in &erased.unreferenced_blobs {
            let Some(key) = kefu_domain::blob::BlobKey::parse(key) else { continue };
            if let Err(e) = self.blobs()?.delete(&key).await {
                tracing::warn!(error = %e, "an erased file could not be deleted");
            }
        }
        for c in &erased.conversation_ids {
            self.index_later(c);
            // Told with its team, so that consoles that may not see a private team's
            // conversation do not hear of it either.
            if let Some(row) = self.store().conversation_by_id(c).await? {
                self.bus()
                    .publish(kefu_domain::DomainEvent::ConversationUpdated {
                        conversation_id: row.id,
                        team_id: row.team_id,
                        version: row.version,
                        changes: vec!["erased".into()],
                    })
                    .await;
            }
        }
        self.audit(
            &crate::audit::Actor::agent(p),
            "contact.erased",
            Some(id.to_string()),
            serde_json::json!({"conversations": erased.conversation_ids.len(), "files": erased.unreferenced_blobs.len()}),
        )
        .await?;
        self.contact_view(id.as_str()).await
    }
}
