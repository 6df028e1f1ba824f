//! IPv4 address sets: the `ips`, `add_ips` and `remove_ips` parameters parsed into
//! merged intervals of `u32`.
//!
//! A set is never expanded into addresses, so `0.0.0.0-255.255.255.255` costs as
//! much as one address, and adding or removing ranges splits and merges intervals.

use std::fmt;
use std::net::Ipv4Addr;
use std::ops::RangeInclusive;

use smallvec::SmallVec;

/// Number of ranges stored inside the set itself. A set with more moves them
/// to the heap. Three cover a typical record and keep `IpSet` at 32 bytes.
const INLINE_RANGES: usize = 3;

type Ranges = SmallVec<[(u32, u32); INLINE_RANGES]>;

/// A set of IPv4 addresses kept as sorted, merged, inclusive intervals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpSet {
    /// Inclusive `(start, end)` pairs in ascending order. No two of them
    /// overlap or touch, so the list is the one canonical form of the set.
    ranges: Ranges,
}

/// Why an IP list could not be parsed; each variant carries the offending entry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IpSetError {
    /// The value, or one comma-separated entry of it, is empty.
    #[error("the list is empty or has an empty entry")]
    EmptyEntry,
    /// CIDR notation, which auth records do not take.
    #[error("'{0}' uses CIDR notation; give a range such as 10.0.0.0-10.0.0.255")]
    Cidr(String),
    /// An IPv6 address, which auth records do not take.
    #[error("'{0}' is an IPv6 address; only IPv4 addresses and ranges are supported")]
    Ipv6(String),
    /// Text that is not a dotted-quad IPv4 address.
    #[error("'{0}' is not a valid IPv4 address")]
    Invalid(String),
    /// A range whose start is greater than its end.
    #[error("range '{0}' starts after it ends")]
    Reversed(String),
    /// More comma-separated entries than one request may carry.
    #[error("more than {MAX_ENTRIES} entries; merge neighbouring addresses into ranges")]
    TooManyEntries,
}

/// Maximum number of comma-separated entries in one IP list. The limit
/// bounds the work and memory of one request.
pub const MAX_ENTRIES: usize = 10_000;

impl IpSet {
    /// Creates an empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a comma-separated list of addresses and `a.b.c.d-e.f.g.h` ranges,
    /// ignoring spaces around entries and around the dash.
    pub fn parse(value: &str) -> Result<Self, IpSetError> {
        let mut ranges = Ranges::new();
        for (index, entry) in value.split(',').enumerate() {
            if index == MAX_ENTRIES {
                return Err(IpSetError::TooManyEntries);
            }
            let entry = entry.trim();
            if entry.is_empty() {
                return Err(IpSetError::EmptyEntry);
            }
            ranges.push(parse_entry(entry)?);
        }
        Ok(IpSet::from_unsorted(ranges))
    }

    /// Adds every address of an inclusive range.
    pub fn insert_range(&mut self, range: RangeInclusive<u32>) {
        self.union_with(&std::iter::once(range).collect());
    }

    /// Adds every address of `other`, in time linear in both sizes.
    pub fn union_with(&mut self, other: &IpSet) {
        let mut mine = self.ranges.iter().copied().peekable();
        let mut theirs = other.ranges.iter().copied().peekable();
        let mut merged = Ranges::with_capacity(self.ranges.len() + other.ranges.len());

        // Both lists are sorted, so taking the lower start each time yields
        // every range in start order.
        loop {
            let next = match (mine.peek(), theirs.peek()) {
                (Some(a), Some(b)) if a.0 <= b.0 => mine.next(),
                (Some(_), Some(_)) => theirs.next(),
                (Some(_), None) => mine.next(),
                (None, _) => theirs.next(),
            };
            let Some(range) = next else {
                break;
            };
            push_merged(&mut merged, range);
        }
        self.ranges = shrunk(merged);
    }

    /// Removes every address of `other`, splitting intervals where needed, in
    /// time linear in both sizes.
    pub fn subtract(&mut self, other: &IpSet) {
        let mut cuts = other.ranges.iter().copied().peekable();
        let mut remaining = Ranges::new();

        for &(start, end) in &self.ranges {
            while cuts.next_if(|&(_, cut_end)| cut_end < start).is_some() {}
            let mut rest = Some(start);
            while let (Some(from), Some(&(cut_start, cut_end))) = (rest, cuts.peek()) {
                if cut_start > end {
                    break;
                }
                if cut_start > from {
                    remaining.push((from, cut_start - 1));
                }
                if cut_end >= end {
                    // The cut may reach into the next range, so it stays.
                    rest = None;
                } else {
                    rest = Some(cut_end + 1);
                    cuts.next();
                }
            }
            if let Some(from) = rest {
                remaining.push((from, end));
            }
        }
        self.ranges = shrunk(remaining);
    }

    /// Returns whether the set contains `addr`.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        self.range_containing(u32::from(addr)).is_some()
    }

    /// Returns the interval that contains `addr`, found by binary search.
    pub fn range_containing(&self, addr: u32) -> Option<RangeInclusive<u32>> {
        let after = self.ranges.partition_point(|&(start, _)| start <= addr);
        let &(start, end) = self.ranges[..after].last()?;
        (end >= addr).then_some(start..=end)
    }

    /// Returns whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The merged intervals in ascending order.
    pub fn ranges(&self) -> impl Iterator<Item = RangeInclusive<u32>> + '_ {
        self.ranges.iter().map(|&(start, end)| start..=end)
    }

    /// Counts the intervals, which is what an IP set costs in memory.
    pub fn range_count(&self) -> usize {
        self.ranges.len()
    }

    /// Builds the canonical form of `ranges` in O(n log n): sorts them by
    /// start, then merges each one into its predecessor when they overlap
    /// or touch.
    fn from_unsorted(mut ranges: Ranges) -> IpSet {
        ranges.sort_unstable();
        let mut merged = Ranges::with_capacity(ranges.len());
        for range in ranges {
            push_merged(&mut merged, range);
        }
        IpSet {
            ranges: shrunk(merged),
        }
    }
}

/// Appends `range`, which starts no lower than the last range of `ranges`,
/// merging the two when they overlap or touch.
fn push_merged(ranges: &mut Ranges, (start, end): (u32, u32)) {
    match ranges.last_mut() {
        // `saturating_add` keeps a range that ends at 255.255.255.255 from
        // wrapping; nothing can start after it anyway.
        Some(last) if start <= last.1.saturating_add(1) => last.1 = last.1.max(end),
        _ => ranges.push((start, end)),
    }
}

/// Drops spare capacity, which also moves a list short enough to fit inline
/// back off the heap.
fn shrunk(mut ranges: Ranges) -> Ranges {
    ranges.shrink_to_fit();
    ranges
}

impl FromIterator<RangeInclusive<u32>> for IpSet {
    /// Collects ranges in any order; empty ranges (start after end) add nothing.
    fn from_iter<I: IntoIterator<Item = RangeInclusive<u32>>>(iter: I) -> Self {
        let ranges = iter
            .into_iter()
            .filter(|range| !range.is_empty())
            .map(|range| (*range.start(), *range.end()))
            .collect();
        IpSet::from_unsorted(ranges)
    }
}

/// One interval written as Qualys writes it: `10.0.0.1` or `10.0.0.1-10.0.0.9`.
pub struct IpRangeDisplay<'a>(pub &'a RangeInclusive<u32>);

impl fmt::Display for IpRangeDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let start = Ipv4Addr::from(*self.0.start());
        if self.0.start() == self.0.end() {
            write!(f, "{start}")
        } else {
            write!(f, "{start}-{}", Ipv4Addr::from(*self.0.end()))
        }
    }
}

impl fmt::Display for IpSet {
    /// Writes the set in the form the `ips` parameter takes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, range) in self.ranges().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", IpRangeDisplay(&range))?;
        }
        Ok(())
    }
}

/// Parses one entry into an inclusive `(start, end)` pair.
fn parse_entry(entry: &str) -> Result<(u32, u32), IpSetError> {
    // One pass finds what the entry is; a CIDR block is named before IPv6.
    let (mut slash, mut colon, mut dash) = (false, false, None);
    for (at, byte) in entry.bytes().enumerate() {
        match byte {
            b'/' => slash = true,
            b':' => colon = true,
            b'-' if dash.is_none() => dash = Some(at),
            _ => {}
        }
    }
    if slash {
        return Err(IpSetError::Cidr(entry.to_owned()));
    }
    if colon {
        return Err(IpSetError::Ipv6(entry.to_owned()));
    }
    let Some(dash) = dash else {
        let addr = parse_addr(entry, entry)?;
        return Ok((addr, addr));
    };
    let start = parse_addr(entry[..dash].trim(), entry)?;
    let end = parse_addr(entry[dash + 1..].trim(), entry)?;
    if start > end {
        return Err(IpSetError::Reversed(entry.to_owned()));
    }
    Ok((start, end))
}

/// Parses a dotted quad. The standard parser already rejects octets over 255,
/// leading zeros (which some tools read as octal) and missing octets.
fn parse_addr(text: &str, entry: &str) -> Result<u32, IpSetError> {
    text.parse::<Ipv4Addr>()
        .map(u32::from)
        .map_err(|_| IpSetError::Invalid(entry.to_owned()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_addresses_and_ranges() {
        let set = IpSet::parse("10.10.10.2-10.10.10.4, 10.0.0.1 ,10.10.10.5").unwrap();

        assert_eq!(set.to_string(), "10.0.0.1,10.10.10.2-10.10.10.5");
    }

    #[test]
    fn whole_space_is_one_interval() {
        let set = IpSet::parse("0.0.0.0-255.255.255.255").unwrap();

        assert_eq!(set.range_count(), 1);
    }

    #[test]
    fn rejects_bad_entries() {
        let cases = [
            ("", IpSetError::EmptyEntry),
            ("10.0.0.1,", IpSetError::EmptyEntry),
            ("10.0.0.0/24", IpSetError::Cidr("10.0.0.0/24".into())),
            ("::1", IpSetError::Ipv6("::1".into())),
            ("10.0.0.256", IpSetError::Invalid("10.0.0.256".into())),
            ("10.0.0", IpSetError::Invalid("10.0.0".into())),
            ("010.0.0.1", IpSetError::Invalid("010.0.0.1".into())),
            ("10.0.0.1-", IpSetError::Invalid("10.0.0.1-".into())),
            ("host.example", IpSetError::Invalid("host.example".into())),
            (
                "10.0.0.9-10.0.0.1",
                IpSetError::Reversed("10.0.0.9-10.0.0.1".into()),
            ),
        ];

        for (input, expected) in cases {
            assert_eq!(IpSet::parse(input), Err(expected), "input {input:?}");
        }
    }

    #[test]
    fn subtract_splits_a_range() {
        let mut set = IpSet::parse("10.0.0.1-10.0.0.10").unwrap();

        set.subtract(&IpSet::parse("10.0.0.4-10.0.0.5").unwrap());

        assert_eq!(set.to_string(), "10.0.0.1-10.0.0.3,10.0.0.6-10.0.0.10");
    }

    #[test]
    fn adjacent_entries_merge() {
        let set = IpSet::parse("10.0.0.2,10.0.0.1").unwrap();

        assert_eq!(set.range_count(), 1);
        assert_eq!(set.to_string(), "10.0.0.1-10.0.0.2");
    }

    #[test]
    fn edges_of_the_space_do_not_wrap() {
        let mut set = IpSet::parse("255.255.255.254-255.255.255.255, 0.0.0.0").unwrap();
        set.union_with(&IpSet::parse("255.255.255.255").unwrap());
        assert_eq!(set.to_string(), "0.0.0.0,255.255.255.254-255.255.255.255");

        set.subtract(&IpSet::parse("0.0.0.0,255.255.255.255").unwrap());
        assert_eq!(set.to_string(), "255.255.255.254");

        let mut whole = IpSet::parse("0.0.0.0-255.255.255.255").unwrap();
        whole.subtract(&IpSet::parse("0.0.0.0,255.255.255.255").unwrap());
        assert_eq!(whole.to_string(), "0.0.0.1-255.255.255.254");
    }

    #[test]
    fn subtract_with_one_cut_across_ranges() {
        let mut set = IpSet::parse("10.0.0.1-10.0.0.3,10.0.0.5-10.0.0.7,10.0.0.9").unwrap();

        set.subtract(&IpSet::parse("10.0.0.2-10.0.0.6").unwrap());

        assert_eq!(set.to_string(), "10.0.0.1,10.0.0.7,10.0.0.9");
    }

    #[test]
    fn range_containing_finds_interval() {
        let set = IpSet::parse("10.0.0.1-10.0.0.3,10.0.0.9").unwrap();
        let base = u32::from(Ipv4Addr::new(10, 0, 0, 0));

        assert_eq!(set.range_containing(base), None);
        assert_eq!(set.range_containing(base + 2), Some(base + 1..=base + 3));
        assert_eq!(set.range_containing(base + 5), None);
        assert_eq!(set.range_containing(base + 9), Some(base + 9..=base + 9));
        assert_eq!(set.range_containing(base + 10), None);
    }

    #[test]
    fn entry_limit_is_exact() {
        let entries = |count: u32| {
            (0..count)
                .map(|n| Ipv4Addr::from(n * 2).to_string())
                .collect::<Vec<_>>()
                .join(",")
        };

        let at_limit = IpSet::parse(&entries(MAX_ENTRIES as u32)).unwrap();
        assert_eq!(at_limit.range_count(), MAX_ENTRIES);
        assert_eq!(
            IpSet::parse(&entries(MAX_ENTRIES as u32 + 1)),
            Err(IpSetError::TooManyEntries)
        );
    }

    fn small_ranges() -> impl Strategy<Value = Vec<(u32, u32)>> {
        prop::collection::vec((0u32..64, 0u32..6), 0..6)
    }

    /// Upper bound (exclusive) of the range starts that `large_ranges` draws.
    const LARGE_SPACE: u32 = 2_000;

    fn large_ranges() -> impl Strategy<Value = Vec<(u32, u32)>> {
        prop::collection::vec((0u32..LARGE_SPACE, 0u32..40), 0..60)
    }

    /// Checks that the intervals are ascending, disjoint and not touching.
    fn assert_canonical(set: &IpSet) -> Result<(), TestCaseError> {
        let ends: Vec<(u32, u32)> = set.ranges().map(|r| (*r.start(), *r.end())).collect();
        for &(start, end) in &ends {
            prop_assert!(start <= end, "empty interval {}-{}", start, end);
        }
        for pair in ends.windows(2) {
            prop_assert!(
                pair[0].1 + 1 < pair[1].0,
                "intervals not merged: {:?}",
                pair
            );
        }
        Ok(())
    }

    fn to_set(ranges: &[(u32, u32)]) -> IpSet {
        ranges.iter().map(|&(s, w)| s..=s + w).collect()
    }

    fn naive(ranges: &[(u32, u32)]) -> BTreeSet<u32> {
        ranges.iter().flat_map(|&(s, w)| s..=s + w).collect()
    }

    proptest! {
        #[test]
        fn algebra_matches_naive_model(a in small_ranges(), b in small_ranges(), c in small_ranges()) {
            let mut set = to_set(&a);
            set.union_with(&to_set(&b));
            set.subtract(&to_set(&c));

            let mut model = naive(&a);
            model.extend(naive(&b));
            for x in naive(&c) {
                model.remove(&x);
            }

            for x in 0..80u32 {
                prop_assert_eq!(set.contains(Ipv4Addr::from(x)), model.contains(&x));
            }
            let mut ends = set.ranges().map(|r| (*r.start(), *r.end())).collect::<Vec<_>>();
            ends.dedup();
            for pair in ends.windows(2) {
                prop_assert!(pair[0].1 + 1 < pair[1].0, "intervals not merged: {:?}", pair);
            }
        }

        #[test]
        fn large_algebra_matches_naive_model(
            a in large_ranges(),
            b in large_ranges(),
            c in large_ranges(),
        ) {
            let mut set = to_set(&a);
            set.union_with(&to_set(&b));
            set.subtract(&to_set(&c));

            let mut model = naive(&a);
            model.extend(naive(&b));
            for x in naive(&c) {
                model.remove(&x);
            }

            prop_assert_eq!(set.ranges().flatten().collect::<BTreeSet<u32>>(), model.clone());
            for x in 0..LARGE_SPACE + 100 {
                prop_assert_eq!(set.contains(Ipv4Addr::from(x)), model.contains(&x));
            }
            assert_canonical(&set)?;
        }

        #[test]
        fn parse_matches_naive_model(entries in large_ranges()) {
            let text = entries
                .iter()
                .map(|&(start, width)| {
                    let (first, last) = (Ipv4Addr::from(start), Ipv4Addr::from(start + width));
                    if width == 0 { first.to_string() } else { format!("{first} - {last}") }
                })
                .collect::<Vec<_>>()
                .join(" , ");
            prop_assume!(!text.is_empty());

            let set = IpSet::parse(&text).unwrap();

            prop_assert_eq!(set.ranges().flatten().collect::<BTreeSet<u32>>(), naive(&entries));
            assert_canonical(&set)?;
            prop_assert_eq!(IpSet::parse(&set.to_string()).unwrap(), set);
        }

        #[test]
        fn display_round_trips(a in small_ranges()) {
            let set = to_set(&a);
            prop_assume!(!set.is_empty());

            prop_assert_eq!(IpSet::parse(&set.to_string()).unwrap(), set);
        }

        #[test]
        fn parse_never_panics(text in "[0-9./:, -]{0,40}") {
            let _ = IpSet::parse(&text);
        }
    }
}
