//! The benchmark's results: figures, each beside its baseline from the same
//! run and the ratio against its target, kept to be printed as a table and
//! written as JSON to compare runs.

use serde::Serialize;

use super::load::Outcome;

/// What a ratio is held to.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Target {
    /// The ratio must be at least this.
    AtLeast(f64),
    /// The ratio must be at most this.
    AtMost(f64),
    /// An absolute figure must be at most this (no baseline).
    ValueAtMost(f64),
    /// Informative only.
    None,
}

impl Target {
    /// Whether `value` (or its `ratio` to the baseline) meets the target;
    /// None when there is nothing to judge.
    fn met(self, value: f64, ratio: Option<f64>) -> Option<bool> {
        match (self, ratio) {
            (Target::AtLeast(t), Some(r)) => Some(r >= t),
            (Target::AtMost(t), Some(r)) => Some(r <= t),
            (Target::ValueAtMost(t), _) => Some(value <= t),
            _ => None,
        }
    }
}

/// One line of the table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// What was measured.
    pub measure: String,
    /// Under what load.
    pub condition: String,
    /// The figure.
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// What it is compared with, measured in the same run.
    pub baseline: Option<String>,
    /// The baseline's figure.
    pub baseline_value: Option<f64>,
    /// value / baseline.
    pub ratio: Option<f64>,
    /// The target.
    pub target: Target,
    /// Whether the target is met (None: no target).
    pub met: Option<bool>,
}

/// Everything a run measured.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// The run's settings and environment.
    pub meta: serde_json::Map<String, serde_json::Value>,
    /// The table.
    pub rows: Vec<Row>,
    /// Full distributions and counts behind the rows.
    pub raw: serde_json::Map<String, serde_json::Value>,
    /// Scenarios that failed, with the reason.
    pub failures: Vec<(String, String)>,
}

impl Report {
    /// A figure against its baseline.
    #[allow(clippy::too_many_arguments)]
    pub fn ratio(
        &mut self,
        measure: &str,
        condition: String,
        value: f64,
        baseline: &str,
        baseline_value: f64,
        unit: &str,
        target: Target,
    ) {
        let ratio = (baseline_value > 0.0).then(|| value / baseline_value);
        self.rows.push(Row {
            measure: measure.to_owned(),
            condition,
            value,
            unit: unit.to_owned(),
            baseline: Some(baseline.to_owned()),
            baseline_value: Some(baseline_value),
            ratio,
            target,
            met: target.met(value, ratio),
        });
    }

    /// `measured`'s p50 and p99 against `baseline`'s, in milliseconds, as
    /// "`name`: p50" and "`name`: p99" rows.
    pub fn latency_ratios(
        &mut self,
        name: &str,
        condition: &str,
        measured: &super::load::Latency,
        baseline_name: &str,
        baseline: &super::load::Latency,
    ) {
        for (label, a, b) in [
            ("p50", measured.p50_us, baseline.p50_us),
            ("p99", measured.p99_us, baseline.p99_us),
        ] {
            self.ratio(
                &format!("{name}: {label}"),
                condition.to_owned(),
                a as f64 / 1000.0,
                &format!("{baseline_name} {label}"),
                b as f64 / 1000.0,
                "ms",
                Target::None,
            );
        }
    }

    /// A figure with no baseline.
    pub fn value(
        &mut self,
        measure: &str,
        condition: String,
        value: f64,
        unit: &str,
        target: Target,
    ) {
        self.rows.push(Row {
            measure: measure.to_owned(),
            condition,
            value,
            unit: unit.to_owned(),
            baseline: None,
            baseline_value: None,
            ratio: None,
            target,
            met: target.met(value, None),
        });
    }

    /// p50, p99 and p99.9 of `a` against `b`, informative.
    pub fn latency(&mut self, name: &str, condition: &str, a: &Outcome, base: &str, b: &Outcome) {
        for (label, x, y) in [
            ("p50", a.latency.p50_us, b.latency.p50_us),
            ("p99", a.latency.p99_us, b.latency.p99_us),
            ("p99.9", a.latency.p999_us, b.latency.p999_us),
        ] {
            self.ratio(
                &format!("{name}: {label}"),
                condition.to_owned(),
                x as f64,
                &format!("{base} {label}"),
                y as f64,
                "µs",
                Target::None,
            );
        }
    }

    /// Keeps a run's full outcome in the JSON.
    pub fn add_raw(&mut self, key: &str, outcome: Option<Outcome>) {
        if let Some(o) = outcome
            && let Ok(v) = serde_json::to_value(o)
        {
            self.raw.insert(key.to_owned(), v);
        }
    }

    /// Keeps any value in the JSON.
    pub fn add_json(&mut self, key: &str, value: serde_json::Value) {
        self.raw.insert(key.to_owned(), value);
    }
}
