//! Tenants never see or touch each other's data; strangers are refused.

use rapport_kit::testing::{Backend, ok};
use rapport_proto::v1::{
    IngestEventsRequest, IngestTransactionsRequest, ListTransactionsRequest, Transaction,
};
use tonic::Code;

use crate::support::{Harness, ingest, txn};

rapport_kit::backend_tests!(tenants_are_isolated, unauthenticated_calls_are_refused);

async fn tenants_are_isolated(backend: Backend) {
    let h = Harness::start(backend).await;
    let (tenant_a, mut a) = h.tenant("acme").await;
    let (tenant_b, mut b) = h.tenant("globex").await;
    let batch = IngestTransactionsRequest {
        transactions: vec![txn("T-1", "C-1", 100), txn("T-2", "C-1", 200)],
    };
    let res = ingest(&mut a, batch.clone()).await;
    assert_eq!(res.accepted, 2);
    let customer_a = h.profiles.customer_of(tenant_a, "erp", "C-1").unwrap();

    // B cannot list A's customer.
    let list = ListTransactionsRequest {
        customer_id: customer_a.to_string(),
        ..Default::default()
    };
    let seen = ok(b.list_transactions(list.clone())).await;
    assert!(seen.transactions.is_empty() && seen.next_page_token.is_empty());

    // The same keys are B's own rows, not duplicates of A's, and B's "C-1" is
    // another customer.
    let res = ingest(&mut b, batch).await;
    assert_eq!(
        (res.accepted, res.duplicates, res.customers_created),
        (2, 0, 1)
    );
    let customer_b = h.profiles.customer_of(tenant_b, "erp", "C-1").unwrap();
    assert_ne!(customer_a, customer_b);

    // B cannot book onto A's customer by id.
    let onto_a = Transaction {
        customer: None,
        customer_id: customer_a.to_string(),
        ..txn("T-9", "", 1)
    };
    let res = ok(b.ingest_transactions(IngestTransactionsRequest {
        transactions: vec![onto_a],
    }))
    .await;
    assert_eq!(res.accepted, 0);
    assert_eq!(res.rejected[0].field, "transactions[0].customer_id");

    // A still sees exactly its own two rows; B's changes carry B's tenant.
    let mine = ok(a.list_transactions(list)).await.transactions;
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().all(|t| t.customer_id == customer_a.to_string()));
    let outbox = h.outbox().await;
    assert_eq!(outbox.iter().filter(|(t, _)| *t == tenant_a).count(), 2);
    assert_eq!(outbox.iter().filter(|(t, _)| *t == tenant_b).count(), 2);
    h.stop().await;
}

async fn unauthenticated_calls_are_refused(backend: Backend) {
    let h = Harness::start(backend).await;
    let (_, mut stranger) = (0, h.client("rpk_not_a_key"));
    let batch = IngestTransactionsRequest {
        transactions: vec![txn("T-1", "C-1", 100)],
    };
    let codes = [
        stranger
            .ingest_transactions(batch.clone())
            .await
            .unwrap_err()
            .code(),
        stranger
            .stream_transactions(tokio_stream::iter(vec![batch]))
            .await
            .unwrap_err()
            .code(),
        stranger
            .ingest_events(IngestEventsRequest::default())
            .await
            .unwrap_err()
            .code(),
        stranger
            .list_transactions(ListTransactionsRequest::default())
            .await
            .unwrap_err()
            .code(),
    ];
    assert_eq!(codes, [Code::Unauthenticated; 4]);
    let mut anonymous =
        rapport_proto::v1::ingestion_service_client::IngestionServiceClient::new(h.ts.channel());
    let err = anonymous
        .ingest_events(IngestEventsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert_eq!(h.count("transactions").await, 0);
    h.stop().await;
}
