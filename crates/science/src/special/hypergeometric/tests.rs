use super::*;
use crate::special::tests::close;

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

#[test]
fn continued_fraction_matches_the_series_and_its_gradient() {
    // (b, c) as the Pareto/NBD likelihood makes them: b = ρ+1-u, c = ρ+1.
    for &(b, c) in &[
        (1.0, 2.0),
        (0.55, 2.16),
        (4.2, 5.8),
        (60.3, 61.9),
        (1.6, 3.1),
        (0.05, 40.0),
    ] {
        for &z in &[0.0, 1e-6, 0.3, 0.9, 0.99, 0.9999] {
            let (value, gradient) = ln_hyp2f1_unit_a(b, c, z, 100_000).unwrap();
            let (series, series_gradient) =
                ln_hyp2f1_with_gradient(1.0, b, c, z, 20_000_000).unwrap();
            assert!(
                (value - series).abs() <= 1e-12 * series.abs().max(1.0),
                "b = {b}, c = {c}, z = {z}: {value} vs {series}"
            );
            for (i, (got, want)) in gradient.iter().zip(&series_gradient[1..]).enumerate() {
                assert!(
                    (got - want).abs() <= 1e-10 * want.abs().max(1e-3),
                    "b = {b}, c = {c}, z = {z}, argument {i}: {got} vs {want}"
                );
            }
        }
    }
    // ₂F₁(1, 1; 2; z) = -ln(1-z)/z, where the series would need 4·10⁸ terms; the
    // fraction's 60,000 steps lose about 10⁻¹¹ to rounding.
    let z = 1.0 - 1e-7;
    let (value, _) = ln_hyp2f1_unit_a(1.0, 2.0, z, 100_000).unwrap();
    let expected = (-(-z).ln_1p() / z).ln();
    assert!(close(value, expected, 1e-10), "{value} vs {expected}");
}

#[test]
fn continued_fraction_needs_far_fewer_steps_than_the_series_near_one() {
    // The series needs about 40/(1-z) terms; the fraction about 20/√(1-z).
    let z = 1.0 - 1e-5;
    assert_eq!(
        ln_hyp2f1_with_gradient(1.0, 1.6, 3.1, z, 100_000).unwrap_err(),
        SeriesError::NotConverged
    );
    assert!(ln_hyp2f1_unit_a(1.6, 3.1, z, 20_000).is_ok());
}

#[test]
fn continued_fraction_refuses_arguments_outside_its_domain() {
    for &(b, c, z) in &[
        (2.0, 2.0, 0.5),
        (0.0, 2.0, 0.5),
        (1.0, 1.0, 0.5),
        (1.0, 2.0, 1.0),
        (1.0, 2.0, -0.1),
        (f64::NAN, 2.0, 0.5),
    ] {
        assert_eq!(
            ln_hyp2f1_unit_a(b, c, z, 1000).unwrap_err(),
            SeriesError::OutOfDomain,
            "{b} {c} {z}"
        );
    }
}
