use super::*;

/// `(frequency, count)` per group and `(group, recency, age, weight)` per row.
type Summary = (Vec<(f64, f64)>, Vec<(u32, f64, f64, f64)>);

fn summary(g: &Grouped) -> Summary {
    let groups = g.groups.iter().map(|g| (g.frequency, g.count)).collect();
    let rows = g
        .rows
        .iter()
        .map(|r| (r.group, r.recency, r.age, r.weight))
        .collect();
    (groups, rows)
}

#[test]
fn identical_whole_number_histories_share_a_row() {
    let mut customers = vec![
        CustomerHistory::new(2, 3.0, 10.0),
        CustomerHistory::new(0, 0.0, 10.0),
        CustomerHistory::new(2, 3.0, 10.0),
        CustomerHistory::new(0, -0.0, 10.0),
        CustomerHistory::new(2, 4.0, 10.0),
    ];
    // Enough rows that a table of the times 0..=10 pays.
    customers.extend((3..15).map(|x| CustomerHistory::new(x, 1.0, 2.0)));
    let g = Grouped::new(&customers, 0.5);
    let (groups, rows) = summary(&g);
    assert_eq!(groups.len(), 14);
    assert_eq!(groups[..3], [(0.0, 2.0), (2.0, 3.0), (3.0, 1.0)]);
    assert_eq!(
        rows[..4],
        [
            (0, 0.0, 5.0, 2.0),
            (1, 1.5, 5.0, 2.0),
            (1, 2.0, 5.0, 1.0),
            (2, 0.5, 1.0, 1.0),
        ]
    );
    let whole = g.whole.expect("whole-number times");
    assert_eq!((whole.max, whole.scale), (10, 0.5));
    assert_eq!(whole.table(|t| t)[3], g.rows[1].recency);
    assert_eq!((g.rows[2].recency_step, g.rows[2].age_step), (4, 10));
    let unscaled = Grouped::new(&customers, 1.0);
    assert_eq!(
        (unscaled.rows[2].recency, unscaled.rows[2].age),
        (4.0, 10.0)
    );
}

#[test]
fn fractional_times_are_grouped_by_frequency_only() {
    let customers = [
        CustomerHistory::new(2, 3.5, 10.0),
        CustomerHistory::new(0, 0.0, 10.25),
        CustomerHistory::new(2, 3.5, 10.0),
    ];
    let g = Grouped::new(&customers, 2.0);
    assert!(g.whole.is_none());
    let (groups, rows) = summary(&g);
    assert_eq!(groups, vec![(0.0, 1.0), (2.0, 2.0)]);
    assert_eq!(
        rows,
        vec![
            (0, 0.0, 20.5, 1.0),
            (1, 7.0, 20.0, 1.0),
            (1, 7.0, 20.0, 1.0)
        ]
    );
}

#[test]
fn few_rows_need_no_table_of_times() {
    let customers = [
        CustomerHistory::new(1, 300.0, 400.0),
        CustomerHistory::new(0, 0.0, 400.0),
    ];
    let g = Grouped::new(&customers, 1.0);
    assert!(g.whole.is_none());
    assert_eq!(
        summary(&g).1,
        vec![(0, 0.0, 400.0, 1.0), (1, 300.0, 400.0, 1.0)]
    );
}
