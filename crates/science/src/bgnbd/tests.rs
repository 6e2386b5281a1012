use super::fixtures::cdnow as cdnow_like;
use super::*;
use crate::testing::{assert_horizons_checked, assert_relative, expectations};

expectations!(BgNbd);

#[test]
fn rejects_bad_parameters() {
    let bad = BgNbdParams {
        r: 0.2,
        alpha: -1.0,
        a: 1.0,
        b: 1.0,
    };
    assert_eq!(BgNbd::new(bad).unwrap_err().name, "alpha");
    let nan = BgNbdParams { r: f64::NAN, ..bad };
    assert_eq!(BgNbd::new(nan).unwrap_err().name, "r");
}

/// P(alive) under the CDNOW-like model for the history `(x, t_x, age)`.
fn alive(x: u32, t_x: f64, age: f64) -> f64 {
    let history = CustomerHistory::new(x, t_x, age);
    cdnow_like().probability_alive(&history).unwrap()
}

#[test]
fn no_repeat_purchases_means_alive() {
    assert_eq!(alive(0, 0.0, 30.0), 1.0);
}

#[test]
fn long_silence_lowers_p_alive() {
    let (recent, silent) = (alive(4, 38.0, 39.0), alive(4, 5.0, 39.0));
    assert!(
        recent > 0.8 && silent < 0.05 && silent > 0.0,
        "{recent} {silent}"
    );
}

#[test]
fn expected_purchases_near_a_equal_one_is_continuous() {
    let base = cdnow_like().params();
    let at = |a: f64| BgNbd::new(BgNbdParams { a, ..base }).unwrap();
    let h = CustomerHistory::new(3, 20.0, 30.0);
    let inside = at(1.0 + 2e-5).conditional_expected_purchases(&h, 12.0);
    let outside = at(1.0 + 3e-4).conditional_expected_purchases(&h, 12.0);
    assert_relative(inside.unwrap(), outside.unwrap(), 1e-3);
    let exactly = at(1.0).expected_purchases(12.0).unwrap();
    let nearby = at(1.0 + 3e-4).expected_purchases(12.0).unwrap();
    assert!(exactly.is_finite() && (exactly - nearby).abs() < 1e-3 * nearby);
}

#[test]
fn rejects_bad_horizons_and_histories() {
    let model = cdnow_like();
    assert_horizons_checked(&model);
    let late = CustomerHistory::new(1, 4.0, 3.0);
    assert!(model.probability_alive(&late).is_err());
}
