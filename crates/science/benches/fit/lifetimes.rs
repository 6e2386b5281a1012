//! The Python `lifetimes` side of the benchmark: the dataset goes to a temporary CSV file and
//! `reference/lifetimes_fit.py` fits it in a child process, stopped after a time limit.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::simulate::Customer;

/// Interpreter with `lifetimes` installed.
const PYTHON_VAR: &str = "RAPPORT_LIFETIMES_PYTHON";

/// What a `lifetimes` run gave.
pub enum Outcome {
    /// Fitted: `[r, α, a, b, p, q, v]` and the seconds both fits took.
    Fitted { params: [f64; 7], seconds: f64 },
    /// Still running at the limit; its time is at least the limit.
    TimedOut(Duration),
    /// Could not run (not installed, crashed); the reason.
    Unavailable(String),
}

pub fn python() -> String {
    std::env::var(PYTHON_VAR).unwrap_or_else(|_| "python3".to_owned())
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/lifetimes_fit.py")
}

/// `None` when `lifetimes` imports, else why not.
pub fn unavailable() -> Option<String> {
    let run = Command::new(python())
        .args(["-c", "import lifetimes, pandas"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match run {
        Ok(out) if out.status.success() => None,
        Ok(out) => {
            let last = last_line(&String::from_utf8_lossy(&out.stderr));
            Some(format!(
                "`{} -c 'import lifetimes'` failed: {last}",
                python()
            ))
        }
        Err(e) => Some(format!("cannot run `{}`: {e}", python())),
    }
}

/// Write the customers in the script's format; Rust's shortest round-trip formatting, so
/// Python reads exactly the numbers Rust fitted.
pub fn write_csv(path: &Path, customers: &[Customer]) -> std::io::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "frequency,recency,T,monetary_value")?;
    for c in customers {
        writeln!(
            out,
            "{},{},{},{}",
            c.frequency, c.recency, c.age, c.mean_value
        )?;
    }
    out.flush()
}

/// Fit `csv` with `lifetimes`, giving up after `limit`.
pub fn fit(csv: &Path, limit: Duration) -> Outcome {
    // Output goes to files, not pipes, so a chatty child cannot block on a full pipe while
    // the benchmark waits for it.
    let (out_path, err_path) = (csv.with_extension("out"), csv.with_extension("err"));
    let files =
        std::fs::File::create(&out_path).and_then(|o| Ok((o, std::fs::File::create(&err_path)?)));
    let (out_file, err_file) = match files {
        Ok(f) => f,
        Err(e) => return Outcome::Unavailable(format!("creating output files: {e}")),
    };
    let child = Command::new(python())
        .arg(script())
        .arg(csv)
        .stdout(out_file)
        .stderr(err_file)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return Outcome::Unavailable(format!("cannot run `{}`: {e}", python())),
    };
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() >= limit => {
                // Only this child, which the benchmark started.
                let _ = child.kill();
                let _ = child.wait();
                return Outcome::TimedOut(limit);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Outcome::Unavailable(format!("waiting for lifetimes: {e}")),
        }
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    if !status.success() {
        let err = std::fs::read_to_string(&err_path).unwrap_or_default();
        return Outcome::Unavailable(last_line(&err));
    }
    parse(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|| Outcome::Unavailable(format!("unexpected output {stdout:?}")))
}

fn parse(line: &str) -> Option<Outcome> {
    let v: Value = serde_json::from_str(line).ok()?;
    let number = |k: &str| v[k].as_f64();
    let mut params = [0.0; 7];
    for (p, k) in params
        .iter_mut()
        .zip(["r", "alpha", "a", "b", "p", "q", "v"])
    {
        *p = number(k)?;
    }
    let seconds = number("bgnbd_seconds")? + number("gamma_gamma_seconds")?;
    Some(Outcome::Fitted { params, seconds })
}

/// The last non-empty line of a program's error output: where Python names what failed.
fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_owned()
}
