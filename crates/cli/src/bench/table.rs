//! The report as people read it: one line per figure with its baseline,
//! ratio, target and whether it was met.

use super::report::{Report, Target};

/// The report as a table of text, failures last.
pub fn render(report: &Report) -> String {
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
    for r in &report.rows {
        lines.push(format!(
            "{:<34} {:<34} {:>12} {:<6} {:<28} {:>12} {:>8} {:>8} {}",
            clip(&r.measure, 34),
            clip(&r.condition, 34),
            human(r.value),
            r.unit,
            clip(r.baseline.as_deref().unwrap_or("-"), 28),
            r.baseline_value.map_or("-".to_owned(), human),
            r.ratio.map_or("-".to_owned(), |x| format!("{x:.2}")),
            describe(r.target),
            match r.met {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "",
            }
        ));
    }
    for (scenario, why) in &report.failures {
        lines.push(format!("{scenario}: FAILED: {why}"));
    }
    lines.join("\n")
}

fn describe(target: Target) -> String {
    match target {
        Target::AtLeast(t) => format!(">= {t}"),
        Target::AtMost(t) => format!("<= {t}"),
        Target::ValueAtMost(t) => format!("<= {}", human(t)),
        Target::None => "-".to_owned(),
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
        assert!(render(&r).contains("NO"));
    }
}
