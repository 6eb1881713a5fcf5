//! Conversation search: the indexer service that keeps the full-text index in step with the
//! database, and the search use case that filters hits by what the asking agent may see.

use crate::service::{Service, Shutdown};
use crate::tokens::Scope;
use crate::{App, AppError, AppResult, Principal};
use kefu_domain::{Contact, Conversation, FieldError, Id, Priority, Role, Status};
use kefu_search::{ConversationDoc, ConversationQuery, SearchError};
use kefu_store::{ListFilter, Sort};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub q: String,
    pub status: Option<Status>,
    pub channel: Option<String>,
    pub priority: Option<Priority>,
    pub assignee_id: Option<String>,
    pub tag: Option<String>,
    pub limit: usize,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ConversationMatch {
    pub conversation: Conversation,
    /// Text around the best match.
    pub snippet: String,
    /// Byte ranges of `snippet` that matched.
    pub highlights: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    pub conversations: Vec<ConversationMatch>,
    pub contacts: Vec<Contact>,
    /// Milliseconds the search took on the server.
    pub took_ms: f64,
}

/// Message text indexed per conversation; beyond this a long thread is cut.
const MAX_INDEXED_CHARS: usize = 200_000;

impl App {
    /// Queues a conversation for (re)indexing; the indexer picks it up within a moment.
    pub(crate) fn index_later(&self, conversation_id: &str) {
        let _ = self.0.index_queue.send(conversation_id.to_string());
    }

    pub(crate) async fn reindex_contact(&self, contact_id: &str) -> AppResult<()> {
        let f = ListFilter { contact_id: Some(contact_id.to_string()), include_merged: true, ..Default::default() };
        for r in self.store().list_conversations(&f, Sort::LastActivity, None, 10_000).await? {
            self.index_later(&r.id);
        }
        Ok(())
    }

    /// The document for one conversation, assembled from the database.
    async fn search_doc(&self, id: &str) -> AppResult<Option<ConversationDoc>> {
        let Some(row) = self.store().conversation_by_id(id).await? else { return Ok(None) };
        let messages = self.store().messages_of(std::slice::from_ref(&row.id), true, 5_000).await?;
        let mut text = String::new();
        for m in messages {
            if text.len() > MAX_INDEXED_CHARS {
                break;
            }
            text.push_str(&m.body);
            text.push('\n');
        }
        let identities = self.store().identities_of(std::slice::from_ref(&row.contact_id)).await?;
        let mut contact = row.contact_name.clone();
        for i in identities {
            contact.push(' ');
            contact.push_str(&i.value);
        }
        let tags = self.store().tags_of(std::slice::from_ref(&row.id)).await?.into_iter().map(|(_, t)| t).collect();
        Ok(Some(ConversationDoc {
            id: row.id,
            number: row.number,
            subject: row.subject,
            messages: text,
            contact,
            status: row.status,
            channel: row.channel,
            priority: Priority::from_rank(row.priority).as_str().into(),
            team_id: row.team_id,
            assignee_id: row.assignee_id,
            tags,
            last_activity_at: row.last_activity_at,
        }))
    }

    /// Indexes these conversations and commits, so a search right after sees them.
    pub async fn index_now(&self, ids: &[String]) -> AppResult<()> {
        let mut docs = Vec::new();
        for id in ids {
            match self.search_doc(id).await? {
                Some(d) => docs.push(d),
                None => self.search_index()?.delete(id).map_err(AppError::internal)?,
            }
        }
        let index = self.search_index()?;
        tokio::task::spawn_blocking(move || {
            index.upsert(&docs)?;
            index.commit()
        })
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
    }

    /// Rebuilds the whole index from the database; returns how many conversations it holds.
    pub async fn rebuild_search_index(&self) -> AppResult<u64> {
        self.search_index()?.clear().map_err(AppError::internal)?;
        let f = ListFilter { include_merged: true, ..Default::default() };
        let mut after = None;
        loop {
            let rows = self.store().list_conversations(&f, Sort::Created, after.as_ref(), 500).await?;
            let Some(last) = rows.last() else { break };
            after = Some(Sort::Created.keyset(last));
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            self.index_now(&ids).await?;
        }
        Ok(self.search_index()?.num_docs())
    }

    /// Whether the index holds as many conversations as the database (else it needs a rebuild).
    pub async fn search_index_in_step(&self) -> AppResult<bool> {
        let f = ListFilter { include_merged: true, ..Default::default() };
        Ok(self.store().count_conversations(&f).await? as u64 == self.search_index()?.num_docs())
    }

    #[tracing::instrument(skip_all, fields(actor = %p.agent.id))]
    pub async fn search(&self, p: &Principal, req: SearchRequest) -> AppResult<SearchResults> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        let started = std::time::Instant::now();
        let q = req.q.trim();
        if q.is_empty() {
            return Err(AppError::Validation(vec![FieldError::new("q", "must not be empty")]));
        }
        if q.chars().count() > 500 {
            return Err(AppError::Validation(vec![FieldError::new("q", "must be at most 500 characters")]));
        }
        let visible_teams = if p.agent.role == Role::Agent {
            let hidden = self.store().teams_hidden_from(p.agent.id.as_str()).await?;
            Some(self.store().teams().await?.into_iter().map(|t| t.id).filter(|t| !hidden.contains(t)).collect())
        } else {
            None
        };
        let assignee_id = match req.assignee_id.as_deref() {
            Some("me") => Some(p.agent.id.to_string()),
            Some(a) => Some(
                Id::parse(a)
                    .ok_or_else(|| AppError::Validation(vec![FieldError::new("assignee", "must be me or an agent id")]))?
                    .to_string(),
            ),
            None => None,
        };
        let limit = req.limit.clamp(1, 100);
        let query = ConversationQuery {
            text: q.to_string(),
            status: req.status.map(|s| s.as_str().into()),
            channel: req.channel.clone(),
            priority: req.priority.map(|p| p.as_str().into()),
            assignee_id,
            tag: req.tag.clone(),
            visible_teams,
            limit,
        };
        let index = self.search_index()?;
        let hits = tokio::task::spawn_blocking(move || index.search(&query)).await.map_err(AppError::internal)?;
        let hits = match hits {
            Ok(h) => h,
            Err(SearchError::EmptyQuery) => return Err(AppError::Validation(vec![FieldError::new("q", "has no words to search for")])),
            Err(e) => return Err(AppError::internal(e)),
        };
        let ids: Vec<String> = hits.iter().map(|h| h.id.clone()).collect();
        // The database has the last word on what exists and who may see it.
        let f = ListFilter { ids: Some(ids), hidden_for: self.visibility(p), include_merged: true, ..Default::default() };
        let rows =
            if hits.is_empty() { Vec::new() } else { self.store().list_conversations(&f, Sort::LastActivity, None, limit as i64).await? };
        let views = self.conversation_views(rows).await?;
        let conversations = hits
            .into_iter()
            .filter_map(|h| {
                views.iter().find(|c| c.id == h.id).map(|c| ConversationMatch {
                    conversation: c.clone(),
                    snippet: h.snippet,
                    highlights: h.highlights,
                })
            })
            .collect();
        let contacts = self.list_contacts(p, Some(q), None, 10).await?.items;
        Ok(SearchResults { conversations, contacts, took_ms: started.elapsed().as_secs_f64() * 1000.0 })
    }
}

/// Drains the index queue: batches what arrives within a moment, indexes and commits once.
pub struct SearchIndexer {
    app: App,
    queue: tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<String>>,
}

impl SearchIndexer {
    pub fn new(app: &App) -> Option<Arc<Self>> {
        let rx = app.0.index_rx.lock().ok()?.take()?;
        Some(Arc::new(Self { app: app.clone(), queue: tokio::sync::Mutex::new(rx) }))
    }
}

#[async_trait::async_trait]
impl Service for SearchIndexer {
    fn name(&self) -> &'static str {
        "search-indexer"
    }

    async fn run(self: Arc<Self>, mut shutdown: Shutdown) {
        match self.app.search_index_in_step().await {
            Ok(true) => {}
            Ok(false) => match self.app.rebuild_search_index().await {
                Ok(n) => tracing::info!(conversations = n, "search index rebuilt"),
                Err(e) => tracing::error!(error = %e, "search index rebuild failed"),
            },
            Err(e) => tracing::error!(error = %e, "cannot check the search index"),
        }
        let mut rx = self.queue.lock().await;
        loop {
            let first = tokio::select! {
                _ = shutdown.wait() => break,
                id = rx.recv() => match id { Some(id) => id, None => break },
            };
            let mut batch = HashSet::from([first]);
            // Gather what arrives in the next moment so a burst costs one commit.
            let deadline = tokio::time::Instant::now() + Duration::from_millis(100);
            while batch.len() < 1000 {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(id)) => {
                        batch.insert(id);
                    }
                    _ => break,
                }
            }
            let ids: Vec<String> = batch.into_iter().collect();
            if let Err(e) = self.app.index_now(&ids).await {
                tracing::error!(error = %e, "indexing failed; the next start rebuilds the index");
            }
        }
        // Index what is still queued before stopping.
        let mut rest = Vec::new();
        while let Ok(id) = rx.try_recv() {
            rest.push(id);
        }
        if !rest.is_empty()
            && let Err(e) = self.app.index_now(&rest).await
        {
            tracing::error!(error = %e, "final indexing failed");
        }
    }
}
