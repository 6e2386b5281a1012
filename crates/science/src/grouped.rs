//! Purchase histories arranged for fitting: grouped by frequency and, for whole-number times,
//! identical histories merged into one weighted row, so a pass over the data costs far less
//! than one over the customers.

pub(crate) mod order;
mod pack;

use crate::history::CustomerHistory;
use crate::parallel::chunked_sum;

/// Distinct histories with their multiplicities, times multiplied by a scale.
///
/// Purchase histories arranged for fitting: rows ordered by frequency, so the gamma-function
/// terms, which depend on the frequency only, are computed once per distinct value; and, for
/// whole-number times (days, weeks: what the scoring service fits), identical `(x, t_x, T)`
/// triples merged into one weighted row, with every time an index into a small table.
///
/// A million customers counted in days share a few hundred thousand triples and a few hundred
/// distinct times, so a pass over the data costs a fraction of one over the customers, and
/// the logarithms of the times are taken once per distinct time instead of once per row.
/// Fractional times rarely repeat, so they are only grouped by frequency.
#[derive(Clone)]
pub(crate) struct Grouped {
    pub groups: Vec<FrequencyGroup>,
    /// Rows in frequency order; each names its group.
    pub rows: Vec<Row>,
    /// Present when every time is a whole number: then `Row::recency_step` and
    /// `Row::age_step` are the unscaled times and the times are `step · scale`.
    pub whole: Option<WholeTimes>,
    /// Threads the likelihood may use over `rows`.
    pub threads: usize,
}

/// All customers with one frequency.
#[derive(Clone, Copy)]
pub(crate) struct FrequencyGroup {
    pub frequency: f64,
    /// Customers in the group (sum of the rows' weights).
    pub count: f64,
}

/// The distinct whole-number times `0..=max`, as scaled times.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WholeTimes {
    pub max: u32,
    pub scale: f64,
}

impl WholeTimes {
    /// `f(τ)` for every time `τ = k·scale`, `k = 0..=max`.
    pub fn table(&self, f: impl Fn(f64) -> f64) -> Vec<f64> {
        (0..=self.max)
            .map(|k| f(f64::from(k) * self.scale))
            .collect()
    }
}

/// One distinct history and how many customers share it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Row {
    pub recency: f64,
    pub age: f64,
    pub weight: f64,
    /// Index into [`Grouped::groups`].
    pub group: u32,
    /// Unscaled whole-number times when [`Grouped::whole`] is present, else 0.
    pub recency_step: u32,
    pub age_step: u32,
}

impl Grouped {
    /// Group (and, for whole-number times, compress) validated `customers`, multiplying
    /// every time by `scale`; one thread.
    pub fn new(customers: &[CustomerHistory], scale: f64) -> Self {
        let (groups, rows, max) = match pack::whole_rows(customers, scale) {
            Some(packed) => packed,
            None => pack::frequency_order(customers, scale),
        };
        Self {
            groups,
            rows,
            whole: max.map(|max| WholeTimes { max, scale }),
            threads: 1,
        }
    }

    /// Every `stride`-th row, with the group counts of those rows.
    pub fn subsample(&self, stride: usize) -> Self {
        let mut groups: Vec<FrequencyGroup> = self
            .groups
            .iter()
            .map(|g| FrequencyGroup { count: 0.0, ..*g })
            .collect();
        let rows: Vec<Row> = self.rows.iter().step_by(stride.max(1)).copied().collect();
        for row in &rows {
            groups[row.group as usize].count += row.weight;
        }
        Self {
            groups,
            rows,
            whole: self.whole,
            threads: self.threads,
        }
    }

    /// Customers represented (the sum of the rows' weights).
    pub fn customers(&self) -> f64 {
        self.groups.iter().map(|g| g.count).sum()
    }

    /// `Σ f(rows)` over fixed chunks of the rows, on this data's threads; see
    /// [`chunked_sum`] for why the result does not depend on the thread count.
    pub fn sum_rows<const M: usize>(&self, f: impl Fn(&[Row]) -> [f64; M] + Sync) -> [f64; M] {
        chunked_sum(&self.rows, self.threads, f)
    }
}

#[cfg(test)]
mod tests;
