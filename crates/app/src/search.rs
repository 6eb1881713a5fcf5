//! Conversation search: the indexer service that keeps the full-text index in step with the
//! database, and the search use case that filters hits by what the asking agent may see.

use crate::service::{Service, Shutdown};
use crate::tokens::Scope;
use crate::{App, AppError, AppResult, Principal};
use kefu_domain::{Contact, Conversation, FieldError, Id, Priority, Role, Status};
use kefu_search::{ConversationDoc, ConversationQuery, SearchError};
use kefu_store::{ListFilter, Sort};
use std::collections::{HashMap, HashSet};
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

/// How long the indexer waits for more changes after the first, so a burst costs one commit.
const BATCH_WINDOW: Duration = Duration::from_millis(100);

/// Under steady writes the index commits at most this often.
const MIN_COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// Conversations indexed in one commit at most.
const MAX_BATCH: usize = 5_000;

/// Conversations whose rows, tags and identities are read in one query each while indexing.
const DOC_BATCH: usize = 200;

/// About how many messages one query reads while indexing.
const MESSAGES_PER_QUERY: i64 = 2_000;

/// Messages of one conversation read for its document; the rest of a longer thread is cut.
const MAX_THREAD_MESSAGES: i64 = 5_000;

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

    /// The documents for these conversations, assembled from the database with a few queries
    /// per batch rather than per conversation; ids no longer in the database are left out.
    async fn search_docs(&self, ids: &[String]) -> AppResult<Vec<ConversationDoc>> {
        let mut docs = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(DOC_BATCH) {
            let f = ListFilter { ids: Some(chunk.to_vec()), include_merged: true, ..Default::default() };
            let rows = self.store().list_conversations(&f, Sort::Created, None, chunk.len() as i64).await?;
            let mut tags: HashMap<String, Vec<String>> = HashMap::new();
            for (cid, t) in self.store().tags_of(chunk).await? {
                tags.entry(cid).or_default().push(t);
            }
            let mut contacts: Vec<String> = rows.iter().map(|r| r.contact_id.clone()).collect();
            contacts.sort();
            contacts.dedup();
            // Only the blind keys of identities reach the index: the values stay sealed.
            self.pii().await?;
            let mut identities: HashMap<String, Vec<String>> = HashMap::new();
            for i in self.store().identities_of(&contacts).await? {
                identities.entry(i.contact_id).or_default().push(i.value);
            }
            // Messages in groups small enough that one long thread cannot crowd out the rest:
            // each group's limit covers all of its messages (a thread counts at most
            // MAX_THREAD_MESSAGES), with room for a few that arrive meanwhile.
            let mut texts: HashMap<String, String> = HashMap::new();
            let mut groups: Vec<(Vec<String>, i64)> = vec![(Vec::new(), 0)];
            for r in &rows {
                let n = r.message_count.clamp(0, MAX_THREAD_MESSAGES);
                if groups.last().is_some_and(|(g, total)| !g.is_empty() && total + n > MESSAGES_PER_QUERY) {
                    groups.push((Vec::new(), 0));
                }
                if let Some((g, total)) = groups.last_mut() {
                    g.push(r.id.clone());
                    *total += n;
                }
            }
            for (group, total) in groups.iter().filter(|(g, _)| !g.is_empty()) {
                for m in self.store().messages_of(group, true, total + 100).await? {
                    let text = texts.entry(m.conversation_id).or_default();
                    if text.len() <= MAX_INDEXED_CHARS {
                        text.push_str(&m.body);
                        text.push('\n');
                    }
                }
            }
            for row in rows {
                docs.push(ConversationDoc {
                    contact_keys: identities.get(&row.contact_id).cloned().unwrap_or_default(),
                    contact: row.contact_name.clone(),
                    messages: texts.remove(&row.id).unwrap_or_default(),
                    tags: tags.remove(&row.id).unwrap_or_default(),
                    number: row.number,
                    subject: row.subject,
                    status: row.status,
                    channel: row.channel,
                    priority: Priority::from_rank(row.priority).as_str().into(),
                    team_id: row.team_id,
                    assignee_id: row.assignee_id,
                    last_activity_at: row.last_activity_at,
                    id: row.id,
                });
            }
        }
        Ok(docs)
    }

    /// Indexes these conversations and commits, so a search right after sees them.
    pub async fn index_now(&self, ids: &[String]) -> AppResult<()> {
        let docs = self.search_docs(ids).await?;
        let present: HashSet<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        let gone: Vec<String> = ids.iter().filter(|id| !present.contains(id.as_str())).cloned().collect();
        let index = self.search_index()?;
        tokio::task::spawn_blocking(move || {
            for id in &gone {
                index.delete(id)?;
            }
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
        let assignee = match req.assignee_id.as_deref() {
            Some("me") => Some(Some(p.agent.id.to_string())),
            Some("none") => Some(None),
            Some(a) => Some(Some(
                Id::parse(a)
                    .ok_or_else(|| AppError::Validation(vec![FieldError::new("assignee", "must be me, none or an agent id")]))?
                    .to_string(),
            )),
            None => None,
        };
        let limit = req.limit.clamp(1, 100);
        let query = ConversationQuery {
            text: q.to_string(),
            status: req.status.map(|s| s.as_str().into()),
            channel: req.channel.clone(),
            priority: req.priority.map(|p| p.as_str().into()),
            assignee,
            tag: req.tag.clone(),
            visible_teams,
            limit,
            contact_keys: crate::contacts::query_keys(&*self.pii().await?, q),
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
        let mut last_commit = tokio::time::Instant::now() - MIN_COMMIT_INTERVAL;
        loop {
            let first = tokio::select! {
                _ = shutdown.wait() => break,
                id = rx.recv() => match id { Some(id) => id, None => break },
            };
            let mut batch = HashSet::from([first]);
            // Gather what arrives in the next moment so a burst costs one commit; under steady
            // writes, commit at most once per MIN_COMMIT_INTERVAL (each commit makes a segment
            // that merging costs CPU for later). The queue is drained once the moment is over,
            // not as each id comes: waking for every write cost the busy writers' CPU.
            let deadline = (tokio::time::Instant::now() + BATCH_WINDOW).max(last_commit + MIN_COMMIT_INTERVAL);
            tokio::time::sleep_until(deadline).await;
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(id) => {
                        batch.insert(id);
                    }
                    Err(_) => break,
                }
            }
            let ids: Vec<String> = batch.into_iter().collect();
            last_commit = tokio::time::Instant::now();
            match self.app.index_now(&ids).await {
                Ok(()) => {
                    tracing::debug!(conversations = ids.len(), ms = last_commit.elapsed().as_secs_f64() * 1e3, "indexed and committed")
                }
                Err(e) => tracing::error!(error = %e, "indexing failed; the next start rebuilds the index"),
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
