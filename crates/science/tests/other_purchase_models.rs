//! Seeded random checks of the MBG/NBD and Pareto/NBD models: probabilities stay
//! probabilities, expectations are finite and grow with the horizon, fits give parameters
//! or readable errors, never NaN, and a fit recovers the parameters it was simulated from.

mod support;

use rand::Rng;
use rand::rngs::StdRng;
use rapport_science::{
    CustomerHistory, FitError, FitOptions, HoldoutCustomer, MbgNbd, MbgNbdParams, ParetoNbd,
    ParetoNbdParams, PurchaseModel, choose_model, fit_bg_nbd, fit_mbg_nbd, fit_pareto_nbd,
};
use support::log_uniform;

const CASES: usize = 200;

fn random_history(rng: &mut StdRng) -> CustomerHistory {
    let age = log_uniform(rng, 0.01, 2000.0);
    support::history_of_age(rng, age, 0.3, 150)
}

/// Either model, so one loop checks both.
enum Model {
    Mbg(MbgNbd),
    Pareto(ParetoNbd),
}

impl Model {
    fn random(rng: &mut StdRng) -> Self {
        let r = log_uniform(rng, 0.02, 10.0);
        let alpha = log_uniform(rng, 0.1, 300.0);
        let (third, fourth) = (log_uniform(rng, 0.05, 10.0), log_uniform(rng, 0.1, 300.0));
        if rng.random::<bool>() {
            Model::Mbg(
                MbgNbd::new(MbgNbdParams {
                    r,
                    alpha,
                    a: third,
                    b: fourth.min(50.0),
                })
                .unwrap(),
            )
        } else {
            Model::Pareto(
                ParetoNbd::new(ParetoNbdParams {
                    r,
                    alpha,
                    s: third,
                    beta: fourth,
                })
                .unwrap(),
            )
        }
    }

    fn alive(&self, h: &CustomerHistory) -> f64 {
        match self {
            Model::Mbg(m) => m.probability_alive(h).unwrap(),
            Model::Pareto(m) => m.probability_alive(h).unwrap(),
        }
    }

    fn unconditional(&self, t: f64) -> f64 {
        match self {
            Model::Mbg(m) => m.expected_purchases(t).unwrap(),
            Model::Pareto(m) => m.expected_purchases(t).unwrap(),
        }
    }

    fn as_purchase_model(&self) -> &dyn PurchaseModel {
        match self {
            Model::Mbg(m) => m,
            Model::Pareto(m) => m,
        }
    }
}

#[test]
fn p_alive_is_a_probability_and_expectations_grow_with_the_horizon() {
    let mut rng = support::rng(201);
    let horizons = [0.0, 0.1, 1.0, 10.0, 52.0, 365.0];
    for _ in 0..CASES {
        let model = Model::random(&mut rng);
        let h = random_history(&mut rng);
        let p = model.alive(&h);
        assert!((0.0..=1.0).contains(&p), "{h:?}: {p}");
        let (mut previous, mut previous_unconditional) = (0.0, 0.0);
        for t in horizons {
            let value = model
                .as_purchase_model()
                .conditional_expected_purchases(&h, t)
                .unwrap();
            let unconditional = model.unconditional(t);
            for (v, before) in [(value, previous), (unconditional, previous_unconditional)] {
                assert!(v.is_finite() && v >= 0.0, "{h:?} t={t}: {v}");
                assert!(v >= before * (1.0 - 1e-9), "{h:?} t={t}: {v} < {before}");
            }
            previous = value;
            previous_unconditional = unconditional;
        }
        // A longer silence never makes a customer more likely to be alive.
        let later = CustomerHistory {
            age: h.age * 2.0,
            ..h
        };
        assert!(model.alive(&later) <= p + 1e-12, "{h:?}");
    }
}

#[test]
fn fits_of_random_data_give_parameters_or_errors_never_nan() {
    let mut rng = support::rng(202);
    let mut fitted = [0, 0];
    // Few draws: on data that leave a parameter unidentified the Pareto/NBD fit creeps
    // towards the box's edge through slow hypergeometric series before it says so, which
    // takes seconds in a debug build.
    for _ in 0..12 {
        let n = rng.random_range(30..150);
        let bg = support::random_bg_nbd(&mut rng);
        let top = log_uniform(&mut rng, 20.0, 1e4);
        let data = support::simulate(&mut rng, n, bg, [1.0, 2.0, 1.0], (0.0, top)).histories;
        match fit_mbg_nbd(&data, &FitOptions::default()) {
            Ok(fit) => {
                fitted[0] += 1;
                let p = fit.model.params();
                assert!(support::all_finite(&[
                    p.r,
                    p.alpha,
                    p.a,
                    p.b,
                    fit.log_likelihood
                ]));
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
        match fit_pareto_nbd(&data, &FitOptions::default()) {
            Ok(fit) => {
                fitted[1] += 1;
                let p = fit.model.params();
                assert!(
                    support::all_finite(&[p.r, p.alpha, p.s, p.beta, fit.log_likelihood]),
                    "{fit:?}"
                );
                for h in &data {
                    let alive = fit.model.probability_alive(h).unwrap();
                    assert!((0.0..=1.0).contains(&alive));
                }
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    assert!(fitted[0] >= 6 && fitted[1] >= 6, "fitted {fitted:?} of 12");
}

#[test]
fn degenerate_datasets_are_refused_by_both() {
    let none: Vec<_> = (0..20)
        .map(|i| CustomerHistory::new(0, 0.0, 5.0 + f64::from(i)))
        .collect();
    assert_eq!(
        fit_mbg_nbd(&none, &FitOptions::default()).unwrap_err(),
        FitError::NoRepeatBuyers
    );
    assert_eq!(
        fit_pareto_nbd(&none, &FitOptions::default()).unwrap_err(),
        FitError::NoRepeatBuyers
    );
    assert_eq!(
        fit_pareto_nbd(&[], &FitOptions::default()).unwrap_err(),
        FitError::NoCustomers
    );
    let late = [
        CustomerHistory::new(1, 9.0, 3.0),
        CustomerHistory::new(0, 0.0, 3.0),
    ];
    assert!(matches!(
        fit_mbg_nbd(&late, &FitOptions::default()),
        Err(FitError::RecencyAfterAge { index: 0, .. })
    ));
}

/// Pareto/NBD customers: exponential lifetimes at rate μ ~ Gamma(s, β), Poisson purchases
/// at rate λ ~ Gamma(r, α) until then; observed for `age`, then `holdout` more.
fn simulate_pareto(
    rng: &mut StdRng,
    n: usize,
    [r, alpha, s, beta]: [f64; 4],
    holdout: f64,
) -> Vec<HoldoutCustomer> {
    (0..n)
        .map(|_| {
            let age = 20.0 + 60.0 * rng.random::<f64>();
            let rate = support::gamma(rng, r) / alpha;
            let death_rate = support::gamma(rng, s) / beta;
            let lifetime = -(1.0 - rng.random::<f64>()).ln() / death_rate;
            let (mut clock, mut frequency, mut recency, mut later) = (0.0, 0, 0.0, 0);
            loop {
                clock += -(1.0 - rng.random::<f64>()).ln() / rate;
                if clock >= lifetime.min(age + holdout) || !clock.is_finite() {
                    break;
                }
                if clock < age {
                    frequency += 1;
                    recency = clock;
                } else {
                    later += 1;
                }
            }
            HoldoutCustomer {
                calibration: CustomerHistory::new(frequency, recency, age),
                holdout_purchases: later,
            }
        })
        .collect()
}

#[test]
fn pareto_fit_recovers_its_parameters_and_wins_on_its_own_data() {
    let mut rng = support::rng(203);
    let truth = [0.6, 8.0, 0.8, 12.0];
    let customers = simulate_pareto(&mut rng, 4000, truth, 39.0);
    let histories: Vec<_> = customers.iter().map(|c| c.calibration).collect();
    let fit = fit_pareto_nbd(&histories, &FitOptions::default()).unwrap();
    let p = fit.model.params();
    let se = fit.standard_errors.unwrap();
    support::assert_recovered(
        [p.r, p.alpha, p.s, p.beta],
        truth,
        [se.r, se.alpha, se.s, se.beta],
    );
    // On holdout data from the Pareto/NBD story the fitted Pareto/NBD predicts the frequency
    // groups' holdout totals at least as well as a BG/NBD fitted on the same calibration data.
    let bg = fit_bg_nbd(&histories, &FitOptions::default())
        .unwrap()
        .model;
    let candidates: [(&str, &dyn PurchaseModel); 2] = [("BG/NBD", &bg), ("Pareto/NBD", &fit.model)];
    let choice = choose_model(&candidates, &customers, 39.0).unwrap();
    let overall = &choice.evaluations[1].1.overall;
    assert!(
        (overall.predicted - overall.actual).abs() < 0.1 * overall.actual,
        "{overall:?}"
    );
    assert_eq!(choice.name, "Pareto/NBD", "{}", choice.reason);
}
