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

/// The words of every list, laid out for lookups that stay in cache: a Chinese character by its
/// code point, a word of up to 16 bytes as one integer, longer ones (decomposed Korean and
/// Japanese) by string.
struct Lists {
    /// A word's index in each list, and the lists it is in (bit `l`).
    entries: Vec<(Entry, u16)>,
    /// Entry + 1 for each character of the CJK block, 0 when none.
    han: Vec<u32>,
    short: HashMap<u128, u32>,
    long: HashMap<String, u32>,
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

impl Lists {
    /// The entry of a folded word.
    fn get(&self, folded: &str) -> Option<&(Entry, u16)> {
        let id = if folded.len() <= 16 { self.short.get(&short_key(folded.bytes())) } else { self.long.get(folded) };
        id.map(|&i| &self.entries[i as usize])
    }

    fn han(&self, c: char) -> Option<&(Entry, u16)> {
        let at = (c as u32).checked_sub(HAN_FIRST)?;
        match self.han.get(at as usize) {
            Some(&id) if id > 0 => Some(&self.entries[id as usize - 1]),
            _ => None,
        }
    }
}

static LISTS: LazyLock<Lists> = LazyLock::new(|| {
    let mut ids: HashMap<String, u32> = HashMap::with_capacity_and_hasher(20_000, Default::default());
    let mut entries: Vec<(Entry, u16)> = Vec::with_capacity(20_000);
    for (l, lang) in LANGUAGES.iter().enumerate() {
        for (i, w) in lang.word_list().iter().enumerate() {
            let next = entries.len() as u32;
            let id = *ids.entry(fold(w)).or_insert(next);
            if id == next {
                entries.push(([NONE; 10], 0));
            }
            let (entry, mask) = &mut entries[id as usize];
            // Two words of one list that fold alike (accents dropped) keep the first.
            if entry[l] == NONE {
                entry[l] = i as u16;
                *mask |= 1 << l;
            }
        }
    }
    let mut han = vec![0u32; (HAN_LAST - HAN_FIRST + 1) as usize];
    let mut short = HashMap::default();
    let mut long = HashMap::default();
    for (word, &id) in &ids {
        let mut chars = word.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if (HAN_FIRST..=HAN_LAST).contains(&(c as u32)) => han[(c as u32 - HAN_FIRST) as usize] = id + 1,
            _ if word.len() <= 16 => {
                short.insert(short_key(word.bytes()), id);
            }
            _ => {
                long.insert(word.clone(), id);
            }
        }
    }
    let min_len = ids.keys().map(String::len).min().unwrap_or(1);
    let max_len = ids.keys().map(String::len).max().unwrap_or(32);
    Lists { entries, han, short, long, min_len, max_len }
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
    c.is_alphabetic() && !kefu_search::analysis::is_han(c) || matches!(c, '\u{3099}' | '\u{309A}' | '\u{0300}'..='\u{036F}')
}

#[derive(Clone, Copy)]
struct Word {
    index: u16,
    start: usize,
    end: usize,
    ch: char,
}

/// Seed phrases in `text`, as byte ranges.
pub fn find(text: &str, out: &mut Vec<Finding>) {
    let lists = &*LISTS;
    // The tokens that are words of some list, in order; a run of list `l` is a stretch of
    // them, all words of `l` (anything else between breaks every run).
    let mut tokens: Vec<(usize, usize, char, &Entry)> = Vec::new();
    let mut run_start = [0usize; 10];
    let mut run_len = [0usize; 10];
    let mut last_end = [0usize; 10];
    // Lists with a run going.
    let mut active: u16 = 0;
    let mut buf = String::new();
    let mut chars = text.char_indices().peekable();
    let flush = |l: usize, from: usize, len: usize, tokens: &[(usize, usize, char, &Entry)], out: &mut Vec<Finding>| {
        if len >= LENGTHS[LENGTHS.len() - 1] {
            let run: Vec<Word> = tokens[from..from + len].iter().map(|&(start, end, ch, e)| Word { index: e[l], start, end, ch }).collect();
            judge(text, l, &run, out);
        }
    };
    while let Some((start, c)) = chars.next() {
        let han = kefu_search::analysis::is_han(c);
        let end = if han {
            start + c.len_utf8()
        } else if is_letter(c) {
            let mut end = start + c.len_utf8();
            while let Some(&(i, d)) = chars.peek() {
                if !is_letter(d) {
                    break;
                }
                end = i + d.len_utf8();
                chars.next();
            }
            end
        } else {
            continue;
        };
        let token = &text[start..end];
        let entry = if han {
            lists.han(c)
        } else if token.len() < lists.min_len || token.len() > lists.max_len * 2 {
            None
        } else if token.is_ascii() {
            if token.len() > 16 {
                None
            } else {
                lists.short.get(&short_key(token.bytes().map(|b| b.to_ascii_lowercase()))).map(|&i| &lists.entries[i as usize])
            }
        } else {
            buf.clear();
            buf.push_str(&fold(token));
            lists.get(&buf)
        };
        let (entry, mask) = match entry {
            Some((e, m)) => (Some(e), *m),
            None => (None, 0),
        };
        if mask == 0 && active == 0 {
            continue;
        }
        let at = tokens.len();
        if let Some(e) = entry {
            tokens.push((start, end, c, e));
        }
        let mut todo = active | mask;
        while todo != 0 {
            let l = todo.trailing_zeros() as usize;
            todo &= todo - 1;
            let in_list = mask & (1 << l) != 0;
            let joined = run_len[l] > 0 && start - last_end[l] <= MAX_GAP;
            if !in_list || !joined {
                flush(l, run_start[l], run_len[l], &tokens, out);
                run_len[l] = 0;
            }
            if in_list {
                if run_len[l] == 0 {
                    run_start[l] = at;
                }
                run_len[l] += 1;
                last_end[l] = end;
                active |= 1 << l;
            } else {
                active &= !(1 << l);
            }
        }
    }
    for l in 0..10 {
        flush(l, run_start[l], run_len[l], &tokens, out);
    }
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
    // Dictionary words formed by touching neighbours inside a window: looked up last, for the
    // few windows that got that far (the lookups are the costly part on Chinese text).
    let fluent_pairs = |s: usize, k: usize| (s + 1..s + k).filter(|&i| touching(i) && forms_word(run[i - 1].ch, run[i].ch)).count();
    let cued = |s: usize| {
        let mut from = run[s].start.saturating_sub(CUE_REACH);
        while !text.is_char_boundary(from) {
            from += 1;
        }
        CUES.is_match(&text[from..run[s].start])
    };
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
            let phrase = if !CHINESE[l] || (s + 1..s + k).all(|i| !touching(i)) {
                checksum_holds(&run[s..s + k])
            } else {
                let ends = s + k == run.len() || !touching(s + k);
                (starts || ends)
                    && ((starts && ends) || *cue.get_or_insert_with(|| cued(s)))
                    && checksum_holds(&run[s..s + k])
                    && fluent_pairs(s, k) * 4 <= k
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
    let mut pair = String::with_capacity(8);
    pair.push(kefu_search::analysis::fold_char(a));
    pair.push(kefu_search::analysis::fold_char(b));
    kefu_search::analysis::is_dictionary_word(&pair)
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
