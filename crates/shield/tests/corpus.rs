//! The detector and the link guard against generated data (`data/generate.py`): seed phrases
//! in every BIP39 wordlist and length and keys in every format (recall must be 100 %), ordinary
//! support messages with txids, addresses and long numbers (false positives under 0.1 %), and
//! dnstwist's permutations of four official domains (at least 95 % flagged as lookalikes).

use kefu_shield::{Official, Shield, Verdict};
use std::collections::BTreeMap;

fn data(name: &str) -> String {
    let path = format!("{}/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[derive(serde::Deserialize)]
struct Secret {
    kind: String,
    lang: String,
    text: String,
    secret: String,
}

/// Whether every letter of the secret (for keys: every letter and digit) lies inside a finding.
/// Numbering between the words of a phrase (`1. abandon 2. ability`) may stay.
fn covered(s: &Secret, findings: &[kefu_shield::Finding]) -> bool {
    let Some(at) = s.text.find(&s.secret) else { return false };
    let seed = s.kind == "seed_phrase";
    s.secret.char_indices().all(|(i, c)| {
        let counts = if seed { c.is_alphabetic() } else { c.is_alphanumeric() };
        !counts || findings.iter().any(|f| f.start <= at + i && at + i < f.end)
    })
}

#[test]
fn every_generated_secret_is_found() {
    let shield = Shield::default();
    let mut by_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut missed = Vec::new();
    for line in data("secrets.jsonl").lines() {
        let s: Secret = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let findings = shield.secrets(&s.text);
        let key = if s.kind == "seed_phrase" { format!("seed_phrase/{}", s.lang) } else { s.kind.clone() };
        let entry = by_kind.entry(key).or_default();
        entry.1 += 1;
        if covered(&s, &findings) {
            entry.0 += 1;
        } else {
            missed.push(format!("{} {}: {:?}", s.kind, s.lang, s.text));
        }
    }
    let (found, total) = by_kind.values().fold((0, 0), |(f, t), (a, b)| (f + a, t + b));
    println!("secret recall: {found} of {total}");
    for (k, (f, t)) in &by_kind {
        println!("  {k}: {f}/{t}");
    }
    assert!(missed.is_empty(), "recall {found}/{total}; missed:\n{}", missed.iter().take(10).cloned().collect::<Vec<_>>().join("\n"));
    assert!(total >= 700, "the generated set shrank to {total}");
}

#[test]
fn ordinary_support_messages_are_left_alone() {
    let shield = Shield::default();
    let text = data("benign.txt");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let flagged: Vec<String> = lines
        .iter()
        .filter_map(|l| {
            let f = shield.secrets(l);
            (!f.is_empty()).then(|| format!("{:?} in {l:?}", f.iter().map(|f| &l[f.start..f.end]).collect::<Vec<_>>()))
        })
        .collect();
    let rate = flagged.len() as f64 / lines.len() as f64;
    println!("false positives: {} of {} ({:.3} %)", flagged.len(), lines.len(), rate * 100.0);
    assert!(lines.len() >= 3000);
    assert!(rate < 0.001, "{} of {} flagged:\n{}", flagged.len(), lines.len(), flagged.join("\n"));
}

fn official() -> Shield {
    let official = Official {
        domains: ["nebula.example", "nebula-ex.com", "nebulaexchange.com", "nbx.io"].map(String::from).to_vec(),
        ..Default::default()
    };
    Shield::new(official, &[] as &[&str], Vec::new()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn dnstwist_permutations_are_flagged_as_lookalikes() {
    let shield = official();
    let mut by_fuzzer: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut missed = Vec::new();
    for line in data("lookalikes.txt").lines() {
        let mut parts = line.split('\t');
        let (Some(of), Some(fuzzer), Some(name)) = (parts.next(), parts.next(), parts.next()) else { panic!("bad line {line:?}") };
        let v = shield.verify(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let entry = by_fuzzer.entry(fuzzer.to_string()).or_default();
        entry.1 += 1;
        if v.verdict == Verdict::Lookalike {
            entry.0 += 1;
        } else {
            missed.push(format!("{fuzzer} {name} (of {of}): {:?}", v.verdict));
        }
    }
    let (flagged, total) = by_fuzzer.values().fold((0, 0), |(f, t), (a, b)| (f + a, t + b));
    let share = flagged as f64 / total as f64;
    println!("lookalikes flagged: {flagged} of {total} ({:.1} %)", share * 100.0);
    for (k, (f, t)) in &by_fuzzer {
        println!("  {k}: {f}/{t}");
    }
    assert!(share >= 0.95, "{flagged}/{total} flagged; missed:\n{}", missed.iter().take(30).cloned().collect::<Vec<_>>().join("\n"));
}

#[test]
fn official_links_are_never_flagged() {
    let shield = official();
    for url in [
        "nebula.example",
        "https://nebula.example/",
        "https://www.nebula-ex.com/zh-CN/support?x=1",
        "http://api.nebula-ex.com/v1",
        "https://help.nebulaexchange.com/articles/12",
        "nbx.io",
        "https://app.nbx.io/#/withdraw",
        "HTTPS://WWW.NEBULA-EX.COM",
    ] {
        let v = shield.verify(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(v.verdict, Verdict::Official, "{url}");
        let links = shield.links(&format!("请访问 {url} 。"));
        assert_eq!(links.iter().map(|l| l.verdict).collect::<Vec<_>>(), vec![Verdict::Official], "{url}");
    }
}
