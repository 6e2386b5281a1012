//! The outbox relay: every change reaches scoring once, and nothing is lost
//! while scoring is down.

use std::collections::HashSet;

use rapport_kit::testing::Backend;
use rapport_proto::v1::{IngestEventsRequest, IngestTransactionsRequest};

use crate::support::{FakeScoring, Harness, closed_port, eventually, ingest, ingest_events, txn};

rapport_kit::backend_tests!(
    relay_delivers_each_change_once,
    relay_keeps_changes_until_scoring_is_up
);

async fn relay_delivers_each_change_once(backend: Backend) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let h = Harness::with_scoring(backend, addr).await;
    let scoring = FakeScoring::start(&h.token(), listener);
    let (tenant_a, mut a) = h.tenant("acme").await;
    let (tenant_b, mut b) = h.tenant("globex").await;
    for i in 0..3 {
        let rows = (0..20)
            .map(|j| txn(&format!("T-{i}-{j}"), &format!("C-{j}"), 100))
            .collect();
        let req = IngestTransactionsRequest { transactions: rows };
        assert_eq!(ingest(&mut a, req.clone()).await.accepted, 20);
        assert_eq!(ingest(&mut b, req).await.accepted, 20);
    }
    let events = IngestEventsRequest {
        events: vec![crate::events::event("E-1", "visit")],
    };
    assert_eq!(ingest_events(&mut a, events).await.accepted, 1);

    eventually("all changes delivered and the outbox drained", || async {
        scoring.ids().len() >= 121 && h.count("outbox").await == 0
    })
    .await;
    let ids = scoring.ids();
    assert_eq!(ids.len(), 121);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        121,
        "each change delivered once"
    );
    let received = scoring.received.lock().unwrap().clone();
    assert_eq!(received.iter().filter(|(t, _)| *t == tenant_a).count(), 61);
    assert_eq!(received.iter().filter(|(t, _)| *t == tenant_b).count(), 60);
    assert!(received.iter().any(|(_, c)| c.id.starts_with("evt:")));
    h.stop().await;
}

async fn relay_keeps_changes_until_scoring_is_up(backend: Backend) {
    let addr = closed_port().await;
    let h = Harness::with_scoring(backend, addr).await;
    let (_, mut a) = h.tenant("acme").await;
    let rows = (0..5).map(|i| txn(&format!("T-{i}"), "C-1", 100)).collect();
    let res = ingest(&mut a, IngestTransactionsRequest { transactions: rows }).await;
    assert_eq!(res.accepted, 5);

    // Several relay rounds fail against the closed port; the changes stay.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(h.count("outbox").await, 5);

    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let scoring = FakeScoring::start(&h.token(), listener);
    eventually("changes delivered once scoring is up", || async {
        scoring.ids().len() >= 5 && h.count("outbox").await == 0
    })
    .await;
    let ids = scoring.ids();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 5);
    assert_eq!(ids.len(), 5, "each change delivered once");
    h.stop().await;
}
