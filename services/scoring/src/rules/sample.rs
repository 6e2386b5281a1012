//! A dry run's sample and what it tells of the whole tenant. Customer ids
//! are UUIDv5, SHA-1 hashes of who the customer is, so they fall uniformly
//! over the id space whatever the customer is like: the customers with the
//! smallest ids are a uniform random sample of the tenant, and how far into
//! the id space the first `k` of them reach tells how many there are.

use uuid::Uuid;

/// Bits of an id read as its position in the id space: the top 48, above
/// the UUID version nibble, all hash.
const POSITION_BITS: u32 = 48;

/// The share of the id space from its start up to and including `id`'s
/// top 48 bits: in (0, 1], never 0 so it can be divided by.
pub fn id_space_fraction(id: Uuid) -> f64 {
    let b = id.as_bytes();
    let top = u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]]);
    (top + 1) as f64 / (1u64 << POSITION_BITS) as f64
}

/// How a dry run's counts scale to the whole tenant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale(f64);

impl Scale {
    /// Every customer was read: the counts are the tenant's.
    pub const WHOLE: Scale = Scale(1.0);

    /// The first `read` customers in id order were read, the last of them
    /// `last`. The `read` smallest of `n` uniform positions reach `u`, with
    /// E[1 / u] = n / (read - 1); so `(read - 1) / (read * u)` per customer
    /// read is an unbiased scale for any count over the customers read (the
    /// audience's, the matches), `read / u` overstating by `1 / read`.
    pub fn sampled(read: u64, last: Uuid) -> Scale {
        let read = read.max(2) as f64;
        Scale((read - 1.0) / (read * id_space_fraction(last)))
    }

    /// A count over the customers read, as an estimate over the tenant.
    pub fn estimate(self, count: u64) -> u64 {
        (count as f64 * self.0).round() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fraction_is_the_ids_top_48_bits_over_2_pow_48() {
        let at = |s: &str| id_space_fraction(Uuid::parse_str(s).unwrap());
        // A quarter and a half of the way: the version and variant bits,
        // and everything below the top 48, make no difference.
        assert_eq!(
            at("40000000-0000-5000-8000-000000000000"),
            0.25 + 2f64.powi(-48)
        );
        assert_eq!(at("7fffffff-ffff-5fff-bfff-ffffffffffff"), 0.5);
        assert_eq!(
            at("80000000-0000-4000-8000-000000000000"),
            0.5 + 2f64.powi(-48)
        );
        assert_eq!(at("ffffffff-ffff-5fff-bfff-ffffffffffff"), 1.0);
        // The very first id still covers a sliver, so it can be divided by.
        assert!(at("00000000-0000-5000-8000-000000000000") > 0.0);
    }

    #[test]
    fn a_sample_scales_its_counts_by_the_share_of_the_id_space_read() {
        // 1,001 customers read reaching a tenth of the id space: about 10,000
        // customers, and 300 matched among them about 2,997.
        // 0x199999999999 / 2^48 is a tenth, short of 2^-48 * 0.6.
        let last = Uuid::parse_str("19999999-9999-5abc-9def-0123456789ab").unwrap();
        let scale = Scale::sampled(1_001, last);
        assert_eq!(scale.estimate(1_001), 10_000);
        assert_eq!(scale.estimate(300), 2_997);
        assert_eq!(Scale::WHOLE.estimate(1_234), 1_234);
    }
}
