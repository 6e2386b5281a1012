//! Transactions: the batch write and the per-customer listing.

use chrono::{DateTime, Utc};
use rapport_kit::{
    Db,
    domain::{from_micros, to_micros},
};
use uuid::Uuid;

use super::{
    KeyTable, Store, claim_key_sqlite, claim_keys_pg, queue_change_sqlite, queue_changes_pg,
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

type PgRow = (
    Uuid,
    Uuid,
    String,
    String,
    String,
    DateTime<Utc>,
    i64,
    String,
    Option<i64>,
    Option<i64>,
    String,
);
type SqliteRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    Option<i64>,
    Option<i64>,
    String,
);

impl Store {
    /// Stores the rows whose (source, external id) is new for `tenant`, each
    /// with its outbox change, in one transaction. Returns how many were new.
    pub(crate) async fn insert_transactions(
        &self,
        tenant: Uuid,
        rows: &[Row<Uuid, TxnBody>],
    ) -> Result<u32, sqlx::Error> {
        if rows.is_empty() {
            return Ok(0);
        }
        match &self.db {
            Db::Postgres(pool) => {
                self.ensure_partitions(pool, rows.iter().map(|r| r.occurred_at))
                    .await?;
                let mut tx = pool.begin().await?;
                let sql = include_str!("../../sql/postgres/insert_transaction_keys.sql");
                let new = claim_keys_pg(&mut tx, sql, tenant, rows).await?;
                let fresh: Vec<&Row<Uuid, TxnBody>> =
                    rows.iter().filter(|r| new.contains(&r.id)).collect();
                if !fresh.is_empty() {
                    // Every row carries the tenant's currency (validated).
                    let currency = fresh[0].body.currency.as_str();
                    sqlx::query(include_str!("../../sql/postgres/insert_transactions.sql"))
                        .bind(tenant)
                        .bind(currency)
                        .bind(Utc::now())
                        .bind(fresh.iter().map(|r| r.customer).collect::<Vec<_>>())
                        .bind(fresh.iter().map(|r| r.occurred_at).collect::<Vec<_>>())
                        .bind(fresh.iter().map(|r| r.id).collect::<Vec<_>>())
                        .bind(fresh.iter().map(|r| r.source.as_str()).collect::<Vec<_>>())
                        .bind(
                            fresh
                                .iter()
                                .map(|r| r.external_id.as_str())
                                .collect::<Vec<_>>(),
                        )
                        .bind(
                            fresh
                                .iter()
                                .map(|r| r.body.kind.as_str())
                                .collect::<Vec<_>>(),
                        )
                        .bind(
                            fresh
                                .iter()
                                .map(|r| r.body.amount_minor)
                                .collect::<Vec<_>>(),
                        )
                        .bind(
                            fresh
                                .iter()
                                .map(|r| r.body.margin_minor)
                                .collect::<Vec<_>>(),
                        )
                        .bind(fresh.iter().map(|r| r.body.cost_minor).collect::<Vec<_>>())
                        .bind(
                            fresh
                                .iter()
                                .map(|r| r.body.category.as_str())
                                .collect::<Vec<_>>(),
                        )
                        .execute(&mut *tx)
                        .await?;
                    let customers = fresh.iter().map(|r| r.customer).collect();
                    let changes = fresh.iter().map(|r| change::transaction(r)).collect();
                    queue_changes_pg(&mut tx, tenant, customers, changes).await?;
                }
                tx.commit().await?;
                if !fresh.is_empty() {
                    super::wake().notify_one();
                }
                Ok(fresh.len() as u32)
            }
            Db::Sqlite(pool) => {
                let tenant = tenant.to_string();
                let now = to_micros(Utc::now());
                let mut tx = pool.begin().await?;
                let mut inserted = 0;
                for r in rows {
                    if !claim_key_sqlite(
                        &mut tx,
                        KeyTable::Transactions,
                        &tenant,
                        &r.source,
                        &r.external_id,
                        r.id,
                    )
                    .await?
                    {
                        continue;
                    }
                    sqlx::query(include_str!("../../sql/sqlite/insert_transaction.sql"))
                        .bind(&tenant)
                        .bind(r.customer.to_string())
                        .bind(to_micros(r.occurred_at))
                        .bind(r.id.to_string())
                        .bind(&r.source)
                        .bind(&r.external_id)
                        .bind(r.body.kind.as_str())
                        .bind(r.body.amount_minor)
                        .bind(r.body.currency.as_str())
                        .bind(r.body.margin_minor)
                        .bind(r.body.cost_minor)
                        .bind(&r.body.category)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    queue_change_sqlite(&mut tx, &tenant, r.customer, change::transaction(r), now)
                        .await?;
                    inserted += 1;
                }
                tx.commit().await?;
                if inserted > 0 {
                    super::wake().notify_one();
                }
                Ok(inserted)
            }
        }
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
        match &self.db {
            Db::Postgres(pool) => {
                let rows: Vec<PgRow> =
                    sqlx::query_as(include_str!("../../sql/postgres/list_transactions.sql"))
                        .bind(tenant)
                        .bind(customer)
                        .bind(at)
                        .bind(id)
                        .bind(i64::from(limit))
                        .fetch_all(pool)
                        .await?;
                Ok(rows.into_iter().map(from_pg).collect())
            }
            Db::Sqlite(pool) => {
                let rows: Vec<SqliteRow> =
                    sqlx::query_as(include_str!("../../sql/sqlite/list_transactions.sql"))
                        .bind(tenant.to_string())
                        .bind(customer.to_string())
                        .bind(to_micros(at))
                        .bind(id.to_string())
                        .bind(i64::from(limit))
                        .fetch_all(pool)
                        .await?;
                rows.into_iter().map(from_sqlite).collect()
            }
        }
    }
}

/// 9999-12-31T23:59:59Z: later than anything accepted, and representable in
/// both stores.
fn far_future() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn from_pg(r: PgRow) -> StoredTransaction {
    StoredTransaction {
        id: r.0,
        customer_id: r.1,
        source: r.2,
        external_id: r.3,
        kind: Kind::from_stored(&r.4),
        occurred_at: r.5,
        amount_minor: r.6,
        currency_code: r.7,
        margin_minor: r.8,
        cost_minor: r.9,
        category: r.10,
    }
}

fn from_sqlite(r: SqliteRow) -> Result<StoredTransaction, sqlx::Error> {
    let uuid = |s: &str| Uuid::parse_str(s).map_err(|e| sqlx::Error::Decode(Box::new(e)));
    Ok(StoredTransaction {
        id: uuid(&r.0)?,
        customer_id: uuid(&r.1)?,
        source: r.2,
        external_id: r.3,
        kind: Kind::from_stored(&r.4),
        occurred_at: from_micros(r.5),
        amount_minor: r.6,
        currency_code: r.7,
        margin_minor: r.8,
        cost_minor: r.9,
        category: r.10,
    })
}
