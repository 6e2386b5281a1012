//! The strong-Wolfe line search BFGS steps along (Nocedal & Wright, algorithms 3.5 and 3.6),
//! and the largest step that stays inside the box.

use super::{all_finite, dot};

const WOLFE_C1: f64 = 1e-4;
const WOLFE_C2: f64 = 0.9;
/// Expansions of the step while bracketing: 2^30 covers any scale the box allows.
const BRACKET_STEPS: usize = 30;
/// Interpolations inside a bracket; cubic interpolation needs two or three when the values
/// are meaningful, so more only happen when rounding noise hides the decrease.
const ZOOM_STEPS: usize = 12;

/// One evaluated point along a search line.
#[derive(Debug, Clone, Copy)]
pub(super) struct Point<const N: usize> {
    pub step: f64,
    pub x: [f64; N],
    pub value: f64,
    pub gradient: [f64; N],
    pub slope: f64,
}

/// The objective along `origin + step·direction`.
pub(super) struct Line<'a, F, const N: usize> {
    pub objective: &'a mut F,
    pub origin: [f64; N],
    pub direction: [f64; N],
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
pub(super) fn line_search<F, const N: usize>(
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
pub(super) fn step_to_box<const N: usize>(x: &[f64; N], direction: &[f64; N], bound: f64) -> f64 {
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
