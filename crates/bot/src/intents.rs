//! The intents that ship with Kefu (`intents.md`; the ids are fixed) and how the bot treats each.

use crate::language::Lang;

/// How the bot treats an intent when no flow is declared for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A question the help center answers.
    Informational,
    /// Money or access is at risk: a person takes it, at once.
    Sensitive,
    Greeting,
    ThanksBye,
    Complaint,
    TalkToHuman,
    OutOfScope,
}

pub struct Intent {
    pub id: &'static str,
    pub kind: Kind,
    /// Words that find this intent's articles in the help center, per language (zh-CN, zh-TW,
    /// en): added to the customer's own words when searching.
    pub topic: [&'static str; 3],
}

use Kind::*;

pub const INTENTS: [Intent; 30] = [
    Intent { id: "account_register", kind: Informational, topic: ["注册账户", "註冊帳戶", "register account sign up"] },
    Intent { id: "account_login", kind: Informational, topic: ["登录问题", "登入問題", "cannot log in"] },
    Intent { id: "password_reset", kind: Informational, topic: ["重置密码", "重設密碼", "reset password"] },
    Intent { id: "account_locked", kind: Sensitive, topic: ["账户冻结 解冻", "帳戶凍結 解凍", "account locked unlock"] },
    Intent { id: "twofa_reset", kind: Sensitive, topic: ["重置二次验证", "重設二次驗證", "reset 2FA authenticator"] },
    Intent { id: "kyc_verification", kind: Informational, topic: ["身份认证", "身分認證", "identity verification KYC"] },
    Intent { id: "deposit_missing", kind: Informational, topic: ["充值未到账", "充值未到帳", "deposit not credited"] },
    Intent {
        id: "deposit_wrong_network",
        kind: Informational,
        topic: ["充错网络 找回", "充錯網路 找回", "wrong network deposit recovery"],
    },
    Intent {
        id: "withdrawal_pending", kind: Informational, topic: ["提币审核 处理中", "提幣審核 處理中", "withdrawal pending review"]
    },
    Intent { id: "withdrawal_failed", kind: Sensitive, topic: ["提币失败", "提幣失敗", "withdrawal failed"] },
    Intent { id: "withdrawal_limit", kind: Informational, topic: ["提币限额", "提幣限額", "withdrawal limit"] },
    Intent { id: "trade_failed", kind: Informational, topic: ["订单失败", "訂單失敗", "order failed"] },
    Intent { id: "fees", kind: Informational, topic: ["手续费", "手續費", "fees"] },
    Intent { id: "p2p_dispute", kind: Informational, topic: ["P2P 申诉", "P2P 申訴", "P2P dispute appeal"] },
    Intent { id: "api_keys", kind: Informational, topic: ["API 密钥", "API 金鑰", "API key"] },
    Intent { id: "futures_liquidation", kind: Informational, topic: ["合约 强平", "合約 強平", "futures liquidation"] },
    Intent { id: "phishing_report", kind: Informational, topic: ["钓鱼网站 举报", "釣魚網站 舉報", "report phishing"] },
    Intent { id: "security_hacked", kind: Sensitive, topic: ["账户被盗", "帳戶被盜", "account compromised hacked"] },
    Intent { id: "anti_phishing_code", kind: Informational, topic: ["防钓鱼码", "防釣魚碼", "anti-phishing code"] },
    Intent { id: "official_verify", kind: Informational, topic: ["官方渠道 验证", "官方渠道 驗證", "official channel verify"] },
    Intent { id: "staking_earn", kind: Informational, topic: ["理财 质押", "理財 質押", "staking earn"] },
    Intent { id: "promotions_rewards", kind: Informational, topic: ["活动奖励", "活動獎勵", "rewards promotion"] },
    Intent {
        id: "tax_statement", kind: Informational, topic: ["交易记录 导出", "交易紀錄 匯出", "transaction history export"]
    },
    Intent { id: "close_account", kind: Informational, topic: ["注销账户", "註銷帳戶", "close account"] },
    Intent { id: "complaint", kind: Complaint, topic: ["投诉", "投訴", "complaint"] },
    Intent { id: "feedback_suggestion", kind: Informational, topic: ["建议", "建議", "feedback"] },
    Intent { id: "talk_to_human", kind: TalkToHuman, topic: ["人工客服", "人工客服", "human agent"] },
    Intent { id: "greeting", kind: Greeting, topic: ["", "", ""] },
    Intent { id: "thanks_bye", kind: ThanksBye, topic: ["", "", ""] },
    Intent { id: "out_of_scope", kind: OutOfScope, topic: ["", "", ""] },
];

/// The shipped intent `id`; `None` for one a deployment added (treated as informational).
pub fn intent(id: &str) -> Option<&'static Intent> {
    INTENTS.iter().find(|i| i.id == id)
}

pub fn kind(id: &str) -> Kind {
    intent(id).map_or(Informational, |i| i.kind)
}

/// The words to add to a help-center search for `id` in `lang`.
pub fn topic(id: &str, lang: Lang) -> &'static str {
    let Some(i) = intent(id) else { return "" };
    match lang {
        Lang::ZhCn => i.topic[0],
        Lang::ZhTw => i.topic[1],
        Lang::En => i.topic[2],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ids_are_those_of_the_taxonomy() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/intents.md");
        let md = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let documented: Vec<&str> = md
            .lines()
            .filter_map(|l| l.strip_prefix("| "))
            .filter_map(|l| l.split(" |").next())
            .filter(|id| *id != "id" && crate::examples::valid_intent_id(id))
            .collect();
        let ours: Vec<&str> = INTENTS.iter().map(|i| i.id).collect();
        assert_eq!(documented, ours);
    }
}
