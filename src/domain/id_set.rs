//! Record ID sets: the `ids` parameter (`12,1359-1407`) parsed into merged intervals.
//!
//! An ID set never expands its ranges, so `ids=1-4000000000` costs as much as `ids=1`.

use std::fmt;
use std::ops::RangeInclusive;

use rangemap::RangeInclusiveSet;

/// A set of record IDs kept as sorted, merged, inclusive intervals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdSet {
    ranges: RangeInclusiveSet<u64>,
}

/// Why an `ids` value could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdSetError {
    /// The value, or one comma-separated entry of it, is empty.
    #[error("the list is empty or has an empty entry")]
    EmptyEntry,
    /// An entry is neither a positive integer nor a range of them.
    #[error("'{0}' is neither a positive integer nor a range such as 1359-1407")]
    NotAnId(String),
    /// A range whose start is greater than its end.
    #[error("range '{0}' starts after it ends")]
    Reversed(String),
    /// More comma-separated entries than one request may carry.
    #[error("more than {MAX_ENTRIES} entries; use ranges such as 1359-1407")]
    TooManyEntries,
}

/// Maximum number of comma-separated entries in one `ids` value. Ranges make
/// any set expressible within it, and the limit bounds the work per request.
pub const MAX_ENTRIES: usize = 10_000;

impl IdSet {
    /// Creates an empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a comma-separated list of IDs and `a-b` ranges, ignoring spaces
    /// around entries and around the dash.
    pub fn parse(value: &str) -> Result<Self, IdSetError> {
        let mut set = IdSet::new();
        for (index, entry) in value.split(',').enumerate() {
            if index == MAX_ENTRIES {
                return Err(IdSetError::TooManyEntries);
            }
            let entry = entry.trim();
            if entry.is_empty() {
                return Err(IdSetError::EmptyEntry);
            }
            set.insert_range(parse_entry(entry)?);
        }
        Ok(set)
    }

    /// Adds one ID.
    pub fn insert(&mut self, id: u64) {
        self.ranges.insert(id..=id);
    }

    /// Adds every ID of an inclusive range.
    pub fn insert_range(&mut self, range: RangeInclusive<u64>) {
        self.ranges.insert(range);
    }

    /// Returns whether the set contains `id`.
    pub fn contains(&self, id: u64) -> bool {
        self.ranges.contains(&id)
    }

    /// Returns whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The merged intervals in ascending order.
    pub fn ranges(&self) -> impl Iterator<Item = &RangeInclusive<u64>> {
        self.ranges.iter()
    }

    /// Counts the IDs in the set, saturating at `u64::MAX`.
    pub fn len(&self) -> u64 {
        self.ranges
            .iter()
            .map(|r| r.end() - r.start() + 1)
            .fold(0u64, u64::saturating_add)
    }

    /// Returns the IDs of `self` that are not in `other`.
    pub fn difference(&self, other: &IdSet) -> IdSet {
        let mut out = IdSet::new();
        for range in self.ranges.iter() {
            for gap in other.ranges.gaps(range) {
                out.insert_range(gap);
            }
        }
        out
    }
}

impl FromIterator<u64> for IdSet {
    fn from_iter<I: IntoIterator<Item = u64>>(iter: I) -> Self {
        let mut set = IdSet::new();
        for id in iter {
            set.insert(id);
        }
        set
    }
}

impl fmt::Display for IdSet {
    /// Writes the set in the form the `ids` parameter takes: `1,3-5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, range) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write_range(f, range)?;
        }
        Ok(())
    }
}

fn write_range(f: &mut fmt::Formatter<'_>, range: &RangeInclusive<u64>) -> fmt::Result {
    if range.start() == range.end() {
        write!(f, "{}", range.start())
    } else {
        write!(f, "{}-{}", range.start(), range.end())
    }
}

fn parse_entry(entry: &str) -> Result<RangeInclusive<u64>, IdSetError> {
    let Some((start, end)) = entry.split_once('-') else {
        let id = parse_id(entry, entry)?;
        return Ok(id..=id);
    };
    let start = parse_id(start.trim(), entry)?;
    let end = parse_id(end.trim(), entry)?;
    if start > end {
        return Err(IdSetError::Reversed(entry.to_owned()));
    }
    Ok(start..=end)
}

/// Parses one positive decimal ID. Signs, spaces inside the number and values
/// past `u64::MAX` are rejected like any other non-ID text.
fn parse_id(text: &str, entry: &str) -> Result<u64, IdSetError> {
    let valid = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<u64>() {
        Ok(id) if valid && id > 0 => Ok(id),
        _ => Err(IdSetError::NotAnId(entry.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_ids_and_ranges() {
        let set = IdSet::parse(" 5 , 1359 - 1407,2").unwrap();

        assert_eq!(set.to_string(), "2,5,1359-1407");
    }

    #[test]
    fn merges_adjacent_entries() {
        let set = IdSet::parse("1,2,3-7,8").unwrap();

        assert_eq!(set.to_string(), "1-8");
    }

    #[test]
    fn rejects_bad_entries() {
        let cases = [
            ("", IdSetError::EmptyEntry),
            ("1,,2", IdSetError::EmptyEntry),
            ("1,", IdSetError::EmptyEntry),
            ("abc123", IdSetError::NotAnId("abc123".into())),
            ("0", IdSetError::NotAnId("0".into())),
            ("-5", IdSetError::NotAnId("-5".into())),
            ("+5", IdSetError::NotAnId("+5".into())),
            ("1-2-3", IdSetError::NotAnId("1-2-3".into())),
            ("7-3", IdSetError::Reversed("7-3".into())),
            (
                "99999999999999999999",
                IdSetError::NotAnId("99999999999999999999".into()),
            ),
        ];

        for (input, expected) in cases {
            assert_eq!(IdSet::parse(input), Err(expected), "input {input:?}");
        }
    }

    #[test]
    fn difference_splits_ranges() {
        let all = IdSet::parse("1-10").unwrap();
        let some = IdSet::parse("3,5-6").unwrap();

        assert_eq!(all.difference(&some).to_string(), "1-2,4,7-10");
    }

    proptest! {
        #[test]
        fn parse_matches_naive_model(entries in prop::collection::vec((1u64..60, 0u64..5), 1..8)) {
            let text: Vec<String> = entries.iter().map(|(s, w)| format!("{s}-{}", s + w)).collect();
            let set = IdSet::parse(&text.join(",")).unwrap();

            for id in 0..70 {
                let expected = entries.iter().any(|(s, w)| (*s..=s + w).contains(&id));
                prop_assert_eq!(set.contains(id), expected);
            }
        }

        #[test]
        fn display_round_trips(entries in prop::collection::vec(1u64..1000, 1..20)) {
            let set: IdSet = entries.into_iter().collect();

            prop_assert_eq!(IdSet::parse(&set.to_string()).unwrap(), set);
        }

        #[test]
        fn parse_never_panics(text in ".{0,40}") {
            let _ = IdSet::parse(&text);
        }
    }
}
