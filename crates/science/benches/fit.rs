//! Fit times on the reference datasets, for comparison with the Python `lifetimes` fit of the
//! same data (DESIGN.md asks for at least 50× faster). Run with
//! `cargo bench -p rapport-science --bench fit`.

use std::time::{Duration, Instant};

use rapport_science::{CustomerHistory, FitOptions, SpendHistory, fit_bg_nbd, fit_gamma_gamma};
use serde_json::Value;

fn median_time(mut run: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..31)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn main() {
    for name in ["typical", "few_repeaters", "long_history"] {
        let path = format!("{}/tests/data/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let data: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("dataset")).expect("json");
        let c = &data["customers"];
        let column = |key: &str| -> Vec<f64> {
            c[key]
                .as_array()
                .expect("column")
                .iter()
                .map(|v| v.as_f64().expect("number"))
                .collect()
        };
        let (frequency, recency, age, spend) = (
            column("frequency"),
            column("recency"),
            column("T"),
            column("monetary_value"),
        );
        let histories: Vec<_> = (0..age.len())
            .map(|i| CustomerHistory::new(frequency[i] as u32, recency[i], age[i]))
            .collect();
        let repeat: Vec<_> = (0..age.len())
            .filter(|&i| frequency[i] > 0.0)
            .map(|i| SpendHistory {
                frequency: frequency[i] as u32,
                mean_value: spend[i],
            })
            .collect();
        let options = FitOptions::default();
        let bg = median_time(|| {
            std::hint::black_box(fit_bg_nbd(&histories, &options).expect("fit"));
        });
        let gg = median_time(|| {
            std::hint::black_box(fit_gamma_gamma(&repeat, &options).expect("fit"));
        });
        println!(
            "{name:>14}: {} customers, BG/NBD fit {bg:?}, Gamma-Gamma fit {gg:?} ({} repeaters)",
            histories.len(),
            repeat.len()
        );
    }
}
