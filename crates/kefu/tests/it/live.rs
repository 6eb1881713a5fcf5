//! What happens live: the event stream agents' consoles follow, collision presence, search
//! that sees changes at once, and the API channel's signed webhook for agents' replies.

use futures_util::StreamExt;
use kefu_testkit::{Backend, StatusCode, spawn_app};
use serde_json::{Value, json};
use std::time::Duration;

both_backends!(
    the_event_stream_and_presence_show_colleagues,
    search_finds_chinese_in_both_scripts,
    api_channel_replies_reach_the_signed_webhook
);

/// Reads server-sent events until one satisfies `want`, or fails after a few seconds.
async fn next_event<B: AsRef<[u8]>>(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<B>> + Unpin),
    buf: &mut String,
    want: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            for line in frame.lines() {
                if let Some(data) = line.strip_prefix("data:") {
                    let v: Value = serde_json::from_str(data.trim()).unwrap();
                    if want(&v) {
                        return v;
                    }
                }
            }
        }
        let chunk = tokio::time::timeout_at(deadline, stream.next()).await.expect("no matching event in time").unwrap().unwrap();
        buf.push_str(&String::from_utf8_lossy(chunk.as_ref()));
    }
}

async fn the_event_stream_and_presence_show_colleagues(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (a, agent_a) = t.signed_in("agent").await;
    let (b, _) = t.signed_in("agent").await;
    let res = b.http.get(format!("{}/api/v1/events", b.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut stream = res.bytes_stream();
    let mut buf = String::new();

    let conv = crate::inbox::open(&a, "Account locked", "l@example.com", "账户被锁了").await;
    let cid = conv["id"].as_str().unwrap().to_string();
    let created = next_event(&mut stream, &mut buf, |v| v["type"] == "conversation_created").await;
    assert_eq!(created["conversation_id"], cid.as_str());
    assert_eq!(created["number"], conv["number"]);

    a.post(&format!("/api/v1/conversations/{cid}/messages"), json!({"body": "我们来帮您"})).await;
    let msg = next_event(&mut stream, &mut buf, |v| v["type"] == "message_created").await;
    assert_eq!((msg["seq"].as_i64(), msg["author_kind"].as_str()), (Some(2), Some("agent")));

    // A looks at the conversation and starts typing: B sees both, live and on asking.
    let viewers = a.post(&format!("/api/v1/conversations/{cid}/presence"), json!({"state": "viewing"})).await;
    assert_eq!(viewers.status, StatusCode::OK, "{}", viewers.text);
    let seen = next_event(&mut stream, &mut buf, |v| v["type"] == "presence").await;
    assert_eq!((seen["agent_id"].as_str(), seen["state"].as_str()), (agent_a["id"].as_str(), Some("viewing")));
    a.post(&format!("/api/v1/conversations/{cid}/presence"), json!({"state": "typing"})).await;
    let typing = next_event(&mut stream, &mut buf, |v| v["type"] == "presence" && v["state"] == "typing").await;
    assert_eq!(typing["agent_name"], agent_a["name"]);
    let now = b.get(&format!("/api/v1/conversations/{cid}/presence")).await.body;
    assert_eq!(now["items"], json!([{"agent_id": agent_a["id"], "agent_name": agent_a["name"], "state": "typing"}]));
    a.post(&format!("/api/v1/conversations/{cid}/presence"), json!({"state": "left"})).await;
    next_event(&mut stream, &mut buf, |v| v["type"] == "presence" && v["state"] == "left").await;
    assert_eq!(b.get(&format!("/api/v1/conversations/{cid}/presence")).await.body["items"], json!([]));

    a.patch(&format!("/api/v1/conversations/{cid}"), json!({"status": "resolved"})).await;
    let updated = next_event(&mut stream, &mut buf, |v| v["type"] == "conversation_updated").await;
    assert_eq!(updated["changes"], json!(["status_changed"]));
    t.shutdown().await;
}

async fn search_finds_chinese_in_both_scripts(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (c, agent) = t.signed_in("agent").await;
    let trad = crate::inbox::open(&c, "提幣問題", "tw@example.com", "我的提幣三小時還沒到帳，忘記密碼也登不進去").await;
    let simp = crate::inbox::open(&c, "Withdrawal delay", "en@example.com", "my withdrawals to TRC20 are stuck").await;
    let search = |q: String| {
        let c = c.clone();
        async move {
            for _ in 0..50 {
                let r = c.get(&format!("/api/v1/search?q={}", url_escape(&q))).await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text);
                let ids: Vec<String> = r.body["conversations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| h["conversation"]["id"].as_str().unwrap().to_string())
                    .collect();
                if !ids.is_empty() {
                    return (ids, r.body.clone());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (Vec::new(), Value::Null)
        }
    };
    let (ids, body) = search("提币".into()).await;
    assert_eq!(ids, vec![trad["id"].as_str().unwrap().to_string()], "Simplified finds Traditional");
    assert!(body["conversations"][0]["snippet"].as_str().unwrap().contains("提幣"));
    assert_eq!(search("忘记密码".into()).await.0.len(), 1);
    assert_eq!(search("withdrawal".into()).await.0, vec![simp["id"].as_str().unwrap().to_string()], "English stems");
    let (by_number, _) = search(format!("#{}", simp["number"])).await;
    assert_eq!(by_number[0], simp["id"].as_str().unwrap());
    // A reply is searchable moments later.
    c.post(&format!("/api/v1/conversations/{}/messages", simp["id"].as_str().unwrap()), json!({"body": "请提供交易哈希 txid"})).await;
    assert_eq!(search("交易哈希".into()).await.0, vec![simp["id"].as_str().unwrap().to_string()]);
    // Filters: unassigned until someone takes it, then mine.
    let hits = |path: String| {
        let c = c.clone();
        async move {
            let r = c.get(&path).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r.body["conversations"].as_array().unwrap().len()
        }
    };
    assert_eq!(hits("/api/v1/search?q=withdrawal&assignee=none".into()).await, 1);
    assert_eq!(hits("/api/v1/search?q=withdrawal&assignee=me".into()).await, 0);
    let me = agent["id"].as_str().unwrap().to_string();
    let sid = simp["id"].as_str().unwrap();
    let r = c.patch(&format!("/api/v1/conversations/{sid}"), json!({"assignee_id": me, "version": simp["version"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut mine = 0;
    for _ in 0..50 {
        mine = hits("/api/v1/search?q=withdrawal&assignee=me".into()).await;
        if mine == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(mine, 1, "assigned conversations are found as mine");
    assert_eq!(hits("/api/v1/search?q=withdrawal&assignee=none".into()).await, 0);
    c.get("/api/v1/search?q=withdrawal&assignee=someone").await.assert_problem(422, "validation_failed");
    // Contacts are found by the start of a name or by a whole identity, with their conversations.
    let r = c.get("/api/v1/search?q=tw%40example.com").await;
    assert_eq!(r.body["contacts"].as_array().unwrap().len(), 1, "{}", r.text);
    assert_eq!(r.body["conversations"][0]["conversation"]["id"], trad["id"], "{}", r.text);
    let r = c.get("/api/v1/search?q=tw%40example").await;
    assert!(r.body["contacts"].as_array().unwrap().is_empty(), "{}", r.text);
    t.shutdown().await;
}

fn url_escape(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

async fn api_channel_replies_reach_the_signed_webhook(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    // The integration's receiver: records each delivery, refuses the first one to prove retries.
    let received = std::sync::Arc::new(tokio::sync::Mutex::new(Vec::<(axum::http::HeaderMap, String)>::new()));
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (rec, n) = (received.clone(), calls.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let (rec, n) = (rec.clone(), n.clone());
            async move {
                if n.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                rec.lock().await.push((headers, body));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (admin, _) = t.signed_in("admin").await;
    admin.put("/api/v1/settings/api-channel", json!({"webhook_url": "ftp://x"})).await.assert_problem(422, "validation_failed");
    let secret = "integration-secret-123456";
    let set = admin.put("/api/v1/settings/api-channel", json!({"webhook_url": hook, "webhook_secret": secret})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.body["has_secret"], true);

    let mut jobs = kefu_app::service::Services::new();
    jobs.start(std::sync::Arc::new(kefu_app::jobs::JobWorker::new(t.app.clone())));
    let conv = admin
        .post(
            "/api/v1/conversations",
            json!({"channel": "api", "contact": {"exchange_user_id": "U-9"}, "message": {"body": "where is my BTC?"}}),
        )
        .await;
    let cid = conv.body["conversation"]["id"].as_str().unwrap().to_string();
    admin.post(&format!("/api/v1/conversations/{cid}/messages"), json!({"body": "note only", "private": true})).await;
    let reply = admin.post(&format!("/api/v1/conversations/{cid}/messages"), json!({"body": "It is on its way."})).await;
    assert_eq!(reply.body["delivery"]["webhook"], "pending");
    let mid = reply.body["id"].as_str().unwrap().to_string();

    // The first attempt is refused; the retry (after the 5 s backoff) is delivered.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while received.lock().await.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no delivery");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (headers, body) = received.lock().await[0].clone();
    let ts = headers["x-kefu-timestamp"].to_str().unwrap().parse::<i64>().unwrap();
    assert_eq!(headers["x-kefu-signature"].to_str().unwrap(), kefu_app::webhooks::webhook_signature(secret, ts, body.as_bytes()));
    let payload: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(payload["message"]["id"], mid.as_str());
    assert_eq!(payload["conversation"]["id"], cid.as_str());
    assert_eq!(received.lock().await.len(), 1, "the private note is never delivered");
    // The receiver records the delivery before it answers; the state is written after the answer.
    let mut state = Value::Null;
    for _ in 0..50 {
        let tl = admin.get(&format!("/api/v1/conversations/{cid}/timeline")).await.body;
        state = tl["items"].as_array().unwrap().iter().find(|i| i["id"] == mid.as_str()).unwrap()["delivery"]["webhook"].clone();
        if state == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, "delivered");
    jobs.stop().await;
    t.shutdown().await;
}
