//! Kefu's search engine, a pure core: tantivy indexes over support text with Chinese segmentation,
//! Simplified/Traditional folding and English stemming. No HTTP, no database; callers feed it documents.

pub mod analysis;
pub mod articles;
pub mod conversations;
mod counted;
mod error;
mod keyed;
mod text;

pub use articles::{ArticleDoc, ArticleHit, ArticleIndex, ArticleQuery};
pub use conversations::{ConversationDoc, ConversationHit, ConversationIndex, ConversationQuery};
pub use error::{Result, SearchError};
