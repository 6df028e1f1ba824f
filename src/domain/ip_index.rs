//! The interval index that finds the stored records whose IPs overlap a range.
//!
//! The store keeps one index per record kind and network. Records in one
//! index never overlap, so every interval they contain starts at a different
//! address. The index maps each start address to its record and reads the
//! interval's end from the record's own IP set instead of storing it twice.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::sync::Arc;

use super::record::Record;

/// The intervals of a group of records that do not overlap one another.
#[derive(Clone, Default)]
pub(crate) struct IpIndex {
    /// The record that contains each interval, keyed by the interval's first
    /// address.
    starts: BTreeMap<u32, Arc<Record>>,
}

impl IpIndex {
    /// Adds every interval of `record`, which must overlap no indexed record.
    pub(crate) fn insert(&mut self, record: &Arc<Record>) {
        for range in record.fields.ips.ranges() {
            self.starts.insert(*range.start(), Arc::clone(record));
        }
    }

    /// Removes the intervals of `record`.
    pub(crate) fn remove(&mut self, record: &Record) {
        for range in record.fields.ips.ranges() {
            if self.holder_at(*range.start()) == Some(record.id) {
                self.starts.remove(range.start());
            }
        }
    }

    /// Yields, in address order, each indexed interval that overlaps the
    /// non-empty `range`, with its record. A query costs O(log n) plus the
    /// intervals it yields.
    pub(crate) fn overlapping(
        &self,
        range: RangeInclusive<u32>,
    ) -> impl Iterator<Item = (RangeInclusive<u32>, &Arc<Record>)> + '_ {
        let (start, end) = (*range.start(), *range.end());

        // Usually no interval overlaps. Then the last interval that starts no
        // later than `end` ends before `start`, and one lookup shows it. A
        // stale entry there proves nothing, so the full search runs.
        let last = self.starts.range(..=end).next_back();
        let may_overlap = !last.is_none_or(|(&held_start, record)| {
            interval(held_start, record).is_some_and(|(held, _)| *held.end() < start)
        });

        // Indexed intervals are disjoint, so among those that start before
        // `range` only the last one can reach into it.
        let before = may_overlap
            .then(|| self.starts.range(..start).next_back())
            .flatten()
            .and_then(|(&held_start, record)| interval(held_start, record))
            .filter(|(held, _)| *held.end() >= start);
        let within = may_overlap
            .then(|| self.starts.range(start..=end))
            .into_iter()
            .flatten()
            .filter_map(|(&held_start, record)| interval(held_start, record));
        before.into_iter().chain(within)
    }

    /// Returns the ID of the record whose interval starts at `start`.
    fn holder_at(&self, start: u32) -> Option<u64> {
        self.starts.get(&start).map(|record| record.id)
    }

    /// Counts the indexed intervals, stale ones included.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.starts.len()
    }

    /// Yields every indexed interval with its record, for consistency checks.
    #[cfg(test)]
    pub(crate) fn intervals(&self) -> impl Iterator<Item = (RangeInclusive<u32>, &Arc<Record>)> {
        self.starts
            .iter()
            .filter_map(|(&held_start, record)| interval(held_start, record))
    }
}

/// Finds the interval of `record` that starts at `start`. It exists while the
/// index and its records agree, and a stale entry yields `None`.
fn interval(start: u32, record: &Arc<Record>) -> Option<(RangeInclusive<u32>, &Arc<Record>)> {
    let range = record.fields.ips.range_containing(start)?;
    (*range.start() == start).then_some((range, record))
}
