//! TOTP enrolment, sign-in with a second factor, recovery codes, the per-role policy.

use kefu_testkit::{Backend, Options, PASSWORD, StatusCode, spawn_app, spawn_app_with, totp_at, totp_now};
use serde_json::{Value, json};

both_backends!(
    enrolled_agents_sign_in_with_a_totp_code_once,
    recovery_codes_work_once_each,
    admins_must_enrol_before_anything_else,
    demo_mode_does_not_enforce_two_factor,
    an_admin_resets_a_lost_second_factor,
    policy_per_role_is_configurable,
);

/// Enrols the signed-in client; returns (secret, recovery codes).
async fn enrol(c: &kefu_testkit::Client) -> (String, Vec<String>) {
    let e = c.post("/api/v1/me/2fa/enrol", json!({})).await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.text);
    let secret = e.body["secret"].as_str().unwrap().to_string();
    assert!(e.body["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/"));
    assert!(e.body["qr_svg"].as_str().unwrap().starts_with("<svg"));
    c.post("/api/v1/me/2fa/confirm", json!({"code": "000000"})).await.assert_problem(401, "invalid_totp_code");
    let done = c.post("/api/v1/me/2fa/confirm", json!({"code": totp_now(&secret)})).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let codes: Vec<String> = done.body["recovery_codes"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

async fn password_step(c: &kefu_testkit::Client, email: &str) -> String {
    let (s, b) = c.login(email, PASSWORD).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "totp_required", "{b}");
    assert!(b.get("session").is_none());
    b["challenge"].as_str().unwrap().to_string()
}

async fn enrolled_agents_sign_in_with_a_totp_code_once(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (c, me) = t.signed_in("agent").await;
    let email = me["email"].as_str().unwrap();
    c.post("/api/v1/me/2fa/confirm", json!({"code": "123456"})).await.assert_problem(409, "two_factor_not_pending");
    c.send(reqwest::Method::DELETE, "/api/v1/me/2fa", Some(json!({"code": "123456"})), &[])
        .await
        .assert_problem(409, "two_factor_not_enabled");
    c.post("/api/v1/me/2fa/recovery-codes", json!({"code": "123456"})).await.assert_problem(409, "two_factor_not_enabled");
    let (secret, _) = enrol(&c).await;
    // Regenerating recovery codes needs a current code; the old codes stop working.
    c.post("/api/v1/me/2fa/recovery-codes", json!({"code": "000000"})).await.assert_problem(401, "invalid_totp_code");
    assert_eq!(c.get("/api/v1/auth/session").await.body["agent"]["two_factor_enabled"], true);
    c.post("/api/v1/me/2fa/enrol", json!({})).await.assert_problem(409, "two_factor_already_enabled");

    let fresh = t.client();
    let challenge = password_step(&fresh, email).await;
    // Not signed in between the two steps.
    fresh.get("/api/v1/auth/session").await.assert_problem(401, "unauthenticated");
    let (s, b) = fresh.login_totp(&challenge, "123456").await;
    assert_eq!((s, b["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_totp_code")));
    // The code used at enrolment was consumed; the next step's code works (one step of skew).
    let next = totp_at(&secret, 1);
    let (s, b) = fresh.login_totp(&challenge, &next).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "ok");
    // The same code cannot be replayed for another sign-in.
    let other = t.client();
    let challenge2 = password_step(&other, email).await;
    let (s, b) = other.login_totp(&challenge2, &next).await;
    assert_eq!((s, b["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_totp_code")), "replay accepted: {b}");
    // A used challenge is gone.
    let (s, b) = fresh.login_totp(&challenge, &totp_at(&secret, 1)).await;
    assert_eq!((s, b["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("login_challenge_expired")));
    let (s, b) = other.login_totp("made-up-challenge", "123456").await;
    assert_eq!((s, b["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("login_challenge_expired")));
    t.shutdown().await;
}

async fn recovery_codes_work_once_each(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (c, me) = t.signed_in("agent").await;
    let email = me["email"].as_str().unwrap();
    let (_, codes) = enrol(&c).await;
    let a = t.client();
    let ch = password_step(&a, email).await;
    let (s, b) = a.login_totp(&ch, &codes[0].to_uppercase()).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let bcl = t.client();
    let ch = password_step(&bcl, email).await;
    let (s, _) = bcl.login_totp(&ch, &codes[0]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "a recovery code worked twice");
    let (s, _) = bcl.login_totp(&ch, &codes[1]).await;
    assert_eq!(s, StatusCode::OK);
    let used = a.get("/api/v1/audit").await;
    assert_eq!(used.status, StatusCode::FORBIDDEN, "agents cannot read the audit log");
    t.shutdown().await;
}

async fn admins_must_enrol_before_anything_else(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (admin, _) = t.signed_in("admin").await;
    let s = admin.get("/api/v1/auth/session").await;
    assert_eq!(s.body["two_factor_enrolment_required"], true);
    assert_eq!(s.body["two_factor_required"], true);
    admin.get("/api/v1/agents").await.assert_problem(403, "two_factor_enrolment_required");
    admin.post("/api/v1/me/tokens", json!({"name": "x", "scopes": ["read"]})).await.assert_problem(403, "two_factor_enrolment_required");
    let (secret, _) = enrol(&admin).await;
    assert_eq!(admin.get("/api/v1/agents").await.status, StatusCode::OK);
    // Mandatory for the role: it cannot be switched off.
    admin
        .send(reqwest::Method::DELETE, "/api/v1/me/2fa", Some(json!({"code": totp_at(&secret, 1)})), &[])
        .await
        .assert_problem(403, "two_factor_required_for_role");
    t.shutdown().await;
}

async fn demo_mode_does_not_enforce_two_factor(backend: Backend) {
    let mut opts = Options::default();
    opts.app.demo = true;
    let Some(t) = spawn_app_with(backend, opts).await else { return };
    let (admin, _) = t.signed_in("admin").await;
    let s = admin.get("/api/v1/auth/session").await;
    assert_eq!(s.body["two_factor_enrolment_required"], false);
    assert_eq!(s.body["demo_mode"], true);
    assert_eq!(admin.get("/api/v1/agents").await.status, StatusCode::OK);
    t.shutdown().await;
}

async fn an_admin_resets_a_lost_second_factor(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let (admin, _) = t.signed_in("admin").await;
    let (agent, me) = t.signed_in("agent").await;
    enrol(&agent).await;
    let id = me["id"].as_str().unwrap();
    let r = admin.post(&format!("/api/v1/agents/{id}/reset-2fa"), json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    // Their sessions ended and the password alone signs them in again.
    agent.get("/api/v1/auth/session").await.assert_problem(401, "unauthenticated");
    let (s, b) = t.client().login(me["email"].as_str().unwrap(), PASSWORD).await;
    assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("ok")));
    let audit = admin.get("/api/v1/audit?action=2fa.reset").await;
    assert_eq!(audit.body["items"][0]["target"], Value::String(id.into()));
    t.shutdown().await;
}

async fn policy_per_role_is_configurable(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let (admin, _) = t.signed_in("admin").await;
    let got = admin.get("/api/v1/settings/security").await;
    assert_eq!(got.body["two_factor_required"]["admin"], false);
    let new = json!({"two_factor_required": {"admin": false, "supervisor": true, "agent": true}});
    let put = admin.put("/api/v1/settings/security", new.clone()).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(put.body["two_factor_required"], new["two_factor_required"]);
    // Left out, who may see customers' details in full keeps its default.
    assert_eq!(put.body["pii_full_view"], json!({"admin": true, "supervisor": true, "agent": false}));
    admin.put("/api/v1/settings/security", json!({"two_factor_required": {"admin": true}})).await.assert_problem(422, "invalid_body");
    let (agent, _) = t.signed_in("agent").await;
    agent.get("/api/v1/agents").await.assert_problem(403, "two_factor_enrolment_required");
    assert_eq!(agent.get("/api/v1/auth/session").await.body["two_factor_required"], true);
    assert_eq!(admin.get("/api/v1/auth/session").await.body["two_factor_required"], false);
    let audit = admin.get("/api/v1/audit?action=settings.security_updated").await;
    assert_eq!(audit.body["items"][0]["details"]["after"]["two_factor_required"], new["two_factor_required"]);
    t.shutdown().await;
}
