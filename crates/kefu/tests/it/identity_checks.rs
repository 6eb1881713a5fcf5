//! Step-up identity checks end to end: an agent asks a chat customer to prove who they are,
//! the code goes out through a real SMTP server (aiosmtpd) and comes back through the widget's
//! socket; authenticator codes are checked by a fake exchange speaking the documented wire
//! format; a fresh sign-in passes with a newly signed token only; sensitive macros wait for a
//! pass; wrong answers fail the check and alert supervisors; starts are limited.

use crate::chat::{Ws, admin, hmac_hex, jwt, widget_id};
use hmac::Mac;
use kefu_testkit::{Backend, Client, Options, StatusCode, TestApp, spawn_app_with};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

both_backends!(a_mailed_code_passes_the_check_and_unlocks_sensitive_macros, failures_alert_supervisors_and_checks_are_limited);

const SECRET: &str = "exchange-identity-secret-0123456789";
const PORTAL: (&str, &str) = ("x-kefu-portal", "1");

/// aiosmtpd writing what it receives into a maildir; stopped on drop.
pub(crate) struct SmtpSink {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl SmtpSink {
    pub(crate) fn start() -> SmtpSink {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let maildir = std::env::temp_dir().join(format!("kefu-smtp-{}", ulid::Ulid::new()));
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 -m aiosmtpd (scripts/test.sh installs it)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(15), "aiosmtpd did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpSink { child, port, maildir }
    }

    /// App options that send mail through this server.
    pub(crate) fn options(&self) -> Options {
        let mut opts = Options::default();
        opts.app.smtp = Some(kefu_app::mail::SmtpConfig {
            url: format!("smtp://127.0.0.1:{}", self.port),
            from: "Nebula Support <support@nebula.example>".into(),
        });
        opts
    }

    /// The messages received so far, raw.
    pub(crate) fn messages(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(self.maildir.join("new")) else { return Vec::new() };
        dir.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok()).collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

/// Runs due jobs until `done` holds (the test app has no job worker of its own).
pub(crate) async fn work_until<T>(t: &TestApp, mut done: impl FnMut() -> Option<T>) -> T {
    let worker = kefu_app::jobs::JobWorker::new(t.app.clone());
    let started = Instant::now();
    loop {
        worker.run_due().await.unwrap();
        if let Some(v) = done() {
            return v;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "timed out waiting for a job's effect");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A signed-in customer's chat with its first message; the socket and the conversation id.
async fn customer_chat(t: &TestApp, widget: &str, user_id: &str, email: &str, body: &str) -> (Ws, String) {
    let identity = json!({"user_id": user_id, "user_hash": hmac_hex(SECRET, user_id), "email": email, "name": "Jane Doe"});
    let hello = json!({"type": "hello", "widget_id": widget, "identity": identity, "language": "en"});
    let (mut ws, welcome) = Ws::hello(t, hello).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    ws.send(json!({"type": "send", "client_id": "c1", "body": body})).await;
    let ack = ws.expect("ack").await;
    (ws, ack["conversation_id"].as_str().unwrap().to_string())
}

/// Frames until the chat's identity check reaches `status`; that check.
async fn check_frame(ws: &mut Ws, status: &str) -> Value {
    let started = Instant::now();
    loop {
        let f = ws.next().await;
        if f["type"] == "conversation" && f["identity_check"]["status"] == status {
            return f["identity_check"].clone();
        }
        assert!(started.elapsed() < Duration::from_secs(10), "no conversation frame with a {status} check");
    }
}

/// The next error frame (other frames in between are skipped).
async fn error_frame(ws: &mut Ws) -> Value {
    loop {
        let f = ws.next().await;
        if f["type"] == "error" {
            return f;
        }
    }
}

async fn sensitive_macro(agent: &Client) -> String {
    let body = json!({"name": "Reset 2FA", "sensitive": true, "actions": [
        {"type": "note", "body": "2FA reset requested from the exchange's back office"},
        {"type": "add_tags", "tags": ["2fa-reset"]}
    ]});
    let r = agent.post("/api/v1/macros", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["sensitive"], true);
    r.body["id"].as_str().unwrap().to_string()
}

async fn activity_kinds(agent: &Client, id: &str) -> Vec<String> {
    let r = agent.get(&format!("/api/v1/conversations/{id}/timeline")).await;
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "activity")
        .map(|i| i["kind"].as_str().unwrap_or("").to_string())
        .collect()
}

async fn audit_actions(agent: &Client) -> Vec<String> {
    let r = agent.get("/api/v1/audit?limit=200").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["items"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap_or("").to_string()).collect()
}

fn code_in(mail: &str) -> String {
    let at = mail.find("verification code is: ").expect("the code in the mail") + "verification code is: ".len();
    mail[at..at + 6].to_string()
}

async fn a_mailed_code_passes_the_check_and_unlocks_sensitive_macros(backend: Backend) {
    let smtp = SmtpSink::start();
    let Some(t) = spawn_app_with(backend, smtp.options()).await else { return };
    let agent = admin(&t).await;
    assert_eq!(agent.put("/api/v1/settings/portal", json!({"identity_secret": SECRET})).await.status, StatusCode::OK);
    let widget = widget_id(&t, &agent).await;
    let (mut ws, id) = customer_chat(&t, &widget, "U-7", "jane.doe@example.com", "I lost my phone, please reset my 2FA").await;
    let checks = format!("/api/v1/conversations/{id}/identity-checks");

    // A sensitive macro waits for a passed check.
    let reset = sensitive_macro(&agent).await;
    let apply = json!({"macro_id": reset});
    agent.post(&format!("/api/v1/conversations/{id}/apply-macro"), apply.clone()).await.assert_problem(403, "identity_check_required");

    // What can be used for this customer: mail (an SMTP server and a registered address) and a
    // fresh sign-in (a chat of an exchange account); no authenticator check is configured.
    let r = agent.get(&checks).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["verified"], false);
    assert_eq!(r.body["checks"], json!([]));
    let available: Vec<(&str, bool)> =
        r.body["methods"].as_array().unwrap().iter().map(|m| (m["method"].as_str().unwrap(), m["available"].as_bool().unwrap())).collect();
    assert_eq!(available, vec![("email_code", true), ("exchange_totp", false), ("signed_session", true)]);
    // Outside the chat widget nothing can hand over a fresh sign-in.
    let other = agent
        .post("/api/v1/conversations", json!({"channel": "api", "contact": {"exchange_user_id": "U-7"}, "message": {"body": "2FA"}}))
        .await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.text);
    let r = agent.get(&format!("/api/v1/conversations/{}/identity-checks", other.body["conversation"]["id"].as_str().unwrap())).await;
    let session = r.body["methods"].as_array().unwrap().iter().find(|m| m["method"] == "signed_session").unwrap().clone();
    assert_eq!(session["available"], false, "{session}");
    assert!(session["unavailable_reason"].as_str().unwrap().contains("chat widget"), "{session}");

    // Bad requests are refused clearly.
    let bad = agent.post(&checks, json!({"method": "sms", "reason": "whim"})).await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.body["errors"].as_array().unwrap().len(), 2, "{}", bad.text);
    let r = agent.post(&checks, json!({"method": "exchange_totp", "reason": "twofa_reset"})).await;
    r.assert_problem(409, "identity_check_unavailable");
    assert!(r.body["detail"].as_str().unwrap().contains("totp_url"), "{}", r.text);
    agent
        .post("/api/v1/conversations/01J0000000000000000000000/identity-checks", json!({"method": "email_code", "reason": "other"}))
        .await
        .assert_problem(404, "not_found");

    // The check starts: the customer is asked in the chat, and mailed a code.
    let r = agent.post(&checks, json!({"method": "email_code", "reason": "twofa_reset"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["status"], "pending");
    assert_eq!(r.body["destination"], "j***@example.com");
    assert_eq!(r.body["attempts_left"], 5);
    let check_id = r.body["id"].as_str().unwrap().to_string();
    let pending = check_frame(&mut ws, "pending").await;
    assert_eq!(pending["id"], check_id.as_str());
    let mail = work_until(&t, || smtp.messages().pop()).await;
    assert!(mail.contains("jane.doe@example.com") && mail.contains("support@nebula.example"), "{mail}");
    let code = code_in(&mail);
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    let conv = agent.get(&format!("/api/v1/conversations/{id}")).await;
    assert_eq!(conv.body["identity_check"]["status"], "pending", "{}", conv.text);

    // A malformed code is a client mistake and does not count; a wrong one does.
    ws.send(json!({"type": "verify", "conversation_id": id, "check_id": check_id, "code": "12ab"})).await;
    assert_eq!(error_frame(&mut ws).await["code"], "validation_failed");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    ws.send(json!({"type": "verify", "conversation_id": id, "check_id": check_id, "code": wrong})).await;
    let e = error_frame(&mut ws).await;
    assert_eq!(e["code"], "identity_check_failed", "{e}");
    assert!(e["message"].as_str().unwrap().contains("4 more"), "{e}");
    // Another visitor's socket cannot answer it.
    let stranger = json!({"type": "hello", "widget_id": widget, "visitor_key": format!("visitor-key-{}", ulid::Ulid::new())});
    let (mut other, _) = Ws::hello(&t, stranger).await;
    other.send(json!({"type": "verify", "conversation_id": id, "check_id": check_id, "code": code})).await;
    assert_eq!(error_frame(&mut other).await["code"], "not_found");

    // The right code passes the check, as copied with a space.
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    ws.send(json!({"type": "verify", "conversation_id": id, "check_id": check_id, "code": spaced})).await;
    let passed = check_frame(&mut ws, "passed").await;
    assert_eq!(passed["attempts_left"], 4);
    assert!(passed["verified_until"].is_string(), "{passed}");
    ws.send(json!({"type": "verify", "conversation_id": id, "check_id": check_id, "code": code})).await;
    assert_eq!(error_frame(&mut ws).await["code"], "identity_check_closed");

    let r = agent.get(&checks).await;
    assert_eq!(r.body["verified"], true, "{}", r.text);
    assert_eq!(r.body["checks"][0]["status"], "passed");
    let r = agent.post(&format!("/api/v1/conversations/{id}/apply-macro"), apply).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["conversation"]["tags"].as_array().unwrap().iter().any(|t| t == "2fa-reset"), "{}", r.text);

    let kinds = activity_kinds(&agent, &id).await;
    for k in ["identity_check_requested", "identity_check_passed", "macro_applied"] {
        assert!(kinds.iter().any(|x| x == k), "{k} missing from {kinds:?}");
    }
    let actions = audit_actions(&agent).await;
    assert!(actions.iter().any(|a| a == "identity_check.started") && actions.iter().any(|a| a == "identity_check.passed"), "{actions:?}");

    // The code itself is not kept: only a hash of it.
    let stored = t.app.store().identity_check_by_id(&check_id).await.unwrap().unwrap();
    let hash = stored.secret_hash.unwrap_or_default();
    assert!(hash.len() == 64 && !hash.contains(&code), "{hash}");
    t.shutdown().await;
}

/// The exchange's side of authenticator checks: checks the signature and accepts one code.
async fn fake_exchange(accepted: &'static str) -> (String, tokio::task::JoinHandle<()>) {
    use axum::http::{HeaderMap, StatusCode as S};
    async fn check(headers: HeaderMap, body: String, accepted: &'static str) -> (S, String) {
        let ts = headers.get("x-kefu-timestamp").and_then(|v| v.to_str().ok()).unwrap_or("");
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(format!("{ts}.{body}").as_bytes());
        let expected = format!("v1={}", hex::encode(mac.finalize().into_bytes()));
        if headers.get("x-kefu-signature").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
            return (S::UNAUTHORIZED, "{}".into());
        }
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        let valid = v["user_id"] == "U-8" && v["code"] == accepted;
        (S::OK, json!({"valid": valid}).to_string())
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/kefu/totp-check", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/kefu/totp-check", axum::routing::post(move |h: HeaderMap, b: String| check(h, b, accepted)));
    (url, tokio::spawn(async move { axum::serve(listener, app).await.unwrap() }))
}

async fn failures_alert_supervisors_and_checks_are_limited(backend: Backend) {
    let (totp_url, exchange) = fake_exchange("246810").await;
    let mut opts = Options::default();
    opts.app.totp_check_url = Some(totp_url);
    let Some(t) = spawn_app_with(backend, opts).await else { return };
    let agent = admin(&t).await;
    let (supervisor, _) = t.signed_in("supervisor").await;
    assert_eq!(agent.put("/api/v1/settings/portal", json!({"identity_secret": SECRET})).await.status, StatusCode::OK);
    let widget = widget_id(&t, &agent).await;
    let (mut ws, id) = customer_chat(&t, &widget, "U-8", "li.lei@example.com", "有人盗了我的账户，请帮我冻结").await;
    let checks = format!("/api/v1/conversations/{id}/identity-checks");
    let r = agent.get(&checks).await;
    let methods: Vec<bool> = r.body["methods"].as_array().unwrap().iter().map(|m| m["available"].as_bool().unwrap()).collect();
    assert_eq!(methods, vec![false, true, true], "no SMTP server: no mailed codes; {}", r.text);
    assert!(r.body["methods"][0]["unavailable_reason"].as_str().unwrap().contains("smtp"), "{}", r.text);

    // A fresh sign-in: stale or foreign tokens are wrong answers; five fail the check.
    let r = agent.post(&checks, json!({"method": "signed_session", "reason": "security_hacked"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let check_id = r.body["id"].as_str().unwrap().to_string();
    let asked = check_frame(&mut ws, "pending").await;
    assert_eq!(asked["method"], "signed_session");
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    let now = chrono::Utc::now().timestamp();
    let stale = jwt(jsonwebtoken::Algorithm::HS256, &key, json!({"sub": "U-8", "iat": now - 3600, "exp": now + 300}));
    let foreign = jwt(jsonwebtoken::Algorithm::HS256, &key, json!({"sub": "U-9", "iat": now, "exp": now + 300}));
    let forged = jwt(
        jsonwebtoken::Algorithm::HS256,
        &jsonwebtoken::EncodingKey::from_secret(b"not the secret"),
        json!({"sub": "U-8", "iat": now, "exp": now + 300}),
    );
    let hashed = json!({"user_id": "U-8", "user_hash": hmac_hex(SECRET, "U-8")});
    let answers = [json!({"token": stale}), json!({"token": foreign}), json!({"token": forged}), hashed.clone()];
    for (i, identity) in answers.iter().enumerate() {
        ws.send(json!({"type": "verify", "conversation_id": id, "check_id": check_id, "identity": identity})).await;
        let e = error_frame(&mut ws).await;
        assert_eq!(e["code"], "identity_check_failed", "answer {i}: {e}");
    }
    // The portal answers for the same customer too (signed in through the exchange).
    let portal = t.client();
    let s = portal.send(reqwest::Method::POST, "/api/v1/portal/session", Some(hashed.clone()), &[PORTAL]).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    let answer = format!("/api/v1/portal/tickets/{id}/identity-checks/{check_id}");
    let r = portal.send(reqwest::Method::POST, &answer, Some(json!({"identity": {"token": stale}})), &[PORTAL]).await;
    r.assert_problem(409, "identity_check_closed");
    assert_eq!(check_frame(&mut ws, "failed").await["attempts_left"], 0);
    let fresh = jwt(jsonwebtoken::Algorithm::HS256, &key, json!({"sub": "U-8", "iat": now, "exp": now + 300}));
    ws.send(json!({"type": "verify", "conversation_id": id, "check_id": check_id, "identity": {"token": fresh}})).await;
    assert_eq!(error_frame(&mut ws).await["code"], "identity_check_closed", "a failed check stays failed");

    // Supervisors (and admins) are alerted; the failure is audited.
    let n = supervisor.get("/api/v1/me/notifications").await;
    let alert = n.body["items"].as_array().unwrap().iter().find(|n| n["kind"] == "identity_check_failed").cloned();
    let alert = alert.unwrap_or_else(|| panic!("no alert in {}", n.text));
    assert_eq!(alert["conversation_id"], id.as_str());
    assert!(audit_actions(&agent).await.iter().any(|a| a == "identity_check.failed"));
    assert!(activity_kinds(&agent, &id).await.iter().any(|k| k == "identity_check_failed"));

    // An authenticator code, checked by the exchange, answered in the portal.
    let r = agent.post(&checks, json!({"method": "exchange_totp", "reason": "account_unlock"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let totp_id = r.body["id"].as_str().unwrap().to_string();
    let answer = format!("/api/v1/portal/tickets/{id}/identity-checks/{totp_id}");
    let r = portal.send(reqwest::Method::POST, &answer, Some(json!({"code": "135790"})), &[PORTAL]).await;
    r.assert_problem(422, "identity_check_failed");
    let r = portal.send(reqwest::Method::POST, &answer, Some(json!({"code": "246 810"})), &[PORTAL]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "passed");
    let ticket = portal.send(reqwest::Method::GET, &format!("/api/v1/portal/tickets/{id}"), None, &[PORTAL]).await;
    assert_eq!(ticket.body["ticket"]["identity_check"]["status"], "passed", "{}", ticket.text);

    // Three checks an hour per customer: the fourth waits.
    let r = agent.post(&checks, json!({"method": "exchange_totp", "reason": "other"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = agent.post(&checks, json!({"method": "signed_session", "reason": "other"})).await;
    r.assert_problem(429, "identity_check_limited");
    assert!(r.body["retry_after"].is_string(), "{}", r.text);
    // The new check replaced the passed one as the latest: sensitive actions wait again.
    assert_eq!(agent.get(&checks).await.body["verified"], false);
    exchange.abort();
    t.shutdown().await;
}
