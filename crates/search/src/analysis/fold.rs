//! Character folding applied before segmentation: Traditional and regional variants to Simplified,
//! full-width ASCII to ASCII, so every script a customer types lands on the same terms.
//!
//! Why a generated table instead of a crate: `fast2s` 0.3 and `character_converter` 2.1 both build
//! on rustc 1.95, but `fast2s` is unmaintained since 2022, exposes no per-character mapping and
//! rewrites some characters only next to certain neighbours (看著 but not 著), so a query term and
//! the same term inside a document could fold differently; `character_converter` is several orders
//! of magnitude slower in fast2s's published comparison; `zhconv` (GPL) converts whole phrases
//! with a large automaton, which a tokenizer working char by char cannot use. OpenCC's character
//! tables are the reference data such converters derive from; `t2s_table.rs` is generated from
//! them (via Debian's packages) by `scripts/gen_t2s_table.py`, which documents the rules.

use super::t2s_table;
use std::sync::LazyLock;

/// Sorted by Traditional character, for binary search.
static TABLE: LazyLock<Vec<(char, char)>> = LazyLock::new(|| {
    let mut table = Vec::with_capacity(t2s_table::LEN);
    table.extend(t2s_table::TRADITIONAL.chars().zip(t2s_table::SIMPLIFIED.chars()));
    table
});

/// The CJK blocks nearly all text is in (Extension A and the Unified Ideographs): folded by
/// indexing an array rather than searching the table, since every character of every Chinese
/// text indexed or highlighted goes through here.
const COMMON_HAN: std::ops::RangeInclusive<char> = '\u{3400}'..='\u{9FFF}';

static COMMON_HAN_FOLDED: LazyLock<Vec<char>> = LazyLock::new(|| {
    let mut folded: Vec<char> = COMMON_HAN.collect();
    for &(from, to) in TABLE.iter().filter(|(from, _)| COMMON_HAN.contains(from)) {
        folded[from as usize - *COMMON_HAN.start() as usize] = to;
    }
    folded
});

/// The character a search should treat `c` as.
pub fn fold_char(c: char) -> char {
    match c {
        // Full-width forms from Chinese input methods: `ＵＳＤＴ`, `１２３`.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        // Nothing below the CJK radicals block is in the table; skip the search for ASCII.
        c if (c as u32) < 0x2E80 => c,
        c if COMMON_HAN.contains(&c) => COMMON_HAN_FOLDED[c as usize - *COMMON_HAN.start() as usize],
        c => TABLE.binary_search_by_key(&c, |&(from, _)| from).map_or(c, |i| TABLE[i].1),
    }
}

/// `text` folded character by character, with a way back to byte offsets of the original.
pub(super) struct Folded {
    pub text: String,
    /// Original byte offset for each byte offset of `text`; empty when every folded character
    /// kept its UTF-8 length, which is the common case and then offsets are shared.
    origin: Vec<usize>,
}

impl Folded {
    pub fn new(original: &str) -> Self {
        let mut text = String::with_capacity(original.len());
        let mut same_lengths = true;
        for c in original.chars() {
            let folded = fold_char(c);
            same_lengths &= folded.len_utf8() == c.len_utf8();
            text.push(folded);
        }
        let mut origin = Vec::new();
        if !same_lengths {
            origin.reserve(text.len() + 1);
            for (at, c) in original.char_indices() {
                origin.extend(std::iter::repeat_n(at, fold_char(c).len_utf8()));
            }
            origin.push(original.len());
        }
        Self { text, origin }
    }

    /// The original byte offset of `offset`, a character boundary in the folded text.
    pub fn original_offset(&self, offset: usize) -> usize {
        if self.origin.is_empty() { offset } else { self.origin[offset] }
    }
}

/// `text` with every character folded; what a term looks like before segmentation.
pub fn fold(text: &str) -> String {
    text.chars().map(fold_char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_and_variants_fold_to_simplified() {
        assert_eq!(fold("忘記密碼"), "忘记密码");
        assert_eq!(fold("提幣到帳"), "提币到账");
        assert_eq!(fold("為什麼說明裡面"), "为什么说明里面");
        assert_eq!(fold("回覆"), "回复");
    }

    #[test]
    fn simplified_and_shared_characters_stay() {
        let simplified = "忘记密码 提币到账 著名 账户 钱包地址";
        assert_eq!(fold(simplified), simplified);
    }

    #[test]
    fn the_common_blocks_fold_as_the_table_says() {
        for &(from, to) in TABLE.iter() {
            assert_eq!(fold_char(from), to, "{from}");
        }
        assert_eq!(fold_char('\u{3400}'), '\u{3400}');
        assert_eq!(fold_char('\u{9FFF}'), '\u{9FFF}');
    }

    #[test]
    fn folding_twice_changes_nothing() {
        for &(_, to) in TABLE.iter() {
            assert_eq!(fold_char(to), to, "{to} is a target and a key");
        }
        assert_eq!(TABLE.len(), t2s_table::LEN);
        assert!(TABLE.windows(2).all(|pair| pair[0].0 < pair[1].0), "the table is sorted");
    }

    #[test]
    fn full_width_ascii_becomes_ascii() {
        assert_eq!(fold("ＵＳＤＴ　１２３"), "USDT 123");
    }

    #[test]
    fn offsets_map_back_when_lengths_change() {
        let original = "ａ提幣b";
        let folded = Folded::new(original);
        assert_eq!(folded.text, "a提币b");
        let b_folded = folded.text.find('b').unwrap_or_default();
        assert_eq!(&original[folded.original_offset(b_folded)..], "b");
        assert_eq!(folded.original_offset(folded.text.len()), original.len());
    }
}
