//! Maximum-likelihood fit of the MBG/NBD model.

use super::likelihood::log_likelihood;
use super::{MbgNbd, MbgNbdParams};
use crate::error::{FitError, ParameterError};
use crate::fit::{FitOptions, ModelFit};
use crate::history::CustomerHistory;
use crate::purchase::fit::{self, Fittable, Spec};

/// A fitted MBG/NBD model and how the fit went.
pub type MbgNbdFit = ModelFit<MbgNbd, MbgNbdParams>;

impl Fittable for MbgNbd {
    type Params = MbgNbdParams;
    const SPEC: Spec = Spec {
        log_likelihood,
        taylor: None,
        time_scaled: [false, true, false, false],
        dropout_hint: "dropout barely differs between customers, or the data show almost no sign of it",
    };

    fn from_params(params: MbgNbdParams) -> Result<Self, ParameterError> {
        MbgNbd::new(params)
    }
}

/// Fit the MBG/NBD model by maximum likelihood, the same way as [`crate::fit_bg_nbd`]
/// (time rescaled to the largest age, bounded BFGS over log-parameters with the analytic
/// gradient, Newton polish, standard errors from the observed information), with the same
/// errors for data the model cannot fit.
pub fn fit_mbg_nbd(
    customers: &[CustomerHistory],
    options: &FitOptions,
) -> Result<MbgNbdFit, FitError> {
    fit::fit(customers, options)
}
