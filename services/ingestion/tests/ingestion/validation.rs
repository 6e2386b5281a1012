//! Bad input: each bad row named with its field, the good rows kept.

use rapport_kit::testing::{Backend, violations};
use rapport_proto::v1::{
    ExternalIdentity, IngestTransactionsRequest, Transaction, TransactionKind, transaction::Amount,
};
use tonic::Code;

use crate::support::{Harness, ingest, txn};

rapport_kit::backend_tests!(
    bad_rows_are_refused_and_good_rows_kept,
    oversized_batches_are_refused_whole
);

async fn bad_rows_are_refused_and_good_rows_kept(backend: Backend) {
    let h = Harness::start(backend).await;
    let (_, mut client) = h.tenant("acme").await;
    let huge = "x".repeat(6 << 20);
    // The message must stay under the 16 MiB limit: two 6 MB strings, and
    // 1 MB ones for the other fields.
    let big = "x".repeat(1 << 20);
    let good = |i: usize| txn(&format!("T-{i}"), "C-1", 100);
    let with = |i: usize, f: &dyn Fn(&mut Transaction)| {
        let mut t = good(i);
        f(&mut t);
        t
    };
    // (row, expected field); the good rows sit between the bad ones.
    let cases: Vec<(Transaction, Option<&str>)> = vec![
        (good(0), None),
        (
            with(1, &|t| t.currency_code = "XYZ".into()),
            Some("currency_code"),
        ),
        (
            with(2, &|t| t.currency_code = "USD".into()),
            Some("currency_code"),
        ),
        (
            with(3, &|t| t.amount = Some(Amount::AmountDecimal("NaN".into()))),
            Some("amount_decimal"),
        ),
        (
            with(4, &|t| {
                t.amount = Some(Amount::AmountDecimal("9".repeat(40)))
            }),
            Some("amount_decimal"),
        ),
        (
            with(5, &|t| t.amount = Some(Amount::AmountMinor(i64::MAX))),
            Some("amount_minor"),
        ),
        (
            with(6, &|t| {
                t.occurred_at = Some(prost_types::Timestamp {
                    seconds: 253_370_764_800,
                    nanos: 0,
                })
            }),
            Some("occurred_at"),
        ),
        (with(7, &|t| t.customer = None), Some("customer")),
        (
            with(8, &|t| {
                t.customer = Some(ExternalIdentity {
                    source: String::new(),
                    external_id: String::new(),
                })
            }),
            Some("customer"),
        ),
        (with(9, &|t| t.category = huge.clone()), Some("category")),
        (
            with(10, &|t| t.external_id = huge.clone()),
            Some("external_id"),
        ),
        (good(11), None),
        (
            with(12, &|t| t.kind = TransactionKind::Unspecified as i32),
            Some("kind"),
        ),
        (with(13, &|t| t.amount = None), Some("amount")),
        (
            with(14, &|t| {
                t.amount = Some(Amount::AmountDecimal("1e5".into()))
            }),
            Some("amount_decimal"),
        ),
        (with(15, &|t| t.source = String::new()), Some("source")),
        (
            with(16, &|t| t.customer_id = "not-a-uuid".into()),
            Some("customer_id"),
        ),
        (good(17), None),
        (
            with(18, &|t| {
                t.customer = Some(ExternalIdentity {
                    source: big.clone(),
                    external_id: "C-1".into(),
                })
            }),
            Some("customer.source"),
        ),
        (with(19, &|t| t.id = big.clone()), Some("id")),
        (good(20), None),
    ];
    let expected: Vec<(u32, String)> = cases
        .iter()
        .enumerate()
        .filter_map(|(i, (_, f))| f.map(|f| (i as u32, format!("transactions[{i}].{f}"))))
        .collect();
    let rows = cases.into_iter().map(|(t, _)| t).collect();
    let res = ingest(
        &mut client,
        IngestTransactionsRequest { transactions: rows },
    )
    .await;
    assert_eq!(res.accepted, 4, "{:?}", res.rejected);
    let got: Vec<(u32, String)> = res
        .rejected
        .iter()
        .map(|e| (e.index, e.field.clone()))
        .collect();
    assert_eq!(got, expected);
    assert!(
        res.rejected
            .iter()
            .all(|e| e.code == Code::InvalidArgument as i32 && !e.reason.is_empty())
    );
    assert!(
        res.rejected.iter().all(|e| e.reason.len() < 500),
        "reasons do not echo huge input"
    );
    let wrong_currency = &res.rejected[1];
    assert!(
        wrong_currency.reason.contains("EUR"),
        "{}",
        wrong_currency.reason
    );
    assert_eq!(h.count("transactions").await, 4);
    assert_eq!(h.outbox().await.len(), 4);
    h.stop().await;
}

async fn oversized_batches_are_refused_whole(backend: Backend) {
    let h = Harness::start(backend).await;
    let (_, mut client) = h.tenant("acme").await;
    let rows = (0..10_001)
        .map(|i| txn(&format!("T-{i}"), "C-1", 1))
        .collect();
    let err = client
        .ingest_transactions(IngestTransactionsRequest { transactions: rows })
        .await
        .unwrap_err();
    assert_eq!(violations(&err)[0].0, "transactions");
    assert_eq!(h.count("transactions").await, 0);
    assert!(h.profiles.state.lock().unwrap().resolve_calls.is_empty());
    h.stop().await;
}
