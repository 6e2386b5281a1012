//! Maximum-likelihood fit of the MBG/NBD model.

use super::likelihood::log_likelihood;
use super::{MbgNbd, MbgNbdParams};
use crate::error::{FitError, Toward};
use crate::fit::FitOptions;
use crate::history::CustomerHistory;
use crate::purchase_fit::{self, Spec};

/// A fitted MBG/NBD model and how the fit went.
#[derive(Debug, Clone, PartialEq)]
pub struct MbgNbdFit {
    /// The model at the maximum-likelihood estimate.
    pub model: MbgNbd,
    /// Log-likelihood of the data at the estimate, in the data's own time unit.
    pub log_likelihood: f64,
    /// Quasi-Newton iterations used.
    pub iterations: usize,
    /// Whether the gradient fell below the tolerance within the iteration budget.
    pub converged: bool,
    /// Asymptotic standard errors (inverse observed information, delta method from the
    /// log-parameters); `None` if the Hessian is not positive definite.
    pub standard_errors: Option<MbgNbdParams>,
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
        _ => "dropout barely differs between customers, or the data show almost no sign of it",
    }
}

const SPEC: Spec = Spec {
    log_likelihood,
    taylor: None,
    names: ["r", "alpha", "a", "b"],
    time_scaled: [false, true, false, false],
    hint,
};

/// Fit the MBG/NBD model by maximum likelihood, the same way as [`crate::fit_bg_nbd`]
/// (time rescaled to the largest age, bounded BFGS over log-parameters with the analytic
/// gradient, Newton polish, standard errors from the observed information), with the same
/// errors for data the model cannot fit.
pub fn fit_mbg_nbd(
    customers: &[CustomerHistory],
    options: &FitOptions,
) -> Result<MbgNbdFit, FitError> {
    let fitted = purchase_fit::fit(customers, options, &SPEC)?;
    let [r, alpha, a, b] = fitted.params;
    let model =
        MbgNbd::new(MbgNbdParams { r, alpha, a, b }).map_err(|_| FitError::NonFiniteLikelihood)?;
    Ok(MbgNbdFit {
        model,
        log_likelihood: fitted.log_likelihood,
        iterations: fitted.iterations,
        converged: fitted.converged,
        standard_errors: fitted.standard_errors.map(|[r, alpha, a, b]| MbgNbdParams {
            r,
            alpha,
            a,
            b,
        }),
        customers: customers.len(),
    })
}
