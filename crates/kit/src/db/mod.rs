//! Storage connections. Each service owns one schema: a Postgres schema
//! (selected through `search_path`, so SQL is written unqualified) in the
//! production shape, or its own SQLite file in the embedded default.
//! Repositories run one SQL body on either pool ([`on_pool!`](crate::on_pool),
//! [`in_tx!`](crate::in_tx)) with values from [`codec`] that bind natively on
//! each.

pub mod codec;
mod conn;
pub mod customer_data;
pub mod ddl;
mod macros;
pub mod pgbouncer;

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

use crate::config::{Config, SCHEMA_SLOT};

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
    /// Connections land in another schema than the service's: behind a
    /// pooler, its database for the service does not set `search_path`.
    #[error(
        "database: connections for schema {expected} land in schema \"{found}\"; behind a \
         transaction-mode pooler, the pooler database that database_url's {{schema}} names \
         must set search_path to {expected} (PgBouncer: connect_query)"
    )]
    WrongSchema {
        /// The service schema.
        expected: &'static str,
        /// `current_schema()` on the connection.
        found: String,
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

    /// A pool straight to the primary for `LISTEN`, which a transaction-mode
    /// pooler cannot carry: `primary` itself when `database_url` reaches
    /// Postgres directly, the `database_direct_url` pool behind a pooler,
    /// and `None` behind a pooler without one (callers then poll) or on SQLite.
    pub fn listen_pool(
        config: &Config,
        schema: &'static str,
        primary: &Db,
    ) -> Result<Option<PgPool>, DbError> {
        let Db::Postgres(pool) = primary else {
            return Ok(None);
        };
        if primary.can_listen() {
            return Ok(Some(pool.clone()));
        }
        match &config.database_direct_url {
            Some(url) => match Db::connect_url(config, Some(url), schema)? {
                Db::Postgres(direct) => Ok(Some(direct)),
                Db::Sqlite(_) => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// Whether `LISTEN` may be sent on this pool: a Postgres pool that
    /// reaches Postgres itself (its schema is chosen at startup). Behind a
    /// transaction-mode pooler a `LISTEN` would stay on a server connection
    /// that other clients then use, and their next statement would meet the
    /// notifications meant for it.
    pub fn can_listen(&self) -> bool {
        match self {
            Db::Postgres(pool) => pool.connect_options().get_options().is_some(),
            Db::Sqlite(_) => false,
        }
    }

    fn connect_url(
        config: &Config,
        url: Option<&crate::config::Secret>,
        schema: &'static str,
    ) -> Result<Db, DbError> {
        let acquire = Duration::from_secs(5);
        match url.map(|s| s.expose().to_owned()) {
            Some(url) if url.starts_with("postgres") => {
                let pooled = url.contains(SCHEMA_SLOT);
                let opts = PgConnectOptions::from_str(&url.replace(SCHEMA_SLOT, schema))
                    .map_err(|e| DbError::Url(e.to_string()))?
                    .application_name(&format!("rapport-{schema}"));
                // Behind a transaction-mode pooler the pooler's database picks
                // the schema, and startup parameters it does not track are
                // refused; migrations check that the schema is the right one.
                let opts = if pooled {
                    opts.extra_float_digits(None)
                } else {
                    opts.options([("search_path", schema)])
                };
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
    /// run from many replicas at once, and through a transaction-mode pooler:
    /// on Postgres everything happens in one transaction holding a
    /// transaction-level advisory lock (a session lock could be taken on one
    /// server connection and released on another behind a pooler), each
    /// migration in a savepoint, so a failed one leaves nothing behind.
    pub async fn migrate(
        &self,
        schema: &'static str,
        migrations: &Migrations,
    ) -> Result<(), DbError> {
        let to_migrator = |files: &'static [MigrationFile], locking: bool| Migrator {
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
            locking,
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
                let current: Option<String> = sqlx::query_scalar("SELECT current_schema()")
                    .fetch_one(&mut *tx)
                    .await?;
                if current.as_deref() != Some(schema) {
                    return Err(DbError::WrongSchema {
                        expected: schema,
                        found: current.unwrap_or_default(),
                    });
                }
                to_migrator(migrations.postgres, false)
                    .run_direct(&mut *tx)
                    .await
                    .map_err(wrap)?;
                tx.commit().await?;
                Ok(())
            }
            Db::Sqlite(pool) => to_migrator(migrations.sqlite, true)
                .run(pool)
                .await
                .map_err(wrap),
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
