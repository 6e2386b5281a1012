//! The Gauss hypergeometric series `₂F₁(a, b; c; z)` for `0 <= z < 1`, summed directly with
//! a scale kept beside the sum, and its logarithm with the gradient in all four arguments.

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
///
/// Kept as the reference the continued fraction ([`ln_hyp2f1_unit_a`]) is tested against.
#[cfg(test)]
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

mod fraction;

pub(crate) use fraction::ln_hyp2f1_unit_a;

#[cfg(test)]
mod tests;
