//! Scoring's storage. Every statement is one SQL text run on either pool
//! (`on_pool!`, `in_tx!`, codec types from the kit); a backend branch remains
//! only where the algorithm differs, each saying why. [`ScoreRepo`] owns the
//! per-customer aggregates, [`models::ModelRepo`] what the customer-value
//! models keep per tenant.

mod categories;
mod changes;
pub mod dead_letters;
mod details;
mod marks;
pub mod models;
mod order;
mod rows;
mod scores;
mod summary;
mod wallets;
mod writes;

use rapport_kit::Db;

pub use categories::CategoryRow;
pub use changes::{Batch, Log};
pub use order::{Cursor, Order};
// Some are named only by tests; all are what the repositories' methods return.
#[allow(unused_imports)]
pub use rows::{Applied, Marks, MonthRow, ScoreRow, StoredScore};

/// The per-customer aggregates: `customer_scores` (one row per customer),
/// `customer_monthly` (net, margin and purchases per month), `customer_days`
/// (purchases per day) and `applied_changes` (the change ids already
/// counted). Every query is scoped to one tenant.
#[derive(Debug, Clone)]
pub struct ScoreRepo {
    db: Db,
    /// Where the whole-tenant reads go: a replica, or `db` itself.
    reader: Db,
}

impl ScoreRepo {
    /// The primary pool, for statements written elsewhere (GDPR export and
    /// erasure).
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// The dedupe table's retention statements on the same pool.
    pub(crate) fn dedupe(&self) -> crate::dedupe::DedupeRepo {
        crate::dedupe::DedupeRepo::new(self.db.clone())
    }

    /// Wraps the service's pool, reading lists, summaries and passes over
    /// every customer from `reader` (a streaming replica; they may lag the
    /// primary by its replay delay).
    pub fn with_reader(db: Db, reader: Db) -> Self {
        ScoreRepo { db, reader }
    }
}
