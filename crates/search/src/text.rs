//! Helpers both indexes share for showing a hit: reading a stored field, and looking through long
//! text for a snippet a window at a time.

use tantivy::TantivyDocument;
use tantivy::schema::{Field, Value};

/// Long text is looked through for a snippet a window at a time, stopping at the first window
/// with a match: highlighting re-segments the text, and a whole 200 KB thread per hit would cost
/// more than the search itself.
pub(crate) const SNIPPET_WINDOW_BYTES: usize = 4_096;

/// Windows overlap by more than the longest term, so no match is cut in two.
const SNIPPET_WINDOW_OVERLAP: usize = 160;

/// Past this much text without a match, the snippet falls back to the start of the text.
const SNIPPET_SCAN_BYTES: usize = 64 * 1024;

pub(crate) fn text_value(doc: &TantivyDocument, field: Field) -> &str {
    doc.get_first(field).and_then(|value| value.as_str()).unwrap_or_default()
}

/// Overlapping slices of the first [`SNIPPET_SCAN_BYTES`] of `text`, `size` bytes long (more than
/// [`SNIPPET_WINDOW_OVERLAP`]); [`SNIPPET_WINDOW_BYTES`] suits long threads.
pub(crate) fn windows(text: &str, size: usize) -> impl Iterator<Item = &str> {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= text.len().min(SNIPPET_SCAN_BYTES) {
            return None;
        }
        let end = char_boundary_at_or_before(text, start + size);
        let window = &text[start..end];
        start = if end == text.len() { end } else { char_boundary_at_or_before(text, end - SNIPPET_WINDOW_OVERLAP) };
        Some(window)
    })
}

pub(crate) fn char_boundary_at_or_before(text: &str, mut at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}
