//! `rapport bench`: the benchmark suite. It starts the suite itself (on the
//! embedded store or on Postgres and Redis, in one process or as the four
//! service processes), loads a seeded population through the API, runs every
//! scenario beside its baseline in the same run, and prints a table of
//! figures and ratios against the design's targets, also written as JSON.
//!
//! No threshold is enforced: the figures are for people and for comparing
//! runs. Machines running it are often shared and noisy.

pub mod args;
pub mod generate;
mod ingest;
pub mod load;
mod pipeline;
pub mod population;
mod reads;
pub mod report;
pub mod target;

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use serde::Serialize;

use population::PopulationSpec;
use report::Report;
use target::{StoreKind, Target, TargetSpec, Topology};

/// Scenarios, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// GetScore on a cache hit against Health/Check: peak and half-peak latency.
    Hit,
    /// BatchGetScores(100) against GetScore and 100 GetScore calls.
    Batch,
    /// Ingest against COPY (or SQLite bulk INSERT).
    Ingest,
    /// Scoring's ApplyChanges throughput.
    Apply,
    /// Ingest at a sustained rate; time until the score reflects it.
    Freshness,
    /// FitModels over the whole population.
    Rescore,
    /// GetScore on a cache miss against a primary-key SELECT (restarts the suite).
    Miss,
    /// Resident memory of each process after the load.
    Memory,
}

impl Scenario {
    /// Every scenario.
    pub const ALL: [Scenario; 8] = [
        // First: the models fitted, as in production, before anything reads
        // scores (and before live traffic makes every customer look
        // active, which leaves the models little to fit); the background
        // refresh is then not due again during the run.
        Scenario::Rescore,
        Scenario::Hit,
        Scenario::Batch,
        Scenario::Ingest,
        Scenario::Apply,
        Scenario::Freshness,
        Scenario::Memory,
        Scenario::Miss,
    ];
}

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
            },
        }
    }
}

/// Everything `rapport bench` was asked for.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The store.
    pub store: StoreKind,
    /// The layout.
    pub topology: Topology,
    /// Sizes and durations.
    pub settings: Settings,
    /// Which scenarios (all when empty).
    pub scenarios: Vec<Scenario>,
    /// The `rapport` binary to start (`rapport up`, `rapport serve`).
    pub rapport_bin: PathBuf,
    /// The run's directory (data, logs, results).
    pub run_dir: PathBuf,
    /// Where the JSON goes.
    pub json: PathBuf,
    /// Postgres server to create the run's database on.
    pub postgres_admin_url: String,
    /// Redis.
    pub redis_url: String,
    /// Keep the run's database and files.
    pub keep: bool,
}

/// Runs the benchmark and returns its report (also printed and written).
pub async fn run(opts: BenchOptions) -> anyhow::Result<Report> {
    let s = &opts.settings;
    let mut report = Report::default();
    let meta = serde_json::json!({
        "store": opts.store,
        "topology": opts.topology,
        "settings": s,
        "started_at": chrono::Utc::now().to_rfc3339(),
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "rapport_version": env!("CARGO_PKG_VERSION"),
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
    });
    if let serde_json::Value::Object(m) = meta {
        report.meta = m;
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "note: a debug build of rapport; figures of a release build are the ones to compare"
        );
    }
    let spec = TargetSpec {
        store: opts.store,
        topology: opts.topology,
        rapport_bin: opts.rapport_bin.clone(),
        run_dir: opts.run_dir.clone(),
        postgres_admin_url: opts.postgres_admin_url.clone(),
        redis_url: opts.redis_url.clone(),
    };
    eprintln!(
        "starting the suite ({:?} store, {:?} topology) in {}",
        opts.store,
        opts.topology,
        opts.run_dir.display()
    );
    let mut target = Target::start(spec).await?;
    let outcome = scenarios(&mut target, &opts, &mut report).await;
    let finished = target.finish(opts.keep).await;
    if let Err(e) = outcome {
        report.failures.push(("run".to_owned(), format!("{e:#}")));
    }
    finished?;
    println!("{}", report.table());
    std::fs::write(&opts.json, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("writing {}", opts.json.display()))?;
    println!("\nresults written to {}", opts.json.display());
    Ok(report)
}

async fn scenarios(
    target: &mut Target,
    opts: &BenchOptions,
    report: &mut Report,
) -> anyhow::Result<()> {
    let s = &opts.settings;
    let wanted = |sc: Scenario| opts.scenarios.is_empty() || opts.scenarios.contains(&sc);
    let clients = target.clients()?;
    let ingestion_db = target.db(rapport_ingestion::SCHEMA)?;
    eprintln!(
        "loading {} customers / {} transactions",
        s.population.customers, s.population.transactions
    );
    let loaded = population::load(&clients, &ingestion_db, &s.population, 1_000).await?;
    ingestion_db.close().await;
    let loaded_rows = loaded.transactions;
    let rows = loaded_rows as f64;
    report.value(
        "Population load: ingest",
        format!("{rows} rows, batches of 1000, 2 in flight"),
        rows / loaded.ingest_seconds,
        "rows/s",
        report::Target::None,
    );
    report.value(
        "Population load: applied",
        "ingest start to outbox drained".to_owned(),
        rows / loaded.applied_seconds,
        "rows/s",
        report::Target::None,
    );
    report.add_json("population", serde_json::to_value(&loaded)?);
    let ids = Arc::new(loaded.customer_ids);
    anyhow::ensure!(!ids.is_empty(), "the population has no scored customers");
    for scenario in Scenario::ALL.into_iter().filter(|sc| wanted(*sc)) {
        eprintln!("scenario {scenario:?}");
        let result = match scenario {
            Scenario::Hit => match reads::warm(target, &ids).await {
                Ok(()) => reads::hit(target, &ids, s, report).await,
                Err(e) => Err(e),
            },
            Scenario::Batch => match reads::warm(target, &ids).await {
                Ok(()) => reads::batch(target, &ids, s, report).await,
                Err(e) => Err(e),
            },
            Scenario::Ingest => ingest::run(target, &s.population, s, report).await,
            Scenario::Apply => pipeline::apply(target, &ids, s, report).await,
            Scenario::Freshness => {
                pipeline::freshness(target, &s.population, &ids, s, report).await
            }
            Scenario::Rescore => pipeline::rescore(target, ids.len(), loaded_rows, report).await,
            Scenario::Memory => {
                pipeline::memory(target, report);
                Ok(())
            }
            Scenario::Miss => reads::miss(target, &ids, s, report).await,
        };
        if let Err(e) = result {
            eprintln!("scenario {scenario:?} failed: {e:#}");
            report
                .failures
                .push((format!("{scenario:?}"), format!("{e:#}")));
        }
    }
    Ok(())
}
