//! The orders ListScores pages through and where a page starts. Each sort
//! expression is the one its index was built on, so it differs by backend.

use rapport_kit::{
    Db,
    db::Time,
    domain::{from_micros, to_micros},
    sql_for,
};
use sqlx::{
    Encode, Postgres, Sqlite, Type,
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgArgumentBuffer, PgTypeInfo},
    sqlite::{SqliteArgumentValue, SqliteTypeInfo},
};
use uuid::Uuid;

use super::rows::ScoreRow;

/// Measures ListScores orders by, highest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Purchases less refunds.
    NetSpend,
    /// Number of purchases.
    PurchaseCount,
    /// Latest purchase; customers without purchases come last.
    LastPurchase,
}

impl Order {
    /// Short name used in page tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Order::NetSpend => "net",
            Order::PurchaseCount => "count",
            Order::LastPurchase => "last",
        }
    }

    /// The measure of `row` this order sorts on; `None` only for a customer
    /// without purchases under [`Order::LastPurchase`].
    pub fn value_of(self, row: &ScoreRow) -> Option<i64> {
        match self {
            Order::NetSpend => Some(row.net_spend()),
            Order::PurchaseCount => Some(row.purchase_count),
            Order::LastPurchase => row.last_purchase_at.map(to_micros),
        }
    }

    /// The sort expression and the expression the cursor value (`$2`) is
    /// compared through: the same shape, so the index serves both.
    pub(super) fn sort_sql(self, db: &Db) -> (&'static str, &'static str) {
        const NET: &str = "(purchase_total_minor - refund_total_minor)";
        match self {
            Order::NetSpend => (NET, sql_for!(db, postgres = "$2::bigint", sqlite = "$2")),
            Order::PurchaseCount => (
                "purchase_count",
                sql_for!(db, postgres = "$2::bigint", sqlite = "$2"),
            ),
            // Customers without a purchase sort below every real time.
            Order::LastPurchase => sql_for!(
                db,
                postgres = (
                    "COALESCE(last_purchase_at, '-infinity'::timestamptz)",
                    "COALESCE($2::timestamptz, '-infinity'::timestamptz)",
                ),
                sqlite = (
                    "COALESCE(last_purchase_at, -9223372036854775808)",
                    "COALESCE($2, -9223372036854775808)",
                ),
            ),
        }
    }
}

/// Where a page of ListScores starts: after this (value, customer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The order's value of the last row served (see [`Order::value_of`]).
    pub value: Option<i64>,
    /// The last row's customer, breaking ties.
    pub customer_id: Uuid,
}

/// A cursor's last purchase in microseconds, bound as the column holds it: a
/// `timestamptz` on Postgres, the microseconds as given on SQLite.
pub(super) struct LastPurchase(pub Option<i64>);

impl Type<Postgres> for LastPurchase {
    fn type_info() -> PgTypeInfo {
        <Time as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for LastPurchase {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        let at = self.0.map(|m| Time(from_micros(m)));
        <Option<Time> as Encode<'_, Postgres>>::encode_by_ref(&at, buf)
    }
}

impl Type<Sqlite> for LastPurchase {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }
}

impl<'q> Encode<'q, Sqlite> for LastPurchase {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <Option<i64> as Encode<'q, Sqlite>>::encode_by_ref(&self.0, buf)
    }
}
