//! Maximum-likelihood fit of the BG/NBD model.

use super::likelihood::log_likelihood;
use super::{BgNbd, BgNbdParams};
use crate::error::{FitError, Toward};
use crate::fit::{FitOptions, estimate, standard_errors};
use crate::history::{CustomerHistory, Grouped, check_dataset};

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

/// Fewer customers than this cannot say anything about how customers differ.
const MINIMUM_CUSTOMERS: usize = 2;

const NAMES: [&str; 4] = ["r", "alpha", "a", "b"];

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

/// Fit the BG/NBD model by maximum likelihood.
///
/// Times are divided by the largest age before fitting, so the optimiser sees numbers near 1
/// whatever the time unit (a dataset in seconds fits as well as one in weeks); `alpha` is
/// scaled back afterwards. The optimiser is BFGS with a strong-Wolfe line search over
/// `ln r, ln α, ln a, ln b` within a box, followed by Newton polishing; see [`FitOptions`].
///
/// Errors, never NaN, for data the model cannot fit: none or one customer, non-finite or
/// negative times, recency beyond age, repeat purchases with zero recency, no observation
/// time, no repeat buyers, or a parameter the data leave unbounded.
pub fn fit_bg_nbd(
    customers: &[CustomerHistory],
    options: &FitOptions,
) -> Result<BgNbdFit, FitError> {
    let max_age = check_dataset(customers, MINIMUM_CUSTOMERS)?;
    let scale = 1.0 / max_age;
    let scaled = Grouped::new(customers, scale);
    let n = customers.len() as f64;
    let objective = |log_params: &[f64; 4], gradient: &mut [f64; 4]| {
        let params = log_params.map(f64::exp);
        let (ll, d) = log_likelihood(&params, &scaled);
        for i in 0..4 {
            // Chain rule to log-parameters, on the mean so tolerances do not depend on n.
            gradient[i] = -d[i] * params[i] / n;
        }
        -ll / n
    };
    let found = estimate(objective, [0.0; 4], options, NAMES, hint)?;
    let [r, alpha_scaled, a, b] = found.log_params.map(f64::exp);
    let params = BgNbdParams {
        r,
        alpha: alpha_scaled / scale,
        a,
        b,
    };
    let model = BgNbd::new(params).map_err(|_| FitError::NonFiniteLikelihood)?;
    let unscaled = Grouped::new(customers, 1.0);
    let (ll, _) = log_likelihood(&[params.r, params.alpha, params.a, params.b], &unscaled);
    if !ll.is_finite() {
        return Err(FitError::NonFiniteLikelihood);
    }
    let errors = standard_errors(
        [params.r, params.alpha, params.a, params.b],
        found.inverse_hessian_diagonal,
        customers.len(),
    );
    Ok(BgNbdFit {
        model,
        log_likelihood: ll,
        iterations: found.iterations,
        converged: found.converged,
        standard_errors: errors.map(|[r, alpha, a, b]| BgNbdParams { r, alpha, a, b }),
        customers: customers.len(),
    })
}
