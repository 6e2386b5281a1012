//! Metrics through the OpenTelemetry metrics API: one meter provider per
//! process, read on demand for the Prometheus endpoint ([`endpoint`]) and,
//! when an OTLP endpoint is configured, exported over OTLP like the spans.
//!
//! Instruments are named as Prometheus expects to see them (`rapport_…`, base
//! units in the name, `_seconds`); counters get their `_total` when encoded.
//! Every service records into the same provider, so a process running several
//! services (`rapport up`) has one endpoint for all of them.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::{
    InstrumentKind, ManualReader, Pipeline, SdkMeterProvider, Temporality, data::ResourceMetrics,
    reader::MetricReader,
};

pub mod encode;
pub mod endpoint;
pub mod rpc;

pub use opentelemetry::{
    KeyValue,
    metrics::{Counter, Gauge, Histogram, UpDownCounter},
};

/// Histogram boundaries for durations in seconds: from 100 µs (a cached
/// score) to a minute (a model fit over a large tenant).
pub const SECONDS_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0, 60.0,
];

/// The process's meter provider and the reader the endpoint pulls through.
struct Metrics {
    provider: SdkMeterProvider,
    reader: Arc<ManualReader>,
    exporting: bool,
}

static METRICS: OnceLock<Metrics> = OnceLock::new();

/// Sets up the meter provider, exporting over OTLP/gRPC to `otlp_endpoint`
/// when given. Instruments made before this call (or without it) record
/// into a provider without export; only the first call takes effect.
/// Returns the exporter's build error, if any (metrics are then only
/// served, not exported).
pub fn init(otlp_endpoint: Option<&str>) -> Result<(), opentelemetry_otlp::ExporterBuildError> {
    let mut error = None;
    METRICS.get_or_init(|| {
        let exporter = otlp_endpoint.map(otlp_exporter).transpose();
        let exporter = exporter.unwrap_or_else(|e| {
            error = Some(e);
            None
        });
        build(exporter)
    });
    error.map_or(Ok(()), Err)
}

fn otlp_exporter(
    endpoint: &str,
) -> Result<opentelemetry_otlp::MetricExporter, opentelemetry_otlp::ExporterBuildError> {
    use opentelemetry_otlp::WithExportConfig;
    opentelemetry_otlp::MetricExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
}

fn build(exporter: Option<opentelemetry_otlp::MetricExporter>) -> Metrics {
    let reader = Arc::new(ManualReader::builder().build());
    let mut builder = SdkMeterProvider::builder()
        .with_reader(SharedReader(reader.clone()))
        .with_resource(crate::telemetry::resource());
    let exporting = exporter.is_some();
    if let Some(exporter) = exporter {
        builder = builder.with_reader(
            opentelemetry_sdk::metrics::PeriodicReader::builder(exporter)
                .with_interval(Duration::from_secs(30))
                .build(),
        );
    }
    Metrics {
        provider: builder.build(),
        reader,
        exporting,
    }
}

fn metrics() -> &'static Metrics {
    METRICS.get_or_init(|| build(None))
}

/// The meter every Rapport instrument is made from.
pub fn meter() -> Meter {
    metrics().provider.meter("rapport")
}

/// A histogram of durations in seconds over [`SECONDS_BUCKETS`].
pub fn seconds_histogram(name: &'static str, help: &'static str) -> Histogram<f64> {
    meter()
        .f64_histogram(name)
        .with_description(help)
        .with_unit("s")
        .with_boundaries(SECONDS_BUCKETS.to_vec())
        .build()
}

/// Everything recorded so far, in the Prometheus text format.
pub fn render() -> String {
    let mut data = ResourceMetrics::default();
    if let Err(e) = metrics().reader.collect(&mut data) {
        tracing::warn!(error = %e, "collecting metrics failed");
    }
    encode::encode(&data)
}

/// Sends the metrics not yet exported (at shutdown).
pub fn flush() {
    if let Some(m) = METRICS.get()
        && m.exporting
        && let Err(e) = m.provider.force_flush()
    {
        tracing::warn!(error = %e, "flushing metrics failed");
    }
}

/// The manual reader, shared between the provider (which owns its readers)
/// and [`render`].
#[derive(Debug)]
struct SharedReader(Arc<ManualReader>);

impl MetricReader for SharedReader {
    fn register_pipeline(&self, pipeline: std::sync::Weak<Pipeline>) {
        self.0.register_pipeline(pipeline)
    }

    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

/// A queue's backlog as two sampled gauges: how many rows wait, and how
/// long the oldest has waited (0 when none does).
pub struct Backlog {
    depth: Gauge<u64>,
    age: Gauge<f64>,
}

impl Backlog {
    /// The gauges `depth` and `age` (in seconds), with their help texts.
    pub fn new(
        depth: &'static str,
        depth_help: &'static str,
        age: &'static str,
        age_help: &'static str,
    ) -> Backlog {
        Backlog {
            depth: meter()
                .u64_gauge(depth)
                .with_description(depth_help)
                .build(),
            age: meter()
                .f64_gauge(age)
                .with_description(age_help)
                .with_unit("s")
                .build(),
        }
    }

    /// Records `rows` waiting, the oldest since `oldest`, at `now`. Age
    /// first: a scrape that sees this depth sees this age or a later one.
    pub fn record(
        &self,
        rows: u64,
        oldest: Option<chrono::DateTime<chrono::Utc>>,
        now: chrono::DateTime<chrono::Utc>,
    ) {
        let age = oldest.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1e3);
        self.age.record(age, &[]);
        self.depth.record(rows, &[]);
    }
}

/// A sampler that reads a backlog with `read` (rows waiting, the oldest's
/// time) and records it in `gauges`; a failed read is logged naming `what`
/// and leaves the gauges as they were.
pub fn backlog_sampler<F, Fut, E>(
    gauges: &'static Backlog,
    what: &'static str,
    read: F,
) -> crate::server::Sampler
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(u64, Option<chrono::DateTime<chrono::Utc>>), E>>
        + Send
        + 'static,
    E: std::fmt::Display,
{
    Arc::new(move || {
        let read = read();
        Box::pin(async move {
            match read.await {
                Ok((rows, oldest)) => gauges.record(rows, oldest, chrono::Utc::now()),
                Err(e) => tracing::warn!(error = %e, "sampling {what} failed"),
            }
        })
    })
}

/// Runs `sample` now and every `every` until `shutdown` fires: how gauges
/// read from a database are kept current without a query per scrape.
pub fn spawn_sampler<F, Fut>(
    every: Duration,
    shutdown: crate::shutdown::Shutdown,
    mut sample: F,
) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => sample().await,
                _ = shutdown.wait() => return,
            }
        }
    })
}
