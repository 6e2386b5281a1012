//! The map behind [`MemoryCache`](super::MemoryCache) and its byte budget:
//! entries remember the order they were written in, so eviction drops the
//! oldest write first.

use std::collections::{HashMap, VecDeque};

use tokio::time::Instant;

/// Bookkeeping per entry beyond its key and value (map slot, order record).
const ENTRY_OVERHEAD: usize = 96;

/// The bytes an entry of `key` and a value of `value_len` bytes counts for.
pub(super) fn cost(key: &str, value_len: usize) -> usize {
    2 * key.len() + value_len + ENTRY_OVERHEAD
}

#[derive(Debug, Default)]
pub(super) struct Entries {
    map: HashMap<String, Entry>,
    /// Bytes the entries take, as [`cost`] counts them.
    bytes: usize,
    /// Keys in write order, each tagged with the write's generation. A key
    /// written again leaves a stale record behind, skipped on eviction and
    /// dropped by compaction.
    pub(super) order: VecDeque<(String, u64)>,
    next_generation: u64,
}

#[derive(Debug)]
struct Entry {
    version: u64,
    value: Vec<u8>,
    expires_at: Instant,
    generation: u64,
}

impl Entries {
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    /// The value under `key` unless it expired by `now` (then it is dropped).
    pub(super) fn read(&mut self, key: &str, now: Instant) -> Option<Vec<u8>> {
        match self.map.get(key) {
            Some(e) if e.expires_at > now => Some(e.value.clone()),
            Some(_) => {
                self.remove(key);
                None
            }
            None => None,
        }
    }

    /// The version held under `key`, unless it expired by `now`.
    pub(super) fn live_version(&self, key: &str, now: Instant) -> Option<u64> {
        self.map
            .get(key)
            .filter(|e| e.expires_at > now)
            .map(|e| e.version)
    }

    /// Writes `key`, evicting the oldest writes until it fits `max_bytes`.
    pub(super) fn insert(
        &mut self,
        key: &str,
        version: u64,
        value: &[u8],
        expires_at: Instant,
        max_bytes: usize,
    ) {
        self.remove(key);
        let needed = cost(key, value.len());
        while self.bytes + needed > max_bytes && !self.map.is_empty() {
            self.evict_one();
        }
        let generation = self.next_generation;
        self.next_generation += 1;
        let entry = Entry {
            version,
            value: value.to_vec(),
            expires_at,
            generation,
        };
        self.bytes += needed;
        self.map.insert(key.to_owned(), entry);
        self.order.push_back((key.to_owned(), generation));
        // Rewrites of hot keys leave stale order records; bound them.
        if self.order.len() > 2 * self.map.len() + 64 {
            self.compact();
        }
    }

    pub(super) fn remove(&mut self, key: &str) {
        if let Some(e) = self.map.remove(key) {
            self.bytes = self.bytes.saturating_sub(cost(key, e.value.len()));
        }
    }

    pub(super) fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
        self.bytes = 0;
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
