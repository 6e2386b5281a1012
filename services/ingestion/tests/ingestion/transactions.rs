//! Storing, listing, dedupe, customer resolution and streaming.

use rapport_kit::testing::{Backend, ok};
use rapport_proto::v1::{
    ExternalIdentity, IngestEventsRequest, IngestTransactionsRequest, InteractionEvent,
    ListTransactionsRequest, Transaction, TransactionKind, change_event::Change,
    transaction::Amount,
};
use tonic::Code;

use crate::support::{Harness, days_ago, ingest, ingest_events, txn};

rapport_kit::backend_tests!(
    accepted_rows_are_stored_and_listed_newest_first,
    the_same_batch_twice_is_stored_once,
    unknown_customers_are_created_once_per_identity,
    replays_of_a_deleted_customer_create_no_customer,
    known_customer_ids_are_checked_once_per_batch,
    streams_number_rows_across_messages,
    profiles_down_fails_unavailable_and_writes_nothing,
);

async fn accepted_rows_are_stored_and_listed_newest_first(backend: Backend) {
    let h = Harness::start(backend).await;
    let (tenant, mut client) = h.tenant("acme").await;
    let mut rows = Vec::new();
    // 70 and 1 days ago are in different calendar months, whatever today is.
    for (i, days) in [70, 1, 35].into_iter().enumerate() {
        let mut t = txn(&format!("T-{i}"), "C-1", 1000 + i as i64);
        t.occurred_at = Some(days_ago(days));
        rows.push(t);
    }
    let sent_at = rows[1].occurred_at.unwrap();
    rows[2].amount = Some(Amount::AmountDecimal("12.34".into()));
    rows[2].kind = TransactionKind::Refund as i32;
    rows[2].margin_minor = Some(-40);
    rows[2].cost_minor = Some(1274);
    rows[2].category = "shoes".into();
    let res = ingest(
        &mut client,
        IngestTransactionsRequest { transactions: rows },
    )
    .await;
    assert_eq!(
        (res.accepted, res.duplicates, res.rejected.len()),
        (3, 0, 0),
        "{res:?}"
    );

    let customer = h
        .profiles
        .customer_of(tenant, "erp", "C-1")
        .expect("identity resolved");
    let list = |page_size, page_token| ListTransactionsRequest {
        customer_id: customer.to_string(),
        page_size,
        page_token,
    };
    let page = ok(client.list_transactions(list(0, String::new()))).await;
    let ids: Vec<&str> = page
        .transactions
        .iter()
        .map(|t| t.external_id.as_str())
        .collect();
    assert_eq!(ids, ["T-1", "T-2", "T-0"]);
    assert!(page.next_page_token.is_empty());
    // Stored to the microsecond.
    let back = page.transactions[0].occurred_at.unwrap();
    assert_eq!(
        (back.seconds, back.nanos),
        (sent_at.seconds, sent_at.nanos / 1000 * 1000)
    );
    let refund = &page.transactions[1];
    assert_eq!(refund.amount, Some(Amount::AmountMinor(1234)));
    assert_eq!(refund.kind, TransactionKind::Refund as i32);
    assert_eq!(
        (refund.margin_minor, refund.cost_minor),
        (Some(-40), Some(1274))
    );
    assert_eq!(
        (refund.category.as_str(), refund.currency_code.as_str()),
        ("shoes", "EUR")
    );
    assert_eq!(refund.customer_id, customer.to_string());
    assert!(
        page.transactions
            .iter()
            .all(|t| uuid::Uuid::parse_str(&t.id).is_ok())
    );

    // Keyset paging walks the same order without repeats.
    let first = ok(client.list_transactions(list(2, String::new()))).await;
    assert_eq!(first.transactions.len(), 2);
    assert!(!first.next_page_token.is_empty());
    let second = ok(client.list_transactions(list(2, first.next_page_token))).await;
    assert_eq!(
        second
            .transactions
            .iter()
            .map(|t| t.external_id.as_str())
            .collect::<Vec<_>>(),
        ["T-0"]
    );
    assert!(second.next_page_token.is_empty());

    let bad = client
        .list_transactions(list(-1, "zz".into()))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);

    // Postgres keeps each month in its own partition; nothing fell through
    // to the default one.
    if backend == Backend::Postgres {
        let parts = h.partitions().await;
        assert!(parts.len() >= 3, "{parts:?}");
        assert!(
            parts
                .iter()
                .all(|p| p.starts_with("transactions_p") || p == "transactions_default")
        );
        assert_eq!(h.count("transactions_default").await, 0);
    }
    h.stop().await;
}

async fn the_same_batch_twice_is_stored_once(backend: Backend) {
    let h = Harness::start(backend).await;
    let (tenant, mut client) = h.tenant("acme").await;
    let mut batch: Vec<Transaction> = (0..4)
        .map(|i| txn(&format!("T-{i}"), "C-1", 100 * (i + 1)))
        .collect();
    // The same key again inside the batch, with another amount: the first wins.
    batch.push(txn("T-0", "C-1", 999_999));
    let req = IngestTransactionsRequest {
        transactions: batch,
    };
    let first = ingest(&mut client, req.clone()).await;
    assert_eq!((first.accepted, first.duplicates), (4, 1), "{first:?}");
    let again = ingest(&mut client, req).await;
    assert_eq!(
        (again.accepted, again.duplicates, again.rejected.len()),
        (0, 5, 0),
        "{again:?}"
    );

    assert_eq!(h.count("transactions").await, 4);

    // Two callers racing with the same new rows: each row is stored once.
    let racing: Vec<Transaction> = (10..40).map(|i| txn(&format!("T-{i}"), "C-1", 1)).collect();
    let req = IngestTransactionsRequest {
        transactions: racing,
    };
    let (mut c1, mut c2) = (client.clone(), client.clone());
    let (r1, r2) = tokio::join!(
        c1.ingest_transactions(req.clone()),
        c2.ingest_transactions(req)
    );
    let (r1, r2) = (r1.unwrap().into_inner(), r2.unwrap().into_inner());
    assert_eq!(
        (r1.accepted + r2.accepted, r1.duplicates + r2.duplicates),
        (30, 30)
    );
    assert_eq!(h.count("transactions").await, 34);
    assert_eq!(h.outbox().await.len(), 34);

    let customer = h.profiles.customer_of(tenant, "erp", "C-1").unwrap();
    let listed = ok(client.list_transactions(ListTransactionsRequest {
        customer_id: customer.to_string(),
        ..Default::default()
    }))
    .await
    .transactions;
    let t0 = listed.iter().find(|t| t.external_id == "T-0").unwrap();
    assert_eq!(t0.amount, Some(Amount::AmountMinor(100)));

    // One change per stored transaction, keyed by its id.
    let outbox = h.outbox().await;
    assert_eq!(outbox.len(), listed.len());
    let mut expected: Vec<String> = listed.iter().map(|t| format!("txn:{}", t.id)).collect();
    let mut queued: Vec<String> = outbox.iter().map(|(_, c)| c.id.clone()).collect();
    expected.sort();
    queued.sort();
    assert_eq!(queued, expected);
    for (t, change) in &outbox {
        assert_eq!(*t, tenant);
        assert_eq!(change.customer_id, customer.to_string());
        let Some(Change::Transaction(tc)) = &change.change else {
            panic!("not a transaction change")
        };
        assert_eq!(tc.currency_code, "EUR");
        assert_eq!(tc.kind, TransactionKind::Purchase as i32);
    }
    h.stop().await;
}

async fn unknown_customers_are_created_once_per_identity(backend: Backend) {
    let h = Harness::start(backend).await;
    let (tenant, mut client) = h.tenant("acme").await;
    let mut rows = vec![
        txn("T-1", "C-1", 100),
        txn("T-2", "C-1", 200),
        txn("T-3", "C-2", 300),
    ];
    // Same external id, another source system: another customer.
    rows[2].customer = Some(ExternalIdentity {
        source: "pos".into(),
        external_id: "C-2".into(),
    });
    rows.push(txn("T-4", "C-2", 400));
    let res = ingest(
        &mut client,
        IngestTransactionsRequest { transactions: rows },
    )
    .await;
    assert_eq!((res.accepted, res.customers_created), (4, 3), "{res:?}");
    let pos = h.profiles.customer_of(tenant, "pos", "C-2").unwrap();
    let erp = h.profiles.customer_of(tenant, "erp", "C-2").unwrap();
    assert_ne!(pos, erp);

    let res = ok(client.ingest_transactions(IngestTransactionsRequest {
        transactions: vec![txn("T-5", "C-1", 500)],
    }))
    .await;
    assert_eq!((res.accepted, res.customers_created), (1, 0));

    // The first batch resolves without creating, then creates the three
    // unknown customers; the second knows its customer after one call.
    let calls = h.profiles.state.lock().unwrap().resolve_calls.clone();
    let asked: Vec<_> = (calls.iter())
        .map(|(t, r)| (*t, r.create_missing, r.identities.len()))
        .collect();
    assert_eq!(
        asked,
        [(tenant, false, 3), (tenant, true, 3), (tenant, false, 1)],
        "distinct identities only"
    );
    h.stop().await;
}

/// Rows stored before whose customer is gone (erased, merged away) are
/// replays: counted as duplicates without creating the customer again.
async fn replays_of_a_deleted_customer_create_no_customer(backend: Backend) {
    let h = Harness::start(backend).await;
    let (tenant, mut client) = h.tenant("acme").await;
    let rows = vec![
        txn("T-1", "C-1", 100),
        txn("T-2", "C-1", 200),
        txn("T-3", "C-2", 300),
    ];
    let res = ingest(
        &mut client,
        IngestTransactionsRequest { transactions: rows },
    )
    .await;
    assert_eq!((res.accepted, res.customers_created), (3, 2), "{res:?}");
    let gone = h.profiles.delete_customer_of(tenant, "erp", "C-1");
    let calls_before = h.profiles.state.lock().unwrap().resolve_calls.len();

    // The whole file again, one row twice.
    let replay = vec![
        txn("T-1", "C-1", 100),
        txn("T-2", "C-1", 200),
        txn("T-3", "C-2", 300),
        txn("T-1", "C-1", 100),
    ];
    let res = ingest(
        &mut client,
        IngestTransactionsRequest {
            transactions: replay,
        },
    )
    .await;
    assert_eq!(
        (res.accepted, res.duplicates, res.customers_created),
        (0, 4, 0),
        "{res:?}"
    );
    assert!(res.rejected.is_empty(), "{res:?}");
    assert_eq!(h.profiles.customer_of(tenant, "erp", "C-1"), None);
    let calls = h.profiles.state.lock().unwrap().resolve_calls.clone();
    assert!(
        calls[calls_before..].iter().all(|(_, r)| !r.create_missing),
        "nothing asked to be created: {calls:?}"
    );

    // A new row for the unknown identity creates it.
    let res = ingest(
        &mut client,
        IngestTransactionsRequest {
            transactions: vec![txn("T-4", "C-1", 400)],
        },
    )
    .await;
    assert_eq!(
        (res.accepted, res.duplicates, res.customers_created),
        (1, 0, 1),
        "{res:?}"
    );
    let again = h.profiles.customer_of(tenant, "erp", "C-1").unwrap();
    assert_ne!(again, gone);

    // Mixed: a replay of the gone customer's row (twice), a replay of a
    // known customer's, new rows of an unknown customer (one of whose keys
    // is stored) and of a known one, and a row naming a missing id.
    h.profiles.delete_customer_of(tenant, "erp", "C-2");
    let by_id = Transaction {
        customer: None,
        customer_id: gone.to_string(),
        ..txn("T-9", "", 900)
    };
    let rows = vec![
        txn("T-3", "C-2", 300),
        txn("T-4", "C-1", 400),
        txn("T-5", "C-2", 500),
        txn("T-3", "C-2", 300),
        txn("T-6", "C-1", 600),
        by_id,
        txn("T-7", "C-3", 700),
    ];
    let res = ingest(
        &mut client,
        IngestTransactionsRequest { transactions: rows },
    )
    .await;
    assert_eq!(
        (res.accepted, res.duplicates, res.customers_created),
        (3, 3, 2),
        "{res:?}"
    );
    let rejected: Vec<_> = (res.rejected.iter())
        .map(|e| (e.index, e.field.as_str(), e.code))
        .collect();
    assert_eq!(
        rejected,
        [(5, "transactions[5].customer_id", Code::NotFound as i32)]
    );
    assert!(h.profiles.customer_of(tenant, "erp", "C-2").is_some());
    assert!(h.profiles.customer_of(tenant, "erp", "C-3").is_some());
    assert_eq!(h.count("transactions").await, 7);

    // Events alike.
    let event = |id: &str| InteractionEvent {
        source: "web".into(),
        external_id: id.into(),
        customer: Some(ExternalIdentity {
            source: String::new(),
            external_id: "V-1".into(),
        }),
        kind: "visit".into(),
        occurred_at: Some(days_ago(1)),
        ..Default::default()
    };
    let res = ingest_events(
        &mut client,
        IngestEventsRequest {
            events: vec![event("E-1")],
        },
    )
    .await;
    assert_eq!((res.accepted, res.customers_created), (1, 1), "{res:?}");
    h.profiles.delete_customer_of(tenant, "web", "V-1");
    let res = ingest_events(
        &mut client,
        IngestEventsRequest {
            events: vec![event("E-1")],
        },
    )
    .await;
    assert_eq!(
        (res.accepted, res.duplicates, res.customers_created),
        (0, 1, 0),
        "{res:?}"
    );
    assert_eq!(h.profiles.customer_of(tenant, "web", "V-1"), None);
    h.stop().await;
}

async fn known_customer_ids_are_checked_once_per_batch(backend: Backend) {
    let h = Harness::start(backend).await;
    let (tenant, mut client) = h.tenant("acme").await;
    let known = h.profiles.add_customer(tenant);
    let by_id = |ext: &str, id: String| Transaction {
        customer: None,
        customer_id: id,
        ..txn(ext, "", 100)
    };
    let rows = vec![
        by_id("T-1", known.to_string()),
        by_id("T-2", known.to_string()),
        by_id("T-3", uuid::Uuid::new_v4().to_string()),
    ];
    let res = ingest(
        &mut client,
        IngestTransactionsRequest { transactions: rows },
    )
    .await;
    assert_eq!(res.accepted, 2, "{res:?}");
    assert_eq!(res.rejected.len(), 1);
    assert_eq!(
        (res.rejected[0].index, res.rejected[0].field.as_str()),
        (2, "transactions[2].customer_id")
    );
    assert_eq!(res.rejected[0].code, Code::NotFound as i32);
    let (get_calls, resolve_calls) = {
        let state = h.profiles.state.lock().unwrap();
        (state.get_calls.len(), state.resolve_calls.clone())
    };
    assert_eq!(get_calls, 0, "no call per customer");
    assert_eq!(resolve_calls.len(), 1, "one call for the batch");
    let asked = &resolve_calls[0].1.customer_ids;
    assert_eq!(asked.len(), 2, "distinct ids only: {asked:?}");
    h.stop().await;
}

async fn streams_number_rows_across_messages(backend: Backend) {
    let h = Harness::start(backend).await;
    let (tenant, mut client) = h.tenant("acme").await;
    let mut bad = txn("T-bad", "C-1", 100);
    bad.currency_code = "XYZ".into();
    let messages = vec![
        IngestTransactionsRequest {
            transactions: vec![txn("T-1", "C-1", 100), txn("T-2", "C-2", 100)],
        },
        IngestTransactionsRequest {
            transactions: vec![txn("T-3", "C-1", 100), bad],
        },
        IngestTransactionsRequest {
            transactions: vec![],
        },
        IngestTransactionsRequest {
            transactions: vec![txn("T-1", "C-1", 100), txn("T-4", "C-3", 100)],
        },
    ];
    let res = ok(client.stream_transactions(tokio_stream::iter(messages))).await;
    assert_eq!(
        (res.accepted, res.duplicates, res.customers_created),
        (4, 1, 3),
        "{res:?}"
    );
    assert_eq!(res.rejected.len(), 1);
    assert_eq!(
        (res.rejected[0].index, res.rejected[0].field.as_str()),
        (3, "transactions[3].currency_code")
    );
    assert_eq!(h.count("transactions").await, 4);
    assert_eq!(h.outbox().await.len(), 4);
    assert!(h.profiles.customer_of(tenant, "erp", "C-3").is_some());
    h.stop().await;
}

async fn profiles_down_fails_unavailable_and_writes_nothing(backend: Backend) {
    let h = Harness::without_profiles(backend).await;
    let (_, mut client) = h.tenant("acme").await;
    let rows = vec![txn("T-1", "C-1", 100), txn("T-2", "C-2", 100)];
    let err = client
        .ingest_transactions(IngestTransactionsRequest { transactions: rows })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    let by_id = Transaction {
        customer: None,
        customer_id: uuid::Uuid::new_v4().to_string(),
        ..txn("T-3", "", 1)
    };
    let err = client
        .ingest_transactions(IngestTransactionsRequest {
            transactions: vec![by_id],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    for table in ["transaction_keys", "transactions", "outbox"] {
        assert_eq!(h.count(table).await, 0, "{table}");
    }
    h.stop().await;
}
