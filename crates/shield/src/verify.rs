//! The official verification service: is this URL, e-mail address, Telegram account, phone
//! number or agent id the exchange's own?

use crate::links::{Reason, Verdict};
use crate::{Official, Shield};
use serde::Serialize;
use unicode_security::confusable_detection::skeleton;

/// What a query was taken for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryKind {
    Url,
    Domain,
    Email,
    Telegram,
    Phone,
    AgentId,
}

/// The answer, as `GET /api/v1/verify` and `kefu verify --json` print it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    pub query: String,
    pub kind: QueryKind,
    pub verdict: Verdict,
    /// The official domain, address or account it imitates.
    pub lookalike_of: Option<String>,
    pub reason: Option<Reason>,
}

const MAX_QUERY: usize = 512;

/// Checks every configured entry; the first bad one is the error.
pub(crate) fn check(o: &Official) -> Result<(), String> {
    for e in &o.emails {
        if !is_email(e.trim()) {
            return Err(format!("{e:?} is not an e-mail address"));
        }
    }
    for t in &o.telegram {
        if telegram_handle(t).is_none() {
            return Err(format!("{t:?} is not a Telegram account (@name, 5 to 32 letters, digits or _)"));
        }
    }
    for p in &o.phones {
        if digits(p).len() < 5 || p.chars().any(|c| !(c.is_ascii_digit() || " +-().".contains(c))) {
            return Err(format!("{p:?} is not a phone number"));
        }
    }
    for a in &o.agent_ids {
        if !is_agent_id(a.trim()) {
            return Err(format!("{a:?} is not an agent id (1 to 64 letters, digits, - or _)"));
        }
    }
    Ok(())
}

pub(crate) fn verify(shield: &Shield, query: &str) -> Result<Verification, String> {
    let q = query.trim();
    if q.is_empty() {
        return Err("say what to verify: a link, e-mail address, Telegram account, phone number or agent id".into());
    }
    if q.chars().count() > MAX_QUERY {
        return Err(format!("at most {MAX_QUERY} characters"));
    }
    let o = shield.official();
    let answer = |kind, (verdict, lookalike_of, reason): (Verdict, Option<String>, Option<Reason>)| Verification {
        query: q.to_string(),
        kind,
        verdict,
        lookalike_of,
        reason,
    };
    let lower = q.to_lowercase();
    if let Some(handle) = telegram_query(&lower) {
        return Ok(answer(QueryKind::Telegram, judge_handle(shield, &handle)));
    }
    let address = lower.strip_prefix("mailto:").unwrap_or(&lower);
    if is_email(address) {
        return Ok(answer(QueryKind::Email, judge_email(shield, address)));
    }
    if is_agent_id(q) && o.agent_ids.iter().any(|a| a.trim().eq_ignore_ascii_case(q)) {
        return Ok(answer(QueryKind::AgentId, (Verdict::Official, None, None)));
    }
    let phone_chars = q.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if phone_chars && digits(q).len() >= 5 {
        let official = o.phones.iter().any(|p| same_phone(p, q));
        return Ok(answer(QueryKind::Phone, (if official { Verdict::Official } else { Verdict::Unknown }, None, None)));
    }
    let schemed = lower.contains("://") || lower.starts_with("www.");
    if (schemed || q.contains(['.', '．', '。']))
        && !q.contains(char::is_whitespace)
        && let Some(link) = shield.domains().link_for(q)
    {
        let kind = if schemed || q.contains('/') { QueryKind::Url } else { QueryKind::Domain };
        return Ok(answer(kind, (link.verdict, link.lookalike_of, link.reason)));
    }
    if is_agent_id(q) {
        return Ok(answer(QueryKind::AgentId, (Verdict::Unknown, None, None)));
    }
    Err("not a link, e-mail address, Telegram account (@name), phone number or agent id".into())
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else { return false };
    !local.is_empty() && !local.contains(char::is_whitespace) && domain.contains('.') && crate::links::host_of(domain).is_some()
}

fn is_agent_id(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `@name`, `t.me/name`, `https://t.me/name`: the lower-case name.
fn telegram_query(lower: &str) -> Option<String> {
    let rest = lower.trim_start_matches("https://").trim_start_matches("http://");
    let name = ["t.me/", "telegram.me/", "telegram.dog/"]
        .iter()
        .find_map(|p| rest.strip_prefix(p))
        .map(|n| n.trim_end_matches('/'))
        .or_else(|| lower.strip_prefix('@'))?;
    telegram_handle(name)
}

/// A Telegram user name without `@`, lower case (Telegram ignores case).
fn telegram_handle(s: &str) -> Option<String> {
    let name = s.trim().trim_start_matches('@').to_lowercase();
    let ok = (5..=32).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then_some(name)
}

fn judge_handle(shield: &Shield, handle: &str) -> (Verdict, Option<String>, Option<Reason>) {
    let o = shield.official();
    let handles: Vec<(String, String)> =
        o.telegram.iter().filter_map(|t| telegram_handle(t).map(|h| (format!("@{}", t.trim().trim_start_matches('@')), h))).collect();
    if handles.iter().any(|(_, h)| h == handle) {
        return (Verdict::Official, None, None);
    }
    let bare = handle.replace('_', "");
    let skel = skeleton_of(handle);
    for (shown, h) in &handles {
        let hb = h.replace('_', "");
        let reason = if skel == skeleton_of(h) {
            Some(Reason::Homoglyph)
        } else if bare == hb || strsim::damerau_levenshtein(handle, h) <= 2 {
            Some(Reason::Typo)
        } else if bare.contains(&hb) {
            Some(Reason::AddedWords)
        } else {
            None
        };
        if reason.is_some() {
            return (Verdict::Lookalike, Some(shown.clone()), reason);
        }
    }
    // A handle built on the exchange's name: `@nebula_ex_support`.
    match shield.domains().named_in(&bare) {
        Some(d) => (Verdict::Lookalike, Some(d.to_string()), Some(Reason::AddedWords)),
        None => (Verdict::Unknown, None, None),
    }
}

fn judge_email(shield: &Shield, address: &str) -> (Verdict, Option<String>, Option<Reason>) {
    let o = shield.official();
    if o.emails.iter().any(|e| e.trim().eq_ignore_ascii_case(address)) {
        return (Verdict::Official, None, None);
    }
    let (local, domain) = address.rsplit_once('@').unwrap_or(("", address));
    let Some(host) = crate::links::host_of(domain) else { return (Verdict::Unknown, None, None) };
    match shield.domains().judge(&host) {
        // Any address at an official domain is the exchange's, listed or not.
        (Verdict::Official, ..) => (Verdict::Official, None, None),
        (Verdict::Lookalike, of, reason) => (Verdict::Lookalike, of, reason),
        (Verdict::Unknown, ..) => {
            // The exchange's name as the user name at someone else's mail: `nebula.ex@gmail.com`.
            let bare: String = local.chars().filter(|c| c.is_alphanumeric()).collect();
            match shield.domains().named_in(&bare) {
                Some(d) => (Verdict::Lookalike, Some(d.to_string()), Some(Reason::AddedWords)),
                None => (Verdict::Unknown, None, None),
            }
        }
    }
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The same number, with or without its country code.
fn same_phone(a: &str, b: &str) -> bool {
    let (a, b) = (digits(a), digits(b));
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.len() >= 7 && long.ends_with(&short) && long.len() - short.len() <= 3
}

fn skeleton_of(s: &str) -> String {
    skeleton(s).collect::<String>().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shield() -> Shield {
        let official = Official {
            domains: vec!["nebula-ex.com".into()],
            emails: vec!["support@nebula-ex.com".into()],
            telegram: vec!["@NebulaExchange".into()],
            phones: vec!["+86 400 123 4567".into()],
            agent_ids: vec!["NBX-1024".into()],
        };
        Shield::new(official, &[] as &[&str], Vec::new()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn judge(q: &str) -> (QueryKind, Verdict, Option<String>) {
        let v = shield().verify(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        (v.kind, v.verdict, v.lookalike_of)
    }

    #[test]
    fn each_kind_is_recognised_and_judged() {
        assert_eq!(judge("https://www.nebula-ex.com/login"), (QueryKind::Url, Verdict::Official, None));
        assert_eq!(judge("nebula-ex.net"), (QueryKind::Domain, Verdict::Lookalike, Some("nebula-ex.com".into())));
        assert_eq!(judge("Support@Nebula-Ex.com"), (QueryKind::Email, Verdict::Official, None));
        assert_eq!(judge("nebula.ex@gmail.com"), (QueryKind::Email, Verdict::Lookalike, Some("nebula-ex.com".into())));
        assert_eq!(judge("@nebulaexchange"), (QueryKind::Telegram, Verdict::Official, None));
        assert_eq!(judge("https://t.me/NebulaExchange_Help"), (QueryKind::Telegram, Verdict::Lookalike, Some("@NebulaExchange".into())));
        assert_eq!(judge("400-123-4567"), (QueryKind::Phone, Verdict::Official, None));
        assert_eq!(judge("+1 555 010 9999"), (QueryKind::Phone, Verdict::Unknown, None));
        assert_eq!(judge("nbx-1024"), (QueryKind::AgentId, Verdict::Official, None));
        assert_eq!(judge("NBX-9999"), (QueryKind::AgentId, Verdict::Unknown, None));
    }

    #[test]
    fn nonsense_and_bad_configuration_are_errors() {
        assert!(shield().verify("  ").is_err());
        assert!(shield().verify("hello there").is_err());
        let bad = Official { telegram: vec!["@no".into()], ..Default::default() };
        assert!(Shield::new(bad, &[] as &[&str], Vec::new()).is_err());
    }
}
