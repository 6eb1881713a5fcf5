//! What an upload really is, told from its bytes and never from its name, and so whether a
//! browser may show it inline.

use crate::disposition::safe_filename;
use image::ImageFormat;
use infer::MatcherType;

/// What the console can do with an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// PNG, JPEG, GIF or WebP: decoded by every browser without running code; shown inline.
    SafeImage,
    /// Any other image (SVG, BMP, TIFF, HEIC…): SVG can carry scripts, the rest do not display
    /// everywhere, so all of them download.
    Image,
    Pdf,
    /// UTF-8 text, HTML, XML and scripts: readable as text, never rendered.
    Text,
    Archive,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    pub mime: String,
    /// Without the dot; `bin` when the type is unknown.
    pub extension: &'static str,
    pub kind: Kind,
    /// Only safe images; everything else is served with `Content-Disposition: attachment`.
    pub inline_safe: bool,
    /// The declared name made safe to offer as a download name.
    pub file_name: String,
}

/// `declared_name` only names the download; the type comes from the content alone, so an HTML page
/// uploaded as `cat.png` is HTML.
pub fn inspect(bytes: &[u8], declared_name: &str) -> Inspected {
    let (mime, extension, kind) = detect(bytes);
    Inspected {
        mime: mime.to_owned(),
        extension,
        kind,
        inline_safe: kind == Kind::SafeImage,
        file_name: safe_filename(declared_name, extension),
    }
}

const OCTET_STREAM: (&str, &str, Kind) = ("application/octet-stream", "bin", Kind::Other);

/// How far into a text upload to look for markup: labelling only, the safety decision never rests on it.
const MARKUP_SNIFF_BYTES: usize = 8 * 1024;

const ARCHIVES: &[&str] = &[
    "application/zip",
    "application/x-tar",
    "application/vnd.rar",
    "application/gzip",
    "application/x-bzip2",
    "application/vnd.bzip3",
    "application/x-7z-compressed",
    "application/x-xz",
    "application/zstd",
    "application/x-lzip",
    "application/x-lz4",
    "application/x-compress",
    "application/x-cpio",
];

fn detect(bytes: &[u8]) -> (&'static str, &'static str, Kind) {
    // Real binary formats all hold a NUL or a byte that is invalid UTF-8 (every image format
    // shown inline does), and some of infer's signatures are two or three letters (`BM`, `GIF`),
    // so text is settled first: `GIF89a<script>…` is text, not an image.
    if looks_like_text(bytes) {
        return detect_text(bytes);
    }
    if let Some((mime, extension, _)) = image_signature(bytes) {
        return (mime, extension, Kind::SafeImage);
    }
    let sniffed = infer::get(bytes);
    match sniffed {
        // infer's looser signature matched a safe image that the full signature check refused.
        Some(t) if is_safe_image_mime(t.mime_type()) => return OCTET_STREAM,
        Some(t) if t.matcher_type() != MatcherType::Text => return (t.mime_type(), t.extension(), binary_kind(t)),
        _ => {}
    }
    // Markup in a legacy encoding (a GBK page) is still markup.
    if let Some(markup) = sniff_markup(bytes) {
        return markup;
    }
    sniffed.map_or(OCTET_STREAM, |t| (t.mime_type(), t.extension(), Kind::Text))
}

fn looks_like_text(bytes: &[u8]) -> bool {
    !bytes.is_empty() && !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok()
}

fn detect_text(bytes: &[u8]) -> (&'static str, &'static str, Kind) {
    // A PDF may be pure ASCII.
    if infer::archive::is_pdf(bytes) {
        return ("application/pdf", "pdf", Kind::Pdf);
    }
    if let Some(markup) = sniff_markup(bytes) {
        return markup;
    }
    // infer's text matches: XML without SVG, `#!` scripts, HTML fragments such as `<p>`.
    match infer::get(bytes) {
        Some(t) if t.matcher_type() == MatcherType::Text => (t.mime_type(), t.extension(), Kind::Text),
        _ => ("text/plain", "txt", Kind::Text),
    }
}

fn binary_kind(t: infer::Type) -> Kind {
    match (t.matcher_type(), t.mime_type()) {
        (_, "application/pdf") => Kind::Pdf,
        (MatcherType::Image, _) => Kind::Image,
        (_, mime) if ARCHIVES.contains(&mime) => Kind::Archive,
        _ => Kind::Other,
    }
}

/// The raster formats shown inline, and so the only ones thumbnailed.
pub(crate) fn safe_image_format(bytes: &[u8]) -> Option<ImageFormat> {
    if looks_like_text(bytes) { None } else { image_signature(bytes).map(|(_, _, format)| format) }
}

/// Full signatures, where infer settles for `GIF` and for `WEBP` at offset 8.
fn image_signature(bytes: &[u8]) -> Option<(&'static str, &'static str, ImageFormat)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", "png", ImageFormat::Png))
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some(("image/jpeg", "jpg", ImageFormat::Jpeg))
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(("image/gif", "gif", ImageFormat::Gif))
    } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        Some(("image/webp", "webp", ImageFormat::WebP))
    } else {
        None
    }
}

fn is_safe_image_mime(mime: &str) -> bool {
    matches!(mime, "image/png" | "image/jpeg" | "image/gif" | "image/webp")
}

/// A page wins over the `<svg>` icons it embeds; a bare `<svg>` root makes an SVG image.
/// Binary content (a NUL early on) is never taken for markup.
fn sniff_markup(bytes: &[u8]) -> Option<(&'static str, &'static str, Kind)> {
    let head = bytes[..bytes.len().min(MARKUP_SNIFF_BYTES)].to_ascii_lowercase();
    if head.contains(&0) {
        return None;
    }
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    if has(b"<!doctype html") || has(b"<html") {
        Some(("text/html", "html", Kind::Text))
    } else if has(b"<svg") {
        Some(("image/svg+xml", "svg", Kind::Image))
    } else if has(b"<script") || has(b"<iframe") || has(b"<body") {
        Some(("text/html", "html", Kind::Text))
    } else {
        None
    }
}
