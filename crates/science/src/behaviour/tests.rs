use super::*;

fn buy(day: i64, amount: f64) -> Purchase {
    Purchase { day, amount }
}

/// A purchase of 10 on each of `days`.
fn spends_of_ten(days: &[i64]) -> Vec<Purchase> {
    days.iter().map(|&day| buy(day, 10.0)).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

fn assess(purchases: &[Purchase], as_of: i64) -> BehaviourChange {
    assess_purchases(purchases, as_of, &BehaviourSettings::default()).unwrap()
}

#[test]
fn overdue_compares_the_silence_with_his_own_rhythm() {
    let purchases = spends_of_ten(&[0, 21, 42, 63]);
    let signal = assess(&purchases, 126).overdue.unwrap();
    // Mean gap 63 / 3 = 21 days, 63 days of silence: three gaps' worth.
    assert!(close(signal.value, 3.0), "{}", signal.value);
    assert!(signal.flagged);
    assert!(close(signal.strength, 2.0 / 3.0));
    assert_eq!(
        signal.reason,
        "bought every 21 days on average; 63 days since the last purchase"
    );
    let on_time = assess(&purchases, 80).overdue.unwrap();
    assert!(!on_time.flagged && close(on_time.value, 17.0 / 21.0));
    assert_eq!(on_time.strength, 0.0);
}

#[test]
fn overdue_needs_three_purchase_days() {
    // Two purchases on one day are one visit.
    let purchases = [buy(0, 10.0), buy(30, 10.0), buy(30, 5.0)];
    assert_eq!(assess(&purchases, 400).overdue, None);
    let change = assess(&[buy(0, 10.0)], 400);
    assert_eq!(change, BehaviourChange::default());
    assert_eq!(assess(&[], 400), BehaviourChange::default());
}

/// A first purchase on day 500, 24 purchases of 100 in the baseline window (545, 910],
/// two in the recent window (910, 1000] and a refund of 50 there.
fn slowing() -> Vec<Purchase> {
    let mut purchases = vec![buy(500, 100.0)];
    purchases.extend((0..24).map(|i| buy(550 + 15 * i, 100.0)));
    purchases.extend([buy(920, 100.0), buy(950, 100.0), buy(960, -50.0)]);
    purchases
}

#[test]
fn drops_compare_recent_rates_with_the_baseline() {
    let change = assess(&slowing(), 1000);
    let frequency = change.frequency_drop.clone().unwrap();
    let expected = 1.0 - (2.0 / 90.0) / (24.0 / 365.0);
    assert!(close(frequency.value, expected), "{}", frequency.value);
    assert!(frequency.flagged && close(frequency.strength, expected));
    assert_eq!(
        frequency.reason,
        "2 purchase(s) in the last 90 days against 24 in the 365 days before: \
         0.7 a month against 2 (66% fewer)"
    );
    let spend = change.spend_drop.clone().unwrap();
    let expected = 1.0 - (150.0 / 90.0) / (2400.0 / 365.0);
    assert!(close(spend.value, expected), "{}", spend.value);
    assert!(spend.flagged);
    assert!(
        spend
            .reason
            .starts_with("spent 150 in the last 90 days against 2400")
    );
    let names: Vec<_> = change.flags().map(|(name, _)| name).collect();
    // 27 purchase days over 450 days, one every 17.3; 50 days since the last: overdue too.
    assert_eq!(names, ["overdue", "frequency_drop", "spend_drop"]);
    assert!(close(change.overdue.unwrap().value, 50.0 / (450.0 / 26.0)));
}

#[test]
fn a_steady_customer_raises_no_flag() {
    let purchases: Vec<_> = (0..=100).map(|i| buy(10 * i, 40.0)).collect();
    let change = assess(&purchases, 1000);
    assert_eq!(change.flags().count(), 0);
    // 9 purchases in (910, 1000], 37 in (545, 910].
    let frequency = change.frequency_drop.unwrap();
    assert!(close(frequency.value, 1.0 - (9.0 / 90.0) / (37.0 / 365.0)));
    assert_eq!(change.overdue.unwrap().value, 0.0);
}

#[test]
fn a_short_baseline_is_measured_from_the_first_purchase() {
    // A customer since day 800: 111 days of baseline, 4 purchases in it, none since.
    let purchases = spends_of_ten(&[800, 830, 860, 890]);
    let change = assess(&purchases, 1000);
    let frequency = change.frequency_drop.unwrap();
    assert_eq!(frequency.value, 1.0);
    let reason = &frequency.reason;
    assert!(reason.contains("4 in the 111 days before"), "{reason}");
    // Since day 850 there are only 61 days of baseline, fewer than the recent window.
    let newer = spends_of_ten(&[850, 870, 880, 890]);
    let change = assess(&newer, 1000);
    assert_eq!(change.frequency_drop, None);
    assert_eq!(change.spend_drop, None);
}

#[test]
fn a_thin_baseline_is_not_judged() {
    let purchases = spends_of_ten(&[600, 700, 990]);
    let change = assess(&purchases, 1000);
    assert_eq!(change.frequency_drop, None);
    assert_eq!(change.spend_drop, None);
}

#[test]
fn monthly_totals_give_the_same_kind_of_signals() {
    let m = |y, mo| Month::from_year_month(y, mo).unwrap();
    // Two purchases worth 100 in every month from January 2024 to March 2025, then silence.
    let months: Vec<_> = (0..15)
        .map(|i| MonthlyActivity {
            month: m(2024, 1).plus(i),
            purchases: 2,
            net_spend: 100.0,
        })
        .collect();
    let change = assess_monthly(&months, m(2025, 6), &BehaviourSettings::default()).unwrap();
    let overdue = change.overdue.unwrap();
    assert!(close(overdue.value, 3.0) && overdue.flagged);
    assert_eq!(
        overdue.reason,
        "bought in one month every 1 month on average; 3 months since the last month with a purchase"
    );
    let frequency = change.frequency_drop.unwrap();
    assert_eq!(frequency.value, 1.0);
    assert!(
        frequency
            .reason
            .starts_with("0 purchase(s) in the last 3 months against 24 in the 12"),
        "{}",
        frequency.reason
    );
    assert_eq!(change.spend_drop.unwrap().value, 1.0);
    // As of March 2025 the customer is on his usual pace.
    let current = assess_monthly(&months, m(2025, 3), &BehaviourSettings::default()).unwrap();
    assert_eq!(current.flags().count(), 0);
    assert_eq!(current.frequency_drop.unwrap().value, 0.0);
}

#[test]
fn bad_input_and_settings_are_refused() {
    let settings = BehaviourSettings::default();
    assert!(assess_purchases(&[buy(1, f64::NAN)], 10, &settings).is_err());
    let bad = BehaviourSettings {
        drop_threshold: 0.0,
        ..settings
    };
    assert!(assess_purchases(&[], 10, &bad).is_err());
    let bad = BehaviourSettings {
        recent_days: 0,
        ..settings
    };
    assert!(assess_purchases(&[], 10, &bad).is_err());
    let bad = BehaviourSettings {
        overdue_ratio: f64::NAN,
        ..settings
    };
    assert!(assess_purchases(&[], 10, &bad).is_err());
    let month = MonthlyActivity {
        month: Month::from_index(0),
        purchases: 1,
        net_spend: f64::INFINITY,
    };
    assert!(assess_monthly(&[month], Month::from_index(3), &settings).is_err());
}
