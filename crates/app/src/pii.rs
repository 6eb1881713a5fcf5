//! Contacts' identifiers sealed at rest. E-mail addresses, phone numbers, exchange user ids and
//! Telegram ids are stored encrypted under the master key (XChaCha20-Poly1305, as attachments
//! are), each beside a blind key: an HMAC-SHA256 of the normalised value under the index key.
//! Lookups (a widget's signed user, a portal sign-in, an agent typing a whole e-mail address)
//! match blind keys and decrypt nothing; what cannot be done is finding an identity by a part
//! of it, which is why names (found by prefix) stay in clear.
//!
//! The index key is random, made once and kept in the database sealed under the master key: a
//! key rotation re-seals it and every value, while the blind keys stay as they are.

use crate::{App, AppError, AppResult};
use base64::Engine;
use kefu_blob::Keyring;
use kefu_store::{IdentityRow, Store, StoredIdentity};
use std::sync::Arc;

/// The setting that holds the index key, sealed.
const INDEX_KEY_SETTING: &str = "pii.index_key";

/// Identities handled per round trip when sealing or re-sealing them all.
const BATCH: i64 = 500;

/// Seals and opens identities, and computes their blind keys.
pub struct PiiVault {
    keyring: Arc<Keyring>,
    index_key: Vec<u8>,
}

impl std::fmt::Debug for PiiVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PiiVault").finish_non_exhaustive()
    }
}

/// The form of a value that its blind key is computed from: e-mails in lower case, phones as
/// their digits alone (with or without `+`, spaces or dashes, one number is one key), ids as
/// given.
fn normalise(kind: &str, value: &str) -> String {
    match kind {
        "email" => value.trim().to_lowercase(),
        "phone" => value.chars().filter(char::is_ascii_digit).collect(),
        _ => value.trim().to_string(),
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD_NO_PAD
}

impl PiiVault {
    /// Opens the index key kept in `store` with `keyring`, making and storing one the first
    /// time. Two processes starting at once keep whichever key was stored first.
    pub async fn open_or_create(store: &Store, keyring: Arc<Keyring>, now: i64) -> AppResult<Self> {
        let mut fresh = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut fresh);
        let offered = b64().encode(keyring.seal(&fresh));
        let stored = store.setting_or_insert(INDEX_KEY_SETTING, &offered, now).await?;
        let sealed = b64().decode(stored.trim()).map_err(|_| AppError::internal("the stored PII index key is not base64"))?;
        let index_key = keyring.open(&sealed).map_err(|e| AppError::internal(format!("cannot open the PII index key: {e}")))?;
        Ok(Self { keyring, index_key })
    }

    /// The blind key of an identity: the same value (once normalised) always gets the same key,
    /// and the key tells nothing without the index key.
    pub fn blind_key(&self, kind: &str, value: &str) -> String {
        use hmac::Mac;
        let Ok(mut mac) = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.index_key) else { return String::new() };
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(normalise(kind, value).as_bytes());
        format!("k1.{}", hex::encode(mac.finalize().into_bytes()))
    }

    /// An identity ready to store.
    pub fn seal(&self, kind: &str, value: &str) -> StoredIdentity {
        StoredIdentity {
            kind: kind.to_string(),
            key: self.blind_key(kind, value),
            sealed: b64().encode(self.keyring.seal(value.as_bytes())),
        }
    }

    /// A text sealed for a column of its own: `v1:` and base64.
    pub fn seal_text(&self, plain: &str) -> String {
        format!("v1:{}", b64().encode(self.keyring.seal(plain.as_bytes())))
    }

    /// The text `seal_text` sealed (one stored before sealing is in clear, without `v1:`).
    pub fn open_text(&self, stored: &str) -> AppResult<String> {
        let Some(sealed) = stored.strip_prefix("v1:") else { return Ok(stored.to_string()) };
        let bytes = b64().decode(sealed).map_err(|_| AppError::internal("a sealed text is not base64"))?;
        let plain = self.keyring.open(&bytes).map_err(|e| AppError::internal(format!("cannot open a sealed text: {e}")))?;
        String::from_utf8(plain).map_err(|_| AppError::internal("a sealed text is not UTF-8"))
    }

    fn text_is_current(&self, stored: &str) -> bool {
        stored.strip_prefix("v1:").and_then(|s| b64().decode(s).ok()).is_some_and(|b| self.keyring.is_current(&b))
    }

    /// Seals the visitors' unverified e-mails stored in clear and, with `all`, re-seals those
    /// sealed under an older key. Returns how many changed.
    async fn reseal_texts(&self, store: &Store, all: bool) -> AppResult<usize> {
        let mut changed = 0;
        if !all {
            loop {
                let rows = store.clear_unverified_emails(BATCH).await?;
                if rows.is_empty() {
                    return Ok(changed);
                }
                for (id, plain) in rows {
                    store.replace_unverified_email(&id, &plain, &self.seal_text(&plain)).await?;
                    changed += 1;
                }
            }
        }
        let mut after = String::new();
        loop {
            let rows = store.unverified_emails_after(&after, BATCH).await?;
            let Some((last, _)) = rows.last() else { return Ok(changed) };
            after = last.clone();
            for (id, stored) in rows.iter().filter(|(_, v)| !self.text_is_current(v)) {
                store.replace_unverified_email(id, stored, &self.seal_text(&self.open_text(stored)?)).await?;
                changed += 1;
            }
        }
    }

    /// The value of a stored identity (a row from before sealing has it in clear).
    pub fn open(&self, row: &IdentityRow) -> AppResult<String> {
        let Some(sealed) = &row.sealed else { return Ok(row.value.clone()) };
        let bytes = b64().decode(sealed).map_err(|_| AppError::internal("a sealed identity is not base64"))?;
        let plain = self.keyring.open(&bytes).map_err(|e| AppError::internal(format!("cannot open a sealed identity: {e}")))?;
        String::from_utf8(plain).map_err(|_| AppError::internal("a sealed identity is not UTF-8"))
    }

    /// Seals every identity (and visitor's unverified e-mail) still in clear and, with `all`,
    /// re-seals the ones sealed under an older master key, along with the index key itself.
    /// Returns (changed, already current) identities.
    pub async fn reseal_all(&self, store: &Store, all: bool, now: i64) -> AppResult<(usize, usize)> {
        if all {
            let sealed = b64().encode(self.keyring.seal(&self.index_key));
            store.put_setting(INDEX_KEY_SETTING, &sealed, now).await?;
        }
        self.reseal_texts(store, all).await?;
        let (mut changed, mut current) = (0, 0);
        let (mut kind, mut value) = (String::new(), String::new());
        loop {
            // Without `all`, only the rows in clear: each one sealed leaves that set.
            let rows = if all { store.identities_after(&kind, &value, BATCH).await? } else { store.clear_identities(BATCH).await? };
            let Some(last) = rows.last() else { break };
            (kind, value) = (last.kind.clone(), last.value.clone());
            for row in &rows {
                let stale = match &row.sealed {
                    None => true,
                    Some(s) => all && !b64().decode(s).is_ok_and(|b| self.keyring.is_current(&b)),
                };
                if !stale {
                    current += 1;
                    continue;
                }
                let plain = self.open(row)?;
                store.reseal_identity(&row.kind, &row.value, &self.seal(&row.kind, &plain)).await?;
                changed += 1;
            }
        }
        Ok((changed, current))
    }
}

impl App {
    /// The identity vault, opened on first use: it reads the master key, and seals the
    /// identities written in clear before sealing existed. `serve` opens it at start.
    pub async fn pii(&self) -> AppResult<Arc<PiiVault>> {
        self.0
            .pii
            .get_or_try_init(|| async {
                let now = kefu_store::micros(self.now());
                let vault = PiiVault::open_or_create(self.store(), self.keyring()?, now).await?;
                let (sealed, _) = vault.reseal_all(self.store(), false, now).await?;
                if sealed > 0 {
                    tracing::info!(identities = sealed, "sealed contact identities stored in clear");
                }
                Ok(Arc::new(vault))
            })
            .await
            .cloned()
    }

    /// The identities of these contacts, opened, oldest first (then in order of value).
    pub(crate) async fn identities_of(&self, contact_ids: &[String]) -> AppResult<Vec<IdentityRow>> {
        let vault = self.pii().await?;
        let rows = self.store().identities_of(contact_ids).await?;
        let mut open = rows
            .into_iter()
            .map(|r| Ok(IdentityRow { value: vault.open(&r)?, sealed: None, ..r }))
            .collect::<AppResult<Vec<IdentityRow>>>()?;
        open.sort_by(|a, b| (a.created_at, &a.value).cmp(&(b.created_at, &b.value)));
        Ok(open)
    }

    /// (kind, value) pairs as the (kind, blind key) pairs lookups match; empty values left out.
    pub(crate) async fn identity_keys(&self, identities: &[(String, String)]) -> AppResult<Vec<(String, String)>> {
        let vault = self.pii().await?;
        Ok(identities.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.clone(), vault.blind_key(k, v))).collect())
    }

    /// The contact that holds this identity, if any.
    pub(crate) async fn contact_id_by_identity(&self, kind: &str, value: &str) -> AppResult<Option<String>> {
        let key = self.pii().await?.blind_key(kind, value);
        Ok(self.store().contact_id_by_identity(kind, &key).await?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn vault() -> PiiVault {
        let ring = Arc::new(Keyring::parse(&Keyring::generate_key()).unwrap());
        PiiVault { keyring: ring, index_key: vec![7; 32] }
    }

    #[test]
    fn blind_keys_match_one_value_however_written_and_nothing_else() {
        let v = vault();
        assert_eq!(v.blind_key("email", "Jane@Example.com "), v.blind_key("email", "jane@example.com"));
        assert_eq!(v.blind_key("phone", "+86 138-0013-8000"), v.blind_key("phone", "8613800138000"));
        assert_ne!(v.blind_key("email", "jane@example.com"), v.blind_key("email", "jane@example.co"));
        // The kind is part of the key: an id equal to a phone's digits is another identity.
        assert_ne!(v.blind_key("telegram", "8613800138000"), v.blind_key("phone", "8613800138000"));
        assert!(!v.blind_key("email", "jane@example.com").contains("jane"));
        let other = PiiVault { keyring: v.keyring.clone(), index_key: vec![8; 32] };
        assert_ne!(other.blind_key("email", "jane@example.com"), v.blind_key("email", "jane@example.com"));
    }

    #[test]
    fn sealed_texts_open_and_clear_ones_read_as_they_are() {
        let v = vault();
        let s = v.seal_text("visitor@example.com");
        assert!(s.starts_with("v1:") && !s.contains("visitor"));
        assert_eq!(v.open_text(&s).unwrap(), "visitor@example.com");
        assert!(v.text_is_current(&s));
        assert_eq!(v.open_text("visitor@example.com").unwrap(), "visitor@example.com");
        assert!(!v.text_is_current("visitor@example.com"));
    }

    #[test]
    fn sealed_identities_open_to_their_value_and_show_nothing_of_it() {
        let v = vault();
        let s = v.seal("email", "jane@example.com");
        assert!(!s.sealed.contains("jane") && !s.key.contains("jane"));
        let row = IdentityRow { contact_id: "c".into(), kind: s.kind, value: s.key, sealed: Some(s.sealed), created_at: 0 };
        assert_eq!(v.open(&row).unwrap(), "jane@example.com");
        let legacy =
            IdentityRow { contact_id: "c".into(), kind: "email".into(), value: "old@example.com".into(), sealed: None, created_at: 0 };
        assert_eq!(v.open(&legacy).unwrap(), "old@example.com");
    }
}
