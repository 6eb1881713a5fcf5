//! The unified inbox as agents use it over HTTP: a conversation's life from first message to
//! close, optimistic concurrency, retries that never duplicate, merges, views, bulk actions,
//! and private teams that hide their conversations.

use kefu_testkit::{Backend, Client, StatusCode, spawn_app};
use serde_json::{Value, json};

both_backends!(
    a_conversation_lives_from_first_message_to_close,
    a_stale_update_gets_409,
    a_retried_send_never_duplicates,
    merging_moves_the_messages_and_closes_the_source,
    views_counts_sorting_and_bulk_actions,
    private_teams_hide_their_conversations,
    contacts_are_found_by_identity_and_merge,
    bad_input_gets_clear_errors,
    concurrent_creates_share_one_new_contact,
);

pub async fn open(c: &Client, subject: &str, email: &str, body: &str) -> Value {
    let r = c
        .post(
            "/api/v1/conversations",
            json!({"subject": subject, "contact": {"name": "王小明", "email": email}, "message": {"body": body}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["conversation"].clone()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn timeline_kinds(c: &Client, conv: &str) -> Vec<String> {
    let t = c.get(&format!("/api/v1/conversations/{conv}/timeline")).await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text);
    t.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            if i["type"] == "message" {
                format!("message:{}", i["author"]["kind"].as_str().unwrap())
            } else {
                i["kind"].as_str().unwrap().to_string()
            }
        })
        .collect()
}

async fn a_conversation_lives_from_first_message_to_close(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (c, me) = t.signed_in("agent").await;
    let (colleague_client, colleague) = t.signed_in("agent").await;
    let conv = open(&c, "提币没到账", "wang@example.com", "我的USDT提币一直没到账").await;
    let cid = id(&conv);
    assert!(conv["number"].as_i64().unwrap() >= 10001);
    assert_eq!(conv["status"], "open");
    assert!(conv["waiting_since"].is_string(), "a customer waits: {conv}");
    assert!(conv["first_response_at"].is_null());

    // By number too, with the version as ETag.
    let by_number = c.get(&format!("/api/v1/conversations/{}", conv["number"])).await;
    assert_eq!(by_number.body["id"], conv["id"]);
    assert_eq!(by_number.header("etag"), "\"1\"");

    let reply = c.post(&format!("/api/v1/conversations/{cid}/messages"), json!({"body": "您好，我们正在核查。"})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["seq"], 2);
    assert_eq!(reply.body["author"]["kind"], "agent");
    let after_reply = c.get(&format!("/api/v1/conversations/{cid}")).await.body;
    assert!(after_reply["first_response_at"].is_string());
    assert!(after_reply["waiting_since"].is_null(), "the reply ends the wait");

    // A note mentioning a colleague notifies them, and only them.
    let mention = format!("@[{}]({}) 请看一下链上记录", colleague["name"].as_str().unwrap(), id(&colleague));
    let note = c.post(&format!("/api/v1/conversations/{cid}/messages"), json!({"body": mention, "private": true})).await;
    assert_eq!(note.status, StatusCode::CREATED);
    assert_eq!(note.body["private"], true);
    assert_eq!(note.body["mentions"], json!([id(&colleague)]));
    let inbox = colleague_client.get("/api/v1/me/notifications?unread=true").await;
    assert_eq!(inbox.body["items"].as_array().unwrap().len(), 1, "{}", inbox.text);
    assert_eq!(inbox.body["items"][0]["conversation_id"], cid.as_str());
    let nid = inbox.body["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(colleague_client.post(&format!("/api/v1/me/notifications/{nid}/read"), json!({})).await.status, StatusCode::NO_CONTENT);
    assert!(colleague_client.get("/api/v1/me/notifications?unread=true").await.body["items"].as_array().unwrap().is_empty());
    assert!(c.get("/api/v1/me/notifications").await.body["items"].as_array().unwrap().is_empty());

    let assigned = c.patch(&format!("/api/v1/conversations/{cid}"), json!({"assignee_id": id(&me), "priority": "high"})).await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.text);
    assert_eq!(assigned.body["assignee_id"], id(&me).as_str());
    assert_eq!(assigned.body["priority"], "high");
    let resolved = c.patch(&format!("/api/v1/conversations/{cid}"), json!({"status": "resolved"})).await;
    assert_eq!(resolved.body["status"], "resolved");
    assert!(resolved.body["resolved_at"].is_string());

    // The customer writes again (through the API channel): resolved opens again.
    let again = c.post(&format!("/api/v1/conversations/{cid}/messages"), json!({"body": "还是没到", "author": "customer"})).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    let reopened = c.get(&format!("/api/v1/conversations/{cid}")).await.body;
    assert_eq!(reopened["status"], "open");
    assert!(reopened["resolved_at"].is_null());
    assert!(reopened["waiting_since"].is_string());

    // Closed stays closed: the customer must open a new conversation, and agents cannot reopen it.
    assert_eq!(c.patch(&format!("/api/v1/conversations/{cid}"), json!({"status": "closed"})).await.body["status"], "closed");
    c.post(&format!("/api/v1/conversations/{cid}/messages"), json!({"body": "hello?", "author": "customer"}))
        .await
        .assert_problem(409, "conversation_closed");
    c.patch(&format!("/api/v1/conversations/{cid}"), json!({"status": "open"})).await.assert_problem(409, "conversation_closed");

    let kinds = timeline_kinds(&c, &cid).await;
    assert_eq!(
        kinds,
        [
            "created",
            "message:customer",
            "message:agent",
            "message:agent",
            "priority_changed",
            "assigned",
            "status_changed",
            "message:customer",
            "status_changed",
            "status_changed"
        ]
        .map(String::from)
        .to_vec(),
        "the timeline records every change in order"
    );
    t.shutdown().await;
}

async fn a_stale_update_gets_409(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (a, _) = t.signed_in("agent").await;
    let (b, _) = t.signed_in("agent").await;
    let cid = id(&open(&a, "2FA lost", "li@example.com", "I lost my phone").await);
    let path = format!("/api/v1/conversations/{cid}");
    // Both load version 1; the first change wins, the second is refused.
    let first = a.send(reqwest::Method::PATCH, &path, Some(json!({"priority": "urgent"})), &[("if-match", "\"1\"")]).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.header("etag"), "\"2\"");
    let second = b.send(reqwest::Method::PATCH, &path, Some(json!({"priority": "low"})), &[("if-match", "\"1\"")]).await;
    second.assert_problem(409, "version_conflict");
    b.patch(&path, json!({"version": 1, "status": "pending"})).await.assert_problem(409, "version_conflict");
    assert_eq!(a.get(&path).await.body["priority"], "urgent", "the stale write changed nothing");
    // With the fresh version it goes through.
    let third = b.patch(&path, json!({"version": 2, "priority": "low"})).await;
    assert_eq!(third.body["priority"], "low");
    assert_eq!(third.body["version"], 3);
    b.send(reqwest::Method::PATCH, &path, Some(json!({"version": 3})), &[("if-match", "\"2\"")])
        .await
        .assert_problem(400, "invalid_request");
    b.send(reqwest::Method::PATCH, &path, Some(json!({})), &[("if-match", "soon")]).await.assert_problem(400, "invalid_request");
    t.shutdown().await;
}

async fn a_retried_send_never_duplicates(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (c, _) = t.signed_in("agent").await;
    let cid = id(&open(&c, "Deposit", "d@example.com", "where is my deposit").await);
    let path = format!("/api/v1/conversations/{cid}/messages");
    let send = || c.post(&path, json!({"body": "checking", "client_key": "console-42"}));
    let first = send().await;
    assert_eq!(first.status, StatusCode::CREATED);
    let retry = send().await;
    assert_eq!(retry.status, StatusCode::OK, "a retry returns the stored message");
    assert_eq!(retry.body["id"], first.body["id"]);
    assert_eq!(c.get(&format!("/api/v1/conversations/{cid}")).await.body["message_count"], 2);

    // Ten concurrent sends with one key store one message.
    let sends: Vec<_> = (0..10)
        .map(|_| {
            let c = c.clone();
            let path = format!("/api/v1/conversations/{cid}/messages");
            tokio::spawn(async move { c.post(&path, json!({"body": "same", "client_key": "burst"})).await })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for s in sends {
        let r = s.await.unwrap();
        assert!(r.status == StatusCode::CREATED || r.status == StatusCode::OK, "{}", r.text);
        ids.insert(r.body["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(c.get(&format!("/api/v1/conversations/{cid}")).await.body["message_count"], 3);

    // The Idempotency-Key header makes creating a conversation retry-safe too.
    let body = json!({"subject": "same", "contact": {"email": "i@example.com"}, "message": {"body": "x"}});
    let a = c.send(reqwest::Method::POST, "/api/v1/conversations", Some(body.clone()), &[("idempotency-key", "create-1")]).await;
    let b = c.send(reqwest::Method::POST, "/api/v1/conversations", Some(body), &[("idempotency-key", "create-1")]).await;
    assert_eq!(a.body["conversation"]["number"], b.body["conversation"]["number"]);
    assert_eq!(b.header("idempotent-replayed"), "true");
    t.shutdown().await;
}

async fn merging_moves_the_messages_and_closes_the_source(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (c, _) = t.signed_in("agent").await;
    let target = open(&c, "Withdrawal pending", "m@example.com", "my withdrawal is pending").await;
    let source = open(&c, "Withdrawal pending (again)", "m@example.com", "still pending, please help").await;
    let (tid, sid) = (id(&target), id(&source));
    c.post(&format!("/api/v1/conversations/{sid}/messages"), json!({"body": "looking", "client_key": "k1"})).await;
    let merged = c.post(&format!("/api/v1/conversations/{tid}/merge"), json!({"source_ids": [sid]})).await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.text);
    assert_eq!(merged.body["message_count"], 3);
    let tl = c.get(&format!("/api/v1/conversations/{tid}/timeline")).await.body;
    let seqs: Vec<i64> =
        tl["items"].as_array().unwrap().iter().filter(|i| i["type"] == "message").map(|i| i["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, vec![1, 2, 3], "messages keep one gapless sequence");
    assert!(tl["items"].as_array().unwrap().iter().any(|i| i["kind"] == "merged_from"));
    let src = c.get(&format!("/api/v1/conversations/{sid}")).await.body;
    assert_eq!(src["status"], "closed");
    assert_eq!(src["merged_into"], tid.as_str());
    c.post(&format!("/api/v1/conversations/{sid}/messages"), json!({"body": "x"})).await.assert_problem(409, "conversation_merged");
    c.post(&format!("/api/v1/conversations/{tid}/merge"), json!({"source_ids": [sid]})).await.assert_problem(409, "conversation_merged");
    c.post(&format!("/api/v1/conversations/{tid}/merge"), json!({"source_ids": [tid]})).await.assert_problem(422, "validation_failed");
    // Merged-away conversations leave the default listing.
    let all = c.get("/api/v1/conversations").await.body;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    t.shutdown().await;
}

async fn views_counts_sorting_and_bulk_actions(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (c, me) = t.signed_in("agent").await;
    let mut ids = Vec::new();
    for (i, p) in ["low", "urgent", "normal"].iter().enumerate() {
        let r = c
            .post(
                "/api/v1/conversations",
                json!({"subject": format!("case {i}"), "priority": p, "contact": {"email": format!("c{i}@example.com")}, "message": {"body": "hi"}}),
            )
            .await;
        ids.push(id(&r.body["conversation"]));
    }
    let counts = c.get("/api/v1/conversations/counts").await.body;
    assert_eq!((counts["unassigned"].as_i64(), counts["mine"].as_i64(), counts["open"].as_i64()), (Some(3), Some(0), Some(3)));

    let bulk = c.post("/api/v1/conversations/bulk", json!({"ids": ids, "action": {"type": "assign", "agent_id": id(&me)}})).await;
    assert_eq!(bulk.status, StatusCode::OK, "{}", bulk.text);
    assert!(bulk.body["items"].as_array().unwrap().iter().all(|r| r["ok"] == true));
    c.post("/api/v1/conversations/bulk", json!({"ids": [ids[0], ids[1]], "action": {"type": "add_tags", "tags": ["VIP", "提币"]}})).await;
    c.post("/api/v1/conversations/bulk", json!({"ids": [ids[2]], "action": {"type": "set_status", "status": "resolved"}})).await;
    let counts = c.get("/api/v1/conversations/counts").await.body;
    assert_eq!(counts["mine"], 2, "{counts}");
    assert_eq!(counts["unassigned"], 0);
    assert_eq!(counts["by_status"]["resolved"], 1);

    let mine = c.get("/api/v1/conversations?view=mine&sort=priority").await.body;
    let subjects: Vec<&str> = mine["items"].as_array().unwrap().iter().map(|x| x["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, vec!["case 1", "case 0"], "urgent first");
    let tagged = c.get("/api/v1/conversations?tag=%E6%8F%90%E5%B8%81").await.body;
    assert_eq!(tagged["items"].as_array().unwrap().len(), 2);
    assert_eq!(tagged["items"][0]["tags"], json!(["vip", "提币"]));
    let tags = c.get("/api/v1/tags").await.body;
    assert_eq!(tags["items"][0]["count"], 2);

    // Pages follow the cursor without overlap.
    let p1 = c.get("/api/v1/conversations?limit=2").await.body;
    assert_eq!(p1["items"].as_array().unwrap().len(), 2);
    let cursor = p1["next_cursor"].as_str().unwrap();
    let p2 = c.get(&format!("/api/v1/conversations?limit=2&cursor={cursor}")).await.body;
    assert_eq!(p2["items"].as_array().unwrap().len(), 1);
    assert!(p2["next_cursor"].is_null());
    assert_ne!(p2["items"][0]["id"], p1["items"][0]["id"]);
    c.get(&format!("/api/v1/conversations?limit=2&sort=priority&cursor={cursor}")).await.assert_problem(422, "validation_failed");

    // A saved view of my VIP conversations, with its count.
    let view = c.post("/api/v1/views", json!({"name": "My VIPs", "filters": {"assignee": "me", "tag": "vip"}})).await;
    assert_eq!(view.status, StatusCode::CREATED, "{}", view.text);
    let vid = id(&view.body);
    assert_eq!(c.get(&format!("/api/v1/conversations?view={vid}")).await.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(c.get("/api/v1/conversations/counts").await.body["views"][&vid], 2);
    c.post("/api/v1/views", json!({"name": "My VIPs", "filters": {}})).await.assert_problem(409, "name_taken");
    c.post("/api/v1/views", json!({"name": "Shared", "shared": true, "filters": {}})).await.assert_problem(403, "forbidden");
    assert_eq!(c.delete(&format!("/api/v1/views/{vid}")).await.status, StatusCode::NO_CONTENT);

    // Bulk merge folds the selection into its target.
    let merged =
        c.post("/api/v1/conversations/bulk", json!({"ids": [ids[0], ids[1]], "action": {"type": "merge_into", "target_id": ids[0]}})).await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.text);
    assert_eq!(c.get(&format!("/api/v1/conversations/{}", ids[1])).await.body["merged_into"], ids[0].as_str());
    t.shutdown().await;
}

async fn make_private_team(admin: &Client, member: &Value) -> String {
    let team = admin.post("/api/v1/teams", json!({"name": "VIP desk", "private": true, "member_ids": [id(member)]})).await;
    assert_eq!(team.status, StatusCode::CREATED, "{}", team.text);
    id(&team.body)
}

async fn private_teams_hide_their_conversations(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let (admin, _) = t.signed_in("admin").await;
    let (inside, inside_agent) = t.signed_in("agent").await;
    let (outside, _) = t.signed_in("agent").await;
    let (supervisor, _) = t.signed_in("supervisor").await;
    let team = make_private_team(&admin, &inside_agent).await;
    admin.post("/api/v1/teams", json!({"name": "VIP desk"})).await.assert_problem(409, "name_taken");
    inside.post("/api/v1/teams", json!({"name": "Mine"})).await.assert_problem(403, "forbidden");

    let r = inside
        .post("/api/v1/conversations", json!({"subject": "VIP 大额提币", "team_id": team, "contact": {"email": "vip@example.com"}, "message": {"body": "大额提币审核"}}))
        .await;
    let cid = id(&r.body["conversation"]);
    let path = format!("/api/v1/conversations/{cid}");
    assert_eq!(inside.get(&path).await.status, StatusCode::OK);
    assert_eq!(supervisor.get(&path).await.status, StatusCode::OK, "supervisors see every team");
    outside.get(&path).await.assert_problem(404, "not_found");
    outside.get(&format!("{path}/timeline")).await.assert_problem(404, "not_found");
    outside.post(&format!("{path}/messages"), json!({"body": "x"})).await.assert_problem(404, "not_found");
    outside.patch(&path, json!({"status": "resolved"})).await.assert_problem(404, "not_found");
    assert!(outside.get("/api/v1/conversations").await.body["items"].as_array().unwrap().is_empty());
    assert_eq!(outside.get("/api/v1/conversations/counts").await.body["all"], 0);
    assert_eq!(inside.get("/api/v1/conversations").await.body["items"].as_array().unwrap().len(), 1);
    // Search hides it as well (once indexed, which the insider's search proves).
    let mut found = false;
    for _ in 0..50 {
        if inside.get("/api/v1/search?q=%E6%8F%90%E5%B8%81").await.body["conversations"].as_array().is_some_and(|a| !a.is_empty()) {
            found = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(found, "the member finds it");
    assert!(outside.get("/api/v1/search?q=%E6%8F%90%E5%B8%81").await.body["conversations"].as_array().unwrap().is_empty());

    // Made public, the team's conversations are everyone's.
    let public = admin.patch(&format!("/api/v1/teams/{team}"), json!({"private": false})).await;
    assert_eq!(public.body["private"], false);
    assert_eq!(outside.get(&path).await.status, StatusCode::OK);
    t.shutdown().await;
}

async fn contacts_are_found_by_identity_and_merge(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (c, _) = t.signed_in("agent").await;
    let email_side = open(&c, "first", "Zhang@Example.com", "hi").await;
    let again = open(&c, "second", "zhang@example.com", "hi again").await;
    assert_eq!(email_side["contact_id"], again["contact_id"], "the same e-mail is the same contact");
    let tg = c
        .post(
            "/api/v1/conversations",
            json!({"channel": "telegram", "contact": {"name": "Zhang", "telegram_id": "zhang_tg"}, "message": {"body": "在吗"}}),
        )
        .await
        .body["conversation"]
        .clone();
    assert_ne!(tg["contact_id"], email_side["contact_id"]);
    assert_eq!(tg["subject"], "在吗", "the subject comes from the first message");

    let keep = email_side["contact_id"].as_str().unwrap();
    let gone = tg["contact_id"].as_str().unwrap();
    let merged = c.post(&format!("/api/v1/contacts/{keep}/merge"), json!({"source_id": gone})).await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.text);
    assert_eq!(merged.body["emails"], json!(["z***@example.com"]), "masked for agents");
    assert_eq!(merged.body["telegram_id"], "zhang_tg");
    let convs = c.get(&format!("/api/v1/contacts/{keep}/conversations")).await.body;
    assert_eq!(convs["items"].as_array().unwrap().len(), 3, "merge keeps all history");
    c.patch(&format!("/api/v1/contacts/{gone}"), json!({"name": "x"})).await.assert_problem(409, "contact_merged");
    // The Telegram identity now leads to the kept contact.
    let next = c.post("/api/v1/conversations", json!({"contact": {"telegram_id": "zhang_tg"}, "message": {"body": "又来了"}})).await;
    assert_eq!(next.body["conversation"]["contact_id"], keep);

    let edited = c
        .patch(
            &format!("/api/v1/contacts/{keep}"),
            json!({"vip_tier": 3, "kyc_level": 2, "language": "zh-CN", "attributes": {"region": "SG"}, "phones": ["+65 8123 4567"]}),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    assert_eq!(edited.body["vip_tier"], 3);
    assert_eq!(edited.body["phones"], json!(["+658*****67"]));
    let other = c.post("/api/v1/contacts", json!({"name": "Other", "emails": ["other@example.com"]})).await;
    assert_eq!(other.status, StatusCode::CREATED);
    c.patch(&format!("/api/v1/contacts/{}", id(&other.body)), json!({"emails": ["zhang@example.com"]}))
        .await
        .assert_problem(409, "identity_taken");
    c.post("/api/v1/contacts", json!({"name": "Dup", "emails": ["other@example.com"]})).await.assert_problem(409, "identity_taken");
    let found = c.get("/api/v1/contacts?q=ZHANG%40example.com").await.body;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    // Lookup is by prefix of the name (any case) or by a whole identity (they are sealed, found
    // by a keyed hash), through indexes.
    let names = |b: &serde_json::Value| -> Vec<String> {
        b["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap_or_default().to_string()).collect()
    };
    assert_eq!(names(&c.get("/api/v1/contacts?q=OTH").await.body), vec!["Other"]);
    assert_eq!(names(&c.get("/api/v1/contacts?q=%2B65%208123%204567").await.body), vec!["王小明"], "whole phone");
    assert!(names(&c.get("/api/v1/contacts?q=%2B6581").await.body).is_empty(), "not a phone prefix");
    assert!(names(&c.get("/api/v1/contacts?q=zhang").await.body).is_empty(), "not an e-mail prefix");
    assert!(names(&c.get("/api/v1/contacts?q=example.com").await.body).is_empty(), "not infix");
    t.shutdown().await;
}

/// Creates that arrive together (and on SQLite commit together) for the same new customer end
/// up on one contact, each with its own number, and the response matches what was stored.
async fn concurrent_creates_share_one_new_contact(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (c, _) = t.signed_in("agent").await;
    let sends = (0..24).map(|i| {
        let c = c.clone();
        // Half for one new customer, half each for a customer of their own.
        let email = if i % 2 == 0 { "same@example.com".to_string() } else { format!("own{i}@example.com") };
        async move {
            c.post(
                "/api/v1/conversations",
                json!({"subject": format!("Ticket {i}"), "contact": {"name": "Lin Wei", "email": email},
                       "tags": ["vip"], "message": {"body": format!("body {i}")}}),
            )
            .await
        }
    });
    let results = futures_util::future::join_all(sends).await;
    let mut numbers = Vec::new();
    let mut same_contacts = std::collections::HashSet::new();
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let conv = &r.body["conversation"];
        numbers.push(conv["number"].as_i64().unwrap());
        if i % 2 == 0 {
            same_contacts.insert(conv["contact_id"].as_str().unwrap().to_string());
        }
        // What the create answered is what a read returns.
        let stored = c.get(&format!("/api/v1/conversations/{}", conv["id"].as_str().unwrap())).await.body;
        for k in ["number", "subject", "contact_id", "contact_name", "status", "priority", "tags", "version", "message_count", "created_at"]
        {
            assert_eq!(stored[k], conv[k], "{k}");
        }
        assert_eq!(r.body["message"]["body"], format!("body {i}"));
    }
    assert_eq!(same_contacts.len(), 1, "one contact for one customer");
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 24, "every conversation its own number");
    let found = c.get("/api/v1/contacts?q=same%40example.com").await.body;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    t.shutdown().await;
}

async fn bad_input_gets_clear_errors(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    let (c, _) = t.signed_in("agent").await;
    let r = c.post("/api/v1/conversations", json!({"contact": {"email": "not-an-email"}, "tags": ["a b"], "priority": "normal"})).await;
    r.assert_problem(422, "validation_failed");
    let fields: Vec<&str> = r.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"contact.emails") && fields.contains(&"tags") && fields.contains(&"subject"), "{fields:?}");
    c.post("/api/v1/conversations", json!({"subject": "x", "priority": "soon"})).await.assert_problem(422, "invalid_body");
    c.post("/api/v1/conversations", json!({"subject": "x", "contact": {"email": "a@example.com"}, "assignee_id": "nobody"}))
        .await
        .assert_problem(422, "validation_failed");
    c.get("/api/v1/conversations?sort=random").await.assert_problem(422, "validation_failed");
    c.get("/api/v1/conversations?status=lost").await.assert_problem(400, "invalid_query");
    c.get("/api/v1/conversations/not-an-id").await.assert_problem(404, "not_found");
    c.get("/api/v1/search?q=%20").await.assert_problem(422, "validation_failed");
    let cid = id(&open(&c, "x", "e@example.com", "y").await);
    c.post(&format!("/api/v1/conversations/{cid}/messages"), json!({"body": ""})).await.assert_problem(422, "validation_failed");
    c.post(&format!("/api/v1/conversations/{cid}/messages"), json!({"body": "x", "client_key": "has space"}))
        .await
        .assert_problem(422, "validation_failed");
    c.post(&format!("/api/v1/conversations/{cid}/messages"), json!({"body": "x", "author": "bot"}))
        .await
        .assert_problem(422, "validation_failed");
    c.post(&format!("/api/v1/conversations/{cid}/presence"), json!({"state": "dancing"})).await.assert_problem(422, "validation_failed");
    t.shutdown().await;
}
