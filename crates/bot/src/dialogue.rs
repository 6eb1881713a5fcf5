//! One bot turn: given what the conversation has been so far (a [`State`] the caller keeps) and
//! the customer's new message, what the bot says, whether it hands the conversation to a person,
//! and whether the customer's question is settled. No I/O: the help center and the official-channel
//! check come in through [`Knowledge`].

use crate::classifier::{Classifier, Prediction};
use crate::flows::{Flow, Flows, Then, fill};
use crate::intents::{self, Kind};
use crate::language::{Lang, detect};
use crate::slots::{Read, SlotKind, read};
use crate::texts::{Phrase, button, text};
use kefu_search::analysis::fold;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Below this confidence a message is not understood.
pub const DEFAULT_THRESHOLD: f32 = 0.4;
/// In a flow, a message that fills no slot leaves the flow only for an intent this certain.
const SWITCH_CONFIDENCE: f32 = 0.6;
/// Messages in a row the bot did not understand before it hands off.
const MAX_MISSES: u8 = 2;
/// A slot the customer did not give after being asked this many times is skipped.
const MAX_ASKS: u8 = 2;

/// A help-center article the bot can point to.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Article {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub url: String,
}

/// What the official-channel check says of a link, e-mail, phone number or account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Official,
    NotOfficial,
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Official => "official",
            Self::NotOfficial => "not_official",
            Self::Unknown => "unknown",
        }
    }
}

/// What the bot may look up.
pub trait Knowledge {
    /// The best published articles for `query` in `lang`, best first.
    fn articles(&self, query: &str, lang: Lang, limit: usize) -> Vec<Article>;
    fn official(&self, target: &str) -> Verdict;
}

/// What the bot remembers of a conversation between turns; the caller stores it as JSON.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct State {
    pub language: Option<Lang>,
    pub flow: Option<FlowState>,
    /// Messages in a row not understood.
    pub misses: u8,
    /// The last answer asked "did this help?" and waits for the buttons.
    pub awaiting_feedback: bool,
    /// Articles still to offer if the last one did not help.
    pub alternates: Vec<Article>,
    /// The bot has answered something in this conversation.
    pub answered: bool,
    /// The intent being served, its confidence and the message that raised it.
    pub intent: Option<String>,
    pub confidence: f32,
    pub question: String,
    /// Slots collected by the last flow.
    pub slots: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FlowState {
    pub id: String,
    pub slots: BTreeMap<String, String>,
    /// Slots given up on (asked twice, never given).
    pub skipped: BTreeSet<String>,
    pub asking: Option<String>,
    pub asks: u8,
}

/// The customer's new message and what is known of them.
pub struct Turn<'a> {
    pub text: &'a str,
    /// VIP customers go to a person at once.
    pub vip: bool,
    /// Their language setting, when the message alone does not tell.
    pub language_hint: Option<Lang>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Message {
    pub text: String,
    /// Quick replies: pressing one sends its text.
    pub buttons: Vec<String>,
    pub article: Option<Article>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    /// The customer asked for a person.
    Asked,
    /// Two messages in a row not understood.
    LowConfidence,
    /// A complaint, or strong negative wording.
    Angry,
    Vip,
    /// Money or access at stake (account_locked, twofa_reset, security_hacked, withdrawal_failed…).
    Sensitive,
    /// The answers offered did not help.
    NotHelped,
    /// The help center has nothing on it.
    NoAnswer,
}

impl HandoffReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asked => "asked",
            Self::LowConfidence => "low_confidence",
            Self::Angry => "angry",
            Self::Vip => "vip",
            Self::Sensitive => "sensitive",
            Self::NotHelped => "not_helped",
            Self::NoAnswer => "no_answer",
        }
    }

    fn phrase(self) -> Phrase {
        match self {
            Self::Asked => Phrase::HandoffAsked,
            Self::LowConfidence => Phrase::HandoffLowConfidence,
            Self::Angry => Phrase::HandoffAngry,
            Self::Vip => Phrase::HandoffVip,
            Self::Sensitive => Phrase::HandoffSensitive,
            Self::NotHelped => Phrase::HandoffNotHelped,
            Self::NoAnswer => Phrase::HandoffNoAnswer,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Handoff {
    pub reason: HandoffReason,
    pub intent: Option<String>,
    pub confidence: f32,
    pub slots: BTreeMap<String, String>,
    /// One line for the agent: intent, what was collected, the customer's words.
    pub summary: String,
}

/// What the turn was, for the bot's analytics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// An article was offered.
    Answered,
    /// A flow asked for something, or finished with its answer.
    Flow,
    SmallTalk,
    NotUnderstood,
    /// The customer said whether an answer helped.
    Feedback,
    Handoff,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::Flow => "flow",
            Self::SmallTalk => "small_talk",
            Self::NotUnderstood => "not_understood",
            Self::Feedback => "feedback",
            Self::Handoff => "handoff",
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Reply {
    pub language: Lang,
    pub prediction: Prediction,
    pub messages: Vec<Message>,
    pub handoff: Option<Handoff>,
    /// The customer confirmed the answer helped: the conversation can be resolved.
    pub resolved: bool,
    pub outcome: Outcome,
}

/// The bot: a classifier, flows and the confidence below which it does not answer.
#[derive(Clone)]
pub struct Bot {
    pub classifier: Arc<Classifier>,
    pub flows: Arc<Flows>,
    pub threshold: f32,
}

/// Strongly negative wording: the customer is angry, whatever they ask.
const ANGRY_WORDS: &[&str] = &[
    "垃圾",
    "黑平台",
    "坑人",
    "破平台",
    "什么破",
    "还我钱",
    "退钱",
    "他妈",
    "妈的",
    "傻逼",
    "去你的",
    "差劲",
    "气死",
    "骗子平台",
    "worst",
    "terrible",
    "useless",
    "garbage",
    "trash",
    "ridiculous",
    "fuck",
    "wtf",
    "shit",
    "unacceptable",
    "pathetic",
    "incompetent",
    "money back",
];

pub fn angry(text: &str) -> bool {
    let folded = fold(text).to_lowercase();
    ANGRY_WORDS.iter().any(|w| folded.contains(&fold(w)))
}

struct Ctx<'a> {
    lang: Lang,
    prediction: Prediction,
    kb: &'a dyn Knowledge,
}

impl Bot {
    pub fn new(classifier: Arc<Classifier>, flows: Arc<Flows>) -> Self {
        Self { classifier, flows, threshold: DEFAULT_THRESHOLD }
    }

    /// The bot's answer to `turn`, updating `state`.
    pub fn respond(&self, state: &mut State, turn: &Turn, kb: &dyn Knowledge) -> Reply {
        let lang = detect(turn.text, state.language.or(turn.language_hint));
        state.language = Some(lang);
        let prediction = self.classifier.classify(turn.text);
        let ctx = Ctx { lang, prediction, kb };

        if let Some(b) = button(turn.text) {
            match b {
                Phrase::ButtonHuman => return self.handoff(state, &ctx, HandoffReason::Asked, Vec::new()),
                Phrase::ButtonHelped if state.awaiting_feedback => {
                    state.awaiting_feedback = false;
                    state.alternates.clear();
                    let messages = vec![say(text(Phrase::Helped, lang))];
                    return Reply { resolved: true, ..reply(&ctx, messages, Outcome::Feedback) };
                }
                Phrase::ButtonNotHelped if state.awaiting_feedback => {
                    if state.alternates.is_empty() {
                        state.awaiting_feedback = false;
                        return self.handoff(state, &ctx, HandoffReason::NotHelped, Vec::new());
                    }
                    let next = state.alternates.remove(0);
                    let messages = offer(lang, Phrase::SecondIntro, next);
                    return reply(&ctx, messages, Outcome::Feedback);
                }
                _ => {}
            }
        }
        let intent = ctx.prediction.intent.clone();
        let understood = ctx.prediction.confidence >= self.threshold && intent != "out_of_scope";
        if understood {
            state.intent = Some(intent.clone());
            state.confidence = ctx.prediction.confidence;
            state.question = turn.text.chars().take(160).collect();
        }
        if turn.vip {
            return self.handoff(state, &ctx, HandoffReason::Vip, Vec::new());
        }
        if angry(turn.text) || (understood && intents::kind(&intent) == Kind::Complaint) {
            return self.handoff(state, &ctx, HandoffReason::Angry, Vec::new());
        }
        state.awaiting_feedback = false;

        if let Some(mut fs) = state.flow.take()
            && let Some(flow) = self.flows.by_id(&fs.id)
        {
            let filled = take_slots(flow, &mut fs, turn.text);
            let switch = understood && ctx.prediction.confidence >= SWITCH_CONFIDENCE && !flow.intents.contains(&intent);
            if filled.any || filled.invalid.is_some() || !switch {
                state.misses = 0;
                return self.advance(state, &ctx, flow, fs, filled);
            }
        }

        if !understood {
            state.misses += 1;
            if state.misses >= MAX_MISSES {
                return self.handoff(state, &ctx, HandoffReason::LowConfidence, Vec::new());
            }
            if intent != "out_of_scope"
                && let Some((first, rest)) = split_first(kb.articles(turn.text, lang, 3))
            {
                state.alternates = rest;
                state.awaiting_feedback = true;
                return reply(&ctx, offer(lang, Phrase::MaybeIntro, first), Outcome::NotUnderstood);
            }
            let phrase = if intent == "out_of_scope" { Phrase::OutOfScope } else { Phrase::NotUnderstood };
            let m = Message { text: text(phrase, lang).into(), buttons: vec![text(Phrase::ButtonHuman, lang).into()], article: None };
            return reply(&ctx, vec![m], Outcome::NotUnderstood);
        }
        state.misses = 0;

        if let Some(flow) = self.flows.for_intent(&intent) {
            let mut fs = FlowState { id: flow.id.clone(), ..Default::default() };
            let filled = take_slots(flow, &mut fs, turn.text);
            return self.advance(state, &ctx, flow, fs, filled);
        }
        match intents::kind(&intent) {
            Kind::Greeting => reply(&ctx, vec![say(text(Phrase::Greeting, lang))], Outcome::SmallTalk),
            Kind::ThanksBye => {
                let resolved = state.answered;
                Reply { resolved, ..reply(&ctx, vec![say(text(Phrase::Welcome, lang))], Outcome::SmallTalk) }
            }
            Kind::TalkToHuman => self.handoff(state, &ctx, HandoffReason::Asked, Vec::new()),
            Kind::Complaint => self.handoff(state, &ctx, HandoffReason::Angry, Vec::new()),
            Kind::Sensitive => self.handoff(state, &ctx, HandoffReason::Sensitive, Vec::new()),
            Kind::OutOfScope | Kind::Informational => {
                let found = self.find_articles(turn.text, &intent, lang, kb);
                match split_first(found) {
                    Some((first, rest)) => {
                        state.alternates = rest;
                        state.awaiting_feedback = true;
                        state.answered = true;
                        reply(&ctx, offer(lang, Phrase::AnswerIntro, first), Outcome::Answered)
                    }
                    None => self.handoff(state, &ctx, HandoffReason::NoAnswer, Vec::new()),
                }
            }
        }
    }

    /// Articles for a question: those found both by the customer's words and by the intent's
    /// topic first, then the rest of each, at most three.
    fn find_articles(&self, question: &str, intent: &str, lang: Lang, kb: &dyn Knowledge) -> Vec<Article> {
        let by_words = kb.articles(question, lang, 3);
        let topic = intents::topic(intent, lang);
        let by_topic = if topic.is_empty() { Vec::new() } else { kb.articles(topic, lang, 3) };
        let mut out: Vec<Article> = by_words.iter().filter(|a| by_topic.iter().any(|b| b.id == a.id)).cloned().collect();
        for a in by_words.into_iter().chain(by_topic) {
            if !out.iter().any(|b| b.id == a.id) {
                out.push(a);
            }
        }
        out.truncate(3);
        out
    }

    /// Asks for the next missing slot, or finishes the flow.
    fn advance(&self, state: &mut State, ctx: &Ctx, flow: &Flow, mut fs: FlowState, filled: Filled) -> Reply {
        let lang = ctx.lang;
        let mut lead = Vec::new();
        if let Some(kind) = filled.invalid {
            lead.push(say(text(
                match kind {
                    SlotKind::Txid => Phrase::InvalidTxid,
                    SlotKind::Amount => Phrase::InvalidAmount,
                    _ => Phrase::NotRecognised,
                },
                lang,
            )));
        }
        let next = flow.slots.iter().find(|s| {
            !fs.slots.contains_key(&s.name) && !fs.skipped.contains(&s.name) && !s.unless.iter().any(|u| fs.slots.contains_key(u))
        });
        if let Some(slot) = next {
            if fs.asking.as_deref() == Some(slot.name.as_str()) {
                if filled.invalid.is_none() {
                    lead.push(say(text(Phrase::NotRecognised, lang)));
                }
            } else {
                fs.asking = Some(slot.name.clone());
                fs.asks = 0;
            }
            fs.asks += 1;
            let mut messages = lead;
            messages.push(say(slot.prompt.get(lang)));
            if fs.asks > 1 {
                messages.last_mut().into_iter().for_each(|m| m.buttons.push(text(Phrase::ButtonHuman, lang).into()));
            }
            state.flow = Some(fs);
            return reply(ctx, messages, Outcome::Flow);
        }

        // Every slot is in: the verdicts of links and accounts, then the answer.
        let mut values = fs.slots.clone();
        for s in flow.slots.iter().filter(|s| s.kind == SlotKind::LinkOrAccount) {
            if let Some(v) = fs.slots.get(&s.name) {
                values.insert(format!("{}_verdict", s.name), ctx.kb.official(v).as_str().into());
            }
        }
        state.slots = values.clone();
        let mut body = fill(flow.answer.get(lang), &values);
        for n in flow.notes.iter().filter(|n| n.when.holds(&values)) {
            body.push_str("\n\n");
            body.push_str(&fill(n.text.get(lang), &values));
        }
        let articles = flow.search.as_ref().map(|q| ctx.kb.articles(&fill(q.get(lang), &values), lang, 2)).unwrap_or_default();
        let mut messages = lead;
        match flow.then {
            Then::AskHelped => {
                let mut articles = articles.into_iter();
                messages.push(Message { text: body, buttons: feedback_buttons(lang), article: articles.next() });
                state.alternates = articles.collect();
                state.awaiting_feedback = true;
                state.answered = true;
                reply(ctx, messages, Outcome::Flow)
            }
            Then::Handoff => {
                messages.push(Message { text: body, buttons: Vec::new(), article: articles.into_iter().next() });
                self.handoff(state, ctx, HandoffReason::Sensitive, messages)
            }
            Then::HandoffAsked => {
                messages.push(say(&body));
                self.handoff(state, ctx, HandoffReason::Asked, messages)
            }
        }
    }

    /// Hands off: what was said so far in this turn (`before`), then why a person takes over
    /// (unless a flow already said so), and the case for the agent.
    fn handoff(&self, state: &mut State, ctx: &Ctx, reason: HandoffReason, mut before: Vec<Message>) -> Reply {
        let lang = ctx.lang;
        if before.is_empty() || reason == HandoffReason::Sensitive {
            before.push(say(text(reason.phrase(), lang)));
        }
        if let Some(fs) = state.flow.take() {
            state.slots.extend(fs.slots);
        }
        state.awaiting_feedback = false;
        state.alternates.clear();
        let intent = state.intent.clone().or_else(|| Some(ctx.prediction.intent.clone()));
        let confidence = if state.intent.is_some() { state.confidence } else { ctx.prediction.confidence };
        let mut parts = Vec::new();
        if let Some(i) = &intent {
            parts.push(format!("{i} ({:.0}%)", confidence * 100.0));
        }
        let slots: Vec<String> = state.slots.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if !slots.is_empty() {
            parts.push(slots.join(", "));
        }
        if !state.question.is_empty() {
            parts.push(format!("\"{}\"", state.question));
        }
        let handoff = Handoff { reason, intent, confidence, slots: state.slots.clone(), summary: parts.join(" · ") };
        Reply { handoff: Some(handoff), ..reply(ctx, before, Outcome::Handoff) }
    }
}

/// What one message gave a flow.
struct Filled {
    any: bool,
    /// The slot asked for was answered with something invalid.
    invalid: Option<SlotKind>,
}

/// Reads every slot the flow still lacks out of `text`. The slot just asked for takes bare
/// answers; a slot asked for and not given is re-asked, then skipped.
fn take_slots(flow: &Flow, fs: &mut FlowState, text: &str) -> Filled {
    let mut any = false;
    let mut invalid = None;
    for s in &flow.slots {
        if fs.slots.contains_key(&s.name) {
            continue;
        }
        let asked = fs.asking.as_deref() == Some(s.name.as_str());
        match read(s.kind, text, asked) {
            Read::Value(v) => {
                fs.slots.insert(s.name.clone(), v);
                fs.skipped.remove(&s.name);
                any = true;
            }
            Read::Invalid if asked => invalid = Some(s.kind),
            _ => {}
        }
    }
    if let Some(asking) = fs.asking.clone()
        && !fs.slots.contains_key(&asking)
        && invalid.is_none()
        && (any || fs.asks >= MAX_ASKS)
    {
        // They answered something else, or could not answer twice: go on without it.
        fs.skipped.insert(asking);
    }
    Filled { any, invalid }
}

fn say(t: &str) -> Message {
    Message { text: t.to_string(), buttons: Vec::new(), article: None }
}

fn feedback_buttons(lang: Lang) -> Vec<String> {
    [Phrase::ButtonHelped, Phrase::ButtonNotHelped, Phrase::ButtonHuman].iter().map(|p| text(*p, lang).to_string()).collect()
}

/// An article with a short answer drawn from it, and "did this help?".
fn offer(lang: Lang, intro: Phrase, a: Article) -> Vec<Message> {
    let mut body = format!("{}\n{}", text(intro, lang), a.title);
    if !a.summary.is_empty() {
        body.push('\n');
        body.push_str(&a.summary);
    }
    vec![
        Message { text: body, buttons: Vec::new(), article: Some(a) },
        Message { text: text(Phrase::AskHelped, lang).into(), buttons: feedback_buttons(lang), article: None },
    ]
}

fn split_first(mut v: Vec<Article>) -> Option<(Article, Vec<Article>)> {
    if v.is_empty() {
        return None;
    }
    let first = v.remove(0);
    Some((first, v))
}

fn reply(ctx: &Ctx, messages: Vec<Message>, outcome: Outcome) -> Reply {
    Reply { language: ctx.lang, prediction: ctx.prediction.clone(), messages, handoff: None, resolved: false, outcome }
}
