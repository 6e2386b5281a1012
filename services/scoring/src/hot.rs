//! The hot-score cache: key layout, encoding, and writes that never fail a
//! call (the database is the record; the cache only saves reads).
//!
//! A score committed while the cache was unreachable would leave the older
//! cached version in place once the cache answers again (a partition loses
//! no entries, unlike a restart). So publishes that fail are remembered and
//! retried when the cache next answers; versions make a late retry harmless.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use prost::Message;
use rapport_cache::{CacheError, VersionedCache};
use rapport_proto::v1::Score;
use uuid::Uuid;

/// How long a cached score lives without being refreshed.
pub const TTL: Duration = Duration::from_secs(600);
/// Most failed publishes remembered; beyond it the oldest cached versions
/// may be served until their TTL ends.
const MAX_UNSENT: usize = 50_000;

/// Scores in the versioned cache.
pub struct HotScores {
    cache: Arc<dyn VersionedCache>,
    prefix: Arc<str>,
    /// key -> (version, encoded score) of publishes that failed.
    unsent: Mutex<HashMap<String, (u64, Vec<u8>)>>,
    pending: AtomicUsize,
    flushing: AtomicBool,
}

impl HotScores {
    /// Scores in `cache` under keys starting with `prefix`.
    pub fn new(cache: Arc<dyn VersionedCache>, prefix: &str) -> Arc<HotScores> {
        Arc::new(HotScores {
            cache,
            prefix: prefix.into(),
            unsent: Mutex::default(),
            pending: AtomicUsize::new(0),
            flushing: AtomicBool::new(false),
        })
    }

    /// `{prefix}:{{tenant}}:score:{customer}`. The braces are a Redis Cluster
    /// hash tag: all of a tenant's keys live in one slot.
    pub fn key(&self, tenant: Uuid, customer: Uuid) -> String {
        key(&self.prefix, tenant, customer)
    }

    /// A cached score (its time-independent part), if any.
    pub async fn get(
        self: &Arc<Self>,
        tenant: Uuid,
        customer: Uuid,
    ) -> Result<Option<Score>, CacheError> {
        let bytes = self.cache.get(&self.key(tenant, customer)).await?;
        self.answered();
        Ok(bytes.and_then(|b| decode(&b)))
    }

    /// Cached scores of `ids`, in order.
    pub async fn get_many(
        self: &Arc<Self>,
        tenant: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<Option<Score>>, CacheError> {
        let keys: Vec<String> = ids.iter().map(|id| self.key(tenant, *id)).collect();
        let values = self.cache.get_many(&keys).await?;
        self.answered();
        if values.len() != ids.len() {
            return Err(CacheError::Backend(format!(
                "{} values for {} keys",
                values.len(),
                ids.len()
            )));
        }
        Ok(values
            .into_iter()
            .map(|v| v.and_then(|b| decode(&b)))
            .collect())
    }

    /// Keeps scores whose read-time measures a reader has just computed
    /// (after a miss, or for a new day or tenant state): each replaces the
    /// cached copy of its own version, never a newer one. A failure is only
    /// logged: the next reader computes them again.
    pub async fn keep_enriched(&self, tenant: Uuid, scores: &[Score]) {
        let puts =
            self.entries(tenant, scores)
                .into_iter()
                .map(|(key, version, bytes)| async move {
                    self.cache
                        .put_unless_newer(&key, version, &bytes, TTL)
                        .await
                        .is_err()
                });
        let failed = futures::future::join_all(puts)
            .await
            .into_iter()
            .filter(|f| *f)
            .count();
        if failed > 0 {
            tracing::debug!(failed, "enriched scores not kept in the cache");
        }
    }

    /// Publishes scores just committed; failures are remembered and retried
    /// when the cache answers again.
    pub async fn publish(&self, tenant: Uuid, scores: &[Score]) {
        let mut entries = self.entries(tenant, scores);
        if self.pending.load(Ordering::Relaxed) > 0 && !self.flushing.swap(true, Ordering::AcqRel) {
            entries.extend(self.take_unsent());
            self.flushing.store(false, Ordering::Release);
        }
        let failed = self.put_all(entries).await;
        if !failed.is_empty() {
            tracing::warn!(
                failed = failed.len(),
                "score cache publish failed; retried when the cache answers"
            );
            self.remember(failed);
        }
    }

    /// Called after the cache answered: retries remembered publishes in the
    /// background, one flush at a time.
    fn answered(self: &Arc<Self>) {
        if self.pending.load(Ordering::Relaxed) == 0 || self.flushing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let failed = this.put_all(this.take_unsent()).await;
            this.remember(failed);
            this.flushing.store(false, Ordering::Release);
        });
    }

    fn entries(&self, tenant: Uuid, scores: &[Score]) -> Vec<(String, u64, Vec<u8>)> {
        scores
            .iter()
            .filter_map(|s| {
                let customer = Uuid::parse_str(&s.customer_id).ok()?;
                Some((self.key(tenant, customer), s.version, s.encode_to_vec()))
            })
            .collect()
    }

    /// Writes every entry; returns those that failed.
    async fn put_all(&self, entries: Vec<(String, u64, Vec<u8>)>) -> Vec<(String, u64, Vec<u8>)> {
        let puts = entries.into_iter().map(|(key, version, bytes)| async move {
            match self.cache.put_if_newer(&key, version, &bytes, TTL).await {
                Ok(_) => None,
                Err(_) => Some((key, version, bytes)),
            }
        });
        futures::future::join_all(puts)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, Vec<u8>)>> {
        self.unsent.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take_unsent(&self) -> Vec<(String, u64, Vec<u8>)> {
        let taken = std::mem::take(&mut *self.lock());
        self.pending.store(0, Ordering::Relaxed);
        taken.into_iter().map(|(k, (v, b))| (k, v, b)).collect()
    }

    fn remember(&self, failed: Vec<(String, u64, Vec<u8>)>) {
        if failed.is_empty() {
            return;
        }
        let mut unsent = self.lock();
        let mut dropped = 0usize;
        for (key, version, bytes) in failed {
            match unsent.get(&key) {
                Some((v, _)) if *v >= version => {}
                Some(_) => {
                    unsent.insert(key, (version, bytes));
                }
                None if unsent.len() < MAX_UNSENT => {
                    unsent.insert(key, (version, bytes));
                }
                None => dropped += 1,
            }
        }
        self.pending.store(unsent.len(), Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(
                dropped,
                "too many unsent score publishes; older cached scores may be served until they expire"
            );
        }
    }
}

/// The cache key of a customer's score.
pub fn key(prefix: &str, tenant: Uuid, customer: Uuid) -> String {
    format!("{prefix}:{{{tenant}}}:score:{customer}")
}

/// Decodes a cached score; `None` (a miss) for bytes that do not decode.
fn decode(bytes: &[u8]) -> Option<Score> {
    match Score::decode(bytes) {
        Ok(score) => Some(score),
        Err(e) => {
            tracing::warn!(error = %e, "undecodable cached score; reading the database");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use rapport_cache::MemoryCache;

    use super::*;

    /// A memory cache that can be made unreachable.
    struct Flaky {
        inner: MemoryCache,
        down: AtomicBool,
    }

    impl Flaky {
        fn check(&self) -> Result<(), CacheError> {
            match self.down.load(Ordering::Relaxed) {
                true => Err(CacheError::Unavailable("down".into())),
                false => Ok(()),
            }
        }
    }

    #[async_trait::async_trait]
    impl VersionedCache for Flaky {
        async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
            self.check()?;
            self.inner.get(key).await
        }
        async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
            self.check()?;
            self.inner.get_many(keys).await
        }
        async fn put_if_newer(
            &self,
            key: &str,
            version: u64,
            value: &[u8],
            ttl: Duration,
        ) -> Result<bool, CacheError> {
            self.check()?;
            self.inner.put_if_newer(key, version, value, ttl).await
        }
        async fn put_unless_newer(
            &self,
            key: &str,
            version: u64,
            value: &[u8],
            ttl: Duration,
        ) -> Result<bool, CacheError> {
            self.check()?;
            self.inner.put_unless_newer(key, version, value, ttl).await
        }
        async fn delete(&self, key: &str) -> Result<(), CacheError> {
            self.check()?;
            self.inner.delete(key).await
        }
    }

    fn score(customer: Uuid, version: u64) -> Score {
        Score {
            customer_id: customer.to_string(),
            version,
            ..Score::default()
        }
    }

    #[tokio::test]
    async fn publishes_missed_while_down_land_once_the_cache_answers() {
        let flaky = Arc::new(Flaky {
            inner: MemoryCache::new(100),
            down: AtomicBool::new(false),
        });
        let hot = HotScores::new(flaky.clone(), "p");
        let (tenant, a, b) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        hot.publish(tenant, &[score(a, 1)]).await;
        flaky.down.store(true, Ordering::Relaxed);
        hot.publish(tenant, &[score(a, 2)]).await;
        hot.publish(tenant, &[score(a, 3), score(b, 1)]).await;
        assert_eq!(hot.pending.load(Ordering::Relaxed), 2);

        // Back up: the stale version 1 is still cached until the next publish.
        flaky.down.store(false, Ordering::Relaxed);
        let stale = flaky.inner.get(&hot.key(tenant, a)).await.unwrap().unwrap();
        assert_eq!(Score::decode(stale.as_slice()).unwrap().version, 1);
        hot.publish(tenant, &[]).await;
        assert_eq!(hot.get(tenant, a).await.unwrap().unwrap().version, 3);
        assert_eq!(hot.get(tenant, b).await.unwrap().unwrap().version, 1);
        assert_eq!(hot.pending.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn a_read_that_reaches_the_cache_flushes_in_the_background() {
        let flaky = Arc::new(Flaky {
            inner: MemoryCache::new(100),
            down: AtomicBool::new(true),
        });
        let hot = HotScores::new(flaky.clone(), "p");
        let (tenant, a) = (Uuid::new_v4(), Uuid::new_v4());
        hot.publish(tenant, &[score(a, 5)]).await;
        flaky.down.store(false, Ordering::Relaxed);
        assert!(hot.get(tenant, a).await.unwrap().is_none());
        for _ in 0..100 {
            if let Some(s) = hot.get(tenant, a).await.unwrap() {
                assert_eq!(s.version, 5);
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("remembered publish never landed");
    }

    #[test]
    fn keys_are_hash_tagged_by_tenant() {
        let (t, c) = (Uuid::nil(), Uuid::max());
        assert_eq!(
            key("rapport", t, c),
            "rapport:{00000000-0000-0000-0000-000000000000}:score:ffffffff-ffff-ffff-ffff-ffffffffffff"
        );
    }
}
