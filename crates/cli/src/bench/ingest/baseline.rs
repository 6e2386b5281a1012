//! The bulk load ingest is compared with: Postgres `COPY` (see [`super::copy`])
//! or SQLite INSERTs (see [`super::insert`]). Both commit once per batch, so
//! both are durable at the same points as ingest.

use chrono::Utc;
use rapport_kit::Db;
use rapport_proto::v1::Transaction;
use uuid::Uuid;

use super::{copy, flat::Flat, insert};
use crate::bench::target::Target;

/// The bulk load of the run's store.
pub(super) enum Baseline {
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

impl Baseline {
    /// Makes empty tables shaped like ingestion's to load into.
    pub(super) async fn prepare(target: &Target) -> anyhow::Result<Baseline> {
        match target.db(rapport_ingestion::SCHEMA)? {
            Db::Postgres(pool) => {
                copy::prepare(&pool).await?;
                Ok(Baseline::Postgres(pool))
            }
            Db::Sqlite(service) => {
                let path = target.config().data_dir.join("bench_copy.db");
                Ok(Baseline::Sqlite(insert::prepare(service, &path).await?))
            }
        }
    }

    /// What the report calls it.
    pub(super) fn name(&self) -> &'static str {
        match self {
            Baseline::Postgres(_) => "COPY, same tables",
            Baseline::Sqlite(_) => "SQLite bulk INSERT",
        }
    }

    /// Loads `rows` of `tenant` in one transaction.
    pub(super) async fn load(&self, tenant: Uuid, rows: &[Transaction]) -> anyhow::Result<()> {
        let now = Utc::now();
        let rows: Vec<Flat> = rows.iter().map(|t| Flat::of(t, now)).collect();
        match self {
            Baseline::Postgres(pool) => copy::load(pool, tenant, &rows, now).await,
            Baseline::Sqlite(pool) => insert::load(pool, tenant, &rows, now).await,
        }
    }

    /// Closes its pool.
    pub(super) async fn close(self) {
        match self {
            Baseline::Postgres(p) => p.close().await,
            Baseline::Sqlite(p) => p.close().await,
        }
    }
}
