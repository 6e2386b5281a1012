//! Storage connections. Each service owns one schema: a Postgres schema
//! (selected through `search_path`, so SQL is written unqualified) in the
//! production shape, or its own SQLite file in the embedded default.
//! Repositories run one SQL body on either pool ([`on_pool!`](crate::on_pool),
//! [`in_tx!`](crate::in_tx)) with values from [`codec`] that bind natively on
//! each.

pub mod codec;
mod conn;
pub mod customer_data;
mod macros;

pub use codec::{Id, List, Time};
pub use conn::Conn;

use std::{borrow::Cow, str::FromStr, time::Duration};

use sqlx::{
    migrate::{Migration, MigrationType, Migrator},
    postgres::{PgConnectOptions, PgPool, PgPoolOptions},
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};

use crate::config::Config;

/// A service's connection pool.
#[derive(Debug, Clone)]
pub enum Db {
    /// The production shape.
    Postgres(PgPool),
    /// The embedded default: one SQLite file per service, one connection, so
    /// writes never contend for SQLite's single writer lock.
    Sqlite(SqlitePool),
}

/// One numbered migration.
#[derive(Debug, Clone, Copy)]
pub struct MigrationFile {
    /// Order and identity; never renumbered once released.
    pub version: i64,
    /// Short description.
    pub description: &'static str,
    /// The SQL, usually `include_str!`-ed.
    pub sql: &'static str,
}

/// A service's migrations for both backends.
#[derive(Debug, Clone, Copy)]
pub struct Migrations {
    /// Postgres dialect, run inside the service's schema.
    pub postgres: &'static [MigrationFile],
    /// SQLite dialect.
    pub sqlite: &'static [MigrationFile],
}

/// Why the database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL does not parse.
    #[error("database url: {0}")]
    Url(String),
    /// Connecting or querying failed.
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migrating schema {schema}: {source}")]
    Migrate {
        /// The service schema.
        schema: String,
        /// The cause.
        source: sqlx::migrate::MigrateError,
    },
    /// The data directory could not be created.
    #[error("data directory: {0}")]
    Io(#[from] std::io::Error),
}

impl Db {
    /// Opens (lazily: no connection is made until first use) the pool for
    /// `schema`, per the configuration.
    pub fn connect_lazy(config: &Config, schema: &'static str) -> Result<Db, DbError> {
        Db::connect_url(config, config.database_url.as_ref(), schema)
    }

    /// A pool on the replica at `config.database_read_url`, for reads that
    /// may lag the primary; `None` when none is configured.
    pub fn connect_replica(config: &Config, schema: &'static str) -> Result<Option<Db>, DbError> {
        config
            .database_read_url
            .as_ref()
            .map(|url| Db::connect_url(config, Some(url), schema))
            .transpose()
    }

    fn connect_url(
        config: &Config,
        url: Option<&crate::config::Secret>,
        schema: &'static str,
    ) -> Result<Db, DbError> {
        let acquire = Duration::from_secs(5);
        match url.map(|s| s.expose().to_owned()) {
            Some(url) if url.starts_with("postgres") => {
                let opts = PgConnectOptions::from_str(&url)
                    .map_err(|e| DbError::Url(e.to_string()))?
                    .options([("search_path", schema)])
                    .application_name(&format!("rapport-{schema}"));
                let pool = PgPoolOptions::new()
                    .max_connections(config.db_max_connections)
                    .acquire_timeout(acquire)
                    .connect_lazy_with(opts);
                Ok(Db::Postgres(pool))
            }
            other => {
                let dir = match other.as_deref().and_then(|u| u.strip_prefix("sqlite:")) {
                    Some(dir) => std::path::PathBuf::from(dir.trim_start_matches("//")),
                    None => config.data_dir.clone(),
                };
                std::fs::create_dir_all(&dir)?;
                let opts = SqliteConnectOptions::new()
                    .filename(dir.join(format!("{schema}.db")))
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_lazy_with(opts);
                Ok(Db::Sqlite(pool))
            }
        }
    }

    /// Creates the schema if needed and applies pending migrations. Safe to
    /// run from many replicas at once: Postgres serialises them on an
    /// advisory lock.
    pub async fn migrate(
        &self,
        schema: &'static str,
        migrations: &Migrations,
    ) -> Result<(), DbError> {
        let to_migrator = |files: &'static [MigrationFile]| Migrator {
            migrations: Cow::Owned(
                files
                    .iter()
                    .map(|f| {
                        Migration::new(
                            f.version,
                            Cow::Borrowed(f.description),
                            MigrationType::Simple,
                            Cow::Borrowed(f.sql),
                            false,
                        )
                    })
                    .collect(),
            ),
            ignore_missing: false,
            locking: true,
            no_tx: false,
        };
        let wrap = |source| DbError::Migrate {
            schema: schema.to_owned(),
            source,
        };
        match self {
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(7215327)")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                to_migrator(migrations.postgres)
                    .run(pool)
                    .await
                    .map_err(wrap)
            }
            Db::Sqlite(pool) => to_migrator(migrations.sqlite).run(pool).await.map_err(wrap),
        }
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        match self {
            Db::Postgres(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ()),
            Db::Sqlite(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ()),
        }
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        match self {
            Db::Postgres(p) => p.close().await,
            Db::Sqlite(p) => p.close().await,
        }
    }

    /// "postgres" or "sqlite", for logs.
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Postgres(_) => "postgres",
            Db::Sqlite(_) => "sqlite",
        }
    }
}
