//! Seeded simulation of the BG/NBD and Gamma-Gamma generative stories, for tests.

#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rapport_science::{CustomerHistory, SpendHistory};

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

fn standard_normal(rng: &mut StdRng) -> f64 {
    // Box–Muller; 1 - u keeps the logarithm away from zero.
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Gamma(shape, scale 1) by Marsaglia & Tsang (2000), boosted for shape < 1.
pub fn gamma(rng: &mut StdRng, shape: f64) -> f64 {
    if shape < 1.0 {
        let u: f64 = 1.0 - rng.random::<f64>();
        return gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = standard_normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u: f64 = 1.0 - rng.random::<f64>();
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

pub struct Simulated {
    pub histories: Vec<CustomerHistory>,
    pub spend: Vec<SpendHistory>,
}

/// `n` customers from BG/NBD(r, alpha, a, b) with ages uniform in `ages`, and mean repeat
/// order values from Gamma-Gamma(p, q, v) for the repeat buyers.
pub fn simulate(
    rng: &mut StdRng,
    n: usize,
    bg: [f64; 4],
    gg: [f64; 3],
    ages: (f64, f64),
) -> Simulated {
    let [r, alpha, a, b] = bg;
    let [p, q, v] = gg;
    let mut histories = Vec::with_capacity(n);
    let mut spend = Vec::new();
    for _ in 0..n {
        let age = ages.0 + (ages.1 - ages.0) * rng.random::<f64>();
        let rate = gamma(rng, r) / alpha;
        let ga = gamma(rng, a);
        let dropout = ga / (ga + gamma(rng, b));
        let mut clock = 0.0;
        let mut frequency = 0_u32;
        let mut recency = 0.0;
        loop {
            let u: f64 = 1.0 - rng.random::<f64>();
            clock += -u.ln() / rate;
            if clock >= age || !clock.is_finite() {
                break;
            }
            frequency += 1;
            recency = clock;
            if rng.random::<f64>() < dropout {
                break;
            }
        }
        histories.push(CustomerHistory::new(frequency, recency, age));
        if frequency > 0 {
            let nu = gamma(rng, q) / v;
            let total: f64 = (0..frequency).map(|_| gamma(rng, p) / nu).sum();
            spend.push(SpendHistory {
                frequency,
                mean_value: total / f64::from(frequency),
            });
        }
    }
    Simulated { histories, spend }
}
