//! IPv4 address sets: the `ips`, `add_ips` and `remove_ips` parameters parsed into
//! merged intervals of `u32`.
//!
//! A set is never expanded into addresses, so `0.0.0.0-255.255.255.255` costs as
//! much as one address, and adding or removing ranges splits and merges intervals.

use std::fmt;
use std::net::Ipv4Addr;
use std::ops::RangeInclusive;

use rangemap::RangeInclusiveSet;

/// A set of IPv4 addresses kept as sorted, merged, inclusive intervals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpSet {
    ranges: RangeInclusiveSet<u32>,
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
        let mut set = IpSet::new();
        for (index, entry) in value.split(',').enumerate() {
            if index == MAX_ENTRIES {
                return Err(IpSetError::TooManyEntries);
            }
            let entry = entry.trim();
            if entry.is_empty() {
                return Err(IpSetError::EmptyEntry);
            }
            set.ranges.insert(parse_entry(entry)?);
        }
        Ok(set)
    }

    /// Adds every address of an inclusive range.
    pub fn insert_range(&mut self, range: RangeInclusive<u32>) {
        self.ranges.insert(range);
    }

    /// Adds every address of `other`.
    pub fn union_with(&mut self, other: &IpSet) {
        for range in other.ranges.iter() {
            self.ranges.insert(range.clone());
        }
    }

    /// Removes every address of `other`, splitting intervals where needed.
    pub fn subtract(&mut self, other: &IpSet) {
        for range in other.ranges.iter() {
            self.ranges.remove(range.clone());
        }
    }

    /// Returns whether the set contains `addr`.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        self.ranges.contains(&u32::from(addr))
    }

    /// Returns whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The merged intervals in ascending order.
    pub fn ranges(&self) -> impl Iterator<Item = &RangeInclusive<u32>> {
        self.ranges.iter()
    }

    /// Counts the intervals, which is what an IP set costs in memory.
    pub fn range_count(&self) -> usize {
        self.ranges.len()
    }
}

impl FromIterator<RangeInclusive<u32>> for IpSet {
    fn from_iter<I: IntoIterator<Item = RangeInclusive<u32>>>(iter: I) -> Self {
        IpSet {
            ranges: iter.into_iter().collect(),
        }
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
        for (i, range) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", IpRangeDisplay(range))?;
        }
        Ok(())
    }
}

fn parse_entry(entry: &str) -> Result<RangeInclusive<u32>, IpSetError> {
    if entry.contains('/') {
        return Err(IpSetError::Cidr(entry.to_owned()));
    }
    if entry.contains(':') {
        return Err(IpSetError::Ipv6(entry.to_owned()));
    }
    let Some((start, end)) = entry.split_once('-') else {
        let addr = parse_addr(entry, entry)?;
        return Ok(addr..=addr);
    };
    let start = parse_addr(start.trim(), entry)?;
    let end = parse_addr(end.trim(), entry)?;
    if start > end {
        return Err(IpSetError::Reversed(entry.to_owned()));
    }
    Ok(start..=end)
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

    fn small_ranges() -> impl Strategy<Value = Vec<(u32, u32)>> {
        prop::collection::vec((0u32..64, 0u32..6), 0..6)
    }

    fn to_set(ranges: &[(u32, u32)]) -> IpSet {
        ranges.iter().map(|&(s, w)| s..=s + w).collect()
    }

    fn naive(ranges: &[(u32, u32)]) -> std::collections::BTreeSet<u32> {
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
