//! Reading what a flow asks for out of what the customer wrote: the coin, the network, a
//! transaction id, an amount, a time, a link or an account. Each reader knows whether the text
//! answered, tried to answer and got it wrong (so the bot can say what is wrong), or said nothing.

use kefu_search::analysis::is_han;
use regex::Regex;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotKind {
    Coin,
    Network,
    Txid,
    Amount,
    Time,
    LinkOrAccount,
}

/// What a reader made of a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Read {
    Value(String),
    /// The text tried to give this and it is not valid (a transaction id cut short, say).
    Invalid,
    Nothing,
}

/// Tickers the bot recognises. Those that are also common English words count only when written
/// in capitals, or when the bot has just asked for a coin.
const COINS: &[&str] = &[
    "BTC", "ETH", "USDT", "USDC", "BNB", "SOL", "XRP", "TRX", "DOGE", "ADA", "TON", "LTC", "DOT", "MATIC", "POL", "AVAX", "LINK", "XLM",
    "EOS", "ATOM", "SHIB", "ARB", "OP", "FIL", "BCH", "ETC", "DAI", "NEAR", "APT", "SUI", "PEPE", "FDUSD", "WBTC", "UNI",
];
const ENGLISH_WORDS: &[&str] = &["link", "ton", "dot", "near", "op", "apt", "sui", "uni", "pol", "ada", "eos", "fil", "etc", "sol"];
const COIN_NAMES: &[(&str, &str)] = &[
    ("比特币", "BTC"),
    ("比特幣", "BTC"),
    ("以太币", "ETH"),
    ("以太幣", "ETH"),
    ("泰达币", "USDT"),
    ("泰達幣", "USDT"),
    ("瑞波币", "XRP"),
    ("瑞波幣", "XRP"),
    ("狗狗币", "DOGE"),
    ("狗狗幣", "DOGE"),
    ("莱特币", "LTC"),
    ("萊特幣", "LTC"),
    ("bitcoin", "BTC"),
    ("ethereum", "ETH"),
    ("tether", "USDT"),
    ("ripple", "XRP"),
    ("dogecoin", "DOGE"),
    ("solana", "SOL"),
];

/// Network aliases (lowercase, without `-`), and whether the alias also names a coin, in which
/// case it counts as a network only when the bot asked for one.
const NETWORKS: &[(&str, &str, bool)] = &[
    ("trc20", "TRC20", false),
    ("trc", "TRC20", false),
    ("tron", "TRC20", false),
    ("trx", "TRC20", true),
    ("波场", "TRC20", false),
    ("波場", "TRC20", false),
    ("erc20", "ERC20", false),
    ("erc", "ERC20", false),
    ("eth", "ERC20", true),
    ("ethereum", "ERC20", true),
    ("以太坊", "ERC20", true),
    ("bep20", "BEP20", false),
    ("bep2", "BEP2", false),
    ("bsc", "BEP20", false),
    ("bnb", "BEP20", true),
    ("币安智能链", "BEP20", false),
    ("幣安智能鏈", "BEP20", false),
    ("solana", "Solana", true),
    ("sol", "Solana", true),
    ("spl", "Solana", false),
    ("arbitrum", "Arbitrum One", false),
    ("arb", "Arbitrum One", true),
    ("optimism", "Optimism", false),
    ("polygon", "Polygon", false),
    ("matic", "Polygon", true),
    ("bitcoin", "Bitcoin", true),
    ("btc", "Bitcoin", true),
    ("lightning", "Lightning", false),
    ("ton", "TON", true),
    ("avalanche", "Avalanche C-Chain", false),
    ("avax", "Avalanche C-Chain", true),
    ("cchain", "Avalanche C-Chain", false),
    ("base", "Base", true),
    ("xrp", "XRP Ledger", true),
    ("ripple", "XRP Ledger", true),
    ("stellar", "Stellar", false),
    ("xlm", "Stellar", true),
    ("omni", "Omni", false),
];

static TOKEN: LazyLock<Regex> = LazyLock::new(|| re(r"[A-Za-z0-9][A-Za-z0-9\-_]*"));
static HEXISH: LazyLock<Regex> = LazyLock::new(|| re(r"\b(0x)?[0-9a-fA-F]{20,}\b"));
static BASE58: LazyLock<Regex> = LazyLock::new(|| re(r"\b[1-9A-HJ-NP-Za-km-z]{80,90}\b"));
static NUMBER: LazyLock<Regex> = LazyLock::new(|| re(r"(?:^|[^\w.:/\-])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:$|[^\w:/\-])"));
static NUMBER_WITH_UNIT: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)(\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\s*(u\b|個|个|枚|[a-z]{2,6}\b)"));
static UNIT_THEN_NUMBER: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b([a-z]{2,6})\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\b"));
static TIME: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?i)",
        r"(?P<n>\d+|an?|one|two|three|four|five|six|few|couple of|several|[一二两兩三四五六七八九十半几幾]+)\s*(?:个|個)?\s*",
        r"(?P<u>minutes?|mins?|hours?|hrs?|h|days?|weeks?|分钟|分鐘|小时|小時|钟头|鐘頭|天|周|週|星期)\s*(?:ago|前|了|之前)",
        r"|\d{4}-\d{1,2}-\d{1,2}(?:\s+\d{1,2}:\d{2})?|\d{1,2}/\d{1,2}(?:\s+\d{1,2}:\d{2})?|\d{1,2}月\d{1,2}[日号號]|\b\d{1,2}:\d{2}\b",
        r"|yesterday|today|this morning|this afternoon|last night|tonight|just now|an hour ago|since (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)",
        r"|昨天|今天|前天|昨晚|今早|今晚|刚才|剛才|刚刚|剛剛|上午|下午|晚上|早上|凌晨|中午|半小时前|半小時前"
    ))
});
static URL: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(?:https?://)?(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,12})(?::\d{2,5})?(?:/[^\s，。、]*)?"));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}\b"));
static HANDLE: LazyLock<Regex> = LazyLock::new(|| re(r"(?:^|\s)@([A-Za-z0-9_]{4,32})\b"));
static PHONE: LazyLock<Regex> = LazyLock::new(|| re(r"\+?\d[\d \-]{6,16}\d"));

fn re(pattern: &str) -> Regex {
    // The patterns are constants checked by the tests; a bad one matches nothing.
    Regex::new(pattern).unwrap_or_else(|_| Regex::new(r"[^\s\S]").unwrap_or_else(|_| unreachable!()))
}

/// Whether `word` names a coin or a network (for language detection: "USDT" is not English).
pub fn is_asset_name(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    COINS.iter().any(|c| c.eq_ignore_ascii_case(word)) || NETWORKS.iter().any(|(alias, _, _)| *alias == lower)
}

/// Reads a value of `kind` from `text`; `asked`: the bot has just asked for exactly this, so a
/// bare answer ("ETH", "200") counts.
pub fn read(kind: SlotKind, text: &str, asked: bool) -> Read {
    let spaced = spaced(text);
    let text = spaced.as_str();
    match kind {
        SlotKind::Coin => coin(text, asked).map_or(Read::Nothing, Read::Value),
        SlotKind::Network => network(text, asked).map_or(Read::Nothing, Read::Value),
        SlotKind::Txid => txid(text),
        SlotKind::Amount => amount(text, asked),
        SlotKind::Time => TIME.find(text).map_or(Read::Nothing, |m| Read::Value(unspaced(m.as_str().trim()))),
        SlotKind::LinkOrAccount => link_or_account(text),
    }
}

/// `text` with a space between Chinese and ASCII letters or digits ("充了500u还没到" becomes
/// "充了 500u 还没到"), so that word boundaries in the patterns fall where a reader sees them.
fn spaced(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut prev: Option<char> = None;
    for c in text.chars() {
        if let Some(p) = prev
            && ((is_han(p) && c.is_ascii_alphanumeric()) || (p.is_ascii_alphanumeric() && is_han(c)))
        {
            out.push(' ');
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

/// Undoes [`spaced`] in a value read back.
fn unspaced(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut out = String::with_capacity(value.len());
    for (i, c) in chars.iter().enumerate() {
        let joins = *c == ' ' && i > 0 && i + 1 < chars.len() && (is_han(chars[i - 1]) || is_han(chars[i + 1]));
        if !joins {
            out.push(*c);
        }
    }
    out
}

fn coin(text: &str, asked: bool) -> Option<String> {
    for t in TOKEN.find_iter(text) {
        let t = t.as_str();
        if let Some(c) = COINS.iter().find(|c| c.eq_ignore_ascii_case(t)) {
            let lower = t.to_ascii_lowercase();
            if asked || t.chars().all(|c| !c.is_ascii_lowercase()) || !ENGLISH_WORDS.contains(&lower.as_str()) {
                return Some(c.to_string());
            }
        }
    }
    let lower = text.to_lowercase();
    if let Some((_, c)) = COIN_NAMES.iter().find(|(name, _)| lower.contains(name)) {
        return Some(c.to_string());
    }
    // "500u", "充了500U": Chinese shorthand for USDT.
    NUMBER_WITH_UNIT.captures_iter(text).find(|c| c.get(2).is_some_and(|u| u.as_str().eq_ignore_ascii_case("u"))).map(|_| "USDT".into())
}

fn network(text: &str, asked: bool) -> Option<String> {
    let lower = text.to_lowercase();
    // Tokens first (so that "trc20" is not found as "trc" inside another word), then Chinese.
    for t in TOKEN.find_iter(&lower) {
        let t: String = t.as_str().chars().filter(|c| *c != '-' && *c != '_').collect();
        if let Some((_, n, also_coin)) = NETWORKS.iter().find(|(alias, _, _)| *alias == t)
            && (asked || !also_coin)
        {
            return Some(n.to_string());
        }
    }
    if lower.contains("bnb smart chain") || lower.contains("bnb chain") {
        return Some("BEP20".into());
    }
    NETWORKS
        .iter()
        .filter(|(alias, _, also_coin)| !alias.is_ascii() && (asked || !also_coin))
        .find(|(alias, _, _)| lower.contains(alias))
        .map(|(_, n, _)| n.to_string())
}

/// A transaction id: `0x` and 64 hex digits (EVM chains), 64 hex digits (Bitcoin, Tron, XRP), or a
/// base58 signature (Solana). Hex of another length is an id cut short or mistyped.
fn txid(text: &str) -> Read {
    if let Some(m) = BASE58.find(text)
        && !m.as_str().chars().all(|c| c.is_ascii_hexdigit())
    {
        return Read::Value(m.as_str().to_string());
    }
    let mut invalid = false;
    for m in HEXISH.find_iter(text) {
        let s = m.as_str();
        let digits = s.strip_prefix("0x").unwrap_or(s);
        if digits.len() == 64 {
            return Read::Value(s.to_string());
        }
        invalid = true;
    }
    if invalid { Read::Invalid } else { Read::Nothing }
}

/// An amount. Unasked, only a number with its coin ("250 USDT", "0.5btc", "500u") counts; asked,
/// any plain positive number does. Zero is invalid.
fn amount(text: &str, asked: bool) -> Read {
    let mut found = None;
    let number_first = NUMBER_WITH_UNIT.captures_iter(text).map(|c| (c.get(0), c.get(1), c.get(2)));
    let unit_first = UNIT_THEN_NUMBER.captures_iter(text).map(|c| (c.get(0), c.get(2), c.get(1)));
    for (whole, number, unit) in number_first.chain(unit_first) {
        let (Some(whole), Some(number), Some(unit)) = (whole, number, unit) else { continue };
        let (whole, number, unit) = (whole.as_str(), number.as_str(), unit.as_str());
        let unit = if unit.eq_ignore_ascii_case("u") { "USDT" } else { unit };
        if let Some(coin) = COINS.iter().find(|x| x.eq_ignore_ascii_case(unit)) {
            let value = whole.chars().filter(|ch| ch.is_ascii_digit() || *ch == '.').collect::<String>();
            found = Some(format!("{value} {coin}"));
            break;
        }
        if asked && ["个", "個", "枚"].contains(&unit) {
            found = Some(number.to_string());
        }
    }
    if found.is_none() && asked {
        found = NUMBER.captures(text).map(|c| {
            let frac = c.get(2).map(|f| format!(".{}", f.as_str())).unwrap_or_default();
            format!("{}{frac}", c.get(1).map_or("", |m| m.as_str()).replace(',', ""))
        });
    }
    match found {
        Some(v) if v.split(' ').next().and_then(|n| n.parse::<f64>().ok()).is_some_and(|n| n > 0.0) => Read::Value(v),
        Some(_) => Read::Invalid,
        None => Read::Nothing,
    }
}

fn link_or_account(text: &str) -> Read {
    if let Some(m) = EMAIL.find(text) {
        return Read::Value(m.as_str().to_string());
    }
    if let Some(m) = URL.find(text) {
        // "1.5" or "v2.0" are not links: the last label must be letters and the whole have one.
        if m.as_str().chars().any(|c| c.is_ascii_alphabetic()) {
            return Read::Value(m.as_str().trim_end_matches(['.', ',', ')']).to_string());
        }
    }
    if let Some(c) = HANDLE.captures(text) {
        return Read::Value(format!("@{}", &c[1]));
    }
    if let Some(m) = PHONE.find(text) {
        return Read::Value(m.as_str().to_string());
    }
    Read::Nothing
}

/// How long ago a time read by [`read`] was, in minutes, when it says so ("2 hours ago", "3天前").
pub fn minutes_ago(value: &str) -> Option<u32> {
    let lower = value.to_lowercase();
    if ["yesterday", "last night", "昨天", "昨晚"].contains(&lower.as_str()) {
        return Some(12 * 60);
    }
    if lower == "前天" {
        return Some(36 * 60);
    }
    if ["just now", "刚才", "剛才", "刚刚", "剛剛"].contains(&lower.as_str()) {
        return Some(5);
    }
    let c = TIME.captures(value)?;
    let n = c.name("n")?.as_str().to_lowercase();
    let unit = c.name("u")?.as_str().to_lowercase();
    let n: f32 = match n.as_str() {
        "a" | "an" | "one" | "一" => 1.0,
        "two" | "二" | "两" | "兩" | "couple of" => 2.0,
        "three" | "三" | "few" | "several" | "几" | "幾" => 3.0,
        "four" | "四" => 4.0,
        "five" | "五" => 5.0,
        "six" | "六" => 6.0,
        "七" => 7.0,
        "八" => 8.0,
        "九" => 9.0,
        "十" => 10.0,
        "半" => 0.5,
        digits => digits.parse().ok()?,
    };
    let per = if unit.starts_with("min") || unit.starts_with('分') {
        1.0
    } else if unit.starts_with('h') || unit.starts_with('小') || unit.starts_with('钟') || unit.starts_with('鐘') {
        60.0
    } else if unit.starts_with('d') || unit == "天" {
        1440.0
    } else {
        10080.0
    };
    Some((n * per).round() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Read {
        Read::Value(s.into())
    }

    #[test]
    fn coins_and_networks_with_their_ambiguities() {
        assert_eq!(read(SlotKind::Coin, "my usdt deposit", false), v("USDT"));
        assert_eq!(read(SlotKind::Coin, "充了500u还没到", false), v("USDT"));
        assert_eq!(read(SlotKind::Coin, "我充的比特幣", false), v("BTC"));
        assert_eq!(read(SlotKind::Coin, "click this link", false), Read::Nothing);
        assert_eq!(read(SlotKind::Coin, "LINK", false), v("LINK"));
        assert_eq!(read(SlotKind::Network, "sent it on trc-20", false), v("TRC20"));
        assert_eq!(read(SlotKind::Network, "用的波场网络", false), v("TRC20"));
        // "ETH" is a coin unless the bot asked for the network.
        assert_eq!(read(SlotKind::Network, "my ETH deposit", false), Read::Nothing);
        assert_eq!(read(SlotKind::Network, "ETH", true), v("ERC20"));
        assert_eq!(read(SlotKind::Network, "BNB Smart Chain", false), v("BEP20"));
    }

    #[test]
    fn transaction_ids_are_checked_for_length() {
        let hash = "5f2a9c0d3e1b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f";
        assert_eq!(read(SlotKind::Txid, &format!("txid: 0x{hash}"), false), v(&format!("0x{hash}")));
        assert_eq!(read(SlotKind::Txid, &format!("哈希是{hash}。"), false), v(hash));
        assert_eq!(read(SlotKind::Txid, "0x5f2a9c0d3e1b7a6f5e4d3c2b1a", true), Read::Invalid);
        assert_eq!(read(SlotKind::Txid, "I don't have it", true), Read::Nothing);
        let sol = "5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW";
        assert_eq!(read(SlotKind::Txid, sol, true), v(sol));
    }

    #[test]
    fn amounts_need_their_coin_unless_asked() {
        assert_eq!(read(SlotKind::Amount, "I sent 250 USDT at 14:30", false), v("250 USDT"));
        assert_eq!(read(SlotKind::Amount, "充了1,000u", false), v("1000 USDT"));
        assert_eq!(read(SlotKind::Amount, "0.5btc", false), v("0.5 BTC"));
        assert_eq!(read(SlotKind::Amount, "at 14:30 yesterday", false), Read::Nothing);
        assert_eq!(read(SlotKind::Amount, "about 300", true), v("300"));
        assert_eq!(read(SlotKind::Amount, "0", true), Read::Invalid);
    }

    #[test]
    fn times_relative_and_absolute() {
        assert_eq!(read(SlotKind::Time, "sent it 2 hours ago", false), v("2 hours ago"));
        assert_eq!(read(SlotKind::Time, "大概3个小时前提的", false), v("3个小时前"));
        assert_eq!(read(SlotKind::Time, "yesterday around 9", false), v("yesterday"));
        assert_eq!(read(SlotKind::Time, "2026-11-20 14:05", false), v("2026-11-20 14:05"));
        assert_eq!(read(SlotKind::Time, "no idea", true), Read::Nothing);
        assert_eq!(minutes_ago("2 hours ago"), Some(120));
        assert_eq!(minutes_ago("半小時前"), Some(30));
        assert_eq!(minutes_ago("3天前"), Some(4320));
        assert_eq!(minutes_ago("yesterday"), Some(720));
        assert_eq!(minutes_ago("14:30"), None);
    }

    #[test]
    fn links_and_accounts() {
        assert_eq!(
            read(SlotKind::LinkOrAccount, "is https://nebu1a-exchange.com/login real?", false),
            v("https://nebu1a-exchange.com/login")
        );
        assert_eq!(read(SlotKind::LinkOrAccount, "网站是 nebula-ex.support 吗", false), v("nebula-ex.support"));
        assert_eq!(read(SlotKind::LinkOrAccount, "telegram @NebulaHelpDesk said so", false), v("@NebulaHelpDesk"));
        assert_eq!(read(SlotKind::LinkOrAccount, "mail from support@nebula-ex.com", false), v("support@nebula-ex.com"));
        assert_eq!(read(SlotKind::LinkOrAccount, "the price went 1.5 up", false), Read::Nothing);
    }
}
