use std::collections::{HashMap, HashSet};

use rapport_kit::domain::CurrencyCode;
use uuid::Uuid;

use super::*;

fn eur() -> CurrencyCode {
    CurrencyCode::parse("EUR").unwrap()
}

/// Eight customers (c8 bought only without a category):
///
/// | customer | categories          |
/// |----------|---------------------|
/// | c1       | books, music        |
/// | c2       | books, music, games |
/// | c3       | books, games        |
/// | c4       | books               |
/// | c5       | music, garden       |
/// | c6       | garden, music       |
/// | c7       | garden              |
/// | c8       | (none)              |
fn sample() -> Vec<Vec<&'static str>> {
    vec![
        vec!["books", "music"],
        vec!["books", "music", "games"],
        vec!["books", "games"],
        vec!["books"],
        vec!["music", "garden"],
        vec!["garden", "music"],
        vec!["garden"],
        vec![],
    ]
}

fn held() -> Vec<String> {
    ["books", "music", "garden", "games"]
        .map(str::to_owned)
        .to_vec()
}

/// A pair's figures: (category, also bought, both, buyers of each, support,
/// confidence, lift).
type PairRow<'a> = (&'a str, &'a str, u64, u64, u64, f64, f64, f64);

fn affinity(min: u64) -> Affinity {
    let mut counter = Counter::new(held(), min);
    for c in sample() {
        counter.add(c);
    }
    counter.finish()
}

/// By hand: n = 7 category buyers; books 4, music 4, garden 3, games 2;
/// both: books+music 2, books+games 2, music+garden 2, music+games 1.
/// With at least 2 buying both:
/// - books→music: confidence 2/4, lift 2·7/(4·4) = 0.875: not above 1, out;
/// - games→books: confidence 2/2 = 1, lift 2·7/(2·4) = 1.75, support 2/7;
/// - books→games: confidence 2/4 = 0.5, lift 1.75, support 2/7;
/// - garden→music: confidence 2/3, lift 2·7/(3·4) = 7/6, support 2/7;
/// - music→garden: confidence 2/4 = 0.5, lift 7/6, support 2/7.
#[test]
fn pairs_match_a_hand_computation() {
    let a = affinity(2);
    assert_eq!(a.customers, 7);
    let got: Vec<PairRow> = a
        .rules
        .iter()
        .map(|r| {
            (
                r.category.as_str(),
                r.also_bought.as_str(),
                r.customers,
                r.category_customers,
                r.also_bought_customers,
                r.support,
                r.confidence,
                r.lift,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("games", "books", 2, 2, 4, 2.0 / 7.0, 1.0, 1.75),
            ("books", "games", 2, 4, 2, 2.0 / 7.0, 0.5, 1.75),
            (
                "garden",
                "music",
                2,
                3,
                4,
                2.0 / 7.0,
                2.0 / 3.0,
                14.0 / 12.0
            ),
            ("music", "garden", 2, 4, 3, 2.0 / 7.0, 0.5, 14.0 / 12.0),
        ]
    );
}

#[test]
fn pairs_below_the_minimum_or_unheld_categories_are_left_out() {
    // At 3, no pair has enough customers; the buyers are still counted.
    let a = affinity(3);
    assert!(a.is_empty());
    assert_eq!(a.customers, 7);
    // Held categories only: without games, its pairs are gone, but its
    // buyers still count among the customers.
    let mut counter = Counter::new(vec!["books".into(), "music".into(), "garden".into()], 2);
    for c in sample() {
        counter.add(c);
    }
    let a = counter.finish();
    assert_eq!(a.customers, 7);
    assert!(
        a.rules
            .iter()
            .all(|r| r.category != "games" && r.also_bought != "games")
    );
    assert_eq!(a.rules.len(), 2);
}

#[test]
fn a_category_repeated_for_one_customer_counts_once() {
    let mut counter = Counter::new(held(), 1);
    counter.add(["books", "books", "music"]);
    counter.add(["books"]);
    let a = counter.finish();
    // books 2, music 1, both 1 of 2: music→books confidence 1, lift 1·2/(1·2) = 1: out.
    assert_eq!(a.customers, 2);
    assert!(a.is_empty(), "{:?}", a.rules);
}

#[test]
fn candidates_take_the_best_confidence_then_lift() {
    let a = affinity(2);
    let bought = |c: &[&'static str]| c.iter().copied().collect::<HashSet<&str>>();
    let names = |rules: Vec<&Rule>| {
        rules
            .iter()
            .map(|r| (r.category.clone(), r.also_bought.clone()))
            .collect::<Vec<_>>()
    };
    // c1: games and garden both at confidence 0.5; games has the higher lift.
    assert_eq!(
        names(a.candidates(&bought(&["books", "music"]))),
        vec![
            ("books".to_owned(), "games".to_owned()),
            ("music".to_owned(), "garden".to_owned()),
        ]
    );
    assert!(a.candidates(&bought(&["books", "games"])).is_empty());
    assert_eq!(
        names(a.candidates(&bought(&["garden"]))),
        vec![("garden".to_owned(), "music".to_owned())]
    );
    // Read back from the report, the same answers.
    let again = Affinity::from_proto(a.customers, &a.to_proto());
    assert_eq!(again.rules, a.rules);
    assert_eq!(
        names(again.candidates(&bought(&["books", "music"]))),
        names(a.candidates(&bought(&["books", "music"])))
    );
}

/// By hand, each listed customer's best pick times their average order
/// value: c4 books→games 0.5 × 90.00 = 45.00; c7 garden→music 2/3 × 30.00
/// = 20.00; c1 books→games 0.5 × 30.00 = 15.00; c2 music→garden 0.5 ×
/// 10.00 = 5.00; c3, c5 and c6 have bought everything recommended to them.
#[test]
fn the_list_ranks_by_confidence_times_order_value() {
    let a = affinity(2);
    let order_values = [30.0, 10.0, 20.0, 90.0, 10.0, 10.0, 30.0, 50.0];
    let mut list = CrossSell::default();
    for (i, (bought, aov)) in sample().into_iter().zip(order_values).enumerate() {
        let f = CrossSellFacts {
            customer_id: Uuid::from_u128(i as u128 + 1),
            order_value: aov,
            purchases: bought.len() as u64,
            days_since_last_purchase: 3,
        };
        list.offer(&f, &bought.into_iter().collect(), &a);
    }
    let names: HashMap<Uuid, String> = (1..=8)
        .map(|i| (Uuid::from_u128(i), format!("c{i}")))
        .collect();
    let entries = list.finish(&names, eur());
    let got: Vec<(&str, i64, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e.display_name.as_str(),
                e.value.as_ref().unwrap().minor_units,
                e.bought_category.as_str(),
                e.recommended_category.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("c4", 4_500, "books", "games"),
            ("c7", 2_000, "garden", "music"),
            ("c1", 1_500, "books", "games"),
            ("c2", 500, "music", "garden"),
        ]
    );
    let c4 = &entries[0];
    assert_eq!(c4.order_value.as_ref().unwrap().minor_units, 9_000);
    assert_eq!((c4.confidence, c4.lift, c4.support), (0.5, 1.75, 2.0 / 7.0));
    assert_eq!(
        c4.reason,
        "bought books but not games: 2 of 4 books buyers also bought games (confidence 0.50, \
         lift 1.75, support 0.29); 0.50 of a 90.00 basket is 45.00"
    );
}

#[test]
fn the_list_keeps_the_best_hundred() {
    let a = affinity(2);
    let mut list = CrossSell::default();
    for i in 0..(CROSS_SELL as u128 + 50) {
        let f = CrossSellFacts {
            customer_id: Uuid::from_u128(i + 1),
            order_value: i as f64 + 1.0,
            purchases: 1,
            days_since_last_purchase: 0,
        };
        list.offer(&f, &["books"].into_iter().collect(), &a);
    }
    let entries = list.finish(&HashMap::new(), eur());
    assert_eq!(entries.len(), CROSS_SELL);
    // The highest order values: 150.00 down to 51.00, at half of them.
    assert_eq!(entries[0].value.as_ref().unwrap().minor_units, 7_500);
    assert_eq!(entries[99].value.as_ref().unwrap().minor_units, 2_550);
}
