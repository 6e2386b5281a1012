//! What only the in-process cache does: TTLs on a paused clock and its byte
//! budget. The versioning behaviour both caches share is in `tests/`.

use std::time::Duration;

use super::{MemoryCache, entries::cost};
use crate::VersionedCache;

const MIN: Duration = Duration::from_secs(60);

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
async fn delete_forgets() {
    let c = MemoryCache::new(2);
    c.put_if_newer("k", 3, b"v", MIN).await.unwrap();
    c.delete("k").await.unwrap();
    assert_eq!(c.get("k").await.unwrap(), None);
    assert!(c.is_empty());
}
