//! How every scenario runs: the population, durations, concurrency and
//! rates, from a preset size.

use std::time::Duration;

use serde::Serialize;

use super::generate::PopulationSpec;

/// Preset sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    /// Seconds in all, to keep the suite working in CI (figures mean little).
    Tiny,
    /// A few minutes: 20k customers, 200k transactions.
    Default,
    /// The design's sizes: 1M customers / 10M transactions, 5,000 tx/s for 60 s.
    Full,
}

/// How every scenario runs.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// The population.
    pub population: PopulationSpec,
    /// Seconds each throughput or latency run lasts.
    #[serde(with = "secs")]
    pub duration: Duration,
    /// Dropped warm-up before each closed-loop run.
    #[serde(with = "secs")]
    pub warmup: Duration,
    /// Interleaved rounds of candidate and baseline.
    pub rounds: usize,
    /// HTTP/2 connections of the load generator.
    pub connections: usize,
    /// Calls in flight for peak throughput.
    pub in_flight: usize,
    /// Most calls outstanding in an open loop.
    pub max_outstanding: u64,
    /// Calls at concurrency 1.
    pub sequential_calls: u64,
    /// Customers the cache-hit scenario reads: callers read some customers
    /// far more often than others; these are the hot ones.
    pub hot_customers: usize,
    /// Batch sizes of the ingest scenario.
    pub ingest_batches: Vec<usize>,
    /// Rows per ingest measurement.
    pub ingest_rows: u64,
    /// Changes of the apply scenario.
    pub apply_changes: u64,
    /// Transactions per second of the freshness scenario.
    pub freshness_rate: f64,
    /// How long it lasts.
    #[serde(with = "secs")]
    pub freshness_duration: Duration,
    /// Bytes of each message of the worst-memory scenario (at most the
    /// services' `max_message_bytes`).
    pub worst_message_bytes: usize,
}

mod secs {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

impl Settings {
    /// A preset.
    pub fn preset(size: Size, seed: u64) -> Settings {
        let population = |customers, transactions| PopulationSpec {
            customers,
            transactions,
            months: 24,
            seed,
        };
        match size {
            Size::Tiny => Settings {
                population: population(300, 3_000),
                duration: Duration::from_millis(500),
                warmup: Duration::from_millis(100),
                rounds: 1,
                connections: 2,
                in_flight: 16,
                max_outstanding: 10_000,
                sequential_calls: 100,
                hot_customers: 300,
                ingest_batches: vec![1_000],
                ingest_rows: 2_000,
                apply_changes: 1_000,
                freshness_rate: 200.0,
                freshness_duration: Duration::from_secs(2),
                worst_message_bytes: 1 << 20,
            },
            Size::Default => Settings {
                population: population(20_000, 200_000),
                duration: Duration::from_secs(5),
                warmup: Duration::from_secs(1),
                rounds: 2,
                connections: 4,
                in_flight: 64,
                max_outstanding: 50_000,
                sequential_calls: 2_000,
                hot_customers: 2_000,
                ingest_batches: vec![1_000, 10_000],
                ingest_rows: 50_000,
                apply_changes: 50_000,
                freshness_rate: 5_000.0,
                freshness_duration: Duration::from_secs(20),
                worst_message_bytes: 16 << 20,
            },
            Size::Full => Settings {
                population: population(1_000_000, 10_000_000),
                duration: Duration::from_secs(10),
                warmup: Duration::from_secs(2),
                rounds: 3,
                connections: 4,
                in_flight: 64,
                max_outstanding: 100_000,
                sequential_calls: 5_000,
                hot_customers: 2_000,
                ingest_batches: vec![1_000, 10_000],
                ingest_rows: 200_000,
                apply_changes: 200_000,
                freshness_rate: 5_000.0,
                freshness_duration: Duration::from_secs(60),
                worst_message_bytes: 16 << 20,
            },
        }
    }
}
