//! Newton's method where the objective supplies its Hessian; otherwise box-bounded BFGS with
//! a strong-Wolfe line search and a Newton polish: every loop capped, so no input makes a fit
//! spin forever.

/// Settings for [`minimize`] and [`newton()`].
///
/// The models minimise a mean negative log-likelihood over log-parameters, so every
/// parameter stays positive and the box keeps them within `exp(±bound)`. Every loop here
/// has a fixed cap, so no input makes a fit spin forever.
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

mod bfgs;
mod linalg;
mod line_search;
mod newton;

pub(crate) use bfgs::minimize;
pub(crate) use linalg::{hessian, inverse_diagonal, mirror_upper};
pub(crate) use newton::{Taylor, newton};

fn dot<const N: usize>(a: &[f64; N], b: &[f64; N]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs<const N: usize>(v: &[f64; N]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

fn all_finite<const N: usize>(v: &[f64; N]) -> bool {
    v.iter().all(|x| x.is_finite())
}

#[cfg(test)]
mod tests;
