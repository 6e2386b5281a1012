//! Agreement with the Python `lifetimes` package on the seeded datasets in `tests/data/`,
//! written by `reference/make_expected.py`. Parameters, standard errors and every
//! per-customer prediction must match to a relative 1e-4 (in practice they match far
//! closer; run with `--nocapture` to see the worst error per dataset). For the Pareto/NBD,
//! whose `lifetimes` fitter reports no standard errors, the script derives them from the
//! finite-difference Hessian of `lifetimes`' own likelihood.

use rapport_science::{
    BgNbd, CustomerHistory, FitOptions, GammaGamma, SpendHistory, ValueAssumptions, fit_bg_nbd,
    fit_gamma_gamma, fit_mbg_nbd, fit_pareto_nbd, lifetime_value,
};
use serde::Deserialize;

const TOLERANCE: f64 = 1e-4;
const DATASETS: [&str; 3] = ["typical", "few_repeaters", "long_history"];

#[derive(Deserialize)]
struct Dataset {
    customers: Customers,
    bgnbd: Expected<BgNbdNamed>,
    gamma_gamma: Expected<GammaGammaNamed>,
    mbgnbd: PurchaseExpected<BgNbdNamed>,
    pareto_nbd: PurchaseExpected<ParetoNamed>,
    predictions: Predictions,
    unconditional_expected_purchases: Unconditional,
    lifetime_value: LifetimeValues,
}

#[derive(Deserialize)]
struct Customers {
    frequency: Vec<u32>,
    recency: Vec<f64>,
    #[serde(rename = "T")]
    age: Vec<f64>,
    monetary_value: Vec<f64>,
}

#[derive(Deserialize)]
struct Expected<P> {
    params: P,
    standard_errors: P,
    log_likelihood: f64,
}

#[derive(Deserialize)]
struct PurchaseExpected<P> {
    params: P,
    standard_errors: P,
    log_likelihood: f64,
    predictions: PurchasePredictions,
}

#[derive(Deserialize)]
struct PurchasePredictions {
    p_alive: Vec<f64>,
    conditional_expected_purchases: Vec<f64>,
    unconditional_expected_purchases: Vec<f64>,
}

#[derive(Deserialize)]
struct ParetoNamed {
    r: f64,
    alpha: f64,
    s: f64,
    beta: f64,
}

#[derive(Deserialize)]
struct BgNbdNamed {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

#[derive(Deserialize)]
struct GammaGammaNamed {
    p: f64,
    q: f64,
    v: f64,
}

#[derive(Deserialize)]
struct Predictions {
    t: f64,
    p_alive: Vec<f64>,
    conditional_expected_purchases: Vec<f64>,
    conditional_expected_average_profit: Vec<f64>,
}

#[derive(Deserialize)]
struct Unconditional {
    t: Vec<f64>,
    values: Vec<f64>,
}

#[derive(Deserialize)]
struct LifetimeValues {
    months: u32,
    monthly_discount_rate: f64,
    periods_per_month: f64,
    values: Vec<f64>,
}

fn load(name: &str) -> Dataset {
    let path = format!("{}/tests/data/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

fn histories(d: &Dataset) -> Vec<CustomerHistory> {
    let c = &d.customers;
    (0..c.frequency.len())
        .map(|i| CustomerHistory::new(c.frequency[i], c.recency[i], c.age[i]))
        .collect()
}

fn repeat_spend(d: &Dataset) -> Vec<SpendHistory> {
    let c = &d.customers;
    (0..c.frequency.len())
        .filter(|&i| c.frequency[i] > 0)
        .map(|i| SpendHistory {
            frequency: c.frequency[i],
            mean_value: c.monetary_value[i],
        })
        .collect()
}

/// Tracks the worst relative error seen for one quantity and fails on any above tolerance.
struct Worst {
    dataset: &'static str,
    quantity: &'static str,
    error: f64,
}

impl Worst {
    fn new(dataset: &'static str, quantity: &'static str) -> Self {
        Self {
            dataset,
            quantity,
            error: 0.0,
        }
    }

    fn check(&mut self, index: usize, actual: f64, expected: f64) {
        let error = if actual == expected {
            0.0
        } else {
            (actual - expected).abs() / expected.abs()
        };
        assert!(
            error <= TOLERANCE,
            "{} {}[{index}]: got {actual}, lifetimes {expected} (relative error {error:e})",
            self.dataset,
            self.quantity
        );
        self.error = self.error.max(error);
    }

    fn report(&self) {
        println!(
            "{:>14} {:<34} worst relative error {:.1e}",
            self.dataset, self.quantity, self.error
        );
    }
}

/// Checks each (got, want) pair of `quantity` in turn and reports the worst.
fn check_each(
    dataset: &'static str,
    quantity: &'static str,
    pairs: impl IntoIterator<Item = (f64, f64)>,
) {
    let mut worst = Worst::new(dataset, quantity);
    for (i, (got, want)) in pairs.into_iter().enumerate() {
        worst.check(i, got, want);
    }
    worst.report();
}

/// A fit at least as good as the reference: equal to rounding, never lower.
fn assert_not_below(dataset: &str, model: &str, log_likelihood: f64, reference: f64) {
    assert!(
        log_likelihood >= reference - 1e-9 * reference.abs(),
        "{dataset}: {model} log-likelihood {log_likelihood} below lifetimes' {reference}"
    );
}

fn bg_nbd_fit(name: &'static str, d: &Dataset) -> BgNbd {
    let fit = fit_bg_nbd(&histories(d), &FitOptions::default()).unwrap();
    assert!(fit.converged, "{name}: BG/NBD fit did not converge");
    let p = fit.model.params();
    let e = &d.bgnbd.params;
    let pairs = [(p.r, e.r), (p.alpha, e.alpha), (p.a, e.a), (p.b, e.b)];
    check_each(name, "BG/NBD parameters", pairs);
    let se = fit.standard_errors.expect("standard errors");
    let e = &d.bgnbd.standard_errors;
    let pairs = [(se.r, e.r), (se.alpha, e.alpha), (se.a, e.a), (se.b, e.b)];
    check_each(name, "BG/NBD standard errors", pairs);
    assert_not_below(name, "BG/NBD", fit.log_likelihood, d.bgnbd.log_likelihood);
    fit.model
}

fn gamma_gamma_fit(name: &'static str, d: &Dataset) -> GammaGamma {
    let fit = fit_gamma_gamma(&repeat_spend(d), &FitOptions::default()).unwrap();
    assert!(
        fit.converged,
        "{name}: Gamma-Gamma fit did not converge: {fit:?}"
    );
    let p = fit.model.params();
    let e = &d.gamma_gamma.params;
    let pairs = [(p.p, e.p), (p.q, e.q), (p.v, e.v)];
    check_each(name, "Gamma-Gamma parameters", pairs);
    let se = fit.standard_errors.expect("standard errors");
    let e = &d.gamma_gamma.standard_errors;
    let pairs = [(se.p, e.p), (se.q, e.q), (se.v, e.v)];
    check_each(name, "Gamma-Gamma standard errors", pairs);
    let reference = d.gamma_gamma.log_likelihood;
    assert_not_below(name, "Gamma-Gamma", fit.log_likelihood, reference);
    fit.model
}

#[test]
fn fits_and_predictions_match_lifetimes() {
    for name in DATASETS {
        let d = load(name);
        let bg = bg_nbd_fit(name, &d);
        let gg = gamma_gamma_fit(name, &d);
        let customers = histories(&d);

        let mut alive = Worst::new(name, "P(alive)");
        let mut conditional = Worst::new(name, "conditional expected purchases");
        let mut spend = Worst::new(name, "conditional expected order value");
        for (i, h) in customers.iter().enumerate() {
            alive.check(
                i,
                bg.probability_alive(h).unwrap(),
                d.predictions.p_alive[i],
            );
            let expected = d.predictions.conditional_expected_purchases[i];
            conditional.check(
                i,
                bg.conditional_expected_purchases(h, d.predictions.t)
                    .unwrap(),
                expected,
            );
            let value = gg.conditional_expected_value(h.frequency, d.customers.monetary_value[i]);
            spend.check(
                i,
                value,
                d.predictions.conditional_expected_average_profit[i],
            );
        }
        alive.report();
        conditional.report();
        spend.report();

        let mut unconditional = Worst::new(name, "unconditional expected purchases");
        for (i, (&t, &expected)) in d
            .unconditional_expected_purchases
            .t
            .iter()
            .zip(&d.unconditional_expected_purchases.values)
            .enumerate()
        {
            unconditional.check(i, bg.expected_purchases(t).unwrap(), expected);
        }
        unconditional.report();

        // lifetimes discounts at a monthly rate; ours takes the equivalent annual one.
        let lv = &d.lifetime_value;
        let assumptions = ValueAssumptions {
            periods_per_month: lv.periods_per_month,
            horizon_months: lv.months,
            annual_discount_rate: (1.0 + lv.monthly_discount_rate).powi(12) - 1.0,
            margin_rate: 1.0,
        };
        let mut clv = Worst::new(name, "12-month lifetime value");
        for (i, h) in customers.iter().enumerate() {
            let order_value =
                gg.conditional_expected_value(h.frequency, d.customers.monetary_value[i]);
            let value = lifetime_value(&bg, h, order_value, &assumptions).unwrap();
            clv.check(i, value.total, lv.values[i]);
        }
        clv.report();
    }
}

/// What a fitted purchase model offers for comparison, whichever model it is.
struct PurchaseFit<'a> {
    model: &'static str,
    params: [f64; 4],
    standard_errors: [f64; 4],
    log_likelihood: f64,
    p_alive: &'a dyn Fn(&CustomerHistory) -> f64,
    conditional: &'a dyn Fn(&CustomerHistory, f64) -> f64,
    unconditional: &'a dyn Fn(f64) -> f64,
}

fn check_purchase_model(
    name: &'static str,
    d: &Dataset,
    fit: &PurchaseFit<'_>,
    expected_params: [f64; 4],
    expected_errors: [f64; 4],
    expected: &PurchaseExpected<impl Sized>,
) {
    let label = |what: &str| -> &'static str { format!("{} {what}", fit.model).leak() };
    let params = fit.params.into_iter().zip(expected_params);
    check_each(name, label("parameters"), params);
    let errors = fit.standard_errors.into_iter().zip(expected_errors);
    check_each(name, label("standard errors"), errors);
    assert_not_below(name, fit.model, fit.log_likelihood, expected.log_likelihood);
    let t = d.predictions.t;
    let mut alive = Worst::new(name, label("P(alive)"));
    let mut conditional = Worst::new(name, label("conditional purchases"));
    for (i, h) in histories(d).iter().enumerate() {
        alive.check(i, (fit.p_alive)(h), expected.predictions.p_alive[i]);
        conditional.check(
            i,
            (fit.conditional)(h, t),
            expected.predictions.conditional_expected_purchases[i],
        );
    }
    alive.report();
    conditional.report();
    let mut unconditional = Worst::new(name, label("unconditional purchases"));
    for (i, (&t, &want)) in d
        .unconditional_expected_purchases
        .t
        .iter()
        .zip(&expected.predictions.unconditional_expected_purchases)
        .enumerate()
    {
        unconditional.check(i, (fit.unconditional)(t), want);
    }
    unconditional.report();
}

/// Fits the four-parameter purchase model `$fit` to every dataset and checks
/// the fit and its predictions against the reference's `$expected` section;
/// `[$param, ...]` are the parameters' names, in the reference's order.
macro_rules! check_fitted_purchase_model {
    ($fit:ident, $label:literal, $expected:ident, [$($param:ident),*]) => {
        for name in DATASETS {
            let d = load(name);
            let fit = $fit(&histories(&d), &FitOptions::default()).unwrap();
            assert!(
                fit.converged,
                "{name}: {} fit did not converge: {fit:?}",
                $label
            );
            let (p, se) = (
                fit.model.params(),
                fit.standard_errors.expect("standard errors"),
            );
            let (e, es) = (&d.$expected.params, &d.$expected.standard_errors);
            let model = fit.model;
            check_purchase_model(
                name,
                &d,
                &PurchaseFit {
                    model: $label,
                    params: [$(p.$param),*],
                    standard_errors: [$(se.$param),*],
                    log_likelihood: fit.log_likelihood,
                    p_alive: &|h| model.probability_alive(h).unwrap(),
                    conditional: &|h, t| model.conditional_expected_purchases(h, t).unwrap(),
                    unconditional: &|t| model.expected_purchases(t).unwrap(),
                },
                [$(e.$param),*],
                [$(es.$param),*],
                &d.$expected,
            );
        }
    };
}

#[test]
fn mbg_nbd_fits_and_predictions_match_lifetimes() {
    check_fitted_purchase_model!(fit_mbg_nbd, "MBG/NBD", mbgnbd, [r, alpha, a, b]);
}

#[test]
fn pareto_nbd_fits_and_predictions_match_lifetimes() {
    check_fitted_purchase_model!(
        fit_pareto_nbd,
        "Pareto/NBD",
        pareto_nbd,
        [r, alpha, s, beta]
    );
}
