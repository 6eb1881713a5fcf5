//! Personal API tokens: shown once, hashed at rest, scoped, revocable.

use kefu_testkit::{Backend, Client, StatusCode, spawn_app};
use serde_json::json;

both_backends!(tokens_act_within_their_scopes, revoked_and_expired_tokens_are_refused, tokens_cannot_exceed_their_creator);

async fn tokens_act_within_their_scopes(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let (admin, _) = t.signed_in("admin").await;
    let created = admin.post("/api/v1/me/tokens", json!({"name": "reporting", "scopes": ["read"]})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let secret = created.body["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("kefu_") && secret.len() > 40);
    assert!(secret.starts_with(created.body["token"]["prefix"].as_str().unwrap()));
    // The secret is never shown again, nor stored.
    let listed = admin.get("/api/v1/me/tokens").await;
    assert!(!listed.text.contains(&secret));
    assert_eq!(listed.body["items"][0]["scopes"], json!(["read"]));
    if backend == Backend::Sqlite {
        for f in ["kefu.db", "kefu.db-wal"] {
            let bytes = std::fs::read(t.db.data_dir.join(f)).unwrap_or_default();
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "secret stored in {f}");
        }
    }

    let reader = Client::with_token(&t.base, &secret);
    let agents = reader.get("/api/v1/agents").await;
    assert_eq!(agents.status, StatusCode::OK, "{}", agents.text);
    // Bearer requests need no CSRF token, but `read` cannot write…
    reader
        .post("/api/v1/agents", json!({"email": "x@example.com", "name": "X", "role": "agent", "password": "long enough pw"}))
        .await
        .assert_problem(403, "insufficient_scope");
    // …nor use admin rights without the `admin` scope.
    reader.get("/api/v1/audit").await.assert_problem(403, "insufficient_scope");

    let full =
        admin.post("/api/v1/me/tokens", json!({"name": "automation", "scopes": ["read", "write", "admin"], "expires_in_days": 30})).await;
    assert!(full.body["token"]["expires_at"].is_string());
    let auto = Client::with_token(&t.base, full.body["secret"].as_str().unwrap());
    let made = auto
        .post("/api/v1/agents", json!({"email": "bot@example.com", "name": "Made by token", "role": "agent", "password": "long enough pw"}))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    assert_eq!(auto.get("/api/v1/audit?action=agent.created").await.status, StatusCode::OK);
    t.shutdown().await;
}

async fn revoked_and_expired_tokens_are_refused(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (c, _) = t.signed_in("agent").await;
    let created = c.post("/api/v1/me/tokens", json!({"name": "cli", "scopes": ["read", "write"]})).await;
    let id = created.body["token"]["id"].as_str().unwrap();
    let tok = Client::with_token(&t.base, created.body["secret"].as_str().unwrap());
    assert_eq!(tok.get("/api/v1/me/tokens").await.status, StatusCode::OK);
    assert_eq!(c.delete(&format!("/api/v1/me/tokens/{id}")).await.status, StatusCode::NO_CONTENT);
    tok.get("/api/v1/me/tokens").await.assert_problem(401, "invalid_token");
    c.delete(&format!("/api/v1/me/tokens/{id}")).await.assert_problem(404, "not_found");
    Client::with_token(&t.base, "kefu_made_up").get("/api/v1/agents").await.assert_problem(401, "invalid_token");
    Client::with_token(&t.base, "").get("/api/v1/agents").await.assert_problem(401, "invalid_token");
    c.post("/api/v1/me/tokens", json!({"name": "", "scopes": []})).await.assert_problem(422, "validation_failed");
    c.post("/api/v1/me/tokens", json!({"name": "x", "scopes": ["root"]})).await.assert_problem(422, "invalid_body");
    c.post("/api/v1/me/tokens", json!({"name": "x", "scopes": ["read"], "expires_in_days": 0}))
        .await
        .assert_problem(422, "validation_failed");
    // A token just used (and so remembered for a moment) stops at once when its agent is
    // deactivated.
    let second = c.post("/api/v1/me/tokens", json!({"name": "cli2", "scopes": ["read"]})).await;
    let tok2 = Client::with_token(&t.base, second.body["secret"].as_str().unwrap());
    assert_eq!(tok2.get("/api/v1/me/tokens").await.status, StatusCode::OK);
    t.relax_two_factor().await;
    let (admin, _) = t.signed_in("admin").await;
    let me = c.get("/api/v1/auth/session").await.body["agent"]["id"].as_str().unwrap().to_string();
    let off = admin.patch(&format!("/api/v1/agents/{me}"), json!({"active": false})).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text);
    tok2.get("/api/v1/me/tokens").await.assert_problem(401, "invalid_token");
    t.shutdown().await;
}

async fn tokens_cannot_exceed_their_creator(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (c, _) = t.signed_in("agent").await;
    c.post("/api/v1/me/tokens", json!({"name": "x", "scopes": ["admin"]})).await.assert_problem(422, "validation_failed");
    let read_only = c.post("/api/v1/me/tokens", json!({"name": "ro", "scopes": ["read", "write"]})).await;
    let tok = Client::with_token(&t.base, read_only.body["secret"].as_str().unwrap());
    // A token can mint tokens only within its own scopes.
    let r = tok.post("/api/v1/me/tokens", json!({"name": "more", "scopes": ["read"]})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    t.shutdown().await;
}
