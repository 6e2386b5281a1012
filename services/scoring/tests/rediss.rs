//! The scoring service's cache in a Redis reached through TLS (`rediss://`)
//! that requires client certificates, with certificates made at test time.

mod support;

use std::time::Duration;

use rapport_kit::{
    config::Secret,
    testing::{
        self, Backend,
        instances::{Options, Redis},
        pki::Ca,
    },
};
use rapport_proto::v1::ScoreSource;
use support::{day, get, purchase, start_with};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scores_are_served_from_a_redis_reached_through_mutual_tls() {
    let certs = testing::fresh_dir();
    let ca = Ca::new("rapport test ca");
    let ca_file = ca.write(&certs);
    let (cert, key) = ca.leaf("redis", 1).write(&certs, "redis");
    let tls_port = testing::free_port();
    let options = Options::default()
        .file(&ca_file)
        .file(cert)
        .file(key)
        .line(format!("tls-port {tls_port}"))
        .line("tls-cert-file {dir}/redis.pem")
        .line("tls-key-file {dir}/redis.key")
        .line("tls-ca-cert-file {dir}/ca.pem")
        .line("tls-auth-clients yes");
    let _redis = Redis::spawn(options).await;

    let mut config = testing::config(Backend::Postgres).await;
    config.redis_url = Some(Secret::new(format!("rediss://127.0.0.1:{tls_port}")));
    // No near cache: a score from the cache came from Redis itself.
    config.cache_memory_mb = 0;
    let (cert, key) = ca.leaf("scoring", 2).write(&certs, "scoring");
    config.tls.ca_file = Some(ca_file);
    config.tls.client_cert_file = Some(cert);
    config.tls.client_key_file = Some(key);
    let h = start_with(config).await;

    let (tenant, mut client) = h.tenant("acme").await;
    let a = Uuid::new_v4();
    let r = h
        .apply(tenant.id, vec![purchase("t1", a, day(2025, 6, 1), 4_200)])
        .await
        .unwrap();
    assert_eq!(r.applied, 1);
    let mut sources = Vec::new();
    for _ in 0..100 {
        let (score, source) = get(&mut client, a).await.unwrap();
        assert_eq!((score.version, score.purchase_count), (1, 1));
        sources.push(source);
        if source == ScoreSource::Cache as i32 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never served from Redis: {sources:?}");
}
