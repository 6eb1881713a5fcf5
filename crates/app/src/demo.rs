//! Demo data for `kefu serve --demo`. Seeding is additive and idempotent: each capability adds
//! its own part, and a database that already holds real data is never touched.

use crate::agents::NewAgentRequest;
use crate::contacts::{ContactInput, parse_contact};
use crate::conversations::{NewMessageInput, activity};
use crate::{App, AppError, AppResult};
use kefu_domain::{AuthorKind, Channel, Id, MacroAction, Priority, Role, Status};
use kefu_store::{CannedRow, ContactRef, ConversationChanges, MacroRow, NewConversation, micros};

const DEMO_MARKER: &str = "demo";
/// The fictional exchange the demo plays.
pub const DEMO_EXCHANGE: &str = "Nebula Exchange";

/// Set once the demo help center was imported.
const DEMO_KB_MARKER: &str = "demo_kb_seeded";
const DEMO_BOT_MARKER: &str = "demo_bot_seeded";

/// The demo exchange's help center, in the format `kefu kb import` reads.
#[derive(rust_embed::RustEmbed)]
#[folder = "../../demo/kb"]
struct DemoHelpCenter;

/// The demo help center as an import bundle.
pub fn demo_help_center() -> AppResult<crate::kb::files::Bundle> {
    use crate::kb::files;
    let mut bundle = files::Bundle::default();
    let mut names: Vec<String> = <DemoHelpCenter as rust_embed::Embed>::iter().map(|n| n.to_string()).collect();
    names.sort();
    for name in names {
        let Some(file) = <DemoHelpCenter as rust_embed::Embed>::get(&name) else { continue };
        let text = String::from_utf8_lossy(&file.data);
        if name == "categories.yaml" {
            bundle.categories = Some(files::parse_categories(&text).map_err(AppError::internal)?);
        } else if name.ends_with(".md") {
            bundle.articles.push((name.clone(), files::parse_article(&text).map_err(|e| AppError::internal(format!("{name}: {e}")))?));
        }
    }
    Ok(bundle)
}

pub const DEMO_PASSWORD: &str = "kefu-demo-pass";

pub struct DemoAgent {
    pub role: Role,
    pub email: &'static str,
    pub name: &'static str,
}

pub const DEMO_AGENTS: &[DemoAgent] = &[
    DemoAgent { role: Role::Admin, email: "admin@nebula-ex.com", name: "Ada Admin" },
    DemoAgent { role: Role::Supervisor, email: "supervisor@nebula-ex.com", name: "林巍 Lin Wei" },
    DemoAgent { role: Role::Agent, email: "agent@nebula-ex.com", name: "陈静 Chen Jing" },
];

#[derive(Debug, PartialEq, Eq)]
pub enum DemoOutcome {
    /// A new, empty database was filled with demo data.
    Seeded,
    /// The database is a demo database already; missing demo parts were added.
    Existing,
}

impl App {
    /// Seeds demo data, or refuses when the database holds data that is not a demo's.
    pub async fn seed_demo(&self) -> AppResult<DemoOutcome> {
        let marked = self.store().setting(DEMO_MARKER).await?.is_some();
        if !marked && self.store().count_agents().await? > 0 {
            return Err(AppError::RealDataPresent);
        }
        if !marked {
            self.store().put_setting(DEMO_MARKER, "{\"seeded\":true}", micros(self.now())).await?;
        }
        for a in DEMO_AGENTS {
            if self.store().agent_by_email(a.email).await?.is_none() {
                self.create_agent_as_operator(NewAgentRequest {
                    email: a.email.into(),
                    name: a.name.into(),
                    role: a.role.as_str().into(),
                    password: DEMO_PASSWORD.into(),
                })
                .await?;
            }
        }
        // The official channels the demo help center's "official channels" article lists
        // (kept when an admin changed them), before any demo message passes the shield.
        let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        self.seed_demo_shield(crate::shield::ShieldSettings {
            official_domains: list(&["nebula.example"]),
            official_telegram: list(&["@NebulaExchange", "@NebulaSupport_bot"]),
            official_phones: list(&["+1 800 555 0199"]),
            official_agent_ids: list(&["NBX-1001", "NBX-1002", "NBX-1003"]),
            allowed_link_domains: list(&["etherscan.io", "tronscan.org", "bscscan.com", "mempool.space", "solscan.io"]),
            secret_patterns: vec![crate::shield::SecretPatternSetting {
                name: "Nebula API secret".into(),
                pattern: r"\bnbx_sk_[A-Za-z0-9]{32}\b".into(),
            }],
            ..Default::default()
        })
        .await?;
        if self.store().setting(DEMO_INBOX_MARKER).await?.is_none() {
            self.seed_demo_inbox().await?;
            self.store().put_setting(DEMO_INBOX_MARKER, "{\"seeded\":true}", micros(self.now())).await?;
        }
        if self.store().setting(DEMO_KB_MARKER).await?.is_none() {
            self.kb_import(None, demo_help_center()?).await?;
            self.store().put_setting(DEMO_KB_MARKER, "{\"seeded\":true}", micros(self.now())).await?;
        }
        if self.store().setting(DEMO_BOT_MARKER).await?.is_none() {
            self.seed_demo_bot("Nebula Assistant").await?;
            self.store().put_setting(DEMO_BOT_MARKER, "{\"seeded\":true}", micros(self.now())).await?;
        }
        Ok(if marked { DemoOutcome::Existing } else { DemoOutcome::Seeded })
    }

    /// Teams, canned responses, a macro, and customers with conversations on several channels.
    async fn seed_demo_inbox(&self) -> AppResult<()> {
        let agent_id = |email: &str| {
            let email = email.to_string();
            async move { self.store().agent_by_email(&email).await.map(|a| a.map(|a| (a.id, a.name))) }
        };
        let (Some(admin), Some(supervisor), Some(agent)) =
            (agent_id("admin@nebula-ex.com").await?, agent_id("supervisor@nebula-ex.com").await?, agent_id("agent@nebula-ex.com").await?)
        else {
            return Ok(());
        };
        let now = micros(self.now());
        let payments = Id::new().to_string();
        self.store().insert_team(&payments, "充提币 Deposits & Withdrawals", false, now).await?;
        self.store().set_team_members(&payments, &[agent.0.clone(), supervisor.0.clone()], now).await?;
        let vip = Id::new().to_string();
        self.store().insert_team(&vip, "VIP 专属 VIP desk", true, now).await?;
        self.store().set_team_members(&vip, std::slice::from_ref(&supervisor.0), now).await?;

        for (shortcut, locale, title, body) in DEMO_CANNED {
            let row = CannedRow {
                id: Id::new().to_string(),
                owner_id: String::new(),
                shortcut: shortcut.to_string(),
                title: title.to_string(),
                locale: locale.to_string(),
                body: body.to_string(),
                updated_at: now,
            };
            self.store().insert_canned(&row, &admin.0).await?;
        }
        let actions = vec![
            MacroAction::Reply {
                body: "{{contact.name}} 您好，请提供该笔提币的交易哈希（TXID）和提币网络，我们会立即为您核查。".into()
            },
            MacroAction::AddTags { tags: vec!["txid-requested".into()] },
            MacroAction::SetStatus { status: Status::Pending },
        ];
        let m = MacroRow {
            id: Id::new().to_string(),
            owner_id: String::new(),
            name: "索取 TXID / Ask for TXID".into(),
            actions: serde_json::to_string(&actions).map_err(AppError::internal)?,
            sensitive: false,
            updated_at: now,
        };
        self.store().insert_macro(&m, &admin.0).await?;
        // Acts on the customer's account: it waits for a passed identity check.
        let actions = vec![
            MacroAction::Note { body: "已在交易所后台提交 2FA 重置（身份已核验）/ 2FA reset filed in the back office (identity checked)".into() },
            MacroAction::Reply {
                body: "{{contact.name}} 您好，身份已核验，您的二次验证已重置，请登录后立即重新绑定。/ Your identity is confirmed and your 2FA has been reset: please sign in and set it up again right away.".into(),
            },
            MacroAction::AddTags { tags: vec!["2fa-reset".into()] },
        ];
        let m = MacroRow {
            id: Id::new().to_string(),
            owner_id: String::new(),
            name: "重置 2FA / Reset 2FA".into(),
            actions: serde_json::to_string(&actions).map_err(AppError::internal)?,
            sensitive: true,
            updated_at: now,
        };
        self.store().insert_macro(&m, &admin.0).await?;

        for d in DEMO_CONVERSATIONS {
            let contact = ContactInput {
                name: Some(d.name.into()),
                emails: d.email.map(|e| vec![e.to_string()]),
                exchange_user_id: d.user_id.map(|u| Some(u.to_string())),
                telegram_id: d.telegram.map(|t| Some(t.to_string())),
                language: Some(Some(d.language.into())),
                vip_tier: Some(d.vip),
                ..Default::default()
            };
            let parsed = parse_contact(&contact)?;
            let contact_ref = match self.find_contact(parsed.identities.as_deref().unwrap_or(&[])).await? {
                Some(id) => ContactRef::Existing(id),
                None => ContactRef::New(parsed.into_new(&*self.pii().await?)),
            };
            let team = match d.team {
                1 => Some(payments.clone()),
                2 => Some(vip.clone()),
                _ => None,
            };
            let id = Id::new().to_string();
            let actor = ("customer".to_string(), None, d.name.to_string());
            let mut new = NewConversation {
                id: id.clone(),
                channel: d.channel.as_str().into(),
                subject: d.subject.into(),
                status: Status::Open.as_str().into(),
                priority: d.priority.rank(),
                contact: contact_ref,
                assignee_id: None,
                team_id: team,
                language: Some(d.language.into()),
                intent: Some(d.intent.into()),
                custom_fields: "{}".into(),
                tags: d.tags.iter().map(|t| t.to_string()).collect(),
                message: None,
                activity: activity(&actor, "created", serde_json::json!({"channel": d.channel.as_str()})),
                // Demo chats come from signed-in customers of the demo exchange.
                verified_identity: (d.channel == Channel::Chat).then_some(true),
            };
            self.insert_conversation(&mut new).await?;
            for (who, text) in d.messages {
                let row = self.store().conversation_by_id(&id).await?.ok_or(AppError::NotFound("conversation"))?;
                let (kind, author_id, name, private) = match who {
                    'c' => (AuthorKind::Customer, Some(row.contact_id.clone()), row.contact_name.clone(), false),
                    'n' => (AuthorKind::Agent, Some(agent.0.clone()), agent.1.clone(), true),
                    _ => (AuthorKind::Agent, Some(agent.0.clone()), agent.1.clone(), false),
                };
                let input = NewMessageInput { body: text.to_string(), private, ..Default::default() };
                self.add_message(&row, kind, author_id, name, &agent.0, &input).await?;
            }
            if d.assigned || d.status != Status::Open {
                let row = self.store().conversation_by_id(&id).await?.ok_or(AppError::NotFound("conversation"))?;
                let changes = ConversationChanges {
                    assignee_id: d.assigned.then(|| Some(agent.0.clone())),
                    status: (d.status != Status::Open).then(|| d.status.as_str().to_string()),
                    resolved_at: (d.status == Status::Resolved).then_some(Some(micros(self.now()))),
                    ..Default::default()
                };
                let system = ("system".to_string(), None, "Kefu demo".to_string());
                let acts = vec![activity(&system, "status_changed", serde_json::json!({"from": "open", "to": d.status.as_str()}))];
                self.store().update_conversation(&id, row.version, &changes, &acts, micros(self.now())).await?;
                self.index_later(&id);
            }
        }
        Ok(())
    }
}

const DEMO_INBOX_MARKER: &str = "demo.inbox";

const DEMO_CANNED: &[(&str, &str, &str, &str)] = &[
    (
        "greet",
        "zh-CN",
        "问候",
        "{{contact.name}} 您好，我是 Nebula 客服 {{agent.name}}，很高兴为您服务。您的工单号是 #{{conversation.number}}。",
    ),
    (
        "greet",
        "zh-TW",
        "問候",
        "{{contact.name}} 您好，我是 Nebula 客服 {{agent.name}}，很高興為您服務。您的工單號是 #{{conversation.number}}。",
    ),
    (
        "greet",
        "en",
        "Greeting",
        "Hi {{contact.name}}, this is {{agent.name}} from Nebula support. Your ticket number is #{{conversation.number}}.",
    ),
    ("txid", "zh-CN", "索取交易哈希", "请提供该笔交易的交易哈希（TXID）、币种和网络（如 TRC20、ERC20），我们会立即为您核查链上状态。"),
    (
        "txid",
        "en",
        "Ask for the TXID",
        "Please send the transaction hash (TXID), the coin and the network (e.g. TRC20, ERC20) so we can check it on chain right away.",
    ),
    ("never-ask", "zh-CN", "安全提醒", "温馨提示：Nebula 工作人员绝不会索要您的助记词、私钥、密码或验证码。请勿向任何人透露。"),
    (
        "never-ask",
        "en",
        "Security reminder",
        "Reminder: Nebula staff will never ask for your seed phrase, private keys, password or 2FA codes. Never share them with anyone.",
    ),
];

struct DemoConversation {
    name: &'static str,
    email: Option<&'static str>,
    user_id: Option<&'static str>,
    telegram: Option<&'static str>,
    language: &'static str,
    vip: i64,
    channel: Channel,
    subject: &'static str,
    intent: &'static str,
    priority: Priority,
    status: Status,
    team: u8,
    assigned: bool,
    tags: &'static [&'static str],
    /// 'c' customer, 'a' agent reply, 'n' agent note.
    messages: &'static [(char, &'static str)],
}

const DEMO_CONVERSATIONS: &[DemoConversation] = &[
    DemoConversation {
        name: "王小明",
        email: Some("wang.xm@example.com"),
        user_id: Some("NB-100231"),
        telegram: None,
        language: "zh-CN",
        vip: 0,
        channel: Channel::Chat,
        subject: "USDT 提币三小时未到账",
        intent: "withdrawal_pending",
        priority: Priority::High,
        status: Status::Open,
        team: 1,
        assigned: false,
        tags: &["提币", "usdt"],
        messages: &[('c', "我下午两点提了 500 USDT 到 TRC20 地址，现在三个小时了还没到账，状态一直是处理中。")],
    },
    DemoConversation {
        name: "Emily Carter",
        email: Some("emily.carter@example.com"),
        user_id: None,
        telegram: None,
        language: "en",
        vip: 0,
        channel: Channel::Email,
        subject: "Deposit not credited: ETH sent on Arbitrum",
        intent: "deposit_not_credited",
        priority: Priority::Normal,
        status: Status::Pending,
        team: 1,
        assigned: true,
        tags: &["deposit", "wrong-network"],
        messages: &[
            ('c', "Hi, I sent 0.8 ETH to my deposit address yesterday but it never showed up. I think I picked Arbitrum in my wallet."),
            (
                'a',
                "Hi Emily, thanks for the details. Deposits on a network we do not list for that address need a manual recovery. Please send the TXID so we can check it.",
            ),
        ],
    },
    DemoConversation {
        name: "陳志明",
        email: None,
        user_id: None,
        telegram: Some("chen_zm88"),
        language: "zh-TW",
        vip: 0,
        channel: Channel::Telegram,
        subject: "忘記密碼，無法登入",
        intent: "login_problem",
        priority: Priority::Normal,
        status: Status::Open,
        team: 0,
        assigned: false,
        tags: &["登入"],
        messages: &[('c', "你好，我忘記密碼了，重設郵件一直收不到，可以幫我看一下嗎？")],
    },
    DemoConversation {
        name: "李娜",
        email: Some("li.na@example.com"),
        user_id: Some("NB-000017"),
        telegram: None,
        language: "zh-CN",
        vip: 5,
        channel: Channel::Chat,
        subject: "大额提币审核进度",
        intent: "withdrawal_pending",
        priority: Priority::Urgent,
        status: Status::Open,
        team: 2,
        assigned: false,
        tags: &["vip", "提币"],
        messages: &[
            ('c', "我有一笔 25 BTC 的提币在审核中，已经超过四个小时了，请尽快处理。"),
            ('n', "大额提币，已转风控复核，预计 30 分钟内有结果。"),
        ],
    },
    DemoConversation {
        name: "Ahmed Khan",
        email: Some("ahmed.khan@example.com"),
        user_id: Some("NB-553120"),
        telegram: None,
        language: "en",
        vip: 0,
        channel: Channel::Portal,
        subject: "Lost my phone with Google Authenticator",
        intent: "twofa_reset",
        priority: Priority::High,
        status: Status::Open,
        team: 0,
        assigned: true,
        tags: &["2fa"],
        messages: &[('c', "My phone was stolen and I cannot log in without the authenticator code. How do I reset 2FA?")],
    },
    DemoConversation {
        name: "Sofia Rossi",
        email: Some("sofia.rossi@example.com"),
        user_id: None,
        telegram: None,
        language: "en",
        vip: 0,
        channel: Channel::Api,
        subject: "Trading fee tier question",
        intent: "fees",
        priority: Priority::Low,
        status: Status::Resolved,
        team: 0,
        assigned: true,
        tags: &["fees"],
        messages: &[
            ('c', "What trading volume do I need for the VIP 1 maker fee?"),
            ('a', "Hi Sofia, VIP 1 starts at 1,000,000 USDT of 30-day spot volume; the maker fee is then 0.08%."),
            ('c', "Great, thanks!"),
        ],
    },
];

/// A signed identity of the demo's logged-in customer, as an exchange's backend would make it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DemoIdentity {
    pub user_id: String,
    pub user_hash: String,
    pub email: String,
    pub name: String,
    /// The same customer as a short-lived HS256 token signed just now (with `iat`): what an
    /// exchange hands the widget after a fresh sign-in, for an identity check.
    pub token: String,
}

impl App {
    /// Demo mode only: signs the demo exchange's logged-in customer, so that the demo page can
    /// show a verified chat. Elsewhere there is no such thing (not found).
    pub async fn demo_identity(&self) -> AppResult<DemoIdentity> {
        if !self.config().demo {
            return Err(AppError::NotFound("demo identity"));
        }
        let secret = match self.portal_identity_secret().await? {
            Some(s) => s,
            None => {
                let s = crate::secrets::random_token(32);
                self.set_portal_identity_secret(Some(s.clone())).await?;
                s
            }
        };
        // The first demo customer the exchange knows by a user id.
        let (c, user_id) = DEMO_CONVERSATIONS.iter().find_map(|c| c.user_id.map(|u| (c, u))).ok_or(AppError::NotFound("demo identity"))?;
        let now = self.now().timestamp();
        let claims = serde_json::json!({"sub": user_id, "iat": now, "exp": now + 300, "email": c.email, "name": c.name});
        let token =
            jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()))
                .map_err(AppError::internal)?;
        Ok(DemoIdentity {
            token,
            user_id: user_id.into(),
            user_hash: crate::portal::hmac_hex(&secret, user_id).ok_or_else(|| AppError::internal("signing failed"))?,
            email: c.email.unwrap_or_default().into(),
            name: c.name.into(),
        })
    }
}
