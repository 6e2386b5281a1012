//! Transactions: their batch insert on each backend (into monthly partitions
//! on Postgres) and the per-customer listing.

use chrono::{DateTime, Utc};
use rapport_kit::{
    Db,
    db::{Id, Time},
    on_pool,
};
use sqlx::{PgConnection, SqliteConnection};
use uuid::Uuid;

use super::{Repo, batch::Table};
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
    const CLAIM_KEYS: (&'static str, &'static str) = (
        include_str!("../../sql/postgres/insert_transaction_keys.sql"),
        include_str!("../../sql/sqlite/insert_transaction_key.sql"),
    );

    fn change(row: &Row<Uuid, Self>) -> Vec<u8> {
        change::transaction(row)
    }

    async fn insert_postgres(
        c: &mut PgConnection,
        tenant: Uuid,
        rows: &[&Row<Uuid, Self>],
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let text = |f: fn(&Row<Uuid, Self>) -> &str| rows.iter().map(|r| f(r)).collect::<Vec<_>>();
        // Every row carries the tenant's currency (validated).
        let currency = rows.first().map(|r| r.body.currency.as_str());
        sqlx::query(include_str!("../../sql/postgres/insert_transactions.sql"))
            .bind(tenant)
            .bind(currency)
            .bind(now)
            .bind(rows.iter().map(|r| r.customer).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.occurred_at).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
            .bind(text(|r| &r.source))
            .bind(text(|r| &r.external_id))
            .bind(text(|r| r.body.kind.as_str()))
            .bind(rows.iter().map(|r| r.body.amount_minor).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.body.margin_minor).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.body.cost_minor).collect::<Vec<_>>())
            .bind(text(|r| &r.body.category))
            .execute(c)
            .await
            .map(drop)
    }

    async fn insert_sqlite(
        c: &mut SqliteConnection,
        tenant: Uuid,
        r: &Row<Uuid, Self>,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(include_str!("../../sql/sqlite/insert_transaction.sql"))
            .bind(Id(tenant))
            .bind(Id(r.customer))
            .bind(Time(r.occurred_at))
            .bind(Id(r.id))
            .bind(&r.source)
            .bind(&r.external_id)
            .bind(r.body.kind.as_str())
            .bind(r.body.amount_minor)
            .bind(r.body.currency.as_str())
            .bind(r.body.margin_minor)
            .bind(r.body.cost_minor)
            .bind(&r.body.category)
            .bind(Time(now))
            .execute(c)
            .await
            .map(drop)
    }
}

impl Repo {
    /// Stores the rows whose (source, external id) is new for `tenant`, each
    /// with its outbox change, in one transaction. Returns how many were new.
    pub(crate) async fn insert_transactions(
        &self,
        tenant: Uuid,
        rows: &[Row<Uuid, TxnBody>],
    ) -> Result<u32, sqlx::Error> {
        if let Db::Postgres(pool) = &self.db
            && !rows.is_empty()
        {
            self.ensure_partitions(pool, rows.iter().map(|r| r.occurred_at))
                .await?;
        }
        self.write(tenant, rows).await
    }

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
