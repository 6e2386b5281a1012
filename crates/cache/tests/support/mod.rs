//! The versioning behaviour every [`VersionedCache`] shares, written once
//! and run against each backend by `memory.rs` and `redis.rs`.

use std::time::Duration;

use rapport_cache::VersionedCache;

/// A TTL no test outlives.
pub const MIN: Duration = Duration::from_secs(60);

async fn put(cache: &impl VersionedCache, key: &str, version: u64, value: &[u8]) -> bool {
    cache.put_if_newer(key, version, value, MIN).await.unwrap()
}

async fn put_rich(cache: &impl VersionedCache, key: &str, version: u64, value: &[u8]) -> bool {
    cache
        .put_unless_newer(key, version, value, MIN)
        .await
        .unwrap()
}

async fn held(cache: &impl VersionedCache, key: &str) -> Option<Vec<u8>> {
    cache.get(key).await.unwrap()
}

/// A write lands only over an older version; versions compare as numbers.
pub async fn older_never_overwrites_newer(cache: &impl VersionedCache, key: &str) {
    assert_eq!(held(cache, key).await, None);
    assert!(put(cache, key, 7, b"seven").await);
    assert!(!put(cache, key, 6, b"six").await);
    assert!(!put(cache, key, 7, b"seven again").await);
    assert_eq!(held(cache, key).await.as_deref(), Some(&b"seven"[..]));
    // Versions compare as numbers, not as text: 10 is newer than 9.
    assert!(put(cache, key, 10, b"ten").await);
    assert_eq!(held(cache, key).await.as_deref(), Some(&b"ten"[..]));
    assert!(!put(cache, key, 9, b"nine").await);
    assert!(put(cache, key, u64::MAX, b"max").await);
    assert_eq!(held(cache, key).await.as_deref(), Some(&b"max"[..]));
    cache.delete(key).await.unwrap();
    assert_eq!(held(cache, key).await, None);
}

/// `put_unless_newer` replaces an entry of its own version; `put_if_newer`
/// does not.
pub async fn the_same_version_is_replaced_only_when_asked(cache: &impl VersionedCache, key: &str) {
    assert!(put(cache, key, 12, b"bare").await);
    assert!(!put(cache, key, 12, b"rich").await);
    assert!(put_rich(cache, key, 12, b"rich").await);
    assert!(!put_rich(cache, key, 11, b"older").await);
    assert_eq!(held(cache, key).await.as_deref(), Some(&b"rich"[..]));
    // A newer version still wins over a rich copy of an older one.
    assert!(put(cache, key, 13, b"newer").await);
    assert!(!put_rich(cache, key, 12, b"rich").await);
    assert_eq!(held(cache, key).await.as_deref(), Some(&b"newer"[..]));
}

/// `get_many` answers key by key in the order asked, `None` for a miss.
pub async fn get_many_answers_in_request_order(cache: &impl VersionedCache, prefix: &str) {
    let key = |s: &str| format!("{prefix}:{s}");
    assert!(put(cache, &key("a"), 1, b"A").await);
    assert!(put(cache, &key("c"), 2, b"C").await);
    let keys = vec![key("c"), key("b"), key("a"), key("c")];
    let got = cache.get_many(&keys).await.unwrap();
    assert_eq!(
        got,
        vec![
            Some(b"C".to_vec()),
            None,
            Some(b"A".to_vec()),
            Some(b"C".to_vec())
        ]
    );
    assert!(cache.get_many(&[]).await.unwrap().is_empty());
    for k in ["a", "c"] {
        cache.delete(&key(k)).await.unwrap();
    }
}
