//! The suite under test: started by the benchmark itself as separate
//! processes (`rapport up`, or the four service binaries), on a store made
//! for the run (a fresh SQLite directory, or a fresh Postgres database and
//! Redis key prefix), with one tenant. The load generator runs in this
//! process, so the suite's figures never include the generator's work.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use anyhow::Context;
use rapport_kit::{
    Db,
    config::{Config, Secret},
    tenants::{self, TenantStore},
};
use serde::Serialize;
use tokio::process::{Child, Command};
use uuid::Uuid;

use crate::split::{self, Split, SplitOptions};

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
}

enum Procs {
    One(Child),
    Split(Split),
    Stopped,
}

/// The running suite and how to reach it.
pub struct Target {
    spec: TargetSpec,
    procs: Procs,
    /// Scoring's address (and every other service's in one process).
    addrs: [std::net::SocketAddr; 4],
    /// The run's Postgres database, when on Postgres.
    database_url: Option<String>,
    db_name: Option<String>,
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
}

impl Target {
    /// Makes the store and the tenant, then starts the suite and waits until
    /// it serves.
    pub async fn start(spec: TargetSpec) -> anyhow::Result<Target> {
        std::fs::create_dir_all(&spec.run_dir)
            .with_context(|| format!("creating {}", spec.run_dir.display()))?;
        let (database_url, db_name) = match spec.store {
            StoreKind::Embedded => (None, None),
            StoreKind::Postgres => {
                let name = format!("rapport_bench_{}", Uuid::new_v4().simple());
                let url = create_database(&spec.postgres_admin_url, &name).await?;
                (Some(url), Some(name))
            }
        };
        let internal_token = format!("bench_{}", Uuid::new_v4().simple());
        let mut target = Target {
            addrs: split::free_addrs::<4>()?,
            procs: Procs::Stopped,
            database_url,
            db_name,
            cache_prefix: format!("bench{}", Uuid::new_v4().simple()),
            internal_token,
            api_key: String::new(),
            tenant_id: Uuid::nil(),
            spec,
            restarts: 0,
        };
        let (tenant, key) = target.create_tenant().await?;
        target.tenant_id = tenant;
        target.api_key = key;
        target.launch().await?;
        Ok(target)
    }

    /// Configuration pointing at the run's store, for this process's own
    /// connections (the tenant, the baselines).
    pub fn config(&self) -> Config {
        let mut config = Config {
            data_dir: self.spec.run_dir.join("data"),
            ..Config::default()
        };
        if let Some(url) = &self.database_url {
            config.database_url = Some(Secret::new(url.clone()));
        }
        config
    }

    async fn create_tenant(&self) -> anyhow::Result<(Uuid, String)> {
        let db = Db::connect_lazy(&self.config(), tenants::SCHEMA)?;
        db.migrate(tenants::SCHEMA, &tenants::MIGRATIONS).await?;
        let (tenant, key) = TenantStore::new(db.clone())
            .create("bench", "EUR")
            .await
            .map_err(|e| anyhow::anyhow!("creating the bench tenant: {e}"))?;
        db.close().await;
        Ok((tenant.id, key))
    }

    /// A pool on `schema` of the run's store, as the services open theirs.
    pub fn db(&self, schema: &'static str) -> anyhow::Result<Db> {
        Ok(Db::connect_lazy(&self.config(), schema)?)
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
                self.spec.run_dir.join("data").display().to_string(),
            ),
            ("RAPPORT_CACHE_PREFIX".to_owned(), self.cache_prefix.clone()),
            ("RAPPORT_LOG_FORMAT".to_owned(), "json".to_owned()),
            (
                "RUST_LOG".to_owned(),
                std::env::var("RAPPORT_BENCH_LOG").unwrap_or_else(|_| "warn".to_owned()),
            ),
        ];
        if let Some(url) = &self.database_url {
            env.push(("DATABASE_URL".to_owned(), url.clone()));
            env.push(("REDIS_URL".to_owned(), self.spec.redis_url.clone()));
        }
        env
    }

    async fn launch(&mut self) -> anyhow::Result<()> {
        let logs = self.spec.run_dir.join(format!("logs-{}", self.restarts));
        std::fs::create_dir_all(&logs)?;
        match self.spec.topology {
            Topology::One => {
                let log = std::fs::File::create(logs.join("rapport.log"))?;
                let mut cmd = Command::new(&self.spec.rapport_bin);
                for var in ["DATABASE_URL", "REDIS_URL", "RAPPORT_CONFIG"] {
                    cmd.env_remove(var);
                }
                cmd.arg("up")
                    .arg("--listen")
                    .arg(self.addrs[2].to_string())
                    .envs(self.env())
                    .env("RAPPORT_INTERNAL_TOKEN", &self.internal_token)
                    .stdin(Stdio::null())
                    .stdout(log.try_clone()?)
                    .stderr(log)
                    .kill_on_drop(true);
                let child = cmd
                    .spawn()
                    .with_context(|| format!("starting {}", self.spec.rapport_bin.display()))?;
                self.procs = Procs::One(child);
                let url = self.scoring_url();
                let ready = crate::client::wait_serving(&url, Duration::from_secs(120));
                if let Err(e) = ready.await {
                    let _ = self.stop_procs().await;
                    return Err(e).context(format!("see {}", logs.display()));
                }
            }
            Topology::Split => {
                let opts = SplitOptions {
                    rapport_bin: self.spec.rapport_bin.clone(),
                    addrs: self.addrs,
                    env: self.env(),
                    internal_token: self.internal_token.clone(),
                    log_dir: Some(logs.clone()),
                };
                let mut s = Split::start(&opts).await?;
                if let Err(e) = s.wait_ready(Duration::from_secs(120)).await {
                    s.stop(Duration::from_secs(10)).await;
                    return Err(e).context(format!("see {}", logs.display()));
                }
                self.procs = Procs::Split(s);
            }
        }
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
        let read = |pid: Option<u32>| pid.and_then(rss_of);
        match &self.procs {
            Procs::One(child) => read(child.id())
                .map(|b| vec![("rapport".to_owned(), b)])
                .unwrap_or_default(),
            Procs::Split(s) => s
                .services
                .iter()
                .filter_map(|p| read(p.pid()).map(|b| (p.name.to_owned(), b)))
                .collect(),
            Procs::Stopped => Vec::new(),
        }
    }

    /// Restarts the suite with an empty score cache: a new key prefix on
    /// Redis, a new process for the in-process cache.
    pub async fn restart_cold(&mut self) -> anyhow::Result<()> {
        self.stop_procs().await?;
        self.cache_prefix = format!("bench{}", Uuid::new_v4().simple());
        self.restarts += 1;
        self.addrs = split::free_addrs::<4>()?;
        self.launch().await
    }

    async fn stop_procs(&mut self) -> anyhow::Result<()> {
        match std::mem::replace(&mut self.procs, Procs::Stopped) {
            Procs::One(mut child) => {
                if let Some(pid) = child.id() {
                    split::terminate(pid);
                }
                if tokio::time::timeout(Duration::from_secs(30), child.wait())
                    .await
                    .is_err()
                {
                    child.kill().await?;
                }
            }
            Procs::Split(mut s) => s.stop(Duration::from_secs(30)).await,
            Procs::Stopped => {}
        }
        Ok(())
    }

    /// Stops the suite and removes what the run created (unless `keep`).
    pub async fn finish(mut self, keep: bool) -> anyhow::Result<()> {
        self.stop_procs().await?;
        if keep {
            return Ok(());
        }
        if let Some(name) = &self.db_name {
            drop_database(&self.spec.postgres_admin_url, name).await?;
        }
        // The run's cache keys are left to expire (scores live ten minutes).
        let _ = std::fs::remove_dir_all(self.spec.run_dir.join("data"));
        Ok(())
    }
}

/// VmRSS of a process, in bytes (Linux).
pub fn rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn base_of(admin: &str) -> &str {
    admin.rsplit_once('/').map_or(admin, |(b, _)| b)
}

async fn create_database(admin: &str, name: &str) -> anyhow::Result<String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .with_context(|| format!("connecting to {admin} to create the bench database"))?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(format!("{}/{name}", base_of(admin)))
}

async fn drop_database(admin: &str, name: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// The default directory of a run: `target/bench/<unix time>` under the
/// current directory.
pub fn default_run_dir(root: &Path) -> PathBuf {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    root.join(format!("run-{now}"))
}
