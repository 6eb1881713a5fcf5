//! Canned responses with variables, macros that do several things at once, and who may
//! change shared ones.

use kefu_testkit::{Backend, StatusCode, spawn_app};
use serde_json::json;

both_backends!(canned_responses_fill_variables, macros_apply_several_actions_at_once);

async fn canned_responses_fill_variables(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (agent, me) = t.signed_in("agent").await;
    let (supervisor, _) = t.signed_in("supervisor").await;
    let body = "您好 {{contact.name}}，工单 #{{conversation.number}} 由 {{agent.name}} 跟进。";
    let shared = supervisor
        .post("/api/v1/canned-responses", json!({"shortcut": "/greet", "title": "问候", "locale": "zh-CN", "body": body, "shared": true}))
        .await;
    assert_eq!(shared.status, StatusCode::CREATED, "{}", shared.text);
    assert_eq!(shared.body["shortcut"], "greet");
    assert!(shared.body["owner_id"].is_null());
    agent
        .post("/api/v1/canned-responses", json!({"shortcut": "x", "title": "t", "locale": "en", "body": "b", "shared": true}))
        .await
        .assert_problem(403, "forbidden");
    let own = agent
        .post("/api/v1/canned-responses", json!({"shortcut": "mine", "title": "Mine", "locale": "en", "body": "Hi {{contact.name}}"}))
        .await;
    assert_eq!(own.body["owner_id"], me["id"]);
    agent
        .post("/api/v1/canned-responses", json!({"shortcut": "mine", "title": "Again", "locale": "en", "body": "x"}))
        .await
        .assert_problem(409, "name_taken");
    agent
        .post("/api/v1/canned-responses", json!({"shortcut": "bad key", "title": "", "locale": "fr", "body": ""}))
        .await
        .assert_problem(422, "validation_failed");
    // An agent may not change a shared response, nor see another agent's own.
    let sid = shared.body["id"].as_str().unwrap();
    agent
        .put(&format!("/api/v1/canned-responses/{sid}"), json!({"shortcut": "greet", "title": "x", "locale": "zh-CN", "body": "x"}))
        .await
        .assert_problem(403, "forbidden");
    supervisor.delete(&format!("/api/v1/canned-responses/{}", own.body["id"].as_str().unwrap())).await.assert_problem(404, "not_found");

    let found = agent.get("/api/v1/canned-responses?q=/gre").await.body;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let conv = crate::inbox::open(&agent, "提币", "w@example.com", "hi").await;
    let rendered = agent.get(&format!("/api/v1/canned-responses/{sid}/render?conversation_id={}", conv["id"].as_str().unwrap())).await;
    assert_eq!(rendered.body["body"], format!("您好 王小明，工单 #{} 由 {} 跟进。", conv["number"], me["name"].as_str().unwrap()));
    t.shutdown().await;
}

async fn macros_apply_several_actions_at_once(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (agent, me) = t.signed_in("agent").await;
    let m = agent
        .post(
            "/api/v1/macros",
            json!({"name": "Deposit found", "actions": [
                {"type": "reply", "body": "{{contact.name}}，您的充值已到账。"},
                {"type": "add_tags", "tags": ["deposit"]},
                {"type": "assign", "agent_id": me["id"]},
                {"type": "set_status", "status": "resolved"}
            ]}),
        )
        .await;
    assert_eq!(m.status, StatusCode::CREATED, "{}", m.text);
    agent.post("/api/v1/macros", json!({"name": "Empty", "actions": []})).await.assert_problem(422, "validation_failed");
    agent.post("/api/v1/macros", json!({"name": "Bad", "actions": [{"type": "explode"}]})).await.assert_problem(422, "invalid_body");
    let conv = crate::inbox::open(&agent, "充值未到账", "m@example.com", "充值没到").await;
    let cid = conv["id"].as_str().unwrap();
    let applied = agent.post(&format!("/api/v1/conversations/{cid}/apply-macro"), json!({"macro_id": m.body["id"], "version": 1})).await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    assert_eq!(applied.body["conversation"]["status"], "resolved");
    assert_eq!(applied.body["conversation"]["tags"], json!(["deposit"]));
    assert_eq!(applied.body["conversation"]["assignee_id"], me["id"]);
    assert_eq!(applied.body["messages"][0]["body"], "王小明，您的充值已到账。");
    let stale = agent.post(&format!("/api/v1/conversations/{cid}/apply-macro"), json!({"macro_id": m.body["id"], "version": 1})).await;
    stale.assert_problem(409, "version_conflict");
    let tl = agent.get(&format!("/api/v1/conversations/{cid}/timeline")).await.body;
    assert!(tl["items"].as_array().unwrap().iter().any(|i| i["kind"] == "macro_applied" && i["data"]["macro"] == "Deposit found"));
    t.shutdown().await;
}
