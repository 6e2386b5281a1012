use super::*;

const SETTINGS: Settings = Settings {
    max_iterations: 500,
    gradient_tolerance: 1e-10,
    bound: 30.0,
};

fn rosenbrock(x: &[f64; 2], g: &mut [f64; 2]) -> f64 {
    let (a, b) = (1.0 - x[0], x[1] - x[0] * x[0]);
    g[0] = -2.0 * a - 400.0 * x[0] * b;
    g[1] = 200.0 * b;
    a * a + 100.0 * b * b
}

#[test]
fn finds_the_rosenbrock_minimum() {
    let found = minimize(rosenbrock, [-1.2, 1.0], &SETTINGS).unwrap();
    assert!(found.converged, "{found:?}");
    assert!(
        (found.x[0] - 1.0).abs() < 1e-8 && (found.x[1] - 1.0).abs() < 1e-8,
        "{found:?}"
    );
    assert!(found.iterations < 100);
}

#[test]
fn stops_at_the_box_when_the_minimum_is_outside() {
    // Minimum of (x - 50)² lies beyond the bound of 30.
    let found = minimize(
        |x: &[f64; 1], g: &mut [f64; 1]| {
            g[0] = 2.0 * (x[0] - 50.0);
            (x[0] - 50.0).powi(2)
        },
        [0.0],
        &SETTINGS,
    )
    .unwrap();
    assert!(!found.converged);
    assert_eq!(found.coordinate_at_bound(SETTINGS.bound), Some(0));
    assert!((found.x[0] - 30.0).abs() < 1e-9);
    assert_eq!(found.coordinate_at_bound(40.0), None);
}

#[test]
fn survives_regions_where_the_objective_is_undefined() {
    // ln is undefined for x <= 0: the search must back away instead of accepting NaN.
    let found = minimize(
        |x: &[f64; 1], g: &mut [f64; 1]| {
            g[0] = 1.0 - 1.0 / x[0];
            x[0] - x[0].ln()
        },
        [5.0],
        &SETTINGS,
    )
    .unwrap();
    assert!(
        found.converged && (found.x[0] - 1.0).abs() < 1e-9,
        "{found:?}"
    );
}

#[test]
fn rejects_a_non_finite_start() {
    let result = minimize(
        |x: &[f64; 1], g: &mut [f64; 1]| {
            g[0] = 0.0;
            x[0].ln()
        },
        [-1.0],
        &SETTINGS,
    );
    assert_eq!(result.unwrap_err(), NonFiniteStart);
}

#[test]
fn hessian_and_inverse_of_a_quadratic() {
    // f = x² + xy + 2y²: Hessian [[2, 1], [1, 4]], inverse diagonal [4/7, 2/7].
    let mut f = |x: &[f64; 2], g: &mut [f64; 2]| {
        g[0] = 2.0 * x[0] + x[1];
        g[1] = x[0] + 4.0 * x[1];
        x[0] * x[0] + x[0] * x[1] + 2.0 * x[1] * x[1]
    };
    let h = hessian(&mut f, &[0.3, -0.2]);
    assert!(
        (h[0][0] - 2.0).abs() < 1e-8
            && (h[0][1] - 1.0).abs() < 1e-8
            && (h[1][1] - 4.0).abs() < 1e-8
    );
    let d = inverse_diagonal(&h).unwrap();
    assert!((d[0] - 4.0 / 7.0).abs() < 1e-8 && (d[1] - 2.0 / 7.0).abs() < 1e-8);
    assert!(inverse_diagonal(&[[1.0, 2.0], [2.0, 1.0]]).is_none());
}
