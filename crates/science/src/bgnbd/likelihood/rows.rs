//! The per-row part of the BG/NBD likelihood: `ln(e^A₃ + e^A₄)` for each distinct history,
//! with its gradient and Hessian, summed with the rows' multiplicities.

use crate::grouped::{Row, WholeTimes};
use crate::purchase::branches::two_branches;
use crate::special::LogProduct;

/// What one frequency contributes at given parameters, shared by its rows.
pub(super) struct GroupTerms {
    pub rx: f64,
    /// `ln a - ln(b+x-1)`, the constant part of `A₄`; unused when `x = 0`.
    pub a4_constant: f64,
    /// `1/(b+x-1)`.
    pub inverse_bx1: f64,
    pub repeat: bool,
}

/// Declares [`RowSums`] from one list of its fields, with the conversions to and from the
/// array that the parallel sum adds up componentwise.
macro_rules! row_sums {
    ($(#[$doc:meta])* struct RowSums { $($(#[$field_doc:meta])* $field:ident,)* }) => {
        $(#[$doc])*
        #[derive(Default, Clone, Copy)]
        pub(super) struct RowSums {
            $($(#[$field_doc])* pub $field: f64,)*
        }

        impl RowSums {
            fn to_array(self) -> [f64; SUMS] {
                [$(self.$field),*]
            }

            pub(super) fn from_array([$($field),*]: [f64; SUMS]) -> Self {
                Self { $($field),* }
            }
        }
    };
}

pub(super) const SUMS: usize = 18;

row_sums! {
    /// Sums over rows, each weighted by its multiplicity `u`. With `w3`, `w4` the posterior
    /// weights of the two branches, `v = u·w3·w4`, and `D = ∇A₃ - ∇A₄ =
    /// (ln(α+t_x) - ln(α+T), (r+x)(1/(α+t_x) - 1/(α+T)), -1/a, 1/(b+x-1))`:
    struct RowSums {
        value,
        d_r,
        d_alpha,
        /// `Σ u·w4`, and the same over `b+x-1`, and over its square.
        dropout,
        dropout_b,
        dropout_bb,
        /// `Σ u·(w3·∇²A₃ + w4·∇²A₄)` in `(r, α)` and `(α, α)`.
        h_r_alpha,
        h_alpha_alpha,
        /// `Σ v`, `Σ v·D₀²`, `Σ v·D₀·D₁`, `Σ v·D₁²`, `Σ v·D₀`, `Σ v·D₁`, and the last three and
        /// `Σ v` times `1/(b+x-1)`, the last also squared.
        v,
        v00,
        v01,
        v11,
        v0,
        v1,
        v0b,
        v1b,
        vb,
        vbb,
    }
}

/// `ln(α+τ)` and `1/(α+τ)` of a row's age and recency.
pub(super) trait Times: Sync {
    fn age(&self, row: &Row) -> (f64, f64);
    fn recency(&self, row: &Row) -> (f64, f64);
}

/// Computed per row.
pub(super) struct Direct(pub f64);

impl Times for Direct {
    fn age(&self, row: &Row) -> (f64, f64) {
        ((self.0 + row.age).ln(), 1.0 / (self.0 + row.age))
    }
    fn recency(&self, row: &Row) -> (f64, f64) {
        ((self.0 + row.recency).ln(), 1.0 / (self.0 + row.recency))
    }
}

/// Looked up in tables over the whole-number times, computed once per pass.
pub(super) struct Table {
    ln: Vec<f64>,
    inverse: Vec<f64>,
}

impl Table {
    pub(super) fn new(whole: &WholeTimes, alpha: f64) -> Self {
        Self {
            ln: whole.table(|t| (alpha + t).ln()),
            inverse: whole.table(|t| 1.0 / (alpha + t)),
        }
    }

    fn at(&self, step: u32) -> (f64, f64) {
        let k = step as usize;
        (self.ln[k], self.inverse[k])
    }
}

impl Times for Table {
    fn age(&self, row: &Row) -> (f64, f64) {
        self.at(row.age_step)
    }
    fn recency(&self, row: &Row) -> (f64, f64) {
        self.at(row.recency_step)
    }
}

/// Weights above this are added as `u·ln(1+ratio)` directly rather than as a power in the
/// running product (whose factors then stay below `2^32`).
const PRODUCT_MAX_WEIGHT: f64 = 32.0;

pub(super) fn row_sums(rows: &[Row], terms: &[GroupTerms], times: &impl Times) -> [f64; SUMS] {
    let mut s = RowSums::default();
    let mut log_product = LogProduct::new();
    for row in rows {
        let g = &terms[row.group as usize];
        let u = row.weight;
        let (ln_age, inv_age) = times.age(row);
        let a3 = -g.rx * ln_age;
        if !g.repeat {
            s.value += u * a3;
            s.d_r -= u * ln_age;
            s.d_alpha -= u * g.rx * inv_age;
            s.h_r_alpha -= u * inv_age;
            s.h_alpha_alpha += u * g.rx * inv_age * inv_age;
            continue;
        }
        let (ln_recency, inv_recency) = times.recency(row);
        let a4 = g.a4_constant - g.rx * ln_recency;
        // ln(e^A₃ + e^A₄) = hi + ln(1+ratio) and the posterior weights of "still alive at T"
        // (w3) and "dropped out after t_x" (w4).
        let (hi, ratio, w3, w4) = two_branches(a3, a4);
        s.value += u * hi;
        if u > PRODUCT_MAX_WEIGHT {
            s.value += u * (1.0 + ratio).ln();
        } else {
            log_product.add((1.0 + ratio).powi(u as i32));
        }
        s.d_r -= u * (w3 * ln_age + w4 * ln_recency);
        s.d_alpha -= u * g.rx * (w3 * inv_age + w4 * inv_recency);
        let uw4 = u * w4;
        s.dropout += uw4;
        s.dropout_b += uw4 * g.inverse_bx1;
        s.dropout_bb += uw4 * g.inverse_bx1 * g.inverse_bx1;
        s.h_r_alpha -= u * (w3 * inv_age + w4 * inv_recency);
        s.h_alpha_alpha += u * g.rx * (w3 * inv_age * inv_age + w4 * inv_recency * inv_recency);
        let v = uw4 * w3;
        let d0 = ln_recency - ln_age;
        let d1 = g.rx * (inv_recency - inv_age);
        let (vd0, vd1) = (v * d0, v * d1);
        s.v += v;
        s.v00 += vd0 * d0;
        s.v01 += vd0 * d1;
        s.v11 += vd1 * d1;
        s.v0 += vd0;
        s.v1 += vd1;
        s.v0b += vd0 * g.inverse_bx1;
        s.v1b += vd1 * g.inverse_bx1;
        let vb = v * g.inverse_bx1;
        s.vb += vb;
        s.vbb += vb * g.inverse_bx1;
    }
    s.value += log_product.take();
    s.to_array()
}
