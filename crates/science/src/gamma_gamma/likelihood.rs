//! The Gamma-Gamma log-likelihood over compressed spend data, with its gradient and Hessian.

use super::SpendHistory;
use crate::grouped::order::by_frequency;
use crate::optimize::{Taylor, mirror_upper};
use crate::parallel::chunked_sum;
use crate::special::{LogProduct, digamma, ln_gamma, trigamma};

/// Spend data ready for the likelihood: customers ordered by frequency, and the terms that
/// do not depend on the parameters (`ln x`, `Σ ln m̄`, `x·m̄`) computed once per fit.
///
/// Unlike purchase histories, mean order values rarely repeat exactly (they are means of
/// amounts in cents), so customers are not merged: sorting them would cost more than the
/// passes it saves.
pub(crate) struct SpendData {
    groups: Vec<SpendGroup>,
    rows: Vec<SpendRow>,
    threads: usize,
}

#[derive(Clone, Copy)]
struct SpendGroup {
    x: f64,
    ln_x: f64,
    /// Customers with this frequency.
    count: f64,
    /// `Σ ln m̄` over them.
    sum_ln_m: f64,
}

#[derive(Clone, Copy, Default)]
struct SpendRow {
    m: f64,
    xm: f64,
    group: u32,
}

impl SpendData {
    /// Validated spend histories (positive finite values) in their own money unit.
    pub fn new(customers: &[SpendHistory], threads: usize) -> Self {
        let sorted = by_frequency(
            customers,
            |c| c.frequency,
            |c, group| SpendRow {
                m: c.mean_value,
                xm: f64::from(c.frequency) * c.mean_value,
                group,
            },
        );
        let rows = sorted.items;
        let mut groups = Vec::with_capacity(sorted.frequencies.len());
        let mut start = 0;
        for &(frequency, n) in &sorted.frequencies {
            let x = f64::from(frequency);
            let mut sum_ln_m = LogProduct::new();
            for row in &rows[start..start + n] {
                sum_ln_m.add(row.m);
            }
            start += n;
            groups.push(SpendGroup {
                x,
                ln_x: x.ln(),
                count: n as f64,
                sum_ln_m: sum_ln_m.take(),
            });
        }
        Self {
            groups,
            rows,
            threads,
        }
    }

    /// Rows (customers).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Every `stride`-th customer (customers are in frequency order, so every frequency is
    /// represented in proportion).
    pub fn subsample(&self, stride: usize) -> Self {
        let mut groups: Vec<SpendGroup> = self
            .groups
            .iter()
            .map(|g| SpendGroup {
                count: 0.0,
                sum_ln_m: 0.0,
                ..*g
            })
            .collect();
        let rows = self
            .rows
            .iter()
            .step_by(stride.max(1))
            .map(|r| {
                let g = &mut groups[r.group as usize];
                g.count += 1.0;
                g.sum_ln_m += r.m.ln();
                SpendRow { ..*r }
            })
            .collect();
        Self {
            groups,
            rows,
            threads: self.threads,
        }
    }

    /// The same data with every value divided by `scale`.
    pub fn scaled(&self, scale: f64) -> Self {
        // Σ ln(m̄/scale) = Σ ln m̄ - count·ln(scale): no logarithm per customer.
        let ln_scale = scale.ln();
        let groups: Vec<SpendGroup> = self
            .groups
            .iter()
            .map(|g| SpendGroup {
                sum_ln_m: g.sum_ln_m - g.count * ln_scale,
                ..*g
            })
            .collect();
        let rows = self
            .rows
            .iter()
            .map(|r| {
                let m = r.m / scale;
                SpendRow {
                    m,
                    xm: groups[r.group as usize].x * m,
                    group: r.group,
                }
            })
            .collect();
        Self {
            groups,
            rows,
            threads: self.threads,
        }
    }
}

/// Log-likelihood of the observed mean order values, its gradient and its Hessian in
/// `[p, q, v]`.
///
/// Per customer (note 025, eq. 1a, the density of `m̄` given `x`), with `s = x·m̄ + v`:
/// `lnΓ(px+q) - lnΓ(px) - lnΓ(q) + q·ln v + (px-1)·ln m̄ + px·ln x - (px+q)·ln s`.
/// Only `ln s` and `1/s` need a pass over the customers; the rest is per frequency.
pub(crate) fn log_likelihood(params: &[f64; 3], data: &SpendData) -> Taylor<3> {
    let [p, q, v] = *params;
    let (lg_q, psi_q, tri_q, ln_v) = (ln_gamma(q), digamma(q), trigamma(q), v.ln());
    let mut total = 0.0;
    let mut d = [0.0; 3];
    let mut h = [[0.0; 3]; 3];
    for g in &data.groups {
        let (x, px, count) = (g.x, p * g.x, g.count);
        let pxq = px + q;
        let (psi_pxq, tri_pxq) = (digamma(pxq), trigamma(pxq));
        total += count * (ln_gamma(pxq) - ln_gamma(px) - lg_q + q * ln_v + px * g.ln_x)
            + (px - 1.0) * g.sum_ln_m;
        d[0] += count * x * (psi_pxq - digamma(px) + g.ln_x) + x * g.sum_ln_m;
        d[1] += count * (psi_pxq - psi_q + ln_v);
        d[2] += count * q / v;
        h[0][0] += count * x * x * (tri_pxq - trigamma(px));
        h[0][1] += count * x * tri_pxq;
        h[1][1] += count * (tri_pxq - tri_q);
        h[1][2] += count / v;
        h[2][2] -= count * q / (v * v);
    }
    // Σ over rows of: value, ∂p, ∂q, ∂v, then ∂²pv, ∂²qv, ∂²vv.
    let rows = chunked_sum(&data.rows, data.threads, |rows| {
        let mut s = [0.0; 7];
        if rows.is_empty() {
            return s;
        }
        // Σ ln s per run of one frequency, as the logarithm of a product.
        let mut ln_sums = LogProduct::new();
        let mut run = rows.first().map_or(0, |r| r.group);
        let close_run = |s: &mut [f64; 7], ln_sums: &mut LogProduct, group: u32| {
            let x = data.groups[group as usize].x;
            let ln_sum = ln_sums.take();
            s[0] -= (p * x + q) * ln_sum;
            s[1] -= x * ln_sum;
            s[2] -= ln_sum;
        };
        for row in rows {
            if row.group != run {
                close_run(&mut s, &mut ln_sums, run);
                run = row.group;
            }
            let x = data.groups[row.group as usize].x;
            let pxq = p * x + q;
            let sum = row.xm + v;
            ln_sums.add(sum);
            let inverse = 1.0 / sum;
            s[3] -= pxq * inverse;
            s[4] -= x * inverse;
            s[5] -= inverse;
            s[6] += pxq * inverse * inverse;
        }
        close_run(&mut s, &mut ln_sums, run);
        s
    });
    total += rows[0];
    d[0] += rows[1];
    d[1] += rows[2];
    d[2] += rows[3];
    h[0][2] += rows[4];
    h[1][2] += rows[5];
    h[2][2] += rows[6];
    Taylor {
        value: total,
        gradient: d,
        hessian: mirror_upper(&h),
    }
}

#[cfg(test)]
mod tests;
