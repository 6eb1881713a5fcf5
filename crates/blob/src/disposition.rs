//! Download names and the `Content-Disposition` header: whatever name a customer's client sent,
//! what reaches a browser is one plain file name that cannot break out of the header.

/// Longest download name in bytes; file systems commonly stop at 255.
const MAX_NAME_BYTES: usize = 200;

/// Extensions longer than this are not kept apart when a long name is shortened.
const MAX_KEPT_EXTENSION_BYTES: usize = 16;

const FALLBACK_STEM: &str = "attachment";

/// A download name from a declared one: the last path component only, without control, bidi or
/// invisible characters, quotes or characters Windows refuses; letters of any script are kept.
/// At most 200 bytes (the extension survives shortening) and never empty:
/// `attachment.<fallback_extension>` when nothing usable is left.
pub fn safe_filename(declared: &str, fallback_extension: &str) -> String {
    let last_component = declared.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last_component.chars().filter(|&c| !is_unsafe_in_name(c)).collect();
    let trimmed = trim_name(&cleaned);
    if trimmed.is_empty() {
        return fallback_name(fallback_extension);
    }
    let name = if is_windows_device_name(trimmed) { format!("_{trimmed}") } else { trimmed.to_owned() };
    shorten(&name).unwrap_or_else(|| fallback_name(fallback_extension))
}

/// An RFC 6266 header value offering `filename` (made safe as by [`safe_filename`]) both as an
/// ASCII `filename` for old clients and as UTF-8 `filename*`, which current browsers prefer.
/// Only pass `inline = true` for content [`crate::inspect`] found inline-safe.
pub fn content_disposition(filename: &str, inline: bool) -> String {
    let name = safe_filename(filename, "");
    let disposition = if inline { "inline" } else { "attachment" };
    format!("{disposition}; filename=\"{}\"; filename*=UTF-8''{}", ascii_fallback(&name), percent_encode(&name))
}

fn is_unsafe_in_name(c: char) -> bool {
    c.is_control()
        || matches!(c, '"' | '\'' | '`' | '<' | '>' | ':' | '|' | '?' | '*' | '/' | '\\')
        // Bidi overrides make `invoice\u{202E}gpj.exe` display as `invoiceexe.jpg`; zero-width
        // and separator characters hide or split what the name says.
        || matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Leading dots would hide the file on Unix; trailing dots and spaces are dropped by Windows anyway.
fn trim_name(name: &str) -> &str {
    name.trim_matches(|c: char| c.is_whitespace() || c == '.')
}

fn is_windows_device_name(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default().trim_end().to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT")) && stem.len() == 4 && stem.ends_with(|c: char| c.is_ascii_digit()))
}

fn fallback_name(extension: &str) -> String {
    let extension: String = extension.chars().filter(char::is_ascii_alphanumeric).take(MAX_KEPT_EXTENSION_BYTES).collect();
    if extension.is_empty() { FALLBACK_STEM.to_owned() } else { format!("{FALLBACK_STEM}.{extension}") }
}

/// Cuts the stem at a character boundary so the extension stays; `None` if nothing of the stem is left.
fn shorten(name: &str) -> Option<String> {
    if name.len() <= MAX_NAME_BYTES {
        return Some(name.to_owned());
    }
    let (stem, extension) = match name.rfind('.') {
        Some(dot) if name.len() - dot <= MAX_KEPT_EXTENSION_BYTES + 1 => name.split_at(dot),
        _ => (name, ""),
    };
    let stem = trim_name(truncate_at_char_boundary(stem, MAX_NAME_BYTES - extension.len()));
    (!stem.is_empty()).then(|| format!("{stem}{extension}"))
}

fn truncate_at_char_boundary(s: &str, max_bytes: usize) -> &str {
    let mut end = max_bytes.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Non-ASCII characters are dropped rather than replaced by runs of `?` or `_`; a name with no ASCII
/// stem left (`提币截图.png`) becomes `attachment.png`. `%` goes too, as some clients percent-decode
/// this parameter.
fn ascii_fallback(name: &str) -> String {
    let (stem, extension) = name.rsplit_once('.').unwrap_or((name, ""));
    let stem: String = stem.chars().filter(|c| (' '..='~').contains(c) && !matches!(c, '"' | '\\' | '%')).collect();
    let stem = trim_name(&stem);
    let stem = if stem.chars().any(|c| c.is_ascii_alphanumeric()) { stem } else { FALLBACK_STEM };
    let extension: String = extension.chars().filter(char::is_ascii_alphanumeric).collect();
    if extension.is_empty() { stem.to_owned() } else { format!("{stem}.{extension}") }
}

const HEX_DIGITS: &[u8; 16] = b"0123456789ABCDEF";

/// RFC 8187: everything but `attr-char` is percent-encoded, byte by byte of the UTF-8.
fn percent_encode(name: &str) -> String {
    let mut encoded = String::with_capacity(name.len() * 3);
    for &byte in name.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push('%');
            encoded.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
            encoded.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
        }
    }
    encoded
}
