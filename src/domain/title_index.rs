//! The title index, which the store uses to keep titles unique within a
//! record kind and to list a record by title.
//!
//! The index stores the records themselves, placed by a hash of their
//! title, so a title is kept once, in its record, and not again as a key.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use hashbrown::hash_table::Entry;
use hashbrown::HashTable;

use super::record::Record;

/// Records of one kind, found by title.
///
/// NOTE: the table grows by doubling at once, rehashing every title while
/// the store's write lock is held. At hundreds of thousands of records that
/// pause lasts tens of milliseconds, the longest create latencies measured.
#[derive(Clone, Default)]
pub(crate) struct TitleIndex {
    hasher: RandomState,
    records: HashTable<Arc<Record>>,
}

impl TitleIndex {
    /// Looks up the record with exactly this title.
    pub(crate) fn get(&self, title: &str) -> Option<&Arc<Record>> {
        let hash = self.hasher.hash_one(title);
        self.records
            .find(hash, |record| record.fields.title == title)
    }

    /// Adds `record`, replacing any record with the same title.
    pub(crate) fn insert(&mut self, record: Arc<Record>) {
        let hasher = &self.hasher;
        let hash = hasher.hash_one(record.fields.title.as_str());
        let entry = self.records.entry(
            hash,
            |held| held.fields.title == record.fields.title,
            |held| hasher.hash_one(held.fields.title.as_str()),
        );
        match entry {
            Entry::Occupied(mut held) => *held.get_mut() = record,
            Entry::Vacant(slot) => {
                slot.insert(record);
            }
        }
    }

    /// Removes `record`, found by its title and ID.
    pub(crate) fn remove(&mut self, record: &Record) {
        let hash = self.hasher.hash_one(record.fields.title.as_str());
        if let Ok(held) = self.records.find_entry(hash, |held| held.id == record.id) {
            held.remove();
        }
    }

    /// Counts the indexed records.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }
}
