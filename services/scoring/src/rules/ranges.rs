//! A large tenant's schedule pass split into ranges of customer ids, so that
//! the rules workers of every replica share it instead of one replica running
//! it whole. Customer ids are UUIDv5 hashes, uniform over the id space, so
//! ranges of equal width hold about as many customers each, and the first
//! customers in id order tell how many there are ([`super::sample`]).

use uuid::Uuid;

use super::sample::Scale;

/// Customers read, in id order, to estimate a tenant's size.
pub const ESTIMATE_READ: u32 = 1_000;

/// Most ranges one pass is split into.
pub const MAX_RANGES: u64 = 1_024;

/// Ids from `first` to `last`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    /// The range's first id.
    pub first: Uuid,
    /// The range's last id.
    pub last: Uuid,
}

impl IdRange {
    /// The whole id space: a pass that is not split.
    pub const ALL: IdRange = IdRange {
        first: Uuid::nil(),
        last: Uuid::max(),
    };
}

/// The tenant's customers as estimated from the first of them in id order
/// (`first`, at most `read` of them read): their number when fewer than
/// `read` came back, else scaled by the share of the id space they cover.
pub fn estimate(first: &[Uuid], read: u32) -> u64 {
    match first.last() {
        Some(&last) if first.len() as u64 >= u64::from(read) => {
            let read = first.len() as u64;
            Scale::sampled(read, last).estimate(read)
        }
        _ => first.len() as u64,
    }
}

/// How many ranges a pass over about `customers` customers is split into so
/// that each holds at most about `per_range`: at least 1, at most
/// [`MAX_RANGES`].
pub fn count(customers: u64, per_range: u64) -> u64 {
    customers.div_ceil(per_range.max(1)).clamp(1, MAX_RANGES)
}

/// The id space split into `n` (at least 1) ranges of equal width by the top
/// 64 bits of the id: in order, from the nil uuid to the max one, each
/// starting one past where the one before it ends.
pub fn split(n: u64) -> Vec<IdRange> {
    let n = u128::from(n.max(1));
    // Range i holds the top-64-bit positions from floor(i * 2^64 / n) up to
    // the next range's start, less one.
    let start = |i: u128| ((i << 64) / n) as u64;
    (0..n)
        .map(|i| {
            let last = if i + 1 == n {
                u64::MAX
            } else {
                start(i + 1) - 1
            };
            IdRange {
                first: Uuid::from_u64_pair(start(i), 0),
                last: Uuid::from_u64_pair(last, u64::MAX),
            }
        })
        .collect()
}

/// The id after `id`; `None` after the max uuid.
pub fn next_id(id: Uuid) -> Option<Uuid> {
    id.as_u128().checked_add(1).map(Uuid::from_u128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ranges_cover_the_id_space_once_without_gaps_or_overlap() {
        for n in [1, 2, 3, 7, 1_024] {
            let ranges = split(n);
            assert_eq!(ranges.len() as u64, n);
            assert_eq!(ranges[0].first, Uuid::nil(), "{n} ranges");
            assert_eq!(ranges[ranges.len() - 1].last, Uuid::max(), "{n} ranges");
            for r in &ranges {
                assert!(r.first <= r.last, "{n} ranges: {r:?}");
            }
            for pair in ranges.windows(2) {
                assert_eq!(
                    next_id(pair[0].last),
                    Some(pair[1].first),
                    "{n} ranges: {pair:?}"
                );
            }
            // Equal widths: the top 64 bits of the starts differ by
            // 2^64 / n, give or take the rounding down.
            let width = (1u128 << 64) / u128::from(n);
            for pair in ranges.windows(2) {
                let step = u128::from(pair[1].first.as_u64_pair().0)
                    - u128::from(pair[0].first.as_u64_pair().0);
                assert!(step.abs_diff(width) <= 1, "{n} ranges: step {step}");
            }
        }
        assert_eq!(split(0), split(1));
        assert_eq!(split(1), [IdRange::ALL]);
    }

    #[test]
    fn a_pass_is_split_by_the_estimate_up_to_the_most_ranges() {
        assert_eq!(count(0, 100_000), 1);
        assert_eq!(count(100_000, 100_000), 1);
        assert_eq!(count(100_001, 100_000), 2);
        assert_eq!(count(3_000, 500), 6);
        assert_eq!(count(5_000_000_000, 100_000), MAX_RANGES);
        assert_eq!(count(10, 0), 10);
    }

    #[test]
    fn fewer_customers_than_read_are_counted_and_more_estimated() {
        let ids: Vec<Uuid> = (0..10u128).map(|i| Uuid::from_u128(i << 100)).collect();
        assert_eq!(estimate(&ids, 1_000), 10);
        assert_eq!(estimate(&[], 1_000), 0);
        // Ten ids reaching a tenth of the id space: about 90 customers (the
        // unbiased scale, 9 / 10 of 10 / 0.1).
        let spread: Vec<Uuid> = (1..=10u128)
            .map(|i| Uuid::from_u128(u128::MAX / 100 * i))
            .collect();
        assert_eq!(estimate(&spread, 10), 90);
    }

    #[test]
    fn the_id_after_the_max_is_none() {
        assert_eq!(next_id(Uuid::nil()), Some(Uuid::from_u128(1)));
        assert_eq!(next_id(Uuid::max()), None);
    }
}
