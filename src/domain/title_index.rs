//! The title index, which the store uses to keep titles unique within a
//! record kind and to list a record by title.
//!
//! The index stores the records themselves, keyed by a hash of their title,
//! so a title is kept once, in its record, and not again as a key. The keys
//! sit in an ordered map rather than a hash table. A hash table grows by
//! rehashing every title at once, which held the store's write lock for over
//! 100 ms at half a million records. An ordered map grows a node at a time.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use smallvec::SmallVec;

use super::record::Record;

/// Records of one kind, found by title.
#[derive(Clone, Default)]
pub(crate) struct TitleIndex {
    hasher: RandomState,
    /// Records by title hash. Titles that share a hash share a slot.
    records: BTreeMap<u64, SmallVec<[Arc<Record>; 1]>>,
}

impl TitleIndex {
    /// Looks up the record with exactly this title.
    pub(crate) fn get(&self, title: &str) -> Option<&Arc<Record>> {
        let hash = self.hasher.hash_one(title);
        self.records
            .get(&hash)?
            .iter()
            .find(|record| record.fields.title == title)
    }

    /// Adds `record`, replacing any record with the same title.
    pub(crate) fn insert(&mut self, record: Arc<Record>) {
        let hash = self.hasher.hash_one(record.fields.title.as_str());
        let slot = self.records.entry(hash).or_default();
        match slot
            .iter_mut()
            .find(|held| held.fields.title == record.fields.title)
        {
            Some(held) => *held = record,
            None => slot.push(record),
        }
    }

    /// Removes `record`, found by its title and ID.
    pub(crate) fn remove(&mut self, record: &Record) {
        let hash = self.hasher.hash_one(record.fields.title.as_str());
        let Some(slot) = self.records.get_mut(&hash) else {
            return;
        };
        if let Some(at) = slot.iter().position(|held| held.id == record.id) {
            slot.remove(at);
        }
        if slot.is_empty() {
            self.records.remove(&hash);
        }
    }

    /// Counts the indexed records.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.records.values().map(|slot| slot.len()).sum()
    }
}
