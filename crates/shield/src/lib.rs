//! Kefu's security shield, the part that needs no I/O: secrets found and redacted in what
//! customers write, links judged against the exchange's official domains, and the official
//! verification of a URL, e-mail address, Telegram account, phone number or agent id.
//!
//! The app runs every inbound message through [`Shield::redact`] before anything is stored;
//! `kefu shield scan` and `kefu verify` run the same code from the command line.

mod keys;
mod links;
mod mnemonic;
mod verify;

pub use keys::SecretPattern;
pub use links::{Domains, Link, Reason, Verdict};
pub use verify::{QueryKind, Verification};

use serde::{Deserialize, Serialize};

/// What kind of secret a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretKind {
    /// A BIP39 mnemonic of 12 to 24 words, in any official wordlist.
    SeedPhrase,
    /// 64 hex digits that are not said to be a transaction or block hash.
    PrivateKey,
    /// A private key in Wallet Import Format.
    WifKey,
    /// `xprv`, `yprv`, `zprv`, `tprv` and their kin.
    ExtendedKey,
    /// An Ethereum keystore (v3) JSON file.
    Keystore,
    /// The exchange's API secret, by a configured pattern.
    ApiSecret,
}

impl SecretKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::SeedPhrase => "seed_phrase",
            SecretKind::PrivateKey => "private_key",
            SecretKind::WifKey => "wif_key",
            SecretKind::ExtendedKey => "extended_key",
            SecretKind::Keystore => "keystore",
            SecretKind::ApiSecret => "api_secret",
        }
    }

    /// What the stored text says in its place: `[REDACTED: seed phrase]`.
    pub fn placeholder(self) -> &'static str {
        match self {
            SecretKind::SeedPhrase => "[REDACTED: seed phrase]",
            SecretKind::PrivateKey | SecretKind::WifKey => "[REDACTED: private key]",
            SecretKind::ExtendedKey => "[REDACTED: extended private key]",
            SecretKind::Keystore => "[REDACTED: keystore file]",
            SecretKind::ApiSecret => "[REDACTED: API secret]",
        }
    }
}

/// A secret found in a text, by byte offsets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: SecretKind,
    pub start: usize,
    pub end: usize,
    /// For seed phrases: the wordlist (`english`, `chinese_simplified`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wordlist: Option<&'static str>,
}

impl Finding {
    fn new(kind: SecretKind, start: usize, end: usize) -> Self {
        Finding { kind, start, end, wordlist: None }
    }
}

/// The exchange's official channels, as configured (`[shield]` in kefu.toml, the admin page).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Official {
    /// Domains (their subdomains are official too): `nebula-ex.com`.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Addresses mail comes from: `support@nebula-ex.com`.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Telegram accounts: `@NebulaExchange`.
    #[serde(default)]
    pub telegram: Vec<String>,
    /// Phone numbers, as written (`+86 400 123 4567`); compared digit by digit.
    #[serde(default)]
    pub phones: Vec<String>,
    /// The ids agents give customers: `NBX-1024`.
    #[serde(default)]
    pub agent_ids: Vec<String>,
}

impl Official {
    /// Whether no official channel of any kind is configured.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty() && self.emails.is_empty() && self.telegram.is_empty() && self.phones.is_empty() && self.agent_ids.is_empty()
    }
}

/// A text with its secrets replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    pub text: String,
    /// Offsets into the original text.
    pub findings: Vec<Finding>,
}

/// Everything `kefu shield scan` reports about a text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scan {
    pub redacted: String,
    pub findings: Vec<Finding>,
    pub links: Vec<Link>,
}

/// The compiled shield: official channels and secret patterns, checked once.
#[derive(Debug, Clone, Default)]
pub struct Shield {
    official: Official,
    domains: Domains,
    allowed: Domains,
    patterns: Vec<SecretPattern>,
}

impl Shield {
    /// `allowed_link_domains`: where agents may link besides the official domains (a block
    /// explorer, say). Every entry is checked; the first bad one is the error.
    pub fn new<S: AsRef<str>>(official: Official, allowed_link_domains: &[S], patterns: Vec<SecretPattern>) -> Result<Self, String> {
        let domains = Domains::new(&official.domains)?;
        let allowed = Domains::new(allowed_link_domains)?;
        verify::check(&official)?;
        Ok(Shield { official, domains, allowed, patterns })
    }

    pub fn official(&self) -> &Official {
        &self.official
    }

    /// Loads the wordlists and the dictionary now rather than on the first message.
    pub fn warm_up() {
        mnemonic::warm_up();
        kefu_search::analysis::warm_up();
    }

    /// The secrets in `text`, in order, none overlapping (the longer of two overlapping wins).
    pub fn secrets(&self, text: &str) -> Vec<Finding> {
        self.secrets_after(text, None)
    }

    /// As [`Shield::secrets`], for a message that answers `prompt` (the other side's last
    /// message): a bare 64-hex string answering "what is the TxID?" is a transaction hash.
    pub fn secrets_after(&self, text: &str, prompt: Option<&str>) -> Vec<Finding> {
        let mut found = Vec::new();
        mnemonic::find(text, &mut found);
        keys::find(text, prompt.is_some_and(keys::asks_for_public), &mut found);
        for p in &self.patterns {
            p.find(text, &mut found);
        }
        found.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
        let mut out: Vec<Finding> = Vec::with_capacity(found.len());
        for f in found {
            match out.last_mut() {
                Some(last) if f.start < last.end => {
                    if f.end - f.start > last.end - last.start {
                        *last = f;
                    }
                }
                _ => out.push(f),
            }
        }
        out
    }

    /// `text` with every secret replaced by its placeholder.
    pub fn redact(&self, text: &str) -> Redacted {
        self.redact_after(text, None)
    }

    /// As [`Shield::redact`], for a message answering `prompt` (see [`Shield::secrets_after`]).
    pub fn redact_after(&self, text: &str, prompt: Option<&str>) -> Redacted {
        let findings = self.secrets_after(text, prompt);
        if findings.is_empty() {
            return Redacted { text: text.to_string(), findings };
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for f in &findings {
            out.push_str(&text[at..f.start]);
            out.push_str(f.kind.placeholder());
            at = f.end;
        }
        out.push_str(&text[at..]);
        Redacted { text: out, findings }
    }

    /// Every link in `text` with its verdict.
    pub fn links(&self, text: &str) -> Vec<Link> {
        self.domains.links(text)
    }

    /// Whether the verdict on `text` may depend on the message it answers: it holds a 64-hex
    /// string (a key, or a transaction hash when that is what was asked for).
    pub fn needs_prompt(&self, text: &str) -> bool {
        keys::has_hex(text)
    }

    /// Secrets, redacted text and links (the links outside the secrets) of `text`.
    pub fn scan(&self, text: &str) -> Scan {
        self.scan_after(text, None)
    }

    /// As [`Shield::scan`], for a message answering `prompt` (see [`Shield::secrets_after`]).
    pub fn scan_after(&self, text: &str, prompt: Option<&str>) -> Scan {
        let Redacted { text: redacted, findings } = self.redact_after(text, prompt);
        let links = self.links(text).into_iter().filter(|l| !findings.iter().any(|f| l.start < f.end && f.start < l.end)).collect();
        Scan { redacted, findings, links }
    }

    /// Whether an agent may send a customer this link: official, or on a domain an admin allowed.
    pub fn link_allowed(&self, link: &Link) -> bool {
        link.verdict == Verdict::Official || links::host_of(&link.url).is_some_and(|h| self.allowed.contains(&h))
    }

    /// Is this URL, e-mail address, Telegram account, phone number or agent id official?
    pub fn verify(&self, query: &str) -> Result<Verification, String> {
        verify::verify(self, query)
    }

    pub(crate) fn domains(&self) -> &Domains {
        &self.domains
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_replaces_each_secret_and_keeps_the_rest() {
        let shield = Shield::default();
        let m = bip39::Mnemonic::from_entropy_in(bip39::Language::English, &[1u8; 16]).unwrap_or_else(|e| panic!("{e}"));
        let key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
        let text = format!("words: {m} and key {key}!");
        let r = shield.redact(&text);
        assert_eq!(r.text, "words: [REDACTED: seed phrase] and key [REDACTED: private key]!");
        assert_eq!(r.findings.iter().map(|f| f.kind).collect::<Vec<_>>(), vec![SecretKind::SeedPhrase, SecretKind::PrivateKey]);
        assert_eq!(&text[r.findings[1].start..r.findings[1].end], key);
        assert_eq!(shield.redact("nothing here").text, "nothing here");
    }

    #[test]
    fn agents_may_link_to_official_and_allowed_domains_only() {
        let official = Official { domains: vec!["nebula-ex.com".into()], ..Default::default() };
        let shield = Shield::new(official, &["etherscan.io"], Vec::new()).unwrap_or_else(|e| panic!("{e}"));
        let allowed: Vec<bool> = shield
            .links("https://nebula-ex.com/a https://etherscan.io/tx/1 https://evil.io")
            .iter()
            .map(|l| shield.link_allowed(l))
            .collect();
        assert_eq!(allowed, vec![true, true, false]);
    }
}
