use super::*;

fn cdnow_like() -> BgNbd {
    BgNbd::new(BgNbdParams {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    })
    .unwrap()
}

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

#[test]
fn no_repeat_purchases_means_alive() {
    let model = cdnow_like();
    let p = model
        .probability_alive(&CustomerHistory::new(0, 0.0, 30.0))
        .unwrap();
    assert_eq!(p, 1.0);
}

#[test]
fn long_silence_lowers_p_alive() {
    let model = cdnow_like();
    let recent = model
        .probability_alive(&CustomerHistory::new(4, 38.0, 39.0))
        .unwrap();
    let silent = model
        .probability_alive(&CustomerHistory::new(4, 5.0, 39.0))
        .unwrap();
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
    let inside = at(1.0 + 2e-5)
        .conditional_expected_purchases(&h, 12.0)
        .unwrap();
    let outside = at(1.0 + 3e-4)
        .conditional_expected_purchases(&h, 12.0)
        .unwrap();
    assert!(
        (inside - outside).abs() < 1e-3 * outside,
        "{inside} vs {outside}"
    );
    let exactly = at(1.0).expected_purchases(12.0).unwrap();
    let nearby = at(1.0 + 3e-4).expected_purchases(12.0).unwrap();
    assert!(exactly.is_finite() && (exactly - nearby).abs() < 1e-3 * nearby);
}

#[test]
fn rejects_bad_horizons_and_histories() {
    let model = cdnow_like();
    let h = CustomerHistory::new(1, 2.0, 3.0);
    assert!(model.conditional_expected_purchases(&h, -1.0).is_err());
    assert!(
        model
            .conditional_expected_purchases(&h, f64::INFINITY)
            .is_err()
    );
    assert!(model.expected_purchases(f64::NAN).is_err());
    let late = CustomerHistory::new(1, 4.0, 3.0);
    assert!(model.probability_alive(&late).is_err());
    assert_eq!(model.conditional_expected_purchases(&h, 0.0).unwrap(), 0.0);
}
