//! Sums of logarithms taken as the logarithm of a product.

/// `Σ ln fᵢ` for positive factors as `ln Π fᵢ`, flushed into a sum every [`FLUSH_ROWS`]
/// factors or when the product leaves `[1e-100, 1e100]`: one logarithm per few dozen
/// factors instead of one each, in the likelihoods' per-customer loops where logarithms
/// are most of the cost. Factors beyond `1e±200` are added as logarithms directly; the
/// rounding of a few dozen multiplications stays far below that of the sum itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogProduct {
    product: f64,
    factors: u32,
    sum: f64,
}

/// Factors per logarithm.
const FLUSH_ROWS: u32 = 32;
const LOW: f64 = 1e-100;
const HIGH: f64 = 1e100;
const FACTOR_LOW: f64 = 1e-200;
const FACTOR_HIGH: f64 = 1e200;

impl LogProduct {
    /// The empty sum.
    pub fn new() -> Self {
        Self {
            product: 1.0,
            factors: 0,
            sum: 0.0,
        }
    }

    /// Add `ln(factor)`, `factor` positive.
    pub fn add(&mut self, factor: f64) {
        if !(FACTOR_LOW..=FACTOR_HIGH).contains(&factor) {
            // Too extreme to multiply in safely.
            self.sum += factor.ln();
            return;
        }
        self.product *= factor;
        self.factors += 1;
        if self.factors == FLUSH_ROWS || !(LOW..=HIGH).contains(&self.product) {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.sum += self.product.ln();
        self.product = 1.0;
        self.factors = 0;
    }

    /// The sum so far; starts again from zero.
    pub fn take(&mut self) -> f64 {
        self.flush();
        std::mem::replace(&mut self.sum, 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_the_sum_of_logarithms() {
        let factors: Vec<f64> = (1..1000)
            .map(|i| match i % 3 {
                0 => 1.0 + 1.0 / f64::from(i),
                1 if i % 100 == 1 => 1e300,
                1 => 1e40 * f64::from(i),
                _ if i % 100 == 2 => 1e-300,
                _ => 1e-30 / f64::from(i),
            })
            .collect();
        let mut p = LogProduct::new();
        for &f in &factors {
            p.add(f);
        }
        let direct: f64 = factors.iter().map(|f| f.ln()).sum();
        let got = p.take();
        assert!(
            (got - direct).abs() < 1e-12 * direct.abs(),
            "{got} vs {direct}"
        );
        assert_eq!(p.take(), 0.0);
    }
}
