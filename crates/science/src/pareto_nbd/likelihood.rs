//! The Pareto/NBD log-likelihood and its analytic gradient.

use crate::grouped::Grouped;
use crate::special::{SeriesError, digamma, ln_gamma, ln_hyp2f1_unit_a};

/// The two branches of one customer's likelihood, `B` and `C` (`-∞` when the customer's
/// last purchase is at the end of observation), and their gradients in `[r, α, s, β]`.
pub(crate) struct Branches {
    pub alive: f64,
    pub gone: f64,
    pub d_alive: [f64; 4],
    pub d_gone: [f64; 4],
}

/// Continued-fraction steps allowed while fitting: about `20/√(1-z)` are needed, so this
/// reaches `z` = 0.9999 (one of α, β ten thousand times the other, or a customer seen for
/// a ten-thousandth of the larger scale). The optima of the reference datasets need tens;
/// trial points beyond this are treated as a step too far.
pub(crate) const FIT_MAX_TERMS: usize = 2_000;

/// Continued-fraction steps allowed for a prediction from given parameters: `z` up to
/// about `1 - 10⁻⁸`.
pub(crate) const PREDICT_MAX_TERMS: usize = 200_000;

/// `ln(F(q)/q^ρ)` and its gradient in `[r, α, s, β]`.
///
/// Euler's transformation (Abramowitz & Stegun 15.3.3),
/// `₂F₁(ρ, u; ρ+1; z) = (1-z)^(1-u) · ₂F₁(1, ρ+1-u; ρ+1; z)`, leaves a function with
/// `a = 1` (`ρ+1-u` is `r+x` or `s+1`, positive and below `ρ+1`), which Gauss's continued
/// fraction evaluates in about `20/√(1-z)` steps ([`ln_hyp2f1_unit_a`]); its power series
/// would need `40/(1-z)` terms, hundreds of thousands where one of α, β is a thousand
/// times the other.
fn ln_term(
    params: &[f64; 4],
    x: f64,
    time: f64,
    max_terms: usize,
) -> Result<(f64, [f64; 4]), SeriesError> {
    let [r, alpha, s, beta] = *params;
    let alpha_is_max = alpha >= beta;
    let (max, min, u) = if alpha_is_max {
        (alpha, beta, s + 1.0)
    } else {
        (beta, alpha, r + x)
    };
    let rho = r + s + x;
    let q = max + time;
    let z = (max - min) / q;
    // 1 - z without cancellation.
    let ln_one_minus_z = (min + time).ln() - q.ln();
    let (ln_g, [d_b, d_c, d_z]) = ln_hyp2f1_unit_a(rho + 1.0 - u, rho + 1.0, z, max_terms)?;
    let ln_f = (1.0 - u) * ln_one_minus_z + ln_g;
    let ln_q = q.ln();
    // Derivatives of ln F in ρ, u and z; 1/(1-z) = q/(min+t).
    let d_rho = d_b + d_c - ln_q;
    let d_u = -ln_one_minus_z - d_b;
    let d_lnf_z = -(1.0 - u) * q / (min + time) + d_z;
    let d_max = d_lnf_z * (min + time) / (q * q) - rho / q;
    let d_min = -d_lnf_z / q;
    let (d_r, d_s) = if alpha_is_max {
        (d_rho, d_rho + d_u)
    } else {
        (d_rho + d_u, d_rho)
    };
    let (d_alpha, d_beta) = if alpha_is_max {
        (d_max, d_min)
    } else {
        (d_min, d_max)
    };
    Ok((ln_f - rho * ln_q, [d_r, d_alpha, d_s, d_beta]))
}

/// The branches for one customer with `x` repeat purchases, the last at `recency`, observed
/// for `age`, summing at most `max_terms` terms of each series.
pub(crate) fn branches(
    params: &[f64; 4],
    x: f64,
    recency: f64,
    age: f64,
    max_terms: usize,
) -> Result<Branches, SeriesError> {
    let [r, alpha, s, beta] = *params;
    let rx = r + x;
    let rho = r + s + x;
    let (ln_alpha_age, ln_beta_age) = ((alpha + age).ln(), (beta + age).ln());
    let alive = -rx * ln_alpha_age - s * ln_beta_age;
    let d_alive = [
        -ln_alpha_age,
        -rx / (alpha + age),
        -ln_beta_age,
        -s / (beta + age),
    ];
    let (ln_first, d_first) = ln_term(params, x, recency, max_terms)?;
    let (ln_second, d_second) = ln_term(params, x, age, max_terms)?;
    // A₀ = e^first - e^second with first >= second; equal (to rounding) when the last
    // purchase is at the end of observation, where A₀ is 0.
    let gap = ln_second - ln_first;
    if gap >= 0.0 || recency >= age {
        return Ok(Branches {
            alive,
            gone: f64::NEG_INFINITY,
            d_alive,
            d_gone: [0.0; 4],
        });
    }
    let ratio = gap.exp();
    let one_minus = -gap.exp_m1();
    let ln_a0 = ln_first + one_minus.ln();
    let gone = s.ln() - rho.ln() + ln_a0;
    let d_ln_a0: [f64; 4] = std::array::from_fn(|i| (d_first[i] - ratio * d_second[i]) / one_minus);
    let d_gone = [
        d_ln_a0[0] - 1.0 / rho,
        d_ln_a0[1],
        d_ln_a0[2] + 1.0 / s - 1.0 / rho,
        d_ln_a0[3],
    ];
    Ok(Branches {
        alive,
        gone,
        d_alive,
        d_gone,
    })
}

/// Weight of the "alive" branch, `e^B / (e^B + e^C)`, without overflow.
pub(crate) fn alive_weight(b: &Branches) -> f64 {
    if b.gone == f64::NEG_INFINITY {
        return 1.0;
    }
    crate::purchase::predict::logistic(b.alive - b.gone)
}

/// Total log-likelihood of `data` at `[r, α, s, β]` and its gradient in those parameters;
/// NaN when a series does not converge (parameters far outside any data's range), which the
/// optimiser treats as a step too far.
///
/// Fader & Hardie, "A Note on Deriving the Pareto/NBD Model and Related Expressions" (2005),
/// eqs. (18)–(20), in the log form `lifetimes` uses: for one customer
/// `ln L = A₁ + ln(e^B + e^C)` with
/// `A₁ = lnΓ(r+x) - lnΓ(r) + r·ln α + s·ln β`,
/// `B = -(r+x)·ln(α+T) - s·ln(β+T)` (still alive at `T`),
/// `C = ln s - ln(r+s+x) + ln A₀` (dropped out between `t_x` and `T`), and, writing
/// `m = max(α, β)`, `ρ = r+s+x` and `F(q) = ₂F₁(ρ, u; ρ+1; |α-β|/q)` with `u = s+1` when
/// `α >= β` and `u = r+x` otherwise,
/// `A₀ = F(m+t_x)/(m+t_x)^ρ - F(m+T)/(m+T)^ρ`.
/// The gradient is carried through the continued fraction ([`ln_hyp2f1_unit_a`]).
pub(crate) fn log_likelihood(params: &[f64; 4], data: &Grouped) -> (f64, [f64; 4]) {
    let [r, alpha, s, beta] = *params;
    let (ln_alpha, ln_beta) = (alpha.ln(), beta.ln());
    let (lg_r, psi_r) = (ln_gamma(r), digamma(r));
    let mut total = 0.0;
    let mut gradient = [0.0; 4];
    for group in &data.groups {
        let (x, count) = (group.frequency, group.count);
        total += count * (ln_gamma(r + x) - lg_r + r * ln_alpha + s * ln_beta);
        gradient[0] += count * (digamma(r + x) - psi_r + ln_alpha);
        gradient[1] += count * r / alpha;
        gradient[2] += count * ln_beta;
        gradient[3] += count * s / beta;
    }
    let rows = data.sum_rows(|rows| {
        let mut sum = [0.0; 5];
        for row in rows {
            let x = data.groups[row.group as usize].frequency;
            let Ok(b) = branches(params, x, row.recency, row.age, FIT_MAX_TERMS) else {
                return [f64::NAN; 5];
            };
            let w_alive = alive_weight(&b);
            let hi = b.alive.max(b.gone);
            sum[0] += row.weight * (hi + ((b.alive - hi).exp() + (b.gone - hi).exp()).ln());
            for i in 0..4 {
                sum[i + 1] += row.weight * (w_alive * b.d_alive[i] + (1.0 - w_alive) * b.d_gone[i]);
            }
        }
        sum
    });
    if rows[0].is_nan() {
        return (f64::NAN, [f64::NAN; 4]);
    }
    total += rows[0];
    for (g, d) in gradient.iter_mut().zip(&rows[1..]) {
        *g += d;
    }
    (total, gradient)
}

#[cfg(test)]
mod tests;
