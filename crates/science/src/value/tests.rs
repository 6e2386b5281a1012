use super::*;
use crate::bgnbd::fixtures::cdnow as model;

fn assumptions() -> ValueAssumptions {
    ValueAssumptions {
        periods_per_month: periods_per_month::WEEKS,
        horizon_months: 24,
        annual_discount_rate: 0.10,
        margin_rate: 0.3,
    }
}

#[test]
fn monthly_rate_compounds_back_to_the_annual_rate() {
    let m = monthly_rate(0.1);
    assert!(((1.0 + m).powi(12) - 1.1).abs() < 1e-14);
    assert_eq!(monthly_rate(0.0), 0.0);
}

#[test]
fn months_add_up_to_the_undiscounted_expectation() {
    let h = CustomerHistory::new(5, 30.0, 38.0);
    let mut flat = assumptions();
    flat.annual_discount_rate = 0.0;
    flat.margin_rate = 1.0;
    let value = lifetime_value(&model(), &h, 1.0, &flat).unwrap();
    let horizon = 24.0 * periods_per_month::WEEKS;
    let expected = model().conditional_expected_purchases(&h, horizon).unwrap();
    assert_eq!(value.months.len(), 24);
    assert!(
        (value.total - expected).abs() < 1e-12 * expected,
        "{} vs {expected}",
        value.total
    );
}

#[test]
fn discounting_and_margin_reduce_value() {
    let h = CustomerHistory::new(5, 30.0, 38.0);
    let value = lifetime_value(&model(), &h, 50.0, &assumptions()).unwrap();
    let mut flat = assumptions();
    flat.annual_discount_rate = 0.0;
    let undiscounted = lifetime_value(&model(), &h, 50.0, &flat).unwrap();
    assert!(value.total < undiscounted.total && value.total > 0.0);
    for pair in value.months.windows(2) {
        assert!(pair[1].discount_factor < pair[0].discount_factor);
    }
    let sum: f64 = value.months.iter().map(|m| m.present_value).sum();
    assert!((sum - value.total).abs() < 1e-12 * sum);
    assert!(
        (customer_equity([&value, &undiscounted]) - value.total - undiscounted.total).abs() < 1e-9
    );
}

#[test]
fn lifetime_value_rejects_bad_assumptions() {
    let h = CustomerHistory::new(1, 3.0, 10.0);
    let mut bad = assumptions();
    bad.margin_rate = 1.5;
    assert!(lifetime_value(&model(), &h, 10.0, &bad).is_err());
    bad = assumptions();
    bad.annual_discount_rate = f64::NAN;
    assert!(lifetime_value(&model(), &h, 10.0, &bad).is_err());
    bad = assumptions();
    bad.periods_per_month = 0.0;
    assert!(lifetime_value(&model(), &h, 10.0, &bad).is_err());
    assert!(lifetime_value(&model(), &h, -1.0, &assumptions()).is_err());
}

#[test]
fn past_value_compounds_each_contribution() {
    let contributions = [
        PastContribution {
            periods_ago: 0.0,
            amount: 100.0,
        },
        PastContribution {
            periods_ago: 1.0,
            amount: 100.0,
        },
        PastContribution {
            periods_ago: 2.0,
            amount: -50.0,
        },
    ];
    let value = past_customer_value(&contributions, 0.1).unwrap();
    let expected = 100.0 + 110.0 - 50.0 * 1.21;
    assert!((value - expected).abs() < 1e-10, "{value} vs {expected}");
    assert_eq!(past_customer_value(&[], 0.1).unwrap(), 0.0);
}

#[test]
fn past_value_rejects_bad_inputs() {
    let future = [PastContribution {
        periods_ago: -1.0,
        amount: 1.0,
    }];
    assert!(past_customer_value(&future, 0.1).is_err());
    let nan = [PastContribution {
        periods_ago: 1.0,
        amount: f64::NAN,
    }];
    assert!(past_customer_value(&nan, 0.1).is_err());
    assert!(past_customer_value(&[], -1.0).is_err());
    let huge = [PastContribution {
        periods_ago: 1e6,
        amount: 1.0,
    }];
    assert!(past_customer_value(&huge, 1.0).is_err());
}
