//! The Redis cache against a real Redis: the shared test server for the
//! behaviour (the part every cache shares is in `support`), private servers
//! started here for outages.

use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use rapport_cache::{CacheError, RedisCache, VersionedCache};
use support::MIN;

mod support;

fn redis_url() -> String {
    std::env::var("RAPPORT_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A key prefix no other test run shares.
fn prefix() -> String {
    format!("rapport-cache-t-{}", uuid::Uuid::new_v4().simple())
}

/// Bounds a call: an unreachable Redis must fail, not hang.
async fn bounded<T>(fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(2), fut)
        .await
        .expect("cache call hung")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private Redis, killed on drop.
struct PrivateRedis(Child);

impl PrivateRedis {
    fn start(port: u16) -> PrivateRedis {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
                "--bind",
                "127.0.0.1",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        PrivateRedis(child)
    }

    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `cache` until a write lands (a fresh server takes a moment to listen,
/// and the breaker a second to let calls through again).
async fn until_answering(cache: &RedisCache, key: &str) {
    for _ in 0..200 {
        if cache.put_if_newer(key, 1, b"probe", MIN).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("redis never answered");
}

#[tokio::test]
async fn older_never_overwrites_newer() {
    let cache = RedisCache::new(&redis_url()).await.unwrap();
    support::older_never_overwrites_newer(&cache, &format!("{}:k", prefix())).await;
}

#[tokio::test]
async fn the_same_version_is_replaced_only_when_asked() {
    let cache = RedisCache::new(&redis_url()).await.unwrap();
    let key = format!("{}:same", prefix());
    support::the_same_version_is_replaced_only_when_asked(&cache, &key).await;
}

#[tokio::test]
async fn concurrent_writers_leave_the_newest() {
    let cache = Arc::new(RedisCache::new(&redis_url()).await.unwrap());
    let key = Arc::new(format!("{}:race", prefix()));
    // Versions written in a scrambled order from many tasks at once.
    let tasks: Vec<_> = (0..64u64)
        .map(|i| {
            let (cache, key) = (cache.clone(), key.clone());
            let version = (i * 37) % 64 + 1;
            tokio::spawn(async move {
                cache
                    .put_if_newer(&key, version, version.to_string().as_bytes(), MIN)
                    .await
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(cache.get(&key).await.unwrap().as_deref(), Some(&b"64"[..]));
}

#[tokio::test]
async fn ttl_expires_entries() {
    let cache = RedisCache::new(&redis_url()).await.unwrap();
    let p = prefix();
    let (short, long) = (format!("{p}:short"), format!("{p}:long"));
    cache
        .put_if_newer(&short, 3, b"v", Duration::from_millis(150))
        .await
        .unwrap();
    cache.put_if_newer(&long, 3, b"v", MIN).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(cache.get(&short).await.unwrap(), None);
    assert!(cache.get(&long).await.unwrap().is_some());
    // An expired entry no longer blocks an older version.
    assert!(cache.put_if_newer(&short, 1, b"old", MIN).await.unwrap());
    cache.delete(&long).await.unwrap();
    cache.delete(&short).await.unwrap();
}

#[tokio::test]
async fn get_many_answers_in_request_order() {
    let cache = RedisCache::new(&redis_url()).await.unwrap();
    support::get_many_answers_in_request_order(&cache, &prefix()).await;
}

#[tokio::test]
async fn unreachable_redis_is_unavailable_at_once() {
    // Nothing listens on a port just released.
    let url = format!("redis://127.0.0.1:{}", free_port());
    let cache = RedisCache::new(&url)
        .await
        .expect("new succeeds while redis is down");
    let first = bounded(cache.get("k")).await;
    assert!(
        matches!(first, Err(CacheError::Unavailable(_))),
        "{first:?}"
    );
    // The breaker is open now: every call fails fast without touching Redis.
    let put = bounded(cache.put_if_newer("k", 1, b"v", MIN)).await;
    assert!(matches!(put, Err(CacheError::Unavailable(_))), "{put:?}");
    let many = bounded(cache.get_many(&["k".to_owned()])).await;
    assert!(matches!(many, Err(CacheError::Unavailable(_))), "{many:?}");
    let del = bounded(cache.delete("k")).await;
    assert!(matches!(del, Err(CacheError::Unavailable(_))), "{del:?}");
}

#[tokio::test]
async fn malformed_url_is_refused() {
    let err = RedisCache::new("not a url").await.unwrap_err();
    assert!(matches!(err, CacheError::InvalidUrl(_)), "{err:?}");
}

#[tokio::test]
async fn recovers_when_redis_returns() {
    let port = free_port();
    let mut server = PrivateRedis::start(port);
    let cache = RedisCache::new(&format!("redis://127.0.0.1:{port}"))
        .await
        .unwrap();
    until_answering(&cache, "probe").await;
    assert!(cache.put_if_newer("k", 2, b"two", MIN).await.unwrap());

    server.kill();
    let down = bounded(cache.get("k")).await;
    assert!(matches!(down, Err(CacheError::Unavailable(_))), "{down:?}");

    // A new, empty Redis on the same port: the cache finds it again.
    let _server = PrivateRedis::start(port);
    until_answering(&cache, "probe").await;
    assert_eq!(cache.get("k").await.unwrap(), None);
    assert!(cache.put_if_newer("k", 1, b"one", MIN).await.unwrap());
    assert_eq!(cache.get("k").await.unwrap().as_deref(), Some(&b"one"[..]));
}

/// Two replicas' caches on one Redis, each with a near cache, announcing
/// writes on one channel.
async fn replicas(url: &str) -> (RedisCache, RedisCache, String) {
    let channel = format!("{}:invalidations", prefix());
    let a = RedisCache::with_near(url, &channel, 1 << 20).await.unwrap();
    let b = RedisCache::with_near(url, &channel, 1 << 20).await.unwrap();
    for _ in 0..500 {
        if a.near_live() && b.near_live() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        a.near_live() && b.near_live(),
        "subscriptions never started"
    );
    (a, b, channel)
}

/// Reads `key` through `cache` until it shows `want` (invalidations travel
/// through Redis pub/sub, a moment behind the write).
async fn until_shows(cache: &RedisCache, key: &str, want: &[u8]) {
    for _ in 0..200 {
        if cache.get(key).await.unwrap().as_deref() == Some(want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{key} never showed {:?}", String::from_utf8_lossy(want));
}

#[tokio::test]
async fn a_write_on_one_replica_reaches_the_near_cache_of_another() {
    let (a, b, _) = replicas(&redis_url()).await;
    let key = format!("{}:k", prefix());
    assert!(a.put_if_newer(&key, 1, b"one", MIN).await.unwrap());
    until_shows(&b, &key, b"one").await;
    // b answers from its near copy now: a change made behind the cache's
    // back (no announcement) is not seen...
    let mut raw = redis::Client::open(redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: () = redis::cmd("HSET")
        .arg(&key)
        .arg("d")
        .arg("unannounced")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(b.get(&key).await.unwrap().as_deref(), Some(&b"one"[..]));
    // ...while an announced write is: a writes version 2.
    assert!(a.put_if_newer(&key, 2, b"two", MIN).await.unwrap());
    until_shows(&b, &key, b"two").await;
    // A richer copy of the same version replaces it everywhere too.
    assert!(
        a.put_unless_newer(&key, 2, b"two, rich", MIN)
            .await
            .unwrap()
    );
    until_shows(&b, &key, b"two, rich").await;
    let many = b.get_many(std::slice::from_ref(&key)).await.unwrap();
    assert_eq!(many, vec![Some(b"two, rich".to_vec())]);
    // Erasure leaves nothing near anywhere.
    a.delete(&key).await.unwrap();
    for _ in 0..200 {
        if b.get(&key).await.unwrap().is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the erased entry is still served");
}

#[tokio::test]
async fn the_near_cache_is_not_served_while_its_subscription_is_down() {
    let port = free_port();
    let mut server = PrivateRedis::start(port);
    let url = format!("redis://127.0.0.1:{port}");
    until_answering(&RedisCache::new(&url).await.unwrap(), "probe").await;
    let (a, _b, _) = replicas(&url).await;
    assert!(a.put_if_newer("k", 5, b"five", MIN).await.unwrap());
    until_shows(&a, "k", b"five").await;
    server.kill();
    // With Redis gone the subscription drops, and the near copy with it:
    // no write could be heard now, so nothing near is trusted.
    for _ in 0..200 {
        if bounded(a.get("k")).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the near cache kept answering without its subscription");
}
