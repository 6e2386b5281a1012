//! The MBG/NBD log-likelihood and its analytic gradient.

use crate::grouped::Grouped;
use crate::purchase::branches::two_branches;
use crate::special::{digamma, ln_gamma};

/// Total log-likelihood of `data` at `[r, α, a, b]`, and its gradient with respect to those
/// parameters (not their logs).
///
/// Batislam, Denizel & Filiztekin (2007), eq. (3), in the log form `lifetimes` uses: for one
/// customer `ln L = A₁ + A₂ + ln(e^A₃ + e^A₅)` with
/// `A₁ = lnΓ(r+x) - lnΓ(r) + r·ln α`,
/// `A₂ = lnΓ(a+b) + lnΓ(b+x+1) - lnΓ(b) - lnΓ(a+b+x+1)`,
/// `A₃ = -(r+x)·ln(α+T)` (still alive at `T`),
/// `A₅ = ln a - ln(b+x) - (r+x)·ln(α+t_x)` (dropped out right after the last purchase),
/// the second branch present for every customer, those without repeat purchases included.
pub(crate) fn log_likelihood(params: &[f64; 4], data: &Grouped) -> (f64, [f64; 4]) {
    let [r, alpha, a, b] = *params;
    let (ln_alpha, ln_a) = (alpha.ln(), a.ln());
    let (lg_r, lg_b, lg_ab) = (ln_gamma(r), ln_gamma(b), ln_gamma(a + b));
    let (psi_r, psi_b, psi_ab) = (digamma(r), digamma(b), digamma(a + b));
    let mut total = 0.0;
    let (mut d_r, mut d_alpha, mut d_a, mut d_b) = (0.0, 0.0, 0.0, 0.0);
    // Per frequency: (r+x, ln a - ln(b+x), 1/(b+x)).
    let mut terms = Vec::with_capacity(data.groups.len());
    for group in &data.groups {
        let (x, count) = (group.frequency, group.count);
        let rx = r + x;
        let a1 = ln_gamma(rx) - lg_r + r * ln_alpha;
        let a2 = lg_ab + ln_gamma(b + x + 1.0) - lg_b - ln_gamma(a + b + x + 1.0);
        total += count * (a1 + a2);
        let psi_abx = digamma(a + b + x + 1.0);
        d_r += count * (digamma(rx) - psi_r + ln_alpha);
        d_alpha += count * r / alpha;
        d_a += count * (psi_ab - psi_abx);
        d_b += count * (psi_ab + digamma(b + x + 1.0) - psi_b - psi_abx);
        terms.push((rx, ln_a - (b + x).ln(), 1.0 / (b + x)));
    }
    let [rows_total, rows_r, rows_alpha, dropout, dropout_b] = data.sum_rows(|rows| {
        let mut s = [0.0; 5];
        for row in rows {
            let (rx, a5_constant, inverse_bx) = terms[row.group as usize];
            let w = row.weight;
            let ln_age = (alpha + row.age).ln();
            let ln_recency = (alpha + row.recency).ln();
            let a3 = -rx * ln_age;
            let a5 = a5_constant - rx * ln_recency;
            // ln(e^A₃ + e^A₅) and the posterior weights of "alive at T" (w3) and "dropped
            // out after the last purchase" (w5).
            let (hi, ratio, w3, w5) = two_branches(a3, a5);
            s[0] += w * (hi + ratio.ln_1p());
            s[1] -= w * (w3 * ln_age + w5 * ln_recency);
            s[2] -= w * rx * (w3 / (alpha + row.age) + w5 / (alpha + row.recency));
            s[3] += w * w5;
            s[4] += w * w5 * inverse_bx;
        }
        s
    });
    total += rows_total;
    d_r += rows_r;
    d_alpha += rows_alpha;
    d_a += dropout / a;
    d_b -= dropout_b;
    (total, [d_r, d_alpha, d_a, d_b])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::special::ln_beta;
    use crate::testing::{assert_beta_branches_written_out, assert_gradient, grouped as sample};

    #[test]
    fn matches_the_likelihood_written_out_in_full() {
        // Batislam et al. (2007), eq. (3), with beta and gamma functions:
        // L = B(a, b+x+1)/B(a, b) · Γ(r+x)α^r/Γ(r) / (α+T)^(r+x)
        //   + B(a+1, b+x)/B(a, b) · Γ(r+x)α^r/Γ(r) / (α+t_x)^(r+x).
        let p = [0.4, 3.0, 0.8, 2.5];
        let [_, _, a, b] = p;
        assert_beta_branches_written_out(log_likelihood, p, |x| {
            (ln_beta(a, b + x + 1.0), Some(ln_beta(a + 1.0, b + x)))
        });
    }

    #[test]
    fn gradient_matches_finite_differences() {
        assert_gradient(log_likelihood, &sample(), [0.4, 3.0, 0.8, 2.5]);
    }
}
