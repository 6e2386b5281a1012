use super::*;

fn spec(customers: u64, transactions: u64) -> PopulationSpec {
    PopulationSpec {
        customers,
        transactions,
        months: 24,
        seed: 7,
    }
}

#[test]
fn the_population_has_about_the_transactions_asked_for_and_every_customer() {
    let mut g = TxnGen::new(&spec(2_000, 20_000), "t", 0);
    let mut all = Vec::new();
    loop {
        let batch = g.history(1_000);
        if batch.is_empty() {
            break;
        }
        all.extend(batch);
    }
    let n = all.len() as f64;
    assert!((16_000.0..24_000.0).contains(&n), "{n} transactions");
    let customers: std::collections::HashSet<_> = all
        .iter()
        .map(|t| t.customer.as_ref().unwrap().external_id.clone())
        .collect();
    assert_eq!(customers.len(), 2_000);
    let ids: std::collections::HashSet<_> = all.iter().map(|t| &t.external_id).collect();
    assert_eq!(ids.len(), all.len(), "transaction ids are unique");
}

#[test]
fn the_same_seed_gives_the_same_population() {
    let a = TxnGen::new(&spec(300, 1_500), "t", 0).history(500);
    let b = TxnGen::new(&spec(300, 1_500), "t", 0).history(500);
    // Each generator anchors its history to its own reading of the clock, so
    // times are compared as offsets from each run's first purchase.
    let keys = |txns: &[Transaction]| {
        let start = txns[0].occurred_at.map_or(0, |x| x.seconds);
        txns.iter()
            .map(|t| {
                (
                    t.customer.clone(),
                    t.amount.clone(),
                    t.kind,
                    t.occurred_at.map(|x| x.seconds - start),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&a), keys(&b));
}

#[test]
fn some_customers_stop_buying_long_before_the_end() {
    let mut g = TxnGen::new(&spec(2_000, 16_000), "t", 0);
    let mut last: std::collections::HashMap<String, i64> = Default::default();
    loop {
        let batch = g.history(1_000);
        if batch.is_empty() {
            break;
        }
        for t in batch {
            let at = t.occurred_at.unwrap().seconds;
            let e = last.entry(t.customer.unwrap().external_id).or_insert(at);
            *e = (*e).max(at);
        }
    }
    let now = Utc::now().timestamp();
    let lapsed = last.values().filter(|at| now - **at > 180 * 86_400).count();
    assert!(
        lapsed > 200 && lapsed < 1_800,
        "{lapsed} of 2000 silent for half a year"
    );
}
