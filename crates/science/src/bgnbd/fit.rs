//! Maximum-likelihood fit of the BG/NBD model.

use super::likelihood::log_likelihood;
use super::{BgNbd, BgNbdParams};
use crate::error::{FitError, Toward};
use crate::fit::FitOptions;
use crate::history::CustomerHistory;
use crate::purchase_fit::{self, Spec};

/// A fitted BG/NBD model and how the fit went.
#[derive(Debug, Clone, PartialEq)]
pub struct BgNbdFit {
    /// The model at the maximum-likelihood estimate.
    pub model: BgNbd,
    /// Log-likelihood of the data at the estimate, in the data's own time unit.
    pub log_likelihood: f64,
    /// Quasi-Newton iterations used.
    pub iterations: usize,
    /// Whether the gradient fell below the tolerance within the iteration budget.
    pub converged: bool,
    /// Asymptotic standard errors (inverse observed information, delta method from the
    /// log-parameters); `None` if the Hessian is not positive definite.
    pub standard_errors: Option<BgNbdParams>,
    /// Customers fitted.
    pub customers: usize,
}

fn hint(parameter: usize, toward: Toward) -> &'static str {
    match (parameter, toward) {
        (0 | 1, Toward::Infinity) => {
            "purchase rates barely differ between customers, so the spread of rates cannot be estimated"
        }
        (0 | 1, Toward::Zero) => {
            "repeat purchases are too few or too uneven for the distribution of purchase rates to settle"
        }
        _ => {
            "the data show almost no sign of customers dropping out, or dropout barely differs between customers"
        }
    }
}

const SPEC: Spec = Spec {
    log_likelihood,
    taylor: Some(super::likelihood::log_likelihood_taylor),
    names: ["r", "alpha", "a", "b"],
    time_scaled: [false, true, false, false],
    hint,
};

/// Fit the BG/NBD model by maximum likelihood.
///
/// Times are divided by the largest age before fitting, so the optimiser sees numbers near 1
/// whatever the time unit (a dataset in seconds fits as well as one in weeks); `alpha` is
/// scaled back afterwards. Identical histories (whole-number times repeat heavily) are fitted
/// once with their multiplicity. The optimiser is Newton's method with the analytic Hessian
/// over `ln r, ln α, ln a, ln b`, started for large data from fits of growing subsamples,
/// falling back to BFGS with a strong-Wolfe line search within a box where Newton gives up;
/// see [`FitOptions`].
///
/// Errors, never NaN, for data the model cannot fit: none or one customer, non-finite or
/// negative times, recency beyond age, repeat purchases with zero recency, no observation
/// time, no repeat buyers, or a parameter the data leave unbounded.
pub fn fit_bg_nbd(
    customers: &[CustomerHistory],
    options: &FitOptions,
) -> Result<BgNbdFit, FitError> {
    let fitted = purchase_fit::fit(customers, options, &SPEC)?;
    let [r, alpha, a, b] = fitted.params;
    let model =
        BgNbd::new(BgNbdParams { r, alpha, a, b }).map_err(|_| FitError::NonFiniteLikelihood)?;
    Ok(BgNbdFit {
        model,
        log_likelihood: fitted.log_likelihood,
        iterations: fitted.iterations,
        converged: fitted.converged,
        standard_errors: fitted.standard_errors.map(|[r, alpha, a, b]| BgNbdParams {
            r,
            alpha,
            a,
            b,
        }),
        customers: customers.len(),
    })
}
