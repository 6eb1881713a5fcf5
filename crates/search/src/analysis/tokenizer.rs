//! The tokenizer behind every Kefu text field: folded text, jieba for Chinese runs, lowercased and
//! stemmed English words, ids and numbers kept whole.

use super::fold::Folded;
use super::vocabulary::SUPPORT_WORDS;
use jieba_rs::Jieba;
use std::sync::LazyLock;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// One dictionary for the whole process: loading it takes a noticeable fraction of a second
/// and tens of megabytes, and it never changes after start.
pub(super) static JIEBA: LazyLock<Jieba> = LazyLock::new(|| {
    let mut jieba = Jieba::new();
    for word in SUPPORT_WORDS {
        jieba.add_word(word, None, None);
    }
    jieba
});

/// Longest term kept, in bytes: room for a 0x-prefixed transaction hash, not for pasted blobs.
const MAX_TERM_BYTES: usize = 128;

/// Longest jieba word whose inner dictionary words are also indexed; dictionary words are short,
/// so this only bounds the quadratic substring scan against pathological input.
const MAX_EXPANDED_WORD_CHARS: usize = 12;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// Documents: each word plus every dictionary word inside it (`提币地址` also gives `提币` and
    /// `地址`), and `trc20` also as `trc` and `20`, so a query for a part finds the whole.
    Index,
    /// As `Index`, and also every Chinese character of a longer word on its own, so that a
    /// query word jieba cuts differently (`丢` of `丢了` against `丢失`) still finds the text.
    /// For short texts such as help-center articles, where recall matters more than index size.
    IndexWithChars,
    /// What a user typed: one cut, so each word is one required term.
    Query,
}

#[derive(Clone)]
pub(super) struct KefuTokenizer {
    pub mode: Mode,
}

impl Tokenizer for KefuTokenizer {
    type TokenStream<'a> = KefuTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> KefuTokenStream {
        KefuTokenStream { tokens: analyze(text, self.mode), next: 0 }
    }
}

pub(super) struct KefuTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for KefuTokenStream {
    fn advance(&mut self) -> bool {
        let more = self.next < self.tokens.len();
        self.next += usize::from(more);
        more
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next.saturating_sub(1)]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next.saturating_sub(1)]
    }
}

/// Terms of `text` with byte offsets into `text` and positions in characters.
///
/// Positions count characters rather than tokens so that two Chinese characters jieba left
/// standing alone are adjacent exactly when they are adjacent in the text: a query for an
/// unknown word becomes a phrase of its characters and still matches. Tokens come sorted by
/// offset, which keeps each term's positions increasing as the postings writer requires.
pub(super) fn analyze(text: &str, mode: Mode) -> Vec<Token> {
    let folded = Folded::new(text);
    let chars: Vec<(usize, char)> = folded.text.char_indices().collect();
    let mut sink = Sink { folded: &folded, tokens: Vec::new() };
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        let c = chars[i].1;
        if is_han(c) {
            while i < chars.len() && is_han(chars[i].1) {
                i += 1;
            }
            sink.han_run(&chars, start, i, mode);
        } else if c.is_alphanumeric() {
            i += 1;
            while i < chars.len() && (is_word_char(chars[i].1) || joins_digits(&chars, i)) {
                i += 1;
            }
            sink.word(&chars, start, i, mode);
        } else {
            i += 1;
        }
    }
    let mut tokens = sink.tokens;
    tokens.sort_by_key(|token| (token.offset_from, token.offset_to));
    tokens
}

/// Whether `c` is a Chinese character.
pub fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3007}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2EBEF}'
        | '\u{30000}'..='\u{323AF}')
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_han(c)
}

/// A `.` or `,` between two digits belongs to the number: `0.5`, `1,000`, `12.30`.
fn joins_digits(chars: &[(usize, char)], i: usize) -> bool {
    matches!(chars[i].1, '.' | ',')
        && i > 0
        && chars[i - 1].1.is_ascii_digit()
        && chars.get(i + 1).is_some_and(|&(_, next)| next.is_ascii_digit())
}

struct Sink<'a> {
    folded: &'a Folded,
    tokens: Vec<Token>,
}

impl Sink<'_> {
    fn byte_at(&self, chars: &[(usize, char)], i: usize) -> usize {
        chars.get(i).map_or(self.folded.text.len(), |&(at, _)| at)
    }

    /// `from..to` are byte offsets in the folded text; `position` is a character index.
    fn push(&mut self, text: String, from: usize, to: usize, position: usize) {
        if text.is_empty() || text.len() > MAX_TERM_BYTES {
            return;
        }
        self.tokens.push(Token {
            offset_from: self.folded.original_offset(from),
            offset_to: self.folded.original_offset(to),
            position,
            text,
            position_length: 1,
        });
    }

    fn han_run(&mut self, chars: &[(usize, char)], start: usize, end: usize, mode: Mode) {
        let base = self.byte_at(chars, start);
        let run = &self.folded.text[base..self.byte_at(chars, end)];
        // HMM off: it guesses new words from context, so the same characters could be cut one
        // way in a message and another way in a short query.
        for word in JIEBA.cut(run, false) {
            let position = start + word.start;
            self.push(word.word.to_string(), base + word.byte_start, base + word.byte_end, position);
            let length = word.end - word.start;
            if mode != Mode::Query && (3..=MAX_EXPANDED_WORD_CHARS).contains(&length) {
                self.inner_words(word.word, base + word.byte_start, position);
            }
            if mode == Mode::IndexWithChars && length > 1 {
                for (i, (at, c)) in word.word.char_indices().enumerate() {
                    let from = base + word.byte_start + at;
                    self.push(c.to_string(), from, from + c.len_utf8(), position + i);
                }
            }
        }
    }

    /// Dictionary words strictly inside `word`, of any length: jieba's own search mode stops at
    /// three characters, which would hide `谷歌验证` inside `谷歌验证器`.
    fn inner_words(&mut self, word: &str, base: usize, position: usize) {
        let bounds: Vec<usize> = word.char_indices().map(|(at, _)| at).chain([word.len()]).collect();
        let length = bounds.len() - 1;
        for size in 2..length {
            for first in 0..=length - size {
                let inner = &word[bounds[first]..bounds[first + size]];
                if JIEBA.has_word(inner) {
                    self.push(inner.to_string(), base + bounds[first], base + bounds[first + size], position + first);
                }
            }
        }
    }

    fn word(&mut self, chars: &[(usize, char)], start: usize, end: usize, mode: Mode) {
        let from = self.byte_at(chars, start);
        let to = self.byte_at(chars, end);
        let word = &self.folded.text[from..to];
        self.push(normalize_word(word), from, to, start);
        if mode != Mode::Query
            && let Some(split) = letters_digits_split(&chars[start..end])
        {
            let split_byte = self.byte_at(chars, start + split);
            for (part_start, part_end, part_position) in [(from, split_byte, start), (split_byte, to, start + split)] {
                if self.folded.text[part_start..part_end].chars().nth(1).is_some() {
                    self.push(normalize_word(&self.folded.text[part_start..part_end]), part_start, part_end, part_position);
                }
            }
        }
    }
}

/// Lowercase, and stem English words; anything with a digit is an id or amount and stays as typed.
fn normalize_word(word: &str) -> String {
    let lower = word.to_lowercase();
    if lower.bytes().all(|b| b.is_ascii_lowercase()) {
        frostem::Stemmer::new(frostem::Algorithm::English).stem(&lower).into_owned()
    } else {
        lower
    }
}

/// Where a word made of letters then digits (or digits then letters) changes over, as in
/// `TRC20` or `2FA`; `None` for plain words and for ids that alternate, like hex hashes.
fn letters_digits_split(chars: &[(usize, char)]) -> Option<usize> {
    let is_digit = |c: char| c.is_ascii_digit() || c == '.' || c == ',';
    let changes: Vec<usize> = (1..chars.len()).filter(|&i| is_digit(chars[i].1) != is_digit(chars[i - 1].1)).collect();
    match changes.as_slice() {
        [single] => Some(*single),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str, mode: Mode) -> Vec<String> {
        analyze(text, mode).into_iter().map(|token| token.text).collect()
    }

    #[test]
    fn compound_words_also_index_their_parts() {
        let index = terms("提币地址", Mode::Index);
        for part in ["提币", "地址", "提币地址"] {
            assert!(index.iter().any(|term| term == part), "{part} missing from {index:?}");
        }
        assert_eq!(terms("提币地址", Mode::Query), ["提币地址"]);
    }

    #[test]
    fn the_chars_mode_also_indexes_each_character() {
        let index = terms("丢失手机", Mode::IndexWithChars);
        for part in ["丢失", "手机", "丢", "失", "手", "机"] {
            assert!(index.iter().any(|term| term == part), "{part} missing from {index:?}");
        }
        assert!(!terms("丢失手机", Mode::Index).iter().any(|term| term == "丢"));
    }

    #[test]
    fn support_words_are_single_terms() {
        let index = terms("我的提币一直没到账", Mode::Index);
        assert!(index.iter().any(|term| term == "提币"), "{index:?}");
        assert_eq!(terms("提币", Mode::Query), ["提币"]);
    }

    #[test]
    fn traditional_text_gives_simplified_terms() {
        assert_eq!(terms("忘記密碼", Mode::Query), terms("忘记密码", Mode::Query));
        assert_eq!(terms("提幣", Mode::Query), ["提币"]);
    }

    #[test]
    fn english_is_lowercased_and_stemmed() {
        assert_eq!(terms("Withdrawals", Mode::Query), ["withdraw"]);
        assert_eq!(terms("withdrawal", Mode::Query), ["withdraw"]);
    }

    #[test]
    fn ids_and_numbers_stay_whole() {
        assert_eq!(terms("0x3f5a9c… #10234 TRC20", Mode::Query), ["0x3f5a9c", "10234", "trc20"]);
        assert_eq!(terms("TRC20", Mode::Index), ["trc", "trc20", "20"]);
        assert_eq!(terms("fee 0.5 USDT", Mode::Query), ["fee", "0.5", "usdt"]);
        assert_eq!(terms("ＵＳＤＴ提币", Mode::Query), ["usdt", "提币"]);
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "ＵＳＤＴ 提幣 failed";
        for token in analyze(text, Mode::Index) {
            let original = &text[token.offset_from..token.offset_to];
            assert!(!original.is_empty(), "{token:?}");
        }
        let tokens = analyze(text, Mode::Query);
        assert_eq!(&text[tokens[1].offset_from..tokens[1].offset_to], "提幣");
    }

    #[test]
    fn positions_count_characters() {
        let tokens = analyze("币 提币", Mode::Query);
        let positions: Vec<usize> = tokens.iter().map(|token| token.position).collect();
        assert_eq!(positions, [0, 2]);
    }
}
