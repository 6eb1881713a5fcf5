//! Attachment bytes at rest: the content-addressed `BlobKey` and the `BlobStore` port that the
//! filesystem adapter (and later an S3-compatible one) implements.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The upload size limit when the deployment configures none.
pub const DEFAULT_MAX_ATTACHMENT_BYTES: u64 = 20 * 1024 * 1024;

/// The lowercase hex SHA-256 of a blob's content.
///
/// Adapters build storage paths and object names from it, so only exactly 64 lowercase hex digits
/// ever make a key: nothing like `../` or a second spelling of the same digest can get through.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BlobKey(String);

impl BlobKey {
    pub const LEN: usize = 64;

    pub fn parse(s: &str) -> Option<Self> {
        let well_formed = s.len() == Self::LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        well_formed.then(|| Self(s.to_owned()))
    }

    /// For the adapter that hashed the content; the digest type makes a malformed key impossible.
    pub fn from_sha256(digest: [u8; 32]) -> Self {
        Self(hex::encode(digest))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a blob key is exactly 64 lowercase hex digits")]
pub struct InvalidBlobKey;

impl TryFrom<String> for BlobKey {
    type Error = InvalidBlobKey;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s).ok_or(InvalidBlobKey)
    }
}

impl From<BlobKey> for String {
    fn from(key: BlobKey) -> Self {
        key.0
    }
}

/// Every blob failure is internal: the user's upload was fine, the storage under it was not.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob storage I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// For stores that are not a local filesystem (network, credentials, remote errors).
    #[error("blob storage backend failed: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

#[async_trait::async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores `bytes` under a hash of their content (SHA-256, or keyed when the store seals).
    /// Storing content that is already there keeps the one copy and returns the same key.
    async fn put(&self, bytes: &[u8]) -> Result<BlobKey, BlobError>;

    async fn get(&self, key: &BlobKey) -> Result<Option<Vec<u8>>, BlobError>;

    async fn exists(&self, key: &BlobKey) -> Result<bool, BlobError>;

    /// Deleting a missing blob succeeds. Identical uploads share one blob, so callers delete a
    /// key only once nothing references it any more.
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parse_accepts_only_64_lowercase_hex_digits() {
        assert_eq!(BlobKey::parse(EMPTY_SHA256).map(|k| k.to_string()).as_deref(), Some(EMPTY_SHA256));
        assert_eq!(BlobKey::parse(&EMPTY_SHA256.to_uppercase()), None);
        assert_eq!(BlobKey::parse(&EMPTY_SHA256[..63]), None);
        assert_eq!(BlobKey::parse(&format!("{EMPTY_SHA256}0")), None);
        assert_eq!(BlobKey::parse("../etc/passwd"), None);
        assert_eq!(BlobKey::parse(&format!("../{}", &EMPTY_SHA256[3..])), None);
        assert_eq!(BlobKey::parse(""), None);
    }

    #[test]
    fn from_sha256_renders_lowercase_hex() {
        let key = BlobKey::from_sha256([0xab; 32]);
        assert_eq!(key.as_str(), "ab".repeat(32));
        assert_eq!(BlobKey::parse(key.as_str()), Some(key));
    }

    #[test]
    fn deserializing_goes_through_parse() {
        let ok: Result<BlobKey, _> = serde_json::from_str(&format!("\"{EMPTY_SHA256}\""));
        assert!(ok.is_ok());
        let bad: Result<BlobKey, _> = serde_json::from_str("\"../etc/passwd\"");
        assert!(bad.is_err());
    }
}
