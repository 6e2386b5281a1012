//! The writes of [`super::ScoreRepo::apply`], the one place the backends run
//! a different algorithm: Postgres sends each table's batch as arrays through
//! `UNNEST`, one statement per table per call ([`postgres`]); SQLite runs a
//! prepared (and cached) statement per row, which costs it nothing as it runs
//! in process ([`sqlite`]).

mod postgres;
mod sqlite;

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::rows::ScoreRow;
use crate::aggregates::{
    changes::Change,
    delta::Delta,
    rule_work::{self, QueueRow},
};

/// Distinct purchase days and weeks and the first of each, of one customer.
pub(super) type Periods = (i64, i64, i64, i64);

/// A customer's delta with its purchase periods as recounted from
/// `customer_days` in the same transaction.
pub(super) type Scored = (Delta, Periods);

/// The ids of the changes applied for the first time.
pub(super) type Claimed = HashSet<String>;

/// The call the writes belong to.
pub(super) struct Call<'a> {
    /// Every write is scoped to it.
    pub tenant: Uuid,
    /// The currency of the call's amounts.
    pub currency: &'a str,
    /// When the changes are applied.
    pub now: DateTime<Utc>,
}

/// What the rules worker is given for a call, made only when it is queued.
pub(super) struct Work<'a> {
    /// The changes applied for the first time.
    pub applied: &'a [&'a Change],
    /// The score rows they wrote.
    pub scores: &'a [ScoreRow],
}

impl Work<'_> {
    fn rows(&self, call: &Call<'_>) -> Vec<QueueRow> {
        let versions = self.scores.iter().map(|r| (r.customer_id, r.version));
        rule_work::rows(self.applied.iter().copied(), versions, call.currency)
    }
}

/// The per-table writes of applying changes, inside the caller's transaction.
pub(super) trait Writes {
    /// Records the changes not applied before and returns their ids.
    async fn claim(&mut self, call: &Call<'_>, changes: &[Change]) -> sqlx::Result<Claimed>;

    /// Adds each delta's purchases per day to `customer_days` and its months
    /// to `customer_monthly`.
    async fn add_history(&mut self, call: &Call<'_>, deltas: &[Delta]) -> sqlx::Result<()>;

    /// Adds each delta's purchases and net spend per category to
    /// `customer_categories`.
    async fn add_categories(&mut self, call: &Call<'_>, deltas: &[Delta]) -> sqlx::Result<()>;

    /// Adds each delta to its customer's score row and returns the rows as
    /// written.
    async fn add_scores(&mut self, call: &Call<'_>, new: &[Scored]) -> sqlx::Result<Vec<ScoreRow>>;

    /// Queues the work for the rules worker when the tenant has a rule to
    /// evaluate.
    async fn enqueue(&mut self, call: &Call<'_>, work: &Work<'_>) -> sqlx::Result<()>;
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

/// Each delta's categories: (customer, category, purchases, net).
fn category_rows(deltas: &[Delta]) -> impl Iterator<Item = (Uuid, &str, i64, i64)> + '_ {
    deltas.iter().flat_map(|d| {
        let c = d.customer_id;
        d.categories
            .iter()
            .map(move |(k, v)| (c, k.as_str(), v.purchases, v.net))
    })
}
