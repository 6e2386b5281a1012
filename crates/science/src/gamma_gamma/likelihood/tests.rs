use super::*;
use crate::special::ln_beta;
use crate::testing::{assert_central_differences, assert_relative};

fn data(customers: &[(u32, f64)]) -> SpendData {
    let customers: Vec<SpendHistory> = customers
        .iter()
        .map(|&(frequency, mean_value)| SpendHistory {
            frequency,
            mean_value,
        })
        .collect();
    SpendData::new(&customers, 1)
}

#[test]
fn gradient_and_hessian_match_finite_differences() {
    let data = data(&[(1, 20.0), (3, 35.5), (7, 12.25), (3, 80.0), (3, 35.5)]);
    let params = [4.0, 3.0, 25.0];
    let at = log_likelihood(&params, &data);
    let value = |q: &[f64; 3]| log_likelihood(q, &data).value;
    assert_central_differences(value, at.gradient, params, "gradient");
    for i in 0..3 {
        let gradient_i = |q: &[f64; 3]| log_likelihood(q, &data).gradient[i];
        assert_central_differences(
            gradient_i,
            at.hessian[i],
            params,
            &format!("hessian row {i}"),
        );
    }
}

#[test]
fn likelihood_matches_the_gamma_gamma_density_written_out() {
    // m̄ given x is Gamma(px, rate νx) with ν ~ Gamma(q, rate v); integrate ν out by hand.
    let (p, q, v) = (4.0_f64, 3.0_f64, 25.0_f64);
    let one = |x: f64, m: f64| {
        -ln_beta(p * x, q) + q * v.ln() + (p * x - 1.0) * m.ln() + p * x * x.ln()
            - (p * x + q) * (x * m + v).ln()
    };
    // A repeated customer counts twice.
    let expected = 2.0 * one(3.0, 35.5) + one(1.0, 20.0);
    let got = log_likelihood(&[p, q, v], &data(&[(3, 35.5), (1, 20.0), (3, 35.5)])).value;
    assert_relative(got, expected, 1e-12);
}
