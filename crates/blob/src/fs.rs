//! The filesystem `BlobStore`: one file per distinct content at `root/ab/cd/<sha256>`, written to
//! a temporary sibling, synced and renamed into place so a crash never leaves a partial blob.

use kefu_domain::{BlobError, BlobKey, BlobStore};
use sha2::{Digest, Sha256};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Temporary files start with a dot so they can never be mistaken for a 64-hex-digit blob name.
const TEMP_PREFIX: &str = ".tmp-";

/// The key a blob store files `bytes` under.
pub fn key_of(bytes: &[u8]) -> BlobKey {
    BlobKey::from_sha256(Sha256::digest(bytes).into())
}

#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    /// The directory is created on the first write.
    pub fn new(root: PathBuf) -> Self {
        Self { root }
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

    fn write_blocking(&self, bytes: &[u8]) -> io::Result<BlobKey> {
        let key = key_of(bytes);
        let dir = self.shard_dir(&key);
        let path = dir.join(key.as_str());
        // A file of the right length under a content hash is that content: every write below is atomic.
        if let Ok(meta) = std::fs::metadata(&path)
            && meta.len() == bytes.len() as u64
        {
            return Ok(key);
        }
        std::fs::create_dir_all(&dir)?;
        let mut temp = tempfile::Builder::new().prefix(TEMP_PREFIX).tempfile_in(&dir)?;
        temp.write_all(bytes)?;
        temp.as_file().sync_all()?;
        // Concurrent puts of the same content may both get here; whichever rename lands last
        // replaces an identical file.
        temp.persist(&path).map_err(|e| e.error)?;
        // The rename and any new shard directories are only durable once their parents are synced.
        for dir in [dir.as_path(), dir.parent().unwrap_or(&dir), self.root.as_path()] {
            sync_dir(dir)?;
        }
        Ok(key)
    }
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
            Ok(bytes) => Ok(Some(bytes)),
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
