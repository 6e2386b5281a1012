use super::*;

/// Whether `actual` is within `relative` of `expected` (of 1e-300 for an expected zero).
pub(super) fn close(actual: f64, expected: f64, relative: f64) -> bool {
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
