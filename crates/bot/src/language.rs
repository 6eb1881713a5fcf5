//! Which of the three customer languages a message is written in.

use kefu_search::analysis::{fold_char, is_han};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Lang {
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "zh-TW")]
    ZhTw,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::ZhCn, Lang::ZhTw, Lang::En];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "zh-CN" => Some(Self::ZhCn),
            "zh-TW" => Some(Self::ZhTw),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ZhCn => "zh-CN",
            Self::ZhTw => "zh-TW",
            Self::En => "en",
        }
    }

    /// The language to write in to someone whose locale tag is `tag`, in any case: zh-TW and
    /// zh-HK read Traditional, any other Chinese Simplified, everything else (or nothing) English.
    pub fn for_locale(tag: Option<&str>) -> Self {
        match tag.unwrap_or("").to_ascii_lowercase().as_str() {
            "zh-tw" | "zh-hk" => Self::ZhTw,
            l if l.starts_with("zh") => Self::ZhCn,
            _ => Self::En,
        }
    }
}

/// The language of `text`, given what the customer used before (`hint`: their setting or the
/// last message's language).
///
/// Any Chinese makes it Chinese, as mixed messages ("我的USDT没到账") are Chinese sentences with
/// English names in them; a Traditional character makes it zh-TW, and so does a hint of zh-TW when
/// every character is written the same in both scripts. English needs an English word that is not
/// a ticker or a network ("TRC20"), so that a reply of "USDT" keeps the conversation's language.
pub fn detect(text: &str, hint: Option<Lang>) -> Lang {
    let mut han = false;
    for c in text.chars() {
        if is_han(c) {
            if fold_char(c) != c {
                return Lang::ZhTw;
            }
            han = true;
        }
    }
    if han {
        return if hint == Some(Lang::ZhTw) { Lang::ZhTw } else { Lang::ZhCn };
    }
    // Links, addresses and handles are not words of any language.
    let english = text
        .split_whitespace()
        .filter(|chunk| {
            !chunk.contains("://")
                && !chunk.contains('@')
                && !chunk.split('.').skip(1).any(|p| p.starts_with(|c: char| c.is_ascii_alphabetic()))
        })
        .flat_map(|chunk| chunk.split(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|w| w.len() >= 2 && w.chars().all(|c| c.is_ascii_alphabetic()))
        .any(|w| w.chars().any(|c| c.is_ascii_lowercase()) && !crate::slots::is_asset_name(w));
    match (english, hint) {
        (true, _) => Lang::En,
        (false, Some(h)) => h,
        (false, None) => Lang::En,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_tags_choose_the_script() {
        assert_eq!(Lang::for_locale(Some("zh-HK")), Lang::ZhTw);
        assert_eq!(Lang::for_locale(Some("ZH-tw")), Lang::ZhTw);
        assert_eq!(Lang::for_locale(Some("zh-CN")), Lang::ZhCn);
        assert_eq!(Lang::for_locale(Some("zh")), Lang::ZhCn);
        assert_eq!(Lang::for_locale(Some("en-GB")), Lang::En);
        assert_eq!(Lang::for_locale(None), Lang::En);
    }

    #[test]
    fn mixed_messages_are_chinese_and_names_keep_the_language() {
        assert_eq!(detect("我的USDT充值没到账", None), Lang::ZhCn);
        assert_eq!(detect("我的USDT充值沒到帳", None), Lang::ZhTw);
        assert_eq!(detect("你好", Some(Lang::ZhTw)), Lang::ZhTw);
        assert_eq!(detect("my deposit is missing", Some(Lang::ZhCn)), Lang::En);
        assert_eq!(detect("USDT TRC20", Some(Lang::ZhCn)), Lang::ZhCn);
        assert_eq!(detect("0x5f2a9c0d3e1b7a6f", Some(Lang::ZhTw)), Lang::ZhTw);
        assert_eq!(detect("12345", None), Lang::En);
        assert_eq!(detect("ok.", Some(Lang::ZhCn)), Lang::En);
        assert_eq!(detect("https://help.nebula.example/contact", Some(Lang::ZhCn)), Lang::ZhCn);
    }
}
