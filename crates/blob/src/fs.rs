//! The filesystem `BlobStore`: one file per distinct content at `root/ab/cd/<hash>`, written to
//! a temporary sibling, synced and renamed into place so a crash never leaves a partial blob.
//! With a keyring, every file is sealed (encrypted) before it is written and named by a keyed
//! hash of its content.

use crate::seal::{Keyring, OVERHEAD};
use kefu_domain::{BlobError, BlobKey, BlobStore};
use sha2::{Digest, Sha256};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Temporary files start with a dot so they can never be mistaken for a 64-hex-digit blob name.
const TEMP_PREFIX: &str = ".tmp-";

/// The key a blob store files `bytes` under.
pub fn key_of(bytes: &[u8]) -> BlobKey {
    BlobKey::from_sha256(Sha256::digest(bytes).into())
}

#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
    keyring: Option<Arc<Keyring>>,
}

impl FsBlobStore {
    /// Files in clear. The directory is created on the first write.
    pub fn new(root: PathBuf) -> Self {
        Self { root, keyring: None }
    }

    /// Files sealed under the keyring's current key (and opened with any of its keys).
    pub fn sealed(root: PathBuf, keyring: Arc<Keyring>) -> Self {
        Self { root, keyring: Some(keyring) }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Two levels of 256 directories keep any one directory small even with millions of blobs.
    fn shard_dir(&self, key: &BlobKey) -> PathBuf {
        let hex = key.as_str();
        self.root.join(&hex[..2]).join(&hex[2..4])
    }

    fn path_of(&self, key: &BlobKey) -> PathBuf {
        self.shard_dir(key).join(key.as_str())
    }

    /// The key `bytes` are filed under: their SHA-256 in clear, a keyed hash when sealed.
    pub fn name_of(&self, bytes: &[u8]) -> BlobKey {
        match &self.keyring {
            Some(k) => BlobKey::from_sha256(k.name_of(bytes)),
            None => key_of(bytes),
        }
    }

    fn write_blocking(&self, bytes: &[u8]) -> io::Result<BlobKey> {
        let key = self.name_of(bytes);
        let stored_len = bytes.len() + if self.keyring.is_some() { OVERHEAD } else { 0 };
        // A file of the right length under a content hash is that content: every write below is
        // atomic. (One in clear from before sealing has another length: it is sealed now.)
        if let Ok(meta) = std::fs::metadata(self.path_of(&key))
            && meta.len() == stored_len as u64
        {
            return Ok(key);
        }
        match &self.keyring {
            Some(k) => self.write_file(&key, &k.seal(bytes))?,
            None => self.write_file(&key, bytes)?,
        }
        Ok(key)
    }

    fn write_file(&self, key: &BlobKey, stored: &[u8]) -> io::Result<()> {
        let dir = self.shard_dir(key);
        let path = dir.join(key.as_str());
        std::fs::create_dir_all(&dir)?;
        let mut temp = tempfile::Builder::new().prefix(TEMP_PREFIX).tempfile_in(&dir)?;
        temp.write_all(stored)?;
        temp.as_file().sync_all()?;
        // Concurrent puts of the same content may both get here; whichever rename lands last
        // replaces an identical file.
        temp.persist(&path).map_err(|e| e.error)?;
        // The rename and any new shard directories are only durable once their parents are synced.
        for dir in [dir.as_path(), dir.parent().unwrap_or(&dir), self.root.as_path()] {
            sync_dir(dir)?;
        }
        Ok(())
    }

    fn open(&self, stored: Vec<u8>) -> Result<Vec<u8>, BlobError> {
        match &self.keyring {
            Some(k) => k.open(&stored).map_err(|e| BlobError::Backend(Box::new(e))),
            None => Ok(stored),
        }
    }

    /// Seals every blob under the keyring's current key: files in clear and files sealed by an
    /// older key are rewritten (atomically), the others left alone. Returns how many were
    /// rewritten and how many were already current.
    pub fn reseal_all(&self) -> Result<(usize, usize), BlobError> {
        let Some(keyring) = &self.keyring else { return Ok((0, 0)) };
        let mut done = (0, 0);
        for path in blob_files(&self.root)? {
            let Some(key) = path.file_name().and_then(|n| n.to_str()).and_then(BlobKey::parse) else { continue };
            let stored = std::fs::read(&path)?;
            if keyring.is_current(&stored) {
                done.1 += 1;
                continue;
            }
            let plain = keyring.open(&stored).map_err(|e| BlobError::Backend(Box::new(e)))?;
            self.write_file(&key, &keyring.seal(&plain))?;
            done.0 += 1;
        }
        Ok(done)
    }
}

/// Every file under the store's two levels of shard directories.
fn blob_files(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let dirs = |p: &Path| -> io::Result<Vec<PathBuf>> {
        match std::fs::read_dir(p) {
            Ok(entries) => entries.map(|e| e.map(|e| e.path())).collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    };
    for a in dirs(root)?.into_iter().filter(|p| p.is_dir()) {
        for b in dirs(&a)?.into_iter().filter(|p| p.is_dir()) {
            out.extend(dirs(&b)?.into_iter().filter(|p| p.is_file()));
        }
    }
    Ok(out)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[async_trait::async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, bytes: &[u8]) -> Result<BlobKey, BlobError> {
        // Hashing and syncing block for tens of milliseconds on a 20 MB upload: keep them off the runtime.
        let store = self.clone();
        let bytes = bytes.to_vec();
        let written = tokio::task::spawn_blocking(move || store.write_blocking(&bytes)).await.map_err(io::Error::other)?;
        Ok(written?)
    }

    async fn get(&self, key: &BlobKey) -> Result<Option<Vec<u8>>, BlobError> {
        match tokio::fs::read(self.path_of(key)).await {
            Ok(bytes) => Ok(Some(self.open(bytes)?)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn exists(&self, key: &BlobKey) -> Result<bool, BlobError> {
        Ok(tokio::fs::try_exists(self.path_of(key)).await?)
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path_of(key)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
