//! What the classifier sees of a message: the words the search engine would cut it into (folded,
//! segmented, stemmed), word pairs, Chinese character pairs, and letter groups of English words, so
//! that a typo ("withdrawl") or a different cut of the same Chinese still shares most features.

use kefu_search::analysis::{fold, is_han, words};

/// Longest message looked at, in characters: what comes after this adds little and costs time.
const MAX_CHARS: usize = 400;

/// The features of `text`, each once, in no particular order.
pub fn features(text: &str) -> Vec<String> {
    let text = match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => &text[..cut],
        None => text,
    };
    let mut out: Vec<String> = Vec::with_capacity(64);
    let tokens: Vec<String> = words(text).into_iter().map(shape).collect();
    for t in &tokens {
        out.push(format!("w:{t}"));
    }
    for pair in tokens.windows(2) {
        out.push(format!("b:{}_{}", pair[0], pair[1]));
    }
    let folded = fold(text).to_lowercase();
    let han: Vec<char> = folded.chars().filter(|c| is_han(*c)).collect();
    for c in &han {
        out.push(format!("c:{c}"));
    }
    // Pairs of neighbouring characters within a run of Chinese: 到账, 没到, 提币.
    let mut prev: Option<char> = None;
    for c in folded.chars() {
        if is_han(c) {
            if let Some(p) = prev {
                out.push(format!("c:{p}{c}"));
            }
            prev = Some(c);
        } else {
            prev = None;
        }
    }
    for word in folded.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| w.len() >= 4) {
        let padded: Vec<char> = format!("<{word}>").chars().collect();
        for gram in padded.windows(4) {
            out.push(format!("g:{}", gram.iter().collect::<String>()));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Numbers and identifiers stand for their kind, not their value: one order id says nothing
/// about the next.
fn shape(token: String) -> String {
    let digits = token.chars().filter(char::is_ascii_digit).count();
    if digits == token.chars().count() {
        if token.len() >= 7 { "#long_number".into() } else { "#number".into() }
    } else if token.len() >= 20 && digits > 0 && token.chars().all(|c| c.is_ascii_alphanumeric()) {
        "#id".into()
    } else {
        token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_cover_words_pairs_characters_and_letter_groups() {
        let f = features("My USDT withdrawl is pending 提币没到账");
        for want in ["w:usdt", "c:提币", "c:到", "g:<wit", "g:rawl"] {
            assert!(f.iter().any(|x| x == want), "{want} missing from {f:?}");
        }
        // Traditional folds to Simplified: the same features either way.
        assert_eq!(features("提幣沒到帳"), features("提币没到账"));
    }

    #[test]
    fn ids_and_numbers_become_their_shape() {
        let f = features("txid 0x5f2a9c0d3e1b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f amount 250");
        assert!(f.iter().any(|x| x == "w:#id"), "{f:?}");
        assert!(f.iter().any(|x| x == "w:#number"), "{f:?}");
        assert!(!f.iter().any(|x| x.contains("5f2a9c")), "{f:?}");
    }
}
