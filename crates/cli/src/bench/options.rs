//! What `rapport bench` was asked for: which store, which layout of
//! processes, which scenarios at which sizes, and where things go.

use std::path::PathBuf;

use serde::Serialize;

use super::settings::Settings;

/// Where the data lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// SQLite files and the in-process cache: the embedded default.
    Embedded,
    /// Postgres and Redis: the production shape.
    Postgres,
}

/// How the services are laid out in processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Topology {
    /// `rapport up`: all four services in one process.
    One,
    /// The four services, one process each (`rapport serve <service>`).
    Split,
}

/// Scenarios, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// GetScore on a cache hit against Health/Check: peak and half-peak latency.
    Hit,
    /// BatchGetScores(100) against GetScore and 100 GetScore calls.
    Batch,
    /// GetScore as JSON over HTTP against GetScore over gRPC.
    Json,
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
    /// ApplyChanges with a points programme earning against it paused;
    /// GetPointsBalance and RedeemPoints against GetScore.
    Loyalty,
    /// Opportunity events ingested, then the refit job until stored against
    /// reading them back; ListOpportunities and GetPipeline against GetScore.
    Opportunities,
    /// A report run over the whole tenant against GetCustomerEquity's
    /// per-request scan; its peak memory; GetReport against GetScore.
    Reports,
    /// SummarizeScores and GetCustomerEquity computed in the request against
    /// the refresh worker's stored figures; the worker's pass and its memory
    /// (restarts the suite twice).
    Figures,
    /// GetRuleStats of a rule that fired for every customer against an
    /// exact SQL count of the same firings and GetScore.
    RuleStats,
    /// GDPR ExportCustomer and EraseCustomer against GetCustomer (erases
    /// some of the population: runs last).
    CustomerData,
    /// Peak resident memory of each service under the largest inputs its
    /// limits allow, against its Kubernetes memory limit (split topology;
    /// not part of the default set).
    WorstMemory,
}

impl Scenario {
    /// Every scenario run by default.
    pub const ALL: [Scenario; 15] = [
        // First: the models fitted, as in production, before anything reads
        // scores (and before live traffic makes every customer look
        // active, which leaves the models little to fit); the background
        // refresh is then not due again during the run.
        Scenario::Rescore,
        Scenario::Hit,
        Scenario::Batch,
        Scenario::Json,
        Scenario::Ingest,
        Scenario::Apply,
        Scenario::Freshness,
        Scenario::Memory,
        Scenario::Reports,
        Scenario::Loyalty,
        Scenario::Opportunities,
        Scenario::Figures,
        Scenario::RuleStats,
        Scenario::Miss,
        Scenario::CustomerData,
    ];
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
    /// PgBouncer between the services and Postgres.
    pub pgbouncer: Option<PathBuf>,
}
