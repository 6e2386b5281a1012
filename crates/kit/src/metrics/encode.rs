//! The Prometheus text exposition format (version 0.0.4) of the SDK's
//! collected data: monotonic sums as counters (`_total`), other sums and
//! gauges as gauges, explicit-bucket histograms with cumulative `_bucket`
//! lines, `_sum` and `_count`. Exponential histograms are not made by any
//! Rapport instrument and are left out.

use std::{collections::HashSet, fmt::Write};

use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};

/// The content type of [`encode`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `data` as Prometheus text.
pub fn encode(data: &ResourceMetrics) -> String {
    let mut out = String::new();
    let mut described = HashSet::new();
    for scope in data.scope_metrics() {
        for metric in scope.metrics() {
            write_metric(&mut out, &mut described, metric);
        }
    }
    out
}

/// A number as Prometheus reads it (`+Inf`, `-Inf`, `NaN` spelt its way).
trait Number: Copy {
    fn write(self, out: &mut String);
}

impl Number for f64 {
    fn write(self, out: &mut String) {
        if self.is_nan() {
            out.push_str("NaN");
        } else if self.is_infinite() {
            out.push_str(if self > 0.0 { "+Inf" } else { "-Inf" });
        } else {
            let _ = write!(out, "{self}");
        }
    }
}

impl Number for u64 {
    fn write(self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl Number for i64 {
    fn write(self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

fn write_metric(out: &mut String, described: &mut HashSet<String>, metric: &Metric) {
    match metric.data() {
        AggregatedMetrics::F64(data) => write_data(out, described, metric, data),
        AggregatedMetrics::U64(data) => write_data(out, described, metric, data),
        AggregatedMetrics::I64(data) => write_data(out, described, metric, data),
    }
}

fn write_data<T: Number>(
    out: &mut String,
    described: &mut HashSet<String>,
    metric: &Metric,
    data: &MetricData<T>,
) {
    let base = sanitize(metric.name());
    match data {
        MetricData::Sum(sum) if sum.is_monotonic() => {
            let name = if base.ends_with("_total") {
                base
            } else {
                format!("{base}_total")
            };
            header(out, described, &name, metric.description(), "counter");
            for p in sum.data_points() {
                sample(out, &name, p.attributes(), None, p.value());
            }
        }
        MetricData::Sum(sum) => {
            header(out, described, &base, metric.description(), "gauge");
            for p in sum.data_points() {
                sample(out, &base, p.attributes(), None, p.value());
            }
        }
        MetricData::Gauge(gauge) => {
            header(out, described, &base, metric.description(), "gauge");
            for p in gauge.data_points() {
                sample(out, &base, p.attributes(), None, p.value());
            }
        }
        MetricData::Histogram(histogram) => {
            header(out, described, &base, metric.description(), "histogram");
            let bucket = format!("{base}_bucket");
            let mut le = String::new();
            for p in histogram.data_points() {
                let mut cumulative = 0u64;
                for (bound, count) in p.bounds().zip(p.bucket_counts()) {
                    cumulative += count;
                    le.clear();
                    bound.write(&mut le);
                    sample(out, &bucket, p.attributes(), Some(&le), cumulative);
                }
                sample(out, &bucket, p.attributes(), Some("+Inf"), p.count());
                sample(out, &format!("{base}_sum"), p.attributes(), None, p.sum());
                sample(
                    out,
                    &format!("{base}_count"),
                    p.attributes(),
                    None,
                    p.count(),
                );
            }
        }
        MetricData::ExponentialHistogram(_) => {}
    }
}

fn header(out: &mut String, described: &mut HashSet<String>, name: &str, help: &str, kind: &str) {
    if !described.insert(name.to_owned()) {
        return;
    }
    out.push_str("# HELP ");
    out.push_str(name);
    out.push(' ');
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('\n');
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample<'a, T: Number>(
    out: &mut String,
    name: &str,
    labels: impl Iterator<Item = &'a KeyValue>,
    le: Option<&str>,
    value: T,
) {
    out.push_str(name);
    let mut first = true;
    let mut open = |out: &mut String| {
        out.push(if first { '{' } else { ',' });
        first = false;
    };
    for kv in labels {
        open(out);
        out.push_str(&sanitize(kv.key.as_str()));
        out.push_str("=\"");
        escape_value(out, &kv.value.as_str());
        out.push('"');
    }
    if let Some(le) = le {
        open(out);
        out.push_str("le=\"");
        out.push_str(le);
        out.push('"');
    }
    if !first {
        out.push('}');
    }
    out.push(' ');
    value.write(out);
    out.push('\n');
}

/// A label value with `\`, `"` and line feeds escaped.
fn escape_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A metric or label name made of `[a-zA-Z0-9_:]`, not starting with a digit:
/// anything else becomes `_` (OpenTelemetry's dotted names included).
fn sanitize(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

#[cfg(test)]
mod tests;
