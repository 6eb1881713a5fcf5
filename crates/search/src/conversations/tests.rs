#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::text::SNIPPET_WINDOW_BYTES;

use super::*;
use std::sync::Arc;

fn conversation(id: &str, number: i64, subject: &str, messages: &str) -> ConversationDoc {
    ConversationDoc {
        id: id.to_string(),
        number,
        subject: subject.to_string(),
        messages: messages.to_string(),
        contact: String::new(),
        contact_keys: Vec::new(),
        status: "open".to_string(),
        channel: "web".to_string(),
        priority: "normal".to_string(),
        team_id: None,
        assignee_id: None,
        tags: Vec::new(),
        last_activity_at: number * 1_000_000,
    }
}

fn index_of(conversations: Vec<ConversationDoc>) -> ConversationIndex {
    let index = ConversationIndex::in_memory().unwrap();
    index.upsert(&conversations).unwrap();
    index.commit().unwrap();
    index
}

fn query(text: &str) -> ConversationQuery {
    ConversationQuery { text: text.to_string(), limit: 20, ..ConversationQuery::default() }
}

fn ids(index: &ConversationIndex, query: &ConversationQuery) -> Vec<String> {
    index.search(query).unwrap().into_iter().map(|hit| hit.id).collect()
}

fn found(index: &ConversationIndex, text: &str) -> Vec<String> {
    ids(index, &query(text))
}

fn support_inbox() -> ConversationIndex {
    index_of(vec![
        conversation("c1", 10234, "提币问题", "您好，我的提币一直没到账，已经两个小时了"),
        conversation("c2", 10235, "忘記密碼", "我忘記密碼了，也收不到簡訊驗證碼"),
        conversation("c3", 10236, "Withdrawal stuck", "My withdrawal of 500 USDT via TRC20 is pending. Tx 0x3f5a9c01"),
        conversation("c4", 10237, "充值未到账", "USDT 充值到 TRC20 地址后没有到账，提币也不行"),
        conversation("c5", 10238, "KYC review", "How long does identity verification take?"),
    ])
}

#[test]
fn a_word_finds_it_inside_a_sentence() {
    let index = support_inbox();
    let hits = found(&index, "提币");
    assert!(hits.contains(&"c1".to_string()), "{hits:?}");
    assert!(!hits.contains(&"c2".to_string()));
}

#[test]
fn traditional_and_simplified_find_each_other() {
    let index = support_inbox();
    assert!(found(&index, "提幣").contains(&"c1".to_string()));
    assert_eq!(found(&index, "忘记密码"), ["c2"]);
    assert_eq!(found(&index, "验证码"), ["c2"]);
}

#[test]
fn english_inflections_match() {
    let index = support_inbox();
    assert_eq!(found(&index, "withdrawals"), ["c3"]);
    assert_eq!(found(&index, "Identities"), ["c5"]);
}

#[test]
fn an_unknown_word_matches_only_where_its_characters_are_adjacent() {
    let index =
        index_of(vec![conversation("together", 1, "欧易", "我从欧易转过来的币"), conversation("apart", 2, "对比", "欧、易两个字分开写")]);
    assert_eq!(found(&index, "歐易"), ["together"]);
}

#[test]
fn ids_and_codes_are_searchable() {
    let index = support_inbox();
    assert_eq!(found(&index, "0x3f5a9c01"), ["c3"]);
    assert_eq!(found(&index, "trc"), found(&index, "TRC20"));
    let mixed = found(&index, "USDT 提币 TRC20");
    assert_eq!(mixed, ["c4"]);
}

#[test]
fn a_number_finds_its_conversation_first() {
    let mut conversations = vec![conversation("c1", 10234, "Deposit", "Nothing to see")];
    conversations.push(conversation("c2", 55, "Order", "I mentioned order 10234 in my message"));
    let index = index_of(conversations);
    assert_eq!(found(&index, "10234"), ["c1", "c2"]);
    assert_eq!(found(&index, "#10234"), ["c1", "c2"]);
    assert_eq!(found(&index, "＃１０２３４")[0], "c1");
    let hit = &index.search(&query("#10234")).unwrap()[0];
    assert_eq!(hit.number, 10234);
    assert_eq!(hit.snippet, "Nothing to see");
}

#[test]
fn filters_narrow_the_hits() {
    let mut closed = conversation("closed", 2, "提币", "提币慢");
    closed.status = "closed".to_string();
    let mut private = conversation("private", 3, "提币", "提币慢");
    private.team_id = Some("vip".to_string());
    let mut ours = conversation("ours", 4, "提币", "提币慢");
    ours.team_id = Some("support".to_string());
    ours.tags = vec!["urgent".to_string(), "withdrawal".to_string()];
    ours.assignee_id = Some("agent-7".to_string());
    let open = conversation("open", 1, "提币", "提币慢");
    let index = index_of(vec![closed, private, ours, open]);

    let mut all = found(&index, "提币");
    all.sort();
    assert_eq!(all, ["closed", "open", "ours", "private"]);

    let open_only = ConversationQuery { status: Some("open".to_string()), ..query("提币") };
    assert!(!ids(&index, &open_only).contains(&"closed".to_string()));

    let support_agent = ConversationQuery { visible_teams: Some(vec!["support".to_string()]), ..query("提币") };
    let mut visible = ids(&index, &support_agent);
    visible.sort();
    assert_eq!(visible, ["closed", "open", "ours"]);

    let no_teams = ConversationQuery { visible_teams: Some(Vec::new()), ..query("提币") };
    assert!(!ids(&index, &no_teams).iter().any(|id| id == "ours" || id == "private"));

    assert_eq!(ids(&index, &ConversationQuery { tag: Some("urgent".to_string()), ..query("提币") }), ["ours"]);
    assert_eq!(ids(&index, &ConversationQuery { assignee: Some(Some("agent-7".to_string())), ..query("提币") }), ["ours"]);
    let mut unassigned = ids(&index, &ConversationQuery { assignee: Some(None), ..query("提币") });
    unassigned.sort();
    assert_eq!(unassigned, ["closed", "open", "private"]);
    assert!(ids(&index, &ConversationQuery { channel: Some("email".to_string()), ..query("提币") }).is_empty());
}

#[test]
fn the_subject_outranks_the_body() {
    let index = index_of(vec![
        // The body match is the more recent one, so recency cannot be what decides.
        conversation("body", 2, "Question", "Also, my deposit has not arrived yet, and another thing about fees"),
        conversation("subject", 1, "Deposit not arrived", "Please check my account"),
    ]);
    assert_eq!(found(&index, "deposit"), ["subject", "body"]);
}

#[test]
fn equal_relevance_prefers_recent_activity() {
    let index = index_of(vec![
        conversation("older", 1, "Deposit", "same words"),
        conversation("newer", 2, "Deposit", "same words"),
        conversation("oldest", 0, "Deposit", "same words"),
    ]);
    assert_eq!(found(&index, "deposit"), ["newer", "older", "oldest"]);
}

#[test]
fn upsert_replaces_and_delete_removes() {
    let index = index_of(vec![conversation("c1", 1, "Deposit", "old words about bananas")]);
    index.upsert(&[conversation("c1", 1, "Deposit", "new words about apples")]).unwrap();
    assert_eq!(found(&index, "bananas"), ["c1"], "staged changes are not visible before commit");
    index.commit().unwrap();
    assert!(found(&index, "bananas").is_empty());
    assert_eq!(found(&index, "apples"), ["c1"]);
    assert_eq!(index.num_docs(), 1);

    index.delete("c1").unwrap();
    index.commit().unwrap();
    assert!(found(&index, "apples").is_empty());
    assert_eq!(index.num_docs(), 0);
}

#[test]
fn clear_starts_over_at_the_next_commit() {
    let index = index_of(vec![conversation("c1", 1, "Deposit", "first")]);
    index.upsert(&[conversation("c2", 2, "Deposit", "staged")]).unwrap();
    index.clear().unwrap();
    index.upsert(&[conversation("c3", 3, "Deposit", "rebuilt")]).unwrap();
    assert_eq!(index.num_docs(), 1, "searches see the old index until the commit");
    index.commit().unwrap();
    assert_eq!(found(&index, "deposit"), ["c3"]);
}

#[test]
fn hostile_input_is_just_words() {
    let index = support_inbox();
    for text in ["\"", "(", "a:b", "*", "subject:提币", "提币 AND (", "+-!^~[]{}", "\u{0}", "🙂"] {
        assert!(index.search(&query(text)).is_ok(), "{text:?}");
    }
    assert_eq!(found(&index, "\"提币\""), found(&index, "提币"));
    let long = "提币 withdrawal ".repeat(10_000);
    assert!(index.search(&query(&long)).is_ok());
    assert!(found(&index, "*").is_empty());
}

#[test]
fn empty_text_is_refused() {
    let index = support_inbox();
    for text in ["", "   ", "\n\t"] {
        assert!(matches!(index.search(&query(text)), Err(SearchError::EmptyQuery)), "{text:?}");
    }
}

#[test]
fn snippets_highlight_the_match() {
    let index = support_inbox();
    let hit = index.search(&query("到账")).unwrap().into_iter().find(|hit| hit.id == "c1").unwrap();
    assert!(!hit.highlights.is_empty());
    for &(start, end) in &hit.highlights {
        assert_eq!(&hit.snippet[start..end], "到账");
    }

    let traditional = index.search(&query("忘记密码")).unwrap().remove(0);
    let marked: Vec<&str> = traditional.highlights.iter().map(|&(start, end)| &traditional.snippet[start..end]).collect();
    assert!(marked.contains(&"忘記密碼"), "{traditional:?}");
}

#[test]
fn a_long_thread_gets_a_snippet_from_where_it_matches() {
    let filler = "前面聊了很多别的事情。";
    let long = format!("{}最后才说到提幣的问题", filler.repeat(1_500));
    let endless = format!("{}最后才说到提幣的问题", filler.repeat(3_000));
    let index = index_of(vec![conversation("long", 2, "Hello", &long), conversation("endless", 1, "Hello", &endless)]);
    let hits = index.search(&query("提币")).unwrap();
    assert_eq!(hits.len(), 2);
    let marked: Vec<&str> = hits[0].highlights.iter().map(|&(start, end)| &hits[0].snippet[start..end]).collect();
    assert_eq!(marked, ["提幣"]);
    assert!(hits[1].highlights.is_empty(), "a match past the scanned text shows the start instead");
    assert!(hits[1].snippet.starts_with(filler));

    let windows: Vec<&str> = windows(&long, SNIPPET_WINDOW_BYTES).collect();
    assert!(windows.len() > 1 && windows.iter().all(|window| window.len() <= SNIPPET_WINDOW_BYTES));
    assert!(long.ends_with(windows[windows.len() - 1]));
}

#[test]
fn contacts_are_found_by_name_and_by_the_keys_of_their_identities() {
    let mut alice = conversation("c1", 1, "Deposit", "help");
    alice.contact = "Alice Wang".to_string();
    alice.contact_keys = vec!["k1.aaaa".to_string(), "k1.bbbb".to_string()];
    let mut bob = conversation("c2", 2, "Deposit", "help");
    bob.contact_keys = vec!["k1.cccc".to_string()];
    let index = index_of(vec![alice, bob, conversation("c3", 3, "Deposit", "help")]);
    assert_eq!(found(&index, "wang"), ["c1"]);
    let by_key = |text: &str, keys: &[&str]| {
        ids(&index, &ConversationQuery { contact_keys: keys.iter().map(|k| k.to_string()).collect(), ..query(text) })
    };
    // The key matches even though the query's words are nowhere in the text.
    assert_eq!(by_key("alice@example.com", &["k1.bbbb", "k1.zzzz"]), ["c1"]);
    assert!(by_key("alice@example.com", &["k1.zzzz"]).is_empty());
    // A key match ranks above conversations that only share a word.
    assert_eq!(by_key("deposit", &["k1.cccc"])[0], "c2");
    // Words never search the keys.
    assert!(found(&index, "k1.aaaa").is_empty());
}

#[test]
fn the_limit_is_respected() {
    let index = index_of((0..30).map(|n| conversation(&format!("c{n}"), n, "Deposit", "late")).collect());
    assert_eq!(index.search(&ConversationQuery { limit: 5, ..query("deposit") }).unwrap().len(), 5);
    assert_eq!(index.search(&ConversationQuery { limit: 0, ..query("deposit") }).unwrap().len(), DEFAULT_HITS);
}

#[test]
fn an_index_on_disk_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = ConversationIndex::open(dir.path()).unwrap();
        index.upsert(&[conversation("c1", 1, "提币", "到账")]).unwrap();
        index.commit().unwrap();
    }
    let index = ConversationIndex::open(dir.path()).unwrap();
    assert_eq!(found(&index, "提幣"), ["c1"]);
}

#[test]
fn an_index_with_another_schema_must_be_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let mut builder = Schema::builder();
    builder.add_text_field("something_else", STRING);
    Index::create_in_dir(dir.path(), builder.build()).unwrap();
    let error = ConversationIndex::open(dir.path()).err().unwrap();
    assert!(matches!(error, SearchError::IncompatibleIndex { .. }), "{error}");
    assert!(error.to_string().contains("rebuild"));
}

#[test]
fn shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ConversationIndex>();

    let index = Arc::new(ConversationIndex::in_memory().unwrap());
    let writers: Vec<_> = (0..4)
        .map(|n| {
            let index = Arc::clone(&index);
            std::thread::spawn(move || {
                index.upsert(&[conversation(&format!("c{n}"), n, "提币", "到账")]).unwrap();
                index.commit().unwrap();
                index.search(&query("提币")).unwrap().len()
            })
        })
        .collect();
    for writer in writers {
        assert!(writer.join().unwrap() >= 1);
    }
    assert_eq!(index.num_docs(), 4);
}
