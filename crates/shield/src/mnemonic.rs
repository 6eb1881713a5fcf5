//! BIP39 seed phrases in free text, in every official wordlist.
//!
//! The text is cut into tokens: a run of letters (Latin, kana, Hangul…) is one token, a Chinese
//! character is one token on its own (the Chinese wordlists are single characters, and people
//! write them with or without spaces). Consecutive tokens of one wordlist, separated by nothing
//! but spaces, punctuation or numbering (`1. abandon 2. ability`), form a run. A window of 12,
//! 15, 18, 21 or 24 words of a run is a seed phrase when its checksum holds: one chance in 16
//! (12 words) to 256 (24) for words picked at random, so Chinese windows must also not read as
//! language: the Chinese wordlists are the 2,048 most common characters, so ordinary Chinese text
//! is made of them, but a random draw of them seldom forms dictionary words.

use crate::Finding;
use crate::SecretKind;
use bip39::Language;
use rustc_hash::FxHashMap as HashMap;
use sha2::{Digest, Sha256};
use std::cell::LazyCell;
use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;

/// Every wordlist, in a fixed order (the index into [`Entry`]).
const LANGUAGES: [Language; 10] = [
    Language::English,
    Language::SimplifiedChinese,
    Language::TraditionalChinese,
    Language::Czech,
    Language::French,
    Language::Italian,
    Language::Japanese,
    Language::Korean,
    Language::Portuguese,
    Language::Spanish,
];

/// Names as the findings report them.
const NAMES: [&str; 10] =
    ["english", "chinese_simplified", "chinese_traditional", "czech", "french", "italian", "japanese", "korean", "portuguese", "spanish"];

/// Which wordlists use Chinese characters (the fluency test applies to them).
const CHINESE: [bool; 10] = [false, true, true, false, false, false, false, false, false, false];

/// The lengths a phrase may have, longest first.
const LENGTHS: [usize; 5] = [24, 21, 18, 15, 12];

/// Bytes of spaces, punctuation or numbering allowed between two words of a phrase.
const MAX_GAP: usize = 24;

const NONE: u16 = u16::MAX;

/// A word's index in each wordlist, `NONE` where it is not a word of that list.
type Entry = [u16; 10];

/// First and last code point of the CJK Unified Ideographs block, where every character of the
/// Chinese wordlists is.
const HAN_FIRST: u32 = 0x4E00;
const HAN_LAST: u32 = 0x9FFF;

/// A word looked up: its id (into [`Lists::entries`]) and the lists it is in (bit `l`).
#[derive(Clone, Copy, Default)]
struct Hit {
    id: u16,
    lists: u16,
}

/// The words of every list, laid out for lookups that stay in cache: a Chinese character by its
/// code point, a word of up to 16 bytes as one integer, longer ones (decomposed Korean and
/// Japanese) by string. A token is told the lists it is in without touching `entries`, which
/// only the few long runs need.
struct Lists {
    /// A word's index in each list, by id.
    entries: Vec<Entry>,
    /// Each character of the CJK block (`lists` 0 when in none).
    han: Vec<Hit>,
    short: HashMap<u128, Hit>,
    /// One bit per hashed key of `short`, small enough to stay in cache: most tokens that are
    /// no word (two thirds of English prose) are told so without a probe of the large map.
    short_filter: Vec<u64>,
    long: HashMap<String, Hit>,
    /// Shortest and longest folded word, in bytes: tokens outside are not looked up.
    min_len: usize,
    max_len: usize,
}

/// A word of at most 16 bytes as an integer (zero-padded: no word holds a NUL).
fn short_key(bytes: impl Iterator<Item = u8>) -> u128 {
    let mut key = [0u8; 16];
    for (slot, b) in key.iter_mut().zip(bytes) {
        *slot = b;
    }
    u128::from_le_bytes(key)
}

/// The key of a token of ASCII letters (what an all-ASCII token is made of), lower-cased
/// all at once: setting bit 5 of a letter lower-cases it, and the padding stays zero.
fn ascii_key(token: &str) -> u128 {
    let mut key = [0u8; 16];
    key[..token.len()].copy_from_slice(token.as_bytes());
    let key = u128::from_le_bytes(key);
    key | (u128::from_le_bytes([0x20; 16]) >> (8 * (16 - token.len())))
}

/// Bits in [`Lists::short_filter`]: 2^18 (32 KiB), some 6 % of them set.
const FILTER_BITS: u32 = 18;

/// A short key's bit in [`Lists::short_filter`] (multiplicative hashing).
fn filter_bit(key: u128) -> usize {
    let folded = key as u64 ^ ((key >> 64) as u64).rotate_left(32);
    (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - FILTER_BITS)) as usize
}

impl Lists {
    #[inline]
    fn short(&self, key: u128) -> Option<Hit> {
        let bit = filter_bit(key);
        if self.short_filter[bit / 64] & (1 << (bit % 64)) == 0 {
            return None;
        }
        self.short.get(&key).copied()
    }

    /// A folded word.
    fn get(&self, folded: &str) -> Option<Hit> {
        if folded.len() <= 16 { self.short(short_key(folded.bytes())) } else { self.long.get(folded).copied() }
    }

    /// A run of letters as written (any case, accents or not).
    #[inline]
    fn word(&self, token: &str) -> Option<Hit> {
        if token.len() < self.min_len || token.len() > self.max_len * 2 {
            None
        } else if token.is_ascii() {
            // Lower case is all ASCII needs of folding: no normalisation, no allocation.
            (token.len() <= 16).then(|| self.short(ascii_key(token)))?
        } else {
            self.get(&fold(token))
        }
    }

    fn han(&self, c: char) -> Option<Hit> {
        let at = (c as u32).checked_sub(HAN_FIRST)?;
        self.han.get(at as usize).copied().filter(|h| h.lists != 0)
    }
}

static LISTS: LazyLock<Lists> = LazyLock::new(|| {
    let mut ids: HashMap<String, u16> = HashMap::with_capacity_and_hasher(20_000, Default::default());
    let mut entries: Vec<Entry> = Vec::with_capacity(20_000);
    let mut masks: Vec<u16> = Vec::with_capacity(20_000);
    for (l, lang) in LANGUAGES.iter().enumerate() {
        for (i, w) in lang.word_list().iter().enumerate() {
            let next = u16::try_from(entries.len()).unwrap_or_else(|_| unreachable!("the lists hold fewer than 65,536 words"));
            let id = *ids.entry(fold(w)).or_insert(next);
            if id == next {
                entries.push([NONE; 10]);
                masks.push(0);
            }
            let entry = &mut entries[usize::from(id)];
            // Two words of one list that fold alike (accents dropped) keep the first.
            if entry[l] == NONE {
                entry[l] = i as u16;
                masks[usize::from(id)] |= 1 << l;
            }
        }
    }
    let mut han = vec![Hit::default(); (HAN_LAST - HAN_FIRST + 1) as usize];
    let mut short = HashMap::default();
    let mut short_filter = vec![0u64; (1 << FILTER_BITS) / 64];
    let mut long = HashMap::default();
    for (word, &id) in &ids {
        let hit = Hit { id, lists: masks[usize::from(id)] };
        let mut chars = word.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if (HAN_FIRST..=HAN_LAST).contains(&(c as u32)) => han[(c as u32 - HAN_FIRST) as usize] = hit,
            _ if word.len() <= 16 => {
                let key = short_key(word.bytes());
                let bit = filter_bit(key);
                short_filter[bit / 64] |= 1 << (bit % 64);
                short.insert(key, hit);
            }
            _ => {
                long.insert(word.clone(), hit);
            }
        }
    }
    let min_len = ids.keys().map(String::len).min().unwrap_or(1);
    let max_len = ids.keys().map(String::len).max().unwrap_or(32);
    Lists { entries, han, short, short_filter, long, min_len, max_len }
});

/// Loads the wordlists now rather than on the first message.
pub fn warm_up() {
    LazyLock::force(&LISTS);
}

/// A word as it is looked up: compatibility-decomposed (the form BIP39 specifies), Latin accents
/// dropped (customers often type them bare), lower case.
fn fold(word: &str) -> String {
    word.nfkd().filter(|c| !matches!(c, '\u{0300}'..='\u{036F}')).flat_map(char::to_lowercase).collect()
}

/// Whether `c` makes up word tokens (Chinese characters are tokens on their own).
fn is_letter(c: char) -> bool {
    // Punctuation (general, CJK, full-width) is most of what is neither ASCII nor a letter:
    // known without Unicode's tables.
    if matches!(c, '\u{2000}'..='\u{206F}' | '\u{3000}'..='\u{3004}' | '\u{3008}'..='\u{3020}' | '\u{FF01}'..='\u{FF20}') {
        return false;
    }
    c.is_alphabetic() && !kefu_search::analysis::is_han(c) || matches!(c, '\u{3099}' | '\u{309A}' | '\u{0300}'..='\u{036F}')
}

/// The tokens of a text, looked up: (start, end, first character, hit).
struct Tokens<'a> {
    text: &'a str,
    lists: &'a Lists,
    at: usize,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str, lists: &'a Lists) -> Self {
        Tokens { text, lists, at: 0 }
    }

    /// Where the run of letters from `at` ends.
    fn letters_end(&self, at: usize) -> usize {
        self.text[at..].char_indices().find(|&(_, c)| !is_letter(c)).map_or(self.text.len(), |(i, _)| at + i)
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = (usize, usize, char, Option<Hit>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.at) {
            let start = self.at;
            // ASCII goes byte by byte, without decoding characters or Unicode tables.
            if b.is_ascii() {
                if !b.is_ascii_alphabetic() {
                    self.at += 1;
                    continue;
                }
                let mut end = start + bytes[start..].iter().take_while(|b| b.is_ascii_alphabetic()).count();
                // A word may go on past ASCII: `café`, or `e` and a combining accent.
                if bytes.get(end).is_some_and(|b| !b.is_ascii()) {
                    end = self.letters_end(end);
                }
                self.at = end;
                return Some((start, end, char::from(b), self.lists.word(&self.text[start..end])));
            }
            // Lead bytes E4 to E9 start the three-byte characters U+4000 to U+9FFF: most of
            // Chinese text, decoded here without the general decoder or Unicode's tables (the
            // text is valid UTF-8, so both continuation bytes are there).
            if (0xE4..=0xE9).contains(&b) {
                let code = u32::from(b & 0x0F) << 12 | u32::from(bytes[start + 1] & 0x3F) << 6 | u32::from(bytes[start + 2] & 0x3F);
                if let Some(c) = char::from_u32(code).filter(|_| code >= HAN_FIRST) {
                    self.at = start + 3;
                    return Some((start, self.at, c, self.lists.han(c)));
                }
            }
            let c = self.text[start..].chars().next()?;
            if kefu_search::analysis::is_han(c) {
                self.at = start + c.len_utf8();
                return Some((start, self.at, c, self.lists.han(c)));
            }
            if !is_letter(c) {
                self.at += c.len_utf8();
                continue;
            }
            self.at = self.letters_end(start);
            return Some((start, self.at, c, self.lists.word(&self.text[start..self.at])));
        }
        None
    }
}

#[derive(Clone, Copy)]
struct Word {
    index: u16,
    start: usize,
    end: usize,
    ch: char,
    /// How many words of the run, up to this one, follow the previous with nothing between:
    /// a window has all its words separated when this is the same at its first and last word.
    touching: u32,
}

/// Seed phrases in `text`, as byte ranges.
pub fn find(text: &str, out: &mut Vec<Finding>) {
    let lists = &*LISTS;
    // The tokens that are words of some list, in order. After each token the lists with a run
    // going are exactly the lists that token is in, and every such run ends with it: a run of
    // list `l` is `tokens[run_start[l]..]`, and one end offset serves them all.
    // Sized for Chinese text, a token every three bytes: one allocation rather than a dozen.
    let mut tokens: Vec<(usize, usize, char, u16)> = Vec::with_capacity(text.len() / 3);
    let mut run_start = [0usize; 10];
    let mut last_end = 0;
    let mut active: u16 = 0;
    // One buffer for every run judged.
    let mut run: Vec<Word> = Vec::new();
    let shortest = LENGTHS[LENGTHS.len() - 1];
    for (start, end, c, hit) in Tokens::new(text, lists) {
        let Hit { id, lists: mask } = hit.unwrap_or_default();
        if mask == 0 && active == 0 {
            continue;
        }
        // The runs this token extends; the other active ones end before it.
        let going = if start - last_end <= MAX_GAP { active & mask } else { 0 };
        for l in bits(active & !going) {
            if tokens.len() - run_start[l] >= shortest {
                judge_run(text, l, &tokens[run_start[l]..], &mut run, out);
            }
        }
        for l in bits(mask & !going) {
            run_start[l] = tokens.len();
        }
        if mask != 0 {
            tokens.push((start, end, c, id));
            last_end = end;
        }
        active = mask;
    }
    for l in bits(active) {
        if tokens.len() - run_start[l] >= shortest {
            judge_run(text, l, &tokens[run_start[l]..], &mut run, out);
        }
    }
}

/// The indices of the set bits of `mask`, lowest first.
fn bits(mut mask: u16) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        let l = (mask != 0).then(|| mask.trailing_zeros() as usize)?;
        mask &= mask - 1;
        Some(l)
    })
}

/// [`judge`] on a run of tokens of list `l`, laid out in `run`.
fn judge_run(text: &str, l: usize, tokens: &[(usize, usize, char, u16)], run: &mut Vec<Word>, out: &mut Vec<Finding>) {
    let entries = &LISTS.entries;
    run.clear();
    let mut touching = 0;
    let mut prev_end = usize::MAX;
    run.extend(tokens.iter().map(|&(start, end, ch, id)| {
        touching += u32::from(start == prev_end);
        prev_end = end;
        Word { index: entries[usize::from(id)][l], start, end, ch, touching }
    }));
    judge(text, l, run, out);
}

/// Words before a run-together Chinese phrase that say what follows is one.
static CUES: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new("(?i)助记词|助記詞|记忆词|記憶詞|种子|種子|恢复词|恢復詞|备份|備份|私钥|私鑰|钱包|錢包|seed|phrase|mnemonic")
        .unwrap_or_else(|e| unreachable!("a fixed pattern compiles: {e}"))
});

/// How far back (bytes) a cue is looked for.
const CUE_REACH: usize = 48;

/// The seed phrases within one run of words of wordlist `l`.
///
/// Words with something between them (spaces, commas, numbering, line breaks) are a phrase
/// when the checksum holds. Chinese characters run together are ordinary text far more often:
/// such a window must also start or end where the run-together stretch does, stand alone or
/// follow a cue (`助记词：…`), and not read as language (few neighbours forming dictionary words).
fn judge(text: &str, l: usize, run: &[Word], out: &mut Vec<Finding>) {
    let shortest = LENGTHS[LENGTHS.len() - 1];
    if run.len() < shortest {
        return;
    }
    // Whether word i follows word i - 1 with nothing between.
    let touching = |i: usize| i > 0 && run[i].start == run[i - 1].end;
    // Whether a window reads as language: more than a quarter of its touching neighbours form
    // dictionary words. Looked up last, for the few windows that got that far (the lookups are
    // the costly part on Chinese text), and only up to the first pair too many.
    let fluent = |s: usize, k: usize| (s + 1..s + k).filter(|&i| touching(i) && forms_word(run[i - 1].ch, run[i].ch)).nth(k / 4).is_some();
    let reach = |s: usize| {
        let mut from = run[s].start.saturating_sub(CUE_REACH);
        while !text.is_char_boundary(from) {
            from += 1;
        }
        from
    };
    // One search over all the run's cue reaches first: most runs have no cue anywhere near.
    let any_cue = LazyCell::new(|| CUES.is_match(&text[reach(0)..run[run.len() - 1].start]));
    let cued = |s: usize| *any_cue && CUES.is_match(&text[reach(s)..run[s].start]);
    // Every window that could be a phrase; overlapping ones become one finding. A chance
    // checksum match reaching a word or two past the phrase costs those words, never the phrase.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    // In Chinese only windows at the edge of a run-together stretch, or of separated words, can
    // be phrases: the others are not looked at (this is what keeps long Chinese text fast).
    let edge = |s: usize| {
        !CHINESE[l]
            || !touching(s)
            || !touching(s + 1)
            || LENGTHS.iter().any(|&k| s + k == run.len() || (s + k < run.len() && !touching(s + k)))
    };
    for s in 0..=run.len() - shortest {
        if !edge(s) {
            continue;
        }
        let starts = !touching(s);
        let mut cue: Option<bool> = None;
        for k in LENGTHS {
            if s + k > run.len() {
                continue;
            }
            let phrase = if !CHINESE[l] || run[s + k - 1].touching == run[s].touching {
                checksum_holds(&run[s..s + k])
            } else {
                let ends = s + k == run.len() || !touching(s + k);
                (starts || ends)
                    && ((starts && ends) || *cue.get_or_insert_with(|| cued(s)))
                    && checksum_holds(&run[s..s + k])
                    && !fluent(s, k)
            };
            if phrase {
                match spans.last_mut() {
                    Some(last) if s < last.1 => last.1 = last.1.max(s + k),
                    _ => spans.push((s, s + k)),
                }
            }
        }
    }
    for (s, e) in spans {
        out.push(Finding { kind: SecretKind::SeedPhrase, start: run[s].start, end: run[e - 1].end, wordlist: Some(NAMES[l]) });
    }
}

fn forms_word(a: char, b: char) -> bool {
    // Two characters fit on the stack: no allocation per pair.
    let mut buf = [0u8; 8];
    let first = kefu_search::analysis::fold_char(a).encode_utf8(&mut buf).len();
    let second = kefu_search::analysis::fold_char(b).encode_utf8(&mut buf[first..]).len();
    std::str::from_utf8(&buf[..first + second]).is_ok_and(kefu_search::analysis::is_dictionary_word)
}

/// BIP39's checksum: the last `n / 3` bits of the words' 11-bit indices are the first bits of
/// the SHA-256 of the rest.
fn checksum_holds(words: &[Word]) -> bool {
    let n = words.len();
    let checksum_bits = n / 3;
    let entropy_bytes = (n * 11 - checksum_bits) / 8;
    // The 11-bit indices, packed big-endian.
    let mut bytes = [0u8; 33];
    let (mut acc, mut held, mut at) = (0u32, 0u32, 0usize);
    for w in words {
        acc = (acc << 11) | u32::from(w.index);
        held += 11;
        while held >= 8 {
            held -= 8;
            bytes[at] = (acc >> held) as u8;
            at += 1;
        }
        acc &= (1 << held) - 1;
    }
    if held > 0 {
        bytes[at] = (acc << (8 - held)) as u8;
    }
    let hash = Sha256::digest(&bytes[..entropy_bytes]);
    let shift = 8 - checksum_bits;
    bytes[entropy_bytes] >> shift == hash[0] >> shift
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrases(text: &str) -> Vec<(&str, &'static str)> {
        let mut out = Vec::new();
        find(text, &mut out);
        out.iter().map(|f| (&text[f.start..f.end], f.wordlist.unwrap_or_default())).collect()
    }

    #[test]
    fn finds_an_english_phrase_in_a_sentence() {
        let m = bip39::Mnemonic::from_entropy_in(Language::English, &[7u8; 16]).unwrap_or_else(|e| panic!("{e}"));
        let phrase = m.to_string();
        let text = format!("hi, my wallet is empty: {phrase}. please help");
        assert_eq!(phrases(&text), vec![(phrase.as_str(), "english")]);
    }

    #[test]
    fn finds_numbered_and_run_together_phrases() {
        let m = bip39::Mnemonic::from_entropy_in(Language::English, &[42u8; 32]).unwrap_or_else(|e| panic!("{e}"));
        let numbered: Vec<String> = m.words().enumerate().map(|(i, w)| format!("{}. {w}", i + 1)).collect();
        let text = numbered.join("\n");
        assert_eq!(phrases(&text).len(), 1, "{text}");
        let zh = bip39::Mnemonic::from_entropy_in(Language::SimplifiedChinese, &[9u8; 16]).unwrap_or_else(|e| panic!("{e}"));
        let together: String = zh.words().collect();
        let text = format!("我的助记词是{together}，请帮我看看");
        assert_eq!(phrases(&text), vec![(together.as_str(), "chinese_simplified")]);
    }

    #[test]
    fn a_broken_checksum_or_a_short_run_is_not_a_phrase() {
        let m = bip39::Mnemonic::from_entropy_in(Language::English, &[7u8; 16]).unwrap_or_else(|e| panic!("{e}"));
        let mut words: Vec<&str> = m.words().collect();
        words.swap(0, 5);
        assert!(phrases(&words.join(" ")).is_empty());
        assert!(phrases(&words[..11].join(" ")).is_empty());
    }

    #[test]
    fn chinese_prose_is_not_a_phrase() {
        let text =
            "您好，我昨天在平台上提币到另一个交易所，但是到现在还没有到账，麻烦帮我查一下是什么原因，我的账户是实名认证过的，谢谢您的帮助";
        assert!(phrases(text).is_empty());
    }

    #[test]
    fn fold_drops_accents_and_case() {
        assert_eq!(fold("Élève"), "eleve");
        assert_eq!(fold("ABANDON"), "abandon");
    }
}
