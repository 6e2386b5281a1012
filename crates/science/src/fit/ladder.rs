//! Newton's method started from a ladder of subsample fits: for large data the full data see
//! only the last two or three quadratically converging steps, while all the rungs together
//! cost less than one pass over the data.

use super::estimate::{Estimate, estimate_newton};
use super::{FitOptions, LOG_BOUND, to_log_space};
use crate::error::{FitError, Toward};
use crate::optimize::{self, Settings, Taylor};

/// Rows in the smallest subsample a large fit starts from; each further subsample is
/// [`WARM_START_GROWTH`] times larger, up to a quarter of the data.
const WARM_START_ROWS: usize = 2048;
const WARM_START_GROWTH: usize = 8;

/// Data a likelihood sums over, as the ladder needs to see it.
pub(crate) trait Sample: Sized {
    /// Rows a pass goes over.
    fn rows(&self) -> usize;
    /// Customers represented: what the mean log-likelihood divides by.
    fn customers(&self) -> f64;
    /// Every `stride`-th row.
    fn subsample(&self, stride: usize) -> Self;
}

/// For data with many rows, the strides of a ladder of subsamples (every `k`-th row; rows
/// are in frequency order, so every frequency is represented in proportion), coarsest
/// first; empty for data small enough to fit directly. Each rung starts from the previous
/// one's optimum and lands within its own sampling error of the full optimum.
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
fn warm_start<F, const N: usize>(objective: F, from: [f64; N]) -> [f64; N]
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

/// The mean negative log-likelihood of `data` over log-parameters, with gradient and Hessian.
fn on<D: Sample, const N: usize>(
    log_likelihood: impl Fn(&[f64; N], &D) -> Taylor<N>,
    data: &D,
) -> impl FnMut(&[f64; N]) -> Taylor<N> {
    let n = data.customers();
    move |log_params: &[f64; N]| {
        let params = log_params.map(f64::exp);
        to_log_space(&log_likelihood(&params, data), &params, n)
    }
}

/// [`estimate_newton`] on `data` from the origin of log-parameter space, started for large
/// data from fits of growing subsamples.
pub(crate) fn estimate_from_ladder<D, L, const N: usize>(
    data: &D,
    log_likelihood: L,
    options: &FitOptions,
    names: [&'static str; N],
    hint: impl Fn(usize, Toward) -> &'static str,
) -> Result<Estimate<N>, FitError>
where
    D: Sample,
    L: Fn(&[f64; N], &D) -> Taylor<N> + Copy,
{
    let mut start = [0.0; N];
    for stride in warm_start_strides(data.rows()) {
        start = warm_start(on(log_likelihood, &data.subsample(stride)), start);
    }
    estimate_newton(
        on(log_likelihood, data),
        start,
        [0.0; N],
        options,
        names,
        hint,
    )
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
