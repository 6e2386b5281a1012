//! The score cache in front of the database: reads, and writes that never
//! fail a call (the database is the record; the cache only saves reads).
//!
//! A score committed while the cache was unreachable would leave the older
//! cached version in place once the cache answers again (a partition loses
//! no entries, unlike a restart). So publishes that fail are remembered and
//! retried when the cache next answers; versions make a late retry harmless.
//! What is remembered is bounded in bytes: past [`MAX_UNSENT_BYTES`] of
//! encoded scores only the keys are kept, and those entries are deleted
//! instead (a delete is always safe: the next reader computes the score from
//! the database).

mod entry;
#[cfg(test)]
mod tests;

use std::{
    collections::{HashMap, HashSet},
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

pub use entry::{Cached, Envelope, Tag, key};

/// How long a cached score lives without being refreshed.
pub const TTL: Duration = Duration::from_secs(600);
/// Most bytes of encoded scores kept for failed publishes (a score encodes
/// to about a kilobyte); beyond them only keys are kept, to delete.
const MAX_UNSENT_BYTES: usize = 8 << 20;
/// Most keys kept to delete; beyond them older cached versions may be served
/// until their TTL ends.
const MAX_STALE_KEYS: usize = 50_000;

/// One publish: the key, the score's version and its encoding.
type Publish = (String, u64, Vec<u8>);

/// Publishes that failed, to retry when the cache answers.
#[derive(Default)]
struct Unsent {
    /// key -> (version, encoded score), within [`MAX_UNSENT_BYTES`].
    scores: HashMap<String, (u64, Vec<u8>)>,
    /// Bytes of the encoded scores held.
    bytes: usize,
    /// Keys whose newer score was not kept: deleted on the next flush.
    stale: HashSet<String>,
}

impl Unsent {
    fn len(&self) -> usize {
        self.scores.len() + self.stale.len()
    }
}

/// Scores in the versioned cache.
pub struct ScoreCache {
    cache: Arc<dyn VersionedCache>,
    prefix: Arc<str>,
    /// Publishes that failed.
    unsent: Mutex<Unsent>,
    pending: AtomicUsize,
    flushing: AtomicBool,
}

impl ScoreCache {
    /// Scores in `cache` under keys starting with `prefix`.
    pub fn new(cache: Arc<dyn VersionedCache>, prefix: &str) -> Arc<ScoreCache> {
        Arc::new(ScoreCache {
            cache,
            prefix: prefix.into(),
            unsent: Mutex::default(),
            pending: AtomicUsize::new(0),
            flushing: AtomicBool::new(false),
        })
    }

    /// The cache key of a customer's score (see [`entry::key`]).
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
        let mut stale = Vec::new();
        if self.pending.load(Ordering::Relaxed) > 0 && !self.flushing.swap(true, Ordering::AcqRel) {
            let (retried, deletes) = self.take_unsent();
            entries.extend(retried);
            stale = deletes;
            self.flushing.store(false, Ordering::Release);
        }
        let failed = self.put_all(entries).await;
        let failed_deletes = self.delete_all(stale).await;
        if !failed.is_empty() {
            tracing::warn!(
                failed = failed.len(),
                "score cache publish failed; retried when the cache answers"
            );
        }
        self.remember(failed, failed_deletes);
    }

    /// Called after the cache answered: retries remembered publishes in the
    /// background, one flush at a time.
    fn answered(self: &Arc<Self>) {
        if self.pending.load(Ordering::Relaxed) == 0 || self.flushing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let (retried, stale) = this.take_unsent();
            let failed = this.put_all(retried).await;
            let failed_deletes = this.delete_all(stale).await;
            this.remember(failed, failed_deletes);
            this.flushing.store(false, Ordering::Release);
        });
    }

    /// Drops a customer's entry (an erasure): a publish of theirs still
    /// waiting to be retried is forgotten, then the key is deleted. A delete
    /// that fails is remembered, retried with the other unsent writes, and
    /// reported.
    pub async fn forget(self: &Arc<Self>, tenant: Uuid, customer: Uuid) -> Result<(), CacheError> {
        let key = self.key(tenant, customer);
        {
            let mut unsent = self.lock();
            if let Some((_, bytes)) = unsent.scores.remove(&key) {
                unsent.bytes = unsent.bytes.saturating_sub(bytes.len());
            }
        }
        match self.cache.delete(&key).await {
            Ok(()) => {
                self.answered();
                Ok(())
            }
            Err(e) => {
                self.remember(Vec::new(), vec![key]);
                Err(e)
            }
        }
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

    /// Deletes every key; returns those that failed.
    async fn delete_all(&self, keys: Vec<String>) -> Vec<String> {
        let deletes = keys.into_iter().map(|key| async move {
            match self.cache.delete(&key).await {
                Ok(()) => None,
                Err(_) => Some(key),
            }
        });
        futures::future::join_all(deletes)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Unsent> {
        self.unsent.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The remembered publishes to retry and the keys to delete.
    fn take_unsent(&self) -> (Vec<Publish>, Vec<String>) {
        let taken = std::mem::take(&mut *self.lock());
        self.pending.store(0, Ordering::Relaxed);
        let retried = taken
            .scores
            .into_iter()
            .map(|(k, (v, b))| (k, v, b))
            .collect();
        (retried, taken.stale.into_iter().collect())
    }

    fn remember(&self, failed: Vec<Publish>, failed_deletes: Vec<String>) {
        if failed.is_empty() && failed_deletes.is_empty() {
            return;
        }
        let mut unsent = self.lock();
        let mut dropped = 0usize;
        let mut mark_stale = |unsent: &mut Unsent, key: String| {
            if unsent.stale.len() < MAX_STALE_KEYS || unsent.stale.contains(&key) {
                unsent.stale.insert(key);
            } else {
                dropped += 1;
            }
        };
        for key in failed_deletes {
            mark_stale(&mut unsent, key);
        }
        for (key, version, bytes) in failed {
            if unsent.stale.contains(&key) {
                continue;
            }
            let held = unsent.scores.get(&key).map(|(v, b)| (*v, b.len()));
            match held {
                Some((v, _)) if v >= version => {}
                Some((_, old)) if unsent.bytes - old + bytes.len() <= MAX_UNSENT_BYTES => {
                    unsent.bytes = unsent.bytes - old + bytes.len();
                    unsent.scores.insert(key, (version, bytes));
                }
                None if unsent.bytes + bytes.len() <= MAX_UNSENT_BYTES => {
                    unsent.bytes += bytes.len();
                    unsent.scores.insert(key, (version, bytes));
                }
                // No room for the score itself: the entry is deleted instead.
                Some((_, old)) => {
                    unsent.scores.remove(&key);
                    unsent.bytes -= old;
                    mark_stale(&mut unsent, key);
                }
                None => mark_stale(&mut unsent, key),
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
