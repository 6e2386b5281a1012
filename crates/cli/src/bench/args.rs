//! The `rapport bench` command line.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use super::{
    options::{BenchOptions, Scenario, StoreKind, Topology},
    settings::{Settings, Size},
};

/// `rapport bench` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Store: embedded (SQLite, in-process cache) or postgres (Postgres and Redis).
    #[arg(long, value_enum, default_value = "embedded")]
    pub store: StoreKind,
    /// one: `rapport up`; split: the four service binaries as separate processes.
    #[arg(long, value_enum, default_value = "one")]
    pub topology: Topology,
    /// Preset sizes: tiny (CI, seconds), default (minutes), full (the design's sizes).
    #[arg(long, value_enum, default_value = "default")]
    pub size: Size,
    /// Scenarios to run, comma separated (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub scenarios: Vec<Scenario>,
    /// Customers in the population (overrides the preset).
    #[arg(long)]
    pub customers: Option<u64>,
    /// Transactions in the population (overrides the preset).
    #[arg(long)]
    pub transactions: Option<u64>,
    /// Seconds of each throughput and latency run.
    #[arg(long)]
    pub duration_secs: Option<f64>,
    /// Interleaved rounds of candidate and baseline.
    #[arg(long)]
    pub rounds: Option<usize>,
    /// Calls in flight for peak throughput.
    #[arg(long)]
    pub in_flight: Option<usize>,
    /// HTTP/2 connections of the load generator.
    #[arg(long)]
    pub connections: Option<usize>,
    /// Customers the cache-hit scenario reads (the hot set).
    #[arg(long)]
    pub hot_customers: Option<usize>,
    /// Transactions per second of the freshness scenario.
    #[arg(long)]
    pub freshness_rate: Option<f64>,
    /// Seconds of the freshness scenario.
    #[arg(long)]
    pub freshness_secs: Option<f64>,
    /// Seed of the population.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Directory for the run's data, logs and results.
    #[arg(long, default_value = "target/bench")]
    pub out: PathBuf,
    /// Where to write the JSON results (default: <run dir>/results.json).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Postgres server the run's database is created on.
    #[arg(
        long,
        env = "RAPPORT_BENCH_PG",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub postgres: String,
    /// Redis for the postgres store.
    #[arg(
        long,
        env = "RAPPORT_BENCH_REDIS",
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis: String,
    /// Keep the run's database and files afterwards.
    #[arg(long)]
    pub keep: bool,
    /// The `rapport` binary to benchmark (default: this one).
    #[arg(long)]
    pub rapport_bin: Option<PathBuf>,
    /// With `--store postgres`: the services reach Postgres through this
    /// PgBouncer binary (1.21+; `scripts/pgbouncer` builds one into
    /// target/tools), started in transaction mode in front of the run's
    /// database; LISTEN and the benchmark's own baselines stay direct.
    #[arg(long)]
    pub pgbouncer: Option<PathBuf>,
}

impl BenchArgs {
    /// The options these flags ask for.
    pub fn into_options(self) -> anyhow::Result<BenchOptions> {
        let mut s = Settings::preset(self.size, self.seed);
        if let Some(c) = self.customers {
            s.population.customers = c.max(10);
        }
        if let Some(t) = self.transactions {
            s.population.transactions = t;
        }
        s.population.transactions = s.population.transactions.max(s.population.customers);
        if let Some(d) = self.duration_secs {
            s.duration = Duration::from_secs_f64(d.max(0.1));
        }
        if let Some(r) = self.rounds {
            s.rounds = r.max(1);
        }
        if let Some(n) = self.in_flight {
            s.in_flight = n.max(1);
        }
        if let Some(n) = self.connections {
            s.connections = n.max(1);
        }
        if let Some(h) = self.hot_customers {
            s.hot_customers = h.max(1);
        }
        if let Some(r) = self.freshness_rate {
            s.freshness_rate = r.max(1.0);
        }
        if let Some(d) = self.freshness_secs {
            s.freshness_duration = Duration::from_secs_f64(d.max(0.1));
        }
        anyhow::ensure!(
            self.pgbouncer.is_none() || self.store == StoreKind::Postgres,
            "--pgbouncer needs --store postgres"
        );
        let exe = std::env::current_exe()?;
        let rapport_bin = self.rapport_bin.unwrap_or_else(|| exe.clone());
        let run_dir = default_run_dir(&self.out);
        let json = self.json.unwrap_or_else(|| run_dir.join("results.json"));
        Ok(BenchOptions {
            store: self.store,
            topology: self.topology,
            settings: s,
            scenarios: self.scenarios,
            rapport_bin,
            run_dir,
            json,
            postgres_admin_url: self.postgres,
            redis_url: self.redis,
            keep: self.keep,
            pgbouncer: self.pgbouncer,
        })
    }
}

/// The default directory of a run: `target/bench/<unix time>` under the
/// current directory.
fn default_run_dir(root: &Path) -> PathBuf {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    root.join(format!("run-{now}"))
}
