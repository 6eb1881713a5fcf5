//! What both indexes share: documents kept under an id, changed through one writer behind a
//! mutex and read without waiting for it, with changes staged until a commit.

use crate::error::Result;
use std::sync::{Mutex, MutexGuard, PoisonError};
use tantivy::schema::Field;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

pub(crate) struct KeyedIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    id: Field,
}

impl KeyedIndex {
    /// One indexing thread: a server indexes small batches, and on a small machine a second
    /// thread would take a core from the requests each time a batch is committed.
    pub fn new(index: &Index, id: Field, writer_memory: usize, reload: ReloadPolicy) -> Result<Self> {
        let writer = index.writer_with_num_threads(1, writer_memory)?;
        let reader = index.reader_builder().reload_policy(reload).try_into()?;
        Ok(Self { reader, writer: Mutex::new(writer), id })
    }

    /// Stages these documents, each replacing any indexed under the same id.
    pub fn upsert<'a>(&self, docs: impl IntoIterator<Item = (&'a str, TantivyDocument)>) -> Result<()> {
        let writer = self.writer();
        for (id, doc) in docs {
            writer.delete_term(Term::from_field_text(self.id, id));
            writer.add_document(doc)?;
        }
        Ok(())
    }

    pub fn delete(&self, id: &str) {
        self.writer().delete_term(Term::from_field_text(self.id, id));
    }

    /// Stages the removal of everything, dropping changes staged since the last commit.
    pub fn clear(&self) -> Result<()> {
        let mut writer = self.writer();
        writer.rollback()?;
        writer.delete_all_documents()?;
        Ok(())
    }

    /// Makes staged changes durable and visible to the next search.
    pub fn commit(&self) -> Result<()> {
        self.writer().commit()?;
        self.reader.reload()?;
        Ok(())
    }

    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// A panic while holding the writer leaves it usable (tantivy keeps its own state
    /// consistent), so a poisoned lock is taken over rather than failing every later write.
    fn writer(&self) -> MutexGuard<'_, IndexWriter> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
