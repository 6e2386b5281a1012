//! One tenant's poison does not stall another's scores: more large events
//! than a relay batch holds (together more than scoring decodes in one
//! call) go through the real outbox relay while a second tenant's purchase
//! is scored within 10 s, and a purchase that would push a customer's
//! totals past 64 bits is refused at ingestion, row by row, so it never
//! reaches the relay. Run once with the services as separate servers on
//! Postgres, once embedded on SQLite. (A change scoring cannot apply is kept
//! as a dead letter: services/scoring/tests/dead_letters.rs.)

use std::{collections::HashMap, time::Duration};

use chrono::Utc;
use rapport::client::Clients;
use rapport_kit::{
    domain::{MAX_AMOUNT_MINOR, chrono_to_timestamp},
    testing::{self, Backend, ok},
};
use rapport_proto::v1::{
    IngestEventsRequest, IngestTransactionsRequest, InteractionEvent, ListDeadLettersRequest,
    Transaction,
};
use rapport_tests::{
    SplitSuite, all_in_one, customer_id, erp_customer as customer, purchase, score_once,
};

/// Purchases of the largest amount that ingestion's bound on a customer's
/// totals (half of `i64::MAX`, so every total scoring derives fits) lets in.
const NEAR_THE_LIMIT: usize = 4_611;

/// Rows per relay round, one round at a time: fewer than the large events,
/// so those alone fill every batch.
const RELAY_BATCH: &str = "100";

/// An event with the most and largest properties ingestion accepts (about
/// 52 KiB).
fn large_event(id: usize) -> InteractionEvent {
    let properties: HashMap<String, String> = (0..50)
        .map(|p| (format!("p{p:02}"), "x".repeat(1024)))
        .collect();
    InteractionEvent {
        source: "web".into(),
        external_id: format!("E-{id}"),
        customer: customer("BIG"),
        kind: "page_viewed".into(),
        occurred_at: Some(chrono_to_timestamp(Utc::now())),
        properties,
        ..Default::default()
    }
}

async fn ingest(clients: &mut Clients, transactions: Vec<Transaction>) {
    let n = transactions.len() as u32;
    let r = ok(clients
        .ingestion
        .ingest_transactions(IngestTransactionsRequest { transactions }))
    .await;
    assert_eq!(r.accepted, n, "{:?}", r.rejected);
}

async fn scenario(mut a: Clients, mut b: Clients) {
    // Tenant A's customer gets within one purchase of the limit.
    let rows: Vec<Transaction> = (0..NEAR_THE_LIMIT)
        .map(|i| purchase(&format!("T-{i}"), "BIG", (i % 300) as i64, MAX_AMOUNT_MINOR))
        .collect();
    for chunk in rows.chunks(2_000) {
        ingest(&mut a, chunk.to_vec()).await;
    }
    let big = customer_id(&mut a, "BIG").await;
    let near = |s: &rapport_proto::v1::Score| s.purchase_count == NEAR_THE_LIMIT as u64;
    let within = Duration::from_secs(120);
    assert!(score_once(&mut a, &big, within, near).await.is_some());

    // One purchase more is refused at ingestion, naming the field; then
    // the poison: 120 events of 52 KiB in one request, 6 MB queued at once.
    let over = vec![purchase("T-OVER", "BIG", 0, MAX_AMOUNT_MINOR)];
    let r = ok(a
        .ingestion
        .ingest_transactions(IngestTransactionsRequest { transactions: over }))
    .await;
    assert_eq!(r.accepted, 0, "{r:?}");
    let refusal = format!("{:?}", r.rejected);
    assert!(refusal.contains("amount_minor"), "{refusal}");
    assert!(refusal.contains("representable range"), "{refusal}");
    let events = (0..120).map(large_event).collect();
    let r = ok(a.ingestion.ingest_events(IngestEventsRequest { events })).await;
    assert_eq!(r.accepted, 120, "{:?}", r.rejected);

    // Tenant B's purchase, queued behind all of it, is scored within 10 s.
    ingest(&mut b, vec![purchase("B-1", "B1", 0, 1_234)]).await;
    let started = tokio::time::Instant::now();
    let b1 = customer_id(&mut b, "B1").await;
    let scored = score_once(&mut b, &b1, Duration::from_secs(10), |s| {
        s.purchase_count == 1
    })
    .await;
    assert!(
        scored.is_some(),
        "tenant B's purchase not scored within 10 s"
    );
    println!("tenant B scored after {:?}", started.elapsed());

    // A's events were applied, its refused purchase never counted, and
    // nothing reached scoring that it could not apply.
    let all_events = |s: &rapport_proto::v1::Score| s.interaction_count == 120;
    let s = score_once(&mut a, &big, Duration::from_secs(30), all_events).await;
    let s = s.expect("tenant A's events applied");
    assert_eq!(s.purchase_count, NEAR_THE_LIMIT as u64);
    for clients in [&mut a, &mut b] {
        let letters = ok(clients
            .scoring
            .list_dead_letters(ListDeadLettersRequest::default()))
        .await;
        assert_eq!(letters.total, 0, "{:?}", letters.dead_letters);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_on_postgres_holds_back_no_other_tenant() {
    let mut config = testing::config(Backend::Postgres).await;
    config.set("relay.batch_size", RELAY_BATCH).unwrap();
    config.set("relay.concurrency", "1").unwrap();
    let suite = SplitSuite::start(config).await;
    let (a, b) = suite.two_tenants().await;
    scenario(a, b).await;
    suite.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_on_the_embedded_store_holds_back_no_other_tenant() {
    let mut config = testing::config(Backend::Sqlite).await;
    config.set("relay.batch_size", RELAY_BATCH).unwrap();
    config.set("relay.concurrency", "1").unwrap();
    let suite = all_in_one::serving(config).await;
    let (a, b) = all_in_one::two_tenants(&suite).await;
    scenario(a, b).await;
    suite.stop().await.unwrap();
}
