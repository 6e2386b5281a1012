//! SummarizeScores figures: customers and net spend per segment, spend
//! percentiles and a heavy-tailed histogram, fed one customer at a time in
//! ascending net-spend order.

use super::figures::Segment;

/// Percentiles a summary reports.
pub const PERCENTILES: [u32; 6] = [10, 25, 50, 75, 90, 99];
/// Smallest positive histogram bound, in minor units; bounds then grow by
/// half decades (100, 300, 1000, 3000, ...), because spend is heavy-tailed and
/// equal-width buckets would put nearly everyone in the first one.
pub const HISTOGRAM_FIRST_BOUND: i64 = 100;

/// The 1-based nearest rank of percentile `p` among `n` sorted values.
pub fn nearest_rank(p: u32, n: u64) -> u64 {
    ((p as u64 * n).div_ceil(100)).clamp(1, n.max(1))
}

/// Summary figures, fed values in ascending net-spend order. Fed from pages
/// read one after another (the stored figures), customers may come or go
/// between pages, so that the count given up front is off and a value may
/// fall outside the bounds given: nothing panics, every customer lands in a
/// bucket, and [`Summary::finish`] fills the percentiles not reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Customers seen.
    pub customers: u64,
    /// Total net spend.
    pub net_spend: i64,
    /// Customers and net spend per segment, indexed like [`Segment::ALL`].
    pub segments: [(u64, i64); 5],
    /// Net spend at each of [`PERCENTILES`]; empty without customers.
    pub percentiles: Vec<i64>,
    /// (inclusive lower bound, customers) per bucket; empty without customers.
    pub histogram: Vec<(i64, u64)>,
    expected: u64,
    last: i64,
}

impl Summary {
    /// A summary of `expected` customers whose net spend lies in `min..=max`.
    pub fn new(expected: u64, min: i64, max: i64) -> Summary {
        let mut histogram = Vec::new();
        if expected > 0 {
            if min < 0 {
                histogram.push((min, 0));
            }
            histogram.push((0, 0));
            let (mut bound, mut times_three) = (HISTOGRAM_FIRST_BOUND, true);
            while bound <= max && bound < i64::MAX {
                histogram.push((bound, 0));
                bound = if times_three {
                    bound.saturating_mul(3)
                } else {
                    (bound / 3).saturating_mul(10)
                };
                times_three = !times_three;
            }
        }
        Summary {
            customers: 0,
            net_spend: 0,
            segments: [(0, 0); 5],
            percentiles: Vec::new(),
            histogram,
            expected,
            last: 0,
        }
    }

    /// Adds the next customer; values must come in ascending order.
    pub fn add(&mut self, net_spend: i64, segment: Segment) {
        if self.histogram.is_empty() {
            // More customers than expected, none expected: one bucket from
            // the first value seen.
            self.histogram.push((net_spend.min(0), 0));
        }
        self.customers += 1;
        self.last = net_spend;
        self.net_spend = self.net_spend.saturating_add(net_spend);
        let s = &mut self.segments[segment.index()];
        s.0 += 1;
        s.1 = s.1.saturating_add(net_spend);
        let n = self.expected;
        while let Some(p) = PERCENTILES.get(self.percentiles.len()) {
            if self.customers < nearest_rank(*p, n) {
                break;
            }
            self.percentiles.push(net_spend);
        }
        let at = self
            .histogram
            .partition_point(|(bound, _)| *bound <= net_spend);
        if let Some(bucket) = self.histogram.get_mut(at.saturating_sub(1)) {
            bucket.1 += 1;
        }
    }

    /// Ends the feed: with fewer customers than expected (some vanished
    /// between pages), the percentiles not reached are the largest value
    /// seen, so they are all there whenever anyone was.
    pub fn finish(mut self) -> Summary {
        if self.customers > 0 {
            self.percentiles.resize(PERCENTILES.len(), self.last);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_picks_nearest_ranks_and_buckets() {
        let values: Vec<i64> = (1..=20).map(|i| i * 100).collect();
        let mut s = Summary::new(20, 100, 2_000);
        for v in &values {
            s.add(
                *v,
                if *v > 1_000 {
                    Segment::Active
                } else {
                    Segment::Lapsed
                },
            );
        }
        assert_eq!(s.customers, 20);
        assert_eq!(s.net_spend, 21_000);
        // Ranks ceil(p * 20 / 100): 2, 5, 10, 15, 18, 20.
        assert_eq!(s.percentiles, vec![200, 500, 1_000, 1_500, 1_800, 2_000]);
        assert_eq!(s.segments[Segment::Active.index()], (10, 15_500));
        assert_eq!(s.segments[Segment::Lapsed.index()], (10, 5_500));
        // Values 100, 200, ..., 2000: bounds 0, 100, 300, 1000.
        assert_eq!(s.histogram, vec![(0, 0), (100, 2), (300, 7), (1_000, 11)]);
        assert_eq!(s.histogram.iter().map(|b| b.1).sum::<u64>(), 20);
    }

    #[test]
    fn summary_handles_tiny_and_empty_populations() {
        let empty = Summary::new(0, 0, 0);
        assert!(empty.percentiles.is_empty() && empty.histogram.is_empty());
        let mut one = Summary::new(1, -50, -50);
        one.add(-50, Segment::None);
        assert_eq!(one.percentiles, vec![-50; 6]);
        assert_eq!(one.histogram, vec![(-50, 1), (0, 0)]);
        let mut wide = Summary::new(2, i64::MIN / 2, i64::MAX / 2);
        wide.add(i64::MIN / 2, Segment::Lapsed);
        wide.add(i64::MAX / 2, Segment::Lapsed);
        assert_eq!(wide.histogram.iter().map(|b| b.1).sum::<u64>(), 2);
    }

    #[test]
    fn a_count_that_changed_between_pages_still_gives_every_figure() {
        // Four expected, two came: percentiles past the second filled.
        let mut fewer = Summary::new(4, 100, 400);
        fewer.add(100, Segment::Active);
        fewer.add(200, Segment::Active);
        let fewer = fewer.finish();
        assert_eq!(fewer.percentiles, vec![100, 100, 200, 200, 200, 200]);
        assert_eq!(fewer.histogram.iter().map(|b| b.1).sum::<u64>(), 2);
        // None expected, two came, one below the bounds and one above.
        let mut more = Summary::new(0, 0, 0);
        more.add(-5, Segment::None);
        more.add(9_000, Segment::Active);
        let more = more.finish();
        assert_eq!((more.customers, more.net_spend), (2, 8_995));
        assert_eq!(more.percentiles.len(), PERCENTILES.len());
        assert_eq!(more.histogram.iter().map(|b| b.1).sum::<u64>(), 2);
        // One expected, three came, out of order: no panic, all counted.
        let mut over = Summary::new(1, 50, 50);
        for v in [50, 10, -20] {
            over.add(v, Segment::Lapsed);
        }
        let over = over.finish();
        assert_eq!(over.percentiles, vec![50; 6]);
        assert_eq!(over.histogram.iter().map(|b| b.1).sum::<u64>(), 3);
        assert!(Summary::new(3, 0, 0).finish().percentiles.is_empty());
    }
}
