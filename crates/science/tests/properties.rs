//! Seeded random checks of what must hold for any valid parameters and history.

mod support;

use rand::Rng;
use rand::rngs::StdRng;
use rapport_science::rfm::{self, Purchase};
use rapport_science::{
    BgNbd, BgNbdParams, CustomerHistory, FitError, FitOptions, GammaGamma, GammaGammaParams,
    PastContribution, ValueAssumptions, fit_bg_nbd, fit_gamma_gamma, lifetime_value,
    past_customer_value,
};
use support::log_uniform;

const CASES: usize = 300;

/// A model with random parameters.
fn random_model(rng: &mut StdRng) -> BgNbd {
    BgNbd::new(BgNbdParams {
        r: log_uniform(rng, 0.01, 20.0),
        alpha: log_uniform(rng, 0.05, 500.0),
        a: log_uniform(rng, 0.05, 20.0),
        b: log_uniform(rng, 0.05, 50.0),
    })
    .unwrap()
}

fn random_history(rng: &mut StdRng) -> CustomerHistory {
    let age = log_uniform(rng, 0.01, 5000.0);
    support::history_of_age(rng, age, 0.3, 200)
}

/// `CASES` random models, each with a random history, drawn from `seed`.
fn random_cases(seed: u64) -> impl Iterator<Item = (BgNbd, CustomerHistory)> {
    let mut rng = support::rng(seed);
    (0..CASES).map(move |_| {
        let model = random_model(&mut rng);
        (model, random_history(&mut rng))
    })
}

#[test]
fn p_alive_is_a_probability() {
    for (model, h) in random_cases(1) {
        let p = model.probability_alive(&h).unwrap();
        assert!((0.0..=1.0).contains(&p), "{model:?} {h:?}: {p}");
    }
}

#[test]
fn expected_purchases_are_non_negative_and_grow_with_the_horizon() {
    let horizons = [0.0, 0.1, 1.0, 5.0, 10.0, 30.0, 100.0, 365.0];
    for (model, h) in random_cases(2) {
        let mut previous_conditional = 0.0;
        let mut previous_unconditional = 0.0;
        for t in horizons {
            let conditional = model.conditional_expected_purchases(&h, t).unwrap();
            let unconditional = model.expected_purchases(t).unwrap();
            for (value, previous) in [
                (conditional, previous_conditional),
                (unconditional, previous_unconditional),
            ] {
                assert!(
                    value.is_finite() && value >= 0.0,
                    "{model:?} {h:?} t={t}: {value}"
                );
                assert!(
                    value >= previous * (1.0 - 1e-9),
                    "{model:?} {h:?} t={t}: {value} < {previous}"
                );
            }
            previous_conditional = conditional;
            previous_unconditional = unconditional;
        }
    }
}

#[test]
fn a_longer_silence_never_raises_p_alive() {
    for (model, h) in random_cases(3) {
        let later = CustomerHistory {
            age: h.age * 2.0,
            ..h
        };
        assert!(
            model.probability_alive(&later).unwrap()
                <= model.probability_alive(&h).unwrap() + 1e-15
        );
    }
}

#[test]
fn expected_order_value_lies_between_population_and_own_mean() {
    let mut rng = support::rng(4);
    for _ in 0..CASES {
        let model = GammaGamma::new(GammaGammaParams {
            p: log_uniform(&mut rng, 0.1, 50.0),
            q: 1.0 + log_uniform(&mut rng, 0.01, 50.0),
            v: log_uniform(&mut rng, 0.1, 1e4),
        })
        .unwrap();
        let own = log_uniform(&mut rng, 0.01, 1e5);
        let value = model.conditional_expected_value(rng.random_range(1..500), own);
        let population = model.population_mean_value();
        let (lo, hi) = if own < population {
            (own, population)
        } else {
            (population, own)
        };
        assert!(
            value >= lo * (1.0 - 1e-12) && value <= hi * (1.0 + 1e-12),
            "{value} outside [{lo}, {hi}]"
        );
    }
}

#[test]
fn lifetime_value_is_non_negative_and_grows_with_the_horizon() {
    let mut rng = support::rng(5);
    for _ in 0..CASES / 3 {
        let model = random_model(&mut rng);
        let h = random_history(&mut rng);
        let assumptions = ValueAssumptions {
            periods_per_month: log_uniform(&mut rng, 0.5, 31.0),
            horizon_months: rng.random_range(1..36),
            annual_discount_rate: rng.random::<f64>() * 0.3,
            margin_rate: rng.random::<f64>(),
        };
        let short = lifetime_value(&model, &h, 40.0, &assumptions).unwrap();
        let longer = lifetime_value(
            &model,
            &h,
            40.0,
            &ValueAssumptions {
                horizon_months: assumptions.horizon_months + 12,
                ..assumptions
            },
        )
        .unwrap();
        assert!(short.total.is_finite() && short.total >= 0.0);
        assert!(longer.total >= short.total);
        assert!(
            short
                .months
                .iter()
                .all(|m| m.expected_purchases >= 0.0 && m.present_value >= 0.0)
        );
    }
}

#[test]
fn past_value_with_positive_rate_is_at_least_the_plain_sum() {
    let mut rng = support::rng(6);
    for _ in 0..CASES {
        let contributions: Vec<_> = support::draws(&mut rng, 0..20, |rng| PastContribution {
            periods_ago: rng.random::<f64>() * 36.0,
            amount: rng.random::<f64>() * 500.0,
        });
        let rate = rng.random::<f64>() * 0.05;
        let plain: f64 = contributions.iter().map(|c| c.amount).sum();
        let compounded = past_customer_value(&contributions, rate).unwrap();
        assert!(compounded >= plain * (1.0 - 1e-12));
        assert!(
            (past_customer_value(&contributions, 0.0).unwrap() - plain).abs()
                <= 1e-9 * plain.max(1.0)
        );
    }
}

#[test]
fn fits_of_random_data_give_parameters_or_errors_never_nan() {
    let mut rng = support::rng(7);
    let mut fitted = 0;
    for _ in 0..40 {
        let n = rng.random_range(2..300);
        let bg = support::random_bg_nbd(&mut rng);
        let gg = [
            log_uniform(&mut rng, 0.5, 20.0),
            log_uniform(&mut rng, 1.5, 20.0),
            log_uniform(&mut rng, 1.0, 500.0),
        ];
        let top = log_uniform(&mut rng, 1.0, 1e4);
        let data = support::simulate(&mut rng, n, bg, gg, (0.0, top));
        match fit_bg_nbd(&data.histories, &FitOptions::default()) {
            Ok(fit) => {
                fitted += 1;
                let p = fit.model.params();
                assert!(
                    support::all_finite(&[p.r, p.alpha, p.a, p.b, fit.log_likelihood]),
                    "{fit:?}"
                );
                for h in &data.histories {
                    let alive = fit.model.probability_alive(h).unwrap();
                    assert!((0.0..=1.0).contains(&alive));
                }
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
        match fit_gamma_gamma(&data.spend, &FitOptions::default()) {
            Ok(fit) => {
                let p = fit.model.params();
                assert!(
                    support::all_finite(&[p.p, p.q, p.v, fit.log_likelihood]),
                    "{fit:?}"
                );
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    // Most simulated datasets are fittable; errors are for the degenerate draws.
    assert!(fitted >= 20, "only {fitted} of 40 fitted");
}

#[test]
fn fitting_recovers_simulation_parameters_roughly() {
    let mut rng = support::rng(8);
    let truth = [0.5, 6.0, 0.9, 3.0];
    let data = support::simulate(&mut rng, 5000, truth, [5.0, 3.0, 20.0], (30.0, 90.0));
    let fit = fit_bg_nbd(&data.histories, &FitOptions::default()).unwrap();
    let p = fit.model.params();
    let se = fit.standard_errors.unwrap();
    support::assert_recovered(
        [p.r, p.alpha, p.a, p.b],
        truth,
        [se.r, se.alpha, se.a, se.b],
    );
    let spend = fit_gamma_gamma(&data.spend, &FitOptions::default()).unwrap();
    let population = spend.model.population_mean_value();
    // True population mean order value p·v/(q-1) = 50.
    assert!((population - 50.0).abs() < 5.0, "{population}");
}

#[test]
fn rfm_scores_stay_in_range_and_segments_follow_the_table() {
    let mut rng = support::rng(9);
    let population: Vec<_> = (0..500)
        .filter_map(|_| {
            let purchases: Vec<_> = support::draws(&mut rng, 1..30, |rng| Purchase {
                day: rng.random_range(0..720),
                amount: rng.random::<f64>() * 300.0,
            });
            rfm::RfmValues::from_purchases(&purchases, 720).unwrap()
        })
        .collect();
    let breakpoints = rfm::Breakpoints::from_population(&population).unwrap();
    let mut seen = std::collections::HashSet::new();
    for v in &population {
        let result = rfm::assess(v, &breakpoints).unwrap();
        for s in [
            result.scores.recency,
            result.scores.frequency,
            result.scores.monetary,
        ] {
            assert!((1..=5).contains(&s));
        }
        let rule = rfm::segment_rule(
            result.scores.recency,
            rfm::fm_score(result.scores.frequency, result.scores.monetary),
        );
        assert_eq!(rule.segment, result.segment);
        seen.insert(result.segment);
    }
    // Quintile scoring spreads a random population over most of the table.
    assert!(seen.len() >= 8, "{seen:?}");
}

#[test]
fn fit_errors_are_errors_not_panics_for_tiny_random_datasets() {
    let mut rng = support::rng(10);
    for _ in 0..100 {
        let n = rng.random_range(0..6);
        let data: Vec<_> = (0..n).map(|_| random_history(&mut rng)).collect();
        match fit_bg_nbd(&data, &FitOptions::default()) {
            Ok(fit) => {
                let p = fit.model.params();
                assert!(
                    [p.r, p.alpha, p.a, p.b]
                        .iter()
                        .all(|v| v.is_finite() && *v > 0.0)
                );
            }
            Err(
                FitError::NoCustomers | FitError::TooFewCustomers { .. } | FitError::NoRepeatBuyers,
            ) => {}
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
}
