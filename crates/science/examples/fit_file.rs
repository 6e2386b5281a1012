//! Fit BG/NBD and Gamma-Gamma to customers read from a CSV file and print the parameters and
//! the fit times as one JSON object; `reference/bench_vs_lifetimes.py` runs it beside the
//! Python `lifetimes` fit of the same file.
//!
//! The file has a header line and the columns `frequency,recency,T,monetary_value`, one
//! customer per line. Only the fits are timed, not reading the file.
//!
//! Run: `cargo run --release -p rapport-science --example fit_file -- customers.csv`

use std::process::ExitCode;
use std::time::Instant;

use rapport_science::{CustomerHistory, FitOptions, SpendHistory, fit_bg_nbd, fit_gamma_gamma};

fn parse(text: &str) -> Result<(Vec<CustomerHistory>, Vec<SpendHistory>), String> {
    let mut lines = text.lines();
    let header = lines.next().ok_or("empty file")?;
    if header.trim() != "frequency,recency,T,monetary_value" {
        return Err(format!("unexpected header {header:?}"));
    }
    let mut histories = Vec::new();
    let mut spend = Vec::new();
    for (number, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.trim().split(',').collect();
        let bad = |what: &str| format!("line {}: {what}: {line:?}", number + 2);
        if fields.len() != 4 {
            return Err(bad("expected 4 fields"));
        }
        let frequency: u32 = fields[0].parse().map_err(|_| bad("frequency"))?;
        let number_at = |i: usize| -> Result<f64, String> {
            fields[i].parse().map_err(|_| bad("not a number"))
        };
        let (recency, age, value) = (number_at(1)?, number_at(2)?, number_at(3)?);
        histories.push(CustomerHistory::new(frequency, recency, age));
        if frequency > 0 {
            spend.push(SpendHistory {
                frequency,
                mean_value: value,
            });
        }
    }
    Ok((histories, spend))
}

fn run(path: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?;
    let (histories, spend) = parse(&text)?;
    let options = FitOptions::default();
    let start = Instant::now();
    let bg = fit_bg_nbd(&histories, &options).map_err(|e| format!("BG/NBD: {e}"))?;
    let bg_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let gg = fit_gamma_gamma(&spend, &options).map_err(|e| format!("Gamma-Gamma: {e}"))?;
    let gg_seconds = start.elapsed().as_secs_f64();
    let p = bg.model.params();
    let g = gg.model.params();
    Ok(format!(
        concat!(
            "{{\"customers\":{},\"repeaters\":{},",
            "\"bgnbd\":{{\"r\":{:e},\"alpha\":{:e},\"a\":{:e},\"b\":{:e},\"seconds\":{:e},\"converged\":{}}},",
            "\"gamma_gamma\":{{\"p\":{:e},\"q\":{:e},\"v\":{:e},\"seconds\":{:e},\"converged\":{}}}}}"
        ),
        histories.len(),
        spend.len(),
        p.r,
        p.alpha,
        p.a,
        p.b,
        bg_seconds,
        bg.converged,
        g.p,
        g.q,
        g.v,
        gg_seconds,
        gg.converged
    ))
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: fit_file CUSTOMERS.csv");
        return ExitCode::from(2);
    };
    match run(&path) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fit_file: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_benchmark_format() {
        let (h, s) =
            parse("frequency,recency,T,monetary_value\n2,3.5,10,12.25\n0,0,4,0\n\n").unwrap();
        assert_eq!(
            h,
            vec![
                CustomerHistory::new(2, 3.5, 10.0),
                CustomerHistory::new(0, 0.0, 4.0)
            ]
        );
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].mean_value, 12.25);
        assert!(parse("a,b\n").is_err());
        assert!(parse("frequency,recency,T,monetary_value\n1,x,2,3\n").is_err());
    }
}
