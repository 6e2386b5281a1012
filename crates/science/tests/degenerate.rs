//! Data the models cannot fit get a readable error, never NaN and never a hang; extreme but
//! valid data fit as well as ordinary data.

use rapport_science::{
    CustomerHistory, FitError, FitOptions, SpendHistory, Toward, fit_bg_nbd, fit_gamma_gamma,
};

fn h(frequency: u32, recency: f64, age: f64) -> CustomerHistory {
    CustomerHistory::new(frequency, recency, age)
}

mod support;

/// 400 customers simulated in weeks from CDNOW-like parameters.
fn ordinary() -> Vec<CustomerHistory> {
    let mut rng = support::rng(7);
    support::simulate(
        &mut rng,
        400,
        [0.25, 4.0, 0.8, 2.5],
        [6.0, 4.0, 15.0],
        (26.0, 78.0),
    )
    .histories
}

fn fit(data: &[CustomerHistory]) -> Result<rapport_science::BgNbdFit, FitError> {
    fit_bg_nbd(data, &FitOptions::default())
}

#[test]
fn empty_and_single_customer_datasets_are_refused() {
    assert_eq!(fit(&[]).unwrap_err(), FitError::NoCustomers);
    let one = fit(&[h(3, 10.0, 20.0)]).unwrap_err();
    assert_eq!(
        one,
        FitError::TooFewCustomers {
            count: 1,
            minimum: 2
        }
    );
    assert!(one.to_string().contains("at least 2"), "{one}");
}

#[test]
fn no_repeat_buyers_is_refused_with_a_reason() {
    let data: Vec<_> = (0..100).map(|i| h(0, 0.0, 10.0 + f64::from(i))).collect();
    let err = fit(&data).unwrap_err();
    assert_eq!(err, FitError::NoRepeatBuyers);
    assert!(
        err.to_string()
            .contains("no customer made a repeat purchase"),
        "{err}"
    );
}

#[test]
fn identical_timestamps_are_refused() {
    // Every purchase, and the as-of date, at one instant: nothing to observe.
    let data: Vec<_> = (0..50).map(|_| h(0, 0.0, 0.0)).collect();
    assert_eq!(fit(&data).unwrap_err(), FitError::NoObservationTime);
    // Repeat purchases stamped at the same instant as the first one.
    let data: Vec<_> = (0..50).map(|i| h(1 + i % 3, 0.0, 30.0)).collect();
    let err = fit(&data).unwrap_err();
    assert_eq!(
        err,
        FitError::RepeatWithoutRecency {
            index: 0,
            frequency: 1
        }
    );
    assert!(err.to_string().contains("same timestamp"), "{err}");
}

/// The error fitting `ordinary()` gives once `spoil` changed customer `index`.
fn spoiled(index: usize, spoil: impl FnOnce(&mut CustomerHistory)) -> FitError {
    let mut data = ordinary();
    spoil(&mut data[index]);
    fit(&data).unwrap_err()
}

#[test]
fn bad_numbers_name_the_customer_and_field() {
    let non_finite = [
        (7, "recency", spoiled(7, |c| c.recency = f64::NAN)),
        (3, "age", spoiled(3, |c| c.age = f64::INFINITY)),
    ];
    for (want_index, want_field, err) in non_finite {
        let want = (want_index, want_field);
        assert!(
            matches!(err, FitError::NonFinite { index, field, .. } if (index, field) == want),
            "{err:?}"
        );
    }
    let err = spoiled(5, |c| c.age = -1.0);
    let want = (5, "age");
    assert!(
        matches!(err, FitError::Negative { index, field, .. } if (index, field) == want),
        "{err:?}"
    );
    let err = spoiled(6, |c| c.recency = c.age + 1.0);
    assert!(
        matches!(err, FitError::RecencyAfterAge { index: 6, .. }),
        "{err:?}"
    );
}

#[test]
fn bad_options_are_refused() {
    let options = FitOptions {
        max_iterations: 0,
        ..FitOptions::default()
    };
    assert_eq!(
        fit_bg_nbd(&ordinary(), &options).unwrap_err(),
        FitError::InvalidOptions
    );
    let options = FitOptions {
        gradient_tolerance: f64::NAN,
        ..FitOptions::default()
    };
    assert_eq!(
        fit_bg_nbd(&ordinary(), &options).unwrap_err(),
        FitError::InvalidOptions
    );
}

#[test]
fn an_exhausted_iteration_budget_is_reported_not_hidden() {
    let options = FitOptions {
        max_iterations: 2,
        ..FitOptions::default()
    };
    let fit = fit_bg_nbd(&ordinary(), &options).unwrap();
    assert!(!fit.converged);
    assert!(fit.iterations <= 2);
    let p = fit.model.params();
    assert!(
        [p.r, p.alpha, p.a, p.b]
            .iter()
            .all(|v| v.is_finite() && *v > 0.0)
    );
}

#[test]
fn enormous_ages_fit_the_same_model_rescaled() {
    let base = ordinary();
    let reference = fit(&base).unwrap();
    assert!(reference.converged, "{reference:?}");
    let rp = reference.model.params();
    for factor in [1e6 / 52.0, 1e12, 1e-6] {
        let scaled: Vec<_> = base
            .iter()
            .map(|c| h(c.frequency, c.recency * factor, c.age * factor))
            .collect();
        let fit = fit(&scaled).unwrap();
        assert!(fit.converged, "factor {factor}");
        let p = fit.model.params();
        for (got, want) in [
            (p.r, rp.r),
            (p.alpha / factor, rp.alpha),
            (p.a, rp.a),
            (p.b, rp.b),
        ] {
            assert!(
                (got - want).abs() <= 1e-6 * want,
                "factor {factor}: {got} vs {want}"
            );
        }
        // Rescaling time shifts the log-likelihood by the Jacobian, -(Σx)·ln(factor).
        let total_x: f64 = base.iter().map(|c| f64::from(c.frequency)).sum();
        let shifted = reference.log_likelihood - total_x * factor.ln();
        assert!(
            (fit.log_likelihood - shifted).abs() <= 1e-8 * shifted.abs(),
            "factor {factor}"
        );
        let h_old = h(2, 1.0e6, 1.0e6);
        let p_alive = fit.model.probability_alive(&h_old).unwrap();
        let expected = fit
            .model
            .conditional_expected_purchases(&h_old, 10.0 * factor)
            .unwrap();
        assert!((0.0..=1.0).contains(&p_alive) && expected.is_finite() && expected >= 0.0);
    }
}

#[test]
fn one_enormous_age_among_ordinary_ones_still_fits() {
    // Rescaling by the largest age squeezes everyone else towards zero; the fit must cope.
    let mut data = ordinary();
    data[0] = h(0, 0.0, 1e6);
    let fit = fit(&data).unwrap();
    assert!(fit.converged, "{fit:?}");
    let p = fit.model.params();
    let reference = ordinary_fit_params();
    // One extra long-lived non-buyer moves the estimates only a little.
    for (got, want) in [
        (p.r, reference[0]),
        (p.alpha, reference[1]),
        (p.a, reference[2]),
        (p.b, reference[3]),
    ] {
        assert!((got - want).abs() < 0.5 * want, "{got} vs {want}");
    }
    assert!(fit.log_likelihood.is_finite());
}

fn ordinary_fit_params() -> [f64; 4] {
    let p = fit(&ordinary()).unwrap().model.params();
    [p.r, p.alpha, p.a, p.b]
}

#[test]
fn no_dropout_at_all_is_reported_as_unidentifiable() {
    // Everyone buys steadily right up to the end: nothing suggests anyone dropped out.
    let data: Vec<_> = (0..200)
        .map(|i| {
            let age = 50.0 + f64::from(i % 10);
            h(5 + i % 7, age - 0.01, age)
        })
        .collect();
    match fit(&data) {
        Err(FitError::Unidentifiable {
            parameter,
            toward,
            hint,
        }) => {
            assert!(["a", "b", "r", "alpha"].contains(&parameter));
            assert!(matches!(toward, Toward::Zero | Toward::Infinity));
            assert!(!hint.is_empty());
        }
        other => panic!("expected an unidentifiable parameter, got {other:?}"),
    }
}

#[test]
fn gamma_gamma_refuses_what_it_cannot_fit() {
    let options = FitOptions::default();
    let s = |frequency, mean_value| SpendHistory {
        frequency,
        mean_value,
    };
    assert_eq!(
        fit_gamma_gamma(&[], &options).unwrap_err(),
        FitError::NoCustomers
    );
    assert!(matches!(
        fit_gamma_gamma(&[s(2, 10.0)], &options).unwrap_err(),
        FitError::TooFewCustomers { .. }
    ));
    assert_eq!(
        fit_gamma_gamma(&[s(2, 10.0), s(0, 0.0)], &options).unwrap_err(),
        FitError::NonPositiveSpend {
            index: 1,
            value: 0.0
        }
    );
    assert_eq!(
        fit_gamma_gamma(&[s(2, 10.0), s(0, 5.0)], &options).unwrap_err(),
        FitError::NotRepeatCustomer { index: 1 }
    );
    assert!(matches!(
        fit_gamma_gamma(&[s(2, f64::NAN), s(1, 5.0)], &options).unwrap_err(),
        FitError::NonFinite { index: 0, .. }
    ));
    // Everyone spends exactly the same: there is no spread between customers to estimate.
    let same: Vec<_> = (0..100).map(|i| s(1 + i % 5, 25.0)).collect();
    let err = fit_gamma_gamma(&same, &options).unwrap_err();
    assert!(
        matches!(
            err,
            FitError::Unidentifiable { .. } | FitError::InfiniteMeanSpend { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn gamma_gamma_says_when_average_order_values_differ_too_widely() {
    // A few big accounts among many small buyers: a sixth of the repeat customers order
    // about 900 a time, the rest about 60, each with a spread of its own, and each mean
    // is that of gamma-distributed orders. No single gamma distribution of customers'
    // means covers both groups; which parameter runs off, and which way, depends on the
    // draw (here p, towards infinity, which alone would blame the orders' spread), so the
    // reason comes from the means themselves.
    let mut rng = support::rng(11);
    let mixed: Vec<_> = (0..2000_u32)
        .map(|i| {
            let typical = if i % 6 == 0 { 900.0 } else { 60.0 };
            // Gamma(25)/5 - 5 has mean 0 and variance 1, close to normal.
            let z = support::gamma(&mut rng, 25.0) / 5.0 - 5.0;
            let customer_mean = typical * (0.35 * z).exp();
            let frequency = 1 + i % 9;
            // The mean of `frequency` Gamma(6) orders around the customer's mean.
            let orders = support::gamma(&mut rng, 6.0 * f64::from(frequency));
            SpendHistory {
                frequency,
                mean_value: customer_mean * orders / (6.0 * f64::from(frequency)),
            }
        })
        .collect();
    match fit_gamma_gamma(&mixed, &FitOptions::default()) {
        Err(FitError::Unidentifiable { hint, .. }) => {
            assert!(hint.contains("differ too widely"), "{hint}");
        }
        other => panic!("expected the spread of means to be refused, got {other:?}"),
    }
}
