//! Scanning throughput of the security shield on one core (`bench/shield.sh`): the ordinary
//! support messages of `crates/shield/data/benign.txt` with one in fifty carrying a secret from
//! `secrets.jsonl`, each scanned as one message the way the app does it (secrets found and
//! redacted, links found and judged against four official domains), repeated until the text
//! scanned reaches the size asked for.
//! Usage: kefu-shield-scan DATA_DIR [MEGABYTES] [ROUNDS] [all|secrets|links]

use kefu_shield::{Official, Shield};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "crates/shield/data".into());
    let megabytes: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(64.0);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    // `all` (what the app does), or one part: `secrets`, `links`.
    let part = args.next().unwrap_or_else(|| "all".into());
    let read = |name: &str| std::fs::read_to_string(format!("{dir}/{name}")).unwrap_or_else(|e| panic!("{dir}/{name}: {e}"));
    let benign: Vec<String> = read("benign.txt").lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect();
    let secrets: Vec<String> = read("secrets.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect();
    let mut messages = Vec::new();
    let mut bytes = 0usize;
    let target = (megabytes * 1_000_000.0) as usize;
    let (mut b, mut s) = (0, 0);
    while bytes < target {
        let m = if messages.len() % 50 == 49 {
            s += 1;
            &secrets[s % secrets.len()]
        } else {
            b += 1;
            &benign[b % benign.len()]
        };
        bytes += m.len();
        messages.push(m.as_str());
    }
    let official = Official {
        domains: ["nebula.example", "nebula-ex.com", "nebulaexchange.com", "nbx.io"].map(String::from).to_vec(),
        ..Default::default()
    };
    let shield = Shield::new(official, &["etherscan.io"], Vec::new()).unwrap_or_else(|e| panic!("{e}"));
    Shield::warm_up();
    let mut rates = Vec::new();
    let mut found = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        found = 0;
        for m in &messages {
            match part.as_str() {
                "secrets" => found += shield.secrets(m).len(),
                "links" => found += shield.links(m).len(),
                _ => found += shield.scan(m).findings.len(),
            }
        }
        rates.push(bytes as f64 / 1_000_000.0 / started.elapsed().as_secs_f64());
    }
    rates.sort_by(|a, b| a.total_cmp(b));
    let median = rates[rates.len() / 2];
    let out = serde_json::json!({
        "messages": messages.len(),
        "megabytes": bytes as f64 / 1_000_000.0,
        "mean_message_bytes": bytes as f64 / messages.len() as f64,
        "secrets_found": found,
        "rounds": rounds,
        "part": part,
        "mb_per_second": rates,
        "median_mb_per_second": median,
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
}
