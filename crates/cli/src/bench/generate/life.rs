//! How simulated customers buy: each at their own rate (gamma distributed
//! across customers) until, after some purchase, they stop for good with
//! their own probability (beta distributed), the process the BG/NBD model
//! describes; the rate scale is calibrated to the transactions asked for.

use rand::{Rng, SeedableRng, rngs::StdRng};

/// Shape of the purchase rates across customers.
const RATE_SHAPE: f64 = 0.9;
/// Beta parameters of the per-purchase dropout probability (mean 0.13).
const DROPOUT: (f64, f64) = (0.6, 4.0);
/// Shape of typical order values across customers, and their mean in major
/// units.
const SPEND_SHAPE: f64 = 3.0;
const MEAN_ORDER: f64 = 60.0;

/// One customer's habits.
#[derive(Debug, Clone, Copy)]
pub(super) struct Life {
    /// Days before now of the first purchase.
    pub(super) first: f32,
    /// Purchases per day while active.
    pub(super) rate: f32,
    /// Chance of stopping after each purchase.
    pub(super) dropout: f32,
    /// Their typical order, in major units (gamma distributed across
    /// customers, as the Gamma-Gamma model describes).
    pub(super) spend: f32,
}

/// A gamma variate (Marsaglia and Tsang; shapes below 1 boosted).
pub(super) fn gamma(rng: &mut StdRng, shape: f64) -> f64 {
    if shape < 1.0 {
        let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
        return gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        // A standard normal from Box-Muller.
        let (u1, u2): (f64, f64) = (rng.random::<f64>().max(f64::MIN_POSITIVE), rng.random());
        let x = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

fn beta(rng: &mut StdRng, a: f64, b: f64) -> f64 {
    let x = gamma(rng, a);
    let y = gamma(rng, b);
    x / (x + y)
}

pub(super) fn lives(seed: u64, customers: u64, days: f64, mean_rate: f64) -> Vec<Life> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..customers)
        .map(|_| Life {
            first: (days * rng.random_range(0.02..1.0)) as f32,
            rate: (gamma(&mut rng, RATE_SHAPE) * mean_rate / RATE_SHAPE) as f32,
            dropout: beta(&mut rng, DROPOUT.0, DROPOUT.1) as f32,
            spend: (gamma(&mut rng, SPEND_SHAPE) * MEAN_ORDER / SPEND_SHAPE).max(1.0) as f32,
        })
        .collect()
}

/// Days before now of each purchase of `life`: the first, then purchases
/// at its rate until it stops or the window ends.
pub(super) fn purchases(rng: &mut StdRng, life: &Life, out: &mut Vec<f32>) {
    out.push(life.first);
    let mut at = f64::from(life.first);
    let rate = f64::from(life.rate).max(1e-9);
    loop {
        let gap = -(1.0 - rng.random::<f64>()).ln() / rate;
        at -= gap;
        if at <= 0.0 {
            return;
        }
        out.push(at as f32);
        if rng.random::<f32>() < life.dropout {
            return;
        }
    }
}

/// The purchase rate scale giving `per_customer` purchases on average,
/// found by bisection on a sample of simulated customers.
pub(super) fn calibrate(seed: u64, days: f64, per_customer: f64) -> f64 {
    let sample = 3_000;
    let mean = |rate: f64| {
        let ls = lives(seed ^ 0x5eed, sample, days, rate);
        let mut rng = StdRng::seed_from_u64(seed ^ 0xca11);
        let mut buf = Vec::new();
        for l in &ls {
            purchases(&mut rng, l, &mut buf);
        }
        buf.len() as f64 / sample as f64
    };
    let (mut lo, mut hi): (f64, f64) = (1e-5, 10.0);
    for _ in 0..40 {
        let mid = (lo * hi).sqrt();
        if mean(mid) < per_customer {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo * hi).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_and_beta_variates_have_their_means() {
        let mut rng = StdRng::seed_from_u64(1);
        let n = 20_000;
        let g: f64 = (0..n).map(|_| gamma(&mut rng, 0.9)).sum::<f64>() / n as f64;
        let b: f64 = (0..n).map(|_| beta(&mut rng, 0.6, 4.0)).sum::<f64>() / n as f64;
        assert!((g - 0.9).abs() < 0.05, "gamma mean {g}");
        assert!((b - 0.6 / 4.6).abs() < 0.01, "beta mean {b}");
    }
}
