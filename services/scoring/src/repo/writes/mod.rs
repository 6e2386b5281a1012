//! The writes of [`super::ScoreRepo::apply`], the one place the backends run
//! a different algorithm: Postgres sends each table's batch as arrays through
//! `UNNEST`, one statement per table per call ([`postgres`]); SQLite runs a
//! prepared (and cached) statement per row, which costs it nothing as it runs
//! in process ([`sqlite`]).

mod postgres;
mod sqlite;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::rows::ScoreRow;
use crate::{
    changes::{Change, Delta},
    rules::enqueue::QueueRow,
};

/// Distinct purchase days and weeks and the first of each, per customer.
pub(super) type Periods = (i64, i64, i64, i64);

/// The call the writes belong to.
pub(super) struct Call<'a> {
    /// Every write is scoped to it.
    pub tenant: Uuid,
    /// The currency of the call's amounts.
    pub currency: &'a str,
    /// When the changes are applied.
    pub now: DateTime<Utc>,
}

/// The per-table writes of applying changes, inside the caller's transaction.
pub(super) trait Writes {
    /// Records the changes not applied before and returns their ids.
    async fn claim(
        &mut self,
        call: &Call<'_>,
        changes: &[Change],
    ) -> Result<HashSet<String>, sqlx::Error>;

    /// Adds each delta's purchases per day to `customer_days` and its months
    /// to `customer_monthly`.
    async fn add_history(&mut self, call: &Call<'_>, deltas: &[Delta]) -> Result<(), sqlx::Error>;

    /// Adds each delta to its customer's score row (purchase days and weeks
    /// as recounted in `periods`) and returns the rows as written.
    async fn add_scores(
        &mut self,
        call: &Call<'_>,
        deltas: &[Delta],
        periods: &HashMap<Uuid, Periods>,
    ) -> Result<Vec<ScoreRow>, sqlx::Error>;

    /// Queues `work()` for the rules worker when the tenant has a rule to
    /// evaluate.
    async fn enqueue(
        &mut self,
        call: &Call<'_>,
        work: impl FnOnce() -> Vec<QueueRow> + Send,
    ) -> Result<(), sqlx::Error>;
}

/// Each delta's days: (customer, day, purchases, amount).
fn day_rows(deltas: &[Delta]) -> impl Iterator<Item = (Uuid, i64, i64, i64)> + '_ {
    deltas.iter().flat_map(|d| {
        let c = d.customer_id;
        d.days
            .iter()
            .map(move |(day, v)| (c, *day, v.purchases, v.amount))
    })
}

/// Each delta's months: (customer, month, net, margin, purchases).
fn month_rows(deltas: &[Delta]) -> impl Iterator<Item = (Uuid, &str, i64, i64, i64)> + '_ {
    deltas.iter().flat_map(|d| {
        let c = d.customer_id;
        d.months
            .iter()
            .map(move |(m, v)| (c, m.as_str(), v.net, v.margin, v.purchases))
    })
}
