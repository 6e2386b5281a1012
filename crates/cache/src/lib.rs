//! A versioned hot-value cache. Every value carries a version, and a write
//! only lands when nothing at least as new is cached, so a slow writer holding
//! an old value can never hide a newer one. Redis serves the production shape;
//! [`MemoryCache`] serves the embedded default and tests.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod breaker;
mod memory;
mod near;
mod redis_cache;
mod version;

pub use memory::MemoryCache;
pub use redis_cache::{RedisCache, RedisTls};
pub use version::{Overwrite, Write};

use std::time::Duration;

/// Why a cache call failed. Callers treat every variant as a miss: the cache
/// is never the record.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The cache cannot be reached now (or recently could not, and is not
    /// being tried again yet); retrying later may succeed.
    #[error("cache unavailable: {0}")]
    Unavailable(String),
    /// The cache URL does not parse.
    #[error("cache url: {0}")]
    InvalidUrl(String),
    /// The cache answered with something unexpected.
    #[error("cache: {0}")]
    Backend(String),
}

/// A key-value cache whose values carry versions. A backend provides the
/// reads, one [`VersionedCache::put`] that applies a write's own
/// [`Overwrite`] rule, and the delete; the two put flavours are written once
/// here over it.
#[async_trait::async_trait]
pub trait VersionedCache: Send + Sync + 'static {
    /// The value cached under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;

    /// The values of `keys`, in the same order; `None` where nothing is cached.
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CacheError>;

    /// Stores `write` unless its rule refuses it. Returns whether it stored.
    async fn put(&self, write: Write<'_>) -> Result<bool, CacheError>;

    /// Forgets `key` (erasure, invalidation).
    async fn delete(&self, key: &str) -> Result<(), CacheError>;

    /// Stores `value` only if no value with a version >= `version` is cached.
    /// Returns whether it stored.
    async fn put_if_newer(
        &self,
        key: &str,
        version: u64,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        self.put(Overwrite::Older.write(key, version, value, ttl))
            .await
    }

    /// Stores `value` unless a value with a version > `version` is cached:
    /// like [`VersionedCache::put_if_newer`], but an entry of the same
    /// version is replaced too (a richer copy of the same version: the read
    /// side's computed measures). Returns whether it stored.
    async fn put_unless_newer(
        &self,
        key: &str,
        version: u64,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        self.put(Overwrite::OlderOrSame.write(key, version, value, ttl))
            .await
    }
}
