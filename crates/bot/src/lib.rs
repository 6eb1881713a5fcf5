//! Kefu's support bot, a pure core: intent classification, slot reading, guided flows declared
//! as data, and the turn-by-turn dialogue with its handoff rules. No I/O of its own: the caller
//! stores the dialogue state and gives it the help center and the official-channel check.

pub mod classifier;
pub mod dialogue;
pub mod eval;
pub mod examples;
pub mod features;
pub mod flows;
pub mod intents;
pub mod language;
pub mod slots;
pub mod texts;

pub use classifier::{Classifier, Prediction, TrainError};
pub use dialogue::{Article, Bot, Handoff, HandoffReason, Knowledge, Message, Outcome, Reply, State, Turn, Verdict};
pub use examples::Example;
pub use flows::Flows;
pub use language::Lang;
