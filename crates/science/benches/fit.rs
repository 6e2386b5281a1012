//! BG/NBD + Gamma-Gamma fit times against the Python `lifetimes` package on the same data,
//! in one run (DESIGN.md: at least 50× faster, parameters equal to 4 significant digits).
//!
//! Generates seeded datasets of 10k, 100k and 1M customers in whole days (the shape the
//! scoring service fits, where histories repeat) and in continuous time (every history
//! distinct, so compression cannot help), fits them here, writes each to a temporary CSV
//! file and fits it with `lifetimes` through `reference/lifetimes_fit.py`, then prints one
//! table row per dataset. Only the fits are timed on either side.
//!
//! Run: `cargo bench -p rapport-science --bench fit`
//! Environment: `RAPPORT_LIFETIMES_PYTHON` names the interpreter with `lifetimes` installed
//! (default `python3`); `RAPPORT_BENCH_SIZES=10000,100000` picks the sizes;
//! `RAPPORT_BENCH_SHAPES=days` or `continuous` picks the datasets;
//! `RAPPORT_BENCH_SEED` changes the data (default 1);
//! `RAPPORT_BENCH_LIMIT_SECONDS` (default 900) stops a `lifetimes` fit that runs longer,
//! whose time is then reported as a lower bound.

#[path = "../tests/support/draw.rs"]
mod draw;
#[path = "fit/lifetimes.rs"]
mod lifetimes;
#[path = "fit/simulate.rs"]
mod simulate;

use std::time::{Duration, Instant};

use rapport_science::{CustomerHistory, FitOptions, SpendHistory, fit_bg_nbd, fit_gamma_gamma};

use lifetimes::Outcome;
use simulate::{Customer, Shape};

const SEED: u64 = 1;
const SPEEDUP_TARGET: f64 = 50.0;
const AGREEMENT: f64 = 1e-4;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn sizes() -> Vec<usize> {
    let text =
        std::env::var("RAPPORT_BENCH_SIZES").unwrap_or_else(|_| "10000,100000,1000000".into());
    text.split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

/// The two fits' inputs, as the service would build them.
struct Inputs {
    histories: Vec<CustomerHistory>,
    spend: Vec<SpendHistory>,
}

impl Inputs {
    fn new(customers: &[Customer]) -> Self {
        let histories = customers
            .iter()
            .map(|c| CustomerHistory::new(c.frequency, c.recency, c.age))
            .collect();
        let spend = customers
            .iter()
            .filter(|c| c.frequency > 0)
            .map(|c| SpendHistory {
                frequency: c.frequency,
                mean_value: c.mean_value,
            })
            .collect();
        Self { histories, spend }
    }

    /// Distinct `(x, t_x, T)`: the rows the BG/NBD fit iterates over when times are whole
    /// numbers (the Gamma-Gamma fit takes every repeat customer).
    fn distinct(&self) -> usize {
        let mut h: Vec<_> = self
            .histories
            .iter()
            .map(|c| (c.frequency, c.recency.to_bits(), c.age.to_bits()))
            .collect();
        h.sort_unstable();
        h.dedup();
        h.len()
    }

    /// Both fits once: `[r, α, a, b, p, q, v]` and the seconds they took together.
    fn fit(&self, threads: usize) -> ([f64; 7], f64) {
        let options = FitOptions {
            threads,
            ..FitOptions::default()
        };
        let start = Instant::now();
        let bg = fit_bg_nbd(&self.histories, &options).expect("BG/NBD fit");
        let gg = fit_gamma_gamma(&self.spend, &options).expect("Gamma-Gamma fit");
        let seconds = start.elapsed().as_secs_f64();
        assert!(bg.converged && gg.converged, "a fit did not converge");
        let (b, g) = (bg.model.params(), gg.model.params());
        ([b.r, b.alpha, b.a, b.b, g.p, g.q, g.v], seconds)
    }

    /// Median time over several runs (fewer for large data), and the parameters.
    fn timed(&self, threads: usize) -> ([f64; 7], f64) {
        let runs = if self.histories.len() >= 1_000_000 {
            5
        } else {
            11
        };
        let mut times = Vec::with_capacity(runs);
        let mut params = [0.0; 7];
        for _ in 0..runs {
            let (p, s) = self.fit(threads);
            params = p;
            times.push(s);
        }
        times.sort_by(f64::total_cmp);
        (params, times[runs / 2])
    }
}

fn max_relative_difference(a: &[f64; 7], b: &[f64; 7]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| ((x - y) / y).abs())
        .fold(0.0, f64::max)
}

fn main() {
    let limit = Duration::from_secs(env_or("RAPPORT_BENCH_LIMIT_SECONDS", 900));
    let seed = env_or("RAPPORT_BENCH_SEED", SEED);
    let missing = lifetimes::unavailable();
    if let Some(why) = &missing {
        println!("lifetimes is not available, so only Rust times are shown: {why}");
        println!(
            "(install it with `python3 -m venv /tmp/lifetimes-venv && /tmp/lifetimes-venv/bin/pip install lifetimes`"
        );
        println!(" and run with RAPPORT_LIFETIMES_PYTHON=/tmp/lifetimes-venv/bin/python)");
    }
    let dir = std::env::temp_dir().join(format!("rapport-science-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>8} {:>8} {:>11} {:>8} {:>9}  result",
        "dataset",
        "customers",
        "distinct",
        "repeaters",
        "rust s",
        "1-thr s",
        "lifetimes s",
        "ratio",
        "max rel"
    );
    let shapes = std::env::var("RAPPORT_BENCH_SHAPES").unwrap_or_else(|_| "days,continuous".into());
    for shape in [Shape::Days, Shape::Continuous] {
        let name = match shape {
            Shape::Days => "days",
            Shape::Continuous => "continuous",
        };
        if !shapes.split(',').any(|s| s.trim() == name) {
            continue;
        }
        for n in sizes() {
            let customers = simulate::customers(n, seed + n as u64, shape);
            let inputs = Inputs::new(&customers);
            let distinct = inputs.distinct();
            let repeaters = inputs.spend.len();
            let (params, rust) = inputs.timed(0);
            let (_, single) = inputs.timed(1);
            let outcome = if missing.is_some() {
                Outcome::Unavailable("lifetimes unavailable (see above)".into())
            } else {
                let csv = dir.join(format!("{name}-{n}.csv"));
                lifetimes::write_csv(&csv, &customers).expect("writing the CSV file");
                let outcome = lifetimes::fit(&csv, limit);
                let _ = std::fs::remove_file(&csv);
                outcome
            };
            let (python, ratio, diff, result) = match outcome {
                Outcome::Fitted {
                    params: theirs,
                    seconds,
                } => {
                    let ratio = seconds / rust;
                    let diff = max_relative_difference(&params, &theirs);
                    let pass = ratio >= SPEEDUP_TARGET && diff <= AGREEMENT;
                    (
                        format!("{seconds:.3}"),
                        format!("{ratio:.0}x"),
                        format!("{diff:.1e}"),
                        if pass { "PASS" } else { "FAIL" }.to_owned(),
                    )
                }
                Outcome::TimedOut(limit) => {
                    let ratio = limit.as_secs_f64() / rust;
                    (
                        format!(">{}", limit.as_secs()),
                        format!(">{ratio:.0}x"),
                        "-".into(),
                        "lifetimes stopped at the limit; parameters not compared".into(),
                    )
                }
                Outcome::Unavailable(why) => (
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    format!("no comparison: {why}"),
                ),
            };
            println!(
                "{name:<10} {n:>9} {distinct:>9} {repeaters:>9} {rust:>8.3} {single:>8.3} {python:>11} {ratio:>8} {diff:>9}  {result}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "distinct: distinct (x, t_x, T), the rows the BG/NBD fit sees for whole-number times; repeaters: the Gamma-Gamma fit's customers"
    );
    println!(
        "targets: ratio >= {SPEEDUP_TARGET}x and every parameter within {AGREEMENT:e} relative; rust s uses {threads} threads (median of runs), 1-thr s one thread"
    );
}
