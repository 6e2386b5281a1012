//! Special functions the models need: log-gamma, digamma and the Gauss hypergeometric series.
//!
//! Written for the argument ranges the models produce (positive reals, `0 <= z < 1`), with
//! accuracy near machine precision there; they are not general-purpose replacements.

/// `ln(2π) / 2`.
const HALF_LN_TWO_PI: f64 = 0.918_938_533_204_672_8;

mod log_product;
mod trigamma;

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

/// Upper bound on series terms; at `z = 0.999` and parameters near 1000 the series needs a
/// few hundred thousand, so this only stops arguments far outside what the models produce.
const HYP2F1_MAX_TERMS: usize = 20_000_000;

/// Rescaling threshold that keeps the partial sums finite for huge values.
const HYP2F1_RESCALE: f64 = 1e200;

/// The value of a hypergeometric series, held as `(1 + rest) * exp(log_scale)` so that sums
/// beyond `f64::MAX` and values close to 1 both keep their precision.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScaledSum {
    /// Sum of the terms after the leading 1, in units of `exp(log_scale)` once rescaled.
    rest: f64,
    /// The leading term in the same units (1 until the sum is rescaled).
    lead: f64,
    log_scale: f64,
}

impl ScaledSum {
    /// The value as a plain number (infinite if it exceeds `f64::MAX`).
    pub(crate) fn value(&self) -> f64 {
        (self.lead + self.rest) * self.log_scale.exp()
    }

    /// `ln(value)`, or `None` when the value is not positive.
    pub(crate) fn ln(&self) -> Option<f64> {
        let mantissa = self.lead + self.rest;
        if mantissa <= 0.0 || !mantissa.is_finite() {
            return None;
        }
        // ln(1 + rest) keeps its digits when the value is close to 1.
        let ln_mantissa = if self.lead == 1.0 {
            self.rest.ln_1p()
        } else {
            mantissa.ln()
        };
        Some(ln_mantissa + self.log_scale)
    }
}

/// Why the hypergeometric series could not be summed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum SeriesError {
    /// `c` is zero or a negative integer (a pole), or an input is not finite or `z` is
    /// outside `[0, 1)`.
    OutOfDomain,
    /// The series had not converged after [`HYP2F1_MAX_TERMS`] terms.
    NotConverged,
}

/// Gauss hypergeometric function `₂F₁(a, b; c; z)` for `a, b > 0`, real `c` that is not a
/// non-positive integer, and `0 <= z < 1`, by its defining power series (Abramowitz & Stegun
/// 15.1.1).
///
/// All terms are positive once `n > -c`, so direct summation loses no digits to
/// cancellation; the stopping rule bounds the remaining tail by a geometric series.
pub(crate) fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Result<ScaledSum, SeriesError> {
    let inputs_finite = a.is_finite() && b.is_finite() && c.is_finite() && z.is_finite();
    let c_is_pole = c <= 0.0 && c == c.round();
    if !inputs_finite || c_is_pole || !(0.0..1.0).contains(&z) || a <= 0.0 || b <= 0.0 {
        return Err(SeriesError::OutOfDomain);
    }
    let mut sum = ScaledSum {
        rest: 0.0,
        lead: 1.0,
        log_scale: 0.0,
    };
    if z == 0.0 {
        return Ok(sum);
    }
    // Beyond this index every factor of the term ratio is positive.
    let sign_settles_at = if c < 0.0 { (-c).ceil() as usize + 1 } else { 0 };
    let mut term = 1.0_f64;
    for n in 0..HYP2F1_MAX_TERMS {
        let k = n as f64;
        let ratio = (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        term *= ratio;
        sum.rest += term;
        if term.abs() > HYP2F1_RESCALE || sum.rest.abs() > HYP2F1_RESCALE {
            term /= HYP2F1_RESCALE;
            sum.rest /= HYP2F1_RESCALE;
            sum.lead /= HYP2F1_RESCALE;
            sum.log_scale += HYP2F1_RESCALE.ln();
        }
        if n >= sign_settles_at {
            // The ratios tend to z; whichever of z and the current ratio is larger bounds
            // all later ones once the ratio is below 1 and past its turning point.
            let next_k = k + 1.0;
            let next_ratio = (a + next_k) * (b + next_k) / ((c + next_k) * (next_k + 1.0)) * z;
            let bound = next_ratio.max(z);
            let decreasing = next_ratio <= ratio || next_ratio <= z;
            if bound < 1.0 && decreasing {
                let tail = term.abs() * bound / (1.0 - bound);
                if tail <= 1e-17 * (sum.lead + sum.rest).abs() {
                    return Ok(sum);
                }
            }
        }
    }
    Err(SeriesError::NotConverged)
}

/// `ln ₂F₁(a, b; c; z)` and its partial derivatives with respect to `a`, `b`, `c` and `z`,
/// for `a, b, c > 0` and `0 <= z < 1`, where every term of the series is positive.
///
/// Term `n` is `(a)ₙ(b)ₙ/((c)ₙ n!) zⁿ`; its derivative in `a` is the term times
/// `Σ_{k<n} 1/(a+k)` (likewise `b`, and `c` with a minus sign), and in `z` the term times
/// `n/z`. The weighted sums are accumulated beside the plain one, and summing stops once a
/// geometric bound on the tail, weighted by the largest weight still to come, is negligible.
/// At most `max_terms` terms are summed: the count grows like `1/(1-z)` and with `a·z`, so
/// a caller exploring parameters far from any data's optimum can give up early.
pub(crate) fn ln_hyp2f1_with_gradient(
    a: f64,
    b: f64,
    c: f64,
    z: f64,
    max_terms: usize,
) -> Result<(f64, [f64; 4]), SeriesError> {
    let finite = a.is_finite() && b.is_finite() && c.is_finite() && z.is_finite();
    if !finite || a <= 0.0 || b <= 0.0 || c <= 0.0 || !(0.0..1.0).contains(&z) {
        return Err(SeriesError::OutOfDomain);
    }
    if z == 0.0 {
        return Ok((0.0, [0.0, 0.0, 0.0, a * b / c]));
    }
    let mut term = 1.0_f64;
    let mut sum = 1.0_f64;
    // Weighted sums for the derivatives in a, b, c and (times z) in z.
    let mut weighted = [0.0_f64; 4];
    let (mut h_a, mut h_b, mut h_c) = (0.0, 0.0, 0.0);
    let mut log_scale = 0.0;
    for n in 0..max_terms.min(HYP2F1_MAX_TERMS) {
        let k = n as f64;
        h_a += 1.0 / (a + k);
        h_b += 1.0 / (b + k);
        h_c += 1.0 / (c + k);
        let ratio = (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        term *= ratio;
        sum += term;
        weighted[0] += term * h_a;
        weighted[1] += term * h_b;
        weighted[2] += term * h_c;
        weighted[3] += term * (k + 1.0);
        if sum > HYP2F1_RESCALE {
            term /= HYP2F1_RESCALE;
            sum /= HYP2F1_RESCALE;
            for w in &mut weighted {
                *w /= HYP2F1_RESCALE;
            }
            log_scale += HYP2F1_RESCALE.ln();
        }
        let next_k = k + 1.0;
        let next_ratio = (a + next_k) * (b + next_k) / ((c + next_k) * (next_k + 1.0)) * z;
        let bound = next_ratio.max(z);
        let decreasing = next_ratio <= ratio || next_ratio <= z;
        if bound < 1.0 && decreasing {
            // Later weights grow by at most 1/(x+k) (harmonic sums) or 1 (the index) per
            // term; over a geometric tail that adds at most 1/(1-bound) steps.
            let steps = 1.0 / (1.0 - bound);
            let step = (1.0 / (a + next_k))
                .max(1.0 / (b + next_k))
                .max(1.0 / (c + next_k))
                .max(1.0);
            let largest_weight = h_a.max(h_b).max(h_c).max(next_k + 1.0) + step * steps;
            let tail = term * bound / (1.0 - bound);
            if tail * (1.0 + largest_weight) <= 1e-17 * sum {
                let gradient = [
                    weighted[0] / sum,
                    weighted[1] / sum,
                    -weighted[2] / sum,
                    weighted[3] / (z * sum),
                ];
                return Ok((sum.ln() + log_scale, gradient));
            }
        }
    }
    Err(SeriesError::NotConverged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, relative: f64) -> bool {
        (actual - expected).abs() <= relative * expected.abs().max(1e-300)
    }

    #[test]
    fn ln_gamma_matches_known_values() {
        // Γ(n) = (n-1)! for integers, Γ(1/2) = √π; the rest are SciPy's gammaln values.
        let cases = [
            (1.0, 0.0),
            (2.0, 0.0),
            (5.0, 24.0_f64.ln()),
            (0.5, std::f64::consts::PI.sqrt().ln()),
            (1e-3, 6.907_178_885_383_853),
            (0.25, 1.288_022_524_698_077_5),
            (3.7, 1.428_072_326_665_388),
            (100.0, 359.134_205_369_575_4),
            (1e6, 12_815_504.569_147_611),
        ];
        for (x, expected) in cases {
            let got = ln_gamma(x);
            assert!(
                (got - expected).abs() <= 1e-14 * expected.abs().max(1.0),
                "ln_gamma({x}) = {got}, expected {expected}"
            );
        }
    }

    #[test]
    fn digamma_matches_known_values() {
        // Closed forms at 1, 1/2 and 2; the rest are SciPy's digamma values.
        let euler = 0.577_215_664_901_532_9;
        let cases = [
            (1.0, -euler),
            (0.5, -euler - 2.0 * 2.0_f64.ln()),
            (2.0, 1.0 - euler),
            (1e-3, -1_000.575_571_931_810_3),
            (7.25, 1.910_453_526_883_736_2),
            (1e6, 13.815_510_057_964_19),
        ];
        for (x, expected) in cases {
            let got = digamma(x);
            assert!(
                close(got, expected, 1e-13),
                "digamma({x}) = {got}, expected {expected}"
            );
        }
    }

    #[test]
    fn digamma_is_the_derivative_of_ln_gamma() {
        for &x in &[0.03, 0.7, 2.5, 9.99, 10.01, 42.0, 3e4] {
            let h = 1e-5 * x;
            let numeric = (ln_gamma(x + h) - ln_gamma(x - h)) / (2.0 * h);
            assert!(close(digamma(x), numeric, 1e-6), "x = {x}");
        }
    }

    #[test]
    fn hyp2f1_matches_closed_forms() {
        // ₂F₁(1, 1; 2; z) = -ln(1-z)/z.
        for &z in &[1e-9, 0.1, 0.5, 0.9, 0.999] {
            let got = hyp2f1(1.0, 1.0, 2.0, z).unwrap().ln().unwrap().exp();
            let expected = -(-z).ln_1p() / z;
            assert!(close(got, expected, 1e-13), "z = {z}: {got} vs {expected}");
        }
        // ₂F₁(a, b; b; z) = (1-z)^-a.
        for &(a, b, z) in &[(0.3, 2.0, 0.4), (50.0, 60.5, 0.95), (700.0, 3.0, 0.99)] {
            let got = hyp2f1(a, b, b, z).unwrap().ln().unwrap();
            let expected = -a * (-z).ln_1p();
            assert!(
                close(got, expected, 1e-12),
                "a = {a}, b = {b}, z = {z}: {got} vs {expected}"
            );
        }
    }

    #[test]
    fn ln_hyp2f1_gradient_matches_values_and_finite_differences() {
        for &(a, b, c, z) in &[
            (1.0, 1.0, 2.0, 0.5),
            (3.4, 1.7, 4.4, 0.93),
            (0.3, 12.0, 1.3, 0.2),
            (40.0, 2.5, 41.0, 0.995),
        ] {
            let (value, gradient) = ln_hyp2f1_with_gradient(a, b, c, z, 1_000_000).unwrap();
            let plain = hyp2f1(a, b, c, z).unwrap().ln().unwrap();
            assert!(
                close(value, plain, 1e-13),
                "{a} {b} {c} {z}: {value} vs {plain}"
            );
            let args = [a, b, c, z];
            for i in 0..4 {
                let h = 1e-6 * args[i].min(1.0 - z).max(1e-9);
                let (mut up, mut down) = (args, args);
                up[i] += h;
                down[i] -= h;
                let f = |p: [f64; 4]| hyp2f1(p[0], p[1], p[2], p[3]).unwrap().ln().unwrap();
                let numeric = (f(up) - f(down)) / (2.0 * h);
                assert!(
                    (gradient[i] - numeric).abs() < 1e-6 * numeric.abs().max(1.0),
                    "{a} {b} {c} {z}, argument {i}: {} vs {numeric}",
                    gradient[i]
                );
            }
        }
        // At z = 0 only the derivative in z is not zero: ab/c.
        let (value, gradient) = ln_hyp2f1_with_gradient(2.0, 3.0, 4.0, 0.0, 10).unwrap();
        assert_eq!((value, gradient), (0.0, [0.0, 0.0, 0.0, 1.5]));
        assert!(ln_hyp2f1_with_gradient(1.0, 1.0, 1.0, 1.0, 10).is_err());
        assert_eq!(
            ln_hyp2f1_with_gradient(1.0, 1.0, 2.0, 0.999, 100).unwrap_err(),
            SeriesError::NotConverged
        );
    }

    #[test]
    fn hyp2f1_handles_negative_c_and_rejects_poles() {
        // With c < 0 the first term ratio is negative; compare with a plain long sum.
        let (a, b, c, z) = (0.4, 0.5, -0.3, 0.6);
        let mut term = 1.0;
        let mut expected = 1.0;
        for n in 0..2000 {
            let k = f64::from(n);
            term *= (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
            expected += term;
        }
        let got = hyp2f1(a, b, c, z).unwrap();
        let value = got.lead + got.rest;
        assert!(close(value, expected, 1e-13), "{value} vs {expected}");
        assert_eq!(
            hyp2f1(1.0, 1.0, -2.0, 0.5).unwrap_err(),
            SeriesError::OutOfDomain
        );
        assert_eq!(
            hyp2f1(1.0, 1.0, 2.0, 1.0).unwrap_err(),
            SeriesError::OutOfDomain
        );
    }
}
