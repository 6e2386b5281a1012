//! The scoring service with Redis as its cache (Postgres behind it): scores
//! served from Redis, a Redis outage degrading reads to the database without
//! failing anything, and the cache never going back to an older version.

mod support;

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use prost::Message;
use rapport_cache::{RedisCache, VersionedCache};
use rapport_kit::{
    config::Secret,
    testing::{self, Backend},
};
use rapport_proto::v1::{Score, ScoreSource};
use support::{ApiClient, Harness, day, get, purchase, refund, start_with};
use uuid::Uuid;

/// A Redis of this test's own, killed on drop.
struct PrivateRedis {
    child: Child,
    url: String,
}

impl PrivateRedis {
    async fn start() -> PrivateRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        // Owned from here on, so Drop reaps it whatever happens next.
        let redis = PrivateRedis {
            child,
            url: format!("redis://127.0.0.1:{port}"),
        };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return redis;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("redis-server never listened on {port}");
    }

    /// Stops answering clients for `pause` while keeping every entry, as a
    /// network partition would.
    fn pause(&self, pause: Duration) {
        let port = self.url.rsplit(':').next().unwrap();
        let status = Command::new("redis-cli")
            .args([
                "-p",
                port,
                "CLIENT",
                "PAUSE",
                &pause.as_millis().to_string(),
                "ALL",
            ])
            .stdout(Stdio::null())
            .status()
            .expect("run redis-cli");
        assert!(status.success());
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn start_on(redis: &PrivateRedis) -> Harness {
    let mut config = testing::config(Backend::Postgres).await;
    config.redis_url = Some(Secret::new(redis.url.clone()));
    start_with(config).await
}

/// Reads until the cache answers again (the first reads after a restart may
/// still fall back while the connection is re-established).
async fn until_cached(client: &mut ApiClient, customer: Uuid) -> Score {
    for _ in 0..100 {
        let (score, source) = get(client, customer).await.unwrap();
        if source == ScoreSource::Cache as i32 {
            return score;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("score never served from the cache");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_degrades_to_the_database() {
    let mut redis = PrivateRedis::start().await;
    let h = start_on(&redis).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = h.api(&key);
    let a = Uuid::new_v4();
    let r = h
        .apply(tenant.id, vec![purchase("t1", a, day(2025, 6, 1), 4_200)])
        .await
        .unwrap();
    assert_eq!(r.applied, 1);
    let cached = until_cached(&mut client, a).await;
    assert_eq!((cached.version, cached.purchase_count), (1, 1));

    redis.kill();
    let (from_db, source) = get(&mut client, a).await.unwrap();
    assert_eq!(source, ScoreSource::Database as i32);
    assert_eq!(from_db, cached);

    // Writes keep working; the database is the record.
    let r = h
        .apply(tenant.id, vec![refund("t2", a, day(2025, 6, 2), 200)])
        .await
        .unwrap();
    assert_eq!((r.applied, r.duplicates), (1, 0));
    let (after, source) = get(&mut client, a).await.unwrap();
    assert_eq!(source, ScoreSource::Database as i32);
    assert_eq!((after.version, after.refund_count), (2, 1));
    assert_eq!(after.net_spend.unwrap().minor_units, 4_000);
    h.ts.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_never_goes_back_a_version() {
    let redis = PrivateRedis::start().await;
    let h = start_on(&redis).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = h.api(&key);
    let a = Uuid::new_v4();
    h.apply(tenant.id, vec![purchase("t1", a, day(2025, 6, 1), 100)])
        .await
        .unwrap();
    let v1 = until_cached(&mut client, a).await;
    h.apply(tenant.id, vec![purchase("t2", a, day(2025, 6, 2), 100)])
        .await
        .unwrap();
    let (v2, source) = get(&mut client, a).await.unwrap();
    assert_eq!((source, v2.version), (ScoreSource::Cache as i32, 2));

    // A late writer holding version 1 (a slow fill, a delayed relay) loses.
    let direct = RedisCache::new(&redis.url).await.unwrap();
    let cache_key = h.key(tenant.id, a);
    let stale = v1.encode_to_vec();
    assert!(
        !direct
            .put_if_newer(&cache_key, 1, &stale, Duration::from_secs(600))
            .await
            .unwrap()
    );
    let (now, source) = get(&mut client, a).await.unwrap();
    assert_eq!(
        (source, now.version, now.purchase_count),
        (ScoreSource::Cache as i32, 2, 2)
    );

    // After eviction the fill from the database is the newest version again.
    direct.delete(&cache_key).await.unwrap();
    let (filled, source) = get(&mut client, a).await.unwrap();
    assert_eq!((source, filled.version), (ScoreSource::Database as i32, 2));
    let cached = Score::decode(direct.get(&cache_key).await.unwrap().unwrap().as_slice()).unwrap();
    assert_eq!(cached.version, 2);
    assert!(
        !direct
            .put_if_newer(&cache_key, 1, &stale, Duration::from_secs(600))
            .await
            .unwrap()
    );
    h.ts.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scores_missed_while_unreachable_reach_the_cache_later() {
    let redis = PrivateRedis::start().await;
    let h = start_on(&redis).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = h.api(&key);
    let a = Uuid::new_v4();
    h.apply(tenant.id, vec![purchase("t1", a, day(2025, 6, 1), 100)])
        .await
        .unwrap();
    assert_eq!(until_cached(&mut client, a).await.version, 1);

    // Redis keeps version 1 but does not answer while version 2 commits.
    redis.pause(Duration::from_millis(1_500));
    let r = h
        .apply(tenant.id, vec![purchase("t2", a, day(2025, 6, 2), 100)])
        .await
        .unwrap();
    assert_eq!(r.applied, 1);
    let (during, _) = get(&mut client, a).await.unwrap();
    assert_eq!(during.version, 2);

    // Once Redis answers, the missed version replaces the stale one.
    for _ in 0..200 {
        let (s, source) = get(&mut client, a).await.unwrap();
        if source == ScoreSource::Cache as i32 && s.version == 2 {
            assert_eq!(s.purchase_count, 2);
            h.ts.stop().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the cache kept serving the version from before the outage");
}
