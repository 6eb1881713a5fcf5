#![allow(clippy::unwrap_used)]

use super::*;

fn doc(id: &str, locale: &str, group: &str, title: &str, body: &str) -> ArticleDoc {
    ArticleDoc {
        id: id.into(),
        slug: id.into(),
        locale: locale.into(),
        group: group.into(),
        kind: "article".into(),
        status: "published".into(),
        category: "account-security".into(),
        title: title.into(),
        summary: String::new(),
        tags: Vec::new(),
        body: body.into(),
    }
}

fn index(docs: &[ArticleDoc]) -> ArticleIndex {
    let index = ArticleIndex::in_memory().unwrap();
    index.upsert(docs).unwrap();
    index.commit().unwrap();
    index
}

fn slugs(index: &ArticleIndex, text: &str, locale: Option<&str>) -> Vec<String> {
    let query = ArticleQuery { text: text.into(), locale: locale.map(Into::into), published_only: true, ..Default::default() };
    index.search(&query).unwrap().into_iter().map(|hit| hit.slug).collect()
}

fn library() -> ArticleIndex {
    index(&[
        doc("reset-password", "en", "g1", "Reset your password", "Forgot your password? Open the sign-in page and choose Forgot password."),
        doc("reset-password-zh-cn", "zh-CN", "g1", "忘记密码怎么办", "在登录页点击忘记密码，按提示重置登录密码。"),
        doc("reset-password-zh-tw", "zh-TW", "g1", "忘記密碼怎麼辦", "在登入頁點擊忘記密碼，依照提示重設登入密碼。"),
        doc("withdraw", "en", "g2", "How to withdraw crypto", "Open Assets and choose Withdraw. Pick the network and paste the address."),
        doc("withdraw-zh-cn", "zh-CN", "g2", "如何提币", "进入资产页面，点击提币，选择网络并粘贴地址。"),
        doc(
            "two-factor",
            "en",
            "g3",
            "Set up an authenticator app",
            "Scan the QR code with Google Authenticator and enter the six-digit code.",
        ),
        doc("two-factor-zh-cn", "zh-CN", "g3", "开启谷歌验证器", "使用谷歌验证器扫描二维码，输入六位验证码。"),
    ])
}

#[test]
fn traditional_and_simplified_find_each_other() {
    let index = library();
    assert_eq!(slugs(&index, "忘記密碼", Some("zh-TW"))[0], "reset-password-zh-tw");
    assert_eq!(slugs(&index, "忘记密码", Some("zh-CN"))[0], "reset-password-zh-cn");
    // Only the reader's script of an article is returned, not all three translations.
    assert_eq!(slugs(&index, "忘记密码", Some("zh-CN")), ["reset-password-zh-cn"]);
}

#[test]
fn the_readers_language_comes_first_and_others_follow() {
    let index = library();
    assert_eq!(slugs(&index, "password", Some("en")), ["reset-password"]);
    // A Chinese reader typing English still gets the article, in the language that matched.
    assert_eq!(slugs(&index, "withdraw", Some("zh-CN")), ["withdraw"]);
    let chinese = slugs(&index, "密码", Some("en"));
    assert_eq!(chinese.len(), 1);
    assert!(chinese[0].starts_with("reset-password-zh"), "{chinese:?}");
}

#[test]
fn synonyms_find_the_other_words() {
    let index = library();
    assert!(slugs(&index, "提现", Some("zh-CN")).is_empty());
    index.set_synonyms(&[vec!["提币".into(), "提现".into(), "提領".into(), "withdraw".into()]]);
    assert_eq!(slugs(&index, "提现", Some("zh-CN")), ["withdraw-zh-cn"]);
    assert_eq!(slugs(&index, "提領", Some("zh-TW")), ["withdraw-zh-cn"]);
    index.set_synonyms(&[vec!["2FA".into(), "谷歌验证器".into(), "Google Authenticator".into()]]);
    assert_eq!(slugs(&index, "2fa", Some("en")), ["two-factor"]);
    assert_eq!(slugs(&index, "2FA", Some("zh-CN")), ["two-factor-zh-cn"]);
    assert_eq!(slugs(&index, "google authenticator", Some("zh-CN")), ["two-factor-zh-cn"]);
}

#[test]
fn a_typo_in_a_long_latin_word_still_matches() {
    let index = library();
    assert_eq!(slugs(&index, "pasword", Some("en")), ["reset-password"]);
    assert_eq!(slugs(&index, "withdrwa", Some("en")), ["withdraw"]);
    // Short words must be exact: `fee` is not `few`.
    assert!(slugs(&index, "sgn", Some("en")).is_empty());
}

#[test]
fn question_words_do_not_have_to_match() {
    let index = library();
    assert_eq!(slugs(&index, "how do I reset my password?", Some("en"))[0], "reset-password");
    assert_eq!(slugs(&index, "我的密码忘了怎么办", Some("zh-CN"))[0], "reset-password-zh-cn");
}

#[test]
fn the_title_counts_more_than_the_body() {
    let index = index(&[
        doc("a", "en", "a", "Trading fees", "Fees are charged per trade."),
        doc("b", "en", "b", "Withdrawals", "A withdrawal may carry a network fee; trading is unaffected."),
    ]);
    assert_eq!(slugs(&index, "fees", Some("en")), ["a", "b"]);
}

#[test]
fn drafts_stay_out_of_public_searches_and_snippets_highlight() {
    let mut draft = doc("draft", "en", "d", "Unreleased listing", "A new token lists next week.");
    draft.status = "draft".into();
    let index = index(&[draft]);
    assert!(slugs(&index, "listing", None).is_empty());
    let all = index.search(&ArticleQuery { text: "token".into(), ..Default::default() }).unwrap();
    assert_eq!(all.len(), 1);
    let hit = &all[0];
    let (from, to) = hit.highlights[0];
    assert_eq!(&hit.snippet[from..to], "token");
    assert!(matches!(index.search(&ArticleQuery { text: " ".into(), ..Default::default() }), Err(SearchError::EmptyQuery)));
}

#[test]
fn updates_and_deletes_show_after_commit() {
    let index = library();
    index.delete("withdraw").unwrap();
    index.commit().unwrap();
    assert_eq!(slugs(&index, "withdraw", Some("en")), Vec::<String>::new());
    index.upsert(&[doc("withdraw", "en", "g2", "Sending crypto out", "Choose Withdraw.")]).unwrap();
    index.commit().unwrap();
    assert_eq!(slugs(&index, "sending", Some("en")), ["withdraw"]);
    assert_eq!(index.num_docs(), 7);
}

#[test]
fn snippets_come_from_where_the_words_are_densest_however_deep() {
    // Far past the first kilobytes, in Traditional text found by a Simplified query: one lone
    // mention early, then the passage that is about the query.
    let filler_en = "Markets open around the clock and prices move quickly. ".repeat(60);
    let filler_zh = "市場全天開放，價格波動很快。".repeat(200);
    let body = format!(
        "{filler_en}A network fee applies. {filler_en}{filler_zh}提幣前請確認網路。{filler_zh}The network fee for a withdrawal depends on the network you pick; the network fee is shown before you confirm."
    );
    let index = index(&[doc("deep", "zh-TW", "g", "Fees", &body)]);
    let hit = &index.search(&ArticleQuery { text: "network fee".into(), ..Default::default() }).unwrap()[0];
    let lit: Vec<&str> = hit.highlights.iter().map(|&(from, to)| &hit.snippet[from..to]).collect();
    assert!(lit.len() >= 4, "the passage with most matches is shown: {lit:?} in {:?}", hit.snippet);
    assert!(hit.snippet.contains("withdrawal"), "{:?}", hit.snippet);
    let hit = &index.search(&ArticleQuery { text: "提币".into(), ..Default::default() }).unwrap()[0];
    let lit: Vec<&str> = hit.highlights.iter().map(|&(from, to)| &hit.snippet[from..to]).collect();
    assert_eq!(lit, ["提幣"], "{:?}", hit.snippet);
    assert!(hit.snippet.len() <= SNIPPET_BYTES + 4, "{}", hit.snippet.len());
}
