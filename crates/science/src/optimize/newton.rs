//! Newton's method on an objective that supplies its own Hessian.

use super::linalg::{cholesky, cholesky_solve};
use super::{Minimum, Settings, all_finite, dot, max_abs};

/// Value, gradient and Hessian of an objective at one point.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Taylor<const N: usize> {
    pub value: f64,
    pub gradient: [f64; N],
    pub hessian: [[f64; N]; N],
}

impl<const N: usize> Taylor<N> {
    fn finite(&self) -> bool {
        self.value.is_finite() && all_finite(&self.gradient) && self.hessian.iter().all(all_finite)
    }
}

/// Newton iterations before handing over to BFGS.
const MAX_ITERATIONS: usize = 40;
/// Halvings of a step before giving up on it.
const BACKTRACKS: usize = 30;
/// Largest change of any log-parameter in one step: a factor of e² in the parameter, so an
/// early step from a poor start cannot fly to the box's faces.
const MAX_STEP: f64 = 2.0;
/// Relative rise in value still accepted when the gradient shrinks: near the optimum the
/// value only changes in its last digits.
const VALUE_SLACK: f64 = 1e-12;

/// Minimise from `start`; the minimum and the Hessian there, or `None` (see the module).
///
/// With the exact Hessian the fit converges quadratically from a reasonable start, in about
/// a dozen evaluations where BFGS with finite-difference polishing needs fifty or more; each
/// evaluation is one pass over the customers. It gives up (returns `None`) rather than
/// improvise on surfaces it does not handle well: a start that cannot be evaluated, a step
/// that finds no decrease, a search heading for the box's faces, or too many iterations.
/// The caller then runs the more cautious BFGS.
pub(crate) fn newton<F, const N: usize>(
    mut objective: F,
    start: [f64; N],
    settings: &Settings,
) -> Option<(Minimum<N>, [[f64; N]; N])>
where
    F: FnMut(&[f64; N]) -> Taylor<N>,
{
    let mut x = start;
    let mut at = objective(&x);
    // Leave a margin from the box: a search that gets there belongs to BFGS's handling.
    let inner = settings.bound - 1.0;
    for iteration in 0..MAX_ITERATIONS.min(settings.max_iterations) {
        if !at.finite() || x.iter().any(|v| v.abs() >= inner) {
            return None;
        }
        if max_abs(&at.gradient) <= settings.gradient_tolerance {
            let found = Minimum {
                x,
                value: at.value,
                gradient: at.gradient,
                iterations: iteration,
                converged: true,
            };
            return Some((found, at.hessian));
        }
        let mut direction = descent(&at)?;
        let longest = max_abs(&direction);
        if longest > MAX_STEP {
            direction = direction.map(|d| d * MAX_STEP / longest);
        }
        let slope = dot(&at.gradient, &direction);
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..BACKTRACKS {
            let trial_x: [f64; N] =
                std::array::from_fn(|i| (x[i] + step * direction[i]).clamp(-inner, inner));
            let trial = objective(&trial_x);
            if trial.finite() {
                let decrease = trial.value <= at.value + 1e-4 * step * slope;
                let noise = trial.value <= at.value + VALUE_SLACK * at.value.abs().max(1.0)
                    && max_abs(&trial.gradient) < max_abs(&at.gradient);
                if decrease || noise {
                    accepted = Some((trial_x, trial));
                    break;
                }
            }
            step *= 0.5;
        }
        (x, at) = accepted?;
    }
    None
}

/// The Newton direction `-H⁻¹g`, with `H` shifted towards a multiple of the identity until
/// it is positive definite (far from the optimum the likelihood need not be convex).
fn descent<const N: usize>(at: &Taylor<N>) -> Option<[f64; N]> {
    let scale = (0..N).fold(1e-3_f64, |m, i| m.max(at.hessian[i][i].abs()));
    let mut shift = 0.0;
    for _ in 0..20 {
        let shifted: [[f64; N]; N] = std::array::from_fn(|i| {
            std::array::from_fn(|j| at.hessian[i][j] + if i == j { shift } else { 0.0 })
        });
        if let Some(factor) = cholesky(&shifted) {
            let step = cholesky_solve(&factor, &at.gradient);
            let direction = step.map(|s| -s);
            if all_finite(&direction) && dot(&direction, &at.gradient) < 0.0 {
                return Some(direction);
            }
        }
        shift = if shift == 0.0 {
            1e-6 * scale
        } else {
            shift * 10.0
        };
    }
    None
}

#[cfg(test)]
mod tests;
