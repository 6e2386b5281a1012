//! Maximum-likelihood fit of the Pareto/NBD model.

use super::likelihood::log_likelihood;
use super::{ParetoNbd, ParetoNbdParams};
use crate::error::{FitError, ParameterError};
use crate::fit::{FitOptions, ModelFit};
use crate::history::CustomerHistory;
use crate::purchase::fit::{self, Fittable, Spec};

/// A fitted Pareto/NBD model and how the fit went.
pub type ParetoNbdFit = ModelFit<ParetoNbd, ParetoNbdParams>;

impl Fittable for ParetoNbd {
    type Params = ParetoNbdParams;
    const SPEC: Spec = Spec {
        log_likelihood,
        taylor: None,
        time_scaled: [false, true, false, true],
        dropout_hint: "the data show almost no sign of customers dropping out, or dropout rates barely differ between customers",
    };

    fn from_params(params: ParetoNbdParams) -> Result<Self, ParameterError> {
        ParetoNbd::new(params)
    }
}

/// Fit the Pareto/NBD model by maximum likelihood, the same way as [`crate::fit_bg_nbd`]:
/// time rescaled to the largest age (`alpha` and `beta` scaled back), bounded BFGS over
/// log-parameters with the analytic gradient (carried through the hypergeometric function's
/// continued fraction), Newton polish, standard errors from the observed information; the
/// same errors for data the model cannot fit.
pub fn fit_pareto_nbd(
    customers: &[CustomerHistory],
    options: &FitOptions,
) -> Result<ParetoNbdFit, FitError> {
    fit::fit(customers, options)
}
