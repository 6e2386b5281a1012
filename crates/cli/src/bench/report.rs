//! The benchmark's results: a table of figures, each beside its baseline
//! from the same run and the ratio against its target, printed for people
//! and written as JSON so runs can be compared.

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
    fn met(self, value: f64, ratio: Option<f64>) -> Option<bool> {
        match (self, ratio) {
            (Target::AtLeast(t), Some(r)) => Some(r >= t),
            (Target::AtMost(t), Some(r)) => Some(r <= t),
            (Target::ValueAtMost(t), _) => Some(value <= t),
            _ => None,
        }
    }

    fn describe(self) -> String {
        match self {
            Target::AtLeast(t) => format!(">= {t}"),
            Target::AtMost(t) => format!("<= {t}"),
            Target::ValueAtMost(t) => format!("<= {}", human(t)),
            Target::None => "-".to_owned(),
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

    /// The table as text.
    pub fn table(&self) -> String {
        let mut lines = vec![
            format!(
                "{:<34} {:<34} {:>12} {:<6} {:<28} {:>12} {:>8} {:>8} {}",
                "measure",
                "condition",
                "value",
                "unit",
                "baseline",
                "baseline",
                "ratio",
                "target",
                "met"
            ),
            "-".repeat(160),
        ];
        for r in &self.rows {
            lines.push(format!(
                "{:<34} {:<34} {:>12} {:<6} {:<28} {:>12} {:>8} {:>8} {}",
                clip(&r.measure, 34),
                clip(&r.condition, 34),
                human(r.value),
                r.unit,
                clip(r.baseline.as_deref().unwrap_or("-"), 28),
                r.baseline_value.map_or("-".to_owned(), human),
                r.ratio.map_or("-".to_owned(), |x| format!("{x:.2}")),
                r.target.describe(),
                match r.met {
                    Some(true) => "yes",
                    Some(false) => "NO",
                    None => "",
                }
            ));
        }
        for (scenario, why) in &self.failures {
            lines.push(format!("{scenario}: FAILED: {why}"));
        }
        lines.join("\n")
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(n - 1).collect();
        out.push('…');
        out
    }
}

/// 1234567 as "1.23M", 0.5 as "0.50".
pub fn human(v: f64) -> String {
    let a = v.abs();
    if a >= 10_000_000.0 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 100_000.0 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_judged_against_their_targets() {
        let mut r = Report::default();
        r.ratio(
            "a",
            String::new(),
            30.0,
            "b",
            100.0,
            "req/s",
            Target::AtLeast(0.6),
        );
        r.ratio(
            "c",
            String::new(),
            120.0,
            "d",
            100.0,
            "µs",
            Target::AtMost(1.5),
        );
        r.value("e", String::new(), 70.0, "ms", Target::ValueAtMost(100.0));
        r.ratio("f", String::new(), 1.0, "g", 0.0, "µs", Target::AtMost(2.0));
        let met: Vec<Option<bool>> = r.rows.iter().map(|r| r.met).collect();
        assert_eq!(met, [Some(false), Some(true), Some(true), None]);
        assert_eq!(r.rows[0].ratio, Some(0.3));
        assert!(r.table().contains("NO"));
    }
}
