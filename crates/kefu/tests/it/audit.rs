//! The audit log records security actions and detects any edit or removal.

use kefu_testkit::{Backend, PASSWORD, StatusCode, spawn_app};
use serde_json::json;

both_backends!(security_actions_are_recorded_and_filterable, verification_names_the_first_tampered_record);

async fn security_actions_are_recorded_and_filterable(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let (admin, me) = t.signed_in("admin").await;
    let made =
        admin.post("/api/v1/agents", json!({"email": "n@example.com", "name": "N", "role": "agent", "password": "long enough pw"})).await;
    let id = made.body["id"].as_str().unwrap();
    admin.patch(&format!("/api/v1/agents/{id}"), json!({"role": "supervisor"})).await;
    t.client().login("n@example.com", "wrong password").await;
    admin.post("/api/v1/me/tokens", json!({"name": "t", "scopes": ["read"]})).await;

    let all = admin.get("/api/v1/audit?limit=200").await;
    assert_eq!(all.status, StatusCode::OK);
    let actions: Vec<&str> = all.body["items"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    for a in ["agent.created", "auth.login", "agent.role_changed", "auth.login_failed", "token.created"] {
        assert!(actions.contains(&a), "{a} not in {actions:?}");
    }
    // Newest first.
    assert_eq!(actions[0], "token.created");
    let changed = admin.get("/api/v1/audit?action=agent.role_changed").await;
    let rec = &changed.body["items"][0];
    assert_eq!(rec["actor_id"], me["id"]);
    assert_eq!(rec["target"], id);
    assert_eq!(rec["details"], json!({"from": "agent", "to": "supervisor"}));
    assert_eq!(rec["ip"], "127.0.0.1");
    assert_eq!(rec["hash"].as_str().unwrap().len(), 64);
    let failed = admin.get("/api/v1/audit?action=auth.login_failed").await;
    assert_eq!(failed.body["items"][0]["details"]["reason"], "wrong_password");
    let mine = admin.get(&format!("/api/v1/audit?actor_id={}&limit=1", me["id"].as_str().unwrap())).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
    let next = mine.body["next_cursor"].as_str().unwrap();
    let page2 = admin.get(&format!("/api/v1/audit?actor_id={}&limit=1&cursor={next}", me["id"].as_str().unwrap())).await;
    assert!(page2.body["items"][0]["seq"].as_i64() < mine.body["items"][0]["seq"].as_i64());
    let future = admin.get("/api/v1/audit?since=2999-01-01T00:00:00Z").await;
    assert_eq!(future.body["items"].as_array().unwrap().len(), 0);
    assert!(t.app.verify_audit().await.unwrap().first_bad.is_none());
    t.shutdown().await;
}

async fn verification_names_the_first_tampered_record(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    for i in 0..5 {
        t.create_agent(&format!("a{i}@example.com"), "agent", PASSWORD).await;
    }
    let ok = t.app.verify_audit().await.unwrap();
    assert_eq!((ok.checked, ok.first_bad.is_none()), (5, true));
    // Someone with database access rewrites history…
    t.db.execute("UPDATE audit_log SET details = '{\"email\":\"someone-else@example.com\",\"role\":\"agent\"}' WHERE seq = 3").await;
    let bad = t.app.verify_audit().await.unwrap();
    let first = bad.first_bad.expect("tampering not detected");
    assert_eq!(first.seq, 3);
    assert!(first.reason.contains("edited"), "{}", first.reason);
    assert_eq!(bad.checked, 2);
    // …or deletes a record and re-links the chain around it: the next record's hash no longer fits.
    t.db.execute("DELETE FROM audit_log WHERE seq = 3").await;
    let gap = t.app.verify_audit().await.unwrap().first_bad.expect("deletion not detected");
    assert_eq!(gap.seq, 3);
    assert!(gap.reason.contains("missing"), "{}", gap.reason);
    t.shutdown().await;
}
