//! What the bot itself says, in each customer language. (What a flow says is in the flows file.)

use crate::language::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phrase {
    Greeting,
    NotUnderstood,
    OutOfScope,
    AnswerIntro,
    MaybeIntro,
    SecondIntro,
    AskHelped,
    Helped,
    Welcome,
    ButtonHelped,
    ButtonNotHelped,
    ButtonHuman,
    InvalidTxid,
    InvalidAmount,
    NotRecognised,
    HandoffAsked,
    HandoffLowConfidence,
    HandoffAngry,
    HandoffVip,
    HandoffSensitive,
    HandoffNotHelped,
    HandoffNoAnswer,
    EtaMinutes,
    EtaSoon,
    EtaOffline,
}

/// The phrase in `lang`; `{n}` in the ETA phrases is a number of minutes or hours.
pub fn text(p: Phrase, lang: Lang) -> &'static str {
    use Phrase::*;
    let [zh_cn, zh_tw, en] = match p {
        Greeting => [
            "您好！我是智能客服助手。请直接描述您遇到的问题，例如充值、提币或账户问题。",
            "您好！我是智慧客服助理。請直接描述您遇到的問題，例如入金、提幣或帳戶問題。",
            "Hi! I'm the support assistant. Tell me what you need help with, for example a deposit, a withdrawal or your account.",
        ],
        NotUnderstood => [
            "抱歉，我没有完全理解。能换个说法再描述一下吗？例如：“我的 USDT 充值没到账”。",
            "抱歉，我沒有完全理解。能換個說法再描述一下嗎？例如：「我的 USDT 入金沒到帳」。",
            "Sorry, I didn't quite get that. Could you put it another way? For example: \"my USDT deposit hasn't arrived\".",
        ],
        OutOfScope => [
            "抱歉，我只能回答与您的账户和我们的服务有关的问题。",
            "抱歉，我只能回答與您的帳戶和我們的服務有關的問題。",
            "Sorry, I can only help with questions about your account and our services.",
        ],
        AnswerIntro => ["这篇文章应该能帮到您：", "這篇文章應該能幫到您：", "This article should help:"],
        MaybeIntro => ["这篇文章可能与您的问题有关：", "這篇文章可能與您的問題有關：", "This article may be related to your question:"],
        SecondIntro => ["那么这篇可能更合适：", "那麼這篇可能更合適：", "Then this one may fit better:"],
        AskHelped => ["这解决了您的问题吗？", "這解決了您的問題嗎？", "Did this answer your question?"],
        Helped => [
            "太好了，很高兴能帮到您！如果还有其他问题，随时在这里留言。",
            "太好了，很高興能幫到您！如果還有其他問題，隨時在這裡留言。",
            "Great, glad I could help! If there's anything else, just write here.",
        ],
        Welcome => [
            "不客气！如果还有其他问题，随时在这里留言。",
            "不客氣！如果還有其他問題，隨時在這裡留言。",
            "You're welcome! If there's anything else, just write here.",
        ],
        ButtonHelped => ["是的，解决了", "是的，解決了", "Yes, thanks"],
        ButtonNotHelped => ["没有解决", "沒有解決", "No"],
        ButtonHuman => ["转人工", "轉真人客服", "Talk to a person"],
        InvalidTxid => [
            "这个交易哈希好像不完整：通常是 64 位十六进制字符（以太坊类网络前面带 0x）。请复制完整后再发一次。",
            "這個交易雜湊好像不完整：通常是 64 位十六進位字元（以太坊類網路前面帶 0x）。請複製完整後再傳一次。",
            "That transaction ID looks incomplete: it is usually 64 hexadecimal characters (with 0x in front on Ethereum-like networks). Please copy it whole and send it again.",
        ],
        InvalidAmount => [
            "金额需要大于 0，请再告诉我一次。",
            "金額需要大於 0，請再告訴我一次。",
            "The amount must be more than 0; please tell me again.",
        ],
        NotRecognised => ["抱歉，我没有识别出来。", "抱歉，我沒有辨識出來。", "Sorry, I didn't recognise that."],
        HandoffAsked => ["好的，正在为您转接人工客服。", "好的，正在為您轉接真人客服。", "Sure, I'm connecting you with a person."],
        HandoffLowConfidence => [
            "这个问题我暂时帮不上忙，我请同事来为您处理。",
            "這個問題我暫時幫不上忙，我請同事來為您處理。",
            "I'm not able to help with this myself, so I'm bringing in a colleague.",
        ],
        HandoffAngry => [
            "非常抱歉给您带来不好的体验，我马上请同事来处理。",
            "非常抱歉帶給您不好的體驗，我馬上請同事來處理。",
            "I'm very sorry about this experience. I'm bringing in a colleague right away.",
        ],
        HandoffVip => [
            "作为我们的 VIP 客户，将由专属客服直接为您服务。",
            "作為我們的 VIP 客戶，將由專屬客服直接為您服務。",
            "As one of our VIP customers, you'll be helped by a person directly.",
        ],
        HandoffSensitive => [
            "我已为您整理好情况，并转给同事处理。",
            "我已為您整理好情況，並轉給同事處理。",
            "I've prepared your case and passed it to a colleague.",
        ],
        HandoffNotHelped => [
            "抱歉没能帮到您，我请同事来为您处理。",
            "抱歉沒能幫到您，我請同事來為您處理。",
            "Sorry that didn't help. I'm bringing in a colleague.",
        ],
        HandoffNoAnswer => [
            "我没有找到这个问题的答案，我请同事来为您处理。",
            "我沒有找到這個問題的答案，我請同事來為您處理。",
            "I couldn't find an answer to this, so I'm bringing in a colleague.",
        ],
        EtaMinutes => [
            "客服通常会在约 {n} 分钟内回复，请留在此对话中。",
            "客服通常會在約 {n} 分鐘內回覆，請留在此對話中。",
            "Someone usually replies within about {n} minutes; please stay in this chat.",
        ],
        EtaSoon => [
            "客服会尽快回复，请留在此对话中。",
            "客服會盡快回覆，請留在此對話中。",
            "Someone will reply shortly; please stay in this chat.",
        ],
        EtaOffline => [
            "我们的客服现在不在线，会在 {n} 小时内回复，回复会显示在此对话中。",
            "我們的客服現在不在線，會在 {n} 小時內回覆，回覆會顯示在此對話中。",
            "Our team is offline right now and will reply within {n} hours; the answer will appear in this chat.",
        ],
    };
    match lang {
        Lang::ZhCn => zh_cn,
        Lang::ZhTw => zh_tw,
        Lang::En => en,
    }
}

/// The phrase whose text, in any language, is exactly `typed` (a button the customer pressed).
pub fn button(typed: &str) -> Option<Phrase> {
    let typed = typed.trim();
    [Phrase::ButtonHelped, Phrase::ButtonNotHelped, Phrase::ButtonHuman]
        .into_iter()
        .find(|p| Lang::ALL.iter().any(|l| text(*p, *l).eq_ignore_ascii_case(typed)))
}
