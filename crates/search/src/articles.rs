//! The help center's search index: one document per article translation, searched by the help
//! center, the widget's suggestions, the agent console and the bot alike.
//!
//! Ranking, in order of weight: how many of the query's words (or synonyms of them) an article
//! has, then BM25 with the title and tags counting more than the summary and the body, then
//! whether it is in the reader's language. Latin words of five letters or more also match with
//! one typo. Of the translations of one article, only the best placed is returned.

use crate::analysis::{self, QueryWord};
use crate::counted::CountedQuery;
use crate::error::{Result, SearchError};
use crate::keyed::KeyedIndex;
use crate::text::{MatchLocator, char_boundary_at_or_before, text_value, window_at, windows};
use std::collections::HashSet;
use std::sync::{LazyLock, PoisonError, RwLock};
use tantivy::collector::TopDocs;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{FAST, Field, IndexRecordOption, STORED, STRING, Schema};
use tantivy::snippet::SnippetGenerator;
use tantivy::store::Compressor;
use tantivy::{DocAddress, Index, IndexSettings, ReloadPolicy, Score, Searcher, TantivyDocument, Term};

const WRITER_MEMORY_BYTES: usize = 30_000_000;

pub const MAX_HITS: usize = 50;
pub const DEFAULT_HITS: usize = 10;

const TITLE_BOOST: Score = 3.0;
const TAGS_BOOST: Score = 2.0;
const SUMMARY_BOOST: Score = 1.5;

/// Added once per query word an article has: an article with more of the words outranks one
/// that has fewer of them more often.
const WORD_MATCH_SCORE: Score = 4.0;

/// Added for an article in the reader's language; half of it for the other Chinese script.
const LOCALE_SCORE: Score = 3.0;

/// A word matched with a typo counts for this much of an exact match.
const TYPO_WEIGHT: Score = 0.4;

/// Latin words at least this long that no article has also match with one typo; shorter ones too often become
/// another real word (`fee`/`few`, `memo`/`demo`).
const MIN_TYPO_CHARS: usize = 5;

const SNIPPET_BYTES: usize = 180;

/// The snippet is cut from the part of the body where the query's words are densest over this
/// many characters, found from the index's positions; only a window around it is segmented
/// again for highlighting: from a little before it (for context) to well past it.
const SNIPPET_SPAN_CHARS: u32 = 60;
const SNIPPET_LEAD_BYTES: usize = 30;
const SNIPPET_AFTER_BYTES: usize = 240;

/// Should that window highlight nothing after all, articles are looked through a kilobyte at a
/// time.
const SNIPPET_WINDOW_BYTES: usize = 1_024;

/// A Chinese word is also looked for as its characters in a row unless even its rarest character
/// is in this many articles: such a phrase reads long position lists and costs more than it finds.
const CHAR_PHRASE_MAX_ARTICLES: u64 = 2_000;

/// Words that say nothing about which article is meant, as typed; compared after analysis.
/// Only dropped when something else is left.
const STOP_WORDS: &[&str] = &[
    "a",
    "an",
    "and",
    "are",
    "at",
    "be",
    "can",
    "could",
    "do",
    "does",
    "did",
    "for",
    "from",
    "get",
    "got",
    "has",
    "have",
    "how",
    "i",
    "in",
    "is",
    "it",
    "me",
    "my",
    "of",
    "on",
    "or",
    "the",
    "to",
    "what",
    "when",
    "where",
    "which",
    "why",
    "with",
    "you",
    "your",
    "we",
    "please",
    "help",
    "should",
    "will",
    "was",
    "this",
    "that",
    "there",
    "need",
    "want",
    "still",
    "yet",
    "的",
    "了",
    "吗",
    "呢",
    "吧",
    "啊",
    "我",
    "我的",
    "你",
    "你们",
    "怎么",
    "怎样",
    "如何",
    "什么",
    "为什么",
    "请问",
    "请",
    "一下",
    "是",
    "在",
    "要",
    "想",
    "能",
    "可以",
    "怎么办",
    "个",
    "这",
    "那",
    "这个",
    "那个",
    "和",
    "把",
    "被",
    "给",
    "还",
    "还是",
    "哪里",
    "哪儿",
    "在哪",
    "看",
    "有",
    "没有",
    "一直",
    "已经",
];

static STOP_TERMS: LazyLock<HashSet<String>> = LazyLock::new(|| STOP_WORDS.iter().flat_map(|word| analysis::words(word)).collect());

/// An article translation as the index sees it; the caller assembles it from the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleDoc {
    pub id: String,
    pub slug: String,
    pub locale: String,
    /// Shared by all translations of one article.
    pub group: String,
    /// `article` or `announcement`.
    pub kind: String,
    /// `draft` or `published`.
    pub status: String,
    pub category: String,
    pub title: String,
    pub summary: String,
    pub tags: Vec<String>,
    /// The article's text without markup.
    pub body: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleQuery {
    pub text: String,
    /// The reader's language: its articles come first, then the other Chinese script, then the rest.
    pub locale: Option<String>,
    pub published_only: bool,
    pub kind: Option<String>,
    pub category: Option<String>,
    /// 0 means [`DEFAULT_HITS`]; more than [`MAX_HITS`] means `MAX_HITS`.
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ArticleHit {
    pub id: String,
    pub slug: String,
    pub locale: String,
    pub title: String,
    pub summary: String,
    pub score: Score,
    /// Plain text around the best match, from the body or else the summary.
    pub snippet: String,
    /// Byte ranges of `snippet` to highlight.
    pub highlights: Vec<(usize, usize)>,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    slug: Field,
    locale: Field,
    group: Field,
    kind: Field,
    status: Field,
    category: Field,
    title: Field,
    summary: Field,
    tags: Field,
    body: Field,
}

impl Fields {
    fn schema() -> (Schema, Self) {
        let mut builder = Schema::builder();
        let fields = Self {
            id: builder.add_text_field("id", STRING | STORED),
            slug: builder.add_text_field("slug", STRING | STORED),
            locale: builder.add_text_field("locale", STRING | STORED | FAST),
            group: builder.add_text_field("group", STRING | STORED | FAST),
            kind: builder.add_text_field("kind", STRING),
            status: builder.add_text_field("status", STRING),
            category: builder.add_text_field("category", STRING),
            title: builder.add_text_field("title", analysis::text_field_with_chars(true)),
            summary: builder.add_text_field("summary", analysis::text_field_with_chars(true)),
            tags: builder.add_text_field("tags", analysis::text_field_with_chars(false)),
            body: builder.add_text_field("body", analysis::text_field_with_chars(true)),
        };
        (builder.build(), fields)
    }

    /// The searchable fields and how much a match in each counts.
    fn weighted(&self) -> [(Field, Score); 4] {
        [(self.title, TITLE_BOOST), (self.tags, TAGS_BOOST), (self.summary, SUMMARY_BOOST), (self.body, 1.0)]
    }
}

/// Groups of words that mean the same to a reader, each word analysed as a query would be.
#[derive(Default)]
struct Synonyms {
    groups: Vec<Vec<Vec<QueryWord>>>,
}

impl Synonyms {
    fn new(groups: &[Vec<String>]) -> Self {
        let groups = groups
            .iter()
            .map(|group| group.iter().map(|phrase| analysis::query_words(phrase)).filter(|words| !words.is_empty()).collect::<Vec<_>>())
            .filter(|group: &Vec<_>| group.len() > 1)
            .collect();
        Self { groups }
    }

    /// The longest synonym that the query's words start with at `at`: its group and its length in words.
    fn longest_at(&self, words: &[QueryWord], at: usize) -> Option<(usize, usize)> {
        let mut best: Option<(usize, usize)> = None;
        for (group, phrases) in self.groups.iter().enumerate() {
            for phrase in phrases {
                let n = phrase.len();
                if at + n <= words.len() && words[at..at + n] == phrase[..] && best.is_none_or(|(_, len)| n > len) {
                    best = Some((group, n));
                }
            }
        }
        best
    }
}

/// A query taken apart: one query per word (or synonym group), how many must match, and what
/// to highlight.
struct Clauses {
    words: Vec<Box<dyn Query>>,
    required: usize,
    highlight: Box<dyn Query>,
}

/// Article search, shared behind an `Arc`: one writer behind a mutex, lock-free searches.
/// Changes become visible together at the next [`commit`](Self::commit).
pub struct ArticleIndex {
    docs: KeyedIndex,
    fields: Fields,
    synonyms: RwLock<Synonyms>,
}

impl ArticleIndex {
    /// An index in memory. Help-center articles number in the thousands, so each node builds its
    /// own from the database at start in moments; nothing on disk can fall out of step with it.
    pub fn in_memory() -> Result<Self> {
        let (schema, fields) = Fields::schema();
        // Stored articles kept uncompressed: each hit shown reads its article, and in memory
        // compression would only trade a few megabytes for decompressing a block per hit.
        let settings = IndexSettings { docstore_compression: Compressor::None, ..IndexSettings::default() };
        let index = Index::builder().schema(schema).settings(settings).create_in_ram()?;
        analysis::register(&index);
        analysis::warm_up();
        let docs = KeyedIndex::new(&index, fields.id, WRITER_MEMORY_BYTES, ReloadPolicy::Manual)?;
        Ok(Self { docs, fields, synonyms: RwLock::default() })
    }

    /// Replaces the synonym groups; the next search uses them (no reindexing needed).
    pub fn set_synonyms(&self, groups: &[Vec<String>]) {
        let synonyms = Synonyms::new(groups);
        *self.synonyms.write().unwrap_or_else(PoisonError::into_inner) = synonyms;
    }

    pub fn upsert(&self, docs: &[ArticleDoc]) -> Result<()> {
        self.docs.upsert(docs.iter().map(|doc| (doc.id.as_str(), self.document(doc))))
    }

    pub fn delete(&self, id: &str) -> Result<()> {
        self.docs.delete(id);
        Ok(())
    }

    /// Drops every article, staged changes included; for a rebuild before upserting all again.
    pub fn clear(&self) -> Result<()> {
        self.docs.clear()
    }

    pub fn commit(&self) -> Result<()> {
        self.docs.commit()
    }

    pub fn num_docs(&self) -> u64 {
        self.docs.searcher().num_docs()
    }

    /// The best matching articles, one translation per article, most relevant first.
    pub fn search(&self, query: &ArticleQuery) -> Result<Vec<ArticleHit>> {
        let text = query.text.trim();
        if text.is_empty() {
            return Err(SearchError::EmptyQuery);
        }
        let searcher = self.docs.searcher();
        let Some(Clauses { words: clauses, required, highlight }) = self.clauses(text, &searcher) else { return Ok(Vec::new()) };
        let limit = if query.limit == 0 { DEFAULT_HITS } else { query.limit.min(MAX_HITS) };
        let mut top = Vec::new();
        // Most of the words first; when that finds nothing, any of them.
        for required in [required, 1] {
            // Each word found adds WORD_MATCH_SCORE on top of its BM25 score.
            let matcher = CountedQuery::new(clauses.iter().map(|c| c.box_clone()).collect(), required, WORD_MATCH_SCORE);
            top = searcher.search(&self.ranked(query, text, Box::new(matcher)), &TopDocs::with_limit(limit * 3).order_by_score())?;
            if !top.is_empty() || required == 1 {
                break;
            }
        }
        self.hits(query, text, &searcher, top, highlight.as_ref(), limit)
    }

    /// `matcher` with the reader's language and the filters.
    fn ranked(&self, query: &ArticleQuery, text: &str, matcher: Box<dyn Query>) -> BooleanQuery {
        let fields = &self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, matcher)];
        // The reader's language, and the language they typed in: a Chinese query on the English
        // help center is better answered by the Chinese article.
        let mut boosts = preferred_locales(query.locale.as_deref());
        for (locale, score) in preferred_locales(analysis::script_locale(text)) {
            match boosts.iter_mut().find(|(l, _)| *l == locale) {
                Some(b) => b.1 = b.1.max(score),
                None => boosts.push((locale, score)),
            }
        }
        for (locale, score) in boosts {
            let term = TermQuery::new(Term::from_field_text(fields.locale, locale), IndexRecordOption::Basic);
            clauses.push((Occur::Should, Box::new(ConstScoreQuery::new(Box::new(term), score))));
        }
        let status = query.published_only.then_some("published");
        for (field, value) in [(fields.status, status), (fields.kind, query.kind.as_deref()), (fields.category, query.category.as_deref())]
        {
            if let Some(value) = value {
                let term = TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic);
                clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(term), 0.0))));
            }
        }
        BooleanQuery::new(clauses)
    }

    /// The hits for `top`: one translation per article (the reader's language where it is among
    /// the matches), with snippets.
    fn hits(
        &self,
        query: &ArticleQuery,
        text: &str,
        searcher: &Searcher,
        top: Vec<(Score, DocAddress)>,
        matcher: &dyn Query,
        limit: usize,
    ) -> Result<Vec<ArticleHit>> {
        let fields = &self.fields;
        let order = locale_order(query.locale.as_deref(), analysis::script_locale(text));
        let rank = |locale: &str| order.iter().position(|l| *l == locale).unwrap_or(order.len());
        // Groups in order of their best match, each with its best-placed translation; read from
        // the fast fields, so only the documents shown are loaded.
        let mut picked: Vec<(String, Score, DocAddress, String)> = Vec::new();
        let (mut group, mut locale) = (String::new(), String::new());
        for (score, address) in top {
            let fast = searcher.segment_reader(address.segment_ord).fast_fields();
            for (name, out) in [("group", &mut group), ("locale", &mut locale)] {
                out.clear();
                if let Some(column) = fast.str(name)?
                    && let Some(ord) = column.term_ords(address.doc_id).next()
                {
                    column.ord_to_str(ord, out).map_err(|e| SearchError::Index(e.to_string()))?;
                }
            }
            match picked.iter_mut().find(|(g, ..)| *g == group) {
                Some(entry) => {
                    if rank(&locale) < rank(&entry.3) {
                        entry.2 = address;
                        entry.3 = locale.clone();
                    }
                }
                None => picked.push((group.clone(), score, address, locale.clone())),
            }
        }
        picked.truncate(limit);
        if picked.is_empty() {
            return Ok(Vec::new());
        }
        let picked = picked
            .into_iter()
            .map(|(_, score, address, _)| Ok((score, address, searcher.doc::<TantivyDocument>(address)?)))
            .collect::<Result<Vec<_>>>()?;
        let body = MatchLocator::new(searcher, matcher, fields.body, SNIPPET_BYTES)?;
        // The summary's generator only when a body has no match, which is rare.
        let mut summary_snippets: Option<SnippetGenerator> = None;
        let mut summary = |text: &str| -> Result<Snippet> {
            if summary_snippets.is_none() {
                let mut generator = SnippetGenerator::create(searcher, matcher, fields.summary)?;
                generator.set_max_num_chars(SNIPPET_BYTES);
                summary_snippets = Some(generator);
            }
            Ok(summary_snippets.as_ref().map(|g| highlighted_snippet(g, text)).unwrap_or_default())
        };
        picked
            .into_iter()
            .map(|(score, address, doc)| {
                let (snippet, highlights) = snippet(&doc, address, fields, &body, &mut summary)?;
                Ok(ArticleHit {
                    id: text_value(&doc, fields.id).to_string(),
                    slug: text_value(&doc, fields.slug).to_string(),
                    locale: text_value(&doc, fields.locale).to_string(),
                    title: text_value(&doc, fields.title).to_string(),
                    summary: text_value(&doc, fields.summary).to_string(),
                    score,
                    snippet,
                    highlights,
                })
            })
            .collect()
    }

    /// One query per word (or synonym group) of `text`, and how many of them an article needs.
    /// `None` when the text has nothing to search for.
    fn clauses(&self, text: &str, searcher: &Searcher) -> Option<Clauses> {
        let mut words = analysis::query_words(text);
        let meaningful: Vec<QueryWord> = words.iter().filter_map(without_stop_words).collect();
        if !meaningful.is_empty() {
            words = meaningful;
        }
        let synonyms = self.synonyms.read().unwrap_or_else(PoisonError::into_inner);
        let mut clauses: Vec<Box<dyn Query>> = Vec::new();
        // The words as written, for highlighting: single characters matched inside a phrase
        // would otherwise light up wherever they occur.
        let mut shown: Vec<&QueryWord> = Vec::new();
        let mut at = 0;
        while at < words.len() {
            match synonyms.longest_at(&words, at) {
                Some((group, length)) => {
                    shown.extend(synonyms.groups[group].iter().flatten());
                    // The best of the alternatives counts, not their sum: an article using three
                    // words for one thing is not three times as relevant.
                    let alternatives = synonyms.groups[group].iter().map(|phrase| self.phrase_query(phrase, searcher)).collect();
                    clauses.push(Box::new(DisjunctionMaxQuery::new(alternatives)));
                    at += length;
                }
                None => {
                    clauses.push(self.word_query(&words[at], searcher));
                    shown.push(&words[at]);
                    at += 1;
                }
            }
        }
        if clauses.is_empty() {
            return None;
        }
        // Half the words must be there: people describe their problem in other words than the
        // article uses, and the per-word score already puts articles with more of them first.
        let required = clauses.len().div_ceil(2);
        let fields = [self.fields.title, self.fields.summary, self.fields.body];
        let highlight = BooleanQuery::union(shown.iter().flat_map(|word| fields.map(|field| analysis::word_query(word, field))).collect());
        Some(Clauses { words: clauses, required, highlight: Box::new(highlight) })
    }

    /// Several words that must all be there, each in any field.
    fn phrase_query(&self, words: &[QueryWord], searcher: &Searcher) -> Box<dyn Query> {
        match words {
            [word] => self.word_query(word, searcher),
            _ => Box::new(BooleanQuery::intersection(words.iter().map(|word| self.word_query(word, searcher)).collect())),
        }
    }

    /// One word in any field, weighted by field; a long Latin word also with one typo.
    fn word_query(&self, word: &QueryWord, searcher: &Searcher) -> Box<dyn Query> {
        // A Chinese word also matches as its characters in a row: jieba may cut the same
        // characters differently in the article (`开户` inside `开户行`, `没到账` as `没` + `到账`).
        // Not when every character is everywhere: then the phrase is the slowest part of a search.
        let rare = |term: &str| {
            let df = |c: char| searcher.doc_freq(&Term::from_field_text(self.fields.body, &c.to_string())).unwrap_or(0);
            term.chars().map(df).min().unwrap_or(0) < CHAR_PHRASE_MAX_ARTICLES
        };
        let chars: Option<QueryWord> = match word.as_slice() {
            [(_, term)] if term.chars().count() > 1 && term.chars().all(analysis::is_han) && rare(term) => {
                Some(term.chars().enumerate().map(|(i, c)| (i, c.to_string())).collect())
            }
            _ => None,
        };
        let mut per_field: Vec<Box<dyn Query>> = self
            .fields
            .weighted()
            .into_iter()
            .map(|(field, boost)| {
                let exact = analysis::word_query(word, field);
                let query: Box<dyn Query> = match &chars {
                    Some(chars) => {
                        let phrase =
                            PhraseQuery::new_with_offset(chars.iter().map(|(o, c)| (*o, Term::from_field_text(field, c))).collect());
                        Box::new(DisjunctionMaxQuery::new(vec![exact, Box::new(phrase)]))
                    }
                    None => exact,
                };
                Box::new(BoostQuery::new(query, boost)) as Box<dyn Query>
            })
            .collect();
        // A typo is only assumed for a word no article has as written.
        let unknown = |term: &str| {
            [self.fields.title, self.fields.body].iter().all(|&f| searcher.doc_freq(&Term::from_field_text(f, term)).is_ok_and(|n| n == 0))
        };
        if let [(_, term)] = word.as_slice()
            && term.chars().count() >= MIN_TYPO_CHARS
            && term.chars().all(|c| c.is_ascii_lowercase())
            && unknown(term)
        {
            for field in [self.fields.title, self.fields.body] {
                let fuzzy = FuzzyTermQuery::new(Term::from_field_text(field, term), 1, true);
                per_field.push(Box::new(BoostQuery::new(Box::new(fuzzy), TYPO_WEIGHT)));
            }
        }
        Box::new(BooleanQuery::union(per_field))
    }

    fn document(&self, article: &ArticleDoc) -> TantivyDocument {
        let fields = &self.fields;
        let mut doc = TantivyDocument::new();
        doc.add_text(fields.id, &article.id);
        doc.add_text(fields.slug, &article.slug);
        doc.add_text(fields.locale, &article.locale);
        doc.add_text(fields.group, &article.group);
        doc.add_text(fields.kind, &article.kind);
        doc.add_text(fields.status, &article.status);
        doc.add_text(fields.category, &article.category);
        doc.add_text(fields.title, &article.title);
        doc.add_text(fields.summary, &article.summary);
        for tag in &article.tags {
            doc.add_text(fields.tags, tag);
        }
        doc.add_text(fields.body, &article.body);
        doc
    }
}

/// `word` without stop words at its ends (`忘了` is searched as `忘`); `None` if nothing is left.
fn without_stop_words(word: &QueryWord) -> Option<QueryWord> {
    let first = word.iter().position(|(_, term)| !STOP_TERMS.contains(term))?;
    let last = word.iter().rposition(|(_, term)| !STOP_TERMS.contains(term))?;
    let shift = word[first].0;
    Some(word[first..=last].iter().map(|(offset, term)| (offset - shift, term.clone())).collect())
}

/// Locales from most to least wanted: the reader's, the one typed in, the other Chinese script,
/// English.
fn locale_order(reader: Option<&str>, typed: Option<&str>) -> Vec<&'static str> {
    let mut order: Vec<&'static str> = Vec::new();
    for l in [reader, typed].into_iter().flatten() {
        let l = match l {
            "zh-CN" => "zh-CN",
            "zh-TW" => "zh-TW",
            _ => "en",
        };
        if !order.contains(&l) {
            order.push(l);
        }
    }
    for l in ["zh-CN", "zh-TW", "en"] {
        if order.first().is_some_and(|f| f.starts_with("zh")) && l.starts_with("zh") && !order.contains(&l) {
            order.push(l);
        }
    }
    for l in ["en", "zh-CN", "zh-TW"] {
        if !order.contains(&l) {
            order.push(l);
        }
    }
    order
}

/// Locales to favour and by how much: the reader's own, then for Chinese the other script.
fn preferred_locales(locale: Option<&str>) -> Vec<(&'static str, Score)> {
    match locale {
        Some("zh-CN") => vec![("zh-CN", LOCALE_SCORE), ("zh-TW", LOCALE_SCORE / 2.0)],
        Some("zh-TW") => vec![("zh-TW", LOCALE_SCORE), ("zh-CN", LOCALE_SCORE / 2.0)],
        Some("en") => vec![("en", LOCALE_SCORE)],
        _ => Vec::new(),
    }
}

/// Ranges sorted, with overlapping ones joined (a word and the characters inside it).
fn merged(ranges: impl Iterator<Item = std::ops::Range<usize>>) -> Vec<(usize, usize)> {
    let mut sorted: Vec<(usize, usize)> = ranges.map(|r| (r.start, r.end)).collect();
    sorted.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(sorted.len());
    for (from, to) in sorted {
        match out.last_mut() {
            Some(last) if from < last.1 => last.1 = last.1.max(to),
            _ => out.push((from, to)),
        }
    }
    out
}

/// A snippet and the byte ranges of it to highlight.
type Snippet = (String, Vec<(usize, usize)>);

/// The generator's snippet of `text` with its highlights.
fn highlighted_snippet(generator: &SnippetGenerator, text: &str) -> Snippet {
    let snippet = generator.snippet(text);
    (snippet.fragment().to_string(), merged(snippet.highlighted().iter().cloned()))
}

/// The body where its matches are densest, else the summary's snippet, else the summary's start.
fn snippet(
    doc: &TantivyDocument,
    address: DocAddress,
    fields: &Fields,
    body: &MatchLocator,
    summary: &mut dyn FnMut(&str) -> Result<Snippet>,
) -> Result<Snippet> {
    let text = text_value(doc, fields.body);
    if let Some(at) = body.densest(address, SNIPPET_SPAN_CHARS)? {
        let (snippet, highlights) = highlighted_snippet(body.snippets(), window_at(text, at, SNIPPET_LEAD_BYTES, SNIPPET_AFTER_BYTES));
        if !highlights.is_empty() {
            return Ok((snippet, highlights));
        }
        for window in windows(text, SNIPPET_WINDOW_BYTES) {
            let (snippet, highlights) = highlighted_snippet(body.snippets(), window);
            if !highlights.is_empty() {
                return Ok((snippet, highlights));
            }
        }
    }
    let text = text_value(doc, fields.summary);
    let (snippet, highlights) = summary(text)?;
    if !highlights.is_empty() {
        return Ok((snippet, highlights));
    }
    Ok((text[..char_boundary_at_or_before(text, SNIPPET_BYTES)].to_string(), Vec::new()))
}

#[cfg(test)]
mod tests;
