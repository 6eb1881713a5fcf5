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
use sha2::{Digest, Sha256};
use std::collections::HashMap;
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

struct Lists {
    words: HashMap<String, Entry>,
    /// Shortest and longest folded word, in bytes: tokens outside are not looked up.
    min_len: usize,
    max_len: usize,
}

static LISTS: LazyLock<Lists> = LazyLock::new(|| {
    let mut words: HashMap<String, Entry> = HashMap::with_capacity(20_000);
    for (l, lang) in LANGUAGES.iter().enumerate() {
        for (i, w) in lang.word_list().iter().enumerate() {
            let entry = words.entry(fold(w)).or_insert([NONE; 10]);
            // Two words of one list that fold alike (accents dropped) keep the first.
            if entry[l] == NONE {
                entry[l] = i as u16;
            }
        }
    }
    let min_len = words.keys().map(String::len).min().unwrap_or(1);
    let max_len = words.keys().map(String::len).max().unwrap_or(32);
    Lists { words, min_len, max_len }
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
    let mut runs: [Vec<Word>; 10] = Default::default();
    let mut buf = String::new();
    let mut chars = text.char_indices().peekable();
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
        let entry = if token.len() < lists.min_len || token.len() > lists.max_len * 2 {
            None
        } else if token.bytes().all(|b| b.is_ascii_lowercase()) || han {
            lists.words.get(token)
        } else {
            buf.clear();
            buf.push_str(&fold(token));
            lists.words.get(buf.as_str())
        };
        for (l, run) in runs.iter_mut().enumerate() {
            let index = entry.map_or(NONE, |e| e[l]);
            let joined = run.last().is_some_and(|w| start - w.end <= MAX_GAP);
            if index == NONE || !joined {
                judge(text, l, run, out);
                run.clear();
            }
            if index != NONE {
                run.push(Word { index, start, end, ch: c });
            }
        }
    }
    for (l, run) in runs.iter_mut().enumerate() {
        judge(text, l, run, out);
    }
}

/// Words before a run-together Chinese phrase that say what follows is one.
const CUES: &[&str] = &[
    "助记词",
    "助記詞",
    "记忆词",
    "記憶詞",
    "种子",
    "種子",
    "恢复词",
    "恢復詞",
    "备份",
    "備份",
    "私钥",
    "私鑰",
    "钱包",
    "錢包",
    "seed",
    "phrase",
    "mnemonic",
];

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
    // Dictionary words formed by touching neighbours, counted cumulatively.
    let fluent: Vec<u32> = if CHINESE[l] {
        let mut acc = vec![0u32; run.len() + 1];
        for i in 0..run.len() {
            let pair = i + 1 < run.len() && touching(i + 1) && forms_word(run[i].ch, run[i + 1].ch);
            acc[i + 1] = acc[i] + u32::from(pair);
        }
        acc
    } else {
        Vec::new()
    };
    let plausible = |s: usize, k: usize| {
        if !CHINESE[l] || (s + 1..s + k).all(|i| !touching(i)) {
            return true;
        }
        let starts = !touching(s);
        let ends = s + k == run.len() || !touching(s + k);
        let cued = || {
            let mut from = run[s].start.saturating_sub(CUE_REACH);
            while !text.is_char_boundary(from) {
                from += 1;
            }
            let before = text[from..run[s].start].to_lowercase();
            CUES.iter().any(|c| before.contains(c))
        };
        let pairs = (fluent[s + k - 1] - fluent[s]) as usize;
        (starts || ends) && ((starts && ends) || cued()) && pairs * 4 <= k
    };
    // Every window that could be a phrase; overlapping ones become one finding. A chance
    // checksum match reaching a word or two past the phrase costs those words, never the phrase.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for s in 0..=run.len() - shortest {
        for k in LENGTHS {
            if s + k <= run.len() && plausible(s, k) && checksum_holds(&run[s..s + k]) {
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
    let total_bits = n * 11;
    let checksum_bits = n / 3;
    let entropy_bits = total_bits - checksum_bits;
    let mut bits = [0u8; 33];
    for (i, w) in words.iter().enumerate() {
        for b in 0..11 {
            if w.index & (1 << (10 - b)) != 0 {
                let at = i * 11 + b;
                bits[at / 8] |= 0x80 >> (at % 8);
            }
        }
    }
    let entropy = &bits[..entropy_bits / 8];
    let hash = Sha256::digest(entropy);
    (0..checksum_bits).all(|b| {
        let at = entropy_bits + b;
        let have = bits[at / 8] & (0x80 >> (at % 8)) != 0;
        let want = hash[b / 8] & (0x80 >> (b % 8)) != 0;
        have == want
    })
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
