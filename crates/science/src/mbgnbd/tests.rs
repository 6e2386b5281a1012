use super::*;
use crate::testing::{
    assert_horizons_checked, assert_new_customer_expects_the_mean, assert_relative, expectations,
};

expectations!(MbgNbd);

fn model() -> MbgNbd {
    MbgNbd::new(MbgNbdParams {
        r: 0.53,
        alpha: 6.2,
        a: 0.89,
        b: 1.61,
    })
    .unwrap()
}

#[test]
fn rejects_bad_parameters() {
    let bad = MbgNbdParams {
        r: 1.0,
        alpha: 1.0,
        a: 0.0,
        b: 1.0,
    };
    assert_eq!(MbgNbd::new(bad).unwrap_err().name, "a");
}

#[test]
fn p_alive_by_hand() {
    let MbgNbdParams { r, alpha, a, b } = model().params();
    let h = CustomerHistory::new(3, 20.0, 30.0);
    let odds = a / (b + 3.0) * ((alpha + 30.0) / (alpha + 20.0)).powf(r + 3.0);
    let expected = 1.0 / (1.0 + odds);
    let got = model().probability_alive(&h).unwrap();
    assert!((got - expected).abs() < 1e-15, "{got} vs {expected}");
    // Unlike BG/NBD, a customer who never came back may be gone: b / (a + b) at T = 0,
    // lower after a silence.
    let new = model()
        .probability_alive(&CustomerHistory::new(0, 0.0, 0.0))
        .unwrap();
    assert!((new - b / (a + b)).abs() < 1e-15);
    let silent = model()
        .probability_alive(&CustomerHistory::new(0, 0.0, 50.0))
        .unwrap();
    assert!(silent < new);
}

#[test]
fn a_customer_at_first_purchase_expects_the_population_mean() {
    // E[Y(t) | x = 0, t_x = 0, T = 0] = E[X(t)]: the conditional formula with P(alive) =
    // b/(a+b) reduces to the unconditional one.
    let m = model();
    assert_new_customer_expects_the_mean(&m);
}

#[test]
fn short_horizons_buy_at_the_mean_rate_of_the_living() {
    // For small t, E[X(t)] ≈ t · (r/α) · b/(a+b): mean rate times P(alive after the first
    // purchase).
    let m = model();
    let MbgNbdParams { r, alpha, a, b } = m.params();
    let t = 1e-6;
    let expected = t * r / alpha * b / (a + b);
    let got = m.expected_purchases(t).unwrap();
    assert!(
        (got - expected).abs() < 1e-5 * expected,
        "{got} vs {expected}"
    );
}

#[test]
fn expectations_are_continuous_through_a_equal_one() {
    let base = model().params();
    let at = |a: f64| MbgNbd::new(MbgNbdParams { a, ..base }).unwrap();
    let h = CustomerHistory::new(3, 20.0, 30.0);
    let inside = at(1.0).conditional_expected_purchases(&h, 12.0);
    let outside = at(1.0 + 3e-4).conditional_expected_purchases(&h, 12.0);
    assert_relative(inside.unwrap(), outside.unwrap(), 1e-3);
    let inside = at(1.0 - 1e-5).expected_purchases(12.0);
    let outside = at(1.0 - 3e-4).expected_purchases(12.0);
    assert_relative(inside.unwrap(), outside.unwrap(), 1e-3);
}

#[test]
fn rejects_bad_horizons() {
    let m = model();
    assert_horizons_checked(&m);
}
