//! Prediction helpers the purchase models share: the horizon check, the logistic that turns
//! log-odds into P(alive), the hypergeometric bracket of the BG/NBD-family expectations, and
//! the way around their removable singularity at `a = 1`.

use crate::error::PredictError;
use crate::special::{ScaledSum, hyp2f1};

/// Within this distance of `a = 1` the BG/NBD-family expectations divide zero by zero; they
/// are then the mean of the values at `1 ± A_NEAR_ONE`, accurate to `O(A_NEAR_ONE²)`.
const A_NEAR_ONE: f64 = 1e-4;

/// A BG/NBD-family expectation over the horizon `t`: zero for `t = 0`, otherwise
/// `value(a)` at the model's `a` (taken around `a = 1` by [`near_a_one`]), never below zero.
pub(crate) fn expectation(
    t: f64,
    a: f64,
    value: impl Fn(f64) -> Result<f64, PredictError>,
) -> Result<f64, PredictError> {
    check_horizon(t)?;
    if t == 0.0 {
        return Ok(0.0);
    }
    near_a_one(a, |a| Ok(value(a)?.max(0.0)))
}

/// `f(a)`, or near `a = 1` the mean of `f` at `1 ± A_NEAR_ONE`.
fn near_a_one(a: f64, f: impl Fn(f64) -> Result<f64, PredictError>) -> Result<f64, PredictError> {
    if (a - 1.0).abs() < A_NEAR_ONE {
        let low = f(1.0 - A_NEAR_ONE)?;
        let high = f(1.0 + A_NEAR_ONE)?;
        Ok(0.5 * (low + high))
    } else {
        f(a)
    }
}

/// A prediction horizon must be a finite, non-negative time.
pub(crate) fn check_horizon(t: f64) -> Result<(), PredictError> {
    if t.is_finite() && t >= 0.0 {
        Ok(())
    } else {
        Err(PredictError::InvalidInput {
            field: "t",
            value: t,
            reason: "the horizon must be a finite, non-negative time",
        })
    }
}

/// `1 / (1 + e^-u)` without overflow.
pub(crate) fn logistic(u: f64) -> f64 {
    if u >= 0.0 {
        1.0 / (1.0 + (-u).exp())
    } else {
        let e = u.exp();
        e / (1.0 + e)
    }
}

/// `1 - (s/(s+t))^A · ₂F₁(A, B; C; t/(s+t))`, the bracket of the BG/NBD
/// expectations (eqs. 9 and 10) and of their MBG/NBD counterparts.
///
/// For a positive series the power and the series are combined in logs and the difference
/// from 1 taken with `expm1`, so short horizons keep their digits.
pub(crate) fn one_minus_scaled_series(
    big_a: f64,
    big_b: f64,
    big_c: f64,
    t: f64,
    s: f64,
) -> Result<f64, PredictError> {
    let z = t / (s + t);
    // ln(1 - z), from whichever form loses fewer digits.
    let ln_one_minus_z = if z < 0.5 {
        (-z).ln_1p()
    } else {
        (s / (s + t)).ln()
    };
    let series: ScaledSum =
        hyp2f1(big_a, big_b, big_c, z).map_err(|_| PredictError::NotConverged { t })?;
    match series.ln() {
        Some(ln_f) => Ok(-(ln_f + big_a * ln_one_minus_z).exp_m1()),
        // The series is negative only for C < 0, where it is small and needs no care.
        None => Ok(1.0 - series.value() * (big_a * ln_one_minus_z).exp()),
    }
}
