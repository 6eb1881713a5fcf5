//! Signing in and out, sessions, lockouts.

use kefu_testkit::{Backend, Options, PASSWORD, StatusCode, spawn_app, spawn_app_with};
use serde_json::json;

both_backends!(
    login_sets_a_strict_http_only_cookie,
    wrong_password_and_unknown_email_look_the_same,
    repeated_failures_lock_the_account_until_an_admin_lifts_it,
    an_expired_lock_starts_the_count_afresh,
    failures_from_one_address_lock_it_out,
    logout_and_revoked_sessions_stop_working,
    deactivating_an_agent_signs_them_out,
    agents_change_their_own_password,
    secure_cookie_behind_https,
);

async fn login_sets_a_strict_http_only_cookie(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.create_agent("li.na@example.com", "agent", PASSWORD).await;
    let c = t.client();
    let r =
        c.send(reqwest::Method::POST, "/api/v1/auth/login", Some(json!({"email": "Li.Na@Example.com ", "password": PASSWORD})), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "ok");
    assert_eq!(r.body["session"]["agent"]["email"], "li.na@example.com");
    assert!(r.body["session"]["csrf_token"].as_str().unwrap().len() >= 32);
    let cookie = r.header("set-cookie");
    assert!(cookie.starts_with("kefu_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} missing in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http must not set Secure: {cookie}");
    let s = c.get("/api/v1/auth/session").await;
    assert_eq!(s.status, StatusCode::OK);
    assert_eq!(s.body["agent"]["role"], "agent");
    assert!(s.body["agent"].get("password_hash").is_none());
    // A fresh client has no session.
    t.client().get("/api/v1/auth/session").await.assert_problem(401, "unauthenticated");
    t.shutdown().await;
}

async fn secure_cookie_behind_https(backend: Backend) {
    let mut opts = Options::default();
    opts.web.public_url = Some("https://support.example.com".into());
    let Some(t) = spawn_app_with(backend, opts).await else { return };
    t.create_agent("a@example.com", "agent", PASSWORD).await;
    let r = t
        .client()
        .send(reqwest::Method::POST, "/api/v1/auth/login", Some(json!({"email": "a@example.com", "password": PASSWORD})), &[])
        .await;
    assert!(r.header("set-cookie").contains("; Secure"), "{}", r.header("set-cookie"));
    t.shutdown().await;
}

async fn wrong_password_and_unknown_email_look_the_same(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.create_agent("a@example.com", "agent", PASSWORD).await;
    let c = t.client();
    let wrong = c
        .send(reqwest::Method::POST, "/api/v1/auth/login", Some(json!({"email": "a@example.com", "password": "nope nope nope"})), &[])
        .await;
    wrong.assert_problem(401, "invalid_credentials");
    let unknown = c
        .send(reqwest::Method::POST, "/api/v1/auth/login", Some(json!({"email": "b@example.com", "password": "nope nope nope"})), &[])
        .await;
    unknown.assert_problem(401, "invalid_credentials");
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
    assert!(wrong.header("set-cookie").is_empty());
    let empty = c.send(reqwest::Method::POST, "/api/v1/auth/login", Some(json!({"email": "", "password": ""})), &[]).await;
    empty.assert_problem(422, "validation_failed");
    assert_eq!(empty.body["errors"].as_array().unwrap().len(), 2);
    t.shutdown().await;
}

async fn repeated_failures_lock_the_account_until_an_admin_lifts_it(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let victim = t.create_agent("victim@example.com", "agent", PASSWORD).await;
    let c = t.client();
    for i in 1..5 {
        let (s, b) = c.login("victim@example.com", "wrong password!").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "attempt {i}: {b}");
    }
    let locking = c
        .send(reqwest::Method::POST, "/api/v1/auth/login", Some(json!({"email": "victim@example.com", "password": "wrong password!"})), &[])
        .await;
    locking.assert_problem(423, "account_locked");
    assert!(locking.body["retry_after"].is_string());
    // Locked: even the right password is refused, with a Retry-After.
    let refused =
        c.send(reqwest::Method::POST, "/api/v1/auth/login", Some(json!({"email": "victim@example.com", "password": PASSWORD})), &[]).await;
    refused.assert_problem(423, "account_locked");
    let retry: u64 = refused.header("retry-after").parse().unwrap();
    assert!(retry > 800 && retry <= 900, "retry-after {retry}");

    let (admin, _) = t.signed_in("admin").await;
    let listed = admin.get(&format!("/api/v1/agents/{}", victim["id"].as_str().unwrap())).await;
    assert!(listed.body["locked_until"].is_string());
    let r = admin.post(&format!("/api/v1/agents/{}/unlock", victim["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let (s, b) = c.login("victim@example.com", PASSWORD).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let audit = admin.get("/api/v1/audit?action=auth.account_locked").await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1);
    let audit = admin.get("/api/v1/audit?action=agent.unlocked").await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1);
    t.shutdown().await;
}

async fn failures_from_one_address_lock_it_out(backend: Backend) {
    let mut opts = Options::default();
    opts.app.ip_lock_after = 6;
    let Some(t) = spawn_app_with(backend, opts).await else { return };
    t.relax_two_factor().await;
    // The admin signed in before the attack, from the same address.
    let (admin, admin_agent) = t.signed_in("admin").await;
    let c = t.client();
    // Spread over several accounts so no single account locks first.
    for i in 0..6 {
        let (s, _) = c.login(&format!("nobody{i}@example.com"), "guessing guess").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let blocked =
        c.send(reqwest::Method::POST, "/api/v1/auth/login", Some(json!({"email": admin_agent["email"], "password": PASSWORD})), &[]).await;
    blocked.assert_problem(429, "too_many_attempts");
    assert!(!blocked.header("retry-after").is_empty());
    let lockouts = admin.get("/api/v1/admin/ip-lockouts").await;
    assert_eq!(lockouts.status, StatusCode::OK, "{}", lockouts.text);
    assert_eq!(lockouts.body["items"][0]["ip"], "127.0.0.1");
    let lifted = admin.delete("/api/v1/admin/ip-lockouts/127.0.0.1").await;
    assert_eq!(lifted.status, StatusCode::NO_CONTENT, "{}", lifted.text);
    assert_eq!(c.login(admin_agent["email"].as_str().unwrap(), PASSWORD).await.0, StatusCode::OK);
    admin.delete("/api/v1/admin/ip-lockouts/127.0.0.1").await.assert_problem(404, "not_found");
    let audit = admin.get("/api/v1/audit?action=auth.ip_locked").await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1);
    t.shutdown().await;
}

async fn logout_and_revoked_sessions_stop_working(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.create_agent("a@example.com", "agent", PASSWORD).await;
    let laptop = t.client();
    let phone = t.client();
    assert_eq!(laptop.login("a@example.com", PASSWORD).await.0, StatusCode::OK);
    assert_eq!(phone.login("a@example.com", PASSWORD).await.0, StatusCode::OK);
    let sessions = laptop.get("/api/v1/me/sessions").await;
    let items = sessions.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let other = items.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_string();
    let r = laptop.delete(&format!("/api/v1/me/sessions/{other}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    phone.get("/api/v1/me/sessions").await.assert_problem(401, "unauthenticated");
    laptop.delete(&format!("/api/v1/me/sessions/{other}")).await.assert_problem(404, "not_found");
    let out = laptop.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.header("set-cookie").contains("Max-Age=0"));
    laptop.get("/api/v1/auth/session").await.assert_problem(401, "unauthenticated");
    t.shutdown().await;
}

async fn deactivating_an_agent_signs_them_out(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let (admin, _) = t.signed_in("admin").await;
    let (agent, me) = t.signed_in("agent").await;
    let id = me["id"].as_str().unwrap();
    let r = admin.patch(&format!("/api/v1/agents/{id}"), json!({"active": false})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["active"], false);
    agent.get("/api/v1/auth/session").await.assert_problem(401, "unauthenticated");
    let again =
        t.client().send(reqwest::Method::POST, "/api/v1/auth/login", Some(json!({"email": me["email"], "password": PASSWORD})), &[]).await;
    again.assert_problem(403, "account_deactivated");
    t.shutdown().await;
}

async fn agents_change_their_own_password(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (c, me) = t.signed_in("agent").await;
    c.post("/api/v1/me/password", json!({"current_password": "not it at all", "new_password": "a brand new pass"}))
        .await
        .assert_problem(401, "invalid_credentials");
    c.post("/api/v1/me/password", json!({"current_password": PASSWORD, "new_password": "short"}))
        .await
        .assert_problem(422, "validation_failed");
    let r = c.post("/api/v1/me/password", json!({"current_password": PASSWORD, "new_password": "a brand new pass"})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let email = me["email"].as_str().unwrap();
    assert_eq!(t.client().login(email, PASSWORD).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(t.client().login(email, "a brand new pass").await.0, StatusCode::OK);
    t.shutdown().await;
}

async fn an_expired_lock_starts_the_count_afresh(backend: Backend) {
    let mut opts = Options::default();
    opts.app.account_lock_after = 2;
    opts.app.account_lock_for = std::time::Duration::from_secs(1);
    let Some(t) = spawn_app_with(backend, opts).await else { return };
    t.create_agent("a@example.com", "agent", PASSWORD).await;
    let c = t.client();
    let wrong =
        || c.send(reqwest::Method::POST, "/api/v1/auth/login", Some(json!({"email": "a@example.com", "password": "wrong password!"})), &[]);
    wrong().await.assert_problem(401, "invalid_credentials");
    wrong().await.assert_problem(423, "account_locked");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    // The lock ran out: one more mistake is just a mistake, not a silent new lock.
    wrong().await.assert_problem(401, "invalid_credentials");
    assert_eq!(c.login("a@example.com", PASSWORD).await.0, StatusCode::OK);
    wrong().await.assert_problem(401, "invalid_credentials");
    wrong().await.assert_problem(423, "account_locked");
    let locks = t
        .app
        .store()
        .list_audit(&kefu_store::AuditFilter { action: Some("auth.account_locked".into()), ..Default::default() }, 10)
        .await
        .unwrap();
    assert_eq!(locks.len(), 2);
    t.shutdown().await;
}
