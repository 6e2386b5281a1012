//! Maximum-likelihood fit of the BG/NBD model.

use super::likelihood::{log_likelihood, log_likelihood_taylor};
use super::{BgNbd, BgNbdParams};
use crate::error::{FitError, ParameterError};
use crate::fit::{FitOptions, ModelFit};
use crate::history::CustomerHistory;
use crate::purchase::fit::{self, Fittable, Spec};

/// A fitted BG/NBD model and how the fit went.
pub type BgNbdFit = ModelFit<BgNbd, BgNbdParams>;

impl Fittable for BgNbd {
    type Params = BgNbdParams;
    const SPEC: Spec = Spec {
        log_likelihood,
        taylor: Some(log_likelihood_taylor),
        time_scaled: [false, true, false, false],
        dropout_hint: "the data show almost no sign of customers dropping out, or dropout barely differs between customers",
    };

    fn from_params(params: BgNbdParams) -> Result<Self, ParameterError> {
        BgNbd::new(params)
    }
}

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
    fit::fit(customers, options)
}
