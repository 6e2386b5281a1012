//! Tenants and their API keys, in the `tenants` schema every service reads.
//! Keys are random, shown once, and stored as SHA-256 hashes.

use chrono::Utc;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    db::{Db, Id, Migrations, Time},
    domain::{self, CurrencyCode},
    error::{ApiError, classify_db_error},
    in_tx, on_pool,
};

/// Schema (Postgres) or file name (SQLite) of the tenant registry.
pub const SCHEMA: &str = "tenants";

/// Migrations of the tenant registry.
pub const MIGRATIONS: Migrations = crate::migrations![(1, "tenants", "0001_tenants.sql")];

/// A tenant: one customer of Rapport, whose data no other tenant can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Stable id, carried in every table key and cache key.
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// The currency the tenant books in.
    pub currency: CurrencyCode,
}

/// Hex SHA-256 of an API key, as stored.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn new_key() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    format!("rpk_{}", hex::encode(bytes))
}

/// The tenant registry.
#[derive(Debug, Clone)]
pub struct TenantStore {
    db: Db,
}

impl TenantStore {
    /// Wraps a pool opened on [`SCHEMA`].
    pub fn new(db: Db) -> Self {
        TenantStore { db }
    }

    /// The pool.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Creates a tenant and its first API key, returned in clear text once.
    pub async fn create(&self, name: &str, currency: &str) -> Result<(Tenant, String), ApiError> {
        let mut errors = crate::FieldErrors::new();
        let name = errors
            .check("name", domain::parse_id(name))
            .map(str::to_owned);
        let currency = errors.check("currency", CurrencyCode::parse(currency));
        errors.into_result()?;
        let tenant = Tenant {
            id: Uuid::new_v4(),
            name: name.unwrap(),
            currency: currency.unwrap(),
        };
        let key = new_key();
        let hash = hash_key(&key);
        let taken = |e: sqlx::Error| match classify_db_error(e, "tenant") {
            ApiError::AlreadyExists { .. } => ApiError::AlreadyExists {
                reason: "TENANT_EXISTS",
                message: format!("tenant {:?} already exists", tenant.name),
            },
            other => other,
        };
        let now = Time(Utc::now());
        let write: Result<(), sqlx::Error> = async {
            in_tx!(&self.db, tx => {
                sqlx::query(
                    "INSERT INTO tenants (id, name, currency_code, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(Id(tenant.id))
                .bind(&tenant.name)
                .bind(tenant.currency.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO api_keys (key_hash, tenant_id, label, created_at) \
                     VALUES ($1, $2, 'initial', $3)",
                )
                .bind(&hash)
                .bind(Id(tenant.id))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            });
            Ok(())
        }
        .await;
        write.map_err(taken)?;
        Ok((tenant, key))
    }

    /// Issues another API key for an existing tenant (key rotation).
    pub async fn issue_key(&self, tenant_name: &str, label: &str) -> Result<String, ApiError> {
        let tenant = self
            .by_name(tenant_name)
            .await?
            .ok_or_else(|| ApiError::NotFound {
                what: "tenant",
                id: tenant_name.to_owned(),
            })?;
        let key = new_key();
        let hash = hash_key(&key);
        let res = on_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO api_keys (key_hash, tenant_id, label, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&hash)
            .bind(Id(tenant.id))
            .bind(label)
            .bind(Time(Utc::now()))
            .execute(pool)
            .await
            .map(|_| ())
        });
        res.map_err(|e| classify_db_error(e, "api key"))?;
        Ok(key)
    }

    /// Revokes a key; later requests with it are refused once caches expire.
    pub async fn revoke_key(&self, key: &str) -> Result<bool, ApiError> {
        let hash = hash_key(key);
        let res = on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE api_keys SET revoked_at = $2 WHERE key_hash = $1 AND revoked_at IS NULL",
            )
            .bind(&hash)
            .bind(Time(Utc::now()))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        });
        Ok(res.map_err(|e| classify_db_error(e, "api key"))? > 0)
    }

    /// The tenant owning an unrevoked key with this hash.
    pub async fn by_key_hash(&self, hash: &str) -> Result<Option<Tenant>, ApiError> {
        const SQL: &str = "SELECT t.id, t.name, t.currency_code FROM api_keys k \
             JOIN tenants t ON t.id = k.tenant_id WHERE k.key_hash = $1 AND k.revoked_at IS NULL";
        self.fetch_one(SQL, hash.to_owned()).await
    }

    /// A tenant by id.
    pub async fn by_id(&self, id: Uuid) -> Result<Option<Tenant>, ApiError> {
        const SQL: &str = "SELECT id, name, currency_code FROM tenants WHERE id = $1";
        self.fetch_one(SQL, Id(id)).await
    }

    /// A tenant by name.
    pub async fn by_name(&self, name: &str) -> Result<Option<Tenant>, ApiError> {
        const SQL: &str = "SELECT id, name, currency_code FROM tenants WHERE name = $1";
        self.fetch_one(SQL, name.to_owned()).await
    }

    async fn fetch_one<A>(&self, sql: &'static str, arg: A) -> Result<Option<Tenant>, ApiError>
    where
        A: for<'q> sqlx::Encode<'q, sqlx::Postgres>
            + sqlx::Type<sqlx::Postgres>
            + for<'q> sqlx::Encode<'q, sqlx::Sqlite>
            + sqlx::Type<sqlx::Sqlite>
            + Send,
    {
        let row: Option<(Id, String, String)> = on_pool!(&self.db, pool => {
            sqlx::query_as(sql).bind(arg).fetch_optional(pool).await
        })
        .map_err(|e| classify_db_error(e, "tenant"))?;
        row.map(|(id, name, cur)| to_tenant(id.0, name, &cur))
            .transpose()
    }
}

fn to_tenant(id: Uuid, name: String, currency: &str) -> Result<Tenant, ApiError> {
    let currency =
        CurrencyCode::parse(currency).map_err(|e| ApiError::Internal(anyhow::anyhow!(e)))?;
    Ok(Tenant { id, name, currency })
}
