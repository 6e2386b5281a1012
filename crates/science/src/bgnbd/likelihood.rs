//! The BG/NBD log-likelihood with its analytic gradient and Hessian.

mod rows;

use rows::{GroupTerms, RowSums, Table, row_sums};

use crate::grouped::Grouped;
use crate::optimize::{Taylor, mirror_upper};
use crate::special::{digamma, ln_gamma, trigamma};

/// Total log-likelihood of `data` at `[r, α, a, b]`, and its gradient with respect to those
/// parameters (not their logs).
pub(crate) fn log_likelihood(params: &[f64; 4], data: &Grouped) -> (f64, [f64; 4]) {
    let t = log_likelihood_taylor(params, data);
    (t.value, t.gradient)
}

/// Log-likelihood, gradient and Hessian of `data` at `[r, α, a, b]` (parameters, not logs).
///
/// Per row, `ln(e^A₃ + e^A₄)` has Hessian `w3·∇²A₃ + w4·∇²A₄ + w3·w4·D·Dᵀ`; the group terms
/// `A₁`, `A₂` contribute trigamma differences.
///
/// Fader, Hardie & Lee (2005), eq. (6), in the log form of Hardie's note 004 ("Implementing
/// the BG/NBD Model for Customer Base Analysis in Excel"): for one customer
/// `ln L = A₁ + A₂ + ln(e^A₃ + δ(x>0)·e^A₄)` with
/// `A₁ = lnΓ(r+x) - lnΓ(r) + r·ln α`,
/// `A₂ = lnΓ(a+b) + lnΓ(b+x) - lnΓ(b) - lnΓ(a+b+x)`,
/// `A₃ = -(r+x)·ln(α+T)`,
/// `A₄ = ln a - ln(b+x-1) - (r+x)·ln(α+t_x)`.
pub(crate) fn log_likelihood_taylor(params: &[f64; 4], data: &Grouped) -> Taylor<4> {
    let [r, alpha, a, b] = *params;
    let (ln_alpha, ln_a) = (alpha.ln(), a.ln());
    let (lg_r, lg_b, lg_ab) = (ln_gamma(r), ln_gamma(b), ln_gamma(a + b));
    let (psi_r, psi_b, psi_ab) = (digamma(r), digamma(b), digamma(a + b));
    let (tri_r, tri_b, tri_ab) = (trigamma(r), trigamma(b), trigamma(a + b));
    let mut total = 0.0;
    let mut d = [0.0; 4];
    let mut h = [[0.0; 4]; 4];
    let mut terms = Vec::with_capacity(data.groups.len());
    for group in &data.groups {
        let (x, count) = (group.frequency, group.count);
        let rx = r + x;
        let repeat = x > 0.0;
        total += count * (ln_gamma(rx) - lg_r + r * ln_alpha);
        d[0] += count * (digamma(rx) - psi_r + ln_alpha);
        d[1] += count * r / alpha;
        h[0][0] += count * (trigamma(rx) - tri_r);
        h[0][1] += count / alpha;
        h[1][1] -= count * r / (alpha * alpha);
        if repeat {
            total += count * (lg_ab + ln_gamma(b + x) - lg_b - ln_gamma(a + b + x));
            let (psi_abx, tri_abx) = (digamma(a + b + x), trigamma(a + b + x));
            d[2] += count * (psi_ab - psi_abx);
            d[3] += count * (psi_ab + digamma(b + x) - psi_b - psi_abx);
            h[2][2] += count * (tri_ab - tri_abx);
            h[2][3] += count * (tri_ab - tri_abx);
            h[3][3] += count * (tri_ab + trigamma(b + x) - tri_b - tri_abx);
        }
        let bx1 = b + x - 1.0;
        terms.push(GroupTerms {
            rx,
            a4_constant: if repeat { ln_a - bx1.ln() } else { 0.0 },
            inverse_bx1: 1.0 / bx1,
            repeat,
        });
    }
    let sums = match &data.whole {
        Some(whole) => {
            let table = Table::new(whole, alpha);
            data.sum_rows(|rows| row_sums(rows, &terms, &table))
        }
        None => data.sum_rows(|rows| row_sums(rows, &terms, &rows::Direct(alpha))),
    };
    let s = RowSums::from_array(sums);
    let inv_a = 1.0 / a;
    total += s.value;
    d[0] += s.d_r;
    d[1] += s.d_alpha;
    d[2] += s.dropout * inv_a;
    d[3] -= s.dropout_b;
    h[0][0] += s.v00;
    h[0][1] += s.h_r_alpha + s.v01;
    h[1][1] += s.h_alpha_alpha + s.v11;
    h[0][2] = -inv_a * s.v0;
    h[0][3] = s.v0b;
    h[1][2] = -inv_a * s.v1;
    h[1][3] = s.v1b;
    h[2][2] += (s.v - s.dropout) * inv_a * inv_a;
    h[2][3] -= inv_a * s.vb;
    h[3][3] += s.dropout_bb + s.vbb;
    Taylor {
        value: total,
        gradient: d,
        hessian: mirror_upper(&h),
    }
}

#[cfg(test)]
mod tests;
