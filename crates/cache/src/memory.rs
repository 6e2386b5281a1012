//! The in-process cache of the embedded default: a map bounded by the bytes
//! its keys and values take, evicting the least recently written entry
//! first, with TTLs honoured on read.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::Duration,
};

use tokio::time::Instant;

use crate::{CacheError, VersionedCache};

/// Bookkeeping per entry beyond its key and value (map slot, order record).
const ENTRY_OVERHEAD: usize = 96;

/// A bounded in-process [`VersionedCache`].
#[derive(Debug)]
pub struct MemoryCache {
    max_bytes: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<String, Entry>,
    /// Bytes the entries take, as [`cost`] counts them.
    bytes: usize,
    /// Keys in write order, each tagged with the write's generation. A key
    /// written again leaves a stale record behind, skipped on eviction and
    /// dropped by compaction.
    order: VecDeque<(String, u64)>,
    next_generation: u64,
}

#[derive(Debug)]
struct Entry {
    version: u64,
    value: Vec<u8>,
    expires_at: Instant,
    generation: u64,
}

fn cost(key: &str, value_len: usize) -> usize {
    2 * key.len() + value_len + ENTRY_OVERHEAD
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
        self.lock().bytes
    }

    /// Entries held now, expired ones not yet dropped included.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value under `key`, if any (the sync form of `get`).
    pub(crate) fn get_now(&self, key: &str) -> Option<Vec<u8>> {
        Self::read(&mut self.lock(), key, Instant::now())
    }

    /// Stores unless something newer is held (the sync form of
    /// `put_unless_newer`).
    pub(crate) fn put_now(&self, key: &str, version: u64, value: &[u8], ttl: Duration) -> bool {
        self.put(key, version, value, ttl, true)
    }

    /// Forgets `key`.
    pub(crate) fn remove_now(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Forgets everything.
    pub(crate) fn clear(&self) {
        let mut inner = self.lock();
        inner.map.clear();
        inner.order.clear();
        inner.bytes = 0;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the map consistent (every
        // mutation is a single insert or remove), so poisoning is ignored.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn read(inner: &mut Inner, key: &str, now: Instant) -> Option<Vec<u8>> {
        match inner.map.get(key) {
            Some(e) if e.expires_at > now => Some(e.value.clone()),
            Some(_) => {
                inner.remove(key);
                None
            }
            None => None,
        }
    }

    fn put(
        &self,
        key: &str,
        version: u64,
        value: &[u8],
        ttl: Duration,
        replace_equal: bool,
    ) -> bool {
        let now = Instant::now();
        let mut inner = self.lock();
        if let Some(e) = inner.map.get(key)
            && e.expires_at > now
            && (e.version > version || (e.version == version && !replace_equal))
        {
            return false;
        }
        inner.remove(key);
        let needed = cost(key, value.len());
        while inner.bytes + needed > self.max_bytes && !inner.map.is_empty() {
            inner.evict_one();
        }
        let generation = inner.next_generation;
        inner.next_generation += 1;
        let entry = Entry {
            version,
            value: value.to_vec(),
            expires_at: now + ttl,
            generation,
        };
        inner.bytes += needed;
        inner.map.insert(key.to_owned(), entry);
        inner.order.push_back((key.to_owned(), generation));
        // Rewrites of hot keys leave stale order records; bound them.
        if inner.order.len() > 2 * inner.map.len() + 64 {
            inner.compact();
        }
        true
    }
}

impl Inner {
    fn remove(&mut self, key: &str) {
        if let Some(e) = self.map.remove(key) {
            self.bytes = self.bytes.saturating_sub(cost(key, e.value.len()));
        }
    }

    fn evict_one(&mut self) {
        while let Some((key, generation)) = self.order.pop_front() {
            if self
                .map
                .get(&key)
                .is_some_and(|e| e.generation == generation)
            {
                self.remove(&key);
                return;
            }
        }
    }

    fn compact(&mut self) {
        let map = &self.map;
        self.order
            .retain(|(k, g)| map.get(k).is_some_and(|e| e.generation == *g));
    }
}

#[async_trait::async_trait]
impl VersionedCache for MemoryCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut inner = self.lock();
        Ok(Self::read(&mut inner, key, Instant::now()))
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        let now = Instant::now();
        let mut inner = self.lock();
        Ok(keys
            .iter()
            .map(|k| Self::read(&mut inner, k, now))
            .collect())
    }

    async fn put_if_newer(
        &self,
        key: &str,
        version: u64,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        Ok(self.put(key, version, value, ttl, false))
    }

    async fn put_unless_newer(
        &self,
        key: &str,
        version: u64,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        Ok(self.put(key, version, value, ttl, true))
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.lock().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn older_never_overwrites_newer() {
        let c = MemoryCache::new(10);
        assert!(c.put_if_newer("k", 5, b"five", MIN).await.unwrap());
        assert!(!c.put_if_newer("k", 4, b"four", MIN).await.unwrap());
        assert!(!c.put_if_newer("k", 5, b"again", MIN).await.unwrap());
        assert_eq!(c.get("k").await.unwrap().as_deref(), Some(&b"five"[..]));
        assert!(c.put_if_newer("k", 6, b"six", MIN).await.unwrap());
        assert_eq!(c.get("k").await.unwrap().as_deref(), Some(&b"six"[..]));
    }

    #[tokio::test(start_paused = true)]
    async fn ttl_is_honoured() {
        let c = MemoryCache::new(10);
        c.put_if_newer("k", 9, b"v", Duration::from_secs(10))
            .await
            .unwrap();
        tokio::time::advance(Duration::from_secs(9)).await;
        assert!(c.get("k").await.unwrap().is_some());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(c.get("k").await.unwrap(), None);
        // Once expired, any version may be stored again.
        assert!(c.put_if_newer("k", 1, b"old", MIN).await.unwrap());
    }

    #[tokio::test]
    async fn get_many_keeps_request_order() {
        let c = MemoryCache::new(10);
        c.put_if_newer("a", 1, b"A", MIN).await.unwrap();
        c.put_if_newer("c", 1, b"C", MIN).await.unwrap();
        let keys = ["c", "b", "a", "c"].map(String::from);
        let got = c.get_many(&keys).await.unwrap();
        assert_eq!(
            got,
            vec![
                Some(b"C".to_vec()),
                None,
                Some(b"A".to_vec()),
                Some(b"C".to_vec())
            ]
        );
    }

    #[tokio::test]
    async fn byte_budget_evicts_oldest_write_first() {
        // Room for three entries of one-letter keys and 100-byte values.
        let c = MemoryCache::with_max_bytes(3 * cost("a", 100));
        let v = [7u8; 100];
        for (i, k) in ["a", "b", "c"].iter().enumerate() {
            c.put_if_newer(k, i as u64, &v, MIN).await.unwrap();
        }
        // Rewriting "a" makes "b" the oldest write.
        c.put_if_newer("a", 10, &v, MIN).await.unwrap();
        c.put_if_newer("d", 1, &v, MIN).await.unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c.get("b").await.unwrap(), None);
        for k in ["a", "c", "d"] {
            assert!(c.get(k).await.unwrap().is_some(), "{k} evicted");
        }
        assert!(c.bytes() <= 3 * cost("a", 100));
        // A large value pushes out as many of the oldest as it needs.
        c.put_if_newer("e", 1, &[0u8; 250], MIN).await.unwrap();
        assert_eq!(c.len(), 2);
        assert!(c.get("d").await.unwrap().is_some());
        assert!(c.bytes() <= 3 * cost("a", 100));
        // Many rewrites of one key stay bounded.
        for version in 11..1_000 {
            c.put_if_newer("a", version, b"y", MIN).await.unwrap();
        }
        let held = c.len();
        assert!(c.lock().order.len() <= 2 * held + 64 + 1);
    }

    #[tokio::test]
    async fn the_same_version_is_replaced_only_when_asked() {
        let c = MemoryCache::new(10);
        c.put_if_newer("k", 5, b"bare", MIN).await.unwrap();
        assert!(!c.put_if_newer("k", 5, b"rich", MIN).await.unwrap());
        assert!(c.put_unless_newer("k", 5, b"rich", MIN).await.unwrap());
        assert_eq!(c.get("k").await.unwrap().as_deref(), Some(&b"rich"[..]));
        assert!(!c.put_unless_newer("k", 4, b"older", MIN).await.unwrap());
        assert_eq!(c.get("k").await.unwrap().as_deref(), Some(&b"rich"[..]));
    }

    #[tokio::test]
    async fn delete_forgets() {
        let c = MemoryCache::new(2);
        c.put_if_newer("k", 3, b"v", MIN).await.unwrap();
        c.delete("k").await.unwrap();
        assert_eq!(c.get("k").await.unwrap(), None);
        assert!(c.is_empty());
    }
}
