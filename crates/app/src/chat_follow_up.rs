//! Chats answered by e-mail. A customer who leaves the chat (or writes while nobody is online)
//! still gets the answer: replies they have not read a few minutes after the last one are mailed
//! to them together, with a private link that opens the conversation in the ticket portal, where
//! they can read it all and answer.

use crate::jobs::JobHandler;
use crate::{App, AppResult};
use kefu_domain::{AuthorKind, Channel};
use kefu_store::{ConversationRow, MessageRow, micros};
use std::time::Duration;

pub const FOLLOW_UP_JOB: &str = "chat.email_follow_up";

/// Replies mailed at most at once (a longer run of unread replies sends the latest ones).
const MAX_REPLIES: i64 = 50;

/// A chat's replies are mailed to an address that is known, in this order: the one an exchange
/// account registered (or an agent entered), then the one an anonymous visitor typed.
fn follow_up_address(emails: &[String], unverified: Option<&str>) -> Option<String> {
    emails.first().cloned().or_else(|| unverified.map(str::to_string))
}

impl App {
    /// After an agent's public reply in a chat: a mail later, unless the customer reads it first.
    pub(crate) async fn schedule_chat_follow_up(&self, row: &ConversationRow) -> AppResult<()> {
        if row.channel != Channel::Chat.as_str() || self.mailer().is_none() {
            return Ok(());
        }
        let Some(minutes) = self.chat_settings().await?.email_follow_up_minutes else { return Ok(()) };
        let payload = serde_json::json!({"conversation_id": row.id});
        self.enqueue_job_with(FOLLOW_UP_JOB, payload, Duration::from_secs(u64::from(minutes) * 60), 5).await?;
        Ok(())
    }

    /// Mails a chat's unread replies, if the last of them has waited long enough; what was
    /// mailed is marked on the conversation and on each message (`delivery.email`).
    pub(crate) async fn send_chat_follow_up(&self, conversation_id: &str) -> AppResult<()> {
        let s = self.store();
        let Some(row) = s.conversation_by_id(conversation_id).await? else { return Ok(()) };
        let Some(minutes) = self.chat_settings().await?.email_follow_up_minutes else { return Ok(()) };
        let Some(mailer) = self.mailer() else { return Ok(()) };
        if row.channel != Channel::Chat.as_str() {
            return Ok(());
        }
        let emailed = s.chat_emailed_seq(&row.id).await?;
        let from = emailed.max(row.customer_read_seq);
        let replies: Vec<MessageRow> = s
            .messages_after(&row.id, from, false, 10_000)
            .await?
            .into_iter()
            .filter(|m| m.author_kind == AuthorKind::Agent.as_str())
            .collect();
        let Some(last) = replies.last() else { return Ok(()) };
        // A reply written after this job was planned has its own job: that one sends them all.
        let due = last.created_at + i64::from(minutes) * 60_000_000;
        if micros(self.now()) + 1_000_000 < due {
            return Ok(());
        }
        let contact = self.contact_in_full(&row.contact_id).await?;
        let Some(to) = follow_up_address(&contact.emails, contact.unverified_email.as_deref()) else { return Ok(()) };
        let link = match &self.config().public_url {
            Some(base) => {
                let token = self.portal_link(&row.contact_id, &row.id).await?;
                Some(format!("{}/portal/t/{token}", base.trim_end_matches('/')))
            }
            None => None,
        };
        let shown: Vec<&MessageRow> = replies.iter().rev().take(MAX_REPLIES as usize).rev().collect();
        let lang = row.language.as_deref().or(contact.language.as_deref());
        let body = texts::body(lang, &row, &shown, link.as_deref());
        mailer.send(&to, &texts::subject(lang, row.number, &row.subject), body).await.map_err(crate::AppError::internal)?;
        if !s.mark_chat_emailed(&row.id, emailed, last.seq).await? {
            return Ok(());
        }
        for m in &replies {
            self.mark_delivery(m, "email", "sent").await?;
        }
        tracing::info!(conversation = %row.id, replies = replies.len(), "chat replies mailed to the customer");
        Ok(())
    }
}

/// Mails a chat's unread replies (see `send_chat_follow_up`).
pub struct FollowUp;

#[async_trait::async_trait]
impl JobHandler for FollowUp {
    async fn run(&self, app: &App, payload: serde_json::Value) -> Result<(), String> {
        let id = payload.get("conversation_id").and_then(|v| v.as_str()).ok_or("payload lacks conversation_id")?;
        app.send_chat_follow_up(id).await.map_err(|e| e.to_string())
    }
}

/// The mail, in the customer's language.
mod texts {
    use kefu_bot::Lang;
    use kefu_store::MessageRow;

    pub fn subject(lang: Option<&str>, number: i64, subject: &str) -> String {
        match Lang::for_locale(lang) {
            Lang::ZhCn => format!("[#{number}] 客服回复：{subject}"),
            Lang::ZhTw => format!("[#{number}] 客服回覆：{subject}"),
            Lang::En => format!("[#{number}] Support replied: {subject}"),
        }
    }

    pub fn body(lang: Option<&str>, row: &kefu_store::ConversationRow, replies: &[&MessageRow], link: Option<&str>) -> String {
        let lang = Lang::for_locale(lang);
        let number = row.number;
        let mut out = match lang {
            Lang::ZhCn => format!("您好，\n\n您在在线客服对话 #{number} 中有新的回复：\n\n"),
            Lang::ZhTw => format!("您好，\n\n您在線上客服對話 #{number} 中有新的回覆：\n\n"),
            Lang::En => format!("Hello,\n\nYou have a new reply in your support chat #{number}:\n\n"),
        };
        for m in replies {
            out.push_str(&format!("{}:\n", m.author_name));
            for line in m.body.lines() {
                out.push_str(&format!("  {line}\n"));
            }
            out.push('\n');
        }
        out.push_str(&match (lang, link) {
            (Lang::ZhCn, Some(l)) => format!("查看完整对话并回复：\n{l}\n此链接只属于您，请勿转发。\n"),
            (Lang::ZhTw, Some(l)) => format!("查看完整對話並回覆：\n{l}\n此連結只屬於您，請勿轉寄。\n"),
            (Lang::En, Some(l)) => format!("Read the whole conversation and answer:\n{l}\nThis link is yours alone: do not forward it.\n"),
            (Lang::ZhCn, None) => "如需回复，请在我们网站的在线客服中继续对话。\n".to_string(),
            (Lang::ZhTw, None) => "如需回覆，請在我們網站的線上客服中繼續對話。\n".to_string(),
            (Lang::En, None) => "To answer, continue the conversation in the chat on our website.\n".to_string(),
        });
        out.push_str(match lang {
            Lang::ZhCn => "\n我们绝不会索要您的密码、验证码、助记词或私钥，也不会要求您转账。\n",
            Lang::ZhTw => "\n我們絕不會索取您的密碼、驗證碼、助記詞或私鑰，也不會要求您轉帳。\n",
            Lang::En => {
                "\nWe will never ask for your password, verification codes, seed phrase or private keys, or ask you to send funds.\n"
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_go_to_a_registered_address_before_a_typed_one() {
        let registered = vec!["jane@example.com".to_string()];
        assert_eq!(follow_up_address(&registered, Some("typed@example.com")).as_deref(), Some("jane@example.com"));
        assert_eq!(follow_up_address(&[], Some("typed@example.com")).as_deref(), Some("typed@example.com"));
        assert_eq!(follow_up_address(&[], None), None);
    }
}
