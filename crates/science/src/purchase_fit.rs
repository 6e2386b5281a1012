//! The maximum-likelihood fit that the purchase models (BG/NBD, MBG/NBD, Pareto/NBD) share:
//! validate, rescale time, minimise over log-parameters, scale back, standard errors.

use crate::error::{FitError, Toward};
use crate::fit::{
    FitOptions, estimate, estimate_newton, standard_errors, to_log_space, warm_start,
    warm_start_strides,
};
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
    /// When present the fit runs Newton's method on it first; see [`estimate_newton`].
    pub taylor: Option<LogLikelihoodTaylor>,
    pub names: [&'static str; 4],
    /// Parameters measured in time (scales), which are rescaled with the data.
    pub time_scaled: [bool; 4],
    pub hint: fn(usize, Toward) -> &'static str,
}

/// The fit in the data's own time unit.
pub(crate) struct Fitted {
    pub params: [f64; 4],
    pub log_likelihood: f64,
    pub iterations: usize,
    pub converged: bool,
    pub standard_errors: Option<[f64; 4]>,
}

/// The mean negative log-likelihood over log-parameters, with gradient and Hessian.
fn on(taylor: LogLikelihoodTaylor, data: &Grouped) -> impl FnMut(&[f64; 4]) -> Taylor<4> + '_ {
    let n = data.customers();
    move |log_params: &[f64; 4]| {
        let params = log_params.map(f64::exp);
        to_log_space(&taylor(&params, data), &params, n)
    }
}

/// Times are divided by the largest age before fitting, so the optimiser sees numbers near
/// 1 whatever the time unit; time-scaled parameters are scaled back afterwards. A model with
/// an analytic Hessian is fitted by Newton's method over the log-parameters, started from
/// fits of subsamples for large data ([`estimate_newton`]); otherwise, and whenever Newton
/// gives up, by BFGS with a strong-Wolfe line search within a box, followed by Newton
/// polishing; see [`FitOptions`].
pub(crate) fn fit(
    customers: &[CustomerHistory],
    options: &FitOptions,
    spec: &Spec,
) -> Result<Fitted, FitError> {
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
        Some(taylor) => {
            let mut start = [0.0; 4];
            for stride in warm_start_strides(scaled.rows.len()) {
                start = warm_start(on(taylor, &scaled.subsample(stride)), start);
            }
            let objective = on(taylor, &scaled);
            estimate_newton(objective, start, [0.0; 4], options, spec.names, spec.hint)?
        }
        None => estimate(objective, [0.0; 4], options, spec.names, spec.hint)?,
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
    Ok(Fitted {
        params,
        log_likelihood: ll,
        iterations: found.iterations,
        converged: found.converged,
        standard_errors: standard_errors(params, found.inverse_hessian_diagonal, customers.len()),
    })
}
