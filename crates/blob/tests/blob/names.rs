use kefu_blob::{content_disposition, safe_filename};

#[test]
fn chinese_names_survive() {
    assert_eq!(safe_filename("提币截图.png", "png"), "提币截图.png");
    assert_eq!(safe_filename("C:\\Users\\客户\\Desktop\\提币截图 (1).png", "png"), "提币截图 (1).png");
    assert_eq!(safe_filename("充值记录【2024】.xlsx", "zip"), "充值记录【2024】.xlsx");
}

#[test]
fn path_components_quotes_and_control_characters_are_removed() {
    assert_eq!(safe_filename("../../evil\"\r\n.exe", "bin"), "evil.exe");
    assert_eq!(safe_filename("/etc/passwd", "txt"), "passwd");
    assert_eq!(safe_filename("a\tb\u{0}c'd.txt", "txt"), "abcd.txt");
    assert_eq!(safe_filename("<script>:*?|.txt", "txt"), "script.txt");
}

#[test]
fn names_that_disguise_their_extension_are_undone() {
    assert_eq!(safe_filename("invoice\u{202E}gpj.exe", "bin"), "invoicegpj.exe");
    assert_eq!(safe_filename("photo\u{200B}.jpg\u{FEFF}", "jpg"), "photo.jpg");
}

#[test]
fn names_never_come_out_empty_or_hidden() {
    assert_eq!(safe_filename("", "png"), "attachment.png");
    assert_eq!(safe_filename("..", "pdf"), "attachment.pdf");
    assert_eq!(safe_filename("../../", "zip"), "attachment.zip");
    assert_eq!(safe_filename(" \"\r\n ", "txt"), "attachment.txt");
    assert_eq!(safe_filename(".bashrc", "txt"), "bashrc");
    assert_eq!(safe_filename("report.pdf. . ", "pdf"), "report.pdf");
    assert_eq!(safe_filename("", ""), "attachment");
    assert_eq!(safe_filename("", "../x"), "attachment.x");
}

#[test]
fn windows_device_names_are_defused() {
    assert_eq!(safe_filename("CON.txt", "txt"), "_CON.txt");
    assert_eq!(safe_filename("lpt1", "txt"), "_lpt1");
    assert_eq!(safe_filename("console.txt", "txt"), "console.txt");
}

#[test]
fn long_names_are_cut_to_200_bytes_keeping_the_extension() {
    let long = format!("{}.png", "截".repeat(150));
    let safe = safe_filename(&long, "png");
    assert!(safe.len() <= 200, "{} bytes", safe.len());
    assert!(safe.ends_with("截.png"), "{safe}");

    let no_extension = "a".repeat(500);
    assert_eq!(safe_filename(&no_extension, "bin"), "a".repeat(200));

    let absurd_extension = format!("x.{}", "b".repeat(300));
    assert!(safe_filename(&absurd_extension, "bin").len() <= 200);
}

fn assert_is_a_plain_header_value(value: &str) {
    assert!(value.bytes().all(|b| (0x20..=0x7e).contains(&b)), "{value:?}");
}

#[test]
fn chinese_names_download_under_their_own_name() {
    let header = content_disposition("提币截图.png", false);
    assert_eq!(header, "attachment; filename=\"attachment.png\"; filename*=UTF-8''%E6%8F%90%E5%B8%81%E6%88%AA%E5%9B%BE.png");
    assert_is_a_plain_header_value(&header);
}

#[test]
fn safe_images_are_shown_inline() {
    assert_eq!(content_disposition("cat.png", true), "inline; filename=\"cat.png\"; filename*=UTF-8''cat.png");
}

#[test]
fn hostile_names_cannot_break_out_of_the_header() {
    let header = content_disposition("../../evil\"\r\n.exe", false);
    assert_eq!(header, "attachment; filename=\"evil.exe\"; filename*=UTF-8''evil.exe");

    for hostile in ["a\"; filename=x.html", "x\r\nSet-Cookie: a=b", "%22.txt", "a\\\".txt", "報告 2024 \"最終\".pdf", "\u{202E}\u{0}"] {
        let header = content_disposition(hostile, false);
        assert_is_a_plain_header_value(&header);
        assert_eq!(header.matches('"').count(), 2, "{header}");
        assert!(header.starts_with("attachment; filename=\""), "{header}");
    }
    assert_eq!(
        content_disposition("報告 2024 \"最終\".pdf", false),
        "attachment; filename=\"2024.pdf\"; filename*=UTF-8''%E5%A0%B1%E5%91%8A%202024%20%E6%9C%80%E7%B5%82.pdf"
    );
    assert_eq!(content_disposition("100%.txt", false), "attachment; filename=\"100.txt\"; filename*=UTF-8''100%25.txt");
}
