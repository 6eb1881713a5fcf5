//! The security shield end to end: secrets sent through the chat widget, the portal and the API
//! channel are redacted before anything is stored (database, search index, files, logs), the
//! customer is warned and the conversation flagged; links get verdicts; agents may not link to
//! unofficial domains; the official verification service answers anyone.

use futures_util::{SinkExt, StreamExt};
use kefu_testkit::{Backend, Client, StatusCode, spawn_app};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

both_backends!(secrets_are_redacted_on_every_channel_and_never_stored, links_are_judged_and_agents_keep_to_official_ones);

/// Valid BIP39 phrases (checksums hold) and keys in the formats the shield knows.
const PHRASE: &str = "boost catalog maple thumb smart post hidden virus liberty thumb title trash";
const PHRASE_ZH: &str = "斑封坦功横田买斤御讯晨两";
const WIF: &str = "L5aWUUvH7n19tDRTvy2patrxfmBVY8bKF6iyimGX58rM15QnrUfj";
const XPRV: &str = "xprv9s21ZrQH143K2yhivipft5V1Wh1cfukx824keU4THgWYkucfo4ugxMEx3xk9wQJANm3DmYPd5ETm7YcoE1zwtKBLm8X9LwpSq6c4x6nM44z";
const HEX_KEY: &str = "9f2b1638dd956c54860ea1264239319e0f946be52f0f4af762da7c72659238fe";
const API_SECRET: &str = "nbx_sk_Q2h8sT7vKp4LmN9xZr3WfY6bJd1cGa5E";

/// What must never be found anywhere: the secrets, or enough of a phrase to rebuild it.
const NEVER: &[&str] = &["catalog maple thumb", "斑封坦功横田", WIF, XPRV, HEX_KEY, API_SECRET];

async fn configure(admin: &Client) {
    let settings = json!({
        "official_domains": ["nebula.example"],
        "official_telegram": ["@NebulaExchange"],
        "official_phones": ["+1 800 555 0199"],
        "official_agent_ids": ["NBX-1001"],
        "allowed_link_domains": ["etherscan.io"],
        "secret_patterns": [{"name": "Nebula API secret", "pattern": r"\bnbx_sk_[A-Za-z0-9]{32}\b"}]
    });
    let r = admin.put("/api/v1/shield/settings", settings).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next(ws: &mut Ws) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("a frame within 10 s") {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(t.as_str()).unwrap(),
            Some(Ok(_)) => continue,
            other => panic!("socket ended: {other:?}"),
        }
    }
}

/// A visitor opens a chat with `body` in `language`; the conversation id and the frames that
/// followed until the shield's warning arrived.
async fn chat(base_ws: &str, widget: &str, language: &str, body: &str) -> (String, Vec<Value>) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{base_ws}/api/v1/chat/ws")).await.unwrap();
    let hello =
        json!({"type": "hello", "widget_id": widget, "visitor_key": format!("visitor-key-{}", ulid::Ulid::new()), "language": language});
    ws.send(Message::Text(hello.to_string().into())).await.unwrap();
    assert_eq!(next(&mut ws).await["type"], "welcome");
    ws.send(Message::Text(json!({"type": "send", "client_id": "c1", "body": body}).to_string().into())).await.unwrap();
    let mut conversation = String::new();
    let mut frames = Vec::new();
    loop {
        let f = next(&mut ws).await;
        if f["type"] == "ack" {
            conversation = f["conversation_id"].as_str().unwrap().to_string();
        }
        let warned = f["type"] == "message" && f["author_kind"] == "system";
        frames.push(f);
        if warned && !conversation.is_empty() {
            return (conversation, frames);
        }
    }
}

async fn timeline(c: &Client, id: &str) -> Vec<Value> {
    c.get(&format!("/api/v1/conversations/{id}/timeline")).await.body["items"].as_array().unwrap().clone()
}

fn first_customer_message(items: &[Value]) -> Value {
    items.iter().find(|i| i["type"] == "message" && i["author"]["kind"] == "customer").cloned().expect("a customer message")
}

/// Every file under `dir`, as bytes, must be free of the secrets.
fn assert_files_clean(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    let mut files = 0;
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let bytes = std::fs::read(&p).unwrap_or_default();
            files += 1;
            for s in NEVER {
                assert!(!contains(&bytes, s.as_bytes()), "{s:?} found in {}", p.display());
            }
        }
    }
    assert!(files > 0, "nothing under {}", dir.display());
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

async fn secrets_are_redacted_on_every_channel_and_never_stored(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let admin = t.signed_in("admin").await.0;
    configure(&admin).await;
    let widget = admin.get("/api/v1/settings/chat").await.body["widget_id"].as_str().unwrap().to_string();
    let ws_base = format!("ws://{}", t.addr);

    // Live chat, in Chinese: a run-together Chinese phrase after a cue.
    let (id, frames) = chat(&ws_base, &widget, "zh-CN", &format!("客服你好，我的助记词是{PHRASE_ZH}，钱包被盗了")).await;
    let warning = frames.iter().find(|f| f["author_kind"] == "system").unwrap();
    assert!(warning["body"].as_str().unwrap().contains("助记词"), "the warning is in the customer's language: {warning}");
    let items = timeline(&admin, &id).await;
    let m = first_customer_message(&items);
    assert_eq!(m["body"], "客服你好，我的助记词是[REDACTED: seed phrase]，钱包被盗了");
    assert_eq!(m["shield"]["redacted"], json!(["seed_phrase"]));
    let c = admin.get(&format!("/api/v1/conversations/{id}")).await.body;
    assert!(c["tags"].as_array().unwrap().contains(&json!("secret-shared")), "{c}");
    assert_eq!(c["priority"], "urgent");
    assert!(!c["subject"].as_str().unwrap().contains("斑封"), "the subject is made from what is left: {}", c["subject"]);
    let act = items.iter().find(|i| i["type"] == "activity" && i["kind"] == "secret_redacted").expect("the redaction on the timeline");
    assert_eq!(act["data"]["kinds"], json!(["seed_phrase"]));

    // Live chat, in English: a phrase on numbered lines and a WIF key.
    let numbered: Vec<String> = PHRASE.split(' ').enumerate().map(|(i, w)| format!("{}. {w}", i + 1)).collect();
    let body = format!("help, my wallet is empty!\n{}\nand the key {WIF}", numbered.join("\n"));
    let (id2, frames) = chat(&ws_base, &widget, "en", &body).await;
    assert!(frames.iter().any(|f| f["body"].as_str().is_some_and(|b| b.starts_with("Security warning"))));
    let m = first_customer_message(&timeline(&admin, &id2).await);
    let stored = m["body"].as_str().unwrap();
    assert!(stored.contains("[REDACTED: seed phrase]") && stored.contains("[REDACTED: private key]"), "{stored}");
    assert_eq!(m["shield"]["redacted"], json!(["seed_phrase", "wif_key"]));

    // The portal: a key in the subject, a hex key in the description, a phrase as a file name.
    let portal = t.client();
    let (subject, description, file_name) =
        (format!("stolen? {XPRV}"), format!("my private key is {HEX_KEY}, please check"), format!("{PHRASE}.txt"));
    let form = [
        ("name", "王小明"),
        ("email", "wang@example.com"),
        ("subject", subject.as_str()),
        ("description", description.as_str()),
        ("category", "security"),
    ];
    let files = vec![("files", file_name.as_str(), b"notes".to_vec())];
    let opened = portal.multipart("/api/v1/portal/tickets", &form, files, &[("x-kefu-portal", "1")]).await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    let pid = opened.body["ticket"]["id"].as_str().unwrap().to_string();
    let c = admin.get(&format!("/api/v1/conversations/{pid}")).await.body;
    assert_eq!(c["subject"], "stolen? [REDACTED: extended private key]");
    assert!(c["tags"].as_array().unwrap().contains(&json!("secret-shared")), "{c}");
    let m = first_customer_message(&timeline(&admin, &pid).await);
    assert_eq!(m["body"], "my private key is [REDACTED: private key], please check");
    // (File names lose their colons when stored.)
    assert_eq!(m["attachments"][0]["filename"], "[REDACTED seed phrase].txt", "{m}");

    // The API channel: an integration logs a customer's message with the exchange's API secret,
    // then a keystore file in a reply.
    let r = admin
        .post(
            "/api/v1/conversations",
            json!({"subject": "API help", "contact": {"name": "Li", "email": "li@example.com"},
                   "message": {"body": format!("my secret is {API_SECRET}"), "author": "customer"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let aid = r.body["conversation"]["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["message"]["body"], "my secret is [REDACTED: API secret]");
    let keystore = format!(
        r#"{{"version":3,"id":"1b7c","address":"a1b2","crypto":{{"ciphertext":"{HEX_KEY}","cipherparams":{{"iv":"00ff"}},"cipher":"aes-128-ctr","kdf":"scrypt","mac":"abcd"}}}}"#
    );
    let r = admin
        .post(&format!("/api/v1/conversations/{aid}/messages"), json!({"body": format!("here: {keystore}"), "author": "customer"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["body"], "here: [REDACTED: keystore file]");

    // Audited, kinds only.
    let audit = admin.get("/api/v1/audit?action=shield.secret_redacted").await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text);
    let records = audit.body["items"].as_array().unwrap();
    assert_eq!(records.len(), 5, "{}", audit.text);
    for s in NEVER {
        assert!(!audit.text.contains(s), "{s} in the audit log");
    }

    // Search finds the conversations by what is left, never by the secret.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let found = admin.get("/api/v1/search?q=catalog").await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    assert!(!found.text.contains(&id2), "{}", found.text);

    // Nothing anywhere: the data directory (SQLite, WAL, search index, files) and, on
    // PostgreSQL, every row of every table.
    let db = t.stop().await;
    assert_files_clean(&db.data_dir);
    if let Some(url) = db.url.clone() {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let tables: Vec<(String,)> = sqlx::query_as(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert!(tables.len() > 10);
        for (table,) in tables {
            let dump: (Option<String>,) =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT string_agg(t::text, ' ') FROM \"{table}\" t")))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            let dump = dump.0.unwrap_or_default();
            for s in NEVER {
                assert!(!dump.contains(s), "{s:?} found in table {table}");
            }
        }
        pool.close().await;
    }
}

async fn links_are_judged_and_agents_keep_to_official_ones(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let admin = t.signed_in("admin").await.0;
    let agent = t.signed_in("agent").await.0;

    // Settings: admins only, every field checked.
    agent.get("/api/v1/shield/settings").await.assert_problem(403, "forbidden");
    let bad = admin
        .put(
            "/api/v1/shield/settings",
            json!({"official_domains": ["not a domain"], "official_telegram": ["@x"], "secret_patterns": [{"name": "api", "pattern": "("}]}),
        )
        .await;
    bad.assert_problem(422, "validation_failed");
    let fields: Vec<&str> = bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["secret_patterns[0]", "official_domains", "official_telegram"]);
    admin.put("/api/v1/shield/settings", json!({"official_domains": ["x.io"], "colour": "red"})).await.assert_problem(422, "invalid_body");
    configure(&admin).await;
    let s = admin.get("/api/v1/shield/settings").await.body;
    assert_eq!(s["official_domains"], json!(["nebula.example"]));
    assert_eq!(s["domains_from_environment"], false);

    // A customer's links get verdicts the agent sees.
    let r = admin
        .post(
            "/api/v1/conversations",
            json!({"subject": "is this real?", "contact": {"name": "Li", "email": "li@example.com"},
                   "message": {"body": "got a mail from https://nebu1a.example/login and https://help.nebula.example and bit.ly/3xYz", "author": "customer"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["conversation"]["id"].as_str().unwrap().to_string();
    let links = r.body["message"]["shield"]["links"].as_array().unwrap().clone();
    let verdicts: Vec<(&str, &str)> = links.iter().map(|l| (l["host"].as_str().unwrap(), l["verdict"].as_str().unwrap())).collect();
    assert_eq!(verdicts, [("nebu1a.example", "lookalike"), ("help.nebula.example", "official"), ("bit.ly", "unknown")]);
    assert_eq!(links[0]["lookalike_of"], "nebula.example");
    assert_eq!(links[0]["reason"], "homoglyph");
    assert_eq!(links[2]["reason"], "shortener");

    // Agents may link customers to official and allowed domains only; notes are theirs.
    let say = |body: &'static str, private: bool| {
        let agent = &agent;
        let id = id.clone();
        async move { agent.post(&format!("/api/v1/conversations/{id}/messages"), json!({"body": body, "private": private})).await }
    };
    let blocked = say("please log in at https://nebula-example-login.io", false).await;
    blocked.assert_problem(422, "link_not_allowed");
    assert!(blocked.body["detail"].as_str().unwrap().contains("nebula-example-login.io"), "{}", blocked.text);
    assert_eq!(say("see https://help.nebula.example/articles/1", false).await.status, StatusCode::CREATED);
    assert_eq!(say("your tx: https://etherscan.io/tx/0xabc", false).await.status, StatusCode::CREATED);
    assert_eq!(say("customer was sent https://nebu1a.example", true).await.status, StatusCode::CREATED);
    let audit = admin.get("/api/v1/audit?action=shield.link_blocked").await.body;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(audit["items"][0]["details"]["host"], "nebula-example-login.io", "{audit}");

    // The verification service: anyone, no sign-in.
    let anyone = t.client();
    let v = anyone.get("/api/v1/verify?q=https%3A%2F%2Fnebu1a.example%2Flogin").await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text);
    assert_eq!(
        v.body,
        json!({"query": "https://nebu1a.example/login", "kind": "url", "verdict": "lookalike", "lookalike_of": "nebula.example", "reason": "homoglyph"})
    );
    let v = anyone.get("/api/v1/verify?q=%40nebulaexchange").await.body;
    assert_eq!((v["kind"].as_str(), v["verdict"].as_str()), (Some("telegram"), Some("official")));
    let v = anyone.get("/api/v1/verify?q=NBX-1001").await.body;
    assert_eq!((v["kind"].as_str(), v["verdict"].as_str()), (Some("agent_id"), Some("official")));
    let v = anyone.get("/api/v1/verify?q=%2B1%20(800)%20555-0199").await.body;
    assert_eq!((v["kind"].as_str(), v["verdict"].as_str()), (Some("phone"), Some("official")));
    anyone.get("/api/v1/verify").await.assert_problem(400, "invalid_query");
    anyone.get("/api/v1/verify?q=hello%20there").await.assert_problem(422, "validation_failed");

    // The help center's verification page, without JavaScript.
    let page = anyone.get("/help/en/verify?q=nebula-examp1e.com").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains(r#"data-verdict="lookalike""#) && page.text.contains("imitates nebula.example"), "{}", page.text);
    let page = anyone.get("/help/zh-CN/verify?q=%40NebulaExchange").await;
    assert!(page.text.contains(r#"data-verdict="official""#) && page.text.contains("官方渠道"), "{}", page.text);
    assert_eq!(anyone.get("/help/en/verify?q=hello%20there").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    t.shutdown().await;
}

/// The log of a real `kefu serve` at debug level, and its data directory, after chats and API
/// calls carrying secrets: neither holds any of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_out_of_the_logs() {
    let Some(db) = kefu_testkit::TestDb::new(Backend::Sqlite).await else { return };
    let log_path = db.data_dir.with_extension("log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kefu"));
    for (k, _) in std::env::vars() {
        if k.starts_with("KEFU_") {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .args(db.cli_args())
        .env("KEFU_LOG", "debug")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let base = loop {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        if let Some(line) = BufReader::new(text.as_bytes()).lines().map_while(Result::ok).find(|l| l.starts_with("kefu listening on ")) {
            break line["kefu listening on ".len()..].split_whitespace().next().unwrap().to_string();
        }
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("server did not start: {text}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let admin = Client::new(&base);
    let (status, body) = admin.login("admin@nebula-ex.com", kefu_app::demo::DEMO_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let widget = admin.get("/api/v1/settings/chat").await.body["widget_id"].as_str().unwrap().to_string();
    let ws_base = base.replacen("http", "ws", 1);
    chat(&ws_base, &widget, "en", &format!("{PHRASE} is my phrase and {WIF}")).await;
    chat(&ws_base, &widget, "zh-CN", &format!("助记词：{PHRASE_ZH}")).await;
    let r = admin
        .post(
            "/api/v1/conversations",
            json!({"subject": format!("key {XPRV}"), "contact": {"name": "Li", "email": "li@example.com"},
                   "message": {"body": format!("{HEX_KEY} {API_SECRET}"), "author": "customer"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // A bad request echoing the secret is refused without writing it down.
    admin.post("/api/v1/conversations", json!({"subject": PHRASE, "colour": PHRASE})).await.assert_problem(422, "invalid_body");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("kefu did not stop");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let logged = std::fs::read(&log_path).unwrap();
    assert!(logged.len() > 1000, "debug logging wrote little: {}", String::from_utf8_lossy(&logged));
    for s in NEVER {
        assert!(!contains(&logged, s.as_bytes()), "{s:?} found in the log");
    }
    assert_files_clean(&db.data_dir);
    let _ = std::fs::remove_file(&log_path);
}
