//! The run's own store: a fresh SQLite directory, or a fresh Postgres
//! database created beside the admin database the user names, removed again
//! when the run is over.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rapport_kit::{
    Db,
    config::{Config, Secret},
    tenants::{self, TenantStore},
};
use sqlx::Connection;
use uuid::Uuid;

use super::options::StoreKind;

/// Where the run's data lives.
pub struct RunStore {
    data_dir: PathBuf,
    admin_url: String,
    /// The run's Postgres database, when on Postgres: its URL and name.
    database: Option<(String, String)>,
}

impl RunStore {
    /// Makes the store of `kind` for a run in `run_dir`.
    pub async fn create(kind: StoreKind, run_dir: &Path, admin_url: &str) -> anyhow::Result<Self> {
        let database = match kind {
            StoreKind::Embedded => None,
            StoreKind::Postgres => {
                let name = format!("rapport_bench_{}", Uuid::new_v4().simple());
                let url = create_database(admin_url, &name).await?;
                Some((url, name))
            }
        };
        Ok(RunStore {
            data_dir: run_dir.join("data"),
            admin_url: admin_url.to_owned(),
            database,
        })
    }

    /// Configuration pointing at the store, for this process's own
    /// connections (the tenant, the baselines).
    pub fn config(&self) -> Config {
        let mut config = Config {
            data_dir: self.data_dir.clone(),
            ..Config::default()
        };
        if let Some(url) = self.database_url() {
            config.database_url = Some(Secret::new(url.to_owned()));
        }
        config
    }

    /// The directory of the SQLite files.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The run's Postgres database, when on Postgres.
    pub fn database_url(&self) -> Option<&str> {
        self.database.as_ref().map(|(url, _)| url.as_str())
    }

    /// A pool on `schema`, as the services open theirs.
    pub fn db(&self, schema: &'static str) -> anyhow::Result<Db> {
        Ok(Db::connect_lazy(&self.config(), schema)?)
    }

    /// Creates the run's tenant; returns its id and API key.
    pub async fn create_tenant(&self) -> anyhow::Result<(Uuid, String)> {
        let db = Db::connect_lazy(&self.config(), tenants::SCHEMA)?;
        db.migrate(tenants::SCHEMA, &tenants::MIGRATIONS).await?;
        let (tenant, key) = TenantStore::new(db.clone())
            .create("bench", "EUR")
            .await
            .map_err(|e| anyhow::anyhow!("creating the bench tenant: {e}"))?;
        db.close().await;
        Ok((tenant.id, key))
    }

    /// Drops the run's database and removes its files.
    pub async fn remove(&self) -> anyhow::Result<()> {
        if let Some((_, name)) = &self.database {
            drop_database(&self.admin_url, name).await?;
        }
        // The run's cache keys are left to expire (scores live ten minutes).
        let _ = std::fs::remove_dir_all(&self.data_dir);
        Ok(())
    }
}

fn base_of(admin: &str) -> &str {
    admin.rsplit_once('/').map_or(admin, |(b, _)| b)
}

async fn create_database(admin: &str, name: &str) -> anyhow::Result<String> {
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
    let mut conn = sqlx::PgConnection::connect(admin).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}
