//! Guided flows, declared as data (`flows.yaml`, or a file an operator points to): which intents
//! start a flow, which slots it asks for and how, what it answers once it has them, and whether
//! it then asks "did this help?" or hands the case to a person.

use crate::language::Lang;
use crate::slots::{SlotKind, minutes_ago};
use std::collections::BTreeMap;

/// The flows that ship with Kefu.
pub const SHIPPED: &str = include_str!("../flows.yaml");

/// A text in each customer language.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Texts {
    #[serde(rename = "zh-CN")]
    pub zh_cn: String,
    #[serde(rename = "zh-TW")]
    pub zh_tw: String,
    pub en: String,
}

impl Texts {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::ZhCn => &self.zh_cn,
            Lang::ZhTw => &self.zh_tw,
            Lang::En => &self.en,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    pub id: String,
    /// The intents that start it.
    pub intents: Vec<String>,
    #[serde(default)]
    pub slots: Vec<Slot>,
    /// Said once every slot is filled; `{slot}` is replaced by its value.
    pub answer: Texts,
    /// Said after the answer when their condition holds.
    #[serde(default)]
    pub notes: Vec<Note>,
    /// Help-center search for an article to link, per language (`{slot}` allowed).
    #[serde(default)]
    pub search: Option<Texts>,
    pub then: Then,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    pub name: String,
    pub kind: SlotKind,
    pub prompt: Texts,
    /// Not asked for when any of these slots is filled (a transaction id makes the amount and
    /// time unnecessary).
    #[serde(default)]
    pub unless: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub when: Condition,
    pub text: Texts,
}

/// Every field given must hold. `slot` names a slot, or `<slot>_verdict` for what the official
/// channel check said of a link or account slot (`official`, `not_official`, `unknown`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub slot: String,
    #[serde(default, rename = "in")]
    pub in_: Option<Vec<String>>,
    #[serde(default)]
    pub filled: Option<bool>,
    #[serde(default)]
    pub older_than_minutes: Option<u32>,
    #[serde(default)]
    pub younger_than_minutes: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Then {
    /// Ask whether the answer helped (with a way to a person).
    AskHelped,
    /// Hand the prepared case to a person: money or access is at stake.
    Handoff,
    /// Hand off because the customer asked for a person.
    HandoffAsked,
}

impl Condition {
    pub fn holds(&self, slots: &BTreeMap<String, String>) -> bool {
        let value = slots.get(&self.slot);
        if let Some(want) = self.filled
            && value.is_some() != want
        {
            return false;
        }
        if let Some(list) = &self.in_
            && !value.is_some_and(|v| list.iter().any(|x| x.eq_ignore_ascii_case(v)))
        {
            return false;
        }
        let age = value.and_then(|v| minutes_ago(v));
        if let Some(m) = self.older_than_minutes
            && age.is_none_or(|a| a <= m)
        {
            return false;
        }
        if let Some(m) = self.younger_than_minutes
            && age.is_none_or(|a| a >= m)
        {
            return false;
        }
        true
    }
}

/// `template` with each `{name}` replaced by the slot's value (an empty slot by "-").
pub fn fill(template: &str, slots: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if after[..close].bytes().all(|b| b.is_ascii_lowercase() || b == b'_') => {
                out.push_str(slots.get(&after[..close]).map_or("-", String::as_str));
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Flows by intent, checked.
#[derive(Debug, Clone, Default)]
pub struct Flows {
    flows: Vec<Flow>,
}

impl Flows {
    /// Parses and checks a flows file: every problem is reported, with the flow it is in.
    pub fn parse(yaml: &str) -> Result<Self, Vec<String>> {
        let flows: Vec<Flow> = serde_norway::from_str(yaml).map_err(|e| vec![e.to_string()])?;
        let mut errors = Vec::new();
        let mut seen_intents = BTreeMap::new();
        for f in &flows {
            let at = |m: String| format!("flow {}: {m}", f.id);
            if f.intents.is_empty() {
                errors.push(at("names no intent".into()));
            }
            for i in &f.intents {
                if !crate::examples::valid_intent_id(i) {
                    errors.push(at(format!("{i:?} is not an intent id")));
                } else if let Some(other) = seen_intents.insert(i.clone(), f.id.clone()) {
                    errors.push(at(format!("intent {i} already starts flow {other}")));
                }
            }
            let mut names: Vec<String> = Vec::new();
            for s in &f.slots {
                if names.contains(&s.name) {
                    errors.push(at(format!("slot {} is declared twice", s.name)));
                }
                names.push(s.name.clone());
                check_texts(&mut errors, &at, &format!("slot {} prompt", s.name), &s.prompt);
            }
            for s in &f.slots {
                for u in s.unless.iter().filter(|u| !names.contains(u)) {
                    errors.push(at(format!("slot {} names an unknown slot {u} in unless", s.name)));
                }
            }
            let known = |name: &str| names.iter().any(|n| n == name || format!("{n}_verdict") == name);
            let mut texts = vec![("answer".to_string(), &f.answer)];
            texts.extend(f.search.iter().map(|s| ("search".to_string(), s)));
            for (i, n) in f.notes.iter().enumerate() {
                if !known(&n.when.slot) {
                    errors.push(at(format!("note {} depends on an unknown slot {}", i + 1, n.when.slot)));
                }
                texts.push((format!("note {}", i + 1), &n.text));
            }
            for (what, t) in texts {
                check_texts(&mut errors, &at, &what, t);
                for lang in Lang::ALL {
                    for p in placeholders(t.get(lang)).filter(|p| !known(p)) {
                        errors.push(at(format!("{what} ({}) uses an unknown slot {{{p}}}", lang.as_str())));
                    }
                }
            }
        }
        if errors.is_empty() { Ok(Self { flows }) } else { Err(errors) }
    }

    pub fn shipped() -> Self {
        // Checked by a test; a bad shipped file would leave the bot without flows, not down.
        Self::parse(SHIPPED).unwrap_or_default()
    }

    pub fn for_intent(&self, intent: &str) -> Option<&Flow> {
        self.flows.iter().find(|f| f.intents.iter().any(|i| i == intent))
    }

    pub fn by_id(&self, id: &str) -> Option<&Flow> {
        self.flows.iter().find(|f| f.id == id)
    }
}

fn check_texts(errors: &mut Vec<String>, at: &dyn Fn(String) -> String, what: &str, t: &Texts) {
    for lang in Lang::ALL {
        if t.get(lang).trim().is_empty() {
            errors.push(at(format!("{what} has no {} text", lang.as_str())));
        }
    }
}

fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(p, _)| p))
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_flows_are_valid() {
        let flows = Flows::parse(SHIPPED).unwrap_or_else(|e| panic!("{e:?}"));
        for intent in ["deposit_missing", "withdrawal_pending", "account_locked", "twofa_reset", "phishing_report", "talk_to_human"] {
            assert!(flows.for_intent(intent).is_some(), "no flow for {intent}");
        }
    }

    #[test]
    fn a_flows_file_is_checked_as_a_whole() {
        let yaml = r#"
- id: a
  intents: [deposit_missing]
  slots:
    - {name: coin, kind: coin, prompt: {zh-CN: 币种?, zh-TW: 幣種?, en: Coin?}, unless: [txid]}
  answer: {zh-CN: "{coin} {network}", zh-TW: 好, en: ""}
  then: ask_helped
- id: b
  intents: [deposit_missing]
  answer: {zh-CN: 好, zh-TW: 好, en: ok}
  then: handoff
"#;
        let errors = Flows::parse(yaml).err().unwrap_or_default();
        assert_eq!(
            errors,
            vec![
                "flow a: slot coin names an unknown slot txid in unless",
                "flow a: answer has no en text",
                "flow a: answer (zh-CN) uses an unknown slot {network}",
                "flow b: intent deposit_missing already starts flow a",
            ]
        );
        assert!(Flows::parse("- id: x\n  intents: [y]\n  answer: 1\n  then: nowhere\n").is_err());
    }

    #[test]
    fn conditions_and_placeholders() {
        let slots: BTreeMap<String, String> =
            [("coin".to_string(), "XRP".to_string()), ("time".to_string(), "3 hours ago".to_string())].into();
        let c = |yaml: &str| serde_norway::from_str::<Condition>(yaml).unwrap_or_else(|e| panic!("{e}"));
        assert!(c("{slot: coin, in: [xrp, xlm]}").holds(&slots));
        assert!(!c("{slot: coin, in: [BTC]}").holds(&slots));
        assert!(c("{slot: time, older_than_minutes: 60}").holds(&slots));
        assert!(!c("{slot: time, younger_than_minutes: 60}").holds(&slots));
        assert!(c("{slot: txid, filled: false}").holds(&slots));
        assert_eq!(fill("{coin} via {network} {x", &slots), "XRP via - {x");
    }
}
