//! Measuring a classifier on labelled examples: accuracy, per-intent precision, recall and F1,
//! the most frequent confusions, language detection, and how long a classification takes.

use crate::classifier::Classifier;
use crate::examples::Example;
use crate::language::{Lang, detect};
use std::collections::BTreeMap;
use std::time::Instant;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub examples: usize,
    /// Share of examples whose top intent is right.
    pub accuracy: f64,
    /// Share of examples whose language is detected right (without any hint).
    pub language_accuracy: f64,
    pub per_intent: Vec<IntentScore>,
    /// Actual and predicted intent of the commonest mistakes, most frequent first.
    pub confusions: Vec<Confusion>,
    /// Microseconds per classification.
    pub latency_p50_us: f64,
    pub latency_p99_us: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct IntentScore {
    pub intent: String,
    pub support: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Confusion {
    pub actual: String,
    pub predicted: String,
    pub count: usize,
}

pub fn evaluate(c: &Classifier, examples: &[Example]) -> Report {
    let mut right = 0usize;
    let mut lang_right = 0usize;
    let mut tp: BTreeMap<&str, usize> = BTreeMap::new();
    let mut predicted: BTreeMap<String, usize> = BTreeMap::new();
    let mut support: BTreeMap<&str, usize> = BTreeMap::new();
    let mut confusions: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut latencies = Vec::with_capacity(examples.len());
    for e in examples {
        let started = Instant::now();
        let p = c.classify(&e.text);
        latencies.push(started.elapsed().as_secs_f64() * 1e6);
        *support.entry(&e.intent).or_default() += 1;
        *predicted.entry(p.intent.clone()).or_default() += 1;
        if p.intent == e.intent {
            right += 1;
            *tp.entry(&e.intent).or_default() += 1;
        } else {
            *confusions.entry((e.intent.clone(), p.intent.clone())).or_default() += 1;
        }
        if Lang::parse(&e.lang) == Some(detect(&e.text, None)) {
            lang_right += 1;
        }
    }
    let n = examples.len().max(1) as f64;
    let per_intent = support
        .iter()
        .map(|(intent, &s)| {
            let t = tp.get(intent).copied().unwrap_or(0) as f64;
            let p = predicted.get(*intent).copied().unwrap_or(0) as f64;
            let precision = if p > 0.0 { t / p } else { 0.0 };
            let recall = t / s as f64;
            let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
            IntentScore { intent: intent.to_string(), support: s, precision, recall, f1 }
        })
        .collect();
    let mut confusions: Vec<Confusion> =
        confusions.into_iter().map(|((actual, predicted), count)| Confusion { actual, predicted, count }).collect();
    confusions.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.actual.cmp(&b.actual)));
    confusions.truncate(15);
    latencies.sort_by(f64::total_cmp);
    let pct = |q: f64| latencies.get(((latencies.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0.0);
    Report {
        examples: examples.len(),
        accuracy: right as f64 / n,
        language_accuracy: lang_right as f64 / n,
        per_intent,
        confusions,
        latency_p50_us: pct(0.5),
        latency_p99_us: pct(0.99),
    }
}

impl Report {
    /// The report as a reader wants it in a terminal.
    pub fn render(&self) -> String {
        let mut out = format!(
            "examples: {}\naccuracy: {:.1}%\nlanguage detection: {:.1}%\nclassification latency: p50 {:.0} µs, p99 {:.0} µs\n\n",
            self.examples,
            self.accuracy * 100.0,
            self.language_accuracy * 100.0,
            self.latency_p50_us,
            self.latency_p99_us
        );
        out.push_str(&format!("{:<24} {:>7} {:>9} {:>7} {:>7}\n", "intent", "support", "precision", "recall", "f1"));
        for s in &self.per_intent {
            out.push_str(&format!("{:<24} {:>7} {:>9.2} {:>7.2} {:>7.2}\n", s.intent, s.support, s.precision, s.recall, s.f1));
        }
        if !self.confusions.is_empty() {
            out.push_str("\nmost frequent confusions (actual -> predicted):\n");
            for c in &self.confusions {
                out.push_str(&format!("  {:>3}  {} -> {}\n", c.count, c.actual, c.predicted));
            }
        }
        out
    }
}
