//! The in-process cache of the embedded default: a map bounded by an entry
//! cap, evicting the least recently written entry first, with TTLs honoured
//! on read.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::Duration,
};

use tokio::time::Instant;

use crate::{CacheError, VersionedCache};

/// A bounded in-process [`VersionedCache`].
#[derive(Debug)]
pub struct MemoryCache {
    max_entries: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<String, Entry>,
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

impl MemoryCache {
    /// A cache holding at most `max_entries` values (at least one).
    pub fn new(max_entries: usize) -> MemoryCache {
        MemoryCache {
            max_entries: max_entries.max(1),
            inner: Mutex::default(),
        }
    }

    /// Entries held now, expired ones not yet dropped included.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
                inner.map.remove(key);
                None
            }
            None => None,
        }
    }
}

impl Inner {
    fn evict_one(&mut self) {
        while let Some((key, generation)) = self.order.pop_front() {
            if self
                .map
                .get(&key)
                .is_some_and(|e| e.generation == generation)
            {
                self.map.remove(&key);
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
        let now = Instant::now();
        let mut inner = self.lock();
        match inner.map.get(key) {
            Some(e) if e.expires_at > now && e.version >= version => return Ok(false),
            Some(_) => {}
            None => {
                while inner.map.len() >= self.max_entries {
                    inner.evict_one();
                }
            }
        }
        let generation = inner.next_generation;
        inner.next_generation += 1;
        let entry = Entry {
            version,
            value: value.to_vec(),
            expires_at: now + ttl,
            generation,
        };
        inner.map.insert(key.to_owned(), entry);
        inner.order.push_back((key.to_owned(), generation));
        // Rewrites of hot keys leave stale order records; bound them.
        if inner.order.len() > 2 * self.max_entries + 64 {
            inner.compact();
        }
        Ok(true)
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.lock().map.remove(key);
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
    async fn entry_cap_evicts_oldest_write_first() {
        let c = MemoryCache::new(3);
        for (i, k) in ["a", "b", "c"].iter().enumerate() {
            c.put_if_newer(k, i as u64, b"x", MIN).await.unwrap();
        }
        // Rewriting "a" makes "b" the oldest write.
        c.put_if_newer("a", 10, b"y", MIN).await.unwrap();
        c.put_if_newer("d", 1, b"z", MIN).await.unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c.get("b").await.unwrap(), None);
        for k in ["a", "c", "d"] {
            assert!(c.get(k).await.unwrap().is_some(), "{k} evicted");
        }
        // Many rewrites of one key stay bounded.
        for v in 11..1_000 {
            c.put_if_newer("a", v, b"y", MIN).await.unwrap();
        }
        assert!(c.lock().order.len() <= 2 * 3 + 64 + 1);
        assert_eq!(c.len(), 3);
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
