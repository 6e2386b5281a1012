//! Box-bounded BFGS from a start point, with a Newton polish on a finite-difference Hessian
//! where the line searches start to see only rounding noise.

use super::linalg::{cholesky, cholesky_solve, hessian};
use super::line_search::{Line, Point, line_search, step_to_box};
use super::{Minimum, NonFiniteStart, Settings, all_finite, dot, max_abs};

/// BFGS hands over to Newton polishing once the gradient is within this factor of the
/// tolerance: Newton converges quadratically from there, where line searches start to see
/// only rounding noise.
const HANDOVER_FACTOR: f64 = 100.0;
const POLISH_STEPS: usize = 8;
/// Relative rise in value a polishing step may show and still be taken (rounding noise).
const POLISH_VALUE_SLACK: f64 = 1e-10;

/// Minimise `objective` (value and gradient) from `start` with BFGS, then polish with Newton
/// steps on a finite-difference Hessian.
pub(crate) fn minimize<F, const N: usize>(
    mut objective: F,
    start: [f64; N],
    settings: &Settings,
) -> Result<Minimum<N>, NonFiniteStart>
where
    F: FnMut(&[f64; N], &mut [f64; N]) -> f64,
{
    let mut gradient = [0.0; N];
    let value = objective(&start, &mut gradient);
    if !value.is_finite() || !all_finite(&gradient) {
        return Err(NonFiniteStart);
    }
    let mut current = Minimum {
        x: start,
        value,
        gradient,
        iterations: 0,
        converged: false,
    };
    let mut inverse = identity::<N>();
    let mut fresh = true;
    while current.iterations < settings.max_iterations {
        if max_abs(&current.gradient) <= settings.gradient_tolerance * HANDOVER_FACTOR {
            break;
        }
        current.iterations += 1;
        let mut direction = mat_vec(&inverse, &current.gradient).map(|v| -v);
        if dot(&direction, &current.gradient) >= 0.0 {
            inverse = identity::<N>();
            fresh = true;
            direction = current.gradient.map(|v| -v);
        }
        // Project out components pushing through a face of the box we already touch.
        for (d, x) in direction.iter_mut().zip(&current.x) {
            let at_top = *x >= settings.bound && *d > 0.0;
            let at_bottom = *x <= -settings.bound && *d < 0.0;
            if at_top || at_bottom {
                *d = 0.0;
            }
        }
        let slope = dot(&direction, &current.gradient);
        let max_step = step_to_box(&current.x, &direction, settings.bound);
        if slope >= 0.0 || max_step <= 0.0 {
            break;
        }
        let origin = Point {
            step: 0.0,
            x: current.x,
            value: current.value,
            gradient: current.gradient,
            slope,
        };
        // A fresh identity matrix knows nothing of the scale, so its first step is kept short.
        let first_step = if fresh {
            (1.0 / max_abs(&direction)).min(1.0)
        } else {
            1.0
        };
        let mut line = Line {
            objective: &mut objective,
            origin: current.x,
            direction,
        };
        let Some(next) = line_search(&mut line, &origin, first_step, max_step) else {
            // Near the optimum the values stop changing in the last digits and no step can
            // show a decrease; Newton polishing finishes from here far more cheaply.
            if fresh || max_abs(&current.gradient) <= settings.gradient_tolerance.sqrt() {
                break;
            }
            inverse = identity::<N>();
            fresh = true;
            continue;
        };
        let s: [f64; N] = std::array::from_fn(|i| next.x[i] - current.x[i]);
        let y: [f64; N] = std::array::from_fn(|i| next.gradient[i] - current.gradient[i]);
        let sy = dot(&s, &y);
        if sy > 1e-12 * (dot(&s, &s).sqrt() * dot(&y, &y).sqrt()) {
            if fresh {
                // Nocedal & Wright eq. 6.20: scale the first guess by the observed curvature.
                let scale = sy / dot(&y, &y);
                inverse = identity::<N>().map(|row| row.map(|v| v * scale));
                fresh = false;
            }
            bfgs_update(&mut inverse, &s, &y, sy);
        }
        let stalled = (current.value - next.value).abs() <= 1e-16 * current.value.abs().max(1.0);
        current.x = next.x;
        current.value = next.value;
        current.gradient = next.gradient;
        if stalled && max_abs(&current.gradient) <= settings.gradient_tolerance.sqrt() {
            break;
        }
    }
    polish(&mut objective, &mut current, settings);
    current.converged = max_abs(&current.gradient) <= settings.gradient_tolerance;
    Ok(current)
}

/// A few Newton steps from where BFGS stopped; each is kept only if it lowers the gradient.
///
/// Near the optimum a Newton step changes the value by about `g²/H`, far below the rounding
/// noise of a sum over thousands of customers, so the value guard only rejects steps that
/// jump to a visibly worse region.
fn polish<F, const N: usize>(objective: &mut F, current: &mut Minimum<N>, settings: &Settings)
where
    F: FnMut(&[f64; N], &mut [f64; N]) -> f64,
{
    for _ in 0..POLISH_STEPS {
        if max_abs(&current.gradient) <= settings.gradient_tolerance * 1e-3 {
            return;
        }
        let hessian = hessian(&mut *objective, &current.x);
        let Some(factor) = cholesky(&hessian) else {
            return;
        };
        let step = cholesky_solve(&factor, &current.gradient);
        let x: [f64; N] = std::array::from_fn(|i| {
            (current.x[i] - step[i]).clamp(-settings.bound, settings.bound)
        });
        let mut gradient = [0.0; N];
        let value = objective(&x, &mut gradient);
        let better = value.is_finite()
            && all_finite(&gradient)
            && value <= current.value + POLISH_VALUE_SLACK * current.value.abs().max(1.0)
            && max_abs(&gradient) < max_abs(&current.gradient);
        if !better {
            return;
        }
        current.x = x;
        current.value = value;
        current.gradient = gradient;
    }
}

fn identity<const N: usize>() -> [[f64; N]; N] {
    std::array::from_fn(|i| std::array::from_fn(|j| if i == j { 1.0 } else { 0.0 }))
}

fn mat_vec<const N: usize>(m: &[[f64; N]; N], v: &[f64; N]) -> [f64; N] {
    std::array::from_fn(|i| dot(&m[i], v))
}

/// Inverse-Hessian BFGS update (Nocedal & Wright, eq. 6.17).
fn bfgs_update<const N: usize>(h: &mut [[f64; N]; N], s: &[f64; N], y: &[f64; N], sy: f64) {
    let rho = 1.0 / sy;
    let hy = mat_vec(h, y);
    let yhy = dot(y, &hy);
    for i in 0..N {
        for j in 0..N {
            h[i][j] += (1.0 + rho * yhy) * rho * s[i] * s[j] - rho * (hy[i] * s[j] + s[i] * hy[j]);
        }
    }
}
