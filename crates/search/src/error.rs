//! What a search can report: the caller's mistake (an empty query), an index that must be rebuilt,
//! or a failure inside the index that the caller can only log.

use std::path::PathBuf;

pub type Result<T, E = SearchError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query text was empty or only whitespace.
    #[error("the search text is empty")]
    EmptyQuery,
    /// The index on disk was written with another schema or analysis version (or by another
    /// tantivy format); delete the directory and rebuild it from the database.
    #[error("the search index at {path} is incompatible with this version ({reason}); delete it and rebuild")]
    IncompatibleIndex { path: PathBuf, reason: String },
    #[error("search index error: {0}")]
    Index(String),
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(error: tantivy::TantivyError) -> Self {
        Self::Index(error.to_string())
    }
}

impl From<tantivy::directory::error::OpenDirectoryError> for SearchError {
    fn from(error: tantivy::directory::error::OpenDirectoryError) -> Self {
        Self::Index(error.to_string())
    }
}

impl From<std::io::Error> for SearchError {
    fn from(error: std::io::Error) -> Self {
        Self::Index(error.to_string())
    }
}
