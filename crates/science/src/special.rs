//! Special functions the models need (log-gamma, digamma, trigamma and the Gauss
//! hypergeometric series), accurate near machine precision for the argument ranges the models
//! produce (positive reals, `0 <= z < 1`); they are not general-purpose replacements.

/// `ln(2π) / 2`.
const HALF_LN_TWO_PI: f64 = 0.918_938_533_204_672_8;

mod hypergeometric;
mod log_product;
mod trigamma;

pub(crate) use hypergeometric::{ScaledSum, SeriesError, hyp2f1, ln_hyp2f1_unit_a};
pub(crate) use log_product::LogProduct;
pub(crate) use trigamma::trigamma;

/// Below this the recurrences shift the argument up before using the asymptotic series.
const ASYMPTOTIC_FROM: f64 = 10.0;

/// Natural log of the gamma function for `x > 0`.
///
/// Shifts `x` to at least 10 with `Γ(x+1) = xΓ(x)`, then applies Stirling's series
/// (Abramowitz & Stegun 6.1.40) through the `x^-11` term, whose truncation error there is
/// below 1e-17.
pub(crate) fn ln_gamma(x: f64) -> f64 {
    debug_assert!(x > 0.0, "ln_gamma needs a positive argument, got {x}");
    let mut shift_product = 1.0;
    let mut y = x;
    while y < ASYMPTOTIC_FROM {
        shift_product *= y;
        y += 1.0;
    }
    let inv = 1.0 / y;
    let inv2 = inv * inv;
    // Bernoulli-number coefficients B_2k / (2k (2k-1)).
    let series = inv
        * (1.0 / 12.0
            + inv2
                * (-1.0 / 360.0
                    + inv2
                        * (1.0 / 1260.0
                            + inv2
                                * (-1.0 / 1680.0
                                    + inv2 * (1.0 / 1188.0 - inv2 * 691.0 / 360_360.0)))));
    let stirling = (y - 0.5) * y.ln() - y + HALF_LN_TWO_PI + series;
    stirling - shift_product.ln()
}

/// `ln B(x, y)`, for the tests that write likelihoods out with beta functions.
#[cfg(test)]
pub(crate) fn ln_beta(x: f64, y: f64) -> f64 {
    ln_gamma(x) + ln_gamma(y) - ln_gamma(x + y)
}

/// Digamma `ψ(x) = d ln Γ(x) / dx` for `x > 0`.
///
/// Shifts `x` to at least 10 with `ψ(x) = ψ(x+1) - 1/x`, then applies the asymptotic series
/// (Abramowitz & Stegun 6.3.18) through the `x^-12` term.
pub(crate) fn digamma(x: f64) -> f64 {
    debug_assert!(x > 0.0, "digamma needs a positive argument, got {x}");
    let mut shift_sum = 0.0;
    let mut y = x;
    while y < ASYMPTOTIC_FROM {
        shift_sum += 1.0 / y;
        y += 1.0;
    }
    let inv2 = 1.0 / (y * y);
    let series = inv2
        * (1.0 / 12.0
            - inv2
                * (1.0 / 120.0
                    - inv2
                        * (1.0 / 252.0
                            - inv2
                                * (1.0 / 240.0 - inv2 * (1.0 / 132.0 - inv2 * 691.0 / 32_760.0)))));
    y.ln() - 0.5 / y - series - shift_sum
}

#[cfg(test)]
mod tests;
