//! The scoring service with Redis as its cache (Postgres behind it): scores
//! served from Redis, a Redis outage degrading reads to the database without
//! failing anything, and the cache never going back to an older version, nor
//! keeping one that a partition hid a newer version from.

mod support;

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use prost::Message;
use rapport_cache::{RedisCache, VersionedCache};
use rapport_kit::{
    config::Secret,
    testing::{
        self, Backend,
        instances::{Options, Redis},
    },
};
use rapport_proto::v1::{Score, ScoreSource};
use support::{ApiClient, Harness, day, get, purchase, refund, start_with};
use uuid::Uuid;

async fn start_on(redis: &Redis) -> Harness {
    let mut config = testing::config(Backend::Postgres).await;
    config.redis_url = Some(Secret::new(redis.url()));
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

/// The first answer `probe` gives, trying every 10 ms for ten seconds (an
/// invalidation crosses Redis pub/sub, which on a loaded CI machine has
/// taken more than two).
async fn within_ten_seconds<T>(mut probe: impl AsyncFnMut() -> Option<T>) -> Option<T> {
    for _ in 0..1_000 {
        if let Some(found) = probe().await {
            return Some(found);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_degrades_to_the_database() {
    let mut redis = Redis::spawn(Options::default()).await;
    let h = start_on(&redis).await;
    let (tenant, mut client) = h.tenant("acme").await;
    let a = Uuid::new_v4();
    let r = h
        .apply(tenant.id, vec![purchase("t1", a, day(2025, 6, 1), 4_200)])
        .await
        .unwrap();
    assert_eq!(r.applied, 1);
    let cached = until_cached(&mut client, a).await;
    assert_eq!((cached.version, cached.purchase_count), (1, 1));

    redis.kill9();
    // Until the service notices the dropped connection, the near cache may
    // still answer (with the same score); every read succeeds, and once the
    // outage is noticed they come from the database.
    let mut from_db = None;
    for _ in 0..100 {
        let (score, source) = get(&mut client, a).await.unwrap();
        assert_eq!(score, cached);
        if source == ScoreSource::Database as i32 {
            from_db = Some(score);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        from_db.as_ref(),
        Some(&cached),
        "reads never fell back to the database"
    );

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
    let redis = Redis::spawn(Options::default()).await;
    let h = start_on(&redis).await;
    let (tenant, mut client) = h.tenant("acme").await;
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
    // It writes as every replica does, announcing on the shared channel.
    let channel = format!("{}:invalidations", h.ts.config.cache_prefix);
    let direct = RedisCache::with_near(&redis.url(), &channel, 0)
        .await
        .unwrap();
    let cache_key = h.key(tenant.id, a);
    let stale = v1.encode_to_vec();
    // Whether a write of `stale` as `version` is taken.
    let write_stale = async |version| {
        let ttl = Duration::from_secs(600);
        direct
            .put_if_newer(&cache_key, version, &stale, ttl)
            .await
            .unwrap()
    };
    assert!(!write_stale(1).await);
    let (now, source) = get(&mut client, a).await.unwrap();
    assert_eq!(
        (source, now.version, now.purchase_count),
        (ScoreSource::Cache as i32, 2, 2)
    );

    // After eviction the fill from the database is the newest version again
    // (the service hears of the eviction a moment later).
    direct.delete(&cache_key).await.unwrap();
    let filled = within_ten_seconds(async || {
        let (s, source) = get(&mut client, a).await.unwrap();
        (source == ScoreSource::Database as i32).then_some(s)
    })
    .await;
    assert_eq!(filled.expect("read from the database").version, 2);
    // The read keeps what it computed in the cache, after answering: once
    // there, the entry is version 2 (another write of version 2 is refused).
    let kept = within_ten_seconds(async || direct.get(&cache_key).await.unwrap()).await;
    assert!(
        kept.is_some(),
        "the database read was not kept in the cache"
    );
    assert!(!write_stale(2).await);
    let (again, source) = get(&mut client, a).await.unwrap();
    assert_eq!((source, again.version), (ScoreSource::Cache as i32, 2));
    assert!(!write_stale(1).await);
    h.ts.stop().await;
}

/// A TCP relay to Redis that can be cut (every connection dropped, new ones
/// refused) and healed: Redis keeps its entries but cannot be reached, as in
/// a network partition.
struct Link {
    url: String,
    open: Arc<AtomicBool>,
    pipes: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Link {
    async fn to(redis: &Redis) -> Link {
        let target = format!("127.0.0.1:{}", redis.port());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("redis://{}", listener.local_addr().unwrap());
        let open = Arc::new(AtomicBool::new(true));
        let pipes: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (o, p) = (open.clone(), pipes.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !o.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else {
                    continue;
                };
                let pipe = tokio::spawn(async move {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
                p.lock().unwrap().push(pipe);
            }
        });
        Link {
            url,
            open,
            pipes,
            accept,
        }
    }

    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for pipe in self.pipes.lock().unwrap().drain(..) {
            pipe.abort();
        }
    }

    fn heal(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scores_missed_while_unreachable_reach_the_cache_later() {
    let redis = Redis::spawn(Options::default()).await;
    let link = Link::to(&redis).await;
    let mut config = testing::config(Backend::Postgres).await;
    config.redis_url = Some(Secret::new(link.url.clone()));
    let h = start_with(config).await;
    let (tenant, mut client) = h.tenant("acme").await;
    let a = Uuid::new_v4();
    h.apply(tenant.id, vec![purchase("t1", a, day(2025, 6, 1), 100)])
        .await
        .unwrap();
    assert_eq!(until_cached(&mut client, a).await.version, 1);

    // Redis keeps version 1 but cannot be reached while version 2 commits.
    link.cut();
    let r = h
        .apply(tenant.id, vec![purchase("t2", a, day(2025, 6, 2), 100)])
        .await
        .unwrap();
    assert_eq!(r.applied, 1);
    let (during, source) = get(&mut client, a).await.unwrap();
    assert_eq!((source, during.version), (ScoreSource::Database as i32, 2));

    // Once Redis is reachable again, the missed version replaces the stale one.
    link.heal();
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
