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

/// Asserts that each fitted parameter is within four standard errors of the truth it was
/// simulated from.
pub fn assert_recovered(fitted: [f64; 4], truth: [f64; 4], standard_errors: [f64; 4]) {
    for ((got, want), error) in fitted.into_iter().zip(truth).zip(standard_errors) {
        assert!(
            (got - want).abs() < 4.0 * error,
            "{got} vs {want} (se {error})"
        );
    }
}

/// Uniform on a log scale between `lo` and `hi`.
pub fn log_uniform(rng: &mut StdRng, lo: f64, hi: f64) -> f64 {
    (lo.ln() + (hi.ln() - lo.ln()) * rng.random::<f64>()).exp()
}

/// BG/NBD parameters `[r, alpha, a, b]` drawn over the ranges the random-fit
/// checks cover, each log-uniform.
pub fn random_bg_nbd(rng: &mut StdRng) -> [f64; 4] {
    [
        log_uniform(rng, 0.05, 5.0),
        log_uniform(rng, 0.5, 50.0),
        log_uniform(rng, 0.2, 5.0),
        log_uniform(rng, 0.2, 10.0),
    ]
}

/// As many values of `draw` as a number drawn from `count` says (the count
/// is drawn first, then each value in turn).
pub fn draws<T>(
    rng: &mut StdRng,
    count: std::ops::Range<i32>,
    mut draw: impl FnMut(&mut StdRng) -> T,
) -> Vec<T> {
    let n = rng.random_range(count);
    (0..n).map(|_| draw(rng)).collect()
}

/// Whether every value is finite.
pub fn all_finite(values: &[f64]) -> bool {
    values.iter().all(|v| v.is_finite())
}

/// A history of age `age`: no repeat purchases with probability `none`, else a frequency
/// uniform in `1..frequencies` with the last purchase uniform over the age.
pub fn history_of_age(rng: &mut StdRng, age: f64, none: f64, frequencies: u32) -> CustomerHistory {
    let frequency = if rng.random::<f64>() < none {
        0
    } else {
        rng.random_range(1..frequencies)
    };
    let recency = if frequency == 0 {
        0.0
    } else {
        age * rng.random::<f64>()
    };
    CustomerHistory::new(frequency, recency, age)
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
