use rapport_cache::{MemoryCache, Write};

use super::{entry::HEADER, *};

/// A memory cache that can be made unreachable.
struct Flaky {
    inner: MemoryCache,
    down: AtomicBool,
}

impl Flaky {
    fn new(down: bool) -> Arc<Flaky> {
        Arc::new(Flaky {
            inner: MemoryCache::new(100),
            down: AtomicBool::new(down),
        })
    }

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
    async fn put(&self, write: Write<'_>) -> Result<bool, CacheError> {
        self.check()?;
        self.inner.put(write).await
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
    let flaky = Flaky::new(false);
    let cache = ScoreCache::new(flaky.clone(), "p");
    let (tenant, a, b) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    cache.publish(tenant, &[score(a, 1)]).await;
    flaky.down.store(true, Ordering::Relaxed);
    cache.publish(tenant, &[score(a, 2)]).await;
    cache.publish(tenant, &[score(a, 3), score(b, 1)]).await;
    assert_eq!(cache.pending.load(Ordering::Relaxed), 2);

    // Back up: the stale version 1 is still cached until the next publish.
    flaky.down.store(false, Ordering::Relaxed);
    let stale = flaky
        .inner
        .get(&cache.key(tenant, a))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Score::decode(stale.as_slice()).unwrap().version, 1);
    cache.publish(tenant, &[]).await;
    assert_eq!(plain(cache.get(tenant, a).await.unwrap()).version, 3);
    assert_eq!(plain(cache.get(tenant, b).await.unwrap()).version, 1);
    assert_eq!(cache.pending.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn a_read_that_reaches_the_cache_flushes_in_the_background() {
    let flaky = Flaky::new(true);
    let cache = ScoreCache::new(flaky.clone(), "p");
    let (tenant, a) = (Uuid::new_v4(), Uuid::new_v4());
    cache.publish(tenant, &[score(a, 5)]).await;
    flaky.down.store(false, Ordering::Relaxed);
    assert!(cache.get(tenant, a).await.unwrap().is_none());
    for _ in 0..100 {
        if let Some(s) = cache.get(tenant, a).await.unwrap() {
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
fn keys_are_hash_tagged_by_tenant_and_bucket() {
    let (t, c) = (Uuid::nil(), Uuid::max());
    assert_eq!(
        key("rapport", t, c),
        "rapport:{00000000-0000-0000-0000-000000000000:f}:score:ffffffff-ffff-ffff-ffff-ffffffffffff"
    );
    // A tenant's customers spread over every bucket.
    let tags: std::collections::BTreeSet<String> = (0..=255u8)
        .map(|b| {
            let k = key("p", t, Uuid::from_bytes([b; 16]));
            k[k.find('{').unwrap()..=k.find('}').unwrap()].to_owned()
        })
        .collect();
    assert_eq!(tags.len(), 16);
}

#[tokio::test]
async fn past_the_byte_bound_missed_publishes_are_deleted_instead() {
    let flaky = Arc::new(Flaky {
        inner: MemoryCache::with_max_bytes(64 << 20),
        down: AtomicBool::new(false),
    });
    let cache = ScoreCache::new(flaky.clone(), "p");
    let tenant = Uuid::new_v4();
    // Scores of 100 KiB each: 8 MiB holds 81 of them.
    let big = |customer: Uuid, version: u64| Score {
        segment: "x".repeat(100 << 10),
        ..score(customer, version)
    };
    let customers: Vec<Uuid> = (0..100).map(|_| Uuid::new_v4()).collect();
    let old: Vec<Score> = customers.iter().map(|c| score(*c, 1)).collect();
    cache.publish(tenant, &old).await;
    flaky.down.store(true, Ordering::Relaxed);
    let new: Vec<Score> = customers.iter().map(|c| big(*c, 2)).collect();
    cache.publish(tenant, &new).await;
    {
        let unsent = cache.lock();
        assert!(unsent.bytes <= MAX_UNSENT_BYTES, "{}", unsent.bytes);
        assert_eq!(unsent.scores.len(), 81);
        assert_eq!(unsent.stale.len(), 19);
    }
    assert_eq!(cache.pending.load(Ordering::Relaxed), 100);
    // Back up: no customer is left with the stale version 1. The kept
    // scores land; the others are gone, for readers to compute again.
    flaky.down.store(false, Ordering::Relaxed);
    cache.publish(tenant, &[]).await;
    let (mut landed, mut deleted) = (0, 0);
    for c in &customers {
        match cache.get(tenant, *c).await.unwrap() {
            Some(s) => {
                assert_eq!(plain(Some(s)).version, 2);
                landed += 1;
            }
            None => deleted += 1,
        }
    }
    assert_eq!((landed, deleted), (81, 19));
    assert_eq!(cache.pending.load(Ordering::Relaxed), 0);
}
