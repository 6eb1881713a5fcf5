//! Conversations with the bot: each guided flow and each handoff trigger, with a help center
//! and an official-channel list standing in for the real ones.

use kefu_bot::texts::{Phrase, text};
use kefu_bot::{Article, Bot, Classifier, Flows, HandoffReason, Knowledge, Lang, Outcome, Reply, State, Turn, Verdict};
use std::sync::{Arc, LazyLock};

static BOT: LazyLock<Bot> = LazyLock::new(|| {
    let c = Classifier::train(&kefu_bot::examples::shipped()).unwrap_or_else(|e| panic!("{e}"));
    Bot::new(Arc::new(c), Arc::new(Flows::shipped()))
});

/// Articles whose title contains one of the query's words (space-separated), in the order listed.
struct Kb(Vec<Article>);

impl Knowledge for Kb {
    fn articles(&self, query: &str, _lang: Lang, limit: usize) -> Vec<Article> {
        let q = query.to_lowercase();
        self.0.iter().filter(|a| q.split_whitespace().any(|w| a.title.to_lowercase().contains(w))).take(limit).cloned().collect()
    }
    fn official(&self, target: &str) -> Verdict {
        if target.contains("nebula.example") {
            Verdict::Official
        } else if target.contains("nebu") {
            Verdict::NotOfficial
        } else {
            Verdict::Unknown
        }
    }
}

fn kb() -> Kb {
    let a = |id: &str, title: &str| Article {
        id: id.into(),
        title: title.into(),
        summary: format!("Summary of {title}"),
        url: format!("/help/en/articles/{id}"),
    };
    Kb(vec![
        a("fees", "Trading fees and fee tiers"),
        a("fees-withdraw", "Withdrawal fees by network"),
        a("deposit", "Deposit not credited: confirmations"),
        a("phishing", "Official channels and phishing"),
        a("kyc", "Identity verification (KYC) levels"),
    ])
}

struct Chat {
    state: State,
    kb: Kb,
    vip: bool,
    hint: Option<Lang>,
}

impl Chat {
    fn new() -> Self {
        Chat { state: State::default(), kb: kb(), vip: false, hint: None }
    }
    fn say(&mut self, text: &str) -> Reply {
        let r = BOT.respond(&mut self.state, &Turn { text, vip: self.vip, language_hint: self.hint }, &self.kb);
        // The state survives a round trip through JSON, as the server stores it.
        let json = serde_json::to_string(&self.state).unwrap_or_default();
        self.state = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
        r
    }
}

fn all_text(r: &Reply) -> String {
    r.messages.iter().map(|m| m.text.as_str()).collect::<Vec<_>>().join("\n")
}

const HASH: &str = "0x5f2a9c0d3e1b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f";

#[test]
fn deposit_flow_asks_only_for_what_is_missing_and_checks_the_txid() {
    let mut chat = Chat::new();
    let r = chat.say("my USDT deposit hasn't arrived yet");
    assert_eq!(r.prediction.intent, "deposit_missing");
    assert_eq!(r.outcome, Outcome::Flow);
    // The coin was in the message: the network is asked next.
    assert!(all_text(&r).contains("Which network"), "{}", all_text(&r));
    let r = chat.say("trc20");
    assert!(all_text(&r).contains("transaction ID"), "{}", all_text(&r));
    // A hash cut short is refused with the reason, and asked again.
    let r = chat.say("0x5f2a9c0d3e1b7a6f5e4d");
    assert!(all_text(&r).contains("looks incomplete"), "{}", all_text(&r));
    let r = chat.say(&format!("here: {HASH}"));
    let t = all_text(&r);
    assert!(t.contains("USDT on TRC20") && t.contains(HASH), "{t}");
    assert_eq!(r.messages[0].article.as_ref().map(|a| a.id.as_str()), Some("deposit"));
    assert_eq!(r.messages[0].buttons, vec!["Yes, thanks", "No", "Talk to a person"]);
    // "Yes" settles it: the conversation can be resolved without a person.
    let r = chat.say("Yes, thanks");
    assert!(r.resolved);
    assert!(r.handoff.is_none());
}

#[test]
fn deposit_flow_without_a_txid_takes_amount_and_time_and_mentions_the_memo() {
    let mut chat = Chat::new();
    let r = chat.say("我的XRP充值还没到账");
    assert_eq!(r.language, Lang::ZhCn);
    assert!(all_text(&r).contains("网络"), "{}", all_text(&r));
    let r = chat.say("XRP");
    assert!(all_text(&r).contains("交易哈希"), "{}", all_text(&r));
    // No hash, but amount and time together: the flow goes on without it.
    let r = chat.say("没有哈希 充了500 XRP 大概3个小时前");
    let t = all_text(&r);
    assert!(t.contains("XRP，XRP Ledger"), "{t}");
    assert!(t.contains("备注"), "memo note missing: {t}");
    assert!(t.contains("超过 2 小时"), "late note missing: {t}");
    assert_eq!(chat.state.slots.get("amount").map(String::as_str), Some("500 XRP"));
}

#[test]
fn withdrawal_pending_flow_in_traditional_chinese() {
    let mut chat = Chat::new();
    let r = chat.say("我的提幣一直顯示審核中 是USDT");
    assert_eq!(r.prediction.intent, "withdrawal_pending");
    assert_eq!(r.language, Lang::ZhTw);
    assert!(all_text(&r).contains("網路"), "{}", all_text(&r));
    chat.say("ERC20");
    let r = chat.say("大概10分鐘前");
    let t = all_text(&r);
    assert!(t.contains("USDT，ERC20 網路"), "{t}");
    assert!(t.contains("正常處理時間"), "{t}");
}

#[test]
fn account_locked_and_twofa_reset_explain_then_hand_off_the_prepared_case() {
    for (opening, intent) in [
        ("my account got frozen, please unlock it", "account_locked"),
        ("I lost my phone with google authenticator, need to reset 2FA", "twofa_reset"),
    ] {
        let mut chat = Chat::new();
        let r = chat.say(opening);
        assert_eq!(r.prediction.intent, intent);
        assert!(r.handoff.is_none());
        assert!(all_text(&r).contains("e-mail or phone number"), "{}", all_text(&r));
        let r = chat.say("it's jane.doe@example.com");
        let h = r.handoff.clone().unwrap_or_else(|| panic!("no handoff: {r:?}"));
        assert_eq!(h.reason, HandoffReason::Sensitive);
        assert_eq!(h.intent.as_deref(), Some(intent));
        assert_eq!(h.slots.get("account").map(String::as_str), Some("jane.doe@example.com"));
        assert!(h.summary.contains(intent) && h.summary.contains("account=jane.doe@example.com"), "{}", h.summary);
        assert!(all_text(&r).contains("identity"), "{}", all_text(&r));
    }
}

#[test]
fn phishing_reports_get_a_verdict() {
    let mut chat = Chat::new();
    let r = chat.say("got an sms saying my account is suspended, with a link to nebu1a-login.com, is this a scam?");
    assert!(["phishing_report", "official_verify"].contains(&r.prediction.intent.as_str()), "{:?}", r.prediction);
    let t = all_text(&r);
    assert!(t.contains("NOT one of our official channels"), "{t}");
    let mut chat = Chat::new();
    chat.say("有人冒充客服加我telegram 我想举报");
    let r = chat.say("https://help.nebula.example/contact");
    assert!(all_text(&r).contains("官方渠道"), "{}", all_text(&r));
    assert!(all_text(&r).contains("✅"), "{}", all_text(&r));
}

#[test]
fn informational_questions_get_an_article_then_a_second_then_a_person() {
    let mut chat = Chat::new();
    let r = chat.say("how much are the trading fees?");
    assert_eq!(r.outcome, Outcome::Answered);
    assert_eq!(r.messages[0].article.as_ref().map(|a| a.id.as_str()), Some("fees"));
    assert!(r.messages[0].text.contains("Summary of Trading fees"));
    let r = chat.say("No");
    assert_eq!(r.messages[0].article.as_ref().map(|a| a.id.as_str()), Some("fees-withdraw"));
    let r = chat.say("No");
    assert_eq!(r.handoff.map(|h| h.reason), Some(HandoffReason::NotHelped));
}

#[test]
fn every_handoff_trigger() {
    // Asked for a person, in words or with the button.
    let mut chat = Chat::new();
    assert_eq!(chat.say("转人工").handoff.map(|h| h.reason), Some(HandoffReason::Asked));
    let mut chat = Chat::new();
    chat.say("how much are the trading fees?");
    assert_eq!(chat.say(text(Phrase::ButtonHuman, Lang::En)).handoff.map(|h| h.reason), Some(HandoffReason::Asked));
    // Not understood twice in a row.
    let mut chat = Chat::new();
    let r = chat.say("what's a good pasta recipe");
    assert!(r.handoff.is_none());
    assert_eq!(r.outcome, Outcome::NotUnderstood);
    let r = chat.say("qwxz zzkv");
    assert_eq!(r.handoff.map(|h| h.reason), Some(HandoffReason::LowConfidence));
    // Anger: a complaint, or strong words whatever the question.
    let mut chat = Chat::new();
    let r = chat.say("This is unacceptable, I want compensation for the downtime or I'm reporting you to the regulator");
    assert_eq!(r.handoff.map(|h| h.reason), Some(HandoffReason::Angry));
    let mut chat = Chat::new();
    assert_eq!(chat.say("你们这个垃圾平台 手续费怎么算").handoff.map(|h| h.reason), Some(HandoffReason::Angry));
    // VIP customers go straight to a person.
    let mut chat = Chat { vip: true, ..Chat::new() };
    assert_eq!(chat.say("how much are the trading fees?").handoff.map(|h| h.reason), Some(HandoffReason::Vip));
    // Sensitive intents.
    let mut chat = Chat::new();
    let r = chat.say("someone logged into my account and withdrew all my BTC, I didn't do it!");
    assert_eq!(r.prediction.intent, "security_hacked");
    assert_eq!(r.handoff.map(|h| h.reason), Some(HandoffReason::Sensitive));
    assert!(all_text(&Chat::new().say("my account was hacked")).contains("Freeze your account"));
    // Nothing in the help center.
    let mut chat = Chat { kb: Kb(Vec::new()), ..Chat::new() };
    assert_eq!(chat.say("how do I close my account").handoff.map(|h| h.reason), Some(HandoffReason::NoAnswer));
}

#[test]
fn leaving_a_flow_for_another_question_and_small_talk() {
    let mut chat = Chat::new();
    let r = chat.say("hello");
    assert_eq!(r.outcome, Outcome::SmallTalk);
    chat.say("my BTC deposit is missing");
    assert!(chat.state.flow.is_some());
    // A clear new question leaves the flow.
    let r = chat.say("what are your trading fees");
    assert_eq!(r.outcome, Outcome::Answered);
    assert!(chat.state.flow.is_none());
    let r = chat.say("thanks, bye");
    assert!(r.resolved, "thanks after an answer settles it");
}

#[test]
fn a_slot_asked_twice_without_an_answer_is_skipped() {
    let mut chat = Chat::new();
    chat.say("withdrawal stuck pending");
    let r = chat.say("dunno");
    assert!(all_text(&r).contains("didn't recognise"), "{}", all_text(&r));
    assert!(r.messages.last().is_some_and(|m| m.buttons.iter().any(|b| b == "Talk to a person")));
    let r = chat.say("no idea really");
    assert!(all_text(&r).contains("Which network"), "coin skipped, network asked: {}", all_text(&r));
}
