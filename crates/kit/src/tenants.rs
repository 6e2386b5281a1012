//! Tenants and their API keys, in the `tenants` schema every service reads.
//! Keys are random, shown once, and stored as SHA-256 hashes; each process
//! caches what the registry answers about them and drops a key from its
//! cache as soon as it hears the key changed (or its tenant was disabled or
//! enabled: a disabled tenant's keys authenticate nothing).

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use chrono::Utc;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    audit::insert_event,
    db::{Db, Id, Migrations, Time},
    domain::CurrencyCode,
    error::{ApiError, classify_db_error},
    in_tx, on_pool,
};

mod admin;
mod cache;
mod keys;
mod watch;

#[cfg(test)]
mod tests;

pub use admin::{ADMIN_ACTOR, TenantRecord, check_name, check_reason};
pub use keys::{ApiKey, IssuedKey, check_label};
pub(crate) use watch::Watch;

use cache::KeyCache;
use keys::{NewKey, announce, insert_key};

/// Schema (Postgres) or file name (SQLite) of the tenant registry.
pub const SCHEMA: &str = "tenants";

/// Migrations of the tenant registry.
pub const MIGRATIONS: Migrations = crate::migrations![
    (1, "tenants", "0001_tenants.sql"),
    (2, "api key ids", "0002_api_key_ids.sql"),
    (3, "audit events", "0003_audit_events.sql"),
    (4, "tenant admin", "0004_tenant_admin.sql"),
    (5, "audit erasure", "0005_audit_erasure.sql"),
];

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

/// The tenant registry and this process's cache of its answers.
#[derive(Clone)]
pub struct TenantStore {
    db: Db,
    /// Where key changes are heard through `LISTEN`; `None`: polled.
    listen_on: Option<sqlx::PgPool>,
    shared: Arc<Shared>,
}

/// What every clone of one store shares.
struct Shared {
    cache: KeyCache,
    /// Lookups of a key in the registry (cache misses), for tests and metrics.
    lookups: AtomicU64,
}

impl std::fmt::Debug for TenantStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantStore")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl TenantStore {
    /// Wraps a pool opened on [`SCHEMA`].
    pub fn new(db: Db) -> Self {
        TenantStore::with_cache_bound(db, cache::MAX_ENTRIES)
    }

    /// A store whose cache holds at most `max_entries` keys of each kind
    /// (known, unknown).
    pub fn with_cache_bound(db: Db, max_entries: usize) -> Self {
        let listen_on = match &db {
            Db::Postgres(pool) if db.can_listen() => Some(pool.clone()),
            _ => None,
        };
        TenantStore {
            db,
            listen_on,
            shared: Arc::new(Shared {
                cache: KeyCache::new(max_entries),
                lookups: AtomicU64::new(0),
            }),
        }
    }

    /// Hears of key changes through `LISTEN` on `pool` (see
    /// [`Db::listen_pool`]), or by polling the registry when `None`.
    pub fn listening_on(mut self, pool: Option<sqlx::PgPool>) -> Self {
        self.listen_on = pool;
        self
    }

    /// Starts dropping keys other processes change from this store's cache;
    /// stops when the returned value is dropped. Needs a Tokio runtime.
    pub(crate) fn watch(&self) -> Watch {
        watch::spawn(self.db.clone(), self.listen_on.clone(), &self.shared)
    }

    /// The pool.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Creates a tenant and its first API key, returned in clear text once.
    pub async fn create(&self, name: &str, currency: &str) -> Result<(Tenant, String), ApiError> {
        self.insert_tenant(name, currency, None).await
    }

    /// Creates a tenant and its first API key for the admin request `rpc`,
    /// recorded in the tenant's audit trail. Idempotent by `request_id`: the
    /// same id again answers the tenant it created, without the key.
    pub async fn create_tenant(
        &self,
        rpc: &str,
        request_id: &str,
        name: &str,
        currency: &str,
    ) -> Result<(TenantRecord, Option<String>), ApiError> {
        if let Some(id) = self.by_request(request_id).await? {
            return Ok((self.record_of(id).await?, None));
        }
        match self
            .insert_tenant(name, currency, Some((rpc, request_id)))
            .await
        {
            Ok((tenant, key)) => Ok((self.record_of(tenant.id).await?, Some(key))),
            // Another request with this id may have made it meanwhile.
            Err(e @ ApiError::AlreadyExists { .. }) => match self.by_request(request_id).await? {
                Some(id) => Ok((self.record_of(id).await?, None)),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Creates a tenant and its first API key; with `admin`, for the admin
    /// request (method, request id) recorded in its audit trail.
    async fn insert_tenant(
        &self,
        name: &str,
        currency: &str,
        admin: Option<(&str, &str)>,
    ) -> Result<(Tenant, String), ApiError> {
        let mut errors = crate::FieldErrors::new();
        let name = errors
            .check("name", admin::check_name(name))
            .map(str::to_owned);
        let currency = errors.check("currency", CurrencyCode::parse(currency));
        errors.into_result()?;
        let tenant = Tenant {
            id: Uuid::new_v4(),
            name: name.unwrap(),
            currency: currency.unwrap(),
        };
        let key = NewKey::new(tenant.id, "initial", None);
        let taken = |e: sqlx::Error| match classify_db_error(e, "tenant") {
            ApiError::AlreadyExists { .. } => ApiError::AlreadyExists {
                reason: "TENANT_EXISTS",
                message: format!("tenant {:?} already exists", tenant.name),
            },
            other => other,
        };
        let now = Time(Utc::now());
        let event = admin.map(|(rpc, _)| {
            let summary = serde_json::json!({
                "created": { "name": tenant.name, "currency_code": tenant.currency.as_str() },
            });
            admin::admin_event(tenant.id, rpc, &summary)
        });
        let db = &self.db;
        let write: Result<(), sqlx::Error> = async {
            in_tx!(db, tx => {
                sqlx::query(
                    "INSERT INTO tenants (id, name, currency_code, created_at, request_id) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(Id(tenant.id))
                .bind(&tenant.name)
                .bind(tenant.currency.as_str())
                .bind(now)
                .bind(admin.map(|(_, request_id)| request_id))
                .execute(&mut *tx)
                .await?;
                insert_key!(&mut *tx, key)?;
                if let Some(event) = &event {
                    insert_event!(&mut *tx, event)?;
                }
                announce!(db, tx, &key.hash);
            });
            Ok(())
        }
        .await;
        write.map_err(taken)?;
        self.shared.cache.forget(&key.hash);
        Ok((tenant, key.secret))
    }

    /// The enabled tenant owning an unrevoked key with this hash, from the
    /// cache when it knows (a key it knows to be unknown included).
    pub async fn tenant_for_key(&self, hash: &str) -> Result<Option<Arc<Tenant>>, ApiError> {
        Ok(self.key_owner(hash).await?.map(|(tenant, _)| tenant))
    }

    /// The enabled tenant owning an unrevoked key with this hash and the
    /// key's id, from the cache when it knows (a key it knows to be unknown
    /// included).
    pub async fn key_owner(&self, hash: &str) -> Result<Option<(Arc<Tenant>, Uuid)>, ApiError> {
        let cache = &self.shared.cache;
        if let Some(answer) = cache.get(hash) {
            return Ok(answer);
        }
        let generation = cache.generation();
        let owner = self
            .owner_by_key_hash(hash)
            .await?
            .map(|(t, id)| (Arc::new(t), id));
        cache.put(generation, hash.to_owned(), owner.clone());
        if owner.is_some() {
            // At most once per cache lifetime per key and process, off the
            // request's path.
            let (store, hash) = (self.clone(), hash.to_owned());
            tokio::spawn(async move {
                if let Err(e) = store.touch_key(&hash).await {
                    tracing::debug!(error = %e, "recording a key's last use failed");
                }
            });
        }
        Ok(owner)
    }

    /// A tenant by id, from the cache when it knows.
    pub async fn tenant_cached(&self, id: Uuid) -> Result<Option<Arc<Tenant>>, ApiError> {
        if let Some(t) = self.shared.cache.tenant(id) {
            return Ok(Some(t));
        }
        let tenant = self.by_id(id).await?.map(Arc::new);
        if let Some(t) = &tenant {
            self.shared.cache.put_tenant(t.clone());
        }
        Ok(tenant)
    }

    /// How many times a key was looked up in the registry (not the cache).
    pub fn key_lookups(&self) -> u64 {
        self.shared.lookups.load(Ordering::Relaxed)
    }

    /// How many unknown keys the cache holds.
    pub fn unknown_keys_cached(&self) -> usize {
        self.shared.cache.unknown_len()
    }

    /// The enabled tenant owning an unrevoked key with this hash, from the
    /// registry.
    pub async fn by_key_hash(&self, hash: &str) -> Result<Option<Tenant>, ApiError> {
        Ok(self.owner_by_key_hash(hash).await?.map(|(t, _)| t))
    }

    /// The enabled tenant owning an unrevoked key with this hash and the
    /// key's id, from the registry.
    async fn owner_by_key_hash(&self, hash: &str) -> Result<Option<(Tenant, Uuid)>, ApiError> {
        self.shared.lookups.fetch_add(1, Ordering::Relaxed);
        const SQL: &str = "SELECT t.id, t.name, t.currency_code, k.id FROM api_keys k \
             JOIN tenants t ON t.id = k.tenant_id \
             WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND t.disabled_at IS NULL";
        let row: Option<(Id, String, String, Id)> = on_pool!(&self.db, pool => {
            sqlx::query_as(SQL).bind(hash).fetch_optional(pool).await
        })
        .map_err(|e| classify_db_error(e, "tenant"))?;
        row.map(|(id, name, cur, key)| Ok((to_tenant(id.0, name, &cur)?, key.0)))
            .transpose()
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
