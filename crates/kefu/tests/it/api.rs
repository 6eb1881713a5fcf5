//! API conventions: problem+json for every mistake, idempotent creates, CSRF, pagination,
//! security headers, the OpenAPI document, probes and metrics.

use kefu_testkit::{Backend, StatusCode, spawn_app};
use serde_json::json;

both_backends!(
    bad_input_never_gets_a_5xx,
    creates_are_idempotent,
    cookie_writes_need_the_csrf_token,
    agents_page_with_a_cursor,
    pages_carry_security_headers,
    openapi_documents_every_route,
    probes_and_metrics,
);

async fn bad_input_never_gets_a_5xx(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let (c, _) = t.signed_in("admin").await;
    use reqwest::Method as M;
    let json_ct = Some("application/json");
    c.raw(M::POST, "/api/v1/agents", json_ct, b"{\"email\": ".to_vec()).await.assert_problem(400, "malformed_json");
    c.raw(M::POST, "/api/v1/agents", json_ct, b"[1,2,3]".to_vec()).await.assert_problem(422, "invalid_body");
    c.raw(M::POST, "/api/v1/agents", json_ct, br#"{"email": 5, "name": "x", "role": "agent", "password": "long enough pw"}"#.to_vec())
        .await
        .assert_problem(422, "invalid_body");
    let unknown = c
        .raw(
            M::POST,
            "/api/v1/agents",
            json_ct,
            br#"{"email": "a@example.com", "name": "x", "role": "agent", "password": "long enough pw", "is_root": true}"#.to_vec(),
        )
        .await;
    unknown.assert_problem(422, "invalid_body");
    assert!(unknown.body["detail"].as_str().unwrap().contains("is_root"), "{}", unknown.text);
    c.raw(
        M::POST,
        "/api/v1/agents",
        json_ct,
        br#"{"email": "a@example.com", "name": "x", "role": "wizard", "password": "long enough pw"}"#.to_vec(),
    )
    .await
    .assert_problem(422, "invalid_body");
    c.raw(M::POST, "/api/v1/agents", None, br#"{"email": "a@example.com"}"#.to_vec()).await.assert_problem(415, "unsupported_media_type");
    c.raw(M::POST, "/api/v1/agents", Some("text/plain"), b"hello".to_vec()).await.assert_problem(415, "unsupported_media_type");
    // Just over the 1 MiB limit: the server answers 413 before reading the rest, and a small
    // excess still fits the socket buffer, so the client always gets to read that answer.
    let huge = format!("{{\"email\": \"{}\"}}", "a".repeat(1024 * 1024 + 1024));
    c.raw(M::POST, "/api/v1/agents", json_ct, huge.into_bytes()).await.assert_problem(413, "payload_too_large");
    c.raw(M::POST, "/api/v1/agents", json_ct, vec![0xff, 0xfe, 0x00]).await.assert_problem(400, "malformed_json");
    let invalid = c.post("/api/v1/agents", json!({"email": "not-an-email", "name": " ", "role": "agent", "password": "short"})).await;
    invalid.assert_problem(422, "validation_failed");
    let fields: Vec<&str> = invalid.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "name", "password"]);
    c.get("/api/v1/nothing-here").await.assert_problem(404, "route_not_found");
    c.get("/no/such/page").await.assert_problem(404, "route_not_found");
    let wrong_method = c.send(M::PUT, "/api/v1/agents", Some(json!({})), &[]).await;
    wrong_method.assert_problem(405, "method_not_allowed");
    assert!(wrong_method.header("allow").contains("GET"));
    c.get("/api/v1/agents?limit=abc").await.assert_problem(400, "invalid_query");
    c.get("/api/v1/agents?cursor=garbage").await.assert_problem(422, "validation_failed");
    c.get("/api/v1/agents?unknown=1").await.assert_problem(400, "invalid_query");
    c.get("/api/v1/agents/not-an-id").await.assert_problem(404, "not_found");
    c.get("/api/v1/agents/01JD3W6Q2R8V9Y5X4N7M1K0P2S").await.assert_problem(404, "not_found");
    c.get("/api/v1/audit?since=yesterday").await.assert_problem(400, "invalid_query");
    c.get("/api/v1/audit?cursor=-").await.assert_problem(422, "validation_failed");
    c.patch("/api/v1/agents/01JD3W6Q2R8V9Y5X4N7M1K0P2S", json!({"active": "yes"})).await.assert_problem(422, "invalid_body");
    c.send(
        M::POST,
        "/api/v1/agents",
        Some(json!({"email": "a@example.com", "name": "x", "role": "agent", "password": "long enough pw"})),
        &[("idempotency-key", "")],
    )
    .await
    .assert_problem(400, "invalid_idempotency_key");
    t.shutdown().await;
}

async fn creates_are_idempotent(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let (c, _) = t.signed_in("admin").await;
    let body = json!({"email": "once@example.com", "name": "Once", "role": "agent", "password": "long enough pw"});
    let key = [("idempotency-key", "create-once-7f3a")];
    let first = c.send(reqwest::Method::POST, "/api/v1/agents", Some(body.clone()), &key).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = c.send(reqwest::Method::POST, "/api/v1/agents", Some(body.clone()), &key).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.header("idempotent-replayed"), "true");
    assert_eq!(again.header("content-type"), "application/json");
    // Without the key the same body is a second attempt, refused as a duplicate.
    c.post("/api/v1/agents", body.clone()).await.assert_problem(409, "email_taken");
    // The same key for a different request is a client bug.
    let other = json!({"email": "twice@example.com", "name": "Twice", "role": "agent", "password": "long enough pw"});
    c.send(reqwest::Method::POST, "/api/v1/agents", Some(other), &key).await.assert_problem(422, "idempotency_key_reused");
    // Keys belong to their caller: another admin's identical key is a different request.
    let (c2, _) = t.signed_in("admin").await;
    let theirs = c2
        .send(
            reqwest::Method::POST,
            "/api/v1/agents",
            Some(json!({"email": "theirs@example.com", "name": "T", "role": "agent", "password": "long enough pw"})),
            &key,
        )
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.text);
    let list = c.get("/api/v1/agents").await;
    let count = list.body["items"].as_array().unwrap().iter().filter(|a| a["email"] == "once@example.com").count();
    assert_eq!(count, 1);
    // Failed validation is remembered too: the retry gets the same answer.
    let bad = json!({"email": "bad", "name": "B", "role": "agent", "password": "long enough pw"});
    let k2 = [("idempotency-key", "bad-one")];
    c.send(reqwest::Method::POST, "/api/v1/agents", Some(bad.clone()), &k2).await.assert_problem(422, "validation_failed");
    let replay = c.send(reqwest::Method::POST, "/api/v1/agents", Some(bad), &k2).await;
    replay.assert_problem(422, "validation_failed");
    assert_eq!(replay.header("idempotent-replayed"), "true");
    t.shutdown().await;
}

async fn cookie_writes_need_the_csrf_token(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (c, _) = t.signed_in("agent").await;
    // Same cookie jar, no CSRF header: as a forged cross-site form would send it.
    let forged =
        c.http.post(format!("{}/api/v1/me/tokens", t.base)).json(&json!({"name": "evil", "scopes": ["read"]})).send().await.unwrap();
    assert_eq!(forged.status(), 403);
    let body: serde_json::Value = forged.json().await.unwrap();
    assert_eq!(body["code"], "csrf_failed");
    let wrong = c.http.post(format!("{}/api/v1/auth/logout", t.base)).header("x-csrf-token", "guess").send().await.unwrap();
    assert_eq!(wrong.status(), 403);
    // Reads need no token, and the session survived.
    assert_eq!(c.get("/api/v1/me/tokens").await.body["items"].as_array().unwrap().len(), 0);
    t.shutdown().await;
}

async fn agents_page_with_a_cursor(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let (c, _) = t.signed_in("admin").await;
    for i in 0..6 {
        t.create_agent(&format!("p{i}@example.com"), "agent", "long enough pw").await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(cur) => format!("/api/v1/agents?limit=3&cursor={cur}"),
            None => "/api/v1/agents?limit=3".to_string(),
        };
        let r = c.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        pages += 1;
        for a in r.body["items"].as_array().unwrap() {
            seen.push(a["email"].as_str().unwrap().to_string());
        }
        match r.body["next_cursor"].as_str() {
            Some(n) => cursor = Some(n.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 7);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 7, "duplicates across pages: {seen:?}");
    assert_eq!(c.get("/api/v1/agents?limit=0").await.body["items"].as_array().unwrap().len(), 1);
    // An empty cursor is the first page, as a form with a blank field would send it.
    assert_eq!(c.get("/api/v1/agents?cursor=&limit=3").await.body["items"].as_array().unwrap().len(), 3);
    t.shutdown().await;
}

async fn pages_carry_security_headers(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let c = t.client();
    for path in ["/console", "/console/admin/agents", "/api/docs", "/api/v1/auth/session", "/healthz", "/nope", "/assets/console/app.js"] {
        let r = c.get(path).await;
        let csp = r.header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"), "{path}: {csp}");
        assert_eq!(r.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(r.header("x-frame-options"), "DENY", "{path}");
    }
    let page = c.get("/console/login").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(page.text.contains("/assets/console/app.js"));
    let js = c.get("/assets/console/app.js").await;
    assert!(js.header("content-type").contains("javascript"));
    c.get("/assets/../Cargo.toml").await.assert_problem(404, "route_not_found");
    let root = c.get("/").await;
    assert_eq!(root.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(root.header("location"), "/console");
    t.shutdown().await;
}

async fn openapi_documents_every_route(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let doc = t.client().get("/api/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc.body["paths"].as_object().unwrap();
    for (p, m) in [
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/login/totp", "post"),
        ("/api/v1/agents", "post"),
        ("/api/v1/agents/{id}", "patch"),
        ("/api/v1/me/tokens", "post"),
        ("/api/v1/audit", "get"),
        ("/api/v1/settings/security", "put"),
    ] {
        assert!(paths.get(p).and_then(|x| x.get(m)).is_some(), "{m} {p} undocumented");
    }
    // Errors are documented as what they are, on every operation.
    for (p, item) in paths {
        for (m, op) in item.as_object().unwrap() {
            for status in ["400", "401", "422"] {
                let content = &op["responses"][status]["content"];
                assert!(content["application/problem+json"].is_object(), "{m} {p} {status}: {content}");
                assert!(content.get("application/json").is_none(), "{m} {p} {status} claims plain JSON");
            }
        }
    }
    let problem = &doc.body["components"]["schemas"]["Problem"];
    assert!(problem["properties"]["code"].is_object());
    t.shutdown().await;
}

async fn probes_and_metrics(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let c = t.client();
    assert_eq!(c.get("/healthz").await.status, StatusCode::OK);
    assert_eq!(c.get("/readyz").await.status, StatusCode::OK);
    c.get("/api/v1/auth/session").await;
    let m = c.get("/metrics").await;
    assert!(m.header("content-type").starts_with("text/plain"));
    assert!(m.text.contains(r#"kefu_http_requests_total{method="GET",route="/api/v1/auth/session",status="401"} 1"#), "{}", m.text);
    assert!(m.text.contains("kefu_http_request_duration_seconds_bucket"));
    // Unknown paths share one series instead of one each.
    c.get("/random/a").await;
    c.get("/random/b").await;
    let m = c.get("/metrics").await;
    assert!(!m.text.contains("/random/a"));
    // With the database gone, readiness says so (and health does not).
    t.app.store().close().await;
    c.get("/readyz").await.assert_problem(503, "not_ready");
    assert_eq!(c.get("/healthz").await.status, StatusCode::OK);
}

both_backends!(every_documented_route_survives_garbage);

/// Sends malformed and mistyped input to every route the OpenAPI document lists, signed in as
/// an admin: whatever the answer, it is a problem+json 4xx, never a 5xx.
async fn every_documented_route_survives_garbage(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let (c, _) = t.signed_in("admin").await;
    let doc = c.get("/api/openapi.json").await.body;
    let bodies: Vec<(Option<&str>, Vec<u8>)> = vec![
        (Some("application/json"), b"{".to_vec()),
        (Some("application/json"), b"null".to_vec()),
        (Some("application/json"), b"\"\xe5\xae\xa2\xe6\x9c\x8d\"".to_vec()),
        (Some("application/json"), br#"{"email": [], "name": {}, "role": 7, "password": null, "code": 1e309, "scopes": "read"}"#.to_vec()),
        (Some("application/json"), format!("{{\"name\": \"{}\"}}", "名".repeat(5000)).into_bytes()),
        (Some("application/xml"), b"<a/>".to_vec()),
        (Some("application/json"), br#"{"name": "a\u0000b", "email": "a\u0000@example.com", "role": "agent", "password": "pass\u0000word!!", "scopes": ["read"], "code": "\u0000"}"#.to_vec()),
        (None, Vec::new()),
    ];
    let ids = ["01JD3W6Q2R8V9Y5X4N7M1K0P2S", "%00", "..", "x'%20OR%201=1--", &"9".repeat(300)];
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, _) in item.as_object().unwrap() {
            if path == "/api/v1/auth/logout" || path.starts_with("/api/v1/me/sessions/") {
                continue; // would end the session the sweep runs on
            }
            if path == "/api/v1/events" {
                continue; // an endless stream; live.rs tests it
            }
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for id in ids {
                let concrete = path.replace("{id}", id).replace("{ip}", id);
                for (ct, body) in &bodies {
                    let query = "?limit=-5&cursor=%FF&action=%00&actor_id=%00";
                    let r = c.raw(m.clone(), &format!("{concrete}{query}"), *ct, body.clone()).await;
                    assert!(r.status.is_client_error() || r.status.is_success(), "{method} {concrete} {ct:?}: {} {}", r.status, r.text);
                    if r.status.is_client_error() {
                        assert!(r.header("content-type").starts_with("application/problem+json"), "{method} {concrete}: {}", r.text);
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 500, "only {checked} requests");
    // The session survived the sweep: nothing above signed it out or broke it.
    assert_eq!(c.get("/api/v1/auth/session").await.status, StatusCode::OK);
    t.shutdown().await;
}

/// Every stable error code is produced by some test of this suite, except those that cannot
/// be provoked from outside (listed with the reason).
#[test]
fn every_error_code_is_exercised() {
    let unreachable =
        [("internal", "only a server fault produces it"), ("idempotency_key_in_flight", "needs two requests racing inside one handler")];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    let sources: String = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
        .replace("every_error_code_is_exercised", "");
    let codes = kefu_app::AppError::CODES.iter().chain(kefu_web::problem::WEB_CODES);
    let missing: Vec<&&str> =
        codes.filter(|c| !unreachable.iter().any(|(u, _)| u == *c)).filter(|c| !sources.contains(&format!("\"{c}\""))).collect();
    assert!(missing.is_empty(), "no test produces {missing:?}");
}
