use super::*;

fn settings() -> Settings {
    Settings {
        max_iterations: 100,
        gradient_tolerance: 1e-10,
        bound: 25.0,
    }
}

/// Rosenbrock's banana, whose Hessian is indefinite away from the valley.
fn rosenbrock(x: &[f64; 2]) -> Taylor<2> {
    let [a, b] = *x;
    Taylor {
        value: (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2),
        gradient: [
            -2.0 * (1.0 - a) - 400.0 * a * (b - a * a),
            200.0 * (b - a * a),
        ],
        hessian: [
            [2.0 - 400.0 * (b - 3.0 * a * a), -400.0 * a],
            [-400.0 * a, 200.0],
        ],
    }
}

#[test]
fn finds_the_minimum_through_an_indefinite_region() {
    let (found, hessian) = newton(rosenbrock, [-1.2, 1.0], &settings()).unwrap();
    assert!(found.converged);
    assert!((found.x[0] - 1.0).abs() < 1e-8 && (found.x[1] - 1.0).abs() < 1e-8);
    assert_eq!(hessian, rosenbrock(&found.x).hessian);
}

#[test]
fn gives_up_on_a_search_heading_for_the_box() {
    // Decreasing for ever along the first coordinate: no interior minimum.
    let slope = |x: &[f64; 2]| Taylor {
        value: (-x[0]).exp() + x[1] * x[1],
        gradient: [-(-x[0]).exp(), 2.0 * x[1]],
        hessian: [[(-x[0]).exp(), 0.0], [0.0, 2.0]],
    };
    assert!(newton(slope, [0.0, 1.0], &settings()).is_none());
    let nowhere = |_: &[f64; 2]| Taylor {
        value: f64::NAN,
        gradient: [0.0; 2],
        hessian: [[1.0, 0.0], [0.0, 1.0]],
    };
    assert!(newton(nowhere, [0.0, 0.0], &settings()).is_none());
}
