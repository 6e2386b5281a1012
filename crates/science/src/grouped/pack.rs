//! Building the rows: a radix sort of packed integer keys for whole-number times, a sort by
//! frequency otherwise.

use super::order::by_frequency;
use super::{FrequencyGroup, Row};
use crate::history::CustomerHistory;

/// Most bits per radix-sort digit: 8192 counters still fit in L2, and keys of up to 26
/// bits (60 frequencies, two years of days) sort in two passes.
const MAX_DIGIT_BITS: u32 = 13;

fn bits(max: u64) -> u32 {
    u64::BITS - max.leading_zeros()
}

/// Whole-number data packed as `x | t_x | T` in one `u64`, sorted and run-length merged;
/// `None` when a time is fractional or the key does not fit in 64 bits.
pub(super) fn whole_rows(
    customers: &[CustomerHistory],
    scale: f64,
) -> Option<(Vec<FrequencyGroup>, Vec<Row>, Option<u32>)> {
    let mut max_time = 0.0_f64;
    let mut max_frequency = 0;
    for c in customers {
        let whole = c.recency.fract() == 0.0 && c.age.fract() == 0.0;
        if !whole || c.age >= f64::from(u32::MAX) {
            return None;
        }
        max_time = max_time.max(c.age);
        max_frequency = max_frequency.max(c.frequency);
    }
    // Validated: 0 <= recency <= age, so both fit in u32.
    let max_time = max_time as u32;
    let time_bits = bits(u64::from(max_time));
    let frequency_bits = bits(u64::from(max_frequency));
    if frequency_bits + 2 * time_bits > u64::BITS {
        return None;
    }
    let mut keys: Vec<u64> = customers
        .iter()
        .map(|c| {
            let (recency, age) = (c.recency as u64, c.age as u64);
            (u64::from(c.frequency) << (2 * time_bits)) | (recency << time_bits) | age
        })
        .collect();
    radix_sort(&mut keys, frequency_bits + 2 * time_bits);
    let time_mask = (1_u64 << time_bits) - 1;
    let mut groups: Vec<FrequencyGroup> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut previous = None;
    for key in keys {
        if previous == Some(key) {
            if let (Some(row), Some(group)) = (rows.last_mut(), groups.last_mut()) {
                row.weight += 1.0;
                group.count += 1.0;
            }
            continue;
        }
        previous = Some(key);
        let frequency = (key >> (2 * time_bits)) as u32;
        let recency = ((key >> time_bits) & time_mask) as u32;
        let age = (key & time_mask) as u32;
        push(&mut groups, &mut rows, frequency, [recency, age], scale);
    }
    // A table of the times pays only when it is no longer than the rows.
    let table = (max_time as usize) < rows.len();
    if !table {
        for row in &mut rows {
            (row.recency_step, row.age_step) = (0, 0);
        }
    }
    Some((groups, rows, table.then_some(max_time)))
}

/// A new row of one customer, times `[recency, age]` multiplied by `scale` exactly as
/// [`super::WholeTimes::table`] does.
fn push(
    groups: &mut Vec<FrequencyGroup>,
    rows: &mut Vec<Row>,
    frequency: u32,
    [recency, age]: [u32; 2],
    scale: f64,
) {
    let x = f64::from(frequency);
    if groups.last().is_none_or(|g| g.frequency != x) {
        groups.push(FrequencyGroup {
            frequency: x,
            count: 0.0,
        });
    }
    let group = groups.len() - 1;
    groups[group].count += 1.0;
    rows.push(Row {
        recency: f64::from(recency) * scale,
        age: f64::from(age) * scale,
        weight: 1.0,
        group: group as u32,
        recency_step: recency,
        age_step: age,
    });
}

/// Least-significant-digit radix sort of the low `bits` bits (the rest are zero).
fn radix_sort(keys: &mut Vec<u64>, bits: u32) {
    let mut scratch = vec![0_u64; keys.len()];
    let passes = bits.div_ceil(MAX_DIGIT_BITS).max(1);
    let digit_bits = bits.div_ceil(passes).max(1);
    let mask = (1_u64 << digit_bits) - 1;
    let mut shift = 0;
    while shift < bits {
        let mut starts = vec![0_usize; 1 << digit_bits];
        for &k in keys.iter() {
            starts[((k >> shift) & mask) as usize] += 1;
        }
        let mut sum = 0;
        for s in &mut starts {
            (*s, sum) = (sum, sum + *s);
        }
        for &k in keys.iter() {
            let digit = ((k >> shift) & mask) as usize;
            scratch[starts[digit]] = k;
            starts[digit] += 1;
        }
        std::mem::swap(keys, &mut scratch);
        shift += digit_bits;
    }
}

/// One row per customer, ordered by frequency, times multiplied by `scale`.
pub(super) fn frequency_order(
    customers: &[CustomerHistory],
    scale: f64,
) -> (Vec<FrequencyGroup>, Vec<Row>, Option<u32>) {
    let sorted = by_frequency(
        customers,
        |c| c.frequency,
        |c, group| Row {
            recency: c.recency * scale,
            age: c.age * scale,
            weight: 1.0,
            group,
            recency_step: 0,
            age_step: 0,
        },
    );
    let groups = sorted
        .frequencies
        .iter()
        .map(|&(f, n)| FrequencyGroup {
            frequency: f64::from(f),
            count: n as f64,
        })
        .collect();
    (groups, sorted.items, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radix_sort_sorts() {
        let mut keys: Vec<u64> = (0..10_000_u64)
            .map(|i| (((i * 2_654_435_761) % 1_000_003) << 7) | (i % 100))
            .collect();
        let mut expected = keys.clone();
        expected.sort_unstable();
        radix_sort(&mut keys, 27);
        assert_eq!(keys, expected);
        let mut small: Vec<u64> = (0..1000_u64).map(|i| (i * 7919) % 13).collect();
        let mut expected = small.clone();
        expected.sort_unstable();
        radix_sort(&mut small, 4);
        assert_eq!(small, expected);
    }
}
