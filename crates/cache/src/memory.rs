//! The in-process cache of the embedded default: a map bounded by the bytes
//! its keys and values take, evicting the least recently written entry
//! first, with TTLs honoured on read.

mod entries;
#[cfg(test)]
mod tests;

use std::{sync::Mutex, time::Duration};

use tokio::time::Instant;

use crate::{
    CacheError, VersionedCache,
    version::{Overwrite, Write},
};
use entries::Entries;

/// A bounded in-process [`VersionedCache`](crate::VersionedCache).
#[derive(Debug)]
pub struct MemoryCache {
    max_bytes: usize,
    inner: Mutex<Entries>,
}

impl MemoryCache {
    /// A cache whose entries take at most `max_bytes` (keys, values and
    /// bookkeeping); one entry larger than that is still kept, alone.
    pub fn with_max_bytes(max_bytes: usize) -> MemoryCache {
        MemoryCache {
            max_bytes,
            inner: Mutex::default(),
        }
    }

    /// A cache for about `entries` values of a typical score's size, for
    /// tests.
    pub fn new(entries: usize) -> MemoryCache {
        MemoryCache::with_max_bytes(entries.max(1) * 4_096)
    }

    /// Bytes the entries take now.
    pub fn bytes(&self) -> usize {
        self.lock().bytes()
    }

    /// Entries held now, expired ones not yet dropped included.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value under `key`, if any (the sync form of `get`).
    pub(crate) fn get_now(&self, key: &str) -> Option<Vec<u8>> {
        self.lock().read(key, Instant::now())
    }

    /// Stores unless something newer is held (the sync form of
    /// `put_unless_newer`).
    pub(crate) fn put_now(&self, key: &str, version: u64, value: &[u8], ttl: Duration) -> bool {
        self.store(Overwrite::OlderOrSame.write(key, version, value, ttl))
    }

    /// Forgets `key`.
    pub(crate) fn remove_now(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Forgets everything.
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock leaves the map consistent (every
        // mutation is a single insert or remove), so poisoning is ignored.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn store(&self, w: Write<'_>) -> bool {
        let now = Instant::now();
        let mut inner = self.lock();
        if inner
            .live_version(w.key, now)
            .is_some_and(|held| w.rule.refused_by(held, w.version))
        {
            return false;
        }
        inner.insert(w.key, w.version, w.value, now + w.ttl, self.max_bytes);
        true
    }
}

#[async_trait::async_trait]
impl VersionedCache for MemoryCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.get_now(key))
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        let now = Instant::now();
        let mut inner = self.lock();
        Ok(keys.iter().map(|k| inner.read(k, now)).collect())
    }

    async fn put(&self, write: Write<'_>) -> Result<bool, CacheError> {
        Ok(self.store(write))
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.remove_now(key);
        Ok(())
    }
}
