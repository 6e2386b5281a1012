//! The outbox relay's lag on the metrics endpoint: rows waiting and the age
//! of the oldest, sampled from the database.

use std::net::SocketAddr;

use rapport_kit::testing::{self, Backend, Scrape};
use rapport_proto::v1::IngestTransactionsRequest;

use crate::support::{Harness, eventually, ingest, txn};

const ROWS: &str = "rapport_ingestion_outbox_rows";
const AGE: &str = "rapport_ingestion_outbox_oldest_age_seconds";

/// One backend after the other: the gauges are the whole process's, so the
/// two runs must not overlap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_lag_is_sampled() {
    for backend in [Backend::Postgres, Backend::Sqlite] {
        outbox_lag_on(backend).await;
    }
}

async fn outbox_lag_on(backend: Backend) {
    let metrics = SocketAddr::from(([127, 0, 0, 1], testing::free_port()));
    // No relay: what is ingested waits in the outbox.
    let h = Harness::configured(backend, |c| {
        c.metrics_listen = Some(metrics);
        c.metrics_sample_ms = 100;
    })
    .await;
    let (_, mut client) = h.tenant("acme").await;
    eventually("the empty outbox sampled", || async {
        Scrape::get(metrics).await.value(ROWS, &[]) == Some(0.0)
    })
    .await;
    assert_eq!(Scrape::get(metrics).await.value(AGE, &[]), Some(0.0));

    let rows = (0..5).map(|i| txn(&format!("T-{i}"), "C-1", 100)).collect();
    let res = ingest(
        &mut client,
        IngestTransactionsRequest { transactions: rows },
    )
    .await;
    assert_eq!(res.accepted, 5);
    assert_eq!(h.count("outbox").await, 5);
    eventually("five rows waiting, the oldest for a while", || async {
        let scrape = Scrape::get(metrics).await;
        scrape.value(ROWS, &[]) == Some(5.0) && scrape.value(AGE, &[]).is_some_and(|a| a > 0.0)
    })
    .await;
    h.stop().await;
}
