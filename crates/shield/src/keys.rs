//! Private keys in free text: raw hex keys, WIF keys, extended private keys, Ethereum keystore
//! files, and the exchange's own API secrets by configured patterns.

use crate::{Finding, SecretKind};
use regex::Regex;

/// The shortest word a fixed-format key can be: a WIF key's 51 characters.
const SHORTEST_KEY: usize = 51;

/// The words of `text` long enough to be a key, as byte ranges: maximal runs of ASCII word
/// characters (`[0-9A-Za-z_]`, what `\b` in a pattern would bound). Every fixed key format is
/// such a whole word, so one pass replaces a regex search per format; and as such a word covers
/// any byte it starts [`SHORTEST_KEY`] - 1 bytes before, the pass looks at one byte in that many
/// wherever there is none (Boyer-Moore's skip).
fn long_words(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    // Every word ending before `at` has been looked at, and none straddles it.
    let mut at = 0;
    std::iter::from_fn(move || {
        loop {
            let probe = at + SHORTEST_KEY - 1;
            if probe >= bytes.len() {
                return None;
            }
            if !is_word_byte(bytes[probe]) {
                at = probe + 1;
                continue;
            }
            let start = at + bytes[at..probe].iter().rposition(|&b| !is_word_byte(b)).map_or(0, |i| i + 1);
            let end = probe + bytes[probe..].iter().position(|&b| !is_word_byte(b)).unwrap_or(bytes.len() - probe);
            at = end;
            if end - start >= SHORTEST_KEY {
                return Some((start, end));
            }
        }
    })
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_base58(b: u8) -> bool {
    b.is_ascii_alphanumeric() && !matches!(b, b'0' | b'O' | b'I' | b'l')
}

/// 64 hex digits, with or without `0x`.
fn is_hex_key(word: &[u8]) -> bool {
    let digits = match word {
        [b'0', b'x' | b'X', rest @ ..] => rest,
        _ => word,
    };
    digits.len() == 64 && digits.iter().all(u8::is_ascii_hexdigit)
}

/// A WIF key's shape: base58, `5` (uncompressed) or `K`/`L` (compressed) on mainnet, `9`/`c`
/// on testnet, 51 or 52 characters.
fn is_wif_shaped(word: &[u8]) -> bool {
    matches!(word.len(), 51 | 52) && matches!(word[0], b'5' | b'K' | b'L' | b'9' | b'c') && word.iter().all(|&b| is_base58(b))
}

/// An extended private key: BIP32 `xprv`/`tprv`, SLIP-132 `yprv`/`zprv` and their multisig
/// `Yprv`/`Zprv`/`uprv`/`vprv`/`Uprv`/`Vprv` kin; 111 base58 characters in all (104 to 116
/// accepted).
fn is_xprv(word: &[u8]) -> bool {
    (104..=116).contains(&word.len())
        && matches!(word[0], b'x' | b'y' | b'z' | b't' | b'u' | b'v' | b'Y' | b'Z' | b'U' | b'V')
        && &word[1..4] == b"prv"
        && word.iter().all(|&b| is_base58(b))
}

/// Words before a 64-hex string that say it is a key (it is then one, whatever else is said).
const KEY_WORDS: &[&str] = &["private", "priv key", "privkey", "secret", "私钥", "私鑰", "密钥", "密鑰", "key:", "key："];

/// Words before a 64-hex string that say it is public: a transaction or block hash.
const PUBLIC_WORDS: &[&str] =
    &["tx", "hash", "transaction", "block hash", "blockhash", "block:", "交易", "哈希", "区块", "區塊", "转账", "轉賬", "转帐", "轉帳"];

/// How far back (bytes) the words that tell a hash from a key are looked for.
const CONTEXT: usize = 48;

/// Whether the message `text` answers asked for something public: a transaction or block
/// hash ("What is the TxID?"), and not for a key.
pub fn asks_for_public(prompt: &str) -> bool {
    let p = prompt.to_lowercase();
    PUBLIC_WORDS.iter().any(|w| p.contains(w)) && !KEY_WORDS.iter().any(|w| p.contains(w))
}

/// Whether `text` holds a 64-hex string, the one kind whose verdict can depend on the message
/// it answers.
pub fn has_hex(text: &str) -> bool {
    long_words(text).any(|(start, end)| is_hex_key(&text.as_bytes()[start..end]))
}

/// Keys of every fixed kind in `text`; `answers_public`: the text answers a question for a
/// transaction hash (see [`asks_for_public`]), so a 64-hex string said to be nothing is one.
pub fn find(text: &str, answers_public: bool, out: &mut Vec<Finding>) {
    for (start, end) in long_words(text) {
        let word = &text.as_bytes()[start..end];
        let kind = if is_hex_key(word) {
            is_key_by_context(text, start, answers_public).then_some(SecretKind::PrivateKey)
        } else if is_wif_shaped(word) {
            is_wif(&text[start..end]).then_some(SecretKind::WifKey)
        } else {
            is_xprv(word).then_some(SecretKind::ExtendedKey)
        };
        if let Some(kind) = kind {
            out.push(Finding::new(kind, start, end));
        }
    }
    keystores(text, out);
}

/// Whether the 64-hex string at `at` is taken for a key: unless the words just before it, a
/// link around it or the question it answers say it is a transaction or block hash. An
/// unexplained one counts as a key: a txid redacted costs the customer a retype, a key stored
/// costs their funds.
fn is_key_by_context(text: &str, at: usize, answers_public: bool) -> bool {
    let mut from = at.saturating_sub(CONTEXT);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let before = text[from..at].to_lowercase();
    if KEY_WORDS.iter().any(|w| before.contains(w)) {
        return true;
    }
    // Inside a link (an explorer's `/tx/…`, `#/transaction/…`): the word just before has no spaces.
    let last_word = before.rsplit(char::is_whitespace).next().unwrap_or("");
    if last_word.contains('/') || last_word.contains('=') {
        return false;
    }
    !PUBLIC_WORDS.iter().any(|w| before.contains(w)) && !answers_public
}

/// Base58check with a private key's version byte and length.
fn is_wif(s: &str) -> bool {
    let Ok(data) = bs58::decode(s).with_check(None).into_vec() else { return false };
    let version_ok = matches!(data.first(), Some(0x80 | 0xEF));
    version_ok && (data.len() == 33 || (data.len() == 34 && data[33] == 0x01))
}

/// Ethereum keystore JSON: an object holding `ciphertext` with `cipherparams`, `kdf` or `mac`. The whole object
/// goes, or everything from its opening brace when the customer pasted it cut short.
fn keystores(text: &str, out: &mut Vec<Finding>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(offset) = memchr::memchr(b'{', &bytes[i..]) {
        let start = i + offset;
        let end = object_end(bytes, start);
        let body = text[start..end].to_ascii_lowercase();
        if body.contains("\"ciphertext\"") && ["\"kdf\"", "\"mac\"", "\"cipherparams\""].iter().any(|k| body.contains(k)) {
            out.push(Finding::new(SecretKind::Keystore, start, end));
            i = end;
        } else {
            i = start + 1;
        }
    }
}

/// Where the JSON object opening at `start` ends (just past its closing brace), or the end of
/// the text. Braces inside strings do not count.
fn object_end(bytes: &[u8], start: usize) -> usize {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    bytes.len()
}

/// An operator's pattern for their exchange's API secrets.
#[derive(Debug, Clone)]
pub struct SecretPattern {
    pub name: String,
    pub regex: Regex,
}

impl SecretPattern {
    pub fn new(name: &str, pattern: &str) -> Result<Self, String> {
        let name = name.trim();
        if name.is_empty() {
            return Err("a secret pattern needs a name".into());
        }
        let regex =
            regex::RegexBuilder::new(pattern).size_limit(1 << 20).build().map_err(|e| format!("pattern {name:?} does not compile: {e}"))?;
        if regex.is_match("") {
            return Err(format!("pattern {name:?} matches empty text"));
        }
        Ok(SecretPattern { name: name.to_string(), regex })
    }

    pub fn find(&self, text: &str, out: &mut Vec<Finding>) {
        for m in self.regex.find_iter(text) {
            out.push(Finding::new(SecretKind::ApiSecret, m.start(), m.end()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<SecretKind> {
        let mut out = Vec::new();
        find(text, false, &mut out);
        out.into_iter().map(|f| f.kind).collect()
    }

    const HEX64: &str = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

    #[test]
    fn a_bare_hex_key_is_a_key_and_a_txid_is_not() {
        assert_eq!(kinds(&format!("my key {HEX64}")), vec![SecretKind::PrivateKey]);
        assert_eq!(kinds(&format!("0x{HEX64}")), vec![SecretKind::PrivateKey]);
        assert!(kinds(&format!("txid: {HEX64}")).is_empty());
        assert!(kinds(&format!("交易哈希 0x{HEX64} 还没到账")).is_empty());
        assert!(kinds(&format!("https://etherscan.io/tx/0x{HEX64}")).is_empty());
        assert_eq!(kinds(&format!("tx was fine, but here is my private key {HEX64}")), vec![SecretKind::PrivateKey]);
        // 65 or 128 digits are not a key's 64.
        assert!(kinds(&format!("{HEX64}{HEX64}")).is_empty());
        // The answer to "what is the TxID?" is one, unless it says otherwise.
        assert!(asks_for_public("Please send the transaction ID (TxID)."));
        assert!(!asks_for_public("Send the private key of the transaction wallet"));
        let mut out = Vec::new();
        find(&format!("0x{HEX64}"), true, &mut out);
        assert!(out.is_empty());
        find(&format!("my private key {HEX64}"), true, &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn wif_keys_need_their_checksum() {
        // The private key 1 in WIF, compressed and not.
        assert_eq!(kinds("KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn"), vec![SecretKind::WifKey]);
        assert_eq!(kinds("5HpHagT65TZzG1PH3CSu63k8DbpvD8s5ip4nEB3kEsreAnchuDf"), vec![SecretKind::WifKey]);
        assert!(kinds("KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWm").is_empty());
    }

    #[test]
    fn keystores_go_whole_even_when_cut_short() {
        let ks = r#"{"version":3,"id":"x","crypto":{"ciphertext":"ab","cipherparams":{"iv":"cd"},"kdf":"scrypt","mac":"ef"}}"#;
        let text = format!("here: {ks} thanks");
        let mut out = Vec::new();
        find(&text, false, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(&text[out[0].start..out[0].end], ks);
        let cut = &ks[..80];
        let mut out = Vec::new();
        find(cut, false, &mut out);
        assert_eq!((out[0].start, out[0].end), (0, cut.len()));
        assert!(kinds(r#"{"order": 12, "status": "pending"}"#).is_empty());
    }

    #[test]
    fn patterns_must_name_and_match_something() {
        assert!(SecretPattern::new("", "x").is_err());
        assert!(SecretPattern::new("api", "a*").is_err());
        assert!(SecretPattern::new("api", "(").is_err());
        let p = SecretPattern::new("exchange API secret", r"nbx_sk_[A-Za-z0-9]{32}").unwrap_or_else(|e| panic!("{e}"));
        let mut out = Vec::new();
        p.find("secret nbx_sk_abcdefghijklmnopqrstuvwxyz012345 ok", &mut out);
        assert_eq!(out.len(), 1);
    }
}
