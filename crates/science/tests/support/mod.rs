//! Seeded simulation of the BG/NBD and Gamma-Gamma generative stories, for tests.

#![allow(dead_code)]

mod draw;

pub use draw::gamma;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rapport_science::{CustomerHistory, SpendHistory};

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
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
