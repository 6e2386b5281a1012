//! The Redis cache on a real Redis Cluster (three masters with a replica
//! each): the behaviour every cache shares, batch reads across slots and
//! hash tags, and the near cache kept current by invalidations heard on
//! one node whatever node the write landed on.

use std::time::Duration;

use rapport_cache::{RedisCache, VersionedCache};
use rapport_kit::testing::instances::RedisCluster;

mod support;

fn prefix() -> String {
    format!("rapport-cache-c-{}", uuid::Uuid::new_v4().simple())
}

/// One cluster at a time. Two six-node clusters started together on a
/// loaded two-core machine once cut a put with "broken pipe" in CI; the
/// likely cause is nodes missing their 1 s node timeout and failing over
/// mid-test. Twelve nodes at once is also more load than the test needs.
static ONE_CLUSTER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_behaves_the_same_on_a_cluster() {
    let _one = ONE_CLUSTER.lock().await;
    let cluster = RedisCluster::spawn().await;
    let cache = RedisCache::new(&cluster.url())
        .await
        .expect("a cluster cache");
    support::older_never_overwrites_newer(&cache, &format!("{}:k", prefix())).await;
    support::the_same_version_is_replaced_only_when_asked(&cache, &format!("{}:s", prefix())).await;
    // Untagged keys: each in a slot of its own.
    support::get_many_answers_in_request_order(&cache, &prefix()).await;
    // Tagged keys across many tags, in request order.
    let p = prefix();
    let keys: Vec<String> = (0..64)
        .map(|i| format!("{p}:{{t:{}}}:k{i}", i % 16))
        .collect();
    for (i, k) in keys.iter().enumerate().filter(|(i, _)| i % 3 != 0) {
        assert!(
            cache
                .put_if_newer(k, 1, format!("v{i}").as_bytes(), support::MIN)
                .await
                .unwrap()
        );
    }
    let got = cache.get_many(&keys).await.unwrap();
    for (i, v) in got.iter().enumerate() {
        let want = (i % 3 != 0).then(|| format!("v{i}").into_bytes());
        assert_eq!(v, &want, "key {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn near_caches_hear_writes_on_every_node() {
    let _one = ONE_CLUSTER.lock().await;
    let cluster = RedisCluster::spawn().await;
    let channel = format!("{}:invalidations", prefix());
    let a = RedisCache::with_near(&cluster.url(), &channel, 1 << 20)
        .await
        .unwrap();
    let b = RedisCache::with_near(&cluster.url(), &channel, 1 << 20)
        .await
        .unwrap();
    for _ in 0..100 {
        if a.near_live() && b.near_live() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(a.near_live() && b.near_live(), "both subscribed");
    let p = prefix();
    // Keys on every master: b reads them into its near cache, a writes
    // newer versions, and b must see each one.
    let keys: Vec<String> = (0..16).map(|i| format!("{p}:{{t:{i:x}}}:k")).collect();
    for k in &keys {
        assert!(a.put_if_newer(k, 1, b"old", support::MIN).await.unwrap());
        assert_eq!(b.get(k).await.unwrap().as_deref(), Some(&b"old"[..]));
    }
    for k in &keys {
        assert!(a.put_if_newer(k, 2, b"new", support::MIN).await.unwrap());
    }
    for k in &keys {
        let mut seen = None;
        for _ in 0..100 {
            seen = b.get(k).await.unwrap();
            if seen.as_deref() == Some(&b"new"[..]) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(seen.as_deref(), Some(&b"new"[..]), "{k}");
    }
}
