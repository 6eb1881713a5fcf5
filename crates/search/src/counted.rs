//! A query over the words of a search: it matches documents that have at least some of its
//! clauses, and scores each by the sum of the clauses it has plus a constant for each one, so that
//! an article with more of the query's words ranks above one with fewer.
//!
//! Tantivy's own "minimum should match" keeps its clauses in a binary heap and pays for every
//! posting with a pop and a push; here the clauses are read a window of documents at a time into
//! per-document counters, as tantivy's plain unions are, which is several times cheaper when
//! common words match thousands of articles.

use tantivy::query::{EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, Term};

/// Documents read ahead at a time.
const WINDOW: usize = 4_096;

#[derive(Debug)]
pub(crate) struct CountedQuery {
    clauses: Vec<Box<dyn Query>>,
    required: usize,
    per_match: Score,
}

impl CountedQuery {
    /// Documents with at least `required` (at least one) of `clauses`; each clause a document has
    /// adds its score and `per_match`.
    pub fn new(clauses: Vec<Box<dyn Query>>, required: usize, per_match: Score) -> Self {
        Self { clauses, required: required.max(1), per_match }
    }
}

impl Clone for CountedQuery {
    fn clone(&self) -> Self {
        Self { clauses: self.clauses.iter().map(|c| c.box_clone()).collect(), required: self.required, per_match: self.per_match }
    }
}

impl Query for CountedQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let weights = self.clauses.iter().map(|c| c.weight(enable_scoring)).collect::<tantivy::Result<Vec<_>>>()?;
        let per_match = if enable_scoring.is_scoring_enabled() { self.per_match } else { 0.0 };
        Ok(Box::new(CountedWeight { weights, required: self.required, per_match }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for clause in &self.clauses {
            clause.query_terms(visitor);
        }
    }
}

struct CountedWeight {
    weights: Vec<Box<dyn Weight>>,
    required: usize,
    per_match: Score,
}

impl Weight for CountedWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut scorers = Vec::with_capacity(self.weights.len());
        for weight in &self.weights {
            let scorer = weight.scorer(reader, boost)?;
            if scorer.doc() != TERMINATED {
                scorers.push(scorer);
            }
        }
        if scorers.len() < self.required {
            return Ok(Box::new(EmptyScorer));
        }
        Ok(Box::new(CountedScorer::new(scorers, self.required, self.per_match * boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut matched = Vec::new();
        for weight in &self.weights {
            if let Ok(explanation) = weight.explain(reader, doc) {
                matched.push(explanation);
            }
        }
        if matched.len() < self.required {
            return Err(tantivy::TantivyError::InvalidArgument(format!("document {doc} has fewer than {} of the clauses", self.required)));
        }
        let value = matched.iter().map(|e| e.value() + self.per_match).sum();
        let mut explanation = Explanation::new("the clauses matched, each with a constant on top", value);
        for detail in matched {
            explanation.add_detail(detail);
        }
        Ok(explanation)
    }
}

struct CountedScorer {
    /// The clauses not yet exhausted, each standing on its first document past the window.
    scorers: Vec<Box<dyn Scorer>>,
    required: u32,
    per_match: Score,
    /// First document of the window.
    start: DocId,
    /// Per document of the window: how many clauses it has, and their scores summed.
    counts: Box<[u32; WINDOW]>,
    scores: Box<[Score; WINDOW]>,
    /// Offset of the current document in the window.
    at: usize,
    doc: DocId,
}

impl CountedScorer {
    fn new(scorers: Vec<Box<dyn Scorer>>, required: usize, per_match: Score) -> Self {
        let mut scorer = Self {
            scorers,
            required: u32::try_from(required).unwrap_or(u32::MAX),
            per_match,
            start: 0,
            counts: Box::new([0; WINDOW]),
            scores: Box::new([0.0; WINDOW]),
            at: WINDOW,
            doc: 0,
        };
        scorer.next_window();
        scorer.find(0);
        scorer
    }

    /// Reads the next window, starting at the lowest document any clause stands on.
    fn next_window(&mut self) -> bool {
        self.scorers.retain(|s| s.doc() != TERMINATED);
        let Some(start) = self.scorers.iter().map(|s| s.doc()).min() else { return false };
        self.start = start;
        self.counts.fill(0);
        self.scores.fill(0.0);
        let end = start.saturating_add(WINDOW as DocId);
        for scorer in &mut self.scorers {
            let mut doc = scorer.doc();
            while doc < end {
                let i = (doc - start) as usize;
                self.counts[i] += 1;
                self.scores[i] += scorer.score();
                doc = scorer.advance();
            }
        }
        true
    }

    /// Stands on the first document at or after offset `from` of the window (and of the windows
    /// after it) with enough clauses.
    fn find(&mut self, mut from: usize) -> DocId {
        loop {
            if let Some(i) = (from..WINDOW).find(|&i| self.counts[i] >= self.required) {
                self.at = i;
                self.doc = self.start + i as DocId;
                return self.doc;
            }
            if !self.next_window() {
                self.at = WINDOW;
                self.doc = TERMINATED;
                return TERMINATED;
            }
            from = 0;
        }
    }
}

impl DocSet for CountedScorer {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        self.find(self.at + 1)
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        let end = self.start.saturating_add(WINDOW as DocId);
        if target < end {
            return self.find((target - self.start) as usize);
        }
        // Past this window: the clauses skip ahead to the target before the next one is read.
        for scorer in &mut self.scorers {
            if scorer.doc() < target {
                scorer.seek(target);
            }
        }
        self.at = WINDOW;
        self.find(WINDOW)
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.scorers.iter().map(|s| s.size_hint()).max().unwrap_or(0)
    }

    fn cost(&self) -> u64 {
        self.scorers.iter().map(|s| s.cost()).sum()
    }
}

impl Scorer for CountedScorer {
    fn score(&mut self) -> Score {
        self.scores[self.at] + self.counts[self.at] as Score * self.per_match
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, Occur, TermQuery};
    use tantivy::schema::{IndexRecordOption, STRING, Schema};
    use tantivy::{Index, TantivyDocument};

    /// `docs` documents; document `i` has word `w` when `has(i, w)`; the words are `w0`…`w3`.
    fn index(docs: u32, has: impl Fn(u32, u32) -> bool) -> (Index, tantivy::schema::Field) {
        let mut builder = Schema::builder();
        let field = builder.add_text_field("words", STRING);
        let index = Index::create_in_ram(builder.build());
        let mut writer = index.writer_with_num_threads(1, 20_000_000).unwrap();
        for i in 0..docs {
            let mut doc = TantivyDocument::new();
            for w in 0..4 {
                if has(i, w) {
                    doc.add_text(field, format!("w{w}"));
                }
            }
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        (index, field)
    }

    fn clauses(field: tantivy::schema::Field) -> Vec<Box<dyn Query>> {
        (0..4)
            .map(|w| {
                Box::new(TermQuery::new(Term::from_field_text(field, &format!("w{w}")), IndexRecordOption::WithFreqs)) as Box<dyn Query>
            })
            .collect()
    }

    /// The same documents with the same scores plus the per-clause constant,
    /// as tantivy's own minimum-should-match, across several windows and with seeks.
    #[test]
    fn matches_what_minimum_should_match_matches() {
        // Word w of document i: a pattern dense in places and sparse in others, over three windows.
        let (index, field) = index(10_000, |i, w| (i * (w + 3) + i / 700) % (w + 2) == 0 || (w == 3 && i % 997 == 0));
        let searcher = index.reader().unwrap().searcher();
        for required in 1..=4 {
            let ours = CountedQuery::new(clauses(field), required, 100.0);
            let theirs =
                BooleanQuery::with_minimum_required_clauses(clauses(field).into_iter().map(|c| (Occur::Should, c)).collect(), required);
            let top = |q: &dyn Query| searcher.search(q, &TopDocs::with_limit(20_000).order_by_score()).unwrap();
            let by_doc = |mut hits: Vec<(Score, tantivy::DocAddress)>| {
                hits.sort_by_key(|&(_, d)| d);
                hits
            };
            let (a, b) = (by_doc(top(&ours)), by_doc(top(&theirs)));
            assert_eq!(a.len(), b.len(), "required {required}");
            assert!(!a.is_empty(), "required {required}");
            for ((sa, da), (sb, db)) in a.iter().zip(&b) {
                assert_eq!(da, db, "required {required}");
                let count = ((sa - sb) / 100.0).round();
                assert!((1.0..=4.0).contains(&count) && (sa - sb - count * 100.0).abs() < 1e-3, "{sa} vs {sb}");
            }
            // Seeking, as an intersection with a filter does: every 13th document.
            let reader = searcher.segment_reader(0);
            let weight = ours.weight(EnableScoring::enabled_from_searcher(&searcher)).unwrap();
            let mut scorer = weight.scorer(reader, 1.0).unwrap();
            let expected: Vec<DocId> =
                b.iter().map(|(_, d)| d.doc_id).filter(|d| d % 13 == 0).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
            let mut found = Vec::new();
            let mut target = 0;
            while target < 10_000 {
                let doc = scorer.seek(target);
                if doc == TERMINATED {
                    break;
                }
                if doc % 13 == 0 {
                    found.push(doc);
                }
                target = (doc / 13 + 1) * 13;
            }
            assert_eq!(found, expected, "required {required}");
        }
    }
}
