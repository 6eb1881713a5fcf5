//! Live chat over real WebSocket connections: acknowledgements only after the message is
//! stored, resume after a dropped connection with nothing lost or repeated, the rate limit, the
//! exchange's signed identity (HMAC, HS256 and ES256 tokens) and what a visitor may not see.

use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use kefu_testkit::{Backend, Client, StatusCode, TestApp, spawn_app};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

both_backends!(
    messages_are_acknowledged_once_stored_and_resume_misses_nothing,
    a_flood_is_throttled_and_the_connection_stays_usable,
    the_exchange_signs_identities_and_wrong_ones_are_refused,
    a_visitor_sees_only_their_own_chats,
    a_visitor_sends_files_and_rates_the_resolved_chat,
    the_queue_and_availability_tell_the_visitor_what_to_expect,
    agents_follow_and_answer_over_their_websocket,
);

type Stream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One widget connection.
pub(crate) struct Ws(Stream);

impl Ws {
    pub(crate) async fn open(t: &TestApp) -> Ws {
        let url = format!("ws://{}/api/v1/chat/ws", t.addr);
        let (s, _) = tokio_tungstenite::connect_async(url).await.expect("connect");
        Ws(s)
    }

    /// Connects and says hello; answers the first frame back.
    pub(crate) async fn hello(t: &TestApp, hello: Value) -> (Ws, Value) {
        let mut ws = Ws::open(t).await;
        ws.send(hello).await;
        let first = ws.next().await;
        (ws, first)
    }

    pub(crate) async fn send(&mut self, v: Value) {
        self.0.send(Message::Text(v.to_string().into())).await.expect("send");
    }

    /// The next JSON frame (pings are answered by the library and skipped here).
    pub(crate) async fn next(&mut self) -> Value {
        loop {
            let m = tokio::time::timeout(Duration::from_secs(10), self.0.next()).await.expect("a frame within 10 s");
            match m {
                Some(Ok(Message::Text(t))) => return serde_json::from_str(t.as_str()).expect("JSON frame"),
                Some(Ok(Message::Close(c))) => return json!({"type": "closed", "code": c.map(|c| u16::from(c.code))}),
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => return json!({"type": "closed"}),
            }
        }
    }

    /// The next frame of this type; fails on any other in between.
    pub(crate) async fn expect(&mut self, kind: &str) -> Value {
        let f = self.next().await;
        assert_eq!(f["type"], kind, "expected {kind}, got {f}");
        f
    }

    /// Nothing arrives for a moment.
    async fn quiet(&mut self) {
        if let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(Duration::from_millis(400), self.0.next()).await {
            panic!("expected no frame, got {t}");
        }
    }
}

pub(crate) async fn widget_id(t: &TestApp, admin: &Client) -> String {
    let s = admin.get("/api/v1/settings/chat").await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    let id = s.body["widget_id"].as_str().unwrap().to_string();
    let public = t.client().get(&format!("/api/v1/chat/widget/{id}")).await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.text);
    assert!(public.body["topics"].as_array().unwrap().iter().any(|v| v == "withdrawal"));
    t.client().get("/api/v1/chat/widget/nope").await.assert_problem(404, "not_found");
    id
}

pub(crate) async fn admin(t: &TestApp) -> Client {
    t.relax_two_factor().await;
    t.signed_in("admin").await.0
}

fn key() -> String {
    format!("visitor-key-{}", ulid::Ulid::new())
}

async fn messages(agent: &Client, conversation_id: &str) -> Vec<Value> {
    let r = agent.get(&format!("/api/v1/conversations/{conversation_id}/timeline")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["items"].as_array().unwrap().iter().filter(|i| i["type"] == "message").cloned().collect()
}

async fn messages_are_acknowledged_once_stored_and_resume_misses_nothing(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let agent = admin(&t).await;
    let widget = widget_id(&t, &agent).await;
    let visitor = key();
    let hello = json!({"type": "hello", "widget_id": widget, "visitor_key": visitor, "language": "zh-CN"});
    let (mut ws, welcome) = Ws::hello(&t, hello.clone()).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert_eq!(welcome["verified"], false);
    assert_eq!(welcome["conversations"], json!([]));

    // The first message starts a chat; the ack comes once it is stored.
    ws.send(json!({"type": "send", "client_id": "c-1", "body": "USDT 提币 3 小时未到账",
        "prechat": {"name": "小王", "email": "wang@example.com", "topic": "withdrawal"}}))
        .await;
    let ack = ws.expect("ack").await;
    assert_eq!(ack["client_id"], "c-1");
    assert_eq!(ack["seq"], 1);
    assert_eq!(ack["replayed"], false);
    let conv_id = ack["conversation_id"].as_str().unwrap().to_string();
    let stored = messages(&agent, &conv_id).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"], ack["message_id"], "acknowledged means stored");
    let conv = agent.get(&format!("/api/v1/conversations/{conv_id}")).await.body;
    assert_eq!(conv["channel"], "chat");
    assert_eq!(conv["verified_identity"], false, "an anonymous visitor is marked unverified");
    assert_eq!(conv["contact_name"], "小王");
    assert_eq!(conv["tags"], json!(["withdrawal"]));
    let convo = ws.expect("conversation").await;
    assert_eq!(convo["id"], conv_id.as_str());
    assert_eq!(ws.expect("resumed").await["last_seq"], 1);

    // An agent's reply arrives live; a note does not.
    agent.post(&format!("/api/v1/conversations/{conv_id}/messages"), json!({"body": "internal", "private": true})).await;
    agent.post(&format!("/api/v1/conversations/{conv_id}/messages"), json!({"body": "正在为您查询"})).await;
    let live = ws.expect("message").await;
    assert_eq!(live["body"], "正在为您查询");
    assert_eq!(live["seq"], 3, "seq counts notes too");
    assert_eq!(live["author_kind"], "agent");
    ws.send(json!({"type": "read", "conversation_id": conv_id, "seq": 3})).await;
    ws.send(json!({"type": "send", "client_id": "c-2", "conversation_id": conv_id, "body": "好的"})).await;
    assert_eq!(ws.expect("ack").await["seq"], 4);
    ws.quiet().await;
    let conv = agent.get(&format!("/api/v1/conversations/{conv_id}")).await.body;
    assert_eq!(conv["customer_read_seq"], 3);

    // The connection drops; meanwhile two replies and a note are written.
    drop(ws);
    for body in ["第一条", "第二条"] {
        agent.post(&format!("/api/v1/conversations/{conv_id}/messages"), json!({"body": body})).await;
    }
    agent.post(&format!("/api/v1/conversations/{conv_id}/messages"), json!({"body": "note", "private": true})).await;
    let (mut ws, welcome) = Ws::hello(&t, hello.clone()).await;
    assert_eq!(welcome["conversations"][0]["id"], conv_id.as_str(), "the visitor's key brings the chat back");
    ws.send(json!({"type": "resume", "conversation_id": conv_id, "after_seq": 4})).await;
    let missed: Vec<Value> = vec![ws.expect("message").await, ws.expect("message").await];
    assert_eq!(missed.iter().map(|m| m["body"].as_str().unwrap()).collect::<Vec<_>>(), vec!["第一条", "第二条"]);
    assert_eq!(ws.expect("resumed").await["last_seq"], 7);
    // Live again after the resume: the next reply comes once.
    agent.post(&format!("/api/v1/conversations/{conv_id}/messages"), json!({"body": "第三条"})).await;
    assert_eq!(ws.expect("message").await["seq"], 8);
    ws.quiet().await;

    // A retried send (the ack was lost) is answered with what was stored, not stored twice;
    // so is a retried first message that never learnt its conversation.
    ws.send(json!({"type": "send", "client_id": "c-2", "conversation_id": conv_id, "body": "好的"})).await;
    let again = ws.expect("ack").await;
    assert_eq!((again["seq"].as_i64(), again["replayed"].as_bool()), (Some(4), Some(true)));
    ws.send(json!({"type": "send", "client_id": "c-1", "body": "USDT 提币 3 小时未到账"})).await;
    let again = ws.expect("ack").await;
    assert_eq!(again["conversation_id"], conv_id.as_str());
    assert_eq!(again["replayed"], true);
    assert_eq!(messages(&agent, &conv_id).await.len(), 8, "no duplicate was stored");

    // Frames that are not the protocol's get an error; the connection stays.
    ws.send(json!({"type": "dance"})).await;
    assert_eq!(ws.expect("error").await["code"], "invalid_frame");
    ws.send(json!({"type": "send", "client_id": "c-3", "conversation_id": conv_id, "body": ""})).await;
    let e = ws.expect("error").await;
    assert_eq!((e["code"].as_str(), e["client_id"].as_str()), (Some("validation_failed"), Some("c-3")));
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;

    // A connection must begin with hello.
    let mut raw = Ws::open(&t).await;
    raw.send(json!({"type": "ping"})).await;
    assert_eq!(raw.expect("error").await["code"], "hello_required");
    assert_eq!(raw.expect("closed").await["code"], 1008);
    t.shutdown().await;
}

async fn a_flood_is_throttled_and_the_connection_stays_usable(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let agent = admin(&t).await;
    let widget = widget_id(&t, &agent).await;
    let (mut ws, _) = Ws::hello(&t, json!({"type": "hello", "widget_id": widget, "visitor_key": key()})).await;
    ws.send(json!({"type": "send", "client_id": "f-0", "body": "hello"})).await;
    let conv_id = ws.expect("ack").await["conversation_id"].as_str().unwrap().to_string();
    ws.expect("conversation").await;
    ws.expect("resumed").await;
    for i in 1..=15 {
        ws.send(json!({"type": "send", "client_id": format!("f-{i}"), "conversation_id": conv_id, "body": format!("flood {i}")})).await;
    }
    let (mut acked, mut limited, mut wait) = (0, Vec::new(), 0);
    for _ in 1..=15 {
        let f = ws.next().await;
        match f["type"].as_str() {
            Some("ack") => acked += 1,
            Some("error") => {
                assert_eq!(f["code"], "rate_limited", "{f}");
                wait = f["retry_after_ms"].as_u64().unwrap();
                limited.push(f["client_id"].as_str().unwrap().to_string());
            }
            _ => panic!("unexpected {f}"),
        }
    }
    assert!((9..=11).contains(&acked), "a burst of about 10 goes through, got {acked}");
    assert!(!limited.is_empty() && wait > 0);
    assert_eq!(messages(&agent, &conv_id).await.len(), 1 + acked, "throttled messages are not stored");
    // Still usable; after the wait the throttled message goes through.
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;
    tokio::time::sleep(Duration::from_millis(wait + 50)).await;
    ws.send(json!({"type": "send", "client_id": limited[0], "conversation_id": conv_id, "body": "later"})).await;
    assert_eq!(ws.expect("ack").await["replayed"], false);
    t.shutdown().await;
}

pub(crate) fn hmac_hex(secret: &str, user_id: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub(crate) fn jwt(alg: jsonwebtoken::Algorithm, key: &jsonwebtoken::EncodingKey, claims: Value) -> String {
    jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), &claims, key).unwrap()
}

/// A P-256 key pair: the private key for signing, the public key as PEM for Kefu.
fn es256_keys() -> (jsonwebtoken::EncodingKey, String) {
    use base64::Engine;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    // SubjectPublicKeyInfo for an uncompressed P-256 point.
    let mut spki = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
    spki.extend_from_slice(pair.public_key().as_ref());
    let b64 = base64::engine::general_purpose::STANDARD.encode(&spki);
    let pem = format!("-----BEGIN PUBLIC KEY-----\n{}\n{}\n-----END PUBLIC KEY-----\n", &b64[..64], &b64[64..]);
    (jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()), pem)
}

async fn the_exchange_signs_identities_and_wrong_ones_are_refused(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let admin = admin(&t).await;
    let widget = widget_id(&t, &admin).await;
    let secret = "chat-identity-secret-0123456789";
    let now = chrono::Utc::now().timestamp();
    let hs = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    let refused = |hello: Value| {
        let t = &t;
        async move {
            let (mut ws, first) = Ws::hello(t, hello).await;
            assert_eq!(first["type"], "error", "{first}");
            assert_eq!(ws.expect("closed").await["code"], 1008);
            first["code"].as_str().unwrap().to_string()
        }
    };
    let signed = |identity: Value| json!({"type": "hello", "widget_id": widget, "identity": identity});

    // No secret yet: nothing can be verified, and a signature is never taken as anonymous.
    let hash = json!({"user_id": "U-1", "user_hash": hmac_hex(secret, "U-1"), "name": "王大户"});
    assert_eq!(refused(signed(hash.clone())).await, "invalid_signature");
    admin.put("/api/v1/settings/portal", json!({"identity_secret": secret})).await;
    assert_eq!(
        refused(signed(json!({"user_id": "U-1", "user_hash": hmac_hex("another-secret-0000000", "U-1")}))).await,
        "invalid_signature"
    );
    assert_eq!(refused(signed(json!({"user_id": "U-2", "user_hash": hmac_hex(secret, "U-1")}))).await, "invalid_signature");
    let expired = jwt(jsonwebtoken::Algorithm::HS256, &hs, json!({"sub": "U-1", "exp": now - 600}));
    assert_eq!(refused(signed(json!({"token": expired}))).await, "identity_expired");
    let long = jwt(jsonwebtoken::Algorithm::HS256, &hs, json!({"sub": "U-1", "exp": now + 30 * 86_400}));
    assert_eq!(refused(signed(json!({"token": long}))).await, "invalid_signature", "identity tokens are short-lived");
    let hs512 = jwt(jsonwebtoken::Algorithm::HS512, &hs, json!({"sub": "U-1", "exp": now + 600}));
    assert_eq!(refused(signed(json!({"token": hs512}))).await, "invalid_signature");
    assert_eq!(refused(signed(json!({"token": "not.a.jwt"}))).await, "invalid_signature");
    assert_eq!(refused(json!({"type": "hello", "widget_id": "nope", "visitor_key": key()})).await, "not_found");
    assert_eq!(refused(json!({"type": "hello", "widget_id": widget, "visitor_key": "short"})).await, "validation_failed");

    // A valid HMAC identity: verified, and the chat is marked so for agents.
    let (mut ws, welcome) = Ws::hello(&t, signed(hash.clone())).await;
    assert_eq!((welcome["verified"].as_bool(), welcome["name"].as_str()), (Some(true), Some("王大户")), "{welcome}");
    ws.send(json!({"type": "send", "client_id": "v-1", "body": "账户被冻结"})).await;
    let conv_id = ws.expect("ack").await["conversation_id"].as_str().unwrap().to_string();
    let conv = admin.get(&format!("/api/v1/conversations/{conv_id}")).await.body;
    assert_eq!(conv["verified_identity"], true);
    let contact_id = conv["contact_id"].as_str().unwrap().to_string();

    // An HS256 token for the same user lands on the same contact and sees the same chat;
    // its VIP tier and language reach the contact.
    let token = jwt(jsonwebtoken::Algorithm::HS256, &hs, json!({"sub": "U-1", "exp": now + 600, "vip_tier": 3, "language": "zh-TW"}));
    let (_ws2, welcome) = Ws::hello(&t, signed(json!({"token": token}))).await;
    assert_eq!(welcome["conversations"][0]["id"], conv_id.as_str(), "{welcome}");
    let contact = admin.get(&format!("/api/v1/contacts/{contact_id}")).await.body;
    assert_eq!((contact["vip_tier"].as_i64(), contact["language"].as_str()), (Some(3), Some("zh-TW")), "{contact}");

    // ES256: refused until the public key is set, then accepted.
    let (private, pem) = es256_keys();
    let es = jwt(jsonwebtoken::Algorithm::ES256, &private, json!({"sub": "U-9", "exp": now + 600, "name": "Eve"}));
    assert_eq!(refused(signed(json!({"token": es.clone()}))).await, "invalid_signature");
    admin.put("/api/v1/settings/chat", json!({"jwt_public_key": "not a key"})).await.assert_problem(422, "validation_failed");
    let set = admin.put("/api/v1/settings/chat", json!({"jwt_public_key": pem, "greeting": {"en": "Hi!"}, "prechat_form": true})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.body["widget_id"], widget.as_str(), "the widget id stays");
    let (_ws3, welcome) = Ws::hello(&t, signed(json!({"token": es}))).await;
    assert_eq!((welcome["verified"].as_bool(), welcome["name"].as_str()), (Some(true), Some("Eve")), "{welcome}");
    t.shutdown().await;
}

async fn a_visitor_sees_only_their_own_chats(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let admin = admin(&t).await;
    let widget = widget_id(&t, &admin).await;
    let secret = "chat-identity-secret-0123456789";
    admin.put("/api/v1/settings/portal", json!({"identity_secret": secret})).await;
    let (mut alice, _) = Ws::hello(&t, json!({"type": "hello", "widget_id": widget, "visitor_key": key()})).await;
    alice.send(json!({"type": "send", "client_id": "a-1", "body": "alice's secret withdrawal"})).await;
    let alices = alice.expect("ack").await["conversation_id"].as_str().unwrap().to_string();
    let (mut vip, _) = Ws::hello(
        &t,
        json!({"type": "hello", "widget_id": widget, "identity": {"user_id": "U-7", "user_hash": hmac_hex(secret, "U-7"), "email": "vip@example.com"}}),
    )
    .await;
    vip.send(json!({"type": "send", "client_id": "v-1", "body": "vip history"})).await;
    let vips = vip.expect("ack").await["conversation_id"].as_str().unwrap().to_string();

    // Another visitor, even one who claims the VIP's e-mail, opens neither.
    let (mut mallory, welcome) = Ws::hello(&t, json!({"type": "hello", "widget_id": widget, "visitor_key": key()})).await;
    assert_eq!(welcome["conversations"], json!([]));
    for id in [&alices, &vips] {
        mallory.send(json!({"type": "resume", "conversation_id": id, "after_seq": 0})).await;
        assert_eq!(mallory.expect("error").await["code"], "not_found");
        mallory.send(json!({"type": "send", "client_id": "m-1", "conversation_id": id, "body": "let me in"})).await;
        assert_eq!(mallory.expect("error").await["code"], "not_found");
        mallory.send(json!({"type": "typing", "conversation_id": id, "typing": true})).await;
        assert_eq!(mallory.expect("error").await["code"], "not_joined");
    }
    mallory.send(json!({"type": "send", "client_id": "m-2", "body": "I am the VIP", "prechat": {"email": "vip@example.com"}})).await;
    let mine = mallory.expect("ack").await["conversation_id"].as_str().unwrap().to_string();
    let conv = admin.get(&format!("/api/v1/conversations/{mine}")).await.body;
    assert_eq!(conv["verified_identity"], false);
    let vip_conv = admin.get(&format!("/api/v1/conversations/{vips}")).await.body;
    assert_ne!(conv["contact_id"], vip_conv["contact_id"], "a typed e-mail never joins a visitor to a verified contact");
    // Agent replies to Alice reach Alice only.
    admin.post(&format!("/api/v1/conversations/{alices}/messages"), json!({"body": "for alice"})).await;
    alice.expect("conversation").await;
    alice.expect("resumed").await;
    assert_eq!(alice.expect("message").await["body"], "for alice");
    mallory.expect("conversation").await;
    mallory.expect("resumed").await;
    mallory.quiet().await;
    vip.expect("conversation").await;
    vip.expect("resumed").await;
    vip.quiet().await;
    t.shutdown().await;
}

async fn a_visitor_sends_files_and_rates_the_resolved_chat(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let agent = admin(&t).await;
    let widget = widget_id(&t, &agent).await;
    let visitor = key();
    let hello = json!({"widget_id": widget, "visitor_key": visitor});
    let anyone = t.client();
    let upload = |hello: String, name: &'static str, bytes: Vec<u8>| {
        let c = anyone.clone();
        async move { c.multipart("/api/v1/chat/attachments", &[("hello", &hello)], vec![("file", name, bytes)], &[]).await }
    };

    // Who uploads is proved as on the socket; bad input is refused with a clear problem.
    upload("{not json".into(), "x.png", crate::attachments::png(4, 4)).await.assert_problem(422, "validation_failed");
    upload(json!({"widget_id": "nope", "visitor_key": visitor}).to_string(), "x.png", crate::attachments::png(4, 4))
        .await
        .assert_problem(404, "not_found");
    let no_file = anyone.multipart("/api/v1/chat/attachments", &[("hello", &hello.to_string())], vec![], &[]).await;
    no_file.assert_problem(422, "validation_failed");
    let up = upload(hello.to_string(), "转账截图.png", crate::attachments::png(640, 400)).await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text);
    assert_eq!((up.body["content_type"].as_str(), up.body["inline"].as_bool()), (Some("image/png"), Some(true)));
    let att = up.body["id"].as_str().unwrap().to_string();

    // Someone else cannot send it; its uploader can, with no text.
    let (mut other, _) = Ws::hello(&t, json!({"type": "hello", "widget_id": widget, "visitor_key": key()})).await;
    other.send(json!({"type": "send", "client_id": "o-1", "body": "", "attachment_ids": [att]})).await;
    assert_eq!(other.expect("error").await["code"], "validation_failed");
    let (mut ws, welcome) = Ws::hello(&t, json!({"type": "hello", "widget_id": widget, "visitor_key": visitor})).await;
    assert_eq!(welcome["type"], "welcome");
    ws.send(json!({"type": "send", "client_id": "p-0", "body": ""})).await;
    assert_eq!(ws.expect("error").await["code"], "validation_failed", "an empty message without files");
    ws.send(json!({"type": "send", "client_id": "p-1", "body": "", "attachment_ids": [att]})).await;
    let ack = ws.expect("ack").await;
    let cid = ack["conversation_id"].as_str().unwrap().to_string();
    let convo = ws.expect("conversation").await;
    assert_eq!(convo["subject"], "转账截图.png", "a chat started with a file is named after it");
    assert_eq!(convo["rating"], Value::Null);
    ws.expect("resumed").await;
    let stored = messages(&agent, &cid).await;
    assert_eq!(stored[0]["attachments"][0]["id"], att.as_str(), "the agent sees the file");

    // The visitor reads files through signed URLs; a changed signature finds nothing.
    ws.send(json!({"type": "resume", "conversation_id": cid, "after_seq": 0})).await;
    let m = ws.expect("message").await;
    let url = m["attachments"][0]["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("/api/v1/chat/attachments/{att}?exp=")), "{url}");
    let file = anyone.get(&url).await;
    assert_eq!((file.status, file.header("content-type")), (StatusCode::OK, "image/png"));
    let (path, query) = url.split_once('?').unwrap();
    let thumb = anyone.get(&format!("{path}/thumbnail?{query}")).await;
    assert_eq!(thumb.status, StatusCode::OK, "the same signature opens the thumbnail");
    assert!(thumb.header("content-type").starts_with("image/"), "{}", thumb.header("content-type"));
    assert_eq!(up.header("access-control-allow-origin"), "*", "the widget uploads from the exchange's own origin");
    let tampered = format!("{}{}", &url[..url.len() - 1], if url.ends_with('0') { '1' } else { '0' });
    anyone.get(&tampered).await.assert_problem(404, "not_found");
    anyone.get(&format!("{path}?exp=1&sig=00")).await.assert_problem(404, "not_found");
    assert_eq!(anyone.get(&format!("/api/v1/chat/attachments/{att}")).await.status.as_u16(), 400, "no signature at all");
    ws.expect("resumed").await;

    // Rating: only once resolved; 1 to 5; a second rating replaces the first.
    ws.send(json!({"type": "rate", "conversation_id": cid, "score": 5})).await;
    assert_eq!(ws.expect("error").await["code"], "not_resolved");
    let resolved = agent.patch(&format!("/api/v1/conversations/{cid}"), json!({"status": "resolved"})).await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text);
    let version = resolved.body["version"].clone();
    assert_eq!(ws.expect("conversation").await["status"], "resolved");
    ws.send(json!({"type": "rate", "conversation_id": cid, "score": 6})).await;
    assert_eq!(ws.expect("error").await["code"], "validation_failed");
    ws.send(json!({"type": "rate", "conversation_id": cid, "score": 2, "comment": "慢"})).await;
    assert_eq!(ws.expect("rated").await["score"], 2);
    assert_eq!(ws.expect("conversation").await["rating"], json!({"score": 2, "comment": "慢"}));
    ws.send(json!({"type": "rate", "conversation_id": cid, "score": 5, "comment": "  很快，谢谢  "})).await;
    let rated = ws.expect("rated").await;
    assert_eq!((rated["score"].as_i64(), rated["comment"].as_str()), (Some(5), Some("很快，谢谢")));
    other.send(json!({"type": "rate", "conversation_id": cid, "score": 1})).await;
    assert_eq!(other.expect("error").await["code"], "not_found", "only the chat's own visitor rates it");
    let conv = agent.get(&format!("/api/v1/conversations/{cid}")).await.body;
    assert_eq!((conv["rating"]["score"].as_i64(), conv["rating"]["comment"].as_str()), (Some(5), Some("很快，谢谢")));
    assert_eq!(conv["version"], version, "a rating does not make an agent's edit stale");
    let timeline = agent.get(&format!("/api/v1/conversations/{cid}/timeline")).await.body;
    let rated: Vec<&Value> = timeline["items"].as_array().unwrap().iter().filter(|i| i["kind"] == "rated").collect();
    assert_eq!(rated.len(), 2, "each rating is on the timeline: {timeline}");
    t.shutdown().await;
}

async fn the_queue_and_availability_tell_the_visitor_what_to_expect(backend: Backend) {
    use chrono::{Datelike, Timelike};
    let Some(t) = spawn_app(backend).await else { return };
    let agent = admin(&t).await;
    let widget = widget_id(&t, &agent).await;
    let config = |t: &TestApp| {
        let c = t.client();
        let w = widget.clone();
        async move { c.get(&format!("/api/v1/chat/widget/{w}")).await.body }
    };
    let public = t.client().get(&format!("/api/v1/chat/widget/{widget}")).await;
    assert_eq!(public.header("access-control-allow-origin"), "*", "the widget reads it from the exchange's own origin");
    assert_eq!(config(&t).await["online"], false, "no agent has the console open");
    assert_eq!(config(&t).await["reply_within_hours"], 12);

    // An agent's live feed open: someone is there.
    let feed = agent.http.get(format!("{}/api/v1/events", agent.base)).send().await.unwrap();
    assert_eq!(feed.status(), 200);
    assert_eq!(config(&t).await["online"], true);

    // Two chats wait; the first in line is first.
    let (mut first, _) = Ws::hello(&t, json!({"type": "hello", "widget_id": widget, "visitor_key": key()})).await;
    first.send(json!({"type": "send", "client_id": "q-1", "body": "在吗"})).await;
    let cid = first.expect("ack").await["conversation_id"].as_str().unwrap().to_string();
    let c1 = first.expect("conversation").await;
    assert_eq!(c1["queue"], json!({"position": 1, "estimated_wait_secs": null}), "no history to estimate from yet");
    first.expect("resumed").await;
    let second_key = key();
    let (mut second, _) = Ws::hello(&t, json!({"type": "hello", "widget_id": widget, "visitor_key": second_key})).await;
    second.send(json!({"type": "send", "client_id": "q-2", "body": "hello?"})).await;
    second.expect("ack").await;
    assert_eq!(second.expect("conversation").await["queue"]["position"], 2);

    // An agent takes the first: it leaves the queue and learns who answers; the second moves up.
    let me = agent.get("/api/v1/auth/session").await.body["agent"]["id"].as_str().unwrap().to_string();
    let taken = agent.patch(&format!("/api/v1/conversations/{cid}"), json!({"assignee_id": me})).await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.text);
    let c1 = first.expect("conversation").await;
    assert_eq!((c1["queue"].clone(), c1["agent_name"].is_string()), (Value::Null, true), "{c1}");
    let (_, again) = Ws::hello(&t, json!({"type": "hello", "widget_id": widget, "visitor_key": second_key})).await;
    assert_eq!(again["conversations"][0]["queue"]["position"], 1);
    // With a first reply on record, the wait is estimated.
    agent.post(&format!("/api/v1/conversations/{cid}/messages"), json!({"body": "您好"})).await;
    let (_, again) = Ws::hello(&t, json!({"type": "hello", "widget_id": widget, "visitor_key": second_key})).await;
    assert!(again["conversations"][0]["queue"]["estimated_wait_secs"].as_i64().is_some_and(|s| s >= 1), "{again}");

    // Business hours: bad ones are refused field by field.
    let bad = agent
        .put(
            "/api/v1/settings/chat",
            json!({"business_hours": {"utc_offset": "+25:00", "days": {"mon": {"open": "18:00", "close": "09:00"}, "xyz": {"open": "09:00", "close": "10:00"}}},
                "reply_within_hours": 0}),
        )
        .await;
    bad.assert_problem(422, "validation_failed");
    let fields: Vec<&str> = bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for f in ["business_hours.utc_offset", "business_hours.days.mon", "business_hours.days", "reply_within_hours"] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    // Open only tomorrow (UTC), 09:00 to 17:00: offline now, and the widget says when.
    let now = chrono::Utc::now();
    let tomorrow = now + chrono::Duration::days(1);
    let day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][tomorrow.weekday().num_days_from_monday() as usize];
    let ok = agent
        .put(
            "/api/v1/settings/chat",
            json!({"business_hours": {"utc_offset": "+00:00", "days": {day: {"open": "09:00", "close": "17:00"}}},
                "offline_message": {"en": "We are away", "zh-CN": "  "}, "reply_within_hours": 24}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.body["widget_id"], widget.as_str(), "the widget id stays");
    let c = config(&t).await;
    assert_eq!(c["online"], false, "outside business hours even with an agent there");
    let expected = tomorrow.date_naive().and_hms_opt(9, 0, 0).unwrap().and_utc();
    assert_eq!(c["next_open_at"].as_str().map(|s| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap()), Some(expected), "{c}");
    assert_eq!(c["offline_message"], json!({"en": "We are away"}));
    assert_eq!(c["reply_within_hours"], 24);
    // Open around the clock today: online again.
    let today = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][now.weekday().num_days_from_monday() as usize];
    let all_day = agent
        .put(
            "/api/v1/settings/chat",
            json!({"business_hours": {"utc_offset": "+00:00", "days": {today: {"open": "00:00", "close": "24:00"}}}}),
        )
        .await;
    assert_eq!(all_day.status, StatusCode::OK, "{}", all_day.text);
    if now.hour() < 23 || now.minute() < 59 {
        assert_eq!(config(&t).await["online"], true);
    }
    // The agent closes the console: nobody is there.
    drop(feed);
    let mut gone = false;
    for _ in 0..50 {
        if config(&t).await["online"] == false {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "an agent whose console closed is no longer online");

    // Only demo mode signs a demo identity.
    t.client().get("/api/v1/chat/demo-identity").await.assert_problem(404, "not_found");
    t.shutdown().await;
}

/// Opens the agents' socket with these extra headers; the handshake's HTTP status on refusal.
async fn agent_socket(t: &TestApp, headers: &[(&str, &str)]) -> Result<Ws, u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{}/api/v1/agent/ws", t.addr).into_client_request().expect("request");
    for (k, v) in headers {
        req.headers_mut()
            .insert(tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes()).expect("name"), v.parse().expect("value"));
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((s, _)) => Ok(Ws(s)),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

impl Ws {
    /// The next frame of this type, skipping others.
    async fn until(&mut self, kind: &str) -> Value {
        loop {
            let f = self.next().await;
            if f["type"] == kind {
                return f;
            }
            assert_ne!(f["type"], "closed", "closed while waiting for {kind}");
        }
    }
}

async fn agents_follow_and_answer_over_their_websocket(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let agent = admin(&t).await;
    let widget = widget_id(&t, &agent).await;
    let token = |scopes: Value| {
        let agent = agent.clone();
        async move {
            let r = agent.post("/api/v1/me/tokens", json!({"name": "socket", "scopes": scopes})).await;
            format!("Bearer {}", r.body["secret"].as_str().unwrap())
        }
    };
    let write = token(json!(["read", "write"])).await;
    assert_eq!(agent_socket(&t, &[]).await.err(), Some(401), "no credentials");
    assert_eq!(
        agent_socket(&t, &[("authorization", &write), ("origin", "https://evil.example")]).await.err(),
        Some(403),
        "another site's page"
    );
    let mut live = agent_socket(&t, &[("authorization", &write)]).await.expect("the agent's socket");
    assert_eq!(t.client().get(&format!("/api/v1/chat/widget/{widget}")).await.body["online"], true, "its agent counts as online");

    // A visitor starts a chat: the agent sees it at once.
    let (mut ws, _) = Ws::hello(&t, json!({"type": "hello", "widget_id": widget, "visitor_key": key()})).await;
    ws.send(json!({"type": "send", "client_id": "v-1", "body": "充值没到账"})).await;
    let cid = ws.expect("ack").await["conversation_id"].as_str().unwrap().to_string();
    ws.expect("conversation").await;
    ws.expect("resumed").await;
    assert_eq!(live.until("conversation_created").await["conversation_id"], cid.as_str());
    ws.send(json!({"type": "send", "client_id": "v-2", "conversation_id": cid, "body": "TXID 0xabc"})).await;
    ws.expect("ack").await;
    let created = live.until("message_created").await;
    assert_eq!((created["conversation_id"].as_str(), created["seq"].as_i64()), (Some(cid.as_str()), Some(2)));

    // Typing and read marks reach the customer; a reply is acknowledged once stored.
    live.send(json!({"type": "typing", "conversation_id": cid, "typing": true})).await;
    assert_eq!(ws.expect("typing").await["typing"], true);
    live.send(json!({"type": "read", "conversation_id": cid, "seq": 2})).await;
    assert_eq!(ws.expect("read").await["seq"], 2);
    live.send(json!({"type": "send", "client_id": "a-1", "conversation_id": cid, "body": "请提供交易哈希"})).await;
    let ack = live.until("ack").await;
    assert_eq!((ack["client_id"].as_str(), ack["seq"].as_i64(), ack["replayed"].as_bool()), (Some("a-1"), Some(3), Some(false)));
    assert_eq!(messages(&agent, &cid).await[2]["id"], ack["message_id"], "acknowledged means stored");
    assert_eq!(ws.until("message").await["body"], "请提供交易哈希");
    // The same client id again: the stored message, not a second one.
    live.send(json!({"type": "send", "client_id": "a-1", "conversation_id": cid, "body": "请提供交易哈希"})).await;
    let again = live.until("ack").await;
    assert_eq!((again["message_id"].clone(), again["replayed"].as_bool()), (ack["message_id"].clone(), Some(true)));
    assert_eq!(messages(&agent, &cid).await.len(), 3);

    // Bad frames get clear errors and the socket stays usable.
    live.send(json!({"type": "send", "client_id": "a-2", "conversation_id": cid, "body": ""})).await;
    let bad = live.until("error").await;
    assert_eq!((bad["code"].as_str(), bad["client_id"].as_str()), (Some("validation_failed"), Some("a-2")));
    live.0.send(Message::Text("nonsense".into())).await.unwrap();
    assert_eq!(live.until("error").await["code"], "invalid_frame");
    live.send(json!({"type": "ping"})).await;
    live.until("pong").await;

    // A read-only token follows but may not write.
    let read = token(json!(["read"])).await;
    let mut reader = agent_socket(&t, &[("authorization", &read)]).await.expect("a read-only socket");
    reader.send(json!({"type": "send", "client_id": "r-1", "conversation_id": cid, "body": "hi"})).await;
    assert_eq!(reader.until("error").await["code"], "insufficient_scope");
    t.shutdown().await;
}
