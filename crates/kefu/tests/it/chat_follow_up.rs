//! Chats answered by e-mail: an anonymous visitor leaves an address and goes; the agent's reply
//! reaches them through a real SMTP server (aiosmtpd) with a private link that opens the chat in
//! the portal; a reply read in the widget is not mailed; the address is sealed and masked.

use crate::chat::{Ws, admin, widget_id};
use crate::identity_checks::{SmtpSink, work_until};
use kefu_testkit::{Backend, StatusCode, spawn_app_with};
use serde_json::json;

both_backends!(missed_chat_replies_are_mailed_with_a_link_to_the_portal);

const PORTAL: (&str, &str) = ("x-kefu-portal", "1");
const PUBLIC: &str = "https://support.example.com";

async fn missed_chat_replies_are_mailed_with_a_link_to_the_portal(backend: Backend) {
    let smtp = SmtpSink::start();
    let mut opts = smtp.options();
    opts.app.public_url = Some(PUBLIC.into());
    let Some(t) = spawn_app_with(backend, opts).await else { return };
    let agent = admin(&t).await;
    let widget = widget_id(&t, &agent).await;

    // The delay is the admin's to set, within bounds; the widget learns that replies are mailed.
    let r = agent.put("/api/v1/settings/chat", json!({"email_follow_up_minutes": 1441})).await;
    r.assert_problem(422, "validation_failed");
    assert!(r.text.contains("email_follow_up_minutes"), "{}", r.text);
    let r = agent.put("/api/v1/settings/chat", json!({"email_follow_up_minutes": 0})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["email_follow_up_minutes"], 0);
    assert_eq!(t.client().get(&format!("/api/v1/chat/widget/{widget}")).await.body["email_follow_up"], true);

    // An anonymous visitor leaves an address with the first message.
    let hello = json!({"type": "hello", "widget_id": widget, "visitor_key": format!("visitor-key-{}", ulid::Ulid::new())});
    let (mut ws, _) = Ws::hello(&t, hello).await;
    let prechat = json!({"name": "Visitor One", "email": "Visitor.One@Example.com"});
    ws.send(json!({"type": "send", "client_id": "v-1", "body": "My USDT deposit is missing", "prechat": prechat})).await;
    let ack = ws.expect("ack").await;
    let id = ack["conversation_id"].as_str().unwrap().to_string();
    let conv = agent.get(&format!("/api/v1/conversations/{id}")).await;
    let contact_id = conv.body["contact_id"].as_str().unwrap().to_string();
    let number = conv.body["number"].as_i64().unwrap();

    // Kept sealed, shown masked, in full on a reveal; it finds no contact.
    let stored = t.app.store().contact_by_id(&contact_id).await.unwrap().unwrap();
    assert!(stored.unverified_email.as_deref().is_some_and(|e| e.starts_with("v1:") && !e.contains("visitor")), "{stored:?}");
    let c = agent.get(&format!("/api/v1/contacts/{contact_id}")).await;
    assert_eq!(c.body["unverified_email"], "v***@example.com", "{}", c.text);
    assert_eq!(c.body["emails"], json!([]));
    assert_eq!(c.body["attributes"], json!({}));
    let full = agent.post(&format!("/api/v1/contacts/{contact_id}/reveal"), json!({})).await;
    assert_eq!(full.body["unverified_email"], "visitor.one@example.com", "{}", full.text);
    assert!(agent.get("/api/v1/contacts?q=visitor.one%40example.com").await.body["items"].as_array().unwrap().is_empty());

    // The visitor has gone: the agent's reply is mailed, with a link to the chat in the portal.
    drop(ws);
    let r = agent.post(&format!("/api/v1/conversations/{id}/messages"), json!({"body": "It arrived: the network was slow."})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let mail = unfold(&work_until(&t, || smtp.messages().into_iter().next()).await);
    assert!(mail.contains("To: visitor.one@example.com"), "{mail}");
    assert!(mail.contains(&format!("[#{number}]")), "{mail}");
    assert!(mail.contains("It arrived: the network was slow."), "{mail}");
    assert!(mail.contains("never ask for your password"), "{mail}");
    let at = mail.find(&format!("{PUBLIC}/portal/t/")).expect("a portal link in the mail") + PUBLIC.len() + "/portal/t/".len();
    let token: String = mail[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    let timeline = agent.get(&format!("/api/v1/conversations/{id}/timeline")).await;
    let reply = timeline.body["items"].as_array().unwrap().iter().find(|i| i["body"] == "It arrived: the network was slow.").unwrap();
    assert_eq!(reply["delivery"]["email"], "sent", "{reply}");

    // The link opens that chat in the portal, where the customer reads and answers.
    let customer = t.client();
    let s = customer.send(reqwest::Method::POST, "/api/v1/portal/session", Some(json!({"token": token})), &[PORTAL]).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    let ticket = customer.get(&format!("/api/v1/portal/tickets/{id}")).await;
    assert!(ticket.text.contains("It arrived: the network was slow."), "{}", ticket.text);
    let answer = json!({"body": "Thanks, I see it now"});
    let r = customer.send(reqwest::Method::POST, &format!("/api/v1/portal/tickets/{id}/messages"), Some(answer), &[PORTAL]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // A reply the customer reads in the widget is not mailed; mail goes once per reply.
    let r = agent.post(&format!("/api/v1/conversations/{id}/messages"), json!({"body": "Anything else?"})).await;
    let seq = r.body["message"]["seq"].as_i64().or_else(|| r.body["seq"].as_i64()).expect("the reply's seq");
    assert!(t.app.store().mark_read(&id, kefu_store::ReadSide::Customer, seq).await.unwrap());
    let worker = kefu_app::jobs::JobWorker::new(t.app.clone());
    for _ in 0..5 {
        worker.run_due().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(smtp.messages().len(), 1, "a read reply is not mailed, a mailed one not again");
    // The jobs did run: a reply left unread is mailed, alone.
    let r = agent.post(&format!("/api/v1/conversations/{id}/messages"), json!({"body": "We are closing this chat."})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let second = work_until(&t, || smtp.messages().into_iter().map(|m| unfold(&m)).find(|m| m.contains("closing this chat"))).await;
    assert!(!second.contains("Anything else?") && !second.contains("network was slow"), "{second}");

    // Turned off: nothing is planned.
    assert_eq!(agent.put("/api/v1/settings/chat", json!({"email_follow_up_minutes": null})).await.status, StatusCode::OK);
    assert_eq!(t.client().get(&format!("/api/v1/chat/widget/{widget}")).await.body["email_follow_up"], false);
    t.shutdown().await;
}

/// A mail's text with quoted-printable soft line breaks joined and `=3D` decoded (enough for
/// the ASCII texts and links looked for here).
fn unfold(mail: &str) -> String {
    mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
}
