//! The intent classifier: multinomial logistic regression over [`features`], trained in well
//! under a second by stochastic gradient descent, with its confidence calibrated by a temperature
//! fitted on out-of-fold predictions (so that "0.8" means right about four times in five).

use crate::examples::Example;
use crate::features::features;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::collections::HashMap;

const EPOCHS: usize = 30;
const LEARNING_RATE: f32 = 0.8;
const L2: f32 = 1e-5;
/// Folds used to calibrate the confidence.
const FOLDS: usize = 4;
/// The seed of the example order, so that one training set always gives the same model.
const SEED: u64 = 0x6b65_6675;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrainError {
    #[error("the training set is empty")]
    Empty,
    #[error("the training set has only one intent ({0}); a classifier needs at least two")]
    OneIntent(String),
}

/// A trained classifier; cheap to share, immutable.
pub struct Classifier {
    intents: Vec<String>,
    vocabulary: HashMap<String, u32>,
    /// `vocabulary.len()` rows of one weight per intent.
    weights: Vec<f32>,
    bias: Vec<f32>,
    temperature: f32,
    examples: usize,
}

/// What a message is most likely about.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Prediction {
    pub intent: String,
    /// Calibrated probability of `intent`, 0 to 1.
    pub confidence: f32,
    /// The three likeliest intents with their probabilities, best first.
    pub ranked: Vec<(String, f32)>,
}

/// Sparse input: feature indices, each with the same value (the inverse square root of their
/// count, so that long and short messages weigh alike).
struct Row {
    features: Vec<u32>,
    value: f32,
    label: usize,
}

impl Classifier {
    /// Trains on `examples`. Deterministic: the same examples give the same model.
    pub fn train(examples: &[Example]) -> Result<Self, TrainError> {
        if examples.is_empty() {
            return Err(TrainError::Empty);
        }
        let mut intents: Vec<String> = examples.iter().map(|e| e.intent.clone()).collect();
        intents.sort();
        intents.dedup();
        if intents.len() < 2 {
            return Err(TrainError::OneIntent(intents.remove(0)));
        }
        let label: HashMap<&str, usize> = intents.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
        let mut vocabulary: HashMap<String, u32> = HashMap::new();
        let mut rows = Vec::with_capacity(examples.len());
        for e in examples {
            let mut ids: Vec<u32> = features(&e.text)
                .into_iter()
                .map(|f| {
                    let next = vocabulary.len() as u32;
                    *vocabulary.entry(f).or_insert(next)
                })
                .collect();
            ids.sort_unstable();
            let value = if ids.is_empty() { 0.0 } else { 1.0 / (ids.len() as f32).sqrt() };
            rows.push(Row { features: ids, value, label: label[e.intent.as_str()] });
        }
        let k = intents.len();
        let dims = vocabulary.len();

        // Out-of-fold scores for calibration: every example scored by a model that never saw it.
        let mut held_out: Vec<(Vec<f32>, usize)> = Vec::with_capacity(rows.len());
        for fold in 0..FOLDS {
            let train: Vec<&Row> = rows.iter().enumerate().filter(|(i, _)| i % FOLDS != fold).map(|(_, r)| r).collect();
            let (w, b) = fit(&train, dims, k);
            for (_, r) in rows.iter().enumerate().filter(|(i, _)| i % FOLDS == fold) {
                held_out.push((scores(&w, &b, k, &r.features, r.value), r.label));
            }
        }
        let temperature = fit_temperature(&held_out);
        let all: Vec<&Row> = rows.iter().collect();
        let (weights, bias) = fit(&all, dims, k);
        Ok(Self { intents, vocabulary, weights, bias, temperature, examples: examples.len() })
    }

    pub fn intents(&self) -> &[String] {
        &self.intents
    }

    /// How many examples it was trained on.
    pub fn examples(&self) -> usize {
        self.examples
    }

    pub fn classify(&self, text: &str) -> Prediction {
        let k = self.intents.len();
        let ids: Vec<u32> = features(text).iter().filter_map(|f| self.vocabulary.get(f).copied()).collect();
        let value = if ids.is_empty() { 0.0 } else { 1.0 / (ids.len() as f32).sqrt() };
        let mut s = scores(&self.weights, &self.bias, k, &ids, value);
        for x in &mut s {
            *x /= self.temperature;
        }
        let p = softmax(&s);
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|a, b| p[*b].total_cmp(&p[*a]));
        let ranked: Vec<(String, f32)> = order.iter().take(3).map(|&i| (self.intents[i].clone(), p[i])).collect();
        Prediction { intent: ranked[0].0.clone(), confidence: ranked[0].1, ranked }
    }
}

fn scores(weights: &[f32], bias: &[f32], k: usize, ids: &[u32], value: f32) -> Vec<f32> {
    let mut s = bias.to_vec();
    for &f in ids {
        let row = &weights[f as usize * k..(f as usize + 1) * k];
        for (x, w) in s.iter_mut().zip(row) {
            *x += w * value;
        }
    }
    s
}

fn softmax(s: &[f32]) -> Vec<f32> {
    let max = s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = s.iter().map(|x| (x - max).exp()).collect();
    let sum: f32 = e.iter().sum();
    e.into_iter().map(|x| x / sum).collect()
}

/// Stochastic gradient descent on the cross-entropy, with a decaying step and L2 shrinkage of the
/// weights each example touches.
fn fit(rows: &[&Row], dims: usize, k: usize) -> (Vec<f32>, Vec<f32>) {
    let mut w = vec![0f32; dims * k];
    let mut b = vec![0f32; k];
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED);
    for epoch in 0..EPOCHS {
        order.shuffle(&mut rng);
        let rate = LEARNING_RATE / (1.0 + epoch as f32 * 0.25);
        for &i in &order {
            let r = rows[i];
            let p = softmax(&scores(&w, &b, k, &r.features, r.value));
            for c in 0..k {
                let g = p[c] - if c == r.label { 1.0 } else { 0.0 };
                b[c] -= rate * g * 0.1;
                for &f in &r.features {
                    let x = &mut w[f as usize * k + c];
                    *x -= rate * (g * r.value + L2 * *x);
                }
            }
        }
    }
    (w, b)
}

/// The temperature that makes the held-out probabilities most likely (negative log-likelihood,
/// searched on a grid: one parameter needs nothing finer).
fn fit_temperature(held_out: &[(Vec<f32>, usize)]) -> f32 {
    let nll = |t: f32| -> f32 {
        held_out
            .iter()
            .map(|(s, label)| {
                let scaled: Vec<f32> = s.iter().map(|x| x / t).collect();
                -softmax(&scaled)[*label].max(1e-9).ln()
            })
            .sum()
    };
    let mut best = (1.0, nll(1.0));
    let mut t = 0.2f32;
    while t <= 4.0 {
        let v = nll(t);
        if v < best.1 {
            best = (t, v);
        }
        t += 0.05;
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(text: &str, intent: &str) -> Example {
        Example { text: text.into(), intent: intent.into(), lang: "en".into() }
    }

    #[test]
    fn training_needs_two_intents() {
        assert_eq!(Classifier::train(&[]).err(), Some(TrainError::Empty));
        assert_eq!(Classifier::train(&[ex("hi", "greeting")]).err(), Some(TrainError::OneIntent("greeting".into())));
    }

    #[test]
    fn a_small_model_separates_what_it_was_shown() {
        let set = [
            ex("hello there", "greeting"),
            ex("hi", "greeting"),
            ex("good morning", "greeting"),
            ex("my deposit has not arrived", "deposit_missing"),
            ex("deposit not credited yet", "deposit_missing"),
            ex("where is my deposit", "deposit_missing"),
        ];
        let c = Classifier::train(&set).unwrap_or_else(|e| panic!("{e}"));
        let p = c.classify("hello");
        assert_eq!(p.intent, "greeting");
        assert_eq!(c.classify("my deposit is missing").intent, "deposit_missing");
        assert!(p.confidence > 0.5 && p.confidence <= 1.0, "{p:?}");
        assert_eq!(p.ranked.len(), 2);
    }
}
