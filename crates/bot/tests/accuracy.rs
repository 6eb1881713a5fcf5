//! The shipped classifier measured on the held-out set (utterances it never saw).

use kefu_bot::examples::{HELD_OUT, parse_csv, shipped};
use kefu_bot::{Classifier, eval};

#[test]
fn the_shipped_model_classifies_held_out_messages() {
    let started = std::time::Instant::now();
    let c = Classifier::train(&shipped()).unwrap_or_else(|e| panic!("{e}"));
    let trained_in = started.elapsed();
    let held = parse_csv(HELD_OUT).unwrap_or_else(|e| panic!("{e}"));
    assert!(held.len() >= 8 * 30, "the held-out set is too small: {}", held.len());
    let r = eval::evaluate(&c, &held);
    println!("trained on {} examples in {trained_in:?}\n{}", c.examples(), r.render());
    assert!(r.accuracy >= 0.85, "top-1 accuracy {:.1}% is below 85%", r.accuracy * 100.0);
    // Training is part of start-up: it has to stay quick.
    assert!(trained_in < std::time::Duration::from_secs(10), "training took {trained_in:?}");
}

#[test]
fn confidence_is_calibrated_on_held_out_messages() {
    let c = Classifier::train(&shipped()).unwrap_or_else(|e| panic!("{e}"));
    let held = parse_csv(HELD_OUT).unwrap_or_default();
    // Expected calibration error over five confidence bins: how far "0.8 sure" is from being
    // right four times in five.
    let mut bins = [(0f64, 0f64, 0usize); 5];
    for e in &held {
        let p = c.classify(&e.text);
        let b = ((p.confidence as f64 * 5.0) as usize).min(4);
        bins[b].0 += p.confidence as f64;
        bins[b].1 += f64::from(u8::from(p.intent == e.intent));
        bins[b].2 += 1;
    }
    let ece: f64 = bins.iter().filter(|b| b.2 > 0).map(|(conf, right, _)| (conf - right).abs() / held.len() as f64).sum();
    println!("expected calibration error: {ece:.3}; bins {bins:?}");
    assert!(ece < 0.15, "confidence is off by {ece:.3} on average");
}
