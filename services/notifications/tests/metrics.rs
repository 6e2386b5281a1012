//! The Prometheus endpoint after deliveries: each outcome counted under its
//! channel (a dead letter also in the dead-letter counter), and the queue
//! sampled down to the messages scheduled for later.

mod support;

use std::{net::SocketAddr, time::Duration};

use rapport_kit::testing::{self, Backend, Scrape};
use support::{
    DEAD_LETTER, DELIVERED, Receiver, send, send_settled, server_with, stop, tenant, webhook,
    worker,
};

const OUTCOMES: &str = "rapport_notifications_outcomes_total";
const DEAD_LETTERED: &str = "rapport_notifications_dead_lettered_total";
const DEPTH: &str = "rapport_notifications_queue_depth";
const OVERDUE: &str = "rapport_notifications_queue_oldest_age_seconds";

fn webhook_outcome(outcome: &'static str) -> [(&'static str, &'static str); 2] {
    [("channel", "webhook"), ("outcome", outcome)]
}

/// One backend after the other: the counters are the whole process's, so
/// the two runs must not overlap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_are_counted_per_channel() {
    for backend in [Backend::Postgres, Backend::Sqlite] {
        outcomes_on(backend).await;
    }
}

async fn outcomes_on(backend: Backend) {
    let mut config = testing::config(backend).await;
    let metrics = SocketAddr::from(([127, 0, 0, 1], testing::free_port()));
    config.metrics_listen = Some(metrics);
    config.metrics_sample_ms = 100;
    let ts = server_with(config, |c| c.max_attempts = 2).await;
    let mut client = tenant(&ts, "acme").await;
    let workers = vec![worker(&ts)];
    let before = Scrape::get(metrics).await;

    // Delivered at once; then refused twice and given up on.
    let good = Receiver::start().await;
    let (_, n) = send_settled(&mut client, webhook("ok", "", &good.url("/h"))).await;
    assert_eq!(n.status, DELIVERED);
    let bad = Receiver::start().await;
    bad.always(503);
    let (_, n) = send_settled(&mut client, webhook("bad", "", &bad.url("/h"))).await;
    assert_eq!((n.status, n.attempt_count), (DEAD_LETTER, 2));

    let after = Scrape::get(metrics).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        after.count(name, labels) - before.count(name, labels)
    };
    assert_eq!(moved(OUTCOMES, &webhook_outcome("sent")), 1.0);
    assert_eq!(moved(OUTCOMES, &webhook_outcome("failed")), 1.0);
    assert_eq!(moved(OUTCOMES, &webhook_outcome("dead_lettered")), 1.0);
    assert_eq!(moved(OUTCOMES, &webhook_outcome("suppressed")), 0.0);
    assert_eq!(moved(DEAD_LETTERED, &[("channel", "webhook")]), 1.0);
    assert_eq!(after.types[OUTCOMES], "counter");

    // Only two messages scheduled for later are left: the sampled queue
    // holds them alone (never two before, as the others went one by one),
    // and nothing is overdue.
    for key in ["later-1", "later-2"] {
        let mut later = webhook(key, "", &good.url("/h"));
        later.send_at = Some(prost_types::Timestamp {
            seconds: chrono::Utc::now().timestamp() + 3_600,
            nanos: 0,
        });
        send(&mut client, later).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let scrape = Scrape::get(metrics).await;
        let depth = scrape.value(DEPTH, &[]);
        if depth == Some(2.0) {
            assert_eq!(scrape.value(OVERDUE, &[]), Some(0.0));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "queue depth reads {depth:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop(ts, workers).await;
}
