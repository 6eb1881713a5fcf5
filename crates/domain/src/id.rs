//! Opaque identifiers: ULIDs rendered as 26-character Crockford base32 strings.
//! They sort by creation time, which keyset pagination relies on.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, example = "01JD3W6Q2R8V9Y5X4N7M1K0P2S")]
pub struct Id(String);

impl Id {
    pub fn new() -> Self {
        Self(ulid::Ulid::new().to_string())
    }

    /// Accepts only well-formed ULIDs, so anything that reaches the store is one.
    pub fn parse(s: &str) -> Option<Self> {
        ulid::Ulid::from_string(s).ok().map(|u| Self(u.to_string()))
    }

    /// For values read back from our own storage.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Id {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_ulids_only() {
        let id = Id::new();
        assert_eq!(Id::parse(id.as_str()), Some(id));
        assert_eq!(Id::parse("not-an-id"), None);
        assert_eq!(Id::parse(""), None);
    }

    #[test]
    fn ids_sort_by_creation() {
        let a = Id::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = Id::new();
        assert!(a < b);
    }
}
