use std::sync::Arc;

use opentelemetry::{KeyValue, metrics::MeterProvider as _};
use opentelemetry_sdk::metrics::{
    ManualReader, SdkMeterProvider, data::ResourceMetrics, reader::MetricReader,
};

use super::encode;
use crate::metrics::SharedReader;

/// A provider of its own (not the process's), and what its reader reads.
fn provider() -> (SdkMeterProvider, Arc<ManualReader>) {
    let reader = Arc::new(ManualReader::builder().build());
    let provider = SdkMeterProvider::builder()
        .with_reader(SharedReader(reader.clone()))
        .build();
    (provider, reader)
}

fn text(reader: &ManualReader) -> String {
    let mut data = ResourceMetrics::default();
    reader.collect(&mut data).unwrap();
    encode(&data)
}

#[test]
fn label_values_are_escaped() {
    let (provider, reader) = provider();
    let counter = provider
        .meter("t")
        .u64_counter("rapport_things")
        .with_description("Things seen,\nby kind \\ source.")
        .build();
    counter.add(3, &[KeyValue::new("kind", "a \"quoted\"\\back\nline")]);
    assert_eq!(
        text(&reader),
        "# HELP rapport_things_total Things seen,\\nby kind \\\\ source.\n\
         # TYPE rapport_things_total counter\n\
         rapport_things_total{kind=\"a \\\"quoted\\\"\\\\back\\nline\"} 3\n"
    );
}

#[test]
fn histograms_have_cumulative_buckets_sum_and_count() {
    let (provider, reader) = provider();
    let histogram = provider
        .meter("t")
        .f64_histogram("rapport.wait.seconds")
        .with_description("Waits.")
        .with_boundaries(vec![0.5, 1.0, 2.5])
        .build();
    let labels = [KeyValue::new("queue", "q1")];
    for v in [0.25, 0.75, 0.75, 2.0, 9.0] {
        histogram.record(v, &labels);
    }
    assert_eq!(
        text(&reader),
        "# HELP rapport_wait_seconds Waits.\n\
         # TYPE rapport_wait_seconds histogram\n\
         rapport_wait_seconds_bucket{queue=\"q1\",le=\"0.5\"} 1\n\
         rapport_wait_seconds_bucket{queue=\"q1\",le=\"1\"} 3\n\
         rapport_wait_seconds_bucket{queue=\"q1\",le=\"2.5\"} 4\n\
         rapport_wait_seconds_bucket{queue=\"q1\",le=\"+Inf\"} 5\n\
         rapport_wait_seconds_sum{queue=\"q1\"} 12.75\n\
         rapport_wait_seconds_count{queue=\"q1\"} 5\n"
    );
}

#[test]
fn gauges_and_sums_that_go_down_are_gauges() {
    let (provider, reader) = provider();
    let meter = provider.meter("t");
    let gauge = meter
        .u64_gauge("rapport_depth")
        .with_description("Depth.")
        .build();
    gauge.record(7, &[]);
    gauge.record(4, &[]);
    let level = meter
        .i64_up_down_counter("rapport_level")
        .with_description("Level.")
        .build();
    level.add(2, &[]);
    level.add(-5, &[]);
    let out = text(&reader);
    assert!(
        out.contains("# TYPE rapport_depth gauge\nrapport_depth 4\n"),
        "{out}"
    );
    assert!(
        out.contains("# TYPE rapport_level gauge\nrapport_level -3\n"),
        "{out}"
    );
}
