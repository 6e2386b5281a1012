//! Storage of transactions, events and the outbox. A batch is written in one
//! database transaction: dedupe keys, rows and outbox entries commit together
//! or not at all.

mod batch;
mod events;
mod keys;
mod opportunity_events;
mod outbox;
mod partitions;
mod totals;
mod transactions;

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use chrono::Utc;
use rapport_kit::{Db, in_tx};
use uuid::Uuid;

use self::batch::{Accepted, Batch};
pub(crate) use self::batch::{Table, Written};
use crate::validate::Row;

pub(crate) use outbox::{
    NOTIFY_CHANNEL, OutboxRow, backlog, claim, finish, set_aside, sweep, wake,
};
pub(crate) use totals::OUT_OF_RANGE;
pub(crate) use transactions::StoredTransaction;

/// The ingestion repository.
#[derive(Clone, Debug)]
pub(crate) struct Repo {
    db: Db,
    /// Months (`year * 12 + month0`) whose partition is known to exist, so
    /// the steady state issues no statement to keep them ready.
    partitions: Arc<Mutex<HashSet<i32>>>,
}

impl Repo {
    /// The pool, for statements written elsewhere (GDPR export and erasure).
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Wraps the service's pool.
    pub(crate) fn new(db: Db) -> Self {
        Repo {
            db,
            partitions: Arc::default(),
        }
    }

    /// Stores the rows whose (source, external id) is new for `tenant` and
    /// that fit their customer's bounded total, each with its outbox change,
    /// in one transaction, then wakes this process's relays.
    pub(crate) async fn insert<T: Table>(
        &self,
        tenant: Uuid,
        rows: &[Row<Uuid, T>],
    ) -> Result<Written, sqlx::Error> {
        if rows.is_empty() {
            return Ok(Written::default());
        }
        let batch = Accepted {
            tenant,
            rows,
            now: Utc::now(),
        };
        let written = in_tx!(&self.db, tx => Batch::write(&mut *tx, batch).await?);
        if written.stored > 0 {
            wake().notify_one();
        }
        Ok(written)
    }
}
