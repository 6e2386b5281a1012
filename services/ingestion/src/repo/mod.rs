//! Storage of transactions, events and the outbox. A batch is written in one
//! database transaction: dedupe keys, rows and outbox entries commit together
//! or not at all.

mod batch;
mod events;
mod outbox;
mod partitions;
mod transactions;

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use chrono::Utc;
use rapport_kit::{Db, in_tx};
use uuid::Uuid;

use self::batch::{Batch, Table};
use crate::validate::Row;

pub(crate) use outbox::{NOTIFY_CHANNEL, OutboxRow, claim, finish, sweep, wake};
pub(crate) use transactions::StoredTransaction;

/// The ingestion repository.
#[derive(Clone, Debug)]
pub(crate) struct Repo {
    db: Db,
    /// Months (`year * 12 + month0`) whose partition is known to exist, so
    /// steady-state batches issue no DDL.
    partitions: Arc<Mutex<HashSet<i32>>>,
}

impl Repo {
    /// Wraps the service's pool.
    pub(crate) fn new(db: Db) -> Self {
        Repo {
            db,
            partitions: Arc::default(),
        }
    }

    /// Stores the rows whose (source, external id) is new for `tenant`, each
    /// with its outbox change, in one transaction, then wakes this process's
    /// relays. Returns how many were new.
    async fn write<T: Table>(
        &self,
        tenant: Uuid,
        rows: &[Row<Uuid, T>],
    ) -> Result<u32, sqlx::Error> {
        if rows.is_empty() {
            return Ok(0);
        }
        let now = Utc::now();
        let fresh = in_tx!(&self.db, tx => {
            let c = &mut *tx;
            let new = c.claim_keys(tenant, rows).await?;
            let fresh: Vec<&Row<Uuid, T>> = rows.iter().filter(|r| new.contains(&r.id)).collect();
            if !fresh.is_empty() {
                c.insert(tenant, &fresh, now).await?;
                c.queue_changes(tenant, &fresh, now).await?;
            }
            fresh.len() as u32
        });
        if fresh > 0 {
            wake().notify_one();
        }
        Ok(fresh)
    }
}
