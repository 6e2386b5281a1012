//! Helpers for tests: a fresh Postgres database or SQLite directory per test,
//! configuration for either, and a macro running one test against both.

pub mod instances;
// The HTTP(S) receiver and the certificate maker need the feature's optional
// dependencies, which the kit's own unit tests (`cfg(test)` alone) do not have.
#[cfg(feature = "testing")]
pub mod pki;
#[cfg(feature = "testing")]
pub mod receiver;
pub mod score_load;
pub mod scrape;
pub mod smtp;
pub mod status;
#[cfg(feature = "testing")]
pub mod tls;

pub use score_load::{Answers, ScoreLoad};
pub use scrape::Scrape;
pub use status::{bad_fields, ok, reason, refused_rows, violations};

#[cfg(feature = "testing")]
pub use receiver::{Received, Receiver};

use std::path::PathBuf;

use crate::config::{Config, Secret};

/// Server every test database is created on; `RAPPORT_TEST_PG` overrides.
pub fn admin_url() -> String {
    std::env::var("RAPPORT_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Redis used by tests; `RAPPORT_TEST_REDIS` overrides.
pub fn redis_url() -> String {
    std::env::var("RAPPORT_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A port on 127.0.0.1 that nothing listened on a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Runs `cmd` to its end and returns its standard output, failing the test
/// with both output streams unless it succeeded.
pub fn run_ok(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().expect("run the command");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The storage backends every behavioural suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh Postgres database.
    Postgres,
    /// A fresh SQLite directory.
    Sqlite,
}

/// Test databases older than this are dropped when a test makes a new one:
/// a test never runs this long, and a full run leaves a few gigabytes.
const STALE_TEST_DB_SECS: u64 = 6 * 3600;

/// Creates an empty database and returns its URL. Its name carries the time
/// it was made, so databases left by earlier runs are dropped here once
/// stale.
pub async fn fresh_postgres() -> String {
    use sqlx::Connection;
    let admin = admin_url();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let name = format!("rapport_t_{now}_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to test postgres");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create database");
    let made: Vec<(String,)> =
        sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'rapport\\_t\\_%'")
            .fetch_all(&mut conn)
            .await
            .unwrap_or_default();
    for (old,) in made {
        let stale = old
            .strip_prefix("rapport_t_")
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(secs, _)| secs.parse::<u64>().ok())
            .is_some_and(|secs| secs + STALE_TEST_DB_SECS < now);
        if stale {
            // Another run may be dropping it too; either way it goes.
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{old}\" WITH (FORCE)"))
                .execute(&mut conn)
                .await;
        }
    }
    conn.close().await.ok();
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_owned())
        .unwrap_or(admin);
    format!("{base}/{name}")
}

/// A new empty directory under the system temp dir.
pub fn fresh_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rapport-t-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Configuration for a test on `backend`: a fresh database, port 0, an
/// internal token, a unique cache prefix, fast retries, and webhooks allowed
/// to reach private addresses (the tests' receivers are on loopback).
pub async fn config(backend: Backend) -> Config {
    let mut c = Config {
        listen: ([127, 0, 0, 1], 0).into(),
        ..Config::default()
    };
    match backend {
        Backend::Postgres => c.database_url = Some(Secret::new(fresh_postgres().await)),
        Backend::Sqlite => c.data_dir = fresh_dir(),
    }
    c.cache_prefix = format!("rapport-t-{}", uuid::Uuid::new_v4().simple());
    c.internal_token = Some(Secret::new(format!(
        "internal_{}",
        uuid::Uuid::new_v4().simple()
    )));
    c.db_max_connections = 4;
    for (key, value) in [
        ("relay.poll_interval_ms", "20"),
        ("notify.poll_interval_ms", "20"),
        ("notify.base_backoff_ms", "20"),
        ("notify.max_backoff_ms", "200"),
        ("notify.http_timeout_ms", "2000"),
    ] {
        c.set(key, value).expect("test setting");
    }
    // The score change feed is off by default (it costs every score write);
    // the suites test it, and one test turns it off again.
    c.set("feed.enabled", "true").expect("test setting");
    // Test receivers listen on 127.0.0.1; tests of the guard turn it off.
    c.set("notify.allow_private_destinations", "true")
        .expect("test setting");
    c
}

/// Runs each named `async fn(Backend)` as two tests, `postgres` and `sqlite`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::testing::Backend::Postgres).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::testing::Backend::Sqlite).await
                }
            }
        )*
    };
}

/// A server started for a test on port 0, ready (health SERVING) on return.
pub struct TestServer {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// Its configuration.
    pub config: Config,
    /// The process parts (tenant registry, credentials).
    pub app: std::sync::Arc<crate::app::App>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl TestServer {
    /// Starts a server with `config`; `build` adds the services (and may
    /// spawn background work tied to `app.shutdown`).
    pub async fn start<F>(config: Config, build: F) -> TestServer
    where
        F: FnOnce(
            &crate::app::App,
            &mut crate::server::Server,
            std::net::SocketAddr,
        ) -> anyhow::Result<()>,
    {
        // Tests log warnings only (RUST_LOG overrides); the first call wins.
        crate::telemetry::init_full(config.log_format, "warn", config.otlp_endpoint.as_deref());
        let app = crate::app::App::new(config.clone(), false).expect("app");
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut server = app.server();
        build(&app, &mut server, addr).expect("build services");
        let shutdown = app.shutdown.clone();
        let task = tokio::spawn(server.serve(listener, shutdown));
        let this = TestServer {
            addr,
            config,
            app: std::sync::Arc::new(app),
            task,
        };
        this.wait_serving().await;
        this
    }

    /// Waits until overall health is SERVING (dependencies migrated and up),
    /// for up to 30 s: a suite's servers start together, and on a loaded
    /// two-core machine one once took more than 10 s.
    pub async fn wait_serving(&self) {
        use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
        let mut client = HealthClient::new(self.channel());
        for _ in 0..1_200 {
            if let Ok(r) = client
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
                && r.into_inner().status == 1
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("server at {} never became SERVING", self.addr);
    }

    /// The `http://addr` URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A channel to the server.
    pub fn channel(&self) -> tonic::transport::Channel {
        crate::internal::lazy_channel(&self.url(), std::time::Duration::from_secs(30))
            .expect("channel")
    }

    /// Creates a tenant booking in `currency`; returns it with its API key.
    pub async fn tenant(&self, name: &str, currency: &str) -> (crate::tenants::Tenant, String) {
        self.app
            .auth
            .tenants()
            .create(name, currency)
            .await
            .expect("create tenant")
    }

    /// Stops the server (as SIGTERM would) and waits for it.
    pub async fn stop(self) {
        self.app.shutdown.trigger();
        let _ = self.task.await;
    }
}
