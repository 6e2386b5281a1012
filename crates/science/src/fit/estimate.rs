//! The optimiser runs behind every fit: Newton's method where the objective has a Hessian,
//! bounded BFGS otherwise or as the fallback, and the errors for a parameter the data leave
//! unbounded.

use super::{FitOptions, LOG_BOUND};
use crate::error::{FitError, Toward};
use crate::optimize::{self, Settings, Taylor};

/// The optimiser's result in log-parameter space.
pub(crate) struct Estimate<const N: usize> {
    pub log_params: [f64; N],
    /// The objective (mean negative log-likelihood) there.
    pub value: f64,
    pub iterations: usize,
    pub converged: bool,
    /// Diagonal of the inverse Hessian of the mean negative log-likelihood, in log-parameters.
    pub inverse_hessian_diagonal: Option<[f64; N]>,
}

fn settings(options: &FitOptions) -> Result<Settings, FitError> {
    let tolerance_ok = options.gradient_tolerance.is_finite() && options.gradient_tolerance > 0.0;
    if options.max_iterations == 0 || !tolerance_ok {
        return Err(FitError::InvalidOptions);
    }
    Ok(Settings {
        max_iterations: options.max_iterations,
        gradient_tolerance: options.gradient_tolerance,
        bound: LOG_BOUND,
    })
}

/// Like [`estimate`] for an objective that also gives its Hessian: Newton's method from
/// `start`, a few passes over the data where BFGS needs dozens, and the standard errors from
/// the exact Hessian at the optimum. Where Newton gives up, or ends at a box face or on a
/// surface that is not curved upwards, the fit is [`estimate`]'s from `fallback_start`, so
/// data the model cannot fit get the same errors as ever.
pub(crate) fn estimate_newton<F, const N: usize>(
    mut objective: F,
    start: [f64; N],
    fallback_start: [f64; N],
    options: &FitOptions,
    names: [&'static str; N],
    hint: impl Fn(usize, Toward) -> &'static str,
) -> Result<Estimate<N>, FitError>
where
    F: FnMut(&[f64; N]) -> Taylor<N>,
{
    let settings = settings(options)?;
    if let Some((found, hessian)) = optimize::newton(&mut objective, start, &settings)
        && found.coordinate_at_bound(LOG_BOUND).is_none()
        && let Some(diagonal) = optimize::inverse_diagonal(&hessian)
    {
        return Ok(Estimate {
            log_params: found.x,
            value: found.value,
            iterations: found.iterations,
            converged: found.converged,
            inverse_hessian_diagonal: Some(diagonal),
        });
    }
    let gradient_only = |x: &[f64; N], gradient: &mut [f64; N]| {
        let t = objective(x);
        *gradient = t.gradient;
        t.value
    };
    estimate(gradient_only, fallback_start, options, names, hint)
}

/// Minimise a mean negative log-likelihood over log-parameters and turn boundary escapes into
/// [`FitError::Unidentifiable`] with the model's explanation of the cause.
pub(crate) fn estimate<F, const N: usize>(
    mut objective: F,
    start: [f64; N],
    options: &FitOptions,
    names: [&'static str; N],
    hint: impl Fn(usize, Toward) -> &'static str,
) -> Result<Estimate<N>, FitError>
where
    F: FnMut(&[f64; N], &mut [f64; N]) -> f64,
{
    let settings = settings(options)?;
    let found = optimize::minimize(&mut objective, start, &settings)
        .map_err(|_| FitError::NonFiniteLikelihood)?;
    let unidentifiable = |i: usize| {
        let toward = if found.x[i] > 0.0 {
            Toward::Infinity
        } else {
            Toward::Zero
        };
        FitError::Unidentifiable {
            parameter: names[i],
            toward,
            hint: hint(i, toward),
        }
    };
    if let Some(i) = found.coordinate_at_bound(LOG_BOUND) {
        return Err(unidentifiable(i));
    }
    if !found.value.is_finite() || found.x.iter().any(|x| !x.is_finite()) {
        return Err(FitError::NonFiniteLikelihood);
    }
    let hessian = optimize::hessian(&mut objective, &found.x);
    let inverse_hessian_diagonal = optimize::inverse_diagonal(&hessian);
    // Stopped early on a surface that is not curved upwards: the search was creeping along a
    // flat valley towards a boundary. Name the parameter that has travelled furthest.
    let stalled = !found.converged && found.iterations < options.max_iterations;
    if stalled && inverse_hessian_diagonal.is_none() {
        let i = (0..N)
            .max_by(|&i, &j| found.x[i].abs().total_cmp(&found.x[j].abs()))
            .unwrap_or(0);
        return Err(unidentifiable(i));
    }
    Ok(Estimate {
        log_params: found.x,
        value: found.value,
        iterations: found.iterations,
        converged: found.converged,
        inverse_hessian_diagonal,
    })
}
