//! Text analysis shared by every Kefu index (conversations now, help-center articles and the bot
//! and the bot): how support text in zh-CN, zh-TW and English becomes terms, and how typed words become a query.

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
pub use tokenizer::is_han;
use tokenizer::{KefuTokenizer, Mode, analyze};

/// The tokenizer name fields are declared with. The version is part of the name so that an index
/// built by an older analysis no longer matches the schema and gets rebuilt: bump it whenever a
/// change here would cut the same text into different terms.
pub const TOKENIZER: &str = "kefu_text_v1";

/// As [`TOKENIZER`], and every Chinese character on its own too (see `Mode::IndexWithChars`).
pub const TOKENIZER_WITH_CHARS: &str = "kefu_text_chars_v1";

/// Typed text past this many characters is ignored; nobody searches with a page of text.
const MAX_QUERY_CHARS: usize = 256;

/// At most this many words of a query must match; the rest are dropped.
const MAX_QUERY_WORDS: usize = 24;

/// Registers [`TOKENIZER`] on `index`; needed before writing to or searching a field that uses it.
pub fn register(index: &Index) {
    index.tokenizers().register(TOKENIZER, TextAnalyzer::from(KefuTokenizer { mode: Mode::Index }));
    index.tokenizers().register(TOKENIZER_WITH_CHARS, TextAnalyzer::from(KefuTokenizer { mode: Mode::IndexWithChars }));
}

/// Whether `word` (already folded, see [`fold`]) is a word of the segmentation dictionary:
/// the secret detector's test of whether a run of Chinese characters reads as language.
pub fn is_dictionary_word(word: &str) -> bool {
    tokenizer::JIEBA.has_word(word)
}

/// Loads the dictionary now rather than on the first document or search.
pub fn warm_up() {
    std::sync::LazyLock::force(&tokenizer::JIEBA);
}

/// Options for a text field analysed by [`TOKENIZER`], with positions (phrases need them).
pub fn text_field(stored: bool) -> TextOptions {
    field_options(TOKENIZER, stored)
}

/// Options for a text field analysed by [`TOKENIZER_WITH_CHARS`].
pub fn text_field_with_chars(stored: bool) -> TextOptions {
    field_options(TOKENIZER_WITH_CHARS, stored)
}

fn field_options(tokenizer: &str, stored: bool) -> TextOptions {
    let indexing = TextFieldIndexing::default().set_tokenizer(tokenizer).set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let options = TextOptions::default().set_indexing_options(indexing);
    if stored { options.set_stored() } else { options }
}

/// The locale `text` is most likely written in: Chinese (Traditional when folding changes a
/// character) or else English. `None` for text without letters.
pub fn script_locale(text: &str) -> Option<&'static str> {
    let mut han = false;
    for c in text.chars() {
        if is_han(c) {
            if fold_char(c) != c {
                return Some("zh-TW");
            }
            han = true;
        }
    }
    if han {
        Some("zh-CN")
    } else if text.chars().any(|c| c.is_ascii_alphabetic()) {
        Some("en")
    } else {
        None
    }
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
    let mut required: Vec<Box<dyn Query>> = query_words(text).iter().map(|word| any_field(word, fields)).collect();
    match required.len() {
        0 => None,
        1 => required.pop(),
        _ => Some(Box::new(BooleanQuery::intersection(required))),
    }
}

/// One word of what a user typed: a single term, or several terms that must match as a phrase
/// (Chinese characters jieba left standing alone, adjacent in the text). Each term comes with its
/// offset from the first, in characters, as the index counts positions.
pub type QueryWord = Vec<(usize, String)>;

/// The distinct words of `text` as a query sees them, in order, at most [`MAX_QUERY_WORDS`].
///
/// User text is never parsed as query syntax, so no input can fail: quotes, colons and brackets
/// are separators. Chinese characters that jieba left standing alone and that are adjacent in
/// the text become one phrase, so an unknown word still matches only where it occurs whole.
pub fn query_words(text: &str) -> Vec<QueryWord> {
    let text = match text.char_indices().nth(MAX_QUERY_CHARS) {
        Some((cut, _)) => &text[..cut],
        None => text,
    };
    let mut words: Vec<QueryWord> = Vec::new();
    // Start and end position of the phrase of single characters being built, if any.
    let mut run: Option<(usize, usize)> = None;
    for token in analyze(text, Mode::Query) {
        let mut chars = token.text.chars();
        let single_han = chars.next().is_some_and(is_han) && chars.next().is_none();
        match (run, words.last_mut()) {
            (Some((start, end)), Some(phrase)) if single_han && end == token.position => {
                phrase.push((token.position - start, token.text));
                run = Some((start, token.position + 1));
            }
            _ => {
                run = single_han.then_some((token.position, token.position + 1));
                words.push(vec![(0, token.text)]);
            }
        }
    }
    let mut seen: Vec<QueryWord> = Vec::new();
    words.retain(|word| {
        let new = !seen.contains(word);
        if new {
            seen.push(word.clone());
        }
        new
    });
    words.truncate(MAX_QUERY_WORDS);
    words
}

/// The query for one word in one field: a term, or a phrase of its terms.
pub fn word_query(word: &QueryWord, field: Field) -> Box<dyn Query> {
    match word.as_slice() {
        [(_, term)] => Box::new(TermQuery::new(Term::from_field_text(field, term), IndexRecordOption::WithFreqs)),
        _ => Box::new(PhraseQuery::new_with_offset(
            word.iter().map(|(offset, term)| (*offset, Term::from_field_text(field, term))).collect(),
        )),
    }
}

fn any_field(word: &QueryWord, fields: &[(Field, Score)]) -> Box<dyn Query> {
    let mut per_field: Vec<Box<dyn Query>> = fields
        .iter()
        .map(|&(field, boost)| {
            let query = word_query(word, field);
            if boost == 1.0 { query } else { Box::new(BoostQuery::new(query, boost)) }
        })
        .collect();
    if per_field.len() == 1 { per_field.remove(0) } else { Box::new(BooleanQuery::union(per_field)) }
}
