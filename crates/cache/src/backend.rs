//! What each cache backend provides; the public [`VersionedCache`] methods
//! are written once over it, so the two put flavours differ only in their
//! [`Overwrite`] rule.

use std::{future::Future, time::Duration};

use crate::{
    CacheError, VersionedCache,
    version::{Overwrite, Write},
};

/// A cache backend: the operations of [`VersionedCache`], with one write
/// that takes its versioning rule as an argument.
pub trait Backend: Send + Sync + 'static {
    /// The value under `key`, if any.
    fn fetch(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, CacheError>> + Send;

    /// The values of `keys`, in the same order.
    fn fetch_many(
        &self,
        keys: &[String],
    ) -> impl Future<Output = Result<Vec<Option<Vec<u8>>>, CacheError>> + Send;

    /// Stores the write unless its rule refuses it; whether it stored.
    fn store(&self, write: Write<'_>) -> impl Future<Output = Result<bool, CacheError>> + Send;

    /// Forgets `key`.
    fn forget(&self, key: &str) -> impl Future<Output = Result<(), CacheError>> + Send;
}

#[async_trait::async_trait]
impl<B: Backend> VersionedCache for B {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        self.fetch(key).await
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        self.fetch_many(keys).await
    }

    async fn put_if_newer(
        &self,
        key: &str,
        version: u64,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        let write = Overwrite::Older.write(key, version, value, ttl);
        self.store(write).await
    }

    async fn put_unless_newer(
        &self,
        key: &str,
        version: u64,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        let write = Overwrite::OlderOrSame.write(key, version, value, ttl);
        self.store(write).await
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.forget(key).await
    }
}
