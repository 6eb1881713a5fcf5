//! Links in free text and a verdict for each: one of the exchange's own domains, a lookalike of
//! one (and why), or unknown.

use regex::Regex;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;
use unicode_security::confusable_detection::skeleton;

/// What a link or name is, next to the official ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Official,
    Lookalike,
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Official => "official",
            Verdict::Lookalike => "lookalike",
            Verdict::Unknown => "unknown",
        }
    }
}

/// Why a name looks like an official one (or, for `shortener`, why its destination is unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Confusable characters (Unicode UTS #39 skeleton): `nebuIa`, Cyrillic `е`, `rn` for `m`.
    Homoglyph,
    /// The same name under another suffix: `nebula-ex.net`.
    TldSwap,
    /// One character one bit away: `nebula%ex`, `oebula-ex`.
    Bitflip,
    /// A small edit: a letter added, dropped, doubled, swapped or replaced, a hyphen moved.
    Typo,
    /// The official name with words around it: `nebula-ex-support.com`, `verify-nebulaex.io`.
    AddedWords,
    /// The official name in front of someone else's domain: `nebula-ex.com.secure-login.io`.
    Subdomain,
    /// The official name before an `@`, which browsers take as a user name: `https://nebula-ex.com@evil.io`.
    AtSign,
    /// A URL shortener: where it leads is not visible.
    Shortener,
}

/// A link found in a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// As written.
    pub url: String,
    /// The host in Unicode (`xn--` labels decoded), lower case.
    pub host: String,
    pub verdict: Verdict,
    /// The official domain it imitates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lookalike_of: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// Byte offsets in the text.
    pub start: usize,
    pub end: usize,
}

/// A well-known URL shortener (registrable domains).
const SHORTENERS: &[&str] = &[
    "bit.ly",
    "bitly.com",
    "t.co",
    "tinyurl.com",
    "goo.gl",
    "is.gd",
    "ow.ly",
    "buff.ly",
    "rebrand.ly",
    "cutt.ly",
    "t.ly",
    "shorturl.at",
    "rb.gy",
    "s.id",
    "tiny.cc",
    "v.gd",
    "bl.ink",
    "short.io",
    "lnkd.in",
    "dwz.cn",
    "suo.im",
    "url.cn",
    "t.cn",
    "sohu.gg",
    "u.nu",
    "clck.ru",
    "qr.ae",
];

/// Suffixes that are file extensions more often than domains when written without a scheme.
const FILE_LIKE: &[&str] = &["zip", "mov", "md", "py", "sh", "rs", "pl", "js", "ts", "so", "mp", "ps"];

/// A link with a scheme (also the defanged `hxxp`), or starting `www.`.
static SCHEMED: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)(?:(?:https?|hxxps?)://|www\.)[^\s<>"'`，。、；：！？（）【】「」『』《》\[\]{}|\\^]+"#));

/// A bare domain: labels of (Latin, Cyrillic or Greek) letters, digits and hyphens, with a dot
/// between (also the full-width and ideographic dots an input method types). Chinese text is not
/// taken for labels: `。` ends its sentences.
static BARE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:[\p{Latin}\p{Cyrillic}\p{Greek}\p{N}](?:[\p{Latin}\p{Cyrillic}\p{Greek}\p{N}-]{0,61}[\p{Latin}\p{Cyrillic}\p{Greek}\p{N}])?[.．。])+(?:[\p{Latin}\p{Cyrillic}\p{Greek}]{2,63}|xn--[a-zA-Z0-9-]{2,59})(?:[/:?#][^\s<>\x22'`，。、；！？（）【】「」『』《》]*)?",
    )
});

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("a fixed pattern compiles: {e}"))
}

/// The exchange's own domains, ready to compare names against.
#[derive(Debug, Clone, Default)]
pub struct Domains {
    domains: Vec<OfficialDomain>,
}

#[derive(Debug, Clone)]
struct OfficialDomain {
    /// ASCII, lower case: `nebula-ex.com`.
    domain: String,
    /// The part before the public suffix: `nebula-ex`.
    name: String,
    /// `nebulaex`.
    bare: String,
    skeleton: String,
}

impl Domains {
    /// From domains as configured (`nebula-ex.com`, `https://www.nebula-ex.com/`, Unicode or
    /// punycode); entries that are not domains are reported.
    pub fn new<S: AsRef<str>>(list: &[S]) -> Result<Self, String> {
        let mut domains = Vec::new();
        for d in list {
            let raw = d.as_ref().trim();
            if raw.is_empty() {
                continue;
            }
            let host = host_of(raw).ok_or_else(|| format!("{raw:?} is not a domain"))?;
            let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
            if !host.contains('.') {
                return Err(format!("{raw:?} is not a domain"));
            }
            let (name, _) = split(&host);
            let bare = name.replace('-', "");
            let skeleton = skel(&unicode_host(&name));
            domains.push(OfficialDomain { domain: host, name, bare, skeleton });
        }
        Ok(Domains { domains })
    }

    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// The official domain whose name (4 letters or more, without hyphens) `text` contains:
    /// the exchange's name inside a user name or handle (`nebulaex_support`).
    pub(crate) fn named_in(&self, text: &str) -> Option<&str> {
        self.domains.iter().find(|o| o.bare.len() >= 4 && text.contains(&o.bare)).map(|o| o.domain.as_str())
    }

    /// Whether `host` (ASCII) is an official domain or under one.
    pub fn contains(&self, host: &str) -> bool {
        self.domains.iter().any(|o| under(host, &o.domain))
    }

    /// The verdict on a host (ASCII, as a URL parser gives it).
    pub fn judge(&self, host: &str) -> (Verdict, Option<String>, Option<Reason>) {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if self.contains(&host) {
            return (Verdict::Official, None, None);
        }
        let (name, suffix) = split(&host);
        let registrable = if suffix.is_empty() { name.clone() } else { format!("{name}.{suffix}") };
        let unicode_name = unicode_host(&name);
        let name_skeleton = skel(&unicode_name);
        let bare = name.replace('-', "");
        let below: Vec<&str> =
            host.strip_suffix(registrable.as_str()).unwrap_or("").trim_end_matches('.').split('.').filter(|l| !l.is_empty()).collect();
        let joined: String = host.strip_suffix(suffix.as_str()).unwrap_or(&host).chars().filter(|c| *c != '.' && *c != '-').collect();
        for o in &self.domains {
            let reason = if name_skeleton == o.skeleton {
                Some(if name == o.name { Reason::TldSwap } else { Reason::Homoglyph })
            } else if name == o.name {
                Some(Reason::TldSwap)
            } else if is_bitflip(&name, &o.name) {
                Some(Reason::Bitflip)
            } else if bare == o.bare || within_edits(&name, &o.name, max_edits(&o.name)) {
                Some(Reason::Typo)
            } else if unicode_name != name && within_edits(&name_skeleton, &o.skeleton, max_edits(&o.name)) {
                // Look-alike characters and a small edit besides.
                Some(Reason::Homoglyph)
            } else if o.bare.len() >= 3 && (bare.contains(&o.bare) || name_skeleton.contains(&o.skeleton)) {
                Some(Reason::AddedWords)
            } else if below.iter().any(|l| l.replace('-', "").contains(&o.bare)) || joined == o.bare {
                Some(Reason::Subdomain)
            } else {
                None
            };
            if reason.is_some() {
                return (Verdict::Lookalike, Some(o.domain.clone()), reason);
            }
        }
        if SHORTENERS.contains(&registrable.as_str()) {
            return (Verdict::Unknown, None, Some(Reason::Shortener));
        }
        (Verdict::Unknown, None, None)
    }

    /// Every link in `text` with its verdict.
    pub fn links(&self, text: &str) -> Vec<Link> {
        let mut out: Vec<Link> = Vec::new();
        for m in may_hold_schemed_link(text).then(|| SCHEMED.find_iter(text)).into_iter().flatten() {
            let raw = trim_trailing(m.as_str());
            if let Some(link) = self.link(raw, m.start(), true) {
                out.push(link);
            }
        }
        for m in may_hold_bare_domain(text).then(|| BARE.find_iter(text)).into_iter().flatten() {
            if out.iter().any(|l| m.start() < l.end && l.start < m.end()) {
                continue;
            }
            // Part of an e-mail address or a longer word: not a link.
            let before = text[..m.start()].chars().next_back();
            if before.is_some_and(|c| c == '@' || c == '.' || c == '-' || c.is_alphanumeric() && !kefu_search::analysis::is_han(c)) {
                continue;
            }
            let raw = trim_trailing(m.as_str());
            if let Some(link) = self.link(raw, m.start(), false) {
                out.push(link);
            }
        }
        out.sort_by_key(|l| l.start);
        out
    }

    /// The verdict on one link or domain given alone (any suffix counts).
    pub fn link_for(&self, raw: &str) -> Option<Link> {
        self.link(trim_trailing(raw.trim()), 0, true)
    }

    fn link(&self, raw: &str, start: usize, schemed: bool) -> Option<Link> {
        let parsed = parse(raw)?;
        let host = parsed.host_str()?.trim_end_matches('.').to_ascii_lowercase();
        if !host.contains('.') || host.parse::<std::net::Ipv4Addr>().is_ok() {
            return None;
        }
        if !schemed {
            let (_, suffix) = split(&host);
            let known = psl::suffix(host.as_bytes()).is_some_and(|s| s.is_known());
            let tld = host.rsplit('.').next().unwrap_or("");
            let official_tld = self.domains.iter().any(|o| o.domain.rsplit('.').next() == Some(tld));
            if !(known || official_tld) || FILE_LIKE.contains(&suffix.as_str()) {
                return None;
            }
        }
        let (mut verdict, mut lookalike_of, mut reason) = self.judge(&host);
        // `https://nebula-ex.com@evil.io`: the part before `@` is a user name, not the site.
        if !parsed.username().is_empty() && verdict != Verdict::Official {
            let user = format!("{}:{}", parsed.username(), parsed.password().unwrap_or("")).to_ascii_lowercase();
            if let Some(o) = self.domains.iter().find(|o| user.replace('-', "").contains(&o.bare)) {
                (verdict, lookalike_of, reason) = (Verdict::Lookalike, Some(o.domain.clone()), Some(Reason::AtSign));
            }
        }
        Some(Link { url: raw.to_string(), host: unicode_host(&host), verdict, lookalike_of, reason, start, end: start + raw.len() })
    }
}

/// Whether `text` may hold a [`SCHEMED`] link: `://` or `www.` somewhere. Most messages hold
/// neither, and this is cheaper than starting the regex.
fn may_hold_schemed_link(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b':', bytes).any(|i| bytes[i + 1..].starts_with(b"//"))
        || memchr::memchr_iter(b'.', bytes).any(|i| i >= 3 && bytes[i - 3..i].eq_ignore_ascii_case(b"www"))
}

/// Whether `text` may hold a [`BARE`] domain: a dot (`.`, `．` or `。`) right before a character
/// its suffix can start with. Ends of sentences (`。` before Chinese, `. ` before a space) and
/// numbers (`1.5`) are not, and most messages have nothing else.
fn may_hold_bare_domain(text: &str) -> bool {
    let bytes = text.as_bytes();
    // `．` is EF BC 8E and `。` E3 80 82 in UTF-8.
    memchr::memchr3_iter(b'.', 0xEF, 0xE3, bytes).any(|i| {
        let after = match bytes[i] {
            b'.' => i + 1,
            _ if bytes[i..].starts_with("．".as_bytes()) || bytes[i..].starts_with("。".as_bytes()) => i + 3,
            _ => return false,
        };
        text[after..].chars().next().is_some_and(may_start_suffix)
    })
}

/// Whether `c` may be the first letter of a suffix (a Latin, Cyrillic or Greek letter): an ASCII
/// letter, or anything past ASCII but Chinese characters and CJK or general punctuation.
fn may_start_suffix(c: char) -> bool {
    c.is_ascii_alphabetic()
        || !c.is_ascii()
            && !kefu_search::analysis::is_han(c)
            && !matches!(c, '\u{2000}'..='\u{206F}' | '\u{3000}'..='\u{303F}' | '\u{FF01}'..='\u{FF20}')
}

/// `raw` as a URL; a bare domain or `www.` gets a scheme, a defanged `hxxp` its real one, the
/// full-width and ideographic dots ASCII ones.
fn parse(raw: &str) -> Option<url::Url> {
    let mut s = raw.replace(['．', '。'], ".");
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("hxxp") {
        s.replace_range(..4, "http");
    } else if !lower.starts_with("http://") && !lower.starts_with("https://") {
        s.insert_str(0, "http://");
    }
    url::Url::parse(&s).ok()
}

/// The host of a configured domain or URL, ASCII lower case.
pub(crate) fn host_of(raw: &str) -> Option<String> {
    let parsed = parse(raw.trim())?;
    Some(parsed.host_str()?.trim_end_matches('.').to_ascii_lowercase())
}

/// Sentence punctuation after a link is not part of it; a closing bracket only when unmatched.
fn trim_trailing(s: &str) -> &str {
    let mut s = s;
    loop {
        let Some(c) = s.chars().next_back() else { return s };
        let drop = match c {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '"' | '*' | '．' | '。' => true,
            ')' => s.matches('(').count() < s.matches(')').count(),
            _ => false,
        };
        if !drop {
            return s;
        }
        s = &s[..s.len() - c.len_utf8()];
    }
}

fn under(host: &str, domain: &str) -> bool {
    host == domain || host.strip_suffix(domain).is_some_and(|rest| rest.ends_with('.'))
}

/// The registrable name and the public suffix of an ASCII host: `login.nebula-ex.co.uk` gives
/// (`nebula-ex`, `co.uk`). Unknown suffixes count as one label.
fn split(host: &str) -> (String, String) {
    let suffix = psl::suffix_str(host).unwrap_or_else(|| host.rsplit('.').next().unwrap_or(""));
    let rest = host.strip_suffix(suffix).unwrap_or(host).trim_end_matches('.');
    let name = rest.rsplit('.').next().unwrap_or(rest);
    (name.to_string(), suffix.to_string())
}

/// A host or label with its `xn--` parts decoded.
fn unicode_host(ascii: &str) -> String {
    // Lower-case ASCII without an `xn--` label is its own Unicode form: no IDNA pass needed.
    if !ascii.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) && !ascii.contains("xn--") {
        return ascii.to_string();
    }
    let (unicode, result) = idna::domain_to_unicode(ascii);
    if result.is_ok() { unicode.to_lowercase() } else { ascii.to_string() }
}

/// What a name looks like, whatever characters draw it: accents and other marks dropped, then
/// the UTS #39 skeleton (`rn` and `m`, Cyrillic `е` and Latin `e` alike), lower-cased.
fn skel(s: &str) -> String {
    // ASCII has no marks and decomposes to itself.
    let bare: String =
        if s.is_ascii() { s.to_string() } else { s.nfkd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)).collect() };
    skeleton(&bare).collect::<String>().to_lowercase()
}

fn is_bitflip(a: &str, b: &str) -> bool {
    a.len() == b.len() && {
        let diffs: Vec<u8> = a.bytes().zip(b.bytes()).filter(|(x, y)| x != y).map(|(x, y)| x ^ y).collect();
        diffs.len() == 1 && diffs[0].count_ones() == 1
    }
}

/// Whether `a` is at most `edits` edits (Damerau-Levenshtein) from `b`. Each edit changes the
/// length by one character at most, and the letters one name lacks by one at most, so names
/// further apart in length or letters are not compared.
fn within_edits(a: &str, b: &str, edits: usize) -> bool {
    a.chars().count().abs_diff(b.chars().count()) <= edits && letters_apart(a, b) <= edits && strsim::damerau_levenshtein(a, b) <= edits
}

/// A lower bound of the edit distance between two ASCII names, cheap next to the distance
/// itself: the letters one has and the other lacks (counting repeats), the larger of the two
/// counts. An insertion, deletion or substitution changes each count by one at most, a
/// transposition neither. Zero, no bound, when either name is not ASCII.
fn letters_apart(a: &str, b: &str) -> usize {
    if !a.is_ascii() || !b.is_ascii() {
        return 0;
    }
    let mut surplus = [0i32; 128];
    for c in a.bytes() {
        surplus[usize::from(c)] += 1;
    }
    for c in b.bytes() {
        surplus[usize::from(c)] -= 1;
    }
    let only_a: i32 = surplus.iter().filter(|&&n| n > 0).sum();
    let only_b: i32 = -surplus.iter().filter(|&&n| n < 0).sum::<i32>();
    only_a.max(only_b) as usize
}

/// Edits that still count as a typo of an official name: one for short names, two otherwise.
fn max_edits(name: &str) -> usize {
    if name.chars().count() <= 5 { 1 } else { 2 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domains() -> Domains {
        Domains::new(&["nebula-ex.com", "https://nebula.example/"]).unwrap_or_else(|e| panic!("{e}"))
    }

    fn verdict(text: &str) -> Vec<(String, Verdict, Option<Reason>)> {
        domains().links(text).into_iter().map(|l| (l.url, l.verdict, l.reason)).collect()
    }

    #[test]
    fn official_domains_and_their_subdomains_pass() {
        assert_eq!(
            verdict("see https://www.nebula-ex.com/help."),
            vec![("https://www.nebula-ex.com/help".into(), Verdict::Official, None)]
        );
        assert_eq!(verdict("去 api.nebula.example 看看")[0].1, Verdict::Official);
    }

    #[test]
    fn lookalikes_say_why() {
        let cases = [
            ("https://nebula-ex.net/login", Reason::TldSwap),
            ("nebu1a-ex.com", Reason::Homoglyph),
            ("https://xn--nbula-ex-c8g.com", Reason::Homoglyph),
            ("nebula-exx.com", Reason::Typo),
            ("nebulaex.com", Reason::Typo),
            ("nebula-ex-support.com", Reason::AddedWords),
            ("https://nebula-ex.com.secure-login.io/x", Reason::Subdomain),
            ("https://nebula-ex.com@evil.io/", Reason::AtSign),
            ("https://oebula-ex.com", Reason::Bitflip),
        ];
        for (text, reason) in cases {
            let found = verdict(text);
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            assert_eq!((found[0].1, found[0].2), (Verdict::Lookalike, Some(reason)), "{text}");
        }
    }

    #[test]
    fn other_links_are_unknown_and_shorteners_say_so() {
        assert_eq!(verdict("https://etherscan.io/tx/0xabc")[0].1, Verdict::Unknown);
        assert_eq!(verdict("https://bit.ly/3xyz")[0].2, Some(Reason::Shortener));
    }

    #[test]
    fn emails_files_and_versions_are_not_links() {
        assert!(verdict("write to support@nebula-ex.com").is_empty());
        assert!(verdict("version 1.2.3, file report.zip, e.g. this").is_empty());
    }
}
