//! Labelled utterances: the training set that ships in the binary, files in the `text,intent,lang`
//! format (`kefu bot eval`), and the checks an example must pass.

use crate::language::Lang;

/// The training set that ships with Kefu, written for it: at least 40 utterances per intent of
/// `intents.md`, in zh-CN, zh-TW and English.
const TRAINING: [&str; 2] = [include_str!("../data/training-a.csv"), include_str!("../data/training-b.csv")];

/// Utterances never shown to the shipped model, to measure it (`kefu bot eval`, the tests).
pub const HELD_OUT: &str = include_str!("../data/eval.csv");

/// Longest example, in characters.
pub const MAX_EXAMPLE_CHARS: usize = 300;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Example {
    pub text: String,
    pub intent: String,
    pub lang: String,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ExampleError {
    #[error("line {line}: {message}")]
    Line { line: u64, message: String },
}

/// The shipped training set.
pub fn shipped() -> Vec<Example> {
    let mut out = Vec::new();
    for file in TRAINING {
        // The shipped files are checked by a test; a bad row here is a build defect, skipped.
        out.extend(parse_csv(file).unwrap_or_default());
    }
    out
}

/// Parses `text,intent,lang` rows after a header line naming those columns (in any order).
pub fn parse_csv(data: &str) -> Result<Vec<Example>, ExampleError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(data.as_bytes());
    let err = |line: u64, message: String| ExampleError::Line { line, message };
    let headers = reader.headers().map_err(|e| err(1, e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim().trim_start_matches('\u{feff}') == name);
    let (Some(t), Some(i), Some(l)) = (col("text"), col("intent"), col("lang")) else {
        return Err(err(1, "the header must name the columns text, intent and lang".into()));
    };
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let e = Example {
            text: record.get(t).unwrap_or_default().trim().to_string(),
            intent: record.get(i).unwrap_or_default().trim().to_string(),
            lang: record.get(l).unwrap_or_default().trim().to_string(),
        };
        check(&e).map_err(|m| err(line, m))?;
        out.push(e);
    }
    Ok(out)
}

/// Why `e` cannot be used, if it cannot.
pub fn check(e: &Example) -> Result<(), String> {
    if e.text.is_empty() {
        return Err("text is empty".into());
    }
    if e.text.chars().count() > MAX_EXAMPLE_CHARS {
        return Err(format!("text is longer than {MAX_EXAMPLE_CHARS} characters"));
    }
    if !valid_intent_id(&e.intent) {
        return Err(format!("intent {:?} must be 2 to 40 lowercase letters, digits or _", e.intent));
    }
    if Lang::parse(&e.lang).is_none() {
        return Err(format!("lang {:?} must be zh-CN, zh-TW or en", e.lang));
    }
    Ok(())
}

/// Intent ids are lowercase identifiers such as `deposit_missing`.
pub fn valid_intent_id(id: &str) -> bool {
    (2..=40).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_are_checked_and_name_their_line() {
        let ok = parse_csv("intent,text,lang\ngreeting,\"hi, anyone?\",en\n").unwrap_or_default();
        assert_eq!(ok, vec![Example { text: "hi, anyone?".into(), intent: "greeting".into(), lang: "en".into() }]);
        let bad = parse_csv("text,intent,lang\nhi,greeting,en\nhello,Greeting!,en\n");
        assert!(matches!(bad, Err(ExampleError::Line { line: 3, .. })), "{bad:?}");
        assert!(parse_csv("words,label\nhi,greeting\n").is_err());
        assert!(parse_csv("text,intent,lang\nhi,greeting,fr\n").is_err());
    }

    #[test]
    fn the_shipped_sets_parse_and_cover_every_intent() {
        for file in TRAINING.iter().chain([&HELD_OUT]) {
            parse_csv(file).unwrap_or_else(|e| panic!("{e}"));
        }
        let training = shipped();
        for intent in crate::intents::INTENTS {
            let n = training.iter().filter(|e| e.intent == intent.id).count();
            assert!(n >= 40, "{} has {n} training examples", intent.id);
        }
        // Held out means held out.
        let seen: std::collections::HashSet<String> = training.iter().map(|e| e.text.to_lowercase()).collect();
        let held = parse_csv(HELD_OUT).unwrap_or_default();
        let leaked: Vec<&Example> = held.iter().filter(|e| seen.contains(&e.text.to_lowercase())).collect();
        assert!(leaked.is_empty(), "in both sets: {leaked:?}");
    }
}
