//! Pareto/NBD fit time against the BG/NBD fit of the same customers, in one run.
//!
//! The scoring service fits BG/NBD by default and Pareto/NBD when a tenant picks it, on the
//! same histories; this prints, per dataset size, both fits' median times, their ratio
//! (Pareto/NBD ÷ BG/NBD: how much a tenant's refresh costs when it picks Pareto/NBD) and
//! whether each converged. The data are the fit bench's seeded customers, in whole days as
//! the service fits them and in continuous time (every history distinct: the most rows),
//! and `loyal` whole-day customers drawn from the Pareto/NBD story itself with lifetimes a
//! thousand times the time between purchases, where `α` and `β` differ most and the
//! hypergeometric function is evaluated closest to `z = 1`; and `sparse` whole-day customers
//! shaped like `rapport bench`'s generated tenants (about two purchases each over three
//! years, most with none repeated), where the data say little about dropout.
//!
//! Run: `cargo bench -p rapport-science --bench pareto`
//! Environment: `RAPPORT_BENCH_SIZES=10000,50000` picks the sizes (default 10,000, 50,000
//! and 500,000; the service fits Pareto/NBD on at most 50,000); `RAPPORT_BENCH_SEED`
//! changes the data (default 1); `RAPPORT_BENCH_RUNS` the runs per fit (default 5);
//! `RAPPORT_BENCH_SHAPES=days,continuous,loyal,sparse` picks the datasets.

#[path = "../tests/support/draw.rs"]
mod draw;
// The spend half of the simulated customers is the fit bench's; this one reads histories.
#[allow(dead_code)]
#[path = "fit/simulate.rs"]
mod simulate;

use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use rapport_science::{CustomerHistory, FitOptions, fit_bg_nbd, fit_pareto_nbd};

use simulate::Shape;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Median seconds of `runs` calls of `fit`, and whether the last one converged.
fn median(runs: usize, mut fit: impl FnMut() -> bool) -> (f64, bool) {
    let mut times = Vec::with_capacity(runs);
    let mut converged = false;
    for _ in 0..runs {
        let start = Instant::now();
        converged = fit();
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    (times[runs / 2], converged)
}

fn main() {
    let seed: u64 = env_or("RAPPORT_BENCH_SEED", 1);
    let runs: usize = env_or::<usize>("RAPPORT_BENCH_RUNS", 5).max(1);
    let sizes: Vec<usize> = std::env::var("RAPPORT_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,50000,500000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let options = FitOptions::default();
    let shapes = std::env::var("RAPPORT_BENCH_SHAPES")
        .unwrap_or_else(|_| "days,continuous,loyal,sparse".into());
    println!(
        "{:<10} {:>9} {:>9} {:>10} {:>12} {:>8}  converged (bg, pareto)",
        "dataset", "customers", "bg/nbd s", "pareto s", "pareto/bg", "r/alpha"
    );
    for name in ["days", "continuous", "loyal", "sparse"] {
        if !shapes.split(',').any(|s| s.trim() == name) {
            continue;
        }
        for &n in &sizes {
            let data_seed = seed + n as u64;
            let histories: Vec<CustomerHistory> = match name {
                "loyal" => loyal(n, data_seed),
                "sparse" => sparse(n, data_seed),
                _ => {
                    let shape = if name == "days" {
                        Shape::Days
                    } else {
                        Shape::Continuous
                    };
                    simulate::customers(n, data_seed, shape)
                        .iter()
                        .map(|c| CustomerHistory::new(c.frequency, c.recency, c.age))
                        .collect()
                }
            };
            row(name, &histories, runs, &options);
        }
    }
    println!(
        "pareto/bg: Pareto/NBD fit time over BG/NBD's on the same customers; r/alpha: the fitted mean purchase rate per day (NaN: the fit answered an error, e.g. that the data say too little about dropout)"
    );
}

/// Whole-day customers from the Pareto/NBD story: purchase rate `λ ~ Gamma(0.5, 20)` and
/// dropout rate `μ ~ Gamma(0.6, 20,000)` per day, acquired over the last two years.
fn loyal(n: usize, seed: u64) -> Vec<CustomerHistory> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let age = (rng.random::<f64>() * 730.0).floor() + 1.0;
            let rate = draw::gamma(&mut rng, 0.5) / 20.0;
            let dropout = draw::gamma(&mut rng, 0.6) / 20_000.0;
            let lifetime = -(1.0 - rng.random::<f64>()).ln() / dropout;
            whole_days(&mut rng, rate, lifetime.min(age), age, None)
        })
        .collect()
}

/// Whole-day customers from the BG/NBD story as `rapport bench` generates them: first
/// purchase over the last three years, purchase rate `Gamma(0.9)` with mean one per 500
/// days, dropout after each purchase with probability `Beta(0.6, 4)`.
fn sparse(n: usize, seed: u64) -> Vec<CustomerHistory> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let age = (rng.random::<f64>() * 0.98 * 1095.0).floor() + 22.0;
            let rate = draw::gamma(&mut rng, 0.9) / 0.9 / 500.0;
            let (x, y) = (draw::gamma(&mut rng, 0.6), draw::gamma(&mut rng, 4.0));
            whole_days(&mut rng, rate, age, age, Some(x / (x + y)))
        })
        .collect()
}

/// A customer observed for `age` days who buys at `rate` a day until `end`,
/// and after each purchase stops with probability `dropout` (if any).
fn whole_days(
    rng: &mut StdRng,
    rate: f64,
    end: f64,
    age: f64,
    dropout: Option<f64>,
) -> CustomerHistory {
    // A rate that underflowed to zero never buys again.
    let mut clock = if rate > 0.0 { 0.0 } else { f64::INFINITY };
    let (mut frequency, mut recency) = (0_u32, 0.0);
    loop {
        clock += -(1.0 - rng.random::<f64>()).ln() / rate;
        if clock >= end {
            break;
        }
        // Several purchases on one day count once, as the service counts them.
        if clock.floor() > recency {
            frequency += 1;
            recency = clock.floor();
        }
        if dropout.is_some_and(|p| rng.random::<f64>() < p) {
            break;
        }
    }
    CustomerHistory::new(frequency, recency, age)
}

fn row(name: &str, histories: &[CustomerHistory], runs: usize, options: &FitOptions) {
    let n = histories.len();
    let (bg, bg_ok) = median(runs, || {
        fit_bg_nbd(histories, options).is_ok_and(|f| f.converged)
    });
    let mut rate = f64::NAN;
    let (pareto, pareto_ok) = median(runs, || match fit_pareto_nbd(histories, options) {
        Ok(f) => {
            let p = f.model.params();
            rate = p.r / p.alpha;
            f.converged
        }
        Err(_) => false,
    });
    println!(
        "{name:<10} {n:>9} {bg:>9.3} {pareto:>10.3} {:>11.1}x {rate:>8.4}  {bg_ok}, {pareto_ok}",
        pareto / bg
    );
}
