use crate::samples;
use image::ImageFormat;
use kefu_blob::{Kind, inspect};

#[test]
fn the_four_browser_raster_formats_are_safe_inline_images() {
    for (format, mime, extension) in [
        (ImageFormat::Png, "image/png", "png"),
        (ImageFormat::Jpeg, "image/jpeg", "jpg"),
        (ImageFormat::Gif, "image/gif", "gif"),
        (ImageFormat::WebP, "image/webp", "webp"),
    ] {
        let inspected = inspect(&samples::encoded(4, 3, format), "photo");
        assert_eq!((inspected.mime.as_str(), inspected.extension, inspected.kind), (mime, extension, Kind::SafeImage), "{format:?}");
        assert!(inspected.inline_safe, "{format:?}");
    }
}

#[test]
fn documents_and_archives_are_told_from_their_bytes() {
    let pdf = inspect(samples::PDF, "statement.pdf");
    assert_eq!((pdf.mime.as_str(), pdf.extension, pdf.kind, pdf.inline_safe), ("application/pdf", "pdf", Kind::Pdf, false));

    let zip = inspect(&samples::zip(), "logs.zip");
    assert_eq!((zip.mime.as_str(), zip.extension, zip.kind, zip.inline_safe), ("application/zip", "zip", Kind::Archive, false));
}

#[test]
fn svg_is_an_image_that_never_displays_inline() {
    let svg = inspect(samples::SVG, "logo.svg");
    assert_eq!((svg.mime.as_str(), svg.extension, svg.kind, svg.inline_safe), ("image/svg+xml", "svg", Kind::Image, false));

    let bare = inspect(b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>", "x.png");
    assert_eq!((bare.kind, bare.inline_safe), (Kind::Image, false));
}

#[test]
fn html_is_never_shown_inline_whatever_it_is_called() {
    for name in ["page.html", "cat.png", "cat.jpg", "noextension"] {
        let html = inspect(samples::HTML, name);
        assert_eq!((html.mime.as_str(), html.extension, html.kind, html.inline_safe), ("text/html", "html", Kind::Text, false), "{name}");
    }
    let fragment = inspect(b"  <p>click <a href=\"https://phish.example\">here</a></p>", "cat.png");
    assert_eq!((fragment.mime.as_str(), fragment.inline_safe), ("text/html", false));
}

#[test]
fn a_png_name_on_html_keeps_its_name_but_not_an_image_type() {
    let inspected = inspect(samples::HTML, "cat.png");
    assert_ne!(inspected.kind, Kind::SafeImage);
    assert_ne!(inspected.kind, Kind::Image);
    assert_eq!(inspected.file_name, "cat.png");
}

#[test]
fn utf8_text_without_nul_is_plain_text() {
    let text = inspect("充值未到账，订单号 20240101\nTXID: 0xabc\n".as_bytes(), "说明.txt");
    assert_eq!((text.mime.as_str(), text.extension, text.kind, text.inline_safe), ("text/plain", "txt", Kind::Text, false));
    assert_eq!(text.file_name, "说明.txt");
}

#[test]
fn unknown_binary_is_an_octet_stream() {
    for bytes in [&b"plain\0with a nul"[..], &[0xff, 0xfe, 0xfd, 0x00, 0x01][..], &b""[..], &[0xc3, 0x28][..]] {
        let inspected = inspect(bytes, "");
        assert_eq!(
            (inspected.mime.as_str(), inspected.extension, inspected.kind, inspected.inline_safe),
            ("application/octet-stream", "bin", Kind::Other, false)
        );
        assert_eq!(inspected.file_name, "attachment.bin");
    }
}

#[test]
fn a_nameless_upload_is_named_after_its_detected_type() {
    assert_eq!(inspect(&samples::png(2, 2), "").file_name, "attachment.png");
    assert_eq!(inspect(samples::PDF, "../..").file_name, "attachment.pdf");
}

#[test]
fn text_that_starts_like_an_image_is_text() {
    let gifar = inspect(b"GIF89a=1;<script>alert(document.domain)</script>", "x.gif");
    assert_eq!((gifar.mime.as_str(), gifar.kind, gifar.inline_safe), ("text/html", Kind::Text, false));

    for text in [&b"BMW deposit receipt"[..], b"GIF files are attached", b"RIFF....WEBP is not here", b"12345678WEBP"] {
        let inspected = inspect(text, "note.txt");
        assert_eq!((inspected.mime.as_str(), inspected.kind, inspected.inline_safe), ("text/plain", Kind::Text, false), "{text:?}");
    }
}

#[test]
fn a_partial_image_signature_is_not_a_safe_image() {
    for bytes in [&b"GIF\0\0\0\0"[..], b"\0\0\0\0\0\0\0\0WEBP\0", b"\x89PNG\0\0\0\0"] {
        let inspected = inspect(bytes, "x.png");
        assert!(!inspected.inline_safe, "{bytes:?}");
        assert_ne!(inspected.kind, Kind::SafeImage, "{bytes:?}");
    }
}

#[test]
fn markup_in_a_legacy_encoding_is_still_markup() {
    // "<html><body>充值</body></html>" in GBK: not UTF-8, still a page.
    let gbk = b"<html><body>\xb3\xe4\xd6\xb5</body></html>";
    assert_eq!(inspect(gbk, "a.png").mime, "text/html");
}
