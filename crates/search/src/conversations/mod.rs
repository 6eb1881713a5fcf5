//! The unified inbox's search index: one document per conversation (subject, all message text,
//! the contact's name and identities' blind keys, and the attributes the inbox filters on), found by words or by number.

use crate::analysis;
use crate::error::{Result, SearchError};
use crate::keyed::KeyedIndex;
use crate::text::{SNIPPET_WINDOW_BYTES, char_boundary_at_or_before, text_value, windows};
use std::path::Path;
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery, TermSetQuery};
use tantivy::schema::{FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocId, Index, IndexSettings, ReloadPolicy, Score, Searcher, SegmentReader, TantivyDocument, TantivyError, Term};

/// Shared by the writer's indexing threads; enough for batches of thousands of conversations
/// without holding much memory in a server that mostly indexes a few at a time.
const WRITER_MEMORY_BYTES: usize = 50_000_000;

/// Most hits one search returns: a result page, not an export.
pub const MAX_HITS: usize = 200;

/// Hits returned when the query leaves `limit` at zero.
pub const DEFAULT_HITS: usize = 20;

/// A word in the subject says more about a conversation than the same word somewhere in its
/// messages; the contact's name is almost always what the agent meant.
const SUBJECT_BOOST: Score = 3.0;
const CONTACT_BOOST: Score = 2.0;

/// A whole e-mail, phone or account id of the contact is almost surely who the agent is after.
const CONTACT_KEY_SCORE: Score = 100.0;

/// An exact conversation number outranks any text match.
const NUMBER_MATCH_SCORE: Score = 1000.0;

/// Team value of a conversation that belongs to no team; no real id contains a NUL.
const NO_TEAM: &str = "\u{0}none";

/// Assignee value of an unassigned conversation.
const NO_ASSIGNEE: &str = "\u{0}none";

/// Snippet length in bytes: about 65 Chinese characters or a line and a half of English.
const SNIPPET_BYTES: usize = 200;

const LAST_ACTIVITY_AT: &str = "last_activity_at";

/// A conversation as the index sees it; the caller assembles it from the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationDoc {
    pub id: String,
    pub number: i64,
    pub subject: String,
    /// The text of all the conversation's messages, joined.
    pub messages: String,
    /// The contact's name.
    pub contact: String,
    /// Blind keys of the contact's identities (e-mails, phones, account ids): the values
    /// themselves are sealed and never reach the index, a whole value given in a query is
    /// matched by its key.
    pub contact_keys: Vec<String>,
    pub status: String,
    pub channel: String,
    pub priority: String,
    pub team_id: Option<String>,
    pub assignee_id: Option<String>,
    pub tags: Vec<String>,
    /// Microseconds since the Unix epoch; breaks ties between equally relevant conversations.
    pub last_activity_at: i64,
}

/// What to look for. Filters match exactly (they are ids and enum values, not words).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationQuery {
    /// Words to find (all must match), or a conversation number such as `10234` or `#10234`.
    pub text: String,
    pub status: Option<String>,
    pub channel: Option<String>,
    pub priority: Option<String>,
    /// `Some(None)`: only unassigned conversations.
    pub assignee: Option<Option<String>>,
    pub tag: Option<String>,
    /// `None`: every conversation. `Some(teams)`: only those of these teams or of no team.
    pub visible_teams: Option<Vec<String>>,
    /// Blind keys of the identities `text` could be given whole (see [`ConversationDoc::contact_keys`]):
    /// a conversation of a contact with one of them matches as well as by words.
    pub contact_keys: Vec<String>,
    /// How many hits to return: 0 means [`DEFAULT_HITS`], more than [`MAX_HITS`] means `MAX_HITS`.
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConversationHit {
    pub id: String,
    pub number: i64,
    /// Relevance, comparable within one search only; an exact number match adds 1000.
    pub score: Score,
    /// Plain text around the best match, from the messages, the subject or the contact.
    pub snippet: String,
    /// Byte ranges of `snippet` to highlight.
    pub highlights: Vec<(usize, usize)>,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    number: Field,
    subject: Field,
    messages: Field,
    contact: Field,
    contact_keys: Field,
    status: Field,
    channel: Field,
    priority: Field,
    team: Field,
    assignee: Field,
    tags: Field,
    last_activity_at: Field,
}

impl Fields {
    fn schema() -> (Schema, Self) {
        let mut builder = Schema::builder();
        let fields = Self {
            id: builder.add_text_field("id", STRING | STORED),
            number: builder.add_i64_field("number", INDEXED | STORED),
            subject: builder.add_text_field("subject", analysis::text_field(true)),
            messages: builder.add_text_field("messages", analysis::text_field(true)),
            contact: builder.add_text_field("contact", analysis::text_field(true)),
            contact_keys: builder.add_text_field("contact_keys", STRING),
            status: builder.add_text_field("status", STRING),
            channel: builder.add_text_field("channel", STRING),
            priority: builder.add_text_field("priority", STRING),
            team: builder.add_text_field("team", STRING),
            // Named for what it holds since unassigned conversations carry NO_ASSIGNEE: an
            // index from before that has another schema and is rebuilt.
            assignee: builder.add_text_field("assignee_or_none", STRING),
            tags: builder.add_text_field("tags", STRING),
            last_activity_at: builder.add_i64_field(LAST_ACTIVITY_AT, FAST),
        };
        (builder.build(), fields)
    }
}

/// Conversation search, safe to share behind an `Arc` between tasks: writes go through one
/// writer behind a mutex, searches use the reader and never wait for writes.
///
/// Changes are staged: [`upsert`](Self::upsert), [`delete`](Self::delete) and
/// [`clear`](Self::clear) become visible together at the next [`commit`](Self::commit).
pub struct ConversationIndex {
    docs: KeyedIndex,
    fields: Fields,
}

impl ConversationIndex {
    /// Opens the index in `dir`, creating the directory and an empty index if needed.
    ///
    /// Fails with [`SearchError::IncompatibleIndex`] if the index there was written with another
    /// schema or analysis version: the caller should delete the directory and rebuild.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|error| SearchError::Index(format!("cannot create {}: {error}", dir.display())))?;
        let (schema, fields) = Fields::schema();
        let directory = MmapDirectory::open(dir)?;
        let incompatible = |reason: String| SearchError::IncompatibleIndex { path: dir.to_path_buf(), reason };
        let exists = Index::exists(&directory).map_err(|error| SearchError::Index(error.to_string()))?;
        let index = if exists {
            let index = Index::open(directory).map_err(|error| match error {
                TantivyError::IncompatibleIndex(incompatibility) => incompatible(format!("{incompatibility:?}")),
                other => other.into(),
            })?;
            if index.schema() != schema {
                return Err(incompatible("its schema differs".to_string()));
            }
            index
        } else {
            Index::create(directory, schema, IndexSettings::default())?
        };
        Self::with_index(index, fields)
    }

    /// An index that lives in memory only: for tests and demos.
    pub fn in_memory() -> Result<Self> {
        let (schema, fields) = Fields::schema();
        Self::with_index(Index::create_in_ram(schema), fields)
    }

    fn with_index(index: Index, fields: Fields) -> Result<Self> {
        analysis::register(&index);
        analysis::warm_up();
        // `commit` reloads at once so the next search sees it; the policy also picks up the
        // segments that background merges publish later.
        let docs = KeyedIndex::new(&index, fields.id, WRITER_MEMORY_BYTES, ReloadPolicy::OnCommitWithDelay)?;
        Ok(Self { docs, fields })
    }

    /// Adds these conversations, replacing any indexed under the same id.
    pub fn upsert(&self, docs: &[ConversationDoc]) -> Result<()> {
        self.docs.upsert(docs.iter().map(|doc| (doc.id.as_str(), self.document(doc))))
    }

    /// Removes the conversation with this id, if indexed.
    pub fn delete(&self, id: &str) -> Result<()> {
        self.docs.delete(id);
        Ok(())
    }

    /// Removes every conversation, including changes staged since the last commit. For a rebuild:
    /// clear, upsert everything, commit; searches see the old index until that commit.
    pub fn clear(&self) -> Result<()> {
        self.docs.clear()
    }

    /// Makes staged changes durable and visible to the next search.
    pub fn commit(&self) -> Result<()> {
        self.docs.commit()
    }

    /// Conversations visible to searches (as of the last commit).
    pub fn num_docs(&self) -> u64 {
        self.docs.searcher().num_docs()
    }

    /// The best matches for `query`, most relevant first (the most recently active first among equals).
    pub fn search(&self, query: &ConversationQuery) -> Result<Vec<ConversationHit>> {
        let text = query.text.trim();
        if text.is_empty() {
            return Err(SearchError::EmptyQuery);
        }
        let fields = &self.fields;
        let words =
            analysis::match_all_words(text, &[(fields.subject, SUBJECT_BOOST), (fields.messages, 1.0), (fields.contact, CONTACT_BOOST)]);
        let by_number = conversation_number(text).map(|number| -> Box<dyn Query> {
            let exact = TermQuery::new(Term::from_field_i64(fields.number, number), IndexRecordOption::Basic);
            Box::new(ConstScoreQuery::new(Box::new(exact), NUMBER_MATCH_SCORE))
        });
        let by_key = (!query.contact_keys.is_empty()).then(|| -> Box<dyn Query> {
            let keys = TermSetQuery::new(query.contact_keys.iter().map(|key| Term::from_field_text(fields.contact_keys, key)));
            Box::new(ConstScoreQuery::new(Box::new(keys), CONTACT_KEY_SCORE))
        });
        let mut matchers: Vec<Box<dyn Query>> = [by_number, words, by_key].into_iter().flatten().collect();
        let matcher: Box<dyn Query> = match matchers.len() {
            0 => return Ok(Vec::new()),
            1 => matchers.remove(0),
            _ => Box::new(BooleanQuery::union(matchers)),
        };
        let full = BooleanQuery::new([(Occur::Must, matcher.box_clone())].into_iter().chain(self.filters(query)).collect());

        let searcher = self.docs.searcher();
        let limit = if query.limit == 0 { DEFAULT_HITS } else { query.limit.min(MAX_HITS) };
        let by_relevance_then_recency = TopDocs::with_limit(limit).tweak_score(|segment: &SegmentReader| {
            let recency = segment.fast_fields().i64(LAST_ACTIVITY_AT).ok().map(|column| column.first_or_default_col(0));
            move |doc: DocId, score: Score| (score, recency.as_ref().map_or(0, |column| column.get_val(doc)))
        });
        let top = searcher.search(&full, &by_relevance_then_recency)?;
        if top.is_empty() {
            return Ok(Vec::new());
        }

        let snippets = Snippets::new(&searcher, matcher.as_ref(), fields)?;
        top.into_iter()
            .map(|((score, _), address)| {
                let doc: TantivyDocument = searcher.doc(address)?;
                let (snippet, highlights) = snippets.best(&doc);
                Ok(ConversationHit {
                    id: text_value(&doc, fields.id).to_string(),
                    number: doc.get_first(fields.number).and_then(|value| value.as_i64()).unwrap_or_default(),
                    score,
                    snippet,
                    highlights,
                })
            })
            .collect()
    }

    /// Restrictions that decide which conversations qualify without changing how they rank.
    fn filters(&self, query: &ConversationQuery) -> Vec<(Occur, Box<dyn Query>)> {
        let fields = &self.fields;
        let assignee = query.assignee.as_ref().map(|a| a.clone().unwrap_or_else(|| NO_ASSIGNEE.to_string()));
        let exact = [
            (fields.status, &query.status),
            (fields.channel, &query.channel),
            (fields.priority, &query.priority),
            (fields.assignee, &assignee),
            (fields.tags, &query.tag),
        ];
        let mut filters: Vec<Box<dyn Query>> = exact
            .into_iter()
            .filter_map(|(field, value)| value.as_ref().map(|value| (field, value)))
            .map(|(field, value)| -> Box<dyn Query> {
                Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
            })
            .collect();
        if let Some(teams) = &query.visible_teams {
            let teams = teams.iter().map(String::as_str).chain([NO_TEAM]).map(|team| Term::from_field_text(fields.team, team));
            filters.push(Box::new(TermSetQuery::new(teams)));
        }
        filters.into_iter().map(|filter| (Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0)) as Box<dyn Query>)).collect()
    }

    fn document(&self, conversation: &ConversationDoc) -> TantivyDocument {
        let fields = &self.fields;
        let mut doc = TantivyDocument::new();
        doc.add_text(fields.id, &conversation.id);
        doc.add_i64(fields.number, conversation.number);
        doc.add_text(fields.subject, &conversation.subject);
        doc.add_text(fields.messages, &conversation.messages);
        doc.add_text(fields.contact, &conversation.contact);
        for key in &conversation.contact_keys {
            doc.add_text(fields.contact_keys, key);
        }
        doc.add_text(fields.status, &conversation.status);
        doc.add_text(fields.channel, &conversation.channel);
        doc.add_text(fields.priority, &conversation.priority);
        doc.add_text(fields.team, conversation.team_id.as_deref().unwrap_or(NO_TEAM));
        doc.add_text(fields.assignee, conversation.assignee_id.as_deref().unwrap_or(NO_ASSIGNEE));
        for tag in &conversation.tags {
            doc.add_text(fields.tags, tag);
        }
        doc.add_i64(fields.last_activity_at, conversation.last_activity_at);
        doc
    }
}

/// The conversation number `text` names, if it is nothing but one: `10234`, `#10234`, `＃１０２３４`.
fn conversation_number(text: &str) -> Option<i64> {
    let folded = analysis::fold(text);
    let digits = folded.trim().strip_prefix('#').unwrap_or(folded.trim());
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// One snippet generator per searchable field, tried in order of how useful its text is to show.
struct Snippets {
    generators: Vec<(Field, SnippetGenerator)>,
    fallback: [Field; 2],
}

impl Snippets {
    fn new(searcher: &Searcher, query: &dyn Query, fields: &Fields) -> Result<Self> {
        let generators = [fields.messages, fields.subject, fields.contact]
            .into_iter()
            .map(|field| {
                let mut generator = SnippetGenerator::create(searcher, query, field)?;
                generator.set_max_num_chars(SNIPPET_BYTES);
                Ok((field, generator))
            })
            .collect::<Result<_>>()?;
        Ok(Self { generators, fallback: [fields.messages, fields.subject] })
    }

    /// The first field's snippet that highlights something; else the start of
    /// the messages (a match on the number alone has nothing to highlight).
    fn best(&self, doc: &TantivyDocument) -> (String, Vec<(usize, usize)>) {
        for (field, generator) in &self.generators {
            for window in windows(text_value(doc, *field), SNIPPET_WINDOW_BYTES) {
                let snippet = generator.snippet(window);
                if !snippet.highlighted().is_empty() {
                    let highlights = snippet.highlighted().iter().map(|range| (range.start, range.end)).collect();
                    return (snippet.fragment().to_string(), highlights);
                }
            }
        }
        let text = self.fallback.iter().map(|&field| text_value(doc, field)).find(|text| !text.is_empty()).unwrap_or_default();
        (text[..char_boundary_at_or_before(text, SNIPPET_BYTES)].to_string(), Vec::new())
    }
}

#[cfg(test)]
mod tests;
