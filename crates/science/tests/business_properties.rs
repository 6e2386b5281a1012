//! Seeded random checks of the business measures: bounded outputs, never NaN, and the
//! bookkeeping identities that must hold for any input.

mod support;

use rand::Rng;
use rand::rngs::StdRng;
use rapport_science::rfm::Purchase;
use rapport_science::{
    BehaviourSettings, BgNbd, BgNbdParams, HoldoutCustomer, MarginRates, Month, MonthlyActivity,
    TierThresholds, Transaction, TransactionKind, WalletEntry, assess_monthly, assess_purchases,
    evaluate, group_share_of_wallet, profit_contribution, share_of_wallet,
};

const CASES: usize = 300;

fn maybe<T>(rng: &mut StdRng, p: f64, value: T) -> Option<T> {
    (rng.random::<f64>() < p).then_some(value)
}

/// Mostly ordinary numbers, sometimes zero, negative, huge or not a number at all.
fn awkward(rng: &mut StdRng) -> f64 {
    match rng.random_range(0..10) {
        0 => 0.0,
        1 => -rng.random::<f64>() * 100.0,
        2 => f64::NAN,
        3 => f64::INFINITY,
        4 => 1e300,
        _ => rng.random::<f64>() * 1000.0,
    }
}

#[test]
fn profit_months_add_up_and_stay_finite() {
    let mut rng = support::rng(101);
    let categories = ["a", "b", "c"];
    for _ in 0..CASES {
        let rates = MarginRates::new(rng.random::<f64>() * 0.6)
            .unwrap()
            .with_category("a", rng.random::<f64>() - 0.2)
            .unwrap();
        let start = Month::from_year_month(2020, 1).unwrap();
        let transactions: Vec<_> = support::draws(&mut rng, 0..40, |rng| {
            let amount = rng.random::<f64>() * 500.0;
            Transaction {
                month: start.plus(rng.random_range(0..60)),
                kind: if rng.random::<f64>() < 0.2 {
                    TransactionKind::Refund
                } else {
                    TransactionKind::Purchase
                },
                amount,
                margin: maybe(rng, 0.3, amount * 0.4),
                cost: maybe(rng, 0.3, amount * 0.7),
                category: {
                    let c = categories[rng.random_range(0..3)];
                    maybe(rng, 0.7, c)
                },
            }
        });
        let as_of = start.plus(rng.random_range(0..72));
        let cost = rng.random::<f64>() * 20.0;
        let Some(result) = profit_contribution(&transactions, &rates, cost, as_of).unwrap() else {
            assert!(
                transactions
                    .iter()
                    .all(|t| t.kind == TransactionKind::Refund || t.month > as_of)
            );
            continue;
        };
        let expected_months = as_of.months_since(result.first_purchase) + 1;
        assert_eq!(result.months.len() as i64, expected_months);
        let counted: f64 = transactions
            .iter()
            .filter(|t| t.month >= result.first_purchase && t.month <= as_of)
            .map(|t| rapport_science::transaction_margin(t, &rates).unwrap())
            .sum();
        let total: f64 = result.months.iter().map(|m| m.contribution).sum();
        let expected = counted - cost * result.months.len() as f64;
        assert!((total - expected).abs() <= 1e-9 * expected.abs().max(1.0));
        assert!(result.trailing_12_month_average.is_finite());
        let recent = &result.months[result.months.len().saturating_sub(12)..];
        let lo = recent
            .iter()
            .map(|m| m.contribution)
            .fold(f64::INFINITY, f64::min);
        let hi = recent
            .iter()
            .map(|m| m.contribution)
            .fold(f64::NEG_INFINITY, f64::max);
        let avg = result.trailing_12_month_average;
        assert!(avg >= lo - 1e-9 && avg <= hi + 1e-9);
    }
}

#[test]
fn shares_of_wallet_are_fractions_or_absent() {
    let mut rng = support::rng(102);
    for _ in 0..CASES {
        let entries: Vec<_> = support::draws(&mut rng, 0..20, |rng| WalletEntry {
            spend: awkward(rng),
            estimated_total: {
                let e = awkward(rng);
                maybe(rng, 0.8, e)
            },
        });
        for e in &entries {
            if let Some(s) = share_of_wallet(e.spend, e.estimated_total) {
                assert!((0.0..=1.0).contains(&s), "{e:?}: {s}");
            }
        }
        let group = group_share_of_wallet(entries.iter().copied());
        assert_eq!(group.counted + group.left_out, entries.len());
        if let Some(s) = group.share {
            assert!((0.0..=1.0).contains(&s), "{group:?}");
        }
        assert!(!group.spend.is_nan() && !group.estimated_total.is_nan());
    }
}

#[test]
fn tiers_are_monotone_in_value() {
    let mut rng = support::rng(103);
    for _ in 0..CASES / 3 {
        let n = rng.random_range(1..400);
        let values: Vec<f64> = (0..n)
            .map(|_| {
                if rng.random::<f64>() < 0.3 {
                    0.0
                } else {
                    (rng.random::<f64>() * 12.0).exp() - 50.0
                }
            })
            .collect();
        let mut cuts: Vec<f64> = support::draws(&mut rng, 0..5, |rng| rng.random::<f64>());
        cuts.sort_by(|a, b| b.total_cmp(a));
        cuts.dedup();
        cuts.retain(|&c| c > 0.0);
        let names: Vec<String> = (0..=cuts.len()).map(|i| format!("tier{i}")).collect();
        let spec: Vec<(&str, f64)> = names
            .iter()
            .map(String::as_str)
            .zip(cuts.iter().copied().chain([0.0]))
            .collect();
        let thresholds = TierThresholds::from_population(&spec, &values).unwrap();
        let mut probes: Vec<f64> = values.clone();
        probes.extend((0..50).map(|_| (rng.random::<f64>() * 14.0).exp() - 100.0));
        probes.sort_by(f64::total_cmp);
        let rank = |name: &str| names.iter().position(|n| n == name).unwrap();
        let mut previous = (usize::MAX, 0.0);
        for v in probes {
            let a = thresholds.assign(v).unwrap();
            assert!((0.0..=1.0).contains(&a.percentile), "{v}: {a:?}");
            let position = rank(&a.tier);
            // Higher values never land in a lower tier or at a lower percentile.
            assert!(position <= previous.0, "{v}: {a:?}");
            assert!(a.percentile >= previous.1 - 1e-12, "{v}: {a:?}");
            // The tier agrees with the percentile it reports.
            assert!(a.percentile >= spec[position].1 - 1e-12, "{v}: {a:?}");
            previous = (position, a.percentile);
        }
    }
}

fn check_signals(change: &rapport_science::BehaviourChange) {
    for signal in [&change.overdue, &change.frequency_drop, &change.spend_drop]
        .into_iter()
        .flatten()
    {
        assert!(
            signal.value.is_finite() && signal.value >= 0.0,
            "{signal:?}"
        );
        assert!((0.0..=1.0).contains(&signal.strength), "{signal:?}");
        assert!(!signal.reason.is_empty() && !signal.reason.contains("NaN"));
    }
    for drop in [&change.frequency_drop, &change.spend_drop]
        .into_iter()
        .flatten()
    {
        assert!((0.0..=1.0).contains(&drop.value), "{drop:?}");
    }
}

#[test]
fn behaviour_signals_are_bounded_for_any_history() {
    let mut rng = support::rng(104);
    let settings = BehaviourSettings::default();
    for _ in 0..CASES {
        let span = rng.random_range(1..2000);
        let purchases: Vec<_> = support::draws(&mut rng, 0..60, |rng| Purchase {
            day: rng.random_range(0..span),
            amount: if rng.random::<f64>() < 0.1 {
                -rng.random::<f64>() * 200.0
            } else {
                rng.random::<f64>() * 200.0
            },
        });
        let as_of = rng.random_range(0..span + 400);
        let change = assess_purchases(&purchases, as_of, &settings).unwrap();
        check_signals(&change);
        let flagged_with_little_history = change.flags().any(|(name, _)| name == "overdue")
            && purchases.iter().filter(|p| p.day <= as_of).count() < 3;
        assert!(!flagged_with_little_history);

        let start = Month::from_year_month(2022, 1).unwrap();
        let months: Vec<_> = support::draws(&mut rng, 0..30, |rng| MonthlyActivity {
            month: start.plus(rng.random_range(0..48)),
            purchases: rng.random_range(0..5),
            net_spend: (rng.random::<f64>() - 0.1) * 300.0,
        });
        let change =
            assess_monthly(&months, start.plus(rng.random_range(0..60)), &settings).unwrap();
        check_signals(&change);
    }
}

#[test]
fn holdout_evaluations_add_up_and_stay_finite() {
    let mut rng = support::rng(105);
    for _ in 0..CASES / 3 {
        let model = BgNbd::new(BgNbdParams {
            r: rng.random::<f64>() * 3.0 + 0.01,
            alpha: rng.random::<f64>() * 50.0 + 0.1,
            a: rng.random::<f64>() * 3.0 + 0.05,
            b: rng.random::<f64>() * 8.0 + 0.05,
        })
        .unwrap();
        let customers: Vec<_> = support::draws(&mut rng, 1..200, |rng| {
            let age = rng.random::<f64>() * 100.0;
            HoldoutCustomer {
                calibration: support::history_of_age(rng, age, 0.4, 15),
                holdout_purchases: rng.random_range(0..10),
            }
        });
        let e = evaluate(&model, &customers, rng.random::<f64>() * 52.0 + 0.1).unwrap();
        assert!(e.chi_square.is_finite() && e.chi_square >= 0.0, "{e:?}");
        assert!(e.mean_absolute_error.is_finite() && e.mean_absolute_error >= 0.0);
        let customers_in_groups: usize = e.groups.iter().map(|g| g.customers).sum();
        assert_eq!(customers_in_groups, customers.len());
        let predicted: f64 = e.groups.iter().map(|g| g.predicted).sum();
        let actual: f64 = e.groups.iter().map(|g| g.actual).sum();
        assert!((predicted - e.overall.predicted).abs() <= 1e-9 * predicted.max(1.0));
        assert_eq!(actual, e.overall.actual);
    }
}
