//! Generated answers: when an OpenAI-compatible endpoint is configured, the bot may write its
//! answer from the help-center articles it found, citing them. It never relays a statement about
//! the customer's own account or funds: the prompt forbids it, and an answer that makes one
//! anyway is dropped for the article's own summary.

use kefu_bot::Lang;
use regex::Regex;
use std::sync::LazyLock;
use std::time::Duration;

/// Where the model is and how to call it (`KEFU_LLM_URL`, `KEFU_LLM_MODEL`, `KEFU_LLM_KEY`).
#[derive(Clone)]
pub struct LlmConfig {
    /// The API base, e.g. `https://api.example.com/v1`; `/chat/completions` is added.
    pub url: String,
    pub model: String,
    pub key: Option<String>,
    pub timeout: Duration,
}

impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("key", &self.key.as_ref().map(|_| "…"))
            .finish()
    }
}

/// An article given to the model: its title, address and text.
pub struct Source {
    pub title: String,
    pub url: String,
    pub text: String,
}

/// Longest article text sent, in characters; the start of an article carries its answer.
const MAX_SOURCE_CHARS: usize = 3000;

const SYSTEM_PROMPT: &str = "You are the support assistant of a cryptocurrency exchange. Answer the customer's question \
using ONLY the numbered articles provided. Cite the articles you use as [1], [2]. Keep it short: at most 5 sentences. \
If the articles do not answer the question, say so in one sentence. Never state, guess or imply anything about this \
customer's own account, balance, deposits, withdrawals, orders or funds (for example that a transfer arrived, was \
approved or will arrive): you cannot see their account. Never ask for passwords, codes, private keys or seed phrases. \
Answer in the language named below.";

/// Statements about the customer's own account or funds that a generated answer must not make.
static ACCOUNT_CLAIM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)\byour\s+(?:account|withdrawal|deposit|balance|funds|order|transfer|transaction|payment|kyc|verification)s?\b[^.!?]{0,40}\b",
        r"(?:is|was|were|has|have|will|should|shall)\b\s+(?:been\s+)?(?:now\s+)?(?:credited|approved|processed|completed|arrived|received|sent|unlocked|frozen|verified|safe|fine|ok|okay|successful|restored|refunded|released|be)\b",
        r"|您的\s*(?:账户|帳戶|账号|帳號|提币|提幣|充值|入金|余额|餘額|资金|資金|订单|訂單|转账|轉帳|认证|認證)[^。！？]{0,12}(?:已经|已經|已|将会|將會|将|將|会|會)",
    ))
    .unwrap_or_else(|_| Regex::new(r"[^\s\S]").unwrap_or_else(|_| unreachable!()))
});

/// Whether `answer` states something about the customer's own account or funds.
pub fn claims_about_account(answer: &str) -> bool {
    ACCOUNT_CLAIM.is_match(answer)
}

/// Asks the model for an answer to `question` from `sources`; `None` when it fails, times out,
/// answers nothing, or states something about the customer's account.
pub async fn generate(http: &reqwest::Client, cfg: &LlmConfig, question: &str, lang: Lang, sources: &[Source]) -> Option<String> {
    let mut context = String::new();
    for (i, s) in sources.iter().enumerate() {
        let text: String = s.text.chars().take(MAX_SOURCE_CHARS).collect();
        context.push_str(&format!("[{}] {} ({})\n{}\n\n", i + 1, s.title, s.url, text));
    }
    let language = match lang {
        Lang::ZhCn => "Simplified Chinese (zh-CN)",
        Lang::ZhTw => "Traditional Chinese (zh-TW)",
        Lang::En => "English",
    };
    let body = serde_json::json!({
        "model": cfg.model,
        "temperature": 0.2,
        "max_tokens": 400,
        "messages": [
            {"role": "system", "content": format!("{SYSTEM_PROMPT}\nLanguage: {language}.")},
            {"role": "user", "content": format!("Articles:\n{context}\nCustomer question: {question}")},
        ],
    });
    let url = format!("{}/chat/completions", cfg.url.trim_end_matches('/'));
    let mut req = http.post(&url).timeout(cfg.timeout).json(&body);
    if let Some(k) = &cfg.key {
        req = req.bearer_auth(k);
    }
    let res = match req.send().await {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => {
            tracing::warn!(status = %r.status(), "generated answer refused by the model endpoint");
            return None;
        }
        Err(e) => {
            tracing::warn!(error = %e, "generated answer failed");
            return None;
        }
    };
    let v: serde_json::Value = res.json().await.ok()?;
    let text = v.pointer("/choices/0/message/content")?.as_str()?.trim().to_string();
    if text.is_empty() {
        return None;
    }
    if claims_about_account(&text) {
        tracing::warn!("generated answer dropped: it states something about the customer's account");
        return None;
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_about_the_account_are_recognised() {
        assert!(claims_about_account("Good news: your withdrawal has been approved and will arrive soon."));
        assert!(claims_about_account("Your deposit was credited [1]."));
        assert!(claims_about_account("您的提币已经完成。"));
        assert!(claims_about_account("您的帳戶將會被解凍"));
        assert!(!claims_about_account("Deposits are credited after 12 confirmations [1]."));
        assert!(!claims_about_account("Check your withdrawal history for the TxID [1]."));
        assert!(!claims_about_account("充值需要 12 个确认后到账 [1]。"));
    }
}
