//! Least privilege: every admin endpoint refuses agents and supervisors, and everything
//! but sign-in refuses strangers.

use kefu_testkit::{Backend, StatusCode, spawn_app};
use serde_json::{Value, json};

both_backends!(admin_endpoints_refuse_non_admins, everything_needs_a_session, the_last_admin_cannot_be_demoted);

fn admin_endpoints(agent_id: &str) -> Vec<(reqwest::Method, String, Option<Value>)> {
    use reqwest::Method as M;
    vec![
        (
            M::POST,
            "/api/v1/agents".into(),
            Some(json!({"email": "n@example.com", "name": "N", "role": "agent", "password": "long enough pw"})),
        ),
        (M::PATCH, format!("/api/v1/agents/{agent_id}"), Some(json!({"role": "admin"}))),
        (M::POST, format!("/api/v1/agents/{agent_id}/reset-2fa"), None),
        (M::POST, format!("/api/v1/agents/{agent_id}/unlock"), None),
        (M::DELETE, format!("/api/v1/agents/{agent_id}/sessions"), None),
        (M::GET, "/api/v1/audit".into(), None),
        (M::GET, "/api/v1/settings/security".into(), None),
        (
            M::PUT,
            "/api/v1/settings/security".into(),
            Some(json!({"two_factor_required": {"admin": false, "supervisor": false, "agent": false}})),
        ),
        (M::GET, "/api/v1/admin/ip-lockouts".into(), None),
        (M::DELETE, "/api/v1/admin/ip-lockouts/127.0.0.1".into(), None),
    ]
}

async fn admin_endpoints_refuse_non_admins(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let (admin, _) = t.signed_in("admin").await;
    for role in ["agent", "supervisor"] {
        let (c, me) = t.signed_in(role).await;
        for (method, path, body) in admin_endpoints(me["id"].as_str().unwrap()) {
            let r = c.send(method.clone(), &path, body, &[]).await;
            r.assert_problem(403, "forbidden");
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{role} {method} {path}");
        }
        // Nothing changed: still their old role.
        assert_eq!(admin.get(&format!("/api/v1/agents/{}", me["id"].as_str().unwrap())).await.body["role"], role);
    }
    t.shutdown().await;
}

async fn everything_needs_a_session(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let c = t.client();
    let id = "01JD3W6Q2R8V9Y5X4N7M1K0P2S";
    let mut all = admin_endpoints(id);
    use reqwest::Method as M;
    for (m, p) in [
        (M::GET, "/api/v1/agents"),
        (M::GET, "/api/v1/auth/session"),
        (M::POST, "/api/v1/auth/logout"),
        (M::GET, "/api/v1/me/sessions"),
        (M::GET, "/api/v1/me/tokens"),
        (M::POST, "/api/v1/me/2fa/enrol"),
        (M::POST, "/api/v1/me/password"),
    ] {
        all.push((m, p.to_string(), None));
    }
    for (method, path, body) in all {
        c.send(method, &path, body, &[]).await.assert_problem(401, "unauthenticated");
    }
    t.shutdown().await;
}

async fn the_last_admin_cannot_be_demoted(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let (admin, me) = t.signed_in("admin").await;
    let id = me["id"].as_str().unwrap();
    admin.patch(&format!("/api/v1/agents/{id}"), json!({"role": "agent"})).await.assert_problem(409, "last_admin");
    admin.patch(&format!("/api/v1/agents/{id}"), json!({"active": false})).await.assert_problem(409, "last_admin");
    let second = admin
        .post("/api/v1/agents", json!({"email": "two@example.com", "name": "Second", "role": "admin", "password": "long enough pw"}))
        .await;
    assert_eq!(second.status, StatusCode::CREATED);
    let r = admin.patch(&format!("/api/v1/agents/{id}"), json!({"role": "supervisor", "name": "Former Admin"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!((r.body["role"].as_str(), r.body["name"].as_str()), (Some("supervisor"), Some("Former Admin")));
    // The change took effect at once: no more admin rights.
    admin.get("/api/v1/audit").await.assert_problem(403, "forbidden");
    admin.patch(&format!("/api/v1/agents/{}", "01JD3W6Q2R8V9Y5X4N7M1K0P2S"), json!({"name": "x"})).await.assert_problem(403, "forbidden");
    t.shutdown().await;
}
