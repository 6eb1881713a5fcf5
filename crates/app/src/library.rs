//! Teams, canned responses, macros, saved views and mention notifications: the tools agents
//! share (or keep for themselves) to answer faster.

use crate::conversations::{ConversationUpdate, NewMessageInput, Posted};
use crate::error::{collect, invalid as validation};
use crate::tokens::Scope;
use crate::{App, AppError, AppResult, Principal};
use kefu_domain::inbox::{parse_locale, parse_text, render_template};
use kefu_domain::{
    CannedResponse, Conversation, ConversationFilter, FieldError, Id, Macro, MacroAction, Message, Notification, Role, SavedView, Team,
};
use kefu_store::{CannedRow, MacroRow, StoreError, ViewRow, from_micros, micros};
use std::collections::BTreeMap;

fn to_canned(r: CannedRow) -> CannedResponse {
    CannedResponse {
        owner_id: (!r.owner_id.is_empty()).then_some(r.owner_id),
        id: r.id,
        shortcut: r.shortcut,
        title: r.title,
        locale: r.locale,
        body: r.body,
        updated_at: from_micros(r.updated_at),
    }
}

/// A macro as an agent writes it.
#[derive(Debug, Clone, Copy)]
pub struct MacroInput<'a> {
    pub name: &'a str,
    pub actions: &'a [MacroAction],
    /// Shared with the whole team (admins and supervisors only) rather than personal.
    pub shared: bool,
    /// Acts on the customer's account: runs only once the customer passed an identity check.
    pub sensitive: bool,
}

fn to_macro(r: MacroRow) -> Macro {
    Macro {
        owner_id: (!r.owner_id.is_empty()).then_some(r.owner_id),
        actions: serde_json::from_str(&r.actions).unwrap_or_default(),
        id: r.id,
        name: r.name,
        sensitive: r.sensitive,
        updated_at: from_micros(r.updated_at),
    }
}

fn to_view(r: ViewRow) -> SavedView {
    SavedView {
        filters: serde_json::from_str(&r.filters).unwrap_or_default(),
        id: r.id,
        name: r.name,
        owner_id: r.owner_id,
        shared: r.shared,
        created_at: from_micros(r.created_at),
    }
}

/// A shortcut: 1 to 32 lower-case letters, digits, `-` or `_`.
fn parse_shortcut(raw: &str) -> AppResult<String> {
    let s = raw.trim().trim_start_matches('/').to_lowercase();
    if s.is_empty() || s.len() > 32 || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(validation("shortcut", "must be 1 to 32 letters, digits, - or _"));
    }
    Ok(s)
}

pub struct CannedInput {
    pub shortcut: String,
    pub title: String,
    pub locale: String,
    pub body: String,
    /// Shared with everyone (supervisors and admins only) or personal.
    pub shared: bool,
}

impl App {
    fn can_manage_shared(p: &Principal) -> bool {
        matches!(p.agent.role, Role::Admin | Role::Supervisor)
    }

    /// Shared items are for supervisors and admins to change; personal ones for their owner.
    fn check_owner(p: &Principal, owner_id: &str) -> AppResult<()> {
        if owner_id.is_empty() {
            if Self::can_manage_shared(p) { Ok(()) } else { Err(AppError::Forbidden) }
        } else if owner_id == p.agent.id.as_str() {
            Ok(())
        } else {
            Err(AppError::NotFound("item"))
        }
    }

    // ---- teams ----

    pub async fn list_teams(&self, p: &Principal) -> AppResult<Vec<Team>> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        let members = self.store().team_members().await?;
        Ok(self
            .store()
            .teams()
            .await?
            .into_iter()
            .map(|t| Team {
                member_ids: members.iter().filter(|(tid, _)| *tid == t.id).map(|(_, a)| a.clone()).collect(),
                id: t.id,
                name: t.name,
                private: t.private,
                created_at: from_micros(t.created_at),
            })
            .collect())
    }

    async fn team_view(&self, id: &str) -> AppResult<Team> {
        let t = self.store().team_by_id(id).await?.ok_or(AppError::NotFound("team"))?;
        let members = self.store().team_members().await?;
        Ok(Team {
            member_ids: members.into_iter().filter(|(tid, _)| *tid == t.id).map(|(_, a)| a).collect(),
            id: t.id,
            name: t.name,
            private: t.private,
            created_at: from_micros(t.created_at),
        })
    }

    async fn check_members(&self, ids: &[String]) -> AppResult<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for raw in ids {
            let id = Id::parse(raw).ok_or_else(|| validation("member_ids", format!("{raw:?} is not an agent id")))?;
            if !out.contains(&id.to_string()) {
                out.push(id.to_string());
            }
        }
        if self.store().count_agents_among(&out).await? != out.len() as i64 {
            return Err(validation("member_ids", "every member must be an agent"));
        }
        Ok(out)
    }

    pub async fn create_team(&self, p: &Principal, name: &str, private: bool, member_ids: &[String]) -> AppResult<Team> {
        p.require_admin()?;
        let name = parse_text("name", name, 1, 100)?;
        let members = self.check_members(member_ids).await?;
        let id = Id::new().to_string();
        let now = micros(self.now());
        match self.store().insert_team(&id, &name, private, now).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(AppError::NameTaken),
            Err(e) => return Err(e.into()),
        }
        self.store().set_team_members(&id, &members, now).await?;
        self.audit(&crate::audit::Actor::agent(p), "team.created", Some(id.clone()), serde_json::json!({"name": name, "private": private}))
            .await?;
        self.team_view(&id).await
    }

    pub async fn update_team(
        &self,
        p: &Principal,
        id: &str,
        name: Option<&str>,
        private: Option<bool>,
        member_ids: Option<&[String]>,
    ) -> AppResult<Team> {
        p.require_admin()?;
        let id = Id::parse(id).ok_or(AppError::NotFound("team"))?;
        let name = match name {
            Some(n) => Some(parse_text("name", n, 1, 100)?),
            None => None,
        };
        let members = match member_ids {
            Some(m) => Some(self.check_members(m).await?),
            None => None,
        };
        let now = micros(self.now());
        match self.store().update_team(id.as_str(), name.as_deref(), private, now).await {
            Ok(true) => {}
            Ok(false) => return Err(AppError::NotFound("team")),
            Err(StoreError::Conflict(_)) => return Err(AppError::NameTaken),
            Err(e) => return Err(e.into()),
        }
        if let Some(m) = members {
            self.store().set_team_members(id.as_str(), &m, now).await?;
        }
        self.audit(
            &crate::audit::Actor::agent(p),
            "team.updated",
            Some(id.to_string()),
            serde_json::json!({"name": name, "private": private, "members": member_ids}),
        )
        .await?;
        self.team_view(id.as_str()).await
    }

    pub async fn delete_team(&self, p: &Principal, id: &str) -> AppResult<()> {
        p.require_admin()?;
        let id = Id::parse(id).ok_or(AppError::NotFound("team"))?;
        if !self.store().delete_team(id.as_str()).await? {
            return Err(AppError::NotFound("team"));
        }
        self.audit(&crate::audit::Actor::agent(p), "team.deleted", Some(id.to_string()), serde_json::json!({})).await?;
        Ok(())
    }

    // ---- canned responses ----

    pub async fn list_canned(&self, p: &Principal, q: Option<&str>, locale: Option<&str>) -> AppResult<Vec<CannedResponse>> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        let locale = match locale.filter(|l| !l.is_empty()) {
            Some(l) => Some(parse_locale("locale", l)?),
            None => None,
        };
        let q = q.map(|q| q.trim().trim_start_matches('/')).filter(|q| !q.is_empty());
        Ok(self.store().list_canned(p.agent.id.as_str(), q, locale.as_deref(), 200).await?.into_iter().map(to_canned).collect())
    }

    fn parse_canned(p: &Principal, id: String, input: &CannedInput, now: i64) -> AppResult<CannedRow> {
        let mut errors = Vec::new();
        let shortcut = match parse_shortcut(&input.shortcut) {
            Ok(s) => Some(s),
            Err(AppError::Validation(f)) => {
                errors.extend(f);
                None
            }
            Err(e) => return Err(e),
        };
        let title = collect(&mut errors, parse_text("title", &input.title, 1, 200));
        let locale = collect(&mut errors, parse_locale("locale", &input.locale));
        let body = collect(&mut errors, parse_text("body", &input.body, 1, 10_000));
        let (Some(shortcut), Some(title), Some(locale), Some(body)) = (shortcut, title, locale, body) else {
            return Err(AppError::Validation(errors));
        };
        if input.shared && !Self::can_manage_shared(p) {
            return Err(AppError::Forbidden);
        }
        let owner_id = if input.shared { String::new() } else { p.agent.id.to_string() };
        Ok(CannedRow { id, owner_id, shortcut, title, locale, body, updated_at: now })
    }

    pub async fn create_canned(&self, p: &Principal, input: CannedInput) -> AppResult<CannedResponse> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        let row = Self::parse_canned(p, Id::new().to_string(), &input, micros(self.now()))?;
        match self.store().insert_canned(&row, p.agent.id.as_str()).await {
            Ok(()) => Ok(to_canned(row)),
            Err(StoreError::Conflict(_)) => Err(AppError::NameTaken),
            Err(e) => Err(e.into()),
        }
    }

    async fn owned_canned(&self, p: &Principal, id: &str) -> AppResult<CannedRow> {
        let id = Id::parse(id).ok_or(AppError::NotFound("canned response"))?;
        let row = self.store().canned_by_id(id.as_str()).await?.ok_or(AppError::NotFound("canned response"))?;
        if !row.owner_id.is_empty() && row.owner_id != p.agent.id.as_str() {
            return Err(AppError::NotFound("canned response"));
        }
        Ok(row)
    }

    pub async fn update_canned(&self, p: &Principal, id: &str, input: CannedInput) -> AppResult<CannedResponse> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        let existing = self.owned_canned(p, id).await?;
        Self::check_owner(p, &existing.owner_id)?;
        let row = Self::parse_canned(p, existing.id, &input, micros(self.now()))?;
        match self.store().update_canned(&row).await {
            Ok(true) => Ok(to_canned(row)),
            Ok(false) => Err(AppError::NotFound("canned response")),
            Err(StoreError::Conflict(_)) => Err(AppError::NameTaken),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete_canned(&self, p: &Principal, id: &str) -> AppResult<()> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        let existing = self.owned_canned(p, id).await?;
        Self::check_owner(p, &existing.owner_id)?;
        self.store().delete_canned(&existing.id).await?;
        Ok(())
    }

    /// The response's text with `{{contact.name}}`, `{{conversation.number}}` and
    /// `{{agent.name}}` filled in for this conversation.
    pub async fn render_canned(&self, p: &Principal, id: &str, conversation_id: &str) -> AppResult<String> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        let c = self.owned_canned(p, id).await?;
        let row = self.visible_conversation(p, conversation_id).await?;
        Ok(render_template(&c.body, &self.template_vars(p, &row).await?))
    }

    async fn template_vars(&self, p: &Principal, row: &kefu_store::ConversationRow) -> AppResult<BTreeMap<&'static str, String>> {
        let mut v = BTreeMap::new();
        v.insert("contact.name", row.contact_name.clone());
        v.insert("conversation.number", row.number.to_string());
        v.insert("conversation.subject", row.subject.clone());
        v.insert("agent.name", p.agent.name.as_str().to_string());
        Ok(v)
    }

    // ---- macros ----

    pub async fn list_macros(&self, p: &Principal) -> AppResult<Vec<Macro>> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        Ok(self.store().list_macros(p.agent.id.as_str()).await?.into_iter().map(to_macro).collect())
    }

    fn parse_macro(p: &Principal, id: String, input: &MacroInput<'_>, now: i64) -> AppResult<MacroRow> {
        let MacroInput { name, actions, shared, sensitive } = *input;
        let name = parse_text("name", name, 1, 100)?;
        if actions.is_empty() || actions.len() > 20 {
            return Err(validation("actions", "give 1 to 20 actions"));
        }
        let mut errors = Vec::new();
        for a in actions {
            match a {
                MacroAction::Reply { body } | MacroAction::Note { body } => {
                    collect(&mut errors, parse_text("actions.body", body, 1, 10_000));
                }
                MacroAction::AddTags { tags } | MacroAction::RemoveTags { tags } => {
                    collect(&mut errors, kefu_domain::inbox::parse_tags("actions.tags", tags));
                }
                MacroAction::Assign { agent_id: Some(a) } if Id::parse(a).is_none() => {
                    errors.push(FieldError::new("actions.agent_id", "is not an agent id"))
                }
                MacroAction::SetTeam { team_id: Some(t) } if Id::parse(t).is_none() => {
                    errors.push(FieldError::new("actions.team_id", "is not a team id"))
                }
                _ => {}
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        if shared && !Self::can_manage_shared(p) {
            return Err(AppError::Forbidden);
        }
        let owner_id = if shared { String::new() } else { p.agent.id.to_string() };
        Ok(MacroRow {
            id,
            owner_id,
            name,
            actions: serde_json::to_string(actions).map_err(AppError::internal)?,
            sensitive,
            updated_at: now,
        })
    }

    pub async fn create_macro(&self, p: &Principal, input: &MacroInput<'_>) -> AppResult<Macro> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        let row = Self::parse_macro(p, Id::new().to_string(), input, micros(self.now()))?;
        match self.store().insert_macro(&row, p.agent.id.as_str()).await {
            Ok(()) => Ok(to_macro(row)),
            Err(StoreError::Conflict(_)) => Err(AppError::NameTaken),
            Err(e) => Err(e.into()),
        }
    }

    async fn owned_macro(&self, p: &Principal, id: &str) -> AppResult<MacroRow> {
        let id = Id::parse(id).ok_or(AppError::NotFound("macro"))?;
        let row = self.store().macro_by_id(id.as_str()).await?.ok_or(AppError::NotFound("macro"))?;
        if !row.owner_id.is_empty() && row.owner_id != p.agent.id.as_str() {
            return Err(AppError::NotFound("macro"));
        }
        Ok(row)
    }

    pub async fn update_macro(&self, p: &Principal, id: &str, input: &MacroInput<'_>) -> AppResult<Macro> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        let existing = self.owned_macro(p, id).await?;
        Self::check_owner(p, &existing.owner_id)?;
        let row = Self::parse_macro(p, existing.id, input, micros(self.now()))?;
        match self.store().update_macro(&row).await {
            Ok(true) => Ok(to_macro(row)),
            Ok(false) => Err(AppError::NotFound("macro")),
            Err(StoreError::Conflict(_)) => Err(AppError::NameTaken),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete_macro(&self, p: &Principal, id: &str) -> AppResult<()> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        let existing = self.owned_macro(p, id).await?;
        Self::check_owner(p, &existing.owner_id)?;
        self.store().delete_macro(&existing.id).await?;
        Ok(())
    }

    /// Runs a macro on a conversation: the field changes as one update (one version step, one
    /// `macro_applied` entry), then its replies and notes in order.
    pub async fn apply_macro(
        &self,
        p: &Principal,
        conversation_id: &str,
        macro_id: &str,
        version: Option<i64>,
    ) -> AppResult<(Conversation, Vec<Message>)> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        let m = to_macro(self.owned_macro(p, macro_id).await?);
        let row = self.visible_conversation(p, conversation_id).await?;
        if let Some(v) = version
            && v != row.version
        {
            return Err(AppError::VersionConflict(row.version));
        }
        if m.sensitive && !crate::identity_check::verified(&row, self.now()) {
            return Err(AppError::IdentityCheckRequired);
        }
        let vars = self.template_vars(p, &row).await?;
        let mut u = ConversationUpdate::default();
        let mut messages = Vec::new();
        for a in &m.actions {
            match a {
                MacroAction::Reply { body } => messages.push((false, render_template(body, &vars))),
                MacroAction::Note { body } => messages.push((true, render_template(body, &vars))),
                MacroAction::AddTags { tags } => u.add_tags.extend(tags.iter().cloned()),
                MacroAction::RemoveTags { tags } => u.remove_tags.extend(tags.iter().cloned()),
                MacroAction::SetStatus { status } => u.status = Some(*status),
                MacroAction::SetPriority { priority } => u.priority = Some(*priority),
                MacroAction::Assign { agent_id } => u.assignee_id = Some(agent_id.clone()),
                MacroAction::SetTeam { team_id } => u.team_id = Some(team_id.clone()),
            }
        }
        // Replies first, so that a macro that answers and resolves leaves the status it set.
        let status = u.status.take();
        let mut posted = Vec::new();
        for (private, body) in messages {
            let (msg, _) = self.post_message(p, &row.id, NewMessageInput { body, private, ..Default::default() }).await?;
            if let Posted::Created(m) = msg {
                posted.push(m);
            }
        }
        u.status = status;
        let current = self.store().conversation_by_id(&row.id).await?.ok_or(AppError::NotFound("conversation"))?;
        let conv = self.apply_update(p, current, u, Some(&m.name)).await?;
        Ok((conv, posted))
    }

    // ---- saved views ----

    pub async fn list_views(&self, p: &Principal) -> AppResult<Vec<SavedView>> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        Ok(self.store().list_views(p.agent.id.as_str()).await?.into_iter().map(to_view).collect())
    }

    pub async fn create_view(&self, p: &Principal, name: &str, shared: bool, filters: ConversationFilter) -> AppResult<SavedView> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        let name = parse_text("name", name, 1, 100)?;
        if shared && !Self::can_manage_shared(p) {
            return Err(AppError::Forbidden);
        }
        if let Some(t) = &filters.tag {
            kefu_domain::inbox::parse_tag("filters.tag", t)?;
        }
        for (field, v) in [("filters.assignee", &filters.assignee), ("filters.team", &filters.team)] {
            if let Some(v) = v
                && !matches!(v.as_str(), "me" | "none")
                && Id::parse(v).is_none()
            {
                return Err(validation(field, "must be me, none or an id"));
            }
        }
        if let Some(s) = &filters.status
            && s.is_empty()
        {
            return Err(validation("filters.status", "give at least one status, or leave it out"));
        }
        let row = ViewRow {
            id: Id::new().to_string(),
            owner_id: p.agent.id.to_string(),
            name,
            shared,
            filters: serde_json::to_string(&filters).map_err(AppError::internal)?,
            created_at: micros(self.now()),
        };
        match self.store().insert_view(&row).await {
            Ok(()) => Ok(to_view(row)),
            Err(StoreError::Conflict(_)) => Err(AppError::NameTaken),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete_view(&self, p: &Principal, id: &str) -> AppResult<()> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        let id = Id::parse(id).ok_or(AppError::NotFound("view"))?;
        let v = self.store().view_by_id(id.as_str()).await?.ok_or(AppError::NotFound("view"))?;
        if v.owner_id != p.agent.id.as_str() {
            return Err(if v.shared { AppError::Forbidden } else { AppError::NotFound("view") });
        }
        self.store().delete_view(id.as_str()).await?;
        Ok(())
    }

    // ---- notifications ----

    pub async fn list_notifications(&self, p: &Principal, unread_only: bool) -> AppResult<Vec<Notification>> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        Ok(self
            .store()
            .list_notifications(p.agent.id.as_str(), unread_only, 100)
            .await?
            .into_iter()
            .map(|n| Notification {
                id: n.id,
                kind: n.kind,
                conversation_id: n.conversation_id,
                conversation_number: n.conversation_number,
                message_id: n.message_id,
                actor_name: n.actor_name,
                excerpt: n.excerpt,
                read_at: n.read_at.map(from_micros),
                created_at: from_micros(n.created_at),
            })
            .collect())
    }

    /// Marks one notification (or all, with `None`) read.
    pub async fn mark_notifications_read(&self, p: &Principal, id: Option<&str>) -> AppResult<()> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)?;
        let id = match id {
            Some(raw) => Some(Id::parse(raw).ok_or(AppError::NotFound("notification"))?),
            None => None,
        };
        let n = self.store().mark_notifications_read(p.agent.id.as_str(), id.as_ref().map(|i| i.as_str()), micros(self.now())).await?;
        if id.is_some() && n == 0 {
            return Err(AppError::NotFound("notification"));
        }
        Ok(())
    }
}
