//! The hot-score cache: key layout, encoding, and writes that never fail a
//! call (the database is the record; the cache only saves reads).
//!
//! A score committed while the cache was unreachable would leave the older
//! cached version in place once the cache answers again (a partition loses
//! no entries, unlike a restart). So publishes that fail are remembered and
//! retried when the cache next answers; versions make a late retry harmless.
//!
//! An entry holds either the stored score as published (a `Score` message)
//! or an [`Envelope`]: the same stored score plus the response a reader
//! computed from it, encoded, and what that response depends on. Readers
//! serve an envelope's response bytes as they are.

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

    /// A cached score, if any.
    pub async fn get(
        self: &Arc<Self>,
        tenant: Uuid,
        customer: Uuid,
    ) -> Result<Option<Cached>, CacheError> {
        let bytes = self.cache.get(&self.key(tenant, customer)).await?;
        self.answered();
        Ok(bytes.and_then(Cached::parse))
    }

    /// Cached scores of `ids`, in order.
    pub async fn get_many(
        self: &Arc<Self>,
        tenant: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<Option<Cached>>, CacheError> {
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
            .map(|v| v.and_then(Cached::parse))
            .collect())
    }

    /// Keeps responses a reader has just computed (after a miss, or for a
    /// new day or tenant state), as envelopes of (customer, version): each
    /// replaces the cached copy of its own version, never a newer one. A
    /// failure is only logged: the next reader computes it again.
    pub async fn keep_enriched(&self, tenant: Uuid, envelopes: Vec<(Uuid, u64, Vec<u8>)>) {
        let puts = envelopes
            .into_iter()
            .map(|(customer, version, bytes)| async move {
                let key = self.key(tenant, customer);
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
            tracing::debug!(failed, "computed scores not kept in the cache");
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

/// A cache entry.
#[derive(Debug)]
pub enum Cached {
    /// The stored score as published.
    Plain(Box<Score>),
    /// The stored score with a response computed from it.
    Enriched(Envelope),
}

/// First byte of an envelope. A protobuf message never starts with it
/// (field number 0 does not exist), so envelopes and plain scores tell
/// themselves apart.
const ENVELOPE: u8 = 0x01;
/// Marker, state, day, last purchase, recency, response length.
const HEADER: usize = 1 + 8 + 8 + 8 + 4 + 4;

/// What a computed response depends on besides the score's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    /// The tenant state's fingerprint.
    pub state: u64,
    /// The UTC day number.
    pub day: i64,
    /// The last purchase (microseconds), to recompute recency from.
    pub last_purchase_micros: Option<i64>,
    /// The recency the response shows.
    pub recency_days: u32,
}

/// A stored score and the response computed from it, in one buffer:
/// header, response bytes (a `Score` as served), stored bytes (a `Score`
/// with its basis).
#[derive(Debug)]
pub struct Envelope(Vec<u8>);

impl Envelope {
    /// The bytes of an envelope.
    pub fn build(tag: Tag, response: &[u8], stored: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + response.len() + stored.len());
        out.push(ENVELOPE);
        out.extend_from_slice(&tag.state.to_le_bytes());
        out.extend_from_slice(&tag.day.to_le_bytes());
        out.extend_from_slice(&tag.last_purchase_micros.unwrap_or(i64::MIN).to_le_bytes());
        out.extend_from_slice(&tag.recency_days.to_le_bytes());
        out.extend_from_slice(&(response.len() as u32).to_le_bytes());
        out.extend_from_slice(response);
        out.extend_from_slice(stored);
        out
    }

    fn parse(bytes: Vec<u8>) -> Option<Envelope> {
        if bytes.len() < HEADER || bytes[0] != ENVELOPE {
            return None;
        }
        let len = u32::from_le_bytes(bytes[29..33].try_into().ok()?) as usize;
        (HEADER + len <= bytes.len()).then_some(Envelope(bytes))
    }

    fn field<const N: usize>(&self, at: usize) -> [u8; N] {
        self.0[at..at + N].try_into().unwrap_or([0; N])
    }

    /// What the response was computed for.
    pub fn tag(&self) -> Tag {
        let last = i64::from_le_bytes(self.field(17));
        Tag {
            state: u64::from_le_bytes(self.field(1)),
            day: i64::from_le_bytes(self.field(9)),
            last_purchase_micros: (last != i64::MIN).then_some(last),
            recency_days: u32::from_le_bytes(self.field(25)),
        }
    }

    fn response_len(&self) -> usize {
        u32::from_le_bytes(self.field(29)) as usize
    }

    /// The response: an encoded `Score` without its basis.
    pub fn response(&self) -> &[u8] {
        &self.0[HEADER..HEADER + self.response_len()]
    }

    /// The stored score, to compute the response again from.
    pub fn stored(&self) -> Option<Score> {
        decode(&self.0[HEADER + self.response_len()..])
    }
}

impl Cached {
    fn parse(bytes: Vec<u8>) -> Option<Cached> {
        if bytes.first() == Some(&ENVELOPE) {
            let parsed = Envelope::parse(bytes).map(Cached::Enriched);
            if parsed.is_none() {
                tracing::warn!("malformed cached score envelope; reading the database");
            }
            return parsed;
        }
        decode(&bytes).map(|s| Cached::Plain(Box::new(s)))
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

    fn plain(c: Option<Cached>) -> Score {
        match c {
            Some(Cached::Plain(s)) => *s,
            other => panic!("expected a plain score, got {other:?}"),
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
        assert_eq!(plain(hot.get(tenant, a).await.unwrap()).version, 3);
        assert_eq!(plain(hot.get(tenant, b).await.unwrap()).version, 1);
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
                assert_eq!(plain(Some(s)).version, 5);
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("remembered publish never landed");
    }

    #[test]
    fn envelopes_keep_their_parts_apart() {
        let tag = Tag {
            state: 0xfeed,
            day: 20_000,
            last_purchase_micros: Some(-5),
            recency_days: 3,
        };
        let stored = score(Uuid::new_v4(), 9).encode_to_vec();
        let bytes = Envelope::build(tag, b"response", &stored);
        let Some(Cached::Enriched(e)) = Cached::parse(bytes.clone()) else {
            panic!("not an envelope");
        };
        assert_eq!(e.tag(), tag);
        assert_eq!(e.response(), b"response");
        assert_eq!(e.stored().unwrap().version, 9);
        let none = Tag {
            last_purchase_micros: None,
            ..tag
        };
        let Some(Cached::Enriched(e)) = Cached::parse(Envelope::build(none, b"", &stored)) else {
            panic!("not an envelope");
        };
        assert_eq!(e.tag().last_purchase_micros, None);
        // A plain score is one, and a cut envelope is a miss.
        assert!(matches!(Cached::parse(stored), Some(Cached::Plain(s)) if s.version == 9));
        assert!(Cached::parse(bytes[..HEADER + 3].to_vec()).is_none());
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
