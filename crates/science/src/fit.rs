//! What every maximum-likelihood fit shares: options, the result type, the optimiser run
//! over log-parameters, and the mapping of a parameter that escapes to a boundary onto a
//! readable error.

mod estimate;
mod ladder;

pub(crate) use estimate::estimate;
pub(crate) use ladder::{Sample, estimate_from_ladder};

use crate::optimize::Taylor;

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

/// A fitted model `M` with parameters `P`, and how the fit went.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFit<M, P> {
    /// The model at the maximum-likelihood estimate.
    pub model: M,
    /// Log-likelihood of the data at the estimate, in the data's own units (of time, or
    /// of money for a spend model).
    pub log_likelihood: f64,
    /// Quasi-Newton iterations used.
    pub iterations: usize,
    /// Whether the gradient fell below the tolerance within the iteration budget.
    pub converged: bool,
    /// Asymptotic standard errors (inverse observed information, delta method from the
    /// log-parameters); `None` if the Hessian is not positive definite.
    pub standard_errors: Option<P>,
    /// Customers fitted.
    pub customers: usize,
}

/// Log-parameters are kept within `±LOG_BOUND`, i.e. parameters within about `[1e-11, 7e10]`
/// on the rescaled data; a parameter that needs to go further is not identified by the data.
pub(crate) const LOG_BOUND: f64 = 25.0;

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
