//! The suite under test: started by the benchmark itself as separate
//! processes, on a store and a cache key prefix made for the run, with one
//! tenant. The load generator runs in this process, so the suite's figures
//! never include the generator's work.

use std::path::PathBuf;

use anyhow::Context;
use rapport_kit::{Db, config::Config};
use uuid::Uuid;

use super::{
    options::{StoreKind, Topology},
    procs::{Launch, Procs},
    store::RunStore,
};
use crate::split;

/// What to start.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    /// Store.
    pub store: StoreKind,
    /// Layout.
    pub topology: Topology,
    /// The `rapport` binary (`rapport up`, or `rapport serve` per service).
    pub rapport_bin: PathBuf,
    /// The run's own directory: SQLite files, logs.
    pub run_dir: PathBuf,
    /// A Postgres database to create the run's database from.
    pub postgres_admin_url: String,
    /// Redis.
    pub redis_url: String,
    /// PgBouncer between the services and Postgres.
    pub pgbouncer: Option<PathBuf>,
    /// Whether the opportunities scenario runs (its job then polls often).
    pub opportunities: bool,
    /// Customers the population has.
    pub customers: u64,
}

/// The running suite and how to reach it.
pub struct Target {
    spec: TargetSpec,
    store: RunStore,
    procs: Procs,
    pooler: Option<super::pooler::Pooler>,
    /// Scoring's address (and every other service's in one process).
    addrs: [std::net::SocketAddr; 4],
    /// Cache keys start with this; changed to empty the cache.
    pub cache_prefix: String,
    /// The credential services call each other with (the benchmark calls
    /// `ApplyChanges` with it).
    pub internal_token: String,
    /// The tenant's API key.
    pub api_key: String,
    /// The tenant.
    pub tenant_id: Uuid,
    restarts: u32,
    /// Settings added to the suite's environment (see [`Target::restart_with`]).
    extra_env: Vec<(String, String)>,
}

impl Target {
    /// Makes the store and the tenant, then starts the suite and waits until
    /// it serves.
    pub async fn start(spec: TargetSpec) -> anyhow::Result<Target> {
        std::fs::create_dir_all(&spec.run_dir)
            .with_context(|| format!("creating {}", spec.run_dir.display()))?;
        let store = RunStore::create(spec.store, &spec.run_dir, &spec.postgres_admin_url).await?;
        let internal_token = format!("bench_{}", Uuid::new_v4().simple());
        let pooler = match (&spec.pgbouncer, store.database_url()) {
            (Some(bin), Some(url)) => Some(super::pooler::Pooler::start(bin, url, &spec.run_dir)?),
            _ => None,
        };
        let mut target = Target {
            pooler,
            addrs: split::free_addrs::<4>()?,
            procs: Procs::Stopped,
            store,
            cache_prefix: format!("bench{}", Uuid::new_v4().simple()),
            internal_token,
            api_key: String::new(),
            tenant_id: Uuid::nil(),
            spec,
            restarts: 0,
            extra_env: Vec::new(),
        };
        let (tenant, key) = target.store.create_tenant().await?;
        target.tenant_id = tenant;
        target.api_key = key;
        target.launch().await?;
        Ok(target)
    }

    /// Configuration pointing at the run's store, for this process's own
    /// connections (the tenant, the baselines).
    pub fn config(&self) -> Config {
        self.store.config()
    }

    /// A pool on `schema` of the run's store, as the services open theirs.
    pub fn db(&self, schema: &'static str) -> anyhow::Result<Db> {
        self.store.db(schema)
    }

    /// Which store.
    pub fn store(&self) -> StoreKind {
        self.spec.store
    }

    /// Which layout.
    pub fn topology(&self) -> Topology {
        self.spec.topology
    }

    fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            (
                "RAPPORT_DATA_DIR".to_owned(),
                self.store.data_dir().display().to_string(),
            ),
            ("RAPPORT_CACHE_PREFIX".to_owned(), self.cache_prefix.clone()),
            ("RAPPORT_LOG_FORMAT".to_owned(), "json".to_owned()),
            // Reports run when the scenario asks for one, not on the
            // schedule in the middle of another scenario's measurement.
            ("RAPPORT_REPORTS__INTERVAL_HOURS".to_owned(), "0".to_owned()),
            (
                "RUST_LOG".to_owned(),
                std::env::var("RAPPORT_BENCH_LOG").unwrap_or_else(|_| "warn".to_owned()),
            ),
        ];
        // SummarizeScores and GetCustomerEquity are computed in the request
        // for the whole population (the reports scenario's baseline, the
        // figures scenario's first half), as far as the limit may go.
        let inline = self
            .spec
            .customers
            .clamp(50_000, u64::from(rapport_scoring::MAX_INLINE_FIGURES));
        env.push((
            "RAPPORT_SCORING__INLINE_FIGURES_LIMIT".to_owned(),
            inline.to_string(),
        ));
        // The opportunities' refit looks for work often when its scenario
        // runs, so its figure is the refit's cost rather than the wait for
        // the next look; other scenarios keep the default poll.
        if self.spec.opportunities {
            env.push((
                "RAPPORT_OPPORTUNITIES__POLL_INTERVAL_MS".to_owned(),
                "100".to_owned(),
            ));
        }
        if let Some(url) = self.store.database_url() {
            match &self.pooler {
                Some(pooler) => {
                    env.push(("DATABASE_URL".to_owned(), pooler.url().to_owned()));
                    env.push(("RAPPORT_DATABASE_DIRECT_URL".to_owned(), url.to_owned()));
                }
                None => env.push(("DATABASE_URL".to_owned(), url.to_owned())),
            }
            env.push(("REDIS_URL".to_owned(), self.spec.redis_url.clone()));
        }
        env.extend(self.extra_env.iter().cloned());
        env
    }

    async fn launch(&mut self) -> anyhow::Result<()> {
        let logs = self.spec.run_dir.join(format!("logs-{}", self.restarts));
        std::fs::create_dir_all(&logs)?;
        let launch = Launch {
            rapport_bin: &self.spec.rapport_bin,
            addrs: self.addrs,
            env: self.env(),
            internal_token: &self.internal_token,
            logs: &logs,
        };
        self.procs = match self.spec.topology {
            Topology::One => Procs::one(launch).await?,
            Topology::Split => Procs::split(launch).await?,
        };
        Ok(())
    }

    fn url_of(&self, service: &str) -> String {
        let i = match self.spec.topology {
            Topology::One => 2,
            Topology::Split => split::SERVICES
                .iter()
                .position(|s| *s == service)
                .unwrap_or(2),
        };
        format!("http://{}", self.addrs[i])
    }

    /// Scoring's URL.
    pub fn scoring_url(&self) -> String {
        self.url_of("scoring")
    }

    /// Ingestion's URL.
    pub fn ingestion_url(&self) -> String {
        self.url_of("ingestion")
    }

    /// Profiles' URL.
    pub fn profiles_url(&self) -> String {
        self.url_of("profiles")
    }

    /// Notifications' URL.
    pub fn notifications_url(&self) -> String {
        self.url_of("notifications")
    }

    /// Typed clients for the tenant.
    pub fn clients(&self) -> anyhow::Result<crate::client::Clients> {
        crate::client::Clients::connect_each(
            &self.profiles_url(),
            &self.ingestion_url(),
            &self.scoring_url(),
            &self.notifications_url(),
            &self.api_key,
        )
    }

    /// Resident memory of each process: ("rapport", bytes) in one process,
    /// one entry per service when split.
    pub fn rss(&self) -> Vec<(String, u64)> {
        self.procs.rss()
    }

    /// Each process's id, named as in [`Target::rss`].
    pub fn pids(&self) -> Vec<(String, u32)> {
        self.procs.pids()
    }

    /// Restarts the suite with an empty score cache: a new key prefix on
    /// Redis, a new process for the in-process cache.
    pub async fn restart_cold(&mut self) -> anyhow::Result<()> {
        self.procs.stop().await?;
        self.cache_prefix = format!("bench{}", Uuid::new_v4().simple());
        self.restarts += 1;
        self.addrs = split::free_addrs::<4>()?;
        self.launch().await
    }

    /// Restarts the suite as [`Target::restart_cold`] does, with `extra`
    /// added to its environment (in place of what an earlier call added).
    pub async fn restart_with(&mut self, extra: Vec<(String, String)>) -> anyhow::Result<()> {
        self.extra_env = extra;
        self.restart_cold().await
    }

    /// Stops the suite and removes what the run created (unless `keep`).
    pub async fn finish(mut self, keep: bool) -> anyhow::Result<()> {
        self.procs.stop().await?;
        if keep {
            return Ok(());
        }
        self.store.remove().await
    }
}
