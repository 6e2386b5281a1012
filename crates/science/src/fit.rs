//! What every maximum-likelihood fit shares: options, the optimiser run, and the mapping of
//! a parameter that escapes to a boundary onto a readable error.

use crate::error::{FitError, Toward};
use crate::optimize::{self, Settings};

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
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            max_iterations: 1000,
            gradient_tolerance: 1e-10,
        }
    }
}

/// Log-parameters are kept within `±LOG_BOUND`, i.e. parameters within about `[1e-11, 7e10]`
/// on the rescaled data; a parameter that needs to go further is not identified by the data.
pub(crate) const LOG_BOUND: f64 = 25.0;

/// The optimiser's result in log-parameter space.
pub(crate) struct Estimate<const N: usize> {
    pub log_params: [f64; N],
    pub iterations: usize,
    pub converged: bool,
    /// Diagonal of the inverse Hessian of the mean negative log-likelihood, in log-parameters.
    pub inverse_hessian_diagonal: Option<[f64; N]>,
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
    let tolerance_ok = options.gradient_tolerance.is_finite() && options.gradient_tolerance > 0.0;
    if options.max_iterations == 0 || !tolerance_ok {
        return Err(FitError::InvalidOptions);
    }
    let settings = Settings {
        max_iterations: options.max_iterations,
        gradient_tolerance: options.gradient_tolerance,
        bound: LOG_BOUND,
    };
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
