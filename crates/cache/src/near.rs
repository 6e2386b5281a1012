//! The near cache: recently read entries kept in process in front of Redis, so a hot
//! read costs no round trip, kept correct across replicas by the invalidations every write
//! to Redis announces.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use crate::MemoryCache;

/// How long an invalidation blocks fills of older versions: past the
/// longest a read may take (the calls' timeout).
const TOMBSTONE: Duration = Duration::from_secs(2);
/// Most tombstones before old ones are swept.
const MAX_TOMBSTONES: usize = 50_000;
/// Entries live at most this long even without an invalidation: a bound on
/// the damage of a message lost in a way nobody noticed.
const NEAR_TTL: Duration = Duration::from_secs(60);

/// Entries held in process, and what keeps them honest.
///
/// Pub/sub delivers at most once, so the near cache is only trusted while
/// the subscription is known to be live: when it drops, everything held is
/// forgotten and reads go to Redis until it is back. A read that was in
/// flight while an invalidation arrived must not put back what it read, so
/// invalidations leave a short-lived tombstone with their version, and a
/// fill started before the subscription last changed is discarded.
#[derive(Debug)]
pub(crate) struct Near {
    entries: MemoryCache,
    tombstones: Mutex<HashMap<String, (u64, Instant)>>,
    epoch: AtomicU64,
    live: AtomicBool,
}

impl Near {
    /// A near cache of at most `max_bytes`; untrusted until the
    /// subscription is live.
    pub(crate) fn new(max_bytes: usize) -> Near {
        Near {
            entries: MemoryCache::with_max_bytes(max_bytes),
            tombstones: Mutex::default(),
            epoch: AtomicU64::new(0),
            live: AtomicBool::new(false),
        }
    }

    /// The subscription's epoch, while it is live: what a fill must match.
    pub(crate) fn epoch(&self) -> Option<u64> {
        self.live
            .load(Ordering::Acquire)
            .then(|| self.epoch.load(Ordering::Acquire))
    }

    /// The entry held for `key`, while the near cache is trusted.
    pub(crate) fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.epoch()?;
        self.entries.get_now(key)
    }

    fn tombstones(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, Instant)>> {
        self.tombstones.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `value` (version `version`, read from Redis when the epoch was
    /// `epoch`) unless the subscription changed since or an invalidation of
    /// a newer version arrived in the meantime.
    pub(crate) fn fill(&self, key: &str, version: u64, value: &[u8], epoch: u64) {
        if self.epoch() != Some(epoch) {
            return;
        }
        if let Some((newer, at)) = self.tombstones().get(key)
            && *newer > version
            && at.elapsed() < TOMBSTONE
        {
            return;
        }
        self.entries.put_now(key, version, value, NEAR_TTL);
        // An invalidation may have landed between the checks and the write.
        if let Some((newer, _)) = self.tombstones().get(key)
            && *newer > version
        {
            self.entries.remove_now(key);
        }
    }

    /// Another writer (or this one) stored `version` of `key` in Redis.
    pub(crate) fn invalidate(&self, key: &str, version: u64) {
        {
            let mut t = self.tombstones();
            if t.len() >= MAX_TOMBSTONES {
                t.retain(|_, (_, at)| at.elapsed() < TOMBSTONE);
            }
            let slot = t.entry(key.to_owned()).or_insert((version, Instant::now()));
            *slot = (slot.0.max(version), Instant::now());
        }
        self.entries.remove_now(key);
    }

    /// The subscription dropped: nothing held can be trusted any more.
    pub(crate) fn lost(&self) {
        self.live.store(false, Ordering::Release);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.entries.clear();
    }

    /// The subscription is live again: start from nothing.
    pub(crate) fn resumed(&self) {
        self.entries.clear();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.live.store(true, Ordering::Release);
    }
}

/// The invalidation message of `key` at `version`: `"<version> <key>"`, as
/// the write script publishes it.
pub(crate) fn parse_message(payload: &[u8]) -> Option<(u64, &str)> {
    let text = std::str::from_utf8(payload).ok()?;
    let (version, key) = text.split_once(' ')?;
    Some((version.parse().ok()?, key))
}

#[cfg(test)]
mod tests;
