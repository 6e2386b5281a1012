//! The maximum-likelihood fit the purchase models share: validate, rescale time, minimise
//! over log-parameters, scale back, standard errors.

use super::params::FourParams;
use crate::error::{FitError, ParameterError, Toward};
use crate::fit::{FitOptions, ModelFit, Sample, estimate, estimate_from_ladder, standard_errors};
use crate::grouped::Grouped;
use crate::history::{CustomerHistory, check_dataset};
use crate::optimize::Taylor;
use crate::parallel::resolve_threads;

/// Fewer customers than this cannot say anything about how customers differ.
const MINIMUM_CUSTOMERS: usize = 2;

/// A four-parameter purchase model's log-likelihood over grouped data, with its gradient
/// with respect to the parameters.
pub(crate) type LogLikelihood = fn(&[f64; 4], &Grouped) -> (f64, [f64; 4]);

/// The same with the Hessian too, for models that have it analytically.
pub(crate) type LogLikelihoodTaylor = fn(&[f64; 4], &Grouped) -> Taylor<4>;

/// What a purchase model tells the shared fit about itself.
pub(crate) struct Spec {
    pub log_likelihood: LogLikelihood,
    /// When present the fit runs Newton's method on it first, from fits of subsamples for
    /// large data; see [`estimate_from_ladder`].
    pub taylor: Option<LogLikelihoodTaylor>,
    /// Parameters measured in time (scales), which are rescaled with the data.
    pub time_scaled: [bool; 4],
    /// Why the dropout parameters (the last two) could not be estimated.
    pub dropout_hint: &'static str,
}

/// A purchase model the shared fit can produce.
pub(crate) trait Fittable: Sized {
    /// The model's parameters.
    type Params: FourParams;
    /// How to fit it.
    const SPEC: Spec;
    /// The model from parameters, if they are valid.
    fn from_params(params: Self::Params) -> Result<Self, ParameterError>;
}

/// Why a parameter could not be estimated: the purchase-rate parameters (the first two)
/// mean the same in every model; the dropout parameters explain themselves.
fn hint(parameter: usize, toward: Toward, dropout_hint: &'static str) -> &'static str {
    match (parameter, toward) {
        (0 | 1, Toward::Infinity) => {
            "purchase rates barely differ between customers, so the spread of rates cannot be estimated"
        }
        (0 | 1, Toward::Zero) => {
            "repeat purchases are too few or too uneven for the distribution of purchase rates to settle"
        }
        _ => dropout_hint,
    }
}

impl Sample for Grouped {
    fn rows(&self) -> usize {
        self.rows.len()
    }

    fn customers(&self) -> f64 {
        Grouped::customers(self)
    }

    fn subsample(&self, stride: usize) -> Self {
        Grouped::subsample(self, stride)
    }
}

/// Fit model `M` by maximum likelihood.
///
/// Times are divided by the largest age before fitting, so the optimiser sees numbers near
/// 1 whatever the time unit; time-scaled parameters are scaled back afterwards. A model with
/// an analytic Hessian is fitted by Newton's method over the log-parameters, started from
/// fits of subsamples for large data; otherwise, and whenever Newton gives up, by BFGS with
/// a strong-Wolfe line search within a box, followed by Newton polishing; see
/// [`FitOptions`].
pub(crate) fn fit<M: Fittable>(
    customers: &[CustomerHistory],
    options: &FitOptions,
) -> Result<ModelFit<M, M::Params>, FitError> {
    let spec = &M::SPEC;
    let names = M::Params::NAMES;
    let hint = |i, toward| hint(i, toward, spec.dropout_hint);
    let max_age = check_dataset(customers, MINIMUM_CUSTOMERS)?;
    let scale = 1.0 / max_age;
    let mut scaled = Grouped::new(customers, scale);
    scaled.threads = resolve_threads(options.threads);
    let n = customers.len() as f64;
    let objective = |log_params: &[f64; 4], gradient: &mut [f64; 4]| {
        let params = log_params.map(f64::exp);
        let (ll, d) = (spec.log_likelihood)(&params, &scaled);
        for i in 0..4 {
            // Chain rule to log-parameters, on the mean so tolerances do not depend on n.
            gradient[i] = -d[i] * params[i] / n;
        }
        -ll / n
    };
    let found = match spec.taylor {
        Some(taylor) => estimate_from_ladder(&scaled, taylor, options, names, hint)?,
        None => estimate(objective, [0.0; 4], options, names, hint)?,
    };
    let params: [f64; 4] = std::array::from_fn(|i| {
        let value = found.log_params[i].exp();
        if spec.time_scaled[i] {
            value / scale
        } else {
            value
        }
    });
    if params.iter().any(|p| !(p.is_finite() && *p > 0.0)) {
        return Err(FitError::NonFiniteLikelihood);
    }
    // Rescaling time by `scale` multiplies the density of each customer's purchase times by
    // `scale^-x`, so the log-likelihood in the data's own unit follows without another pass.
    let repeat_purchases: f64 = scaled.groups.iter().map(|g| g.frequency * g.count).sum();
    let ll = -found.value * n + repeat_purchases * scale.ln();
    if !ll.is_finite() {
        return Err(FitError::NonFiniteLikelihood);
    }
    let model =
        M::from_params(M::Params::from_array(params)).map_err(|_| FitError::NonFiniteLikelihood)?;
    let errors = standard_errors(params, found.inverse_hessian_diagonal, customers.len());
    Ok(ModelFit {
        model,
        log_likelihood: ll,
        iterations: found.iterations,
        converged: found.converged,
        standard_errors: errors.map(M::Params::from_array),
        customers: customers.len(),
    })
}
