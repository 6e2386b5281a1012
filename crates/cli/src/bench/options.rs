//! What `rapport bench` was asked for: which store, which layout of
//! processes, which scenarios at which sizes, and where things go.

use std::path::PathBuf;

use serde::Serialize;

use super::{scenario::Scenario, settings::Settings};

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
