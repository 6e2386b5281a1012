//! Ordering customers by frequency in linear time.

/// Frequencies up to this are counted in a table indexed by frequency; larger ones, which
/// no real data have, fall back to a comparison sort.
const TABLE_LIMIT: u32 = 1 << 20;

/// Items in frequency order.
pub(crate) struct FrequencyOrder<U> {
    /// Distinct frequencies, ascending, with how many items have each.
    pub frequencies: Vec<(u32, usize)>,
    /// `make(item, group)` for every item, frequency by frequency, each frequency's in input
    /// order; `group` indexes `frequencies`.
    pub items: Vec<U>,
}

/// A stable counting sort of `items` by `frequency`, made into `U`s on the way. Items are
/// read in order and written to their slots, which is kinder to the cache than gathering
/// them in sorted order.
pub(crate) fn by_frequency<T, U: Copy + Default>(
    items: &[T],
    frequency: impl Fn(&T) -> u32,
    make: impl Fn(&T, u32) -> U,
) -> FrequencyOrder<U> {
    let max = items.iter().map(&frequency).max().unwrap_or(0);
    if max >= TABLE_LIMIT {
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by_key(|&i| frequency(&items[i]));
        let mut distinct: Vec<(u32, usize)> = Vec::new();
        let mut sorted = Vec::with_capacity(items.len());
        for &i in &order {
            let f = frequency(&items[i]);
            match distinct.last_mut() {
                Some((last, n)) if *last == f => *n += 1,
                _ => distinct.push((f, 1)),
            }
            sorted.push(make(&items[i], (distinct.len() - 1) as u32));
        }
        return FrequencyOrder {
            frequencies: distinct,
            items: sorted,
        };
    }
    let mut counts = vec![0_usize; max as usize + 1];
    for item in items {
        counts[frequency(item) as usize] += 1;
    }
    // Per frequency: the next free slot, and the group index.
    let mut starts = Vec::with_capacity(counts.len());
    let mut group_of = Vec::with_capacity(counts.len());
    let (mut sum, mut groups) = (0, 0_u32);
    for &c in &counts {
        starts.push(sum);
        group_of.push(groups);
        sum += c;
        groups += u32::from(c > 0);
    }
    let mut sorted = vec![U::default(); items.len()];
    for item in items {
        let f = frequency(item) as usize;
        sorted[starts[f]] = make(item, group_of[f]);
        starts[f] += 1;
    }
    let distinct = counts
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c > 0)
        .map(|(f, &c)| (f as u32, c))
        .collect();
    FrequencyOrder {
        frequencies: distinct,
        items: sorted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_stably_by_frequency_in_both_regimes() {
        for big in [0, TABLE_LIMIT] {
            let items = [(3 + big, 'a'), (0, 'b'), (3 + big, 'c'), (1, 'd'), (0, 'e')];
            let o = by_frequency(&items, |i| i.0, |i, group| (i.1, group));
            let order: Vec<(char, u32)> = o.items;
            assert_eq!(order, [('b', 0), ('e', 0), ('d', 1), ('a', 2), ('c', 2)]);
            assert_eq!(o.frequencies, vec![(0, 2), (1, 1), (3 + big, 2)]);
        }
        let empty = by_frequency(&[] as &[(u32, char)], |i| i.0, |i, _| i.1);
        assert!(empty.items.is_empty() && empty.frequencies.is_empty());
    }
}
