//! Ordering customers by frequency in linear time.

/// Frequencies up to this are counted in a table indexed by frequency; larger ones, which
/// no real data have, fall back to a comparison sort.
const TABLE_LIMIT: u32 = 1 << 20;

/// Customers in frequency order.
pub(crate) struct FrequencyOrder {
    /// Distinct frequencies, ascending, with how many customers have each.
    pub frequencies: Vec<(u32, usize)>,
    /// Customer indices, frequency by frequency, each frequency's in input order.
    pub order: Vec<usize>,
}

/// A stable counting sort of `frequencies` (one per customer).
pub(crate) fn by_frequency(frequencies: &[u32]) -> FrequencyOrder {
    let max = frequencies.iter().copied().max().unwrap_or(0);
    if max >= TABLE_LIMIT {
        let mut order: Vec<usize> = (0..frequencies.len()).collect();
        order.sort_by_key(|&i| frequencies[i]);
        let mut distinct: Vec<(u32, usize)> = Vec::new();
        for &i in &order {
            match distinct.last_mut() {
                Some((f, n)) if *f == frequencies[i] => *n += 1,
                _ => distinct.push((frequencies[i], 1)),
            }
        }
        return FrequencyOrder {
            frequencies: distinct,
            order,
        };
    }
    let mut counts = vec![0_usize; max as usize + 1];
    for &f in frequencies {
        counts[f as usize] += 1;
    }
    let mut starts = Vec::with_capacity(counts.len());
    let mut sum = 0;
    for &c in &counts {
        starts.push(sum);
        sum += c;
    }
    let mut order = vec![0_usize; frequencies.len()];
    for (i, &f) in frequencies.iter().enumerate() {
        let slot = &mut starts[f as usize];
        order[*slot] = i;
        *slot += 1;
    }
    let distinct = counts
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c > 0)
        .map(|(f, &c)| (f as u32, c))
        .collect();
    FrequencyOrder {
        frequencies: distinct,
        order,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_stably_by_frequency_in_both_regimes() {
        for big in [0, TABLE_LIMIT] {
            let f = [3 + big, 0, 3 + big, 1, 0];
            let o = by_frequency(&f);
            assert_eq!(o.order, vec![1, 4, 3, 0, 2]);
            assert_eq!(o.frequencies, vec![(0, 2), (1, 1), (3 + big, 2)]);
        }
        let empty = by_frequency(&[]);
        assert!(empty.order.is_empty() && empty.frequencies.is_empty());
    }
}
