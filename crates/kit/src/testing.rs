//! Helpers for tests: a fresh Postgres database or SQLite directory per test,
//! configuration for either, and a macro running one test against both.

use std::path::PathBuf;

use crate::config::{Config, Secret};

/// Server every test database is created on; `RAPPORT_TEST_PG` overrides.
pub fn admin_url() -> String {
    std::env::var("RAPPORT_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Redis used by tests; `RAPPORT_TEST_REDIS` overrides.
pub fn redis_url() -> String {
    std::env::var("RAPPORT_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// The storage backends every behavioural suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh Postgres database.
    Postgres,
    /// A fresh SQLite directory.
    Sqlite,
}

/// Creates an empty database and returns its URL.
pub async fn fresh_postgres() -> String {
    use sqlx::Connection;
    let admin = admin_url();
    let name = format!("rapport_t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to test postgres");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create database");
    conn.close().await.ok();
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or(admin);
    format!("{base}/{name}")
}

/// A new empty directory under the system temp dir.
pub fn fresh_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rapport-t-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Configuration for a test on `backend`: a fresh database, port 0, an
/// internal token, a unique cache prefix, fast retries.
pub async fn config(backend: Backend) -> Config {
    let mut c = Config::default();
    c.listen = ([127, 0, 0, 1], 0).into();
    match backend {
        Backend::Postgres => c.database_url = Some(Secret::new(fresh_postgres().await)),
        Backend::Sqlite => c.data_dir = fresh_dir(),
    }
    c.cache_prefix = format!("rapport-t-{}", uuid::Uuid::new_v4().simple());
    c.internal_token = Some(Secret::new(format!("internal_{}", uuid::Uuid::new_v4().simple())));
    c.relay.poll_interval_ms = 20;
    c.notify.poll_interval_ms = 20;
    c.notify.base_backoff_ms = 20;
    c.notify.max_backoff_ms = 200;
    c.notify.http_timeout_ms = 2_000;
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
