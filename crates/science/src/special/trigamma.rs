//! The trigamma function, for the analytic Hessians of the likelihoods.

use super::ASYMPTOTIC_FROM;

/// `ψ₁(x) = d²/dx² lnΓ(x)` for `x > 0`: the recurrence `ψ₁(x) = ψ₁(x+1) + 1/x²` up to
/// `ASYMPTOTIC_FROM`, then the asymptotic series (Abramowitz & Stegun 6.4.12), accurate to
/// about 1e-15 relative there.
pub(crate) fn trigamma(x: f64) -> f64 {
    debug_assert!(x > 0.0, "trigamma needs a positive argument, got {x}");
    let mut shift_sum = 0.0;
    let mut y = x;
    while y < ASYMPTOTIC_FROM {
        shift_sum += 1.0 / (y * y);
        y += 1.0;
    }
    let inv = 1.0 / y;
    let inv2 = inv * inv;
    // 1/y + 1/(2y²) + Σ B₂ₖ / y^(2k+1), Bernoulli numbers 1/6, -1/30, 1/42, -1/30, 5/66,
    // -691/2730, 7/6.
    let tail = 5.0 / 66.0 - inv2 * (691.0 / 2730.0 - inv2 * 7.0 / 6.0);
    let series = inv2
        * (1.0 / 6.0
            - inv2 * (1.0 / 30.0 - inv2 * (1.0 / 42.0 - inv2 * (1.0 / 30.0 - inv2 * tail))));
    shift_sum + inv + 0.5 * inv2 + inv * series
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::special::digamma;

    #[test]
    fn matches_known_values() {
        // ψ₁(1) = π²/6, ψ₁(1/2) = π²/2; the rest from SciPy's polygamma(1, x).
        let pi2 = std::f64::consts::PI * std::f64::consts::PI;
        for (x, expected) in [
            (1.0, pi2 / 6.0),
            (0.5, pi2 / 2.0),
            (1e-3, 1_000_001.642_533_195_9),
            (7.25, 0.147_879_233_158_932_2),
            (1e6, 1.000_000_500_000_166_7e-6),
        ] {
            let got = trigamma(x);
            assert!(
                (got - expected).abs() <= 1e-13 * expected,
                "trigamma({x}) = {got}, expected {expected}"
            );
        }
    }

    #[test]
    fn is_the_derivative_of_digamma() {
        for &x in &[0.03, 0.7, 2.5, 9.99, 10.01, 42.0, 3e4] {
            let h = 1e-5 * x;
            let numeric = (digamma(x + h) - digamma(x - h)) / (2.0 * h);
            let got = trigamma(x);
            assert!(
                (got - numeric).abs() < 1e-6 * got,
                "x = {x}: {got} vs {numeric}"
            );
        }
    }
}
