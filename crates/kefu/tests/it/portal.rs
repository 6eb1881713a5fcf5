//! The customer portal: a ticket from the web form, a link that opens only that ticket, the
//! exchange's signed identity that opens all of a customer's tickets, and replies both ways.

use hmac::{Hmac, Mac};
use kefu_testkit::{Backend, Client, StatusCode, spawn_app};
use serde_json::json;

both_backends!(a_customer_opens_a_ticket_and_follows_it, the_exchange_signs_customers_in);

const PORTAL: (&str, &str) = ("x-kefu-portal", "1");

fn form<'a>(subject: &'a str, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("name", "王小明"), ("email", email), ("subject", subject), ("description", "USDT 提币 3 小时未到账"), ("category", "withdrawal")]
}

async fn a_customer_opens_a_ticket_and_follows_it(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (agent, _) = t.signed_in("agent").await;
    let customer = t.client();
    // Without the portal header the write is refused (other sites cannot send it).
    customer.multipart("/api/v1/portal/tickets", &form("x", "w@example.com"), vec![], &[]).await.assert_problem(403, "csrf_failed");
    let bad =
        customer.multipart("/api/v1/portal/tickets", &[("subject", ""), ("category", "spam"), ("email", "nope")], vec![], &[PORTAL]).await;
    bad.assert_problem(422, "validation_failed");
    customer.multipart("/api/v1/portal/tickets", &[("color", "red")], vec![], &[PORTAL]).await.assert_problem(422, "invalid_body");

    let png = crate::attachments::png(20, 20);
    let opened = customer
        .multipart("/api/v1/portal/tickets", &form("提币未到账", "wang@example.com"), vec![("files", "tx.png", png)], &[PORTAL])
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    let ticket_id = opened.body["ticket"]["id"].as_str().unwrap().to_string();
    let link = opened.body["link"].as_str().unwrap().to_string();
    assert!(link.starts_with("/portal/t/"));
    assert_eq!(opened.body["ticket"]["category"], "withdrawal");

    // The agent sees it on the portal channel, with the attachment, and answers; a note stays private.
    let conv = agent.get(&format!("/api/v1/conversations/{ticket_id}")).await.body;
    assert_eq!(conv["channel"], "portal");
    assert_eq!(conv["tags"], json!(["withdrawal"]));
    agent.post(&format!("/api/v1/conversations/{ticket_id}/messages"), json!({"body": "已加急处理", "status": "pending"})).await;
    agent
        .post(&format!("/api/v1/conversations/{ticket_id}/messages"), json!({"body": "internal: check hot wallet", "private": true}))
        .await;

    let mine = customer.get("/api/v1/portal/tickets").await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1, "{}", mine.text);
    let detail = customer.get(&format!("/api/v1/portal/tickets/{ticket_id}")).await.body;
    let bodies: Vec<&str> = detail["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, vec!["USDT 提币 3 小时未到账", "已加急处理"], "notes never reach the customer");
    assert_eq!(detail["ticket"]["status"], "pending");
    let att_url = detail["messages"][0]["attachments"][0]["url"].as_str().unwrap().to_string();
    assert!(att_url.starts_with("/api/v1/portal/attachments/"));
    assert_eq!(customer.http.get(format!("{}{att_url}", customer.base)).send().await.unwrap().status(), 200);

    let reply = customer
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/portal/tickets/{ticket_id}/messages"),
            Some(json!({"body": "谢谢", "client_key": "p1"})),
            &[PORTAL],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let replay = customer
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/portal/tickets/{ticket_id}/messages"),
            Some(json!({"body": "谢谢", "client_key": "p1"})),
            &[PORTAL],
        )
        .await;
    assert_eq!(replay.status, StatusCode::OK);
    let after = agent.get(&format!("/api/v1/conversations/{ticket_id}")).await.body;
    assert_eq!(after["message_count"], 4);
    assert!(after["waiting_since"].is_string(), "the customer waits again");
    assert_eq!(after["status"], "open", "the customer answered: pending turns open");

    // The link opens this ticket in another browser, and nothing else of this customer.
    let other = crate::inbox::open(&agent, "other", "wang@example.com", "another matter").await;
    let fresh = t.client();
    fresh.get("/api/v1/portal/tickets").await.assert_problem(401, "unauthenticated");
    let token = link.trim_start_matches("/portal/t/");
    let session = fresh.send(reqwest::Method::POST, "/api/v1/portal/session", Some(json!({"token": token})), &[PORTAL]).await;
    assert_eq!(session.status, StatusCode::OK, "{}", session.text);
    assert_eq!(session.body["verified"], false);
    assert_eq!(fresh.get("/api/v1/portal/tickets").await.body["items"].as_array().unwrap().len(), 1);
    fresh.get(&format!("/api/v1/portal/tickets/{}", other["id"].as_str().unwrap())).await.assert_problem(404, "not_found");
    fresh
        .send(reqwest::Method::POST, "/api/v1/portal/session", Some(json!({"token": "forged"})), &[PORTAL])
        .await
        .assert_problem(401, "portal_link_invalid");
    assert_eq!(fresh.send(reqwest::Method::DELETE, "/api/v1/portal/session", None, &[PORTAL]).await.status, StatusCode::NO_CONTENT);
    fresh.get("/api/v1/portal/tickets").await.assert_problem(401, "unauthenticated");

    // Closed: the portal refuses replies with a clear code.
    agent.patch(&format!("/api/v1/conversations/{ticket_id}"), json!({"status": "closed"})).await;
    customer
        .send(reqwest::Method::POST, &format!("/api/v1/portal/tickets/{ticket_id}/messages"), Some(json!({"body": "再问一下"})), &[PORTAL])
        .await
        .assert_problem(409, "conversation_closed");
    t.shutdown().await;
}

fn sign(secret: &str, user: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(user.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn the_exchange_signs_customers_in(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let (admin, _) = t.signed_in("admin").await;
    let secret = "exchange-shared-secret-0123456789";
    let customer: Client = t.client();
    let try_sign_in = |c: &Client, hash: String| {
        let c = c.clone();
        async move {
            c.send(
                reqwest::Method::POST,
                "/api/v1/portal/session",
                Some(json!({"user_id": "U-1001", "user_hash": hash, "email": "vip@example.com", "name": "Lin"})),
                &[PORTAL],
            )
            .await
        }
    };
    try_sign_in(&customer, sign(secret, "U-1001")).await.assert_problem(401, "invalid_signature");
    admin.put("/api/v1/settings/portal", json!({"identity_secret": "short"})).await.assert_problem(422, "validation_failed");
    let set = admin.put("/api/v1/settings/portal", json!({"identity_secret": secret})).await;
    assert_eq!(set.body["has_identity_secret"], true);
    assert!(set.body.get("identity_secret").is_none(), "the secret is never read back");

    try_sign_in(&customer, sign("another-secret-entirely-000", "U-1001")).await.assert_problem(401, "invalid_signature");
    let ok = try_sign_in(&customer, sign(secret, "U-1001")).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.body["verified"], true);
    // Two tickets, both visible to the signed-in customer.
    for s in ["first", "second"] {
        let r = customer.multipart("/api/v1/portal/tickets", &form(s, "vip@example.com"), vec![], &[PORTAL]).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    assert_eq!(customer.get("/api/v1/portal/tickets").await.body["items"].as_array().unwrap().len(), 2);
    // A second device signing in as the same user sees the same tickets.
    let phone = t.client();
    try_sign_in(&phone, sign(secret, "U-1001")).await;
    assert_eq!(phone.get("/api/v1/portal/tickets").await.body["items"].as_array().unwrap().len(), 2);
    // Agents see one contact with the exchange user id.
    let contacts = admin.get("/api/v1/contacts?q=U-1001").await.body;
    assert_eq!(contacts["items"].as_array().unwrap().len(), 1, "{contacts}");
    assert_eq!(contacts["items"][0]["exchange_user_id"], "U-1001");
    t.shutdown().await;
}
