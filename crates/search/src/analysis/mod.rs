//! Text analysis shared by every Kefu index (conversations now, help-center articles and the bot
//! later): how support text in zh-CN, zh-TW and English becomes terms, and how typed words become a query.

mod fold;
mod t2s_table;
mod tokenizer;
mod vocabulary;

pub use fold::{fold, fold_char};

use tantivy::Index;
use tantivy::query::{BooleanQuery, BoostQuery, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Score, Term};
use tokenizer::{KefuTokenizer, Mode, analyze, is_han};

/// The tokenizer name fields are declared with. The version is part of the name so that an index
/// built by an older analysis no longer matches the schema and gets rebuilt: bump it whenever a
/// change here would cut the same text into different terms.
pub const TOKENIZER: &str = "kefu_text_v1";

/// Typed text past this many characters is ignored; nobody searches with a page of text.
const MAX_QUERY_CHARS: usize = 256;

/// At most this many words of a query must match; the rest are dropped.
const MAX_QUERY_WORDS: usize = 24;

/// Registers [`TOKENIZER`] on `index`; needed before writing to or searching a field that uses it.
pub fn register(index: &Index) {
    index.tokenizers().register(TOKENIZER, TextAnalyzer::from(KefuTokenizer { mode: Mode::Index }));
}

/// Loads the dictionary now rather than on the first document or search.
pub fn warm_up() {
    std::sync::LazyLock::force(&tokenizer::JIEBA);
}

/// Options for a text field analysed by [`TOKENIZER`], with positions (phrases need them).
pub fn text_field(stored: bool) -> TextOptions {
    let indexing = TextFieldIndexing::default().set_tokenizer(TOKENIZER).set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let options = TextOptions::default().set_indexing_options(indexing);
    if stored { options.set_stored() } else { options }
}

/// The words of `text` as a query sees them: folded, segmented, lowercased, stemmed.
pub fn words(text: &str) -> Vec<String> {
    analyze(text, Mode::Query).into_iter().map(|token| token.text).collect()
}

/// A query that requires every word of `text` in at least one of `fields` (each with a boost).
///
/// User text is never parsed as query syntax, so no input can fail: quotes, colons and brackets
/// are separators. Chinese characters that jieba left standing alone and that are adjacent in
/// the text become one phrase, so an unknown word still matches only where it occurs whole.
/// `None` when `text` holds nothing searchable (only punctuation, say).
pub fn match_all_words(text: &str, fields: &[(Field, Score)]) -> Option<Box<dyn Query>> {
    if fields.is_empty() {
        return None;
    }
    let text = match text.char_indices().nth(MAX_QUERY_CHARS) {
        Some((cut, _)) => &text[..cut],
        None => text,
    };
    let mut clauses: Vec<Vec<String>> = Vec::new();
    let mut run_end = None;
    for token in analyze(text, Mode::Query) {
        let mut chars = token.text.chars();
        let single_han = chars.next().is_some_and(is_han) && chars.next().is_none();
        match clauses.last_mut() {
            Some(phrase) if single_han && run_end == Some(token.position) => phrase.push(token.text),
            _ => clauses.push(vec![token.text]),
        }
        run_end = single_han.then_some(token.position + 1);
    }
    let mut seen = Vec::new();
    clauses.retain(|clause| {
        let new = !seen.contains(clause);
        if new {
            seen.push(clause.clone());
        }
        new
    });
    clauses.truncate(MAX_QUERY_WORDS);
    let mut required: Vec<Box<dyn Query>> = clauses.iter().map(|clause| any_field(clause, fields)).collect();
    match required.len() {
        0 => None,
        1 => required.pop(),
        _ => Some(Box::new(BooleanQuery::intersection(required))),
    }
}

fn any_field(words: &[String], fields: &[(Field, Score)]) -> Box<dyn Query> {
    let mut per_field: Vec<Box<dyn Query>> = fields
        .iter()
        .map(|&(field, boost)| {
            let query: Box<dyn Query> = match words {
                [word] => Box::new(TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::WithFreqs)),
                _ => Box::new(PhraseQuery::new(words.iter().map(|word| Term::from_field_text(field, word)).collect())),
            };
            if boost == 1.0 { query } else { Box::new(BoostQuery::new(query, boost)) }
        })
        .collect();
    if per_field.len() == 1 { per_field.remove(0) } else { Box::new(BooleanQuery::union(per_field)) }
}
