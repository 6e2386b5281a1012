//! Maximum-likelihood fit of the Pareto/NBD model.

use super::likelihood::log_likelihood;
use super::{ParetoNbd, ParetoNbdParams};
use crate::error::{FitError, Toward};
use crate::fit::FitOptions;
use crate::history::CustomerHistory;
use crate::purchase_fit::{self, Spec};

/// A fitted Pareto/NBD model and how the fit went.
#[derive(Debug, Clone, PartialEq)]
pub struct ParetoNbdFit {
    /// The model at the maximum-likelihood estimate.
    pub model: ParetoNbd,
    /// Log-likelihood of the data at the estimate, in the data's own time unit.
    pub log_likelihood: f64,
    /// Quasi-Newton iterations used.
    pub iterations: usize,
    /// Whether the gradient fell below the tolerance within the iteration budget.
    pub converged: bool,
    /// Asymptotic standard errors (inverse observed information, delta method from the
    /// log-parameters); `None` if the Hessian is not positive definite.
    pub standard_errors: Option<ParetoNbdParams>,
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
            "the data show almost no sign of customers dropping out, or dropout rates barely differ between customers"
        }
    }
}

const SPEC: Spec = Spec {
    log_likelihood,
    taylor: None,
    names: ["r", "alpha", "s", "beta"],
    time_scaled: [false, true, false, true],
    hint,
};

/// Fit the Pareto/NBD model by maximum likelihood, the same way as [`crate::fit_bg_nbd`]:
/// time rescaled to the largest age (`alpha` and `beta` scaled back), bounded BFGS over
/// log-parameters with the analytic gradient (the hypergeometric series differentiated term
/// by term), Newton polish, standard errors from the observed information; the same errors
/// for data the model cannot fit.
pub fn fit_pareto_nbd(
    customers: &[CustomerHistory],
    options: &FitOptions,
) -> Result<ParetoNbdFit, FitError> {
    let fitted = purchase_fit::fit(customers, options, &SPEC)?;
    let [r, alpha, s, beta] = fitted.params;
    let model = ParetoNbd::new(ParetoNbdParams { r, alpha, s, beta })
        .map_err(|_| FitError::NonFiniteLikelihood)?;
    Ok(ParetoNbdFit {
        model,
        log_likelihood: fitted.log_likelihood,
        iterations: fitted.iterations,
        converged: fitted.converged,
        standard_errors: fitted
            .standard_errors
            .map(|[r, alpha, s, beta]| ParetoNbdParams { r, alpha, s, beta }),
        customers: customers.len(),
    })
}
