//! The Prometheus endpoint after traffic: GetScore's latency histogram
//! counts each call under its status code, score cache lookups are counted,
//! and dead letters are counted as they are kept and sampled while they
//! wait, agreeing with ListDeadLetters; score change subscriptions behind
//! are sampled, and catch up when delivered.

mod support;

use std::{net::SocketAddr, time::Duration};

use rapport_kit::{
    internal::BearerAuth,
    testing::{self, Backend, Scrape, ok},
};
use rapport_proto::v1::{
    ListDeadLettersRequest, PutScoreChangeSubscriptionRequest, RedriveDeadLettersRequest,
    ScoreChangeSubscription, WatchStart, score_changes_service_client::ScoreChangesServiceClient,
};
use support::{ApiClient, day, get, purchase};
use tonic::Code;
use uuid::Uuid;

const RPC_COUNT: &str = "rapport_rpc_duration_seconds_count";
const RPC_BUCKET: &str = "rapport_rpc_duration_seconds_bucket";
const DEAD_LETTERED: &str = "rapport_scoring_dead_lettered_total";
const WAITING: &str = "rapport_scoring_dead_letters";
const CACHE: &str = "rapport_scoring_score_cache_lookups_total";
const BEHIND: &str = "rapport_scoring_subscriptions_behind";
const UNDELIVERED_AGE: &str = "rapport_scoring_subscription_oldest_undelivered_age_seconds";

fn get_score(code: &'static str) -> [(&'static str, &'static str); 3] {
    [
        ("service", "rapport.v1.ScoringService"),
        ("method", "GetScore"),
        ("code", code),
    ]
}

/// One backend after the other: the figures are the whole process's, so
/// the two runs must not overlap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_move_with_traffic() {
    for backend in [Backend::Postgres, Backend::Sqlite] {
        figures_move_on(backend).await;
    }
}

async fn dead_letters_total(client: &mut ApiClient) -> u64 {
    ok(client.list_dead_letters(ListDeadLettersRequest::default()))
        .await
        .total
}

/// Scrapes until `name` with `labels` reads `want` (the sampler runs every
/// 100 ms here); fails after 10 s.
async fn sampled(addr: SocketAddr, name: &str, labels: &[(&str, &str)], want: f64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let got = Scrape::get(addr).await.value(name, labels);
        if got == Some(want) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name} {labels:?} reads {got:?}, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn figures_move_on(backend: Backend) {
    let mut config = testing::config(backend).await;
    let metrics = SocketAddr::from(([127, 0, 0, 1], testing::free_port()));
    config.metrics_listen = Some(metrics);
    config.metrics_sample_ms = 100;
    let h = support::start_with(config).await;
    let (tenant, mut client) = h.tenant("acme").await;
    let t = tenant.id.to_string();
    let before = Scrape::get(metrics).await;
    assert_eq!(before.types["rapport_rpc_duration_seconds"], "histogram");

    let a = Uuid::new_v4();
    let call = vec![
        purchase("txn:1", a, day(2025, 1, 1), 500),
        purchase("txn:2", a, day(2025, 1, 2), -5),
    ];
    let r = h.apply(tenant.id, call).await.unwrap();
    assert_eq!((r.applied, r.dead_lettered), (1, 1));
    for _ in 0..3 {
        get(&mut client, a).await.unwrap();
    }
    for _ in 0..2 {
        let e = get(&mut client, Uuid::new_v4()).await.unwrap_err();
        assert_eq!(e.code(), Code::NotFound);
    }

    let after = Scrape::get(metrics).await;
    let moved =
        |labels: &[(&str, &str)]| after.count(RPC_COUNT, labels) - before.count(RPC_COUNT, labels);
    assert_eq!(moved(&get_score("OK")), 3.0);
    assert_eq!(moved(&get_score("NOT_FOUND")), 2.0);
    let ok_labels = get_score("OK");
    let mut inf = ok_labels.to_vec();
    inf.push(("le", "+Inf"));
    assert_eq!(
        after.value(RPC_BUCKET, &inf),
        after.value(RPC_COUNT, &ok_labels)
    );

    // Five lookups in the score cache: the two unknown customers missed.
    let lookups = |result: &str| {
        let labels = [("result", result)];
        after.count(CACHE, &labels) - before.count(CACHE, &labels)
    };
    assert_eq!(lookups("hit") + lookups("miss"), 5.0);
    assert!(lookups("miss") >= 2.0);
    assert_eq!(lookups("unavailable"), 0.0);

    // Dead letters: counted when kept, sampled while they wait.
    let total = dead_letters_total(&mut client).await;
    assert_eq!(total, 1);
    assert_eq!(after.count(DEAD_LETTERED, &[("tenant", &t)]), 1.0);
    assert_eq!(after.types[DEAD_LETTERED], "counter");
    sampled(metrics, WAITING, &[("tenant", &t)], total as f64).await;

    // Delivered again with its amount fixed, then re-driven: none wait.
    // The re-drive tried the letter as stored (still negative), which failed
    // again and so counts again; the letter leaves all the same, its change
    // being applied.
    let fixed = vec![purchase("txn:2", a, day(2025, 1, 2), 5)];
    assert_eq!(h.apply(tenant.id, fixed).await.unwrap().applied, 1);
    let redriven = ok(client.redrive_dead_letters(RedriveDeadLettersRequest {
        change_ids: vec!["txn:2".into()],
    }))
    .await;
    assert_eq!(redriven.remaining, 0);
    assert_eq!(dead_letters_total(&mut client).await, 0);
    sampled(metrics, WAITING, &[("tenant", &t)], 0.0).await;
    let last = Scrape::get(metrics).await;
    assert_eq!(last.count(DEAD_LETTERED, &[("tenant", &t)]), 2.0);
    // The rules queue is sampled alongside (no rules here, so nothing waits).
    assert_eq!(
        last.value("rapport_scoring_rules_queue_depth", &[]),
        Some(0.0)
    );
    assert_eq!(
        last.value("rapport_scoring_rules_queue_oldest_age_seconds", &[]),
        Some(0.0)
    );

    // A score change subscription with an event it has not handed over is
    // behind, and the event's age shows; delivered, nothing is behind.
    let (other, key) = h.ts.tenant("globex", "EUR").await;
    h.register_endpoint(&key, "crm", "http://127.0.0.1:9/hook")
        .await;
    let mut feed =
        ScoreChangesServiceClient::with_interceptor(h.ts.channel(), BearerAuth::new(&key).unwrap());
    ok(
        feed.put_score_change_subscription(PutScoreChangeSubscriptionRequest {
            subscription: Some(ScoreChangeSubscription {
                name: "all".into(),
                endpoint: "crm".into(),
                ..Default::default()
            }),
            start: WatchStart::Now as i32,
        }),
    )
    .await;
    let c = Uuid::new_v4();
    let first = vec![purchase("txn:g1", c, day(2025, 1, 1), 500)];
    assert_eq!(h.apply(other.id, first).await.unwrap().applied, 1);
    sampled(metrics, BEHIND, &[], 1.0).await;
    let age = Scrape::get(metrics).await.value(UNDELIVERED_AGE, &[]);
    assert!(age.is_some_and(|a| a > 0.0), "{age:?}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        h.scoring.deliver_subscriptions_once().await.unwrap();
        if Scrape::get(metrics).await.value(BEHIND, &[]) == Some(0.0) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still behind");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        Scrape::get(metrics).await.value(UNDELIVERED_AGE, &[]),
        Some(0.0)
    );
    h.ts.stop().await;
}
