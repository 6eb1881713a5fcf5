//! Builds an on-disk conversation index of synthetic zh-CN, zh-TW and English support traffic,
//! then times a mix of inbox searches. Prints one JSON object.
//!
//!     cargo run --release -p kefu-search --example search_bench -- --docs 100000 --queries 500

#![allow(clippy::unwrap_used, clippy::expect_used)]

use kefu_search::{ConversationDoc, ConversationIndex, ConversationQuery};
use std::time::{Duration, Instant};

const BATCH: usize = 1_000;
const TEAMS: [&str; 4] = ["team-general", "team-vip", "team-otc", "team-compliance"];
const STATUSES: [&str; 4] = ["open", "pending", "snoozed", "closed"];
const CHANNELS: [&str; 4] = ["web", "email", "telegram", "app"];
const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];
const TAGS: [&str; 8] = ["withdrawal", "deposit", "kyc", "2fa", "p2p", "futures", "vip", "refund"];
const COINS: [&str; 16] =
    ["USDT", "BTC", "ETH", "USDC", "TRX", "SOL", "BNB", "XRP", "DOGE", "LTC", "ADA", "DOT", "TON", "ARB", "OP", "MATIC"];
const NETWORKS: [&str; 10] =
    ["TRC20", "ERC20", "BEP20", "Arbitrum One", "Optimism", "Solana", "Polygon", "TON", "Lightning", "Avalanche C-Chain"];

/// Sentences with slots: {coin} {net} {amount} {order} {tx} {hours} {uid}.
const ZH_CN: &[&str] = &[
    "您好，我的{coin}提币一直没到账，已经{hours}个小时了",
    "提币地址是{net}网络的，提了{amount} {coin}，交易哈希{tx}",
    "充值{coin}到{net}地址后没有到账，请帮忙查一下",
    "我充错网络了，把{net}的{coin}充到了另一个链上，还能找回吗",
    "谷歌验证器丢了，手机也换了，怎么重置二次验证",
    "收不到短信验证码，邮箱验证码也一直没收到",
    "实名认证一直审核中，已经提交身份证和人脸识别了",
    "高级认证被拒绝了，说照片不清楚，我重新上传了",
    "账户被冻结了，提示风控，请问什么时候解冻",
    "忘记密码了，重置密码以后二十四小时不能提币吗",
    "订单{order}的法币交易，承兑商一直不放币，我要申诉",
    "场外交易付款以后对方没确认，订单号{order}",
    "合约爆仓了，我觉得强平价格不对，请核实一下",
    "永续合约的手续费怎么算的，资金费率太高了",
    "现货账户的{coin}划转到合约账户失败",
    "提币手续费为什么这么高，{coin}的矿工费能便宜点吗",
    "最小提币数量是多少，我只有{amount} {coin}",
    "空投的{coin}什么时候发放到账户里",
    "质押理财到期了，本金和收益还没返还",
    "登录的时候提示异常登录，是不是被盗号了",
    "白名单地址怎么添加，新地址要等多久才能提币",
    "备注标签忘记填了，{coin}充值没有到账怎么办",
    "子账户之间内部转账不到账",
    "请问{net}网络现在是不是在维护，充值一直显示确认中",
    "区块确认数够了但是余额没有变化",
    "客服你好，我的uid是{uid}，麻烦尽快处理",
    "已经等了很久了，能不能给个准确的到账时间",
    "谢谢，问题已经解决了",
];

const ZH_TW: &[&str] = &[
    "您好，我的{coin}提幣一直沒有到帳，已經{hours}個小時了",
    "我忘記密碼了，也收不到簡訊驗證碼",
    "帳戶被凍結了，請問為什麼會這樣，什麼時候可以解凍",
    "實名認證上傳了身分證，審核一直沒有通過",
    "儲值{coin}到{net}地址以後餘額沒有變化，交易雜湊是{tx}",
    "提幣地址填錯了網路，{amount} {coin}還能找回來嗎",
    "谷歌驗證器換手機以後不見了，要怎麼重新綁定",
    "請問{coin}的提幣手續費是多少，為什麼這麼貴",
    "法幣訂單{order}對方一直沒有放幣，我要申訴",
    "合約帳戶被強制平倉了，價格明顯不對",
    "登入的時候一直顯示密碼錯誤，帳號會不會被鎖",
    "請幫我查一下這筆轉帳，訂單編號{order}",
    "內部轉帳到子帳戶失敗，顯示系統繁忙",
    "空投活動的獎勵什麼時候會發放",
    "我的uid是{uid}，麻煩盡快處理，謝謝",
    "問題已經解決了，謝謝客服",
];

const EN: &[&str] = &[
    "Hi, my {coin} withdrawal has been pending for {hours} hours",
    "I sent {amount} {coin} over {net} but the deposit has not arrived. Tx hash {tx}",
    "I deposited to the wrong network, can you recover funds sent on {net}?",
    "Lost my phone and my authenticator app, please reset my 2FA",
    "I am not receiving the SMS verification code or the email code",
    "My KYC verification was rejected, the photo of my ID was blurry",
    "Why is my account frozen? I cannot withdraw anything",
    "Forgot my password, after resetting it withdrawals are disabled for 24 hours?",
    "P2P order {order}: the seller has not released the coins, opening an appeal",
    "My futures position was liquidated at a price that never traded",
    "What are the withdrawal fees for {coin} on {net}?",
    "The minimum withdrawal is higher than my balance of {amount} {coin}",
    "When will the airdrop of {coin} be distributed to accounts?",
    "Staking product matured but principal and rewards were not returned",
    "Suspicious login alert from an unknown device, was my account hacked?",
    "How do I add an address to the withdrawal whitelist?",
    "I forgot the memo tag for my {coin} deposit, what should I do?",
    "Transfer between sub-accounts failed with a system error",
    "Is {net} under maintenance? My deposit shows confirming for hours",
    "Enough block confirmations but my balance did not change",
    "My UID is {uid}, please handle this quickly",
    "Thanks, the issue is resolved now",
];

/// Filler vocabulary, drawn with a Zipf-like skew so posting lists have realistic lengths.
const ZH_FILLER: &[&str] = &[
    "麻烦",
    "尽快",
    "处理",
    "一下",
    "谢谢",
    "请问",
    "怎么",
    "为什么",
    "还是",
    "已经",
    "现在",
    "今天",
    "昨天",
    "刚才",
    "急用",
    "着急",
    "客服",
    "回复",
    "等待",
    "时间",
    "问题",
    "系统",
    "页面",
    "显示",
    "错误",
    "失败",
    "成功",
    "截图",
    "附件",
    "记录",
    "余额",
    "资产",
    "钱包",
    "交易所",
    "平台",
    "手机",
    "电脑",
    "网页",
    "应用",
    "版本",
    "更新",
    "安装",
    "卸载",
    "网络",
    "信号",
    "银行卡",
    "支付宝",
    "微信",
    "转账",
    "收款",
    "付款",
    "退款",
    "赔偿",
    "投诉",
    "邮件",
    "电话",
    "短信",
    "通知",
    "公告",
    "活动",
    "奖励",
    "返佣",
    "邀请",
    "好友",
    "推荐",
    "链接",
    "二维码",
    "扫描",
    "上传",
    "下载",
    "照片",
    "视频",
    "护照",
    "驾照",
    "地址证明",
    "水电费",
    "账单",
    "英文",
    "中文",
    "翻译",
    "人工",
    "机器人",
    "自动",
    "手动",
    "审核",
    "通过",
    "拒绝",
    "原因",
    "规则",
    "限制",
    "额度",
    "等级",
    "会员",
    "折扣",
];
const ZH_TW_FILLER: &[&str] = &[
    "麻煩",
    "盡快",
    "處理",
    "一下",
    "謝謝",
    "請問",
    "怎麼",
    "為什麼",
    "還是",
    "已經",
    "現在",
    "今天",
    "昨天",
    "剛才",
    "客服",
    "回覆",
    "等待",
    "時間",
    "問題",
    "系統",
    "頁面",
    "顯示",
    "錯誤",
    "失敗",
    "成功",
    "截圖",
    "紀錄",
    "餘額",
    "資產",
    "錢包",
    "交易所",
    "平臺",
    "手機",
    "電腦",
    "網頁",
    "應用程式",
    "版本",
    "更新",
    "網路",
    "銀行帳戶",
    "轉帳",
    "退款",
    "投訴",
    "郵件",
    "電話",
    "簡訊",
    "通知",
];
const EN_FILLER: &[&str] = &[
    "please",
    "urgent",
    "help",
    "asap",
    "thanks",
    "again",
    "still",
    "already",
    "today",
    "yesterday",
    "support",
    "reply",
    "waiting",
    "problem",
    "issue",
    "system",
    "page",
    "error",
    "failed",
    "success",
    "screenshot",
    "attached",
    "history",
    "balance",
    "assets",
    "wallet",
    "exchange",
    "platform",
    "phone",
    "computer",
    "browser",
    "app",
    "version",
    "update",
    "network",
    "bank",
    "card",
    "transfer",
    "payment",
    "refund",
    "compensation",
    "complaint",
    "email",
    "notification",
    "announcement",
    "campaign",
    "rewards",
    "referral",
    "link",
    "upload",
    "download",
    "photo",
    "video",
    "passport",
    "license",
    "proof",
    "address",
    "statement",
    "manual",
    "review",
    "approved",
    "rejected",
    "reason",
    "rules",
    "limits",
    "tier",
    "vip",
    "discount",
    "delayed",
    "missing",
    "wrong",
    "stuck",
];
const NAMES: &[&str] = &[
    "Wang Wei",
    "Li Na",
    "Zhang Min",
    "Chen Jie",
    "Lin Yi-Ting",
    "Huang Chih-Hao",
    "Liu Yang",
    "Zhao Lei",
    "Wu Mei",
    "John Smith",
    "Maria Garcia",
    "Ahmed Khan",
    "Nguyen Van An",
    "Sato Yuki",
    "Kim Min-jun",
    "Olga Ivanova",
    "王伟",
    "李娜",
    "陳怡婷",
    "黃志豪",
];

struct Rng(u64);

impl Rng {
    /// SplitMix64: deterministic, so two runs index the same corpus.
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// Index skewed towards the front: roughly Zipf with exponent 1.
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        (((n as f64 + 1.0).powf(u) - 1.0) as usize).min(n - 1)
    }

    fn hex(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from_digit(self.below(16) as u32, 16).unwrap_or('0')).collect()
    }
}

#[derive(Clone, Copy)]
enum Language {
    Simplified,
    Traditional,
    English,
}

fn fill(rng: &mut Rng, template: &str) -> String {
    let mut out = template.to_string();
    for (slot, value) in [
        ("{coin}", rng.pick(&COINS).to_string()),
        ("{net}", rng.pick(&NETWORKS).to_string()),
        ("{amount}", format!("{}.{}", rng.below(5_000), rng.below(100))),
        ("{order}", format!("{}{:08}", 2026_1100 + rng.below(30), rng.below(100_000_000))),
        ("{tx}", format!("0x{}", rng.hex(64))),
        ("{hours}", (1 + rng.below(72)).to_string()),
        ("{uid}", (10_000_000 + rng.below(90_000_000)).to_string()),
    ] {
        out = out.replace(slot, &value);
    }
    out
}

fn message(rng: &mut Rng, language: Language) -> String {
    let (sentences, filler, separator) = match language {
        Language::Simplified => (ZH_CN, ZH_FILLER, "，"),
        Language::Traditional => (ZH_TW, ZH_TW_FILLER, "，"),
        Language::English => (EN, EN_FILLER, " "),
    };
    let first = rng.pick(sentences);
    let mut text = fill(rng, first);
    for _ in 0..rng.below(8) {
        text.push_str(separator);
        text.push_str(filler[rng.zipf(filler.len())]);
    }
    if rng.below(3) == 0 {
        text.push_str(separator);
        let second = rng.pick(sentences);
        text.push_str(&fill(rng, second));
    }
    text
}

fn conversation(rng: &mut Rng, n: usize) -> ConversationDoc {
    let language = match rng.below(20) {
        0..9 => Language::Simplified,
        9..14 => Language::Traditional,
        _ => Language::English,
    };
    // Most threads are short; one in fifty is a long back-and-forth that snippets must cope with.
    let count = if rng.below(50) == 0 { 40 + rng.below(80) } else { 2 + rng.zipf(14) };
    let messages: Vec<String> = (0..count).map(|_| message(rng, language)).collect();
    let subject: String = match language {
        Language::English => messages[0].split(['.', ',', '?']).next().unwrap_or_default().chars().take(60).collect(),
        _ => messages[0].split(['，', '。', '？']).nth(1).unwrap_or(&messages[0]).chars().take(24).collect(),
    };
    let name = rng.pick(NAMES);
    let uid = 10_000_000 + rng.below(90_000_000);
    ConversationDoc {
        id: format!("conv-{n:08}"),
        number: 10_000 + n as i64,
        subject,
        messages: messages.join("\n"),
        contact: name.to_string(),
        contact_keys: vec![format!("k1.email.{uid}"), format!("k1.phone.{}", rng.below(10_000_000_000)), format!("k1.user.{uid}")],
        status: rng.pick(&STATUSES).to_string(),
        channel: rng.pick(&CHANNELS).to_string(),
        priority: rng.pick(&PRIORITIES).to_string(),
        team_id: (rng.below(5) != 0).then(|| rng.pick(&TEAMS).to_string()),
        assignee_id: (rng.below(3) != 0).then(|| format!("agent-{}", rng.below(40))),
        tags: (0..rng.below(3)).map(|_| rng.pick(&TAGS).to_string()).collect(),
        last_activity_at: 1_780_000_000_000_000 + (n as i64) * 1_000_000,
    }
}

const QUERIES_ZH: &[&str] =
    &["提币", "到账", "充值", "冻结", "实名认证", "谷歌验证", "手续费", "钱包", "密码", "合约", "申诉", "验证码", "划转", "空投", "解冻"];
const QUERIES_ZH_MULTI: &[&str] = &[
    "提币 到账",
    "USDT 提币",
    "忘记密码 验证码",
    "充值 没有到账 TRC20",
    "账户 冻结",
    "法币 申诉",
    "合约 爆仓",
    "提币 手续费 USDT",
    "谷歌验证器 重置",
    "我的提币一直没到账",
];
const QUERIES_TW: &[&str] = &["提幣", "忘記密碼", "帳戶 凍結", "驗證碼", "儲值 沒有到帳", "實名認證", "手續費"];
const QUERIES_EN: &[&str] = &[
    "withdrawal",
    "deposit not arrived",
    "2fa reset",
    "kyc rejected",
    "USDT TRC20",
    "account frozen",
    "liquidated",
    "withdrawals pending",
    "airdrop",
    "whitelist address",
];

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1e3
}

fn summary(mut latencies: Vec<Duration>) -> serde_json::Value {
    latencies.sort();
    if latencies.is_empty() {
        return serde_json::json!({ "count": 0 });
    }
    let mean = latencies.iter().sum::<Duration>().as_secs_f64() * 1e3 / latencies.len() as f64;
    serde_json::json!({
        "count": latencies.len(),
        "mean_ms": round(mean),
        "p50_ms": round(percentile(&latencies, 0.50)),
        "p90_ms": round(percentile(&latencies, 0.90)),
        "p99_ms": round(percentile(&latencies, 0.99)),
        "max_ms": round(latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3)),
    })
}

fn round(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

fn dir_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| entries.flatten().filter_map(|entry| entry.metadata().ok()).map(|meta| meta.len()).sum())
        .unwrap_or(0)
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter().position(|arg| arg == name).and_then(|at| args.get(at + 1)).and_then(|value| value.parse().ok()).unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let docs = arg(&args, "--docs", 100_000);
    let queries = arg(&args, "--queries", 500);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng = Rng(0x6B65_6675);

    let opened = Instant::now();
    let index = ConversationIndex::open(dir.path()).expect("open index");
    let open_ms = opened.elapsed().as_secs_f64() * 1e3;

    let mut text_bytes = 0usize;
    let mut generate = Duration::ZERO;
    let mut upsert = Duration::ZERO;
    let started = Instant::now();
    for first in (0..docs).step_by(BATCH) {
        let generated = Instant::now();
        let batch: Vec<ConversationDoc> = (first..(first + BATCH).min(docs)).map(|n| conversation(&mut rng, n)).collect();
        generate += generated.elapsed();
        text_bytes += batch.iter().map(|doc| doc.subject.len() + doc.messages.len() + doc.contact.len()).sum::<usize>();
        let upserted = Instant::now();
        index.upsert(&batch).expect("upsert");
        upsert += upserted.elapsed();
    }
    let committed = Instant::now();
    index.commit().expect("commit");
    let final_commit = committed.elapsed();
    let build = started.elapsed() - generate;
    assert_eq!(index.num_docs(), docs as u64);

    // What an inbox pays per change when it commits each one on its own.
    let mut single_commits = Vec::new();
    for n in 0..20 {
        let doc = conversation(&mut rng, n);
        let timed = Instant::now();
        index.upsert(&[doc]).expect("upsert");
        index.commit().expect("commit");
        single_commits.push(timed.elapsed());
    }

    let mut by_kind: std::collections::BTreeMap<&str, Vec<Duration>> = Default::default();
    let mut all = Vec::with_capacity(queries);
    let mut total_hits = 0usize;
    for q in 0..queries {
        let mut query = ConversationQuery { limit: 20, ..ConversationQuery::default() };
        let kind = match q % 10 {
            0 | 1 => {
                query.text = rng.pick(QUERIES_ZH).to_string();
                "zh_single_word"
            }
            2 | 3 => {
                query.text = rng.pick(QUERIES_ZH_MULTI).to_string();
                "zh_multi_word"
            }
            4 => {
                query.text = rng.pick(QUERIES_TW).to_string();
                "zh_tw"
            }
            5 | 6 => {
                query.text = rng.pick(QUERIES_EN).to_string();
                "english"
            }
            7 => {
                let number = 10_000 + rng.below(docs);
                query.text = if rng.below(2) == 0 { format!("#{number}") } else { number.to_string() };
                "number"
            }
            _ => {
                query.text = rng.pick(QUERIES_ZH).to_string();
                query.status = Some("open".to_string());
                query.visible_teams = Some(vec![TEAMS[0].to_string(), TEAMS[2].to_string()]);
                if rng.below(2) == 0 {
                    query.tag = Some(rng.pick(&TAGS).to_string());
                }
                "zh_with_filters"
            }
        };
        let timed = Instant::now();
        let hits = index.search(&query).expect("search");
        let took = timed.elapsed();
        total_hits += hits.len();
        by_kind.entry(kind).or_default().push(took);
        all.push(took);
    }

    let report = serde_json::json!({
        "docs": docs,
        "queries": queries,
        "text_mb": round(text_bytes as f64 / 1e6),
        "open_ms": round(open_ms),
        "build_s": round(build.as_secs_f64()),
        "docs_per_s": (docs as f64 / build.as_secs_f64()).round(),
        "upsert_s": round(upsert.as_secs_f64()),
        "final_commit_ms": round(final_commit.as_secs_f64() * 1e3),
        "index_mb": round(dir_size(dir.path()) as f64 / 1e6),
        "single_upsert_commit": summary(single_commits),
        "mean_hits_per_query": round(total_hits as f64 / queries.max(1) as f64),
        // Included in `search` too: the first search after the build faults the index into memory.
        "first_search_ms": round(all.first().map_or(0.0, |d| d.as_secs_f64() * 1e3)),
        "search": summary(all),
        "search_by_kind": by_kind.into_iter().map(|(kind, latencies)| (kind.to_string(), summary(latencies))).collect::<serde_json::Map<_, _>>(),
    });
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
}
