//! The scoring service on a real Redis Cluster (three masters, each with a
//! replica): a tenant's scores spread over every master, reads and batch
//! reads are served from the cluster, and a master killed under GetScore
//! load fails no read (they fall back to Postgres until its replica takes
//! over, then come from the cluster again).

mod support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use rapport_kit::{
    config::Secret,
    testing::{self, Backend, ScoreLoad, instances::RedisCluster, ok},
};
use rapport_proto::v1::{BatchGetScoresRequest, ScoreSource};
use support::{day, get, purchase, start_with};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_spreads_over_the_cluster_and_a_dead_master_fails_no_read() {
    let mut cluster = RedisCluster::spawn().await;
    let mut config = testing::config(Backend::Postgres).await;
    config.redis_url = Some(Secret::new(cluster.url()));
    let h = start_with(config).await;
    let (tenant, mut client) = h.tenant("acme").await;

    let customers: Vec<Uuid> = (0..200).map(|_| Uuid::new_v4()).collect();
    let changes = customers
        .iter()
        .enumerate()
        .map(|(i, c)| purchase(&format!("t{i}"), *c, day(2025, 3, 1), 1_000 + i as i64))
        .collect();
    h.apply(tenant.id, changes).await.unwrap();

    // Every score is read from the cluster, and one tenant's scores live on
    // every master, not on one.
    for c in &customers {
        let (_, source) = get(&mut client, *c).await.unwrap();
        assert_eq!(source, ScoreSource::Cache as i32, "{c}");
    }
    let masters = cluster.masters();
    assert_eq!(masters.len(), 3, "three masters");
    for port in &masters {
        assert!(cluster.keys_on(*port) > 0, "master {port} holds scores");
    }
    // A batch across every bucket, in request order, from the cache.
    let ids: Vec<String> = customers.iter().map(Uuid::to_string).collect();
    let batch = ok(client.batch_get_scores(BatchGetScoresRequest {
        customer_ids: ids.clone(),
    }))
    .await;
    let got: Vec<String> = batch.scores.iter().map(|s| s.customer_id.clone()).collect();
    assert_eq!(got, ids);

    // Four callers read for 8 s; a master dies after 2 s.
    let load_for = Duration::from_secs(8);
    let load = ScoreLoad::start(&client, Arc::new(ids), 4, load_for);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let victim = masters[0];
    let mut cluster = tokio::task::spawn_blocking(move || {
        cluster.kill9(victim);
        // Its replica is promoted once the others mark it failed.
        let deadline = Instant::now() + Duration::from_secs(30);
        while cluster.masters().contains(&victim) || cluster.masters().len() < 3 {
            assert!(Instant::now() < deadline, "no failover of {victim}");
            std::thread::sleep(Duration::from_millis(100));
        }
        cluster.wait_ok();
        cluster
    })
    .await
    .expect("fail over");
    let answers = load.finish().await;
    let (calls, failed) = (answers.calls(), answers.failed());
    println!("{calls} GetScore calls over 8 s, a master killed at 2 s: {answers:?}");
    assert_eq!(failed, 0, "{answers:?}");

    // After the failover every score is served from the cluster again (the
    // promoted replica holds what its master had, or reads refill it).
    for c in &customers {
        let mut cached = false;
        for _ in 0..100 {
            if get(&mut client, *c).await.unwrap().1 == ScoreSource::Cache as i32 {
                cached = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(cached, "{c} served from the cluster after the failover");
    }
    assert_eq!(cluster.masters().len(), 3);
    h.ts.stop().await;
}
