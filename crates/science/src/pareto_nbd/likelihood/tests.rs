use super::*;
use crate::history::CustomerHistory;
use crate::testing::{assert_gradient, histories};

/// The shared histories and one whose last purchase ends its observation.
fn sample() -> Grouped {
    let mut customers = histories();
    customers.push(CustomerHistory::new(3, 12.0, 12.0));
    Grouped::new(&customers, 1.0)
}

/// One customer's likelihood from its definition as an integral over the dropout time
/// (Fader & Hardie's note, eq. 11): alive at T, or dropped out at τ in (t_x, T].
fn by_quadrature(p: [f64; 4], x: f64, tx: f64, big_t: f64) -> f64 {
    let [r, alpha, s, beta] = p;
    let common = (ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln()).exp();
    let alive = common * (alpha + big_t).powf(-(r + x)) * (beta + big_t).powf(-s);
    // Composite Simpson on a fine grid: the integrand is smooth.
    let steps = 20_000;
    let h = (big_t - tx) / f64::from(steps);
    let f = |tau: f64| (alpha + tau).powf(-(r + x)) * s * (beta + tau).powf(-(s + 1.0));
    let mut integral = f(tx) + f(big_t);
    for i in 1..steps {
        let weight = if i % 2 == 1 { 4.0 } else { 2.0 };
        integral += weight * f(tx + f64::from(i) * h);
    }
    integral *= h / 3.0;
    (alive + common * integral).ln()
}

#[test]
fn matches_the_likelihood_as_an_integral_over_dropout_times() {
    for p in [
        [0.6, 4.0, 0.8, 9.0],
        [0.6, 11.0, 0.8, 2.0],
        [1.3, 5.0, 2.0, 5.0],
    ] {
        let customers = [(0.0, 0.0, 30.0), (2.0, 10.0, 35.0), (7.0, 20.0, 38.0)];
        let expected: f64 = customers
            .iter()
            .map(|&(x, tx, t)| by_quadrature(p, x, tx, t))
            .sum();
        let data = Grouped::new(
            &customers.map(|(x, tx, t)| CustomerHistory::new(x as u32, tx, t)),
            1.0,
        );
        let (got, _) = log_likelihood(&p, &data);
        assert!(
            (got - expected).abs() < 1e-9 * expected.abs(),
            "{p:?}: {got} vs {expected}"
        );
    }
}

#[test]
fn gradient_matches_finite_differences_on_both_sides_of_alpha_equal_beta() {
    let data = sample();
    for p in [
        [0.4, 3.0, 0.8, 2.5],
        [0.4, 2.0, 0.8, 2.5],
        [0.9, 6.0, 1.2, 6.0],
    ] {
        assert_gradient(log_likelihood, &data, p);
    }
}
