//! A transaction that would push its customer's totals past what scoring
//! can represent is refused on its own row; resent rows do not count twice.

use rapport_kit::{db::Db, domain::MAX_AMOUNT_MINOR, testing::Backend};
use rapport_proto::v1::{IngestTransactionsRequest, IngestTransactionsResponse, Transaction};

use crate::support::{Client, Harness, ingest, txn};

rapport_kit::backend_tests!(
    a_purchase_past_the_customers_total_is_refused_alone,
    resent_transactions_do_not_count_twice,
    totals_count_transactions_stored_before_they_were_kept,
    concurrent_batches_for_one_customer_cannot_both_pass,
);

/// The most a customer's transactions may add up to (half of i64, so
/// scoring's totals and their differences fit).
const BOUND: i64 = i64::MAX / 2;
/// How many purchases of the largest amount fit under it.
const FULL: i64 = BOUND / MAX_AMOUNT_MINOR;
/// What is left under the bound after `FULL` such purchases.
const LEFT: i64 = BOUND - FULL * MAX_AMOUNT_MINOR;

const REASON: &str = "the customer's total amount would exceed the representable range";

/// `FULL` purchases of the largest amount by C-1, keys `prefix-0`...
fn fill(prefix: &str) -> IngestTransactionsRequest {
    largest(prefix, FULL)
}

/// `n` purchases of the largest amount by C-1, keys `prefix-0`...
fn largest(prefix: &str, n: i64) -> IngestTransactionsRequest {
    let transactions = (0..n)
        .map(|i| txn(&format!("{prefix}-{i}"), "C-1", MAX_AMOUNT_MINOR))
        .collect();
    IngestTransactionsRequest { transactions }
}

async fn send(client: &mut Client, rows: Vec<Transaction>) -> IngestTransactionsResponse {
    ingest(client, IngestTransactionsRequest { transactions: rows }).await
}

/// (index, field, reason) of each refused row.
fn refused(res: &IngestTransactionsResponse) -> Vec<(u32, &str, &str)> {
    let rows = res.rejected.iter();
    rows.map(|e| (e.index, e.field.as_str(), e.reason.as_str()))
        .collect()
}

async fn a_purchase_past_the_customers_total_is_refused_alone(backend: Backend) {
    let h = Harness::start(backend).await;
    let (_, mut client) = h.tenant("acme").await;
    let full = ingest(&mut client, fill("F")).await;
    assert_eq!(full.accepted as i64, FULL, "{:?}", full.rejected.first());

    let mut by_margin = txn("M-1", "C-1", 1);
    by_margin.margin_minor = Some(-MAX_AMOUNT_MINOR);
    let res = send(
        &mut client,
        vec![
            txn("X-1", "C-1", MAX_AMOUNT_MINOR),
            txn("O-1", "C-2", MAX_AMOUNT_MINOR),
            by_margin,
            txn("L-1", "C-1", LEFT),
        ],
    )
    .await;
    assert_eq!(
        refused(&res),
        [
            (0, "transactions[0].amount_minor", REASON),
            (2, "transactions[2].margin_minor", REASON)
        ]
    );
    assert_eq!(res.rejected[0].code, tonic::Code::InvalidArgument as i32);
    // The other customer's purchase and the one that exactly fills C-1's
    // total are stored, and only they are announced to scoring.
    assert_eq!((res.accepted, res.duplicates), (2, 0), "{res:?}");
    assert_eq!(h.count("transactions").await, FULL + 2);
    assert_eq!(h.count("outbox").await, FULL + 2);

    // C-1 is full: a single minor unit more is refused, and the refused
    // row sent again is refused again, not taken for a duplicate.
    let again = send(
        &mut client,
        vec![txn("X-2", "C-1", 1), txn("X-1", "C-1", MAX_AMOUNT_MINOR)],
    )
    .await;
    assert_eq!(
        refused(&again),
        [
            (0, "transactions[0].amount_minor", REASON),
            (1, "transactions[1].amount_minor", REASON)
        ]
    );
    assert_eq!((again.accepted, again.duplicates), (0, 0), "{again:?}");
    assert_eq!(h.count("transactions").await, FULL + 2);
    h.stop().await;
}

async fn resent_transactions_do_not_count_twice(backend: Backend) {
    let h = Harness::start(backend).await;
    let (_, mut client) = h.tenant("acme").await;
    let first = ingest(&mut client, fill("F")).await;
    assert_eq!(first.accepted as i64, FULL);
    let resent = ingest(&mut client, fill("F")).await;
    assert_eq!(
        (
            resent.accepted,
            resent.duplicates as i64,
            resent.rejected.len()
        ),
        (0, FULL, 0),
        "{:?}",
        resent.rejected.first()
    );
    // Had the duplicates counted, nothing more would fit; what is left
    // still does, once (the repeat in the same request is a duplicate).
    let last = send(
        &mut client,
        vec![txn("L-1", "C-1", LEFT), txn("L-1", "C-1", LEFT)],
    )
    .await;
    assert_eq!(
        (last.accepted, last.duplicates, last.rejected.len()),
        (1, 1, 0),
        "{last:?}"
    );
    assert_eq!(h.count("transactions").await, FULL + 1);
    h.stop().await;
}

async fn totals_count_transactions_stored_before_they_were_kept(backend: Backend) {
    let h = Harness::start(backend).await;
    let (_, mut client) = h.tenant("acme").await;
    assert_eq!(ingest(&mut client, fill("F")).await.accepted as i64, FULL);
    // As before the migration that keeps totals: the table is made again
    // from the transactions already stored.
    let migration = match h.db {
        Db::Postgres(_) => include_str!("../../migrations/postgres/0003_customer_totals.sql"),
        Db::Sqlite(_) => include_str!("../../migrations/sqlite/0003_customer_totals.sql"),
    };
    let rebuild = format!("DROP TABLE customer_totals;\n{migration}");
    rapport_kit::on_pool!(&h.db, pool => {
        sqlx::raw_sql(&rebuild).execute(pool).await.unwrap();
    });
    let res = send(
        &mut client,
        vec![txn("X-1", "C-1", MAX_AMOUNT_MINOR), txn("L-1", "C-1", LEFT)],
    )
    .await;
    assert_eq!(refused(&res), [(0, "transactions[0].amount_minor", REASON)]);
    assert_eq!(res.accepted, 1, "{res:?}");
    h.stop().await;
}

async fn concurrent_batches_for_one_customer_cannot_both_pass(backend: Backend) {
    let h = Harness::start(backend).await;
    let (_, mut client) = h.tenant("acme").await;
    // C-1 exists and has exactly `FULL` purchases of the largest amount left.
    assert_eq!(
        send(&mut client, vec![txn("L-1", "C-1", LEFT)])
            .await
            .accepted,
        1
    );
    // Each batch fits alone; together they are one purchase too many.
    let half = FULL / 2 + 1;
    let (mut a, mut b) = (client.clone(), client.clone());
    let (ra, rb) = tokio::join!(
        ingest(&mut a, largest("A", half)),
        ingest(&mut b, largest("B", half))
    );
    assert_eq!(
        (
            i64::from(ra.accepted + rb.accepted),
            ra.rejected.len() + rb.rejected.len()
        ),
        (FULL, (2 * half - FULL) as usize),
        "{:?} {:?}",
        ra.rejected.first(),
        rb.rejected.first()
    );
    assert_eq!(h.count("transactions").await, FULL + 1);
    h.stop().await;
}
