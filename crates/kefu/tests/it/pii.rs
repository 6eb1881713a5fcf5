//! Personal data by role: customers' e-mails and phones are partly masked in every answer;
//! roles the security settings grant full view may reveal them, and each reveal is audited.

use kefu_testkit::{Backend, StatusCode, spawn_app};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

both_backends!(
    emails_and_phones_are_masked_unless_a_granted_role_reveals_them,
    retention_anonymises_then_deletes_old_closed_conversations,
    attachments_and_contact_details_are_sealed_at_rest_and_keys_rotate
);

async fn emails_and_phones_are_masked_unless_a_granted_role_reveals_them(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let (admin, _) = t.signed_in("admin").await;
    let (supervisor, _) = t.signed_in("supervisor").await;
    let (agent, _) = t.signed_in("agent").await;
    assert_eq!(agent.get("/api/v1/auth/session").await.body["pii_full_view"], false);
    assert_eq!(supervisor.get("/api/v1/auth/session").await.body["pii_full_view"], true);

    let r = admin
        .post("/api/v1/contacts", json!({"name": "Jane Doe", "emails": ["jane.doe@example.com"], "phones": ["+86 138 0013 8000"]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["pii_masked"], true);
    assert_eq!(r.body["emails"], json!(["j***@example.com"]));
    assert_eq!(r.body["phones"], json!(["+861********00"]));
    let id = r.body["id"].as_str().unwrap().to_string();
    let c = admin.post("/api/v1/conversations", json!({"channel": "api", "subject": "Withdrawal stuck", "contact_id": id})).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);

    // Every way an agent reads a contact masks it.
    let one = agent.get(&format!("/api/v1/contacts/{id}")).await;
    assert_eq!(one.body["emails"], json!(["j***@example.com"]), "{}", one.text);
    let listed = agent.get("/api/v1/contacts?q=jane").await;
    assert_eq!(listed.body["items"][0]["phones"], json!(["+861********00"]), "{}", listed.text);
    let started = Instant::now();
    let found = loop {
        let s = agent.get("/api/v1/search?q=jane.doe%40example.com").await;
        assert_eq!(s.status, StatusCode::OK, "{}", s.text);
        if !s.body["conversations"].as_array().unwrap().is_empty() {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "not indexed: {}", s.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!found.text.contains("jane.doe@example.com"), "{}", found.text);
    assert!(!found.text.contains("8613800138000"), "{}", found.text);
    assert_eq!(found.body["conversations"][0]["conversation"]["contact_id"], id.as_str(), "{}", found.text);

    // Agents may not reveal; supervisors may, and it is audited.
    agent.post(&format!("/api/v1/contacts/{id}/reveal"), json!({})).await.assert_problem(403, "forbidden");
    let full = supervisor.post(&format!("/api/v1/contacts/{id}/reveal"), json!({})).await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.text);
    assert_eq!(full.body["pii_masked"], false);
    assert_eq!(full.body["emails"], json!(["jane.doe@example.com"]));
    assert_eq!(full.body["phones"], json!(["+8613800138000"]));
    let audit = admin.get("/api/v1/audit?action=contact.pii_revealed").await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1, "{}", audit.text);
    assert_eq!(audit.body["items"][0]["target"], id.as_str());
    admin.post("/api/v1/contacts/01J0000000000000000000000/reveal", json!({})).await.assert_problem(404, "not_found");

    // An edit that sends the masked values back keeps the real ones.
    let r = agent
        .patch(&format!("/api/v1/contacts/{id}"), json!({"emails": ["j***@example.com", "jd@example.org"], "phones": ["+861********00"]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let full = supervisor.post(&format!("/api/v1/contacts/{id}/reveal"), json!({})).await;
    assert_eq!(full.body["emails"], json!(["jane.doe@example.com", "jd@example.org"]), "{}", full.text);
    assert_eq!(full.body["phones"], json!(["+8613800138000"]));

    // A data-access request: the customer's data in full, for granted roles only; audited.
    let file = admin.multipart("/api/v1/attachments", &[], vec![("file", "passport.txt", b"JANE DOE P1234567".to_vec())], &[]).await;
    assert_eq!(file.status, StatusCode::CREATED, "{}", file.text);
    let note = json!({"body": "Customer wrote from jane.doe@example.com", "attachment_ids": [file.body["id"]]});
    let conv = c.body["conversation"]["id"].as_str().unwrap();
    assert_eq!(admin.post(&format!("/api/v1/conversations/{conv}/messages"), note).await.status, StatusCode::CREATED);
    agent.get(&format!("/api/v1/contacts/{id}/export")).await.assert_problem(403, "forbidden");
    let export = supervisor.get(&format!("/api/v1/contacts/{id}/export")).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.text);
    assert!(export.header("content-disposition").starts_with("attachment"), "{}", export.header("content-disposition"));
    assert_eq!(export.body["contact"]["emails"][0], "jane.doe@example.com");
    assert_eq!(export.body["conversations"].as_array().unwrap().len(), 1);
    assert!(export.text.contains("Customer wrote from jane.doe@example.com"));
    let audit = admin.get("/api/v1/audit?action=contact.exported").await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1, "{}", audit.text);

    // Erasure (admins only): the person's details, the texts and files go; the tickets' shape stays.
    supervisor.post(&format!("/api/v1/contacts/{id}/erase"), json!({})).await.assert_problem(403, "forbidden");
    let erased = admin.post(&format!("/api/v1/contacts/{id}/erase"), json!({})).await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.text);
    assert_eq!(erased.body["name"], "Erased customer");
    assert_eq!(erased.body["emails"], json!([]));
    let timeline = admin.get(&format!("/api/v1/conversations/{conv}/timeline")).await;
    assert_eq!(timeline.body["conversation"]["subject"], "[erased]");
    assert_eq!(timeline.body["conversation"]["status"], "open");
    for item in timeline.body["items"].as_array().unwrap().iter().filter(|i| i["type"] == "message") {
        assert_eq!(item["body"], "[erased]", "{item}");
        assert_eq!(item["attachments"], json!([]), "{item}");
    }
    let blobs = t.db.data_dir.join("blobs");
    let files = walk(&blobs);
    assert!(files.is_empty(), "files left after erasure: {files:?}");
    let started = Instant::now();
    loop {
        let s = admin.get("/api/v1/search?q=jane").await;
        if s.body["conversations"].as_array().unwrap().is_empty() && s.body["contacts"].as_array().unwrap().is_empty() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "still found after erasure: {}", s.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let audit = admin.get("/api/v1/audit?action=contact.erased").await;
    assert_eq!(audit.body["items"][0]["details"]["conversations"], 1, "{}", audit.text);
    assert!(!audit.text.contains("jane"), "the audit log keeps no personal data: {}", audit.text);

    // An admin grants agents full view.
    let policy = json!({"two_factor_required": {"admin": false, "supervisor": false, "agent": false},
        "pii_full_view": {"admin": true, "supervisor": false, "agent": true}});
    assert_eq!(admin.put("/api/v1/settings/security", policy).await.status, StatusCode::OK);
    assert_eq!(agent.post(&format!("/api/v1/contacts/{id}/reveal"), json!({})).await.status, StatusCode::OK);
    supervisor.post(&format!("/api/v1/contacts/{id}/reveal"), json!({})).await.assert_problem(403, "forbidden");
    t.shutdown().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

async fn closed_conversation(admin: &kefu_testkit::Client, body: &str, files: bool) -> String {
    let mut message = json!({"body": body});
    if files {
        let file = admin.multipart("/api/v1/attachments", &[], vec![("file", "statement.txt", b"ACCOUNT 4417".to_vec())], &[]).await;
        assert_eq!(file.status, StatusCode::CREATED, "{}", file.text);
        message["attachment_ids"] = json!([file.body["id"]]);
    }
    let c = admin.post("/api/v1/conversations", json!({"channel": "api", "contact": {"name": "Old customer"}, "message": message})).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    let id = c.body["conversation"]["id"].as_str().unwrap().to_string();
    let r = admin.patch(&format!("/api/v1/conversations/{id}"), json!({"status": "closed"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    id
}

async fn retention_anonymises_then_deletes_old_closed_conversations(backend: Backend) {
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let (admin, _) = t.signed_in("admin").await;
    let (agent, _) = t.signed_in("agent").await;
    let old = closed_conversation(&admin, "my account number is 4417", true).await;
    let recent = closed_conversation(&admin, "thanks, all good", false).await;
    let open = admin
        .post("/api/v1/conversations", json!({"channel": "api", "contact": {"name": "Active"}, "message": {"body": "still waiting"}}))
        .await;
    let open = open.body["conversation"]["id"].as_str().unwrap().to_string();
    t.db.execute(&format!(
        "UPDATE conversations SET closed_at = closed_at - 3456000000000, created_at = created_at - 3456000000000 WHERE id = '{old}'"
    ))
    .await;
    t.db.execute(&format!("UPDATE conversations SET created_at = created_at - 3456000000000 WHERE id = '{open}'")).await;

    // Off by default; only admins set it, within bounds.
    assert_eq!(admin.get("/api/v1/settings/retention").await.body["enabled"], false);
    agent.get("/api/v1/settings/retention").await.assert_problem(403, "forbidden");
    let bad = json!({"enabled": true, "after_days": 0, "action": "anonymise"});
    admin.put("/api/v1/settings/retention", bad).await.assert_problem(422, "validation_failed");
    admin
        .put("/api/v1/settings/retention", json!({"enabled": true, "after_days": 30, "action": "shred"}))
        .await
        .assert_problem(422, "invalid_body");
    let policy = json!({"enabled": true, "after_days": 30, "action": "anonymise"});
    let r = admin.put("/api/v1/settings/retention", policy.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body, policy);

    // Closed 40 days ago: its text and file go; the recent one and the open one stay.
    assert_eq!(t.app.apply_retention().await.unwrap(), 1);
    let timeline = admin.get(&format!("/api/v1/conversations/{old}/timeline")).await;
    assert_eq!(timeline.body["conversation"]["subject"], "[erased]");
    let bodies: Vec<&Value> =
        timeline.body["items"].as_array().unwrap().iter().filter(|i| i["type"] == "message").map(|i| &i["body"]).collect();
    assert!(!bodies.is_empty() && bodies.iter().all(|b| *b == "[erased]"), "{bodies:?}");
    assert!(walk(&t.db.data_dir.join("blobs")).is_empty(), "the file stays after anonymising");
    let kept = admin.get(&format!("/api/v1/conversations/{recent}/timeline")).await;
    assert!(kept.text.contains("thanks, all good"));
    assert!(admin.get(&format!("/api/v1/conversations/{open}/timeline")).await.text.contains("still waiting"));
    assert_eq!(t.app.apply_retention().await.unwrap(), 0, "what was anonymised is not done again");

    // Delete: the conversation goes entirely.
    let policy = json!({"enabled": true, "after_days": 30, "action": "delete"});
    assert_eq!(admin.put("/api/v1/settings/retention", policy).await.status, StatusCode::OK);
    t.db.execute(&format!("UPDATE conversations SET closed_at = closed_at - 3456000000000 WHERE id = '{recent}'")).await;
    assert_eq!(t.app.apply_retention().await.unwrap(), 1);
    admin.get(&format!("/api/v1/conversations/{recent}")).await.assert_problem(404, "not_found");
    let audit = admin.get("/api/v1/audit?action=retention.applied").await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 2, "{}", audit.text);
    assert_eq!(audit.body["items"][0]["details"]["action"], "delete");
    t.shutdown().await;
}

/// Does any file under `dir` hold `needle`?
fn found_in_files(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    walk(dir).into_iter().filter(|p| std::fs::read(p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))).collect()
}

async fn attachments_and_contact_details_are_sealed_at_rest_and_keys_rotate(backend: Backend) {
    use kefu_domain::BlobStore;
    let Some(t) = spawn_app(backend).await else { return };
    t.relax_two_factor().await;
    let (admin, _) = t.signed_in("admin").await;
    let content = b"PASSPORT P1234567 JANE DOE 1990-01-01".repeat(40);
    let file = admin.multipart("/api/v1/attachments", &[], vec![("file", "passport.txt", content.clone())], &[]).await;
    assert_eq!(file.status, StatusCode::CREATED, "{}", file.text);
    let id = file.body["id"].as_str().unwrap().to_string();
    let c = admin
        .post(
            "/api/v1/conversations",
            json!({"channel": "api", "contact": {"name": "Jane"}, "message": {"body": "my passport", "attachment_ids": [id]}}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    // Sealed on disk, whole when served.
    let data = t.db.data_dir.clone();
    assert!(found_in_files(&data, b"PASSPORT P1234567").is_empty(), "the file's bytes are in clear on disk");
    let got = admin.send(reqwest::Method::GET, &format!("/api/v1/attachments/{id}"), None, &[]).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.text.as_bytes(), content.as_slice());

    // Contact details: sealed in the database, only blind keys in the search index, found by
    // their whole value (never by a part of it).
    let jane = admin
        .post(
            "/api/v1/contacts",
            json!({"name": "Jane Roe", "emails": ["jane.roe@example.com"], "phones": ["+44 20 7946 0958"], "exchange_user_id": "UID-77120"}),
        )
        .await;
    assert_eq!(jane.status, StatusCode::CREATED, "{}", jane.text);
    let jane_id = jane.body["id"].as_str().unwrap().to_string();
    let c =
        admin.post("/api/v1/conversations", json!({"channel": "api", "contact_id": jane_id, "message": {"body": "card declined"}})).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    let started = Instant::now();
    while admin.get("/api/v1/search?q=JANE.ROE%40example.com").await.body["conversations"].as_array().unwrap().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(10), "not found by the whole e-mail address");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let names = |r: kefu_testkit::Reply| r.body["items"].as_array().unwrap().iter().map(|c| c["name"].to_string()).collect::<Vec<_>>();
    for whole in ["jane.roe%40example.com", "%2B44%2020%207946%200958", "442079460958", "UID-77120", "jane%20r"] {
        assert_eq!(names(admin.get(&format!("/api/v1/contacts?q={whole}")).await), ["\"Jane Roe\""], "{whole}");
    }
    for part in ["jane.roe%40ex", "example.com", "%2B4420", "UID-771"] {
        assert!(names(admin.get(&format!("/api/v1/contacts?q={part}")).await).is_empty(), "{part}");
    }
    let rows = t.app.store().identities_after("", "", 100).await.unwrap();
    assert_eq!(rows.len(), 3);
    for r in &rows {
        assert!(r.value.starts_with("k1.") && r.sealed.is_some(), "{r:?}");
        assert!(!format!("{r:?}").to_lowercase().contains("jane") && !format!("{r:?}").contains("77120"), "{r:?}");
    }
    for needle in [&b"jane.roe@example.com"[..], b"UID-77120", b"2079460958"] {
        // The database file (SQLite) and the search index.
        assert!(found_in_files(&data, needle).is_empty(), "{} in clear at rest", String::from_utf8_lossy(needle));
    }

    // A row written in clear before sealing is sealed when the vault first opens.
    t.db.execute(&format!(
        "INSERT INTO contact_identities (kind, value, contact_id, created_at) VALUES ('email', 'old.style@example.com', '{jane_id}', 0)"
    ))
    .await;
    t.db.execute(&format!("UPDATE contacts SET unverified_email = 'typed@example.com' WHERE id = '{jane_id}'")).await;
    let config = kefu_app::AppConfig { data_dir: data.clone(), ..Default::default() };
    let again = kefu_testkit::build_app(
        t.db.store().await,
        config,
        std::sync::Arc::new(kefu_domain::SystemClock),
        kefu_app::JobRegistry::standard(),
    );
    again.pii().await.unwrap();
    let rows = t.app.store().identities_after("", "", 100).await.unwrap();
    assert!(rows.iter().all(|r| r.sealed.is_some() && !r.value.contains("old.style")), "{rows:?}");
    assert_eq!(names(admin.get("/api/v1/contacts?q=old.style%40example.com").await), ["\"Jane Roe\""]);
    let typed = t.app.store().contact_by_id(&jane_id).await.unwrap().unwrap().unverified_email.unwrap();
    assert!(typed.starts_with("v1:") && !typed.contains("typed"), "{typed}");
    assert_eq!(admin.get(&format!("/api/v1/contacts/{jane_id}")).await.body["unverified_email"], "t***@example.com");
    again.store().close().await;

    let key_file = data.join("master.key");
    let before = std::fs::read_to_string(&key_file).expect("a key file made on first start");
    let db = t.stop().await;

    // `kefu keys rotate`: a new key seals every file, the old one is dropped.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kefu"))
        .args(["keys", "rotate"])
        .args(db.cli_args())
        .env_remove("KEFU_MASTER_KEY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("re-sealed 1 files") && said.contains("and 4 contact identities"), "{said}");
    let after = std::fs::read_to_string(&key_file).unwrap();
    let keys = |text: &str| text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(keys(&after).len(), 1);
    assert_ne!(keys(&after), keys(&before));
    assert!(found_in_files(&data, b"PASSPORT P1234567").is_empty());
    // The file keeps the name the old key gave it (a keyed hash: not the content's plain SHA-256).
    let old = std::sync::Arc::new(kefu_blob::Keyring::parse(&before).unwrap());
    let old_store = kefu_blob::FsBlobStore::sealed(data.join("blobs"), old);
    let blob_key = old_store.name_of(&content);
    assert_ne!(blob_key, kefu_blob::key_of(&content));
    let now = std::sync::Arc::new(kefu_blob::Keyring::parse(&after).unwrap());
    let store = kefu_blob::FsBlobStore::sealed(data.join("blobs"), now);
    assert_eq!(store.get(&blob_key).await.unwrap().unwrap(), content);
    assert!(old_store.get(&blob_key).await.is_err(), "the old key opens nothing any more");
    // The identities and their index key too; their blind keys stay as they were.
    let store = db.store().await;
    let old_ring = std::sync::Arc::new(kefu_blob::Keyring::parse(&before).unwrap());
    assert!(kefu_app::pii::PiiVault::open_or_create(&store, old_ring, 0).await.is_err());
    let new_ring = std::sync::Arc::new(kefu_blob::Keyring::parse(&after).unwrap());
    let vault = kefu_app::pii::PiiVault::open_or_create(&store, new_ring, 0).await.unwrap();
    let rows = store.identities_after("", "", 100).await.unwrap();
    let mut values: Vec<String> = rows.iter().map(|r| vault.open(r).unwrap()).collect();
    values.sort();
    assert_eq!(values, ["+442079460958", "UID-77120", "jane.roe@example.com", "old.style@example.com"]);
    assert!(rows.iter().any(|r| r.value == vault.blind_key("email", "Jane.Roe@example.com")));
    store.close().await;

    // With KEFU_MASTER_KEY holding one key only, rotation says what to do.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kefu"))
        .args(["keys", "rotate"])
        .args(db.cli_args())
        .env("KEFU_MASTER_KEY", keys(&after)[0].clone())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NEW,OLD"), "{}", String::from_utf8_lossy(&out.stderr));
    drop(db);
}
