//! Attachments: type from content, thumbnails for safe images, downloads only for those who may
//! see the conversation, and a size limit.

use kefu_testkit::{Backend, Options, StatusCode, spawn_app_with};
use serde_json::json;

both_backends!(uploads_are_inspected_stored_and_guarded);

pub fn png(w: u32, h: u32) -> Vec<u8> {
    // A tiny valid PNG made by hand: one IDAT of zlib "stored" blocks with filter byte 0 rows.
    fn crc(data: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for b in data {
            c ^= u32::from(*b);
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc(&body).to_be_bytes());
    }
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0);
        for x in 0..w {
            raw.extend_from_slice(&[(x % 256) as u8, (y % 256) as u8, 128]);
        }
    }
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, b) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        z.extend_from_slice(&(b.len() as u16).to_le_bytes());
        z.extend_from_slice(&(!(b.len() as u16)).to_le_bytes());
        z.extend_from_slice(b);
    }
    let (mut a, mut bsum) = (1u32, 0u32);
    for x in &raw {
        a = (a + u32::from(*x)) % 65_521;
        bsum = (bsum + a) % 65_521;
    }
    z.extend_from_slice(&((bsum << 16) | a).to_be_bytes());
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

async fn uploads_are_inspected_stored_and_guarded(backend: Backend) {
    let mut opts = Options::default();
    opts.app.max_attachment_bytes = 200_000;
    let Some(t) = spawn_app_with(backend, opts).await else { return };
    t.relax_two_factor().await;
    let (admin, _) = t.signed_in("admin").await;
    let (member, member_agent) = t.signed_in("agent").await;
    let (outsider, _) = t.signed_in("agent").await;

    let image = member.multipart("/api/v1/attachments", &[], vec![("file", "提币截图.png", png(300, 150))], &[]).await;
    assert_eq!(image.status, StatusCode::CREATED, "{}", image.text);
    assert_eq!(image.body["content_type"], "image/png");
    assert_eq!(image.body["filename"], "提币截图.png");
    assert_eq!(image.body["inline"], true);
    assert_eq!(image.body["has_thumbnail"], true);
    // HTML dressed up as a picture is treated as what it is.
    let fake = member
        .multipart("/api/v1/attachments", &[], vec![("file", "cat.png", b"<html><script>alert(1)</script></html>".to_vec())], &[])
        .await;
    assert_eq!(fake.status, StatusCode::CREATED, "{}", fake.text);
    assert_eq!(fake.body["inline"], false);
    assert_ne!(fake.body["content_type"], "image/png");

    let big = member.multipart("/api/v1/attachments", &[], vec![("file", "big.bin", vec![7u8; 300_000])], &[]).await;
    big.assert_problem(413, "attachment_too_large");
    member.multipart("/api/v1/attachments", &[("note", "x")], vec![], &[]).await.assert_problem(422, "validation_failed");
    member
        .raw(reqwest::Method::POST, "/api/v1/attachments", Some("multipart/form-data; boundary=zzz"), b"--zzz\r\nbroken".to_vec())
        .await
        .assert_problem(400, "invalid_multipart");

    let team = admin.post("/api/v1/teams", json!({"name": "Ops", "private": true, "member_ids": [member_agent["id"]]})).await;
    let conv = member
        .post(
            "/api/v1/conversations",
            json!({"subject": "截图", "team_id": team.body["id"], "contact": {"email": "s@example.com"}, "message": {"body": "see"}}),
        )
        .await;
    let cid = conv.body["conversation"]["id"].as_str().unwrap().to_string();
    let ids = json!([image.body["id"], fake.body["id"]]);
    let msg = member.post(&format!("/api/v1/conversations/{cid}/messages"), json!({"body": "附件", "attachment_ids": ids})).await;
    assert_eq!(msg.status, StatusCode::CREATED, "{}", msg.text);
    assert_eq!(msg.body["attachments"].as_array().unwrap().len(), 2);
    // An upload goes on one message only, and only its uploader's.
    member
        .post(&format!("/api/v1/conversations/{cid}/messages"), json!({"body": "again", "attachment_ids": [image.body["id"]]}))
        .await
        .assert_problem(422, "validation_failed");

    let url = image.body["url"].as_str().unwrap();
    let got = member.http.get(format!("{}{url}", member.base)).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "image/png");
    assert!(got.headers()["content-disposition"].to_str().unwrap().starts_with("inline"));
    let thumb = member.http.get(format!("{}{url}/thumbnail", member.base)).send().await.unwrap();
    assert_eq!(thumb.status(), 200);
    let thumb_bytes = thumb.bytes().await.unwrap();
    assert!(thumb_bytes.len() < png(300, 150).len());
    let html = member.http.get(format!("{}{}", member.base, fake.body["url"].as_str().unwrap())).send().await.unwrap();
    let disposition = html.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(html.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));

    // Someone outside the private team cannot fetch it.
    outsider.get(url).await.assert_problem(404, "not_found");
    outsider.get(&format!("{url}/thumbnail")).await.assert_problem(404, "not_found");
    t.shutdown().await;
}
