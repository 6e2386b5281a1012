//! Storage of transactions, events and the outbox, in one database
//! transaction per batch: dedupe keys, rows and outbox entries commit together
//! or not at all.

mod events;
mod outbox;
mod partitions;
mod transactions;

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use rapport_kit::Db;
use sqlx::{Postgres, Sqlite};
use uuid::Uuid;

use crate::validate::Row;

pub(crate) use outbox::{NOTIFY_CHANNEL, OutboxRow, claim, finish, sweep, wake};
pub(crate) use transactions::StoredTransaction;

/// The ingestion repository.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    db: Db,
    /// Months (`year * 12 + month0`) whose partition is known to exist, so
    /// steady-state batches issue no DDL.
    partitions: Arc<Mutex<HashSet<i32>>>,
}

impl Store {
    /// Wraps the service's pool.
    pub(crate) fn new(db: Db) -> Self {
        Store {
            db,
            partitions: Arc::default(),
        }
    }
}

/// Claims the (source, external id) keys of `rows` in `sql`'s key table and
/// returns the ids of rows whose key was new. Keys go in sorted order, so two
/// batches sharing keys lock them in the same order and cannot deadlock.
async fn claim_keys_pg<C, T>(
    tx: &mut sqlx::Transaction<'static, Postgres>,
    sql: &str,
    tenant: Uuid,
    rows: &[Row<C, T>],
) -> Result<HashSet<Uuid>, sqlx::Error> {
    let mut keys: Vec<(&str, &str, Uuid)> = rows
        .iter()
        .map(|r| (r.source.as_str(), r.external_id.as_str(), r.id))
        .collect();
    keys.sort_unstable();
    let sources: Vec<&str> = keys.iter().map(|k| k.0).collect();
    let externals: Vec<&str> = keys.iter().map(|k| k.1).collect();
    let ids: Vec<Uuid> = keys.iter().map(|k| k.2).collect();
    let new: Vec<(Uuid,)> = sqlx::query_as(sql)
        .bind(tenant)
        .bind(&sources)
        .bind(&externals)
        .bind(&ids)
        .fetch_all(&mut **tx)
        .await?;
    Ok(new.into_iter().map(|(id,)| id).collect())
}

/// Queues one change per new row, in row order, and announces them to
/// relays on other replicas (Postgres delivers the notification on commit).
async fn queue_changes_pg(
    tx: &mut sqlx::Transaction<'static, Postgres>,
    tenant: Uuid,
    customers: Vec<Uuid>,
    changes: Vec<Vec<u8>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(include_str!("../../sql/postgres/insert_outbox.sql"))
        .bind(tenant)
        .bind(customers)
        .bind(changes)
        .execute(&mut **tx)
        .await?;
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(NOTIFY_CHANNEL)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Claims one key; true when it was new.
async fn claim_key_sqlite(
    tx: &mut sqlx::Transaction<'static, Sqlite>,
    table: KeyTable,
    tenant: &str,
    source: &str,
    external_id: &str,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    let sql = match table {
        KeyTable::Transactions => {
            "INSERT INTO transaction_keys (tenant_id, source, external_id, id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
        }
        KeyTable::Events => {
            "INSERT INTO event_keys (tenant_id, source, external_id, id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
        }
    };
    let done = sqlx::query(sql)
        .bind(tenant)
        .bind(source)
        .bind(external_id)
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Queues one change.
async fn queue_change_sqlite(
    tx: &mut sqlx::Transaction<'static, Sqlite>,
    tenant: &str,
    customer: Uuid,
    change: Vec<u8>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (tenant_id, customer_id, change, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(tenant)
    .bind(customer.to_string())
    .bind(change)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Which dedupe table a key goes to.
#[derive(Clone, Copy)]
enum KeyTable {
    Transactions,
    Events,
}
