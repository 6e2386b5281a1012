use super::*;
use crate::history::CustomerHistory;

fn sample() -> Grouped {
    let customers = [
        CustomerHistory::new(0, 0.0, 30.0),
        CustomerHistory::new(2, 10.0, 35.0),
        CustomerHistory::new(2, 30.5, 31.0),
        CustomerHistory::new(7, 20.0, 38.0),
        CustomerHistory::new(1, 0.5, 12.0),
    ];
    Grouped::new(&customers, 1.0)
}

#[test]
fn matches_the_likelihood_written_out_in_full() {
    // Eq. (6) of the paper evaluated directly, with beta and gamma functions.
    let p = [0.4, 3.0, 0.8, 2.5];
    let [r, alpha, a, b] = p;
    let ln_beta = |x: f64, y: f64| ln_gamma(x) + ln_gamma(y) - ln_gamma(x + y);
    let direct = |x: f64, tx: f64, big_t: f64| {
        let common = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let first =
            (ln_beta(a, b + x) - ln_beta(a, b) + common - (r + x) * (alpha + big_t).ln()).exp();
        let second = if x > 0.0 {
            (ln_beta(a + 1.0, b + x - 1.0) - ln_beta(a, b) + common - (r + x) * (alpha + tx).ln())
                .exp()
        } else {
            0.0
        };
        (first + second).ln()
    };
    let expected = direct(0.0, 0.0, 30.0)
        + direct(2.0, 10.0, 35.0)
        + direct(2.0, 30.5, 31.0)
        + direct(7.0, 20.0, 38.0)
        + direct(1.0, 0.5, 12.0);
    let (got, _) = log_likelihood(&p, &sample());
    assert!(
        (got - expected).abs() < 1e-11 * expected.abs(),
        "{got} vs {expected}"
    );
}

#[test]
fn gradient_matches_finite_differences() {
    let data = sample();
    let p = [0.4, 3.0, 0.8, 2.5];
    let (_, gradient) = log_likelihood(&p, &data);
    for i in 0..4 {
        let h = 1e-6 * p[i];
        let (mut up, mut down) = (p, p);
        up[i] += h;
        down[i] -= h;
        let numeric = (log_likelihood(&up, &data).0 - log_likelihood(&down, &data).0) / (2.0 * h);
        assert!(
            (gradient[i] - numeric).abs() < 1e-6 * numeric.abs().max(1.0),
            "parameter {i}: {} vs {numeric}",
            gradient[i]
        );
    }
}

#[test]
fn hessian_matches_finite_differences_of_the_gradient() {
    let data = sample();
    for p in [[0.4, 3.0, 0.8, 2.5], [1.7, 0.6, 2.2, 0.9]] {
        let t = log_likelihood_taylor(&p, &data);
        for j in 0..4 {
            let step = 1e-6 * p[j];
            let (mut up, mut down) = (p, p);
            up[j] += step;
            down[j] -= step;
            let (_, g_up) = log_likelihood(&up, &data);
            let (_, g_down) = log_likelihood(&down, &data);
            for i in 0..4 {
                let numeric = (g_up[i] - g_down[i]) / (2.0 * step);
                assert!(
                    (t.hessian[i][j] - numeric).abs() < 1e-6 * numeric.abs().max(1.0),
                    "{p:?} [{i}][{j}]: {} vs {numeric}",
                    t.hessian[i][j]
                );
            }
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
