//! Transactions: the columns of their own that a batch insert binds, and the
//! per-customer listing.

use chrono::{DateTime, Utc};
use rapport_kit::{
    db::{Id, Time},
    on_pool,
};
use uuid::Uuid;

use super::{
    Repo,
    batch::{PerBackend, PgQuery, SqliteQuery, Table, column, per_backend},
    totals::{Totals, Weight},
};
use crate::{
    change,
    validate::{Row, transaction::Kind, transaction::TxnBody},
};

/// A transaction as stored.
#[derive(Debug, Clone)]
pub(crate) struct StoredTransaction {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub source: String,
    pub external_id: String,
    pub kind: Option<Kind>,
    pub occurred_at: DateTime<Utc>,
    pub amount_minor: i64,
    pub currency_code: String,
    pub margin_minor: Option<i64>,
    pub cost_minor: Option<i64>,
    pub category: String,
}

type StoredRow = (
    Id,
    Id,
    String,
    String,
    String,
    Time,
    i64,
    String,
    Option<i64>,
    Option<i64>,
    String,
);

impl Table for TxnBody {
    const WHAT: &'static str = "transaction";
    const CLAIM_KEYS: PerBackend =
        per_backend!("insert_transaction_keys", "insert_transaction_key");
    const STORED_KEYS: PerBackend =
        per_backend!("stored_transaction_keys", "stored_transaction_keys");
    const INSERT: PerBackend = per_backend!("insert_transactions", "insert_transaction");
    const CHANGE: Option<fn(&Row<Uuid, Self>) -> Vec<u8>> = Some(change::transaction);
    const TOTALS: Option<Totals<Self>> = Some(Totals {
        unclaim: per_backend!("delete_transaction_keys", "delete_transaction_key"),
        weight,
    });

    fn bind_columns<'q>(query: PgQuery<'q>, rows: &[&'q Row<Uuid, Self>]) -> PgQuery<'q> {
        // Every row carries the tenant's currency (validated).
        let currency = rows.first().map(|r| r.body.currency.as_str());
        query
            .bind(column(rows, |r| r.body.kind.as_str()))
            .bind(column(rows, |r| r.body.amount_minor))
            .bind(column(rows, |r| r.body.margin_minor))
            .bind(column(rows, |r| r.body.cost_minor))
            .bind(column(rows, |r| r.body.category.as_str()))
            .bind(currency)
    }

    fn bind_values<'q>(query: SqliteQuery<'q>, r: &'q Row<Uuid, Self>) -> SqliteQuery<'q> {
        let b = &r.body;
        query
            .bind(b.kind.as_str())
            .bind(b.amount_minor)
            .bind(b.currency.as_str())
            .bind(b.margin_minor)
            .bind(b.cost_minor)
            .bind(&b.category)
    }
}

/// The largest of |amount|, |margin| and cost: the most the transaction can
/// move any of its customer's totals, whichever of them scoring derives its
/// margin from. Ties name the amount.
fn weight(b: &TxnBody) -> Weight {
    let of = |v: Option<i64>, field| Weight {
        minor: v.unwrap_or(0).saturating_abs(),
        field,
    };
    [
        of(Some(b.amount_minor), b.amount_field),
        of(b.margin_minor, "margin_minor"),
        of(b.cost_minor, "cost_minor"),
    ]
    .into_iter()
    .reduce(|most, w| if w.minor > most.minor { w } else { most })
    .unwrap_or(of(None, b.amount_field))
}

impl Repo {
    /// Up to `limit` of a customer's transactions, newest first, strictly
    /// after the keyset cursor `after` (occurred_at, id) when given.
    pub(crate) async fn list_transactions(
        &self,
        tenant: Uuid,
        customer: Uuid,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> Result<Vec<StoredTransaction>, sqlx::Error> {
        // Past every stored time (those are at most a day ahead of now), so
        // the first page needs no query of its own.
        let (at, id) = after.unwrap_or_else(|| (far_future(), Uuid::max()));
        let rows: Vec<StoredRow> = on_pool!(&self.db, pool => {
            sqlx::query_as(include_str!("../../sql/list_transactions.sql"))
                .bind(Id(tenant))
                .bind(Id(customer))
                .bind(Time(at))
                .bind(Id(id))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(stored).collect())
    }
}

/// 9999-12-31T23:59:59Z: later than anything accepted, and representable in
/// both stores.
fn far_future() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn stored(r: StoredRow) -> StoredTransaction {
    StoredTransaction {
        id: r.0.0,
        customer_id: r.1.0,
        source: r.2,
        external_id: r.3,
        kind: Kind::from_stored(&r.4),
        occurred_at: r.5.0,
        amount_minor: r.6,
        currency_code: r.7,
        margin_minor: r.8,
        cost_minor: r.9,
        category: r.10,
    }
}
