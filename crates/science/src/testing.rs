//! Fixtures and checks the unit tests share: a handful of customer histories, derivatives
//! against central differences, and the prediction properties every purchase model has.

use crate::error::PredictError;
use crate::grouped::Grouped;
use crate::history::CustomerHistory;
use crate::special::{ln_beta, ln_gamma};

/// Five histories: no repeat purchases, two buyers alike but for recency (one buying near
/// the end of observation), a frequent buyer and a short history.
pub(crate) fn histories() -> Vec<CustomerHistory> {
    vec![
        CustomerHistory::new(0, 0.0, 30.0),
        CustomerHistory::new(2, 10.0, 35.0),
        CustomerHistory::new(2, 30.5, 31.0),
        CustomerHistory::new(7, 20.0, 38.0),
        CustomerHistory::new(1, 0.5, 12.0),
    ]
}

/// `Σ f(x, t_x, T)` over [`histories`]: a likelihood written out customer by customer.
fn sum_over_histories(f: impl Fn(f64, f64, f64) -> f64) -> f64 {
    histories()
        .iter()
        .map(|h| f(f64::from(h.frequency), h.recency, h.age))
        .sum()
}

/// [`histories`] grouped as a fit sees them, in their own time unit.
pub(crate) fn grouped() -> Grouped {
    Grouped::new(&histories(), 1.0)
}

/// Asserts that `derivative[i]` is the central difference of `f` in parameter `i` at `at`,
/// with a step of 1e-6 of the parameter, to 1e-6 relative (absolute below 1).
pub(crate) fn assert_central_differences<const N: usize>(
    f: impl Fn(&[f64; N]) -> f64,
    derivative: [f64; N],
    at: [f64; N],
    what: &str,
) {
    for i in 0..N {
        let h = 1e-6 * at[i];
        let (mut up, mut down) = (at, at);
        up[i] += h;
        down[i] -= h;
        let numeric = (f(&up) - f(&down)) / (2.0 * h);
        assert!(
            (derivative[i] - numeric).abs() < 1e-6 * numeric.abs().max(1.0),
            "{what} at {at:?}, parameter {i}: {} vs {numeric}",
            derivative[i]
        );
    }
}

/// A purchase model's log-likelihood with its gradient, as the fit calls it.
pub(crate) type LogLikelihood = fn(&[f64; 4], &Grouped) -> (f64, [f64; 4]);

/// Asserts that `log_likelihood` on [`histories`] at `at` is the sum of `direct`, the
/// likelihood written out customer by customer as `direct(x, t_x, T)`, to 1e-11.
pub(crate) fn assert_written_out(
    log_likelihood: LogLikelihood,
    at: [f64; 4],
    direct: impl Fn(f64, f64, f64) -> f64,
) {
    let (got, _) = log_likelihood(&at, &grouped());
    assert_relative(got, sum_over_histories(direct), 1e-11);
}

/// Asserts [`assert_written_out`] for a BG/NBD-family likelihood at `at = [r, α, a, b]`,
/// written out with beta and gamma functions as
/// `B_alive/B(a, b) · Γ(r+x)α^r/Γ(r) / (α+T)^(r+x) + B_gone/B(a, b) · Γ(r+x)α^r/Γ(r) / (α+t_x)^(r+x)`,
/// where `ln_betas(x)` is `(ln B_alive, ln B_gone)`, the second `None` for a customer who
/// cannot have dropped out.
pub(crate) fn assert_beta_branches_written_out(
    log_likelihood: LogLikelihood,
    at: [f64; 4],
    ln_betas: impl Fn(f64) -> (f64, Option<f64>),
) {
    let [r, alpha, a, b] = at;
    let direct = |x: f64, tx: f64, big_t: f64| {
        let common = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let (alive, gone) = ln_betas(x);
        let alive = (alive - ln_beta(a, b) + common - (r + x) * (alpha + big_t).ln()).exp();
        let gone = gone.map_or(0.0, |gone| {
            (gone - ln_beta(a, b) + common - (r + x) * (alpha + tx).ln()).exp()
        });
        (alive + gone).ln()
    };
    assert_written_out(log_likelihood, at, direct);
}

/// Asserts that the gradient `log_likelihood` gives on `data` at `at` is the central
/// difference of its value.
pub(crate) fn assert_gradient(log_likelihood: LogLikelihood, data: &Grouped, at: [f64; 4]) {
    let (_, gradient) = log_likelihood(&at, data);
    assert_central_differences(|q| log_likelihood(q, data).0, gradient, at, "gradient");
}

/// Asserts that `got` is within `relative` of `want`.
pub(crate) fn assert_relative(got: f64, want: f64, relative: f64) {
    assert!(
        (got - want).abs() < relative * want.abs(),
        "{got} vs {want}"
    );
}

/// The expectations every purchase model gives, for the shared checks below.
pub(crate) trait Expectations {
    /// Expected repeat purchases in the next `t` given a history.
    fn conditional(&self, h: &CustomerHistory, t: f64) -> Result<f64, PredictError>;
    /// Expected repeat purchases in `(0, t]` from a first purchase.
    fn unconditional(&self, t: f64) -> Result<f64, PredictError>;
}

/// Implements [`Expectations`] for a model through its own methods of the same meaning;
/// invoked by each model's tests, so this module imports no model.
macro_rules! expectations {
    ($model:ty) => {
        impl $crate::testing::Expectations for $model {
            fn conditional(
                &self,
                h: &$crate::history::CustomerHistory,
                t: f64,
            ) -> Result<f64, $crate::error::PredictError> {
                self.conditional_expected_purchases(h, t)
            }
            fn unconditional(&self, t: f64) -> Result<f64, $crate::error::PredictError> {
                self.expected_purchases(t)
            }
        }
    };
}

pub(crate) use expectations;

/// Asserts `E[Y(t) | x = 0, t_x = 0, T = 0] = E[X(t)]`: a customer at their first purchase
/// expects what the population does.
pub(crate) fn assert_new_customer_expects_the_mean(model: &impl Expectations) {
    let new = CustomerHistory::new(0, 0.0, 0.0);
    for t in [0.5, 7.0, 52.0, 400.0] {
        let c = model.conditional(&new, t).unwrap();
        let u = model.unconditional(t).unwrap();
        assert!((c - u).abs() < 1e-12 * u, "t = {t}: {c} vs {u}");
    }
}

/// Asserts that negative and non-finite horizons are refused and a zero horizon expects no
/// purchases.
pub(crate) fn assert_horizons_checked(model: &impl Expectations) {
    let h = CustomerHistory::new(1, 2.0, 3.0);
    assert!(model.conditional(&h, -1.0).is_err());
    assert!(model.conditional(&h, f64::INFINITY).is_err());
    assert!(model.unconditional(f64::NAN).is_err());
    assert!(model.unconditional(f64::INFINITY).is_err());
    assert_eq!(model.conditional(&h, 0.0).unwrap(), 0.0);
}
