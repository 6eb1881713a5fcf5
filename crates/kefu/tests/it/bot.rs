//! The support bot on real chats: it answers first over the widget's WebSocket, runs a guided
//! flow, answers from the help center with quick replies, settles a chat when its answer helped,
//! hands off with the case prepared, steps back when an agent replies; admins tune and train it;
//! generated answers go through a local server speaking the chat-completions format.

use futures_util::{SinkExt, StreamExt};
use kefu_testkit::{Backend, Client, StatusCode, TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

both_backends!(
    the_bot_answers_chats_runs_flows_and_hands_off,
    admins_tune_and_train_the_bot,
    generated_answers_cite_articles_and_never_speak_for_the_account,
);

type Stream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Widget {
    ws: Stream,
    conversation_id: Option<String>,
    sent: u32,
}

impl Widget {
    async fn open(t: &TestApp, widget_id: &str, language: &str) -> Widget {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/api/v1/chat/ws", t.addr)).await.unwrap();
        let hello = json!({"type": "hello", "widget_id": widget_id, "visitor_key": format!("visitor-key-{}", ulid::Ulid::new()), "language": language});
        ws.send(Message::Text(hello.to_string().into())).await.unwrap();
        let mut w = Widget { ws, conversation_id: None, sent: 0 };
        assert_eq!(w.next().await["type"], "welcome");
        w
    }

    async fn next(&mut self) -> Value {
        loop {
            let m = tokio::time::timeout(Duration::from_secs(10), self.ws.next()).await.expect("a frame within 10 s");
            match m {
                Some(Ok(Message::Text(t))) => return serde_json::from_str(t.as_str()).unwrap(),
                Some(Ok(_)) => continue,
                other => panic!("socket ended: {other:?}"),
            }
        }
    }

    /// Sends a message and waits for its acknowledgement.
    async fn say(&mut self, body: &str) {
        self.sent += 1;
        let mut frame = json!({"type": "send", "client_id": format!("c-{}", self.sent), "body": body});
        if let Some(id) = &self.conversation_id {
            frame["conversation_id"] = json!(id);
        }
        self.ws.send(Message::Text(frame.to_string().into())).await.unwrap();
        loop {
            let f = self.next().await;
            if f["type"] == "ack" {
                self.conversation_id = Some(f["conversation_id"].as_str().unwrap().to_string());
                return;
            }
        }
    }

    /// The bot's messages until one contains `until`; fails after 10 s without it.
    async fn bot_until(&mut self, until: &str) -> Vec<Value> {
        let mut said = Vec::new();
        loop {
            let f = self.next().await;
            if f["type"] == "message" && f["author_kind"] == "bot" {
                let done = f["body"].as_str().unwrap_or_default().contains(until);
                said.push(f);
                if done {
                    return said;
                }
            }
        }
    }
}

async fn setup(t: &TestApp) -> (Client, String) {
    t.relax_two_factor().await;
    let admin = t.signed_in("admin").await.0;
    let widget = admin.get("/api/v1/settings/chat").await.body["widget_id"].as_str().unwrap().to_string();
    let settings = json!({"enabled": true, "name": "Nebula Assistant", "threshold": 0.4, "generated_answers": false});
    let r = admin.put("/api/v1/bot/settings", settings).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let article = json!({"slug": "trading-fees", "locale": "en", "title": "Trading fees and fee tiers",
        "summary": "Spot trades cost 0.1% per side, less with a higher VIP tier or when paying fees in NEB.",
        "body": "## Spot fees\n\nMaker and taker pay 0.1% per trade. VIP tiers lower it.", "status": "published"});
    let r = admin.post("/api/v1/kb/articles", article).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    (admin, widget)
}

async fn conversation(admin: &Client, id: &str) -> Value {
    admin.get(&format!("/api/v1/conversations/{id}")).await.body
}

/// The conversation once `done` holds (the bot's changes land just after its message), or as
/// it is after 5 s.
async fn conversation_until(admin: &Client, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut c = conversation(admin, id).await;
    for _ in 0..50 {
        if done(&c) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        c = conversation(admin, id).await;
    }
    c
}

async fn timeline(admin: &Client, id: &str) -> Vec<Value> {
    admin.get(&format!("/api/v1/conversations/{id}/timeline")).await.body["items"].as_array().unwrap().clone()
}

async fn the_bot_answers_chats_runs_flows_and_hands_off(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (admin, widget) = setup(&t).await;

    // A guided flow: it asks only for what is missing, then answers.
    let mut w = Widget::open(&t, &widget, "en").await;
    w.say("my USDT deposit hasn't arrived").await;
    let asked = w.bot_until("Which network").await;
    assert_eq!(asked.last().unwrap()["author_name"], "Nebula Assistant");
    w.say("TRC20").await;
    w.bot_until("transaction ID").await;
    w.say("0x5f2a9c0d3e1b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f").await;
    let answer = w.bot_until("USDT on TRC20").await;
    let actions = &answer.last().unwrap()["actions"];
    assert_eq!(actions["buttons"], json!(["Yes, thanks", "No", "Talk to a person"]), "{actions}");
    // "Yes" settles the chat: resolved by the bot, without a person.
    w.say("Yes, thanks").await;
    w.bot_until("glad I could help").await;
    let id = w.conversation_id.clone().unwrap();
    let c = conversation_until(&admin, &id, |c| c["status"] == "resolved").await;
    assert_eq!(c["status"], "resolved", "{c}");
    assert!(c["assignee_id"].is_null());

    // A question the help center answers: the article, with quick replies; "No" then a person.
    let mut w = Widget::open(&t, &widget, "en").await;
    w.say("how much are your trading fees?").await;
    let said = w.bot_until("Did this answer your question?").await;
    let card = said.iter().find(|m| !m["actions"]["article"].is_null()).expect("an article card");
    assert_eq!(card["actions"]["article"]["url"], "/help/en/articles/trading-fees");
    assert!(card["body"].as_str().unwrap().contains("0.1% per side"), "a short answer drawn from it: {card}");
    w.say("No").await;
    let handoff = w.bot_until("reply").await;
    let eta = handoff.last().unwrap()["body"].as_str().unwrap().to_string();
    assert!(eta.contains("offline") && eta.contains("12 hours"), "nobody is online: the customer is told when: {eta}");
    let id = w.conversation_id.clone().unwrap();
    let c = conversation_until(&admin, &id, |c| c["tags"].as_array().is_some_and(|t| t.contains(&json!("bot-handoff")))).await;
    assert!(c["tags"].as_array().unwrap().contains(&json!("bot-handoff")), "{c}");
    let items = timeline(&admin, &id).await;
    let note = items.iter().find(|i| i["type"] == "message" && i["private"] == true).expect("a note for the agent");
    let note = note["body"].as_str().unwrap();
    assert!(note.contains("the answers offered did not help") && note.contains("fees"), "{note}");
    assert_eq!(c["intent"], "fees");
    // Handed off: the bot is silent from now on.
    w.say("hello?").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let bot_msgs = timeline(&admin, &id).await.iter().filter(|i| i["type"] == "message" && i["author"]["kind"] == "bot").count();
    w.say("anyone?").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let after = timeline(&admin, &id).await.iter().filter(|i| i["type"] == "message" && i["author"]["kind"] == "bot").count();
    assert_eq!(bot_msgs, after);

    // A sensitive case in Chinese: the flow prepares it and hands off at once, with priority.
    let mut w = Widget::open(&t, &widget, "zh-CN").await;
    w.say("我的谷歌验证器丢了 手机也换了 怎么重置二次验证").await;
    w.bot_until("邮箱或手机号").await;
    w.say("wang@example.com").await;
    w.bot_until("回复").await;
    let id = w.conversation_id.clone().unwrap();
    let c = conversation_until(&admin, &id, |c| c["priority"] == "high").await;
    assert_eq!(c["priority"], "high", "{c}");
    assert_eq!(c["intent"], "twofa_reset");
    assert_eq!(c["language"], "zh-CN");
    let handoff = timeline(&admin, &id).await.into_iter().find(|i| i["type"] == "activity" && i["kind"] == "bot_handoff").expect("handoff");
    assert_eq!(handoff["data"]["reason"], "sensitive");

    // An agent stepping in silences the bot.
    let mut w = Widget::open(&t, &widget, "en").await;
    w.say("hi").await;
    w.bot_until("Tell me what you need").await;
    let id = w.conversation_id.clone().unwrap();
    let r = admin.post(&format!("/api/v1/conversations/{id}/messages"), json!({"body": "Hi, I'm Lin from support."})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    tokio::time::sleep(Duration::from_millis(300)).await;
    w.say("what are the trading fees?").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let last_bot = timeline(&admin, &id).await.iter().filter(|i| i["type"] == "message" && i["author"]["kind"] == "bot").count();
    assert_eq!(last_bot, 1, "only the greeting before the agent came");

    // The bot serves chats only: a ticket from the API with the same question gets no answer
    // and is not counted as one of its conversations.
    let r = admin
        .post(
            "/api/v1/conversations",
            json!({"subject": "Fees", "contact": {"email": "api@example.com"}, "message": {"body": "what are the trading fees?"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let api_id = r.body["conversation"]["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let answered = timeline(&admin, &api_id).await.iter().filter(|i| i["type"] == "message" && i["author"]["kind"] == "bot").count();
    assert_eq!(answered, 0);

    // The report: containment, handoffs and reasons, intents, what it did not understand.
    let a = admin.get("/api/v1/bot/analytics?days=7").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let a = a.body;
    assert_eq!(a["conversations"], 4, "{a}");
    assert_eq!(a["contained"], 1);
    assert_eq!(a["handed_off"], 2);
    assert_eq!(a["taken_by_agent"], 1);
    assert_eq!(a["containment_rate"], 0.25);
    let reasons: Vec<&str> = a["handoff_reasons"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(reasons.contains(&"not_helped") && reasons.contains(&"sensitive"), "{reasons:?}");
    assert!(a["top_intents"].as_array().unwrap().iter().any(|i| i["name"] == "deposit_missing"));
    admin.get("/api/v1/bot/analytics?days=0").await.assert_problem(422, "validation_failed");
}

async fn admins_tune_and_train_the_bot(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let admin = t.signed_in("admin").await.0;
    let agent = t.signed_in("agent").await.0;
    // Off until an admin turns it on.
    assert_eq!(admin.get("/api/v1/bot/settings").await.body["enabled"], false);
    let r = admin.put("/api/v1/bot/settings", json!({"enabled": true, "name": "", "threshold": 2})).await;
    r.assert_problem(422, "validation_failed");
    let fields: Vec<&str> = r.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "threshold"]);
    agent.put("/api/v1/bot/settings", json!({"enabled": true})).await.assert_problem(403, "forbidden");
    agent.get("/api/v1/bot/analytics").await.assert_problem(403, "forbidden");

    // Classification, for anyone signed in.
    let c = agent.post("/api/v1/bot/classify", json!({"text": "提币一直在审核中 USDT"})).await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    assert_eq!(c.body["intent"], "withdrawal_pending");
    assert_eq!(c.body["language"], "zh-CN");
    assert!(c.body["confidence"].as_f64().unwrap() > 0.5);
    agent.post("/api/v1/bot/classify", json!({"text": " "})).await.assert_problem(422, "validation_failed");

    // Try the bot: the state goes back and forth, nothing is stored.
    let r = agent.post("/api/v1/bot/try", json!({"text": "my BTC withdrawal is stuck pending"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["outcome"], "flow");
    let r = agent.post("/api/v1/bot/try", json!({"text": "Bitcoin network, 3 hours ago", "state": r.body["state"]})).await;
    assert!(r.body["messages"][0]["text"].as_str().unwrap().contains("BTC on Bitcoin"), "{}", r.text);
    let r = agent.post("/api/v1/bot/try", json!({"text": "how much are fees", "vip": true})).await;
    assert_eq!(r.body["handoff"]["reason"], "vip");
    agent.post("/api/v1/bot/try", json!({"text": "hi", "state": "nonsense"})).await.assert_problem(422, "validation_failed");

    // Examples: added, refused twice or malformed, deleted; training picks them up.
    let phrase = "the moon wallet thing ate my coins";
    let before = admin.post("/api/v1/bot/classify", json!({"text": phrase})).await.body;
    let e = admin.post("/api/v1/bot/examples", json!({"text": phrase, "intent": "deposit_missing", "lang": "en"})).await;
    assert_eq!(e.status, StatusCode::CREATED, "{}", e.text);
    admin.post("/api/v1/bot/examples", json!({"text": phrase, "intent": "fees", "lang": "en"})).await.assert_problem(409, "example_taken");
    let bad = admin.post("/api/v1/bot/examples", json!({"text": "x", "intent": "Not An Intent", "lang": "fr"})).await;
    bad.assert_problem(422, "validation_failed");
    agent.post("/api/v1/bot/examples", json!({"text": "y", "intent": "fees", "lang": "en"})).await.assert_problem(403, "forbidden");
    for more in ["moon wallet ate my coins again", "coins eaten by the moon wallet", "moon wallet swallowed my deposit"] {
        let r = admin.post("/api/v1/bot/examples", json!({"text": more, "intent": "deposit_missing", "lang": "en"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let trained = admin.post("/api/v1/bot/train", json!({})).await;
    assert_eq!(trained.status, StatusCode::OK, "{}", trained.text);
    assert_eq!(trained.body["added_examples"], 4);
    assert_eq!(trained.body["intents"], 30);
    let after = admin.post("/api/v1/bot/classify", json!({"text": phrase})).await.body;
    assert_eq!(after["intent"], "deposit_missing", "before training it said {before}");
    let list = admin.get("/api/v1/bot/examples").await.body;
    assert_eq!(list["items"].as_array().unwrap().len(), 4);
    let id = e.body["id"].as_str().unwrap();
    assert_eq!(admin.delete(&format!("/api/v1/bot/examples/{id}")).await.status, StatusCode::NO_CONTENT);
    admin.delete(&format!("/api/v1/bot/examples/{id}")).await.assert_problem(404, "not_found");
    let audit = admin.get("/api/v1/audit?limit=50").await.body.to_string();
    for action in ["bot.example.added", "bot.example.deleted", "bot.trained"] {
        assert!(audit.contains(action), "{action} not audited");
    }
}

/// A local stand-in for an OpenAI-compatible API: records each request, answers with `reply`.
async fn fake_llm(reply: &'static str) -> (String, Arc<Mutex<Vec<Value>>>) {
    use axum::{Json, Router, routing::post};
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let log = seen.clone();
    let app = Router::new().route(
        "/v1/chat/completions",
        post(move |headers: axum::http::HeaderMap, Json(body): Json<Value>| {
            let log = log.clone();
            async move {
                assert_eq!(headers.get("authorization").and_then(|v| v.to_str().ok()), Some("Bearer test-key"));
                log.lock().unwrap().push(body);
                Json(json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "test-model",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/v1"), seen)
}

async fn with_llm(backend: Backend, url: String) -> Option<TestApp> {
    let mut opts = kefu_testkit::Options::default();
    opts.app.llm = Some(kefu_app::bot::llm::LlmConfig {
        url,
        model: "test-model".into(),
        key: Some("test-key".into()),
        timeout: Duration::from_secs(5),
    });
    spawn_app_with(backend, opts).await
}

async fn generated_answers_cite_articles_and_never_speak_for_the_account(backend: Backend) {
    // A grounded answer is relayed with its citation.
    let (url, seen) = fake_llm("Spot trades cost 0.1% per side; VIP tiers pay less [1].").await;
    let Some(t) = with_llm(backend, url).await else { return };
    let (admin, widget) = setup(&t).await;
    let mut s = admin.get("/api/v1/bot/settings").await.body;
    s["generated_answers"] = json!(true);
    assert_eq!(admin.put("/api/v1/bot/settings", s).await.status, StatusCode::OK);
    let mut w = Widget::open(&t, &widget, "en").await;
    w.say("how much are your trading fees?").await;
    let said = w.bot_until("[1] Trading fees and fee tiers").await;
    assert!(said.last().unwrap()["body"].as_str().unwrap().starts_with("Spot trades cost 0.1% per side"));
    let req = seen.lock().unwrap().first().cloned().expect("the model was asked");
    assert_eq!(req["model"], "test-model");
    let system = req["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("Never state") && system.contains("English"), "{system}");
    let user = req["messages"][1]["content"].as_str().unwrap();
    assert!(user.contains("[1] Trading fees and fee tiers") && user.contains("Maker and taker pay 0.1%"), "{user}");
    drop(t);

    // An answer that speaks for the customer's account is not relayed: the article's summary is.
    let (url, _) = fake_llm("Good news: your withdrawal has been approved and will arrive in 5 minutes [1].").await;
    let Some(t) = with_llm(backend, url).await else { return };
    let (admin, widget) = setup(&t).await;
    let mut s = admin.get("/api/v1/bot/settings").await.body;
    s["generated_answers"] = json!(true);
    admin.put("/api/v1/bot/settings", s).await;
    let mut w = Widget::open(&t, &widget, "en").await;
    w.say("how much are your trading fees?").await;
    let said = w.bot_until("Did this answer").await;
    let all: String = said.iter().map(|m| m["body"].as_str().unwrap().to_string()).collect();
    assert!(!all.contains("approved"), "{all}");
    assert!(all.contains("0.1% per side, less with a higher VIP tier"), "{all}");
}
