//! The fast paths of the fits give the same answers as the plain ones: merged whole-number
//! histories with tables of times versus one row per customer, any number of threads, and
//! the subsample warm start of large fits (every dataset here is large enough to use it).

mod support;

use rapport_science::{
    BgNbdFit, CustomerHistory, FitOptions, GammaGammaFit, SpendHistory, fit_bg_nbd, fit_gamma_gamma,
};

/// Above the size from which the sums over customers use several threads.
const CUSTOMERS: usize = 150_000;

/// Customers with whole-number times (as a service counting days sees them) and their spend.
fn whole_number_customers() -> (Vec<CustomerHistory>, Vec<SpendHistory>) {
    let mut rng = support::rng(41);
    let s = support::simulate(
        &mut rng,
        CUSTOMERS,
        [0.25, 10.0, 0.8, 2.5],
        [6.0, 4.0, 15.0],
        (1.0, 500.0),
    );
    let histories = s
        .histories
        .iter()
        .map(|h| {
            let age = h.age.ceil();
            CustomerHistory::new(h.frequency, h.recency.ceil().min(age), age)
        })
        .collect();
    (histories, s.spend)
}

fn with(threads: usize) -> FitOptions {
    FitOptions {
        threads,
        ..FitOptions::default()
    }
}

fn relative(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

#[test]
fn merged_whole_number_histories_fit_like_one_row_per_customer() {
    let (whole, _) = whole_number_customers();
    // Times times 1.5 are no longer all whole numbers, so each customer gets a row; the
    // model is the same with alpha 1.5 times larger.
    let factor = 1.5;
    let fractional: Vec<CustomerHistory> = whole
        .iter()
        .map(|h| CustomerHistory::new(h.frequency, h.recency * factor, h.age * factor))
        .collect();
    let merged = fit_bg_nbd(&whole, &FitOptions::default()).unwrap();
    let plain = fit_bg_nbd(&fractional, &FitOptions::default()).unwrap();
    assert!(merged.converged && plain.converged);
    let (m, p) = (merged.model.params(), plain.model.params());
    for (a, b) in [
        (m.r, p.r),
        (m.alpha * factor, p.alpha),
        (m.a, p.a),
        (m.b, p.b),
    ] {
        assert!(relative(a, b) < 1e-9, "{m:?} vs {p:?}");
    }
    let total_x: f64 = whole.iter().map(|h| f64::from(h.frequency)).sum();
    let shifted = merged.log_likelihood - total_x * factor.ln();
    assert!(relative(shifted, plain.log_likelihood) < 1e-12);
    let (ms, ps) = (
        merged.standard_errors.unwrap(),
        plain.standard_errors.unwrap(),
    );
    assert!(relative(ms.r, ps.r) < 1e-6 && relative(ms.b, ps.b) < 1e-6);
}

#[test]
fn the_thread_count_does_not_change_a_single_bit() {
    let (histories, spend) = whole_number_customers();
    let fractional: Vec<CustomerHistory> = histories
        .iter()
        .map(|h| CustomerHistory::new(h.frequency, h.recency * 0.7, h.age * 0.7))
        .collect();
    for data in [&histories, &fractional] {
        let one: BgNbdFit = fit_bg_nbd(data, &with(1)).unwrap();
        for threads in [2, 3, 0] {
            assert_eq!(fit_bg_nbd(data, &with(threads)).unwrap(), one);
        }
    }
    // Three copies, so that the repeat buyers too are enough for several threads.
    let spend: Vec<SpendHistory> = spend
        .iter()
        .cycle()
        .take(3 * spend.len())
        .copied()
        .collect();
    let one: GammaGammaFit = fit_gamma_gamma(&spend, &with(1)).unwrap();
    assert!(one.converged);
    for threads in [2, 3, 0] {
        assert_eq!(fit_gamma_gamma(&spend, &with(threads)).unwrap(), one);
    }
}

#[test]
fn large_fits_recover_the_simulated_population() {
    let (histories, spend) = whole_number_customers();
    let bg = fit_bg_nbd(&histories, &FitOptions::default()).unwrap();
    let p = bg.model.params();
    // Sampling error at 150k customers is a few percent; rounding times up adds a little.
    for (got, truth) in [(p.r, 0.25), (p.alpha, 10.0), (p.a, 0.8), (p.b, 2.5)] {
        assert!(relative(got, truth) < 0.15, "{p:?}");
    }
    let gg = fit_gamma_gamma(&spend, &FitOptions::default()).unwrap();
    let g = gg.model.params();
    for (got, truth) in [(g.p, 6.0), (g.q, 4.0), (g.v, 15.0)] {
        assert!(relative(got, truth) < 0.15, "{g:?}");
    }
}
