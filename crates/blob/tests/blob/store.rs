use kefu_blob::{FsBlobStore, key_of};
use kefu_domain::{BlobKey, BlobStore};
use std::path::{Path, PathBuf};

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { files.extend(files_under(&path)) } else { files.push(path) }
    }
    files
}

#[tokio::test]
async fn an_uploaded_file_comes_back_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::new(dir.path().join("blobs"));
    let bytes = "提币截图 and some bytes \0\u{1}".as_bytes();

    let key = store.put(bytes).await.unwrap();

    assert_eq!(key, key_of(bytes));
    assert_eq!(store.get(&key).await.unwrap().as_deref(), Some(bytes));
    assert!(store.exists(&key).await.unwrap());
}

#[tokio::test]
async fn blobs_are_filed_under_their_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::new(dir.path().to_path_buf());

    let key = store.put(b"").await.unwrap();

    assert_eq!(key.as_str(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_eq!(files_under(dir.path()), vec![dir.path().join("e3").join("b0").join(key.as_str())]);
}

#[tokio::test]
async fn the_same_content_uploaded_twice_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::new(dir.path().to_path_buf());

    let first = store.put(b"same screenshot").await.unwrap();
    let second = store.put(b"same screenshot").await.unwrap();
    let other = store.put(b"another screenshot").await.unwrap();

    assert_eq!(first, second);
    assert_ne!(first, other);
    assert_eq!(files_under(dir.path()).len(), 2);
}

#[tokio::test]
async fn writes_leave_no_temporary_files_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::new(dir.path().to_path_buf());

    let puts = (0..8).map(|i| {
        let store = store.clone();
        tokio::spawn(async move { store.put(format!("attachment {}", i % 4).as_bytes()).await.unwrap() })
    });
    for put in puts {
        put.await.unwrap();
    }

    let files = files_under(dir.path());
    assert_eq!(files.len(), 4);
    for file in files {
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(BlobKey::parse(name).is_some(), "unexpected file {name}");
    }
}

#[tokio::test]
async fn a_truncated_blob_is_rewritten_rather_than_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::new(dir.path().to_path_buf());
    let key = store.put(b"the whole file").await.unwrap();
    let path = files_under(dir.path()).remove(0);
    std::fs::write(&path, b"the wh").unwrap();

    assert_eq!(store.put(b"the whole file").await.unwrap(), key);

    assert_eq!(store.get(&key).await.unwrap().as_deref(), Some(&b"the whole file"[..]));
}

#[tokio::test]
async fn deleted_and_unknown_blobs_read_as_absent() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::new(dir.path().to_path_buf());
    let key = store.put(b"to be deleted").await.unwrap();

    store.delete(&key).await.unwrap();
    store.delete(&key).await.unwrap();

    assert_eq!(store.get(&key).await.unwrap(), None);
    assert!(!store.exists(&key).await.unwrap());
    let never_stored = key_of(b"never stored");
    assert_eq!(store.get(&never_stored).await.unwrap(), None);
}

#[test]
fn a_key_taken_from_a_request_cannot_point_outside_the_store() {
    let valid = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert!(BlobKey::parse(valid).is_some());
    for hostile in [
        "../etc/passwd",
        "../../../../../../../../../../../../../../../../../../../../../etc/passwd",
        &format!("../{}", &valid[3..]),
        &valid.to_uppercase(),
        &valid[..63],
        &format!("{valid}a"),
        &format!("{}/", &valid[..63]),
        "",
    ] {
        assert_eq!(BlobKey::parse(hostile), None, "{hostile:?} was accepted");
    }
}

#[tokio::test]
async fn the_store_works_behind_the_port() {
    let dir = tempfile::tempdir().unwrap();
    let store: std::sync::Arc<dyn BlobStore> = std::sync::Arc::new(FsBlobStore::new(dir.path().to_path_buf()));

    let key = store.put(b"via dyn").await.unwrap();

    assert_eq!(store.get(&key).await.unwrap().as_deref(), Some(&b"via dyn"[..]));
}
