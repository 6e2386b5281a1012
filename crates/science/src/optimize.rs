//! Newton's method where the objective supplies its Hessian; otherwise box-bounded BFGS with
//! a strong-Wolfe line search, a Newton polish, and a finite-difference Hessian of an
//! analytic gradient.
//!
//! The models minimise a mean negative log-likelihood over log-parameters, so every
//! parameter stays positive and the box keeps them within `exp(±bound)`. Every loop here
//! has a fixed cap, so no input makes a fit spin forever.

/// Settings for [`minimize`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub max_iterations: usize,
    /// Stop once every gradient component is at most this in absolute value.
    pub gradient_tolerance: f64,
    /// Each coordinate stays within `[-bound, bound]`.
    pub bound: f64,
}

/// Where the minimiser stopped.
#[derive(Debug, Clone)]
pub(crate) struct Minimum<const N: usize> {
    pub x: [f64; N],
    pub value: f64,
    pub gradient: [f64; N],
    pub iterations: usize,
    pub converged: bool,
}

impl<const N: usize> Minimum<N> {
    /// The first coordinate that ended on or next to a face of the box (within a factor
    /// of e of it). Whether the gradient still points outwards or has gone flat, the
    /// optimum is not inside the box.
    pub fn coordinate_at_bound(&self, bound: f64) -> Option<usize> {
        (0..N).find(|&i| self.x[i].abs() >= bound - 1.0)
    }
}

/// The objective could not be evaluated where the search started.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct NonFiniteStart;

mod linalg;
mod newton;

use linalg::{cholesky, cholesky_solve};
pub(crate) use linalg::{hessian, inverse_diagonal, mirror_upper};
pub(crate) use newton::{Taylor, newton};

const WOLFE_C1: f64 = 1e-4;
const WOLFE_C2: f64 = 0.9;
/// Expansions of the step while bracketing: 2^30 covers any scale the box allows.
const BRACKET_STEPS: usize = 30;
/// Interpolations inside a bracket; cubic interpolation needs two or three when the values
/// are meaningful, so more only happen when rounding noise hides the decrease.
const ZOOM_STEPS: usize = 12;
/// BFGS hands over to Newton polishing once the gradient is within this factor of the
/// tolerance: Newton converges quadratically from there, where line searches start to see
/// only rounding noise.
const HANDOVER_FACTOR: f64 = 100.0;
const POLISH_STEPS: usize = 8;
/// Relative rise in value a polishing step may show and still be taken (rounding noise).
const POLISH_VALUE_SLACK: f64 = 1e-10;

fn dot<const N: usize>(a: &[f64; N], b: &[f64; N]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs<const N: usize>(v: &[f64; N]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

fn all_finite<const N: usize>(v: &[f64; N]) -> bool {
    v.iter().all(|x| x.is_finite())
}

/// One evaluated point along a search line.
#[derive(Debug, Clone, Copy)]
struct Point<const N: usize> {
    step: f64,
    x: [f64; N],
    value: f64,
    gradient: [f64; N],
    slope: f64,
}

struct Line<'a, F, const N: usize> {
    objective: &'a mut F,
    origin: [f64; N],
    direction: [f64; N],
}

impl<F, const N: usize> Line<'_, F, N>
where
    F: FnMut(&[f64; N], &mut [f64; N]) -> f64,
{
    fn at(&mut self, step: f64) -> Point<N> {
        let mut x = self.origin;
        for (xi, di) in x.iter_mut().zip(&self.direction) {
            *xi += step * di;
        }
        let mut gradient = [0.0; N];
        let mut value = (self.objective)(&x, &mut gradient);
        if !value.is_finite() || !all_finite(&gradient) {
            // Treated as an uphill point, so the search backs away from it.
            value = f64::INFINITY;
        }
        let slope = dot(&gradient, &self.direction);
        Point {
            step,
            x,
            value,
            gradient,
            slope,
        }
    }
}

/// Minimiser of the cubic through two points with values and slopes, if it lies strictly
/// inside the interval's middle 80%; otherwise the midpoint (Nocedal & Wright, eq. 3.59).
fn interpolate<const N: usize>(lo: &Point<N>, hi: &Point<N>) -> f64 {
    let (a, b) = (lo.step, hi.step);
    let mid = 0.5 * (a + b);
    if !hi.value.is_finite() {
        return mid;
    }
    let d1 = lo.slope + hi.slope - 3.0 * (lo.value - hi.value) / (a - b);
    let disc = d1 * d1 - lo.slope * hi.slope;
    if disc < 0.0 {
        return mid;
    }
    let d2 = (b - a).signum() * disc.sqrt();
    let candidate = b - (b - a) * (hi.slope + d2 - d1) / (hi.slope - lo.slope + 2.0 * d2);
    let (left, right) = if a < b { (a, b) } else { (b, a) };
    let margin = 0.1 * (right - left);
    if candidate.is_finite() && candidate > left + margin && candidate < right - margin {
        candidate
    } else {
        mid
    }
}

/// Strong-Wolfe line search (Nocedal & Wright, algorithms 3.5 and 3.6). Returns a point
/// with a lower value than the origin, or `None` when none was found.
fn line_search<F, const N: usize>(
    line: &mut Line<'_, F, N>,
    start: &Point<N>,
    first_step: f64,
    max_step: f64,
) -> Option<Point<N>>
where
    F: FnMut(&[f64; N], &mut [f64; N]) -> f64,
{
    let sufficient = |p: &Point<N>| p.value <= start.value + WOLFE_C1 * p.step * start.slope;
    let curvature = |p: &Point<N>| p.slope.abs() <= -WOLFE_C2 * start.slope;
    let mut previous = *start;
    let mut step = first_step.min(max_step);
    let mut bracket = None;
    for i in 0..BRACKET_STEPS {
        let trial = line.at(step);
        if !sufficient(&trial) || (i > 0 && trial.value >= previous.value) {
            bracket = Some((previous, trial));
            break;
        }
        if curvature(&trial) {
            return Some(trial);
        }
        if trial.slope >= 0.0 {
            bracket = Some((trial, previous));
            break;
        }
        if step >= max_step {
            return Some(trial);
        }
        previous = trial;
        step = (2.0 * step).min(max_step);
    }
    let (mut lo, mut hi) = bracket?;
    for _ in 0..ZOOM_STEPS {
        let step = interpolate(&lo, &hi);
        if (hi.step - lo.step).abs() <= 1e-16 * lo.step.abs().max(1e-300) {
            break;
        }
        let trial = line.at(step);
        if !sufficient(&trial) || trial.value >= lo.value {
            hi = trial;
        } else {
            if curvature(&trial) {
                return Some(trial);
            }
            if trial.slope * (hi.step - lo.step) >= 0.0 {
                hi = lo;
            }
            lo = trial;
        }
    }
    (lo.step > 0.0 && lo.value < start.value).then_some(lo)
}

/// Largest step along `direction` that keeps `x` inside the box.
fn step_to_box<const N: usize>(x: &[f64; N], direction: &[f64; N], bound: f64) -> f64 {
    let mut limit = f64::INFINITY;
    for (xi, di) in x.iter().zip(direction) {
        if *di > 0.0 {
            limit = limit.min((bound - xi) / di);
        } else if *di < 0.0 {
            limit = limit.min((-bound - xi) / di);
        }
    }
    limit.max(0.0)
}

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

#[cfg(test)]
mod tests;
