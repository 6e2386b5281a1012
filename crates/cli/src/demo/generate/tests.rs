use super::*;

#[test]
fn same_seed_same_sample_and_parents_first() {
    let end = Utc::now();
    let a = generate(7, 600, 15, end);
    let b = generate(7, 600, 15, end);
    assert_eq!(a.transactions.len(), b.transactions.len());
    assert_eq!(a.net_spend_minor(), b.net_spend_minor());
    assert_eq!(a.customers.len(), 600);
    let position: std::collections::HashMap<&str, usize> = a
        .customers
        .iter()
        .enumerate()
        .map(|(i, c)| (c.customer_id.as_str(), i))
        .collect();
    for (i, c) in a.customers.iter().enumerate() {
        if !c.parent_id.is_empty() {
            assert!(
                position[c.parent_id.as_str()] < i,
                "{} precedes its parent",
                c.customer_id
            );
        }
    }
    let habits: std::collections::HashSet<&str> = a.customers.iter().map(|c| c.habit).collect();
    assert!(habits.len() >= 7, "kinds of customers: {habits:?}");
    assert!(a.transactions.iter().any(|t| t.kind == "refund"));
    assert!(
        a.transactions
            .iter()
            .all(|t| t.occurred_at <= end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    );
}
