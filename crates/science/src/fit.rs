//! What every maximum-likelihood fit shares: options, the optimiser run, and the mapping of
//! a parameter that escapes to a boundary onto a readable error.

use crate::error::{FitError, Toward};
use crate::optimize::{self, Settings, Taylor};

/// How hard a fit tries. The defaults suit every dataset the tests cover; a service would
/// change them only to trade accuracy for time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// Upper bound on quasi-Newton iterations; the fit stops there and reports
    /// `converged: false` rather than running on.
    pub max_iterations: usize,
    /// The fit has converged once every component of the gradient of the mean negative
    /// log-likelihood with respect to the log-parameters is at most this.
    pub gradient_tolerance: f64,
    /// Threads for the sums over customers of large datasets; `0` (the default) uses every
    /// core the machine offers. The result does not depend on it: partial sums are always
    /// taken over the same chunks and added in the same order.
    pub threads: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            max_iterations: 1000,
            gradient_tolerance: 1e-10,
            threads: 0,
        }
    }
}

/// Log-parameters are kept within `±LOG_BOUND`, i.e. parameters within about `[1e-11, 7e10]`
/// on the rescaled data; a parameter that needs to go further is not identified by the data.
pub(crate) const LOG_BOUND: f64 = 25.0;

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

/// Rows in the smallest subsample a large fit starts from; each further subsample is
/// [`WARM_START_GROWTH`] times larger, up to a quarter of the data.
const WARM_START_ROWS: usize = 2048;
const WARM_START_GROWTH: usize = 8;

/// For data with many rows, the strides of a ladder of subsamples (every `k`-th row; rows
/// are in frequency order, so every frequency is represented in proportion), coarsest
/// first; empty for data small enough to fit directly. Each rung starts from the previous
/// one's optimum and lands within its own sampling error of the full optimum, so the full
/// data see only the last two or three quadratically converging Newton steps, while all
/// the rungs together cost less than one pass over the data.
pub(crate) fn warm_start_strides(rows: usize) -> Vec<usize> {
    let mut strides = Vec::new();
    let mut sample = WARM_START_ROWS;
    while sample * 4 <= rows {
        strides.push(rows / sample);
        sample *= WARM_START_GROWTH;
    }
    strides
}

/// The optimum of the objective on one rung of [`warm_start_strides`], from `from`; `from`
/// itself when the subsample cannot be fitted.
pub(crate) fn warm_start<F, const N: usize>(objective: F, from: [f64; N]) -> [f64; N]
where
    F: FnMut(&[f64; N]) -> Taylor<N>,
{
    let settings = Settings {
        max_iterations: 100,
        // The sampling error is far larger; the full fit does the rest.
        gradient_tolerance: 1e-6,
        bound: LOG_BOUND,
    };
    match optimize::newton(objective, from, &settings) {
        Some((found, _)) => found.x,
        None => from,
    }
}

/// A mean negative log-likelihood over log-parameters from the log-likelihood's value,
/// gradient and Hessian in the parameters `θ = e^φ`, over `n` customers:
/// `∂/∂φᵢ = θᵢ·∂/∂θᵢ`, `∂²/∂φᵢ∂φⱼ = θᵢθⱼ·∂²/∂θᵢ∂θⱼ + δᵢⱼ·θᵢ·∂/∂θᵢ`.
pub(crate) fn to_log_space<const N: usize>(t: &Taylor<N>, params: &[f64; N], n: f64) -> Taylor<N> {
    Taylor {
        value: -t.value / n,
        gradient: std::array::from_fn(|i| -t.gradient[i] * params[i] / n),
        hessian: std::array::from_fn(|i| {
            std::array::from_fn(|j| {
                let diagonal = if i == j {
                    t.gradient[i] * params[i]
                } else {
                    0.0
                };
                -(t.hessian[i][j] * params[i] * params[j] + diagonal) / n
            })
        }),
    }
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
    if let Some(i) = found.coordinate_at_bound(LOG_BOUND) {
        let toward = if found.x[i] > 0.0 {
            Toward::Infinity
        } else {
            Toward::Zero
        };
        return Err(FitError::Unidentifiable {
            parameter: names[i],
            toward,
            hint: hint(i, toward),
        });
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
        let toward = if found.x[i] > 0.0 {
            Toward::Infinity
        } else {
            Toward::Zero
        };
        return Err(FitError::Unidentifiable {
            parameter: names[i],
            toward,
            hint: hint(i, toward),
        });
    }
    Ok(Estimate {
        log_params: found.x,
        value: found.value,
        iterations: found.iterations,
        converged: found.converged,
        inverse_hessian_diagonal,
    })
}

/// Standard errors of the parameters from the inverse Hessian of the mean negative
/// log-likelihood in log-parameters: by the delta method `se(θ) = θ·sqrt(H⁻¹ᵢᵢ / n)`.
pub(crate) fn standard_errors<const N: usize>(
    params: [f64; N],
    inverse_diagonal: Option<[f64; N]>,
    n: usize,
) -> Option<[f64; N]> {
    let diagonal = inverse_diagonal?;
    let n = n as f64;
    Some(std::array::from_fn(|i| {
        params[i] * (diagonal[i] / n).sqrt()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_start_ladders_grow_by_eight_up_to_a_quarter_of_the_data() {
        assert!(warm_start_strides(8191).is_empty());
        assert_eq!(warm_start_strides(8192), vec![4]);
        // Subsamples of about 2k, 16k and 128k rows.
        assert_eq!(warm_start_strides(400_000), vec![195, 24]);
        assert_eq!(warm_start_strides(1_000_000), vec![488, 61, 7]);
    }
}
