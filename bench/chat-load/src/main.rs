//! Load client for the live chat benchmark (`bench/chat.sh`): many widget connections to one
//! Kefu node, the server's memory while they sit idle, then customer → agent delivery latency
//! at a steady message rate: from a customer's `send` on a WebSocket to the agent's live feed
//! (`GET /api/v1/events`) announcing the stored message.
//!
//! With `--bot FILE` it measures the support bot instead (`bench/bot.sh`): visitors open chats
//! with the utterances of FILE (one a line), and each is timed from its `send` to the bot's first
//! reply on the same socket: storing the message, the bot's turn (classification, help-center
//! search, flow) and its reply stored and pushed.

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Semaphore};
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser, Debug)]
struct Args {
    /// The server, e.g. http://127.0.0.1:18779
    #[arg(long)]
    base: String,
    /// An agent's API token (read scope) for the live feed.
    #[arg(long)]
    token: String,
    #[arg(long)]
    widget: String,
    /// The server's process id, for its memory.
    #[arg(long)]
    pid: u32,
    /// Idle connections held open.
    #[arg(long, default_value_t = 10_000)]
    idle: usize,
    /// Connections that send during the latency phase (each about rate / active a second).
    #[arg(long, default_value_t = 1_000)]
    active: usize,
    /// Messages a second, all connections together.
    #[arg(long, default_value_t = 1_000)]
    rate: u64,
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Connections opened at once while connecting.
    #[arg(long, default_value_t = 200)]
    parallel: usize,
    /// Bot mode: a file of customer utterances, one a line.
    #[arg(long)]
    bot: Option<std::path::PathBuf>,
    /// Bot mode: visitors chatting at once, each opening one chat after another.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    f.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0) + f.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0)
}

async fn next_json(ws: &mut Ws) -> Option<Value> {
    loop {
        match ws.next().await? {
            Ok(Message::Text(t)) => return serde_json::from_str(t.as_str()).ok(),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

/// Opens a connection as a new anonymous visitor and waits for `welcome`.
async fn connect(url: &str, widget: &str) -> Result<Ws, String> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.map_err(|e| e.to_string())?;
    let key = format!("bench-{}", ulid::Ulid::new());
    let hello = json!({"type": "hello", "widget_id": widget, "visitor_key": key});
    ws.send(Message::Text(hello.to_string().into())).await.map_err(|e| e.to_string())?;
    match next_json(&mut ws).await {
        Some(v) if v["type"] == "welcome" => Ok(ws),
        other => Err(format!("no welcome: {other:?}")),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[(((sorted.len() - 1) as f64) * p).round() as usize]
}

fn summary(mut v: Vec<f64>) -> Value {
    v.sort_by(|a, b| a.total_cmp(b));
    json!({"n": v.len(), "p50_ms": percentile(&v, 0.5), "p90_ms": percentile(&v, 0.9), "p99_ms": percentile(&v, 0.99),
        "max_ms": v.last().copied().unwrap_or(f64::NAN)})
}

/// Timings of one message: sent, acknowledged, seen on the agents' feed.
#[derive(Default)]
struct Timings {
    /// client id → when sent.
    sent: HashMap<String, Instant>,
    /// message id → when sent (known from the ack).
    by_message: HashMap<String, Instant>,
    /// message id → when the feed announced it, for events that beat their ack.
    early: HashMap<String, Instant>,
    acks: Vec<f64>,
    delivered: Vec<f64>,
    /// (second of the phase the message was sent in, delivery ms).
    by_second: Vec<(u64, f64)>,
    phase_start: Option<Instant>,
}

impl Timings {
    fn delivered(&mut self, sent: Instant, seen: Instant) {
        let ms = seen.saturating_duration_since(sent).as_secs_f64() * 1000.0;
        self.delivered.push(ms);
        if let Some(start) = self.phase_start {
            self.by_second.push((sent.saturating_duration_since(start).as_secs(), ms));
        }
    }
}

/// The p99 delivery time of the messages sent in each second of the phase.
fn by_second(samples: &[(u64, f64)]) -> Vec<f64> {
    let mut buckets: Vec<Vec<f64>> = Vec::new();
    for &(sec, ms) in samples {
        let i = sec as usize;
        if buckets.len() <= i {
            buckets.resize(i + 1, Vec::new());
        }
        buckets[i].push(ms);
    }
    buckets
        .into_iter()
        .map(|mut b| {
            b.sort_by(|a, b| a.total_cmp(b));
            (percentile(&b, 0.99) * 10.0).round() / 10.0
        })
        .collect()
}

/// One bot turn: a new visitor opens a chat with `text`; milliseconds from the `send` to the
/// bot's first reply (None when none came within 5 s).
async fn bot_turn(url: &str, widget: &str, n: usize, text: &str) -> Result<Option<f64>, String> {
    let mut ws = connect(url, widget).await?;
    let frame = json!({"type": "send", "client_id": format!("bot-{n}"), "body": text});
    let sent = Instant::now();
    ws.send(Message::Text(frame.to_string().into())).await.map_err(|e| e.to_string())?;
    let reply = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(f) = next_json(&mut ws).await {
            if f["type"] == "message" && f["author_kind"] == "bot" {
                return Some(sent.elapsed().as_secs_f64() * 1000.0);
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    let _ = ws.close(None).await;
    Ok(reply)
}

/// Bot mode: `concurrency` visitors for `seconds`, cycling through the utterances.
async fn bot_phase(a: &Args, url: &str, file: &std::path::Path) {
    let lines: Vec<String> =
        std::fs::read_to_string(file).unwrap_or_default().lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
    assert!(!lines.is_empty(), "no utterances in {}", file.display());
    let lines = Arc::new(lines);
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let started = Instant::now();
    let cpu0 = cpu_ticks(a.pid);
    let mut tasks = Vec::new();
    for _ in 0..a.concurrency.max(1) {
        let (lines, next, failed, url, widget) = (lines.clone(), next.clone(), failed.clone(), url.to_string(), a.widget.clone());
        tasks.push(tokio::spawn(async move {
            let mut replies = Vec::new();
            let mut silent = 0;
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                match bot_turn(&url, &widget, n, &lines[n % lines.len()]).await {
                    Ok(Some(ms)) => replies.push(ms),
                    Ok(None) => silent += 1,
                    Err(e) => {
                        if failed.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("bot turn: {e}");
                        }
                    }
                }
            }
            (replies, silent)
        }));
    }
    let (mut replies, mut silent) = (Vec::new(), 0);
    for t in tasks {
        if let Ok((r, s)) = t.await {
            replies.extend(r);
            silent += s;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let out = json!({
        "concurrency": a.concurrency,
        "chats": replies.len() + silent,
        "chats_per_second": (replies.len() + silent) as f64 / secs,
        "no_reply": silent,
        "failures": failed.load(Ordering::Relaxed),
        "server_cores": (cpu_ticks(a.pid) - cpu0) as f64 / 100.0 / secs,
        "reply_ms": summary(replies),
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
}

#[tokio::main]
async fn main() {
    let a = Args::parse();
    let ws_url = format!("{}/api/v1/chat/ws", a.base.replacen("http", "ws", 1));
    if let Some(file) = &a.bot {
        return bot_phase(&a, &ws_url, file).await;
    }
    let hz = 100.0;
    let rss_before = rss_mib(a.pid);

    // 1. Idle connections.
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(a.parallel));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut opening = Vec::with_capacity(a.idle);
    for _ in 0..a.idle {
        let (gate, url, widget, failed) = (gate.clone(), ws_url.clone(), a.widget.clone(), failed.clone());
        opening.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.ok()?;
            match connect(&url, &widget).await {
                Ok(ws) => Some(ws),
                Err(e) => {
                    if failed.fetch_add(1, Ordering::Relaxed) < 3 {
                        eprintln!("connect: {e}");
                    }
                    None
                }
            }
        }));
    }
    let mut idle = Vec::with_capacity(a.idle);
    for h in opening {
        if let Ok(Some(ws)) = h.await {
            idle.push(ws);
        }
    }
    let connect_secs = started.elapsed().as_secs_f64();
    // Idle sockets keep reading (the library answers the server's pings).
    let held = idle.len();
    let mut keepers = Vec::with_capacity(held);
    for mut ws in idle {
        keepers.push(tokio::spawn(async move { while next_json(&mut ws).await.is_some() {} }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_idle = rss_mib(a.pid);

    // 2. Delivery latency: the agents' feed, then `active` customers each with a chat.
    let timings = Arc::new(Mutex::new(Timings::default()));
    let feed = {
        let (base, token, timings) = (a.base.clone(), a.token.clone(), timings.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let Ok(res) = client.get(format!("{base}/api/v1/events")).bearer_auth(token).send().await else { return };
            let mut body = res.bytes_stream();
            let mut buf = String::new();
            while let Some(Ok(chunk)) = body.next().await {
                let now = Instant::now();
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(i) = buf.find('\n') {
                    let line: String = buf.drain(..=i).collect();
                    let Some(data) = line.strip_prefix("data:") else { continue };
                    let Ok(e) = serde_json::from_str::<Value>(data.trim()) else { continue };
                    if e["type"] != "message_created" || e["author_kind"] != "customer" {
                        continue;
                    }
                    let id = e["message_id"].as_str().unwrap_or_default().to_string();
                    let mut t = timings.lock().await;
                    match t.by_message.remove(&id) {
                        Some(sent) => t.delivered(sent, now),
                        None => {
                            t.early.insert(id, now);
                        }
                    }
                }
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut active = Vec::with_capacity(a.active);
    for i in 0..a.active {
        let Ok(mut ws) = connect(&ws_url, &a.widget).await else { continue };
        let first = json!({"type": "send", "client_id": format!("open-{i}"), "body": "bench chat"});
        if ws.send(Message::Text(first.to_string().into())).await.is_err() {
            continue;
        }
        let mut conversation = None;
        while let Some(f) = next_json(&mut ws).await {
            if f["type"] == "ack" {
                conversation = f["conversation_id"].as_str().map(str::to_string);
            }
            if f["type"] == "resumed" {
                break;
            }
        }
        if let Some(c) = conversation {
            active.push((ws, c));
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    timings.lock().await.early.clear();
    let senders = active.len().max(1);
    let per_conn = Duration::from_secs_f64(senders as f64 / a.rate as f64);
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let sent_total = Arc::new(AtomicUsize::new(0));
    let cpu0 = cpu_ticks(a.pid);
    let phase_start = Instant::now();
    timings.lock().await.phase_start = Some(phase_start);
    let mut tasks = Vec::new();
    for (n, (ws, conversation)) in active.into_iter().enumerate() {
        let (timings, sent_total) = (timings.clone(), sent_total.clone());
        tasks.push(tokio::spawn(async move {
            let (mut tx, mut rx) = ws.split();
            let reader = {
                let timings = timings.clone();
                tokio::spawn(async move {
                    while let Some(Ok(m)) = rx.next().await {
                        let Message::Text(t) = m else { continue };
                        let Ok(f) = serde_json::from_str::<Value>(t.as_str()) else { continue };
                        if f["type"] != "ack" {
                            continue;
                        }
                        let now = Instant::now();
                        let (cid, mid) = (f["client_id"].as_str().unwrap_or_default(), f["message_id"].as_str().unwrap_or_default());
                        let mut t = timings.lock().await;
                        let Some(sent) = t.sent.remove(cid) else { continue };
                        t.acks.push(now.duration_since(sent).as_secs_f64() * 1000.0);
                        match t.early.remove(mid) {
                            Some(seen) => t.delivered(sent, seen),
                            None => {
                                t.by_message.insert(mid.to_string(), sent);
                            }
                        }
                    }
                })
            };
            // Spread the senders over the interval.
            tokio::time::sleep(per_conn.mul_f64(n as f64 / senders as f64)).await;
            let mut tick = tokio::time::interval(per_conn);
            let mut k = 0;
            while Instant::now() < deadline {
                tick.tick().await;
                let cid = format!("m-{n}-{k}");
                k += 1;
                let frame =
                    json!({"type": "send", "client_id": cid, "conversation_id": conversation, "body": format!("提币 {k} 还没到账")});
                timings.lock().await.sent.insert(cid, Instant::now());
                if tx.send(Message::Text(frame.to_string().into())).await.is_err() {
                    break;
                }
                sent_total.fetch_add(1, Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            reader.abort();
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let phase_secs = phase_start.elapsed().as_secs_f64() - 2.0;
    let cpu_cores = (cpu_ticks(a.pid) - cpu0) as f64 / hz / phase_secs.max(0.001);
    feed.abort();
    let rss_after = rss_mib(a.pid);
    let t = timings.lock().await;
    let sent = sent_total.load(Ordering::Relaxed);
    let out = json!({
        "idle_connections": held,
        "connect_failures": failed.load(Ordering::Relaxed),
        "connect_seconds": connect_secs,
        "rss_mib_before": rss_before,
        "rss_mib_idle": rss_idle,
        "rss_mib_per_1000_connections": (rss_idle - rss_before) / (held.max(1) as f64 / 1000.0),
        "active_connections": senders,
        "sent": sent,
        "rate_per_second": sent as f64 / phase_secs,
        "server_cores_during_sends": cpu_cores,
        "ack_ms": summary(t.acks.clone()),
        "delivery_ms": summary(t.delivered.clone()),
        "not_delivered": sent.saturating_sub(t.delivered.len()),
        "delivery_p99_ms_by_second": by_second(&t.by_second),
        "rss_mib_after": rss_after,
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    for k in keepers {
        k.abort();
    }
}
