use super::*;
use crate::testing::{assert_horizons_checked, assert_new_customer_expects_the_mean, expectations};

expectations!(ParetoNbd);

fn model() -> ParetoNbd {
    // The CDNOW estimates of Fader, Hardie & Lee (2005), in weeks.
    ParetoNbd::new(ParetoNbdParams {
        r: 0.55,
        alpha: 10.58,
        s: 0.61,
        beta: 11.67,
    })
    .unwrap()
}

#[test]
fn rejects_bad_parameters() {
    let bad = ParetoNbdParams {
        r: 1.0,
        alpha: 1.0,
        s: 1.0,
        beta: f64::INFINITY,
    };
    assert_eq!(ParetoNbd::new(bad).unwrap_err().name, "beta");
}

#[test]
fn a_purchase_at_the_end_of_observation_means_alive() {
    let p = model()
        .probability_alive(&CustomerHistory::new(4, 30.0, 30.0))
        .unwrap();
    assert_eq!(p, 1.0);
    let new = model()
        .probability_alive(&CustomerHistory::new(0, 0.0, 0.0))
        .unwrap();
    assert_eq!(new, 1.0);
}

#[test]
fn p_alive_with_alpha_equal_beta_by_hand() {
    // With α = β the series is 1 and A₀ = (α+t_x)^-ρ - (α+T)^-ρ, so
    // P(alive) = 1 / (1 + s/ρ · [((α+T)/(α+t_x))^ρ - 1]).
    let m = ParetoNbd::new(ParetoNbdParams {
        r: 0.7,
        alpha: 8.0,
        s: 0.9,
        beta: 8.0,
    })
    .unwrap();
    let (x, tx, t): (f64, f64, f64) = (3.0, 12.0, 40.0);
    let rho = 0.7 + 0.9 + x;
    let expected = 1.0 / (1.0 + 0.9 / rho * (((8.0 + t) / (8.0 + tx)).powf(rho) - 1.0));
    let got = m
        .probability_alive(&CustomerHistory::new(3, tx, t))
        .unwrap();
    assert!((got - expected).abs() < 1e-14, "{got} vs {expected}");
}

#[test]
fn a_customer_at_first_purchase_expects_the_population_mean() {
    let m = model();
    assert_new_customer_expects_the_mean(&m);
}

#[test]
fn expectations_are_continuous_through_s_equal_one() {
    let base = model().params();
    let at = |s: f64| ParetoNbd::new(ParetoNbdParams { s, ..base }).unwrap();
    let h = CustomerHistory::new(2, 10.0, 30.0);
    let exactly = at(1.0).conditional_expected_purchases(&h, 26.0).unwrap();
    let nearby = at(1.0 + 1e-9)
        .conditional_expected_purchases(&h, 26.0)
        .unwrap();
    assert!(
        (exactly - nearby).abs() < 1e-7 * exactly,
        "{exactly} vs {nearby}"
    );
    let exactly = at(1.0).expected_purchases(26.0).unwrap();
    let nearby = at(1.0 - 1e-9).expected_purchases(26.0).unwrap();
    assert!((exactly - nearby).abs() < 1e-7 * exactly);
}

#[test]
fn short_horizons_buy_at_the_mean_rate() {
    let ParetoNbdParams { r, alpha, .. } = model().params();
    let t = 1e-6;
    let got = model().expected_purchases(t).unwrap();
    assert!((got - t * r / alpha).abs() < 1e-5 * got);
}

#[test]
fn rejects_bad_horizons() {
    let m = model();
    assert_horizons_checked(&m);
}
