//! Helpers both indexes share for showing a hit: reading a stored field, and looking through long
//! text for a snippet a window at a time.

use crate::error::Result;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use tantivy::postings::{Postings, TermInfo};
use tantivy::query::Query;
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, DocSet, Score, Searcher, TantivyDocument, Term};

/// Long text is looked through for a snippet a window at a time, stopping at the first window
/// with a match: highlighting re-segments the text, and a whole 200 KB thread per hit would cost
/// more than the search itself.
pub(crate) const SNIPPET_WINDOW_BYTES: usize = 4_096;

/// Windows overlap by more than the longest term, so no match is cut in two.
const SNIPPET_WINDOW_OVERLAP: usize = 160;

/// Past this much text without a match, the snippet falls back to the start of the text.
const SNIPPET_SCAN_BYTES: usize = 64 * 1024;

pub(crate) fn text_value(doc: &TantivyDocument, field: Field) -> &str {
    doc.get_first(field).and_then(|value| value.as_str()).unwrap_or_default()
}

/// Overlapping slices of the first [`SNIPPET_SCAN_BYTES`] of `text`, `size` bytes long (more than
/// [`SNIPPET_WINDOW_OVERLAP`]); [`SNIPPET_WINDOW_BYTES`] suits long threads.
pub(crate) fn windows(text: &str, size: usize) -> impl Iterator<Item = &str> {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= text.len().min(SNIPPET_SCAN_BYTES) {
            return None;
        }
        let end = char_boundary_at_or_before(text, start + size);
        let window = &text[start..end];
        start = if end == text.len() { end } else { char_boundary_at_or_before(text, end - SNIPPET_WINDOW_OVERLAP) };
        Some(window)
    })
}

pub(crate) fn char_boundary_at_or_before(text: &str, mut at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Where a document's matches are, read from the index's positions instead of segmenting the
/// text again: highlighting then only has to segment a small window around them. Positions are
/// counted in characters of the (one-valued) field, as the analysis records them, and folding
/// maps each character to one character, so a position is a character index of the stored text.
pub(crate) struct MatchLocator {
    searcher: Searcher,
    field: Field,
    /// The query's terms in the field, each weighted as tantivy's snippets weigh it (rarer terms
    /// count more).
    terms: Vec<(Term, Score)>,
    /// Per segment, each term's postings entry, looked up once per search.
    term_infos: RefCell<HashMap<u32, Vec<Option<TermInfo>>>>,
    /// Highlights the same terms with the same weights, in snippets of at most this many bytes.
    snippets: SnippetGenerator,
}

impl MatchLocator {
    pub fn new(searcher: &Searcher, query: &dyn Query, field: Field, snippet_bytes: usize) -> Result<Self> {
        let mut seen: BTreeSet<&Term> = BTreeSet::new();
        query.query_terms(&mut |term, _| {
            if term.field() == field {
                seen.insert(term);
            }
        });
        let mut terms = Vec::with_capacity(seen.len());
        for term in seen {
            let df = searcher.doc_freq(term)?;
            if df > 0 {
                terms.push((term.clone(), 1.0 / (1.0 + df as Score)));
            }
        }
        let texts = terms.iter().filter_map(|(term, weight)| Some((term.value().as_str()?.to_string(), *weight))).collect();
        let snippets = SnippetGenerator::new(texts, searcher.index().tokenizer_for_field(field)?, field, snippet_bytes);
        Ok(Self { searcher: searcher.clone(), field, terms, term_infos: RefCell::default(), snippets })
    }

    /// The snippet generator for these terms.
    pub fn snippets(&self) -> &SnippetGenerator {
        &self.snippets
    }

    /// The character index where a span of `span` characters holds the most weight of the
    /// query's terms in this document's field, starting at a match; `None` when the field has
    /// none of them.
    pub fn densest(&self, address: DocAddress, span: u32) -> Result<Option<u32>> {
        let segment = self.searcher.segment_reader(address.segment_ord);
        let inverted = segment.inverted_index(self.field)?;
        let mut infos = self.term_infos.borrow_mut();
        let infos = match infos.entry(address.segment_ord) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let looked_up = self.terms.iter().map(|(term, _)| inverted.get_term_info(term)).collect::<std::io::Result<Vec<_>>>()?;
                e.insert(looked_up)
            }
        };
        let mut hits: Vec<(u32, Score)> = Vec::new();
        let mut positions = Vec::new();
        for ((_, weight), info) in self.terms.iter().zip(infos.iter()) {
            let Some(info) = info else { continue };
            let mut postings = inverted.read_postings_from_terminfo(info, IndexRecordOption::WithFreqsAndPositions)?;
            // A fresh list stands on its first document, and seeking never goes back.
            if postings.doc() > address.doc_id || postings.seek(address.doc_id) != address.doc_id {
                continue;
            }
            postings.positions(&mut positions);
            hits.extend(positions.iter().map(|&p| (p, *weight)));
        }
        hits.sort_unstable_by_key(|&(p, _)| p);
        // A sliding span over the sorted positions: the start whose span weighs most, the
        // earliest of equals.
        let (mut best, mut best_weight, mut sum, mut tail) = (None, 0.0, 0.0, 0);
        for head in 0..hits.len() {
            sum += hits[head].1;
            while hits[head].0 - hits[tail].0 >= span {
                sum -= hits[tail].1;
                tail += 1;
            }
            if sum > best_weight {
                best_weight = sum;
                best = Some(hits[tail].0);
            }
        }
        Ok(best)
    }
}

/// The part of `text` from `before` bytes ahead of character `at` to `after` bytes past it, cut
/// at character boundaries (and after a space or punctuation where one is near, so segmentation
/// does not start mid-word).
pub(crate) fn window_at(text: &str, at: u32, before: usize, after: usize) -> &str {
    let Some((at, _)) = text.char_indices().nth(at as usize) else { return "" };
    let mut start = char_boundary_at_or_before(text, at.saturating_sub(before));
    if let Some(gap) = text[start..at].find(|c: char| c.is_whitespace() || c.is_ascii_punctuation() || "，。！？；：、".contains(c))
    {
        start += gap;
    }
    &text[start..char_boundary_at_or_before(text, at + after)]
}
