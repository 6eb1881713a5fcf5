//! Sealing at rest: blobs are encrypted with XChaCha20-Poly1305 under the master key before they
//! reach the disk. A sealed blob is `KEFUSEAL` (8 bytes), the sealing key's id (8 bytes: the
//! start of the SHA-256 of the key), a random 24-byte nonce, then the ciphertext and its tag.
//! Files written before sealing was introduced have no such header and are read as they are
//! until `kefu keys rotate` seals them.

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::Path;

const MAGIC: &[u8; 8] = b"KEFUSEAL";
const ID_LEN: usize = 8;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Bytes a sealed blob has beyond its content.
pub const OVERHEAD: usize = MAGIC.len() + ID_LEN + NONCE_LEN + TAG_LEN;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("sealed with key {0}, which is not in the keyring (KEFU_MASTER_KEY or the key file)")]
    UnknownKey(String),
    #[error("a sealed blob failed its integrity check: it was altered or cut short")]
    Corrupt,
}

struct MasterKey {
    id: [u8; ID_LEN],
    cipher: XChaCha20Poly1305,
    /// Names files: a keyed hash of their content, so the names tell nothing to whoever holds the
    /// disk (a plain hash would confirm a guessed document).
    names: [u8; 32],
}

/// The master keys: the first seals, every one opens (the others are kept while a rotation
/// re-seals what they sealed).
pub struct Keyring {
    keys: Vec<MasterKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").field("keys", &self.keys.len()).finish_non_exhaustive()
    }
}

fn key_id(key: &[u8]) -> [u8; ID_LEN] {
    let mut id = [0; ID_LEN];
    id.copy_from_slice(&Sha256::digest(key)[..ID_LEN]);
    id
}

impl Keyring {
    /// Keys in standard base64, each of 32 bytes, separated by commas or new lines; the first
    /// seals. Blank lines and lines starting with `#` are skipped.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut keys = Vec::new();
        for (i, raw) in list.split([',', '\n']).map(str::trim).enumerate() {
            if raw.is_empty() || raw.starts_with('#') {
                continue;
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(raw)
                .map_err(|_| format!("master key {} is not base64 (make one with `kefu keys generate`)", i + 1))?;
            if bytes.len() != 32 {
                return Err(format!("master key {} has {} bytes, not 32 (make one with `kefu keys generate`)", i + 1, bytes.len()));
            }
            let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| "a master key of the wrong length".to_string())?;
            keys.push(MasterKey { id: key_id(&bytes), cipher, names: keyed(&bytes, b"kefu blob names") });
        }
        if keys.is_empty() {
            return Err("no master key given".into());
        }
        Ok(Self { keys })
    }

    /// A new random key, in the form `parse` reads.
    pub fn generate_key() -> String {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    /// The keyring in `path`, made (with one new key, readable by the owner only) when the file
    /// does not exist; the flag says it was made.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), String> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate_key();
                write_key_file(path, &[key.as_str()])?;
                Ok((Self::parse(&key)?, true))
            }
            Err(e) => Err(format!("cannot read the master key file {}: {e}", path.display())),
        }
    }

    /// The sealing key's id, in hex (shown by `kefu keys` and in errors).
    pub fn current_id(&self) -> String {
        hex_id(&self.keys[0].id)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The name the current key gives `content`: the same content gets the same name (it is
    /// stored once), yet the name cannot be computed without the key.
    pub fn name_of(&self, content: &[u8]) -> [u8; 32] {
        keyed(&self.keys[0].names, content)
    }

    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        // Encryption fails only for inputs beyond the cipher's limit (far above any attachment).
        let sealed = key.cipher.encrypt(XNonce::from_slice(&nonce), plain).unwrap_or_default();
        let mut out = Vec::with_capacity(OVERHEAD + plain.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&key.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// The content of a stored blob: opened when sealed, as it is when written before sealing.
    pub fn open(&self, stored: &[u8]) -> Result<Vec<u8>, SealError> {
        let Some(rest) = stored.strip_prefix(MAGIC) else { return Ok(stored.to_vec()) };
        if rest.len() < ID_LEN + NONCE_LEN + TAG_LEN {
            return Err(SealError::Corrupt);
        }
        let (id, rest) = rest.split_at(ID_LEN);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let key = self.keys.iter().find(|k| k.id == id).ok_or_else(|| SealError::UnknownKey(hex_id(id)))?;
        key.cipher.decrypt(XNonce::from_slice(nonce), ciphertext).map_err(|_| SealError::Corrupt)
    }

    /// True when `stored` is sealed by the current key (a rotation leaves it alone).
    pub fn is_current(&self, stored: &[u8]) -> bool {
        stored.strip_prefix(MAGIC).is_some_and(|rest| rest.len() >= ID_LEN && rest[..ID_LEN] == self.keys[0].id)
    }
}

/// HMAC-SHA256 of `msg` under `key`.
fn keyed(key: &[u8], msg: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    // HMAC takes keys of any length: `new_from_slice` cannot fail here.
    let Ok(mut mac) = <hmac::Hmac<Sha256> as Mac>::new_from_slice(key) else { return [0; 32] };
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

fn hex_id(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a key file atomically, readable by its owner only.
pub fn write_key_file(path: &Path, keys: &[&str]) -> Result<(), String> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut temp =
        tempfile::Builder::new().prefix(".tmp-key-").tempfile_in(dir).map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file().set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(|e| e.to_string())?;
    }
    let text = format!(
        "# Kefu's master keys (base64). The first seals attachments and contact details; keep a copy\n# somewhere safe: without it they cannot be read.\n{}\n",
        keys.join("\n")
    );
    temp.write_all(text.as_bytes()).and_then(|()| temp.as_file().sync_all()).map_err(|e| e.to_string())?;
    temp.persist(path).map_err(|e| format!("cannot write {}: {}", path.display(), e.error))?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sealed_blobs_open_with_any_key_of_the_ring_and_only_then() {
        let old = Keyring::generate_key();
        let new = Keyring::generate_key();
        let before = Keyring::parse(&old).unwrap();
        let sealed = before.seal(b"passport scan");
        assert!(!sealed.windows(8).any(|w| w == b"passport"), "the content is not in clear");
        assert_eq!(sealed.len(), b"passport scan".len() + OVERHEAD);
        let both = Keyring::parse(&format!("{new},{old}")).unwrap();
        assert_eq!(both.open(&sealed).unwrap(), b"passport scan");
        assert!(!both.is_current(&sealed) && before.is_current(&sealed));
        let other = Keyring::parse(&new).unwrap();
        assert!(matches!(other.open(&sealed), Err(SealError::UnknownKey(_))));
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(matches!(before.open(&tampered), Err(SealError::Corrupt)));
        assert_eq!(before.open(b"written before sealing").unwrap(), b"written before sealing");
        assert_eq!(before.name_of(b"a"), before.name_of(b"a"), "the same content, the same name");
        assert_ne!(before.name_of(b"a"), other.name_of(b"a"), "names depend on the key");
        assert_ne!(before.name_of(b"a"), <[u8; 32]>::from(Sha256::digest(b"a")), "not the plain hash");
    }

    #[test]
    fn bad_keys_are_refused_with_a_reason() {
        assert!(Keyring::parse("").unwrap_err().contains("no master key"));
        assert!(Keyring::parse("not base64!").unwrap_err().contains("base64"));
        assert!(Keyring::parse("c2hvcnQ=").unwrap_err().contains("not 32"));
        assert_eq!(Keyring::parse(&format!("# keys\n{}\n\n", Keyring::generate_key())).unwrap().len(), 1);
    }
}
