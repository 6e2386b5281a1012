use super::*;
use crate::history::CustomerHistory;
use crate::special::ln_beta;
use crate::testing::{
    assert_beta_branches_written_out, assert_central_differences, assert_gradient,
    grouped as sample,
};

#[test]
fn matches_the_likelihood_written_out_in_full() {
    // Eq. (6) of the paper evaluated directly, with beta and gamma functions; a customer
    // without repeat purchases cannot have dropped out.
    let p = [0.4, 3.0, 0.8, 2.5];
    let [_, _, a, b] = p;
    assert_beta_branches_written_out(log_likelihood, p, |x| {
        let gone = (x > 0.0).then(|| ln_beta(a + 1.0, b + x - 1.0));
        (ln_beta(a, b + x), gone)
    });
}

#[test]
fn gradient_matches_finite_differences() {
    assert_gradient(log_likelihood, &sample(), [0.4, 3.0, 0.8, 2.5]);
}

#[test]
fn hessian_matches_finite_differences_of_the_gradient() {
    let data = sample();
    for p in [[0.4, 3.0, 0.8, 2.5], [1.7, 0.6, 2.2, 0.9]] {
        let t = log_likelihood_taylor(&p, &data);
        for i in 0..4 {
            let gradient_i = |q: &[f64; 4]| log_likelihood(q, &data).1[i];
            assert_central_differences(gradient_i, t.hessian[i], p, &format!("hessian row {i}"));
        }
    }
}

#[test]
fn a_table_of_whole_number_times_gives_the_direct_values() {
    // Enough rows that the times 0..=40 go into a table.
    let customers: Vec<CustomerHistory> = (0..200_u32)
        .map(|i| {
            let age = f64::from(10 + i % 31);
            let frequency = i % 7;
            let recency = if frequency == 0 {
                0.0
            } else {
                f64::from(1 + i % 9).min(age)
            };
            CustomerHistory::new(frequency, recency, age)
        })
        .collect();
    let table = Grouped::new(&customers, 0.025);
    assert!(table.whole.is_some());
    let direct = Grouped {
        whole: None,
        ..table.clone()
    };
    let p = [0.4, 0.3, 0.8, 2.5];
    let (t, d) = (
        log_likelihood_taylor(&p, &table),
        log_likelihood_taylor(&p, &direct),
    );
    assert!((t.value - d.value).abs() < 1e-12 * d.value.abs());
    for i in 0..4 {
        assert!((t.gradient[i] - d.gradient[i]).abs() < 1e-12 * d.gradient[i].abs().max(1.0));
        for j in 0..4 {
            let scale = d.hessian[i][j].abs().max(1.0);
            assert!((t.hessian[i][j] - d.hessian[i][j]).abs() < 1e-12 * scale);
        }
    }
}
