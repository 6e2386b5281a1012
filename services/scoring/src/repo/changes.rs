//! Applying a call's changes: each change id is claimed once in
//! `applied_changes`, then `customer_days`, `customer_scores`,
//! `customer_monthly` and `customer_categories` take the changes' deltas and
//! the rules worker its work, all in one transaction.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use rapport_kit::{
    db::{Id, List},
    in_tx, sql_for,
};
use sqlx::types::Json;
use uuid::Uuid;

use super::{
    ScoreRepo, details,
    rows::{Applied, StoredScore},
    writes::{Call, Periods, Scored, Work, Writes},
};
use crate::{
    aggregates::{changes::Change, delta},
    config::Settings,
    dedupe::{DedupeRepo, day, store::missing_partition},
    feed::{LogRow, Record},
    loyalty::{
        accrual::Accrue,
        ledger::NewEntry,
        store::{Mode, PostError, post_all},
    },
};

/// Makes the change feed's rows from the changed customers' scores before
/// (those that had one) and after a write.
pub type Log<'a> = dyn Fn(&[StoredScore], &[StoredScore]) -> Vec<LogRow> + Sync + 'a;

/// Who and when one ApplyChanges call writes for, and what else rides in
/// its transaction.
#[derive(Clone, Copy)]
pub struct Batch<'a> {
    /// The tenant.
    pub tenant: Uuid,
    /// The tenant's currency code.
    pub currency: &'a str,
    /// The instant the call is applied at.
    pub now: DateTime<Utc>,
    /// The change feed's rows; `None` when the feed is off.
    pub log: Option<&'a Log<'a>>,
    /// The loyalty programme's accrual; `None` without a running programme.
    pub points: Option<&'a Accrue<'a>>,
}

impl ScoreRepo {
    /// Applies the changes not applied before, all in one transaction, for
    /// `batch`, and returns the new state of each changed customer. `changes` must be free
    /// of repeated ids (see [`crate::aggregates::changes::dedupe`]). Margins use the
    /// tenant's settings as stored when the transaction runs. `batch.log` is given
    /// each changed customer's score before (the customers that had one) and
    /// after; the change feed rows it returns are written in the same
    /// transaction. Without `batch.log` (the feed switched off) the old scores
    /// are neither locked nor read, unless `batch.points` needs them (for tier
    /// multipliers). With `batch.points`, the changes' loyalty points are posted
    /// in the same transaction.
    ///
    /// On Postgres a change id's row goes to its day's partition; a day
    /// without one (the retention pass makes them ahead of time) is made
    /// here and the changes applied again.
    pub async fn apply(
        &self,
        batch: Batch<'_>,
        changes: &[Change],
    ) -> Result<Applied, sqlx::Error> {
        match self.apply_once(batch, changes).await {
            Err(e) if missing_partition(&e) => {
                let days: BTreeSet<NaiveDate> = changes.iter().map(|c| day::of(&c.id)).collect();
                let days: Vec<NaiveDate> = days.into_iter().collect();
                let made = DedupeRepo::new(self.db.clone()).create_days(&days).await?;
                tracing::warn!(made, "dedupe partitions made on the apply path");
                self.apply_once(batch, changes).await
            }
            other => other,
        }
    }

    async fn apply_once(
        &self,
        batch: Batch<'_>,
        changes: &[Change],
    ) -> Result<Applied, sqlx::Error> {
        let Batch {
            tenant,
            currency,
            now,
            log,
            points,
        } = batch;
        let periods_sql = sql_for!(
            &self.db,
            postgres = include_str!("../../sql/postgres/purchase_periods.sql"),
            sqlite = include_str!("../../sql/sqlite/purchase_periods.sql"),
        );
        let read_back = details::by_ids(&self.db);
        // The rows are locked (in id order, as every writer here locks them)
        // before the old scores are read, so a concurrent call's write is
        // either in the old scores or waits for this one: the feed's "before"
        // is always the version this write replaces. SQLite has one writer.
        let lock = sql_for!(
            &self.db,
            postgres = "SELECT customer_id FROM customer_scores \
                        WHERE tenant_id = $1 AND customer_id = ANY($2) \
                        ORDER BY customer_id FOR UPDATE",
            sqlite = "SELECT customer_id FROM customer_scores WHERE tenant_id = $1 \
                      AND customer_id IN (SELECT value FROM json_each($2))",
        );
        let call = Call {
            tenant,
            currency,
            now,
        };
        let applied = in_tx!(&self.db, tx => {
            let fresh = tx.claim(&call, changes).await?;
            if fresh.is_empty() {
                Applied { fresh, scores: Vec::new() }
            } else {
                let settings: Option<Json<Settings>> =
                    sqlx::query_scalar("SELECT settings FROM settings WHERE tenant_id = $1")
                        .bind(Id(tenant))
                        .fetch_optional(&mut *tx)
                        .await?;
                let settings = settings.map(|s| s.0).unwrap_or_default();
                let applied: Vec<&Change> =
                    changes.iter().filter(|c| fresh.contains(&c.id)).collect();
                let deltas = delta::aggregate(applied.iter().copied(), &settings);
                let changed: Vec<Uuid> = deltas.iter().map(|d| d.customer_id).collect();
                let old: Vec<StoredScore> = if log.is_some() || points.is_some_and(Accrue::needs_old) {
                    sqlx::query(lock)
                        .bind(Id(tenant))
                        .bind(List(&changed))
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query_as(&read_back)
                        .bind(Id(tenant))
                        .bind(List(&changed))
                        .fetch_all(&mut *tx)
                        .await?
                } else {
                    Vec::new()
                };
                tx.add_history(&call, &deltas).await?;
                tx.add_categories(&call, &deltas).await?;
                let periods: HashMap<Uuid, Periods> =
                    sqlx::query_as::<_, (Id, i64, i64, i64, i64)>(periods_sql)
                        .bind(Id(tenant))
                        .bind(List(&changed))
                        .fetch_all(&mut *tx)
                        .await?
                        .into_iter()
                        .map(|(c, days, weeks, first_day, first_week)| {
                            (c.0, (days, weeks, first_day, first_week))
                        })
                        .collect();
                let scored: Vec<Scored> = deltas
                    .into_iter()
                    .map(|d| {
                        let p = periods.get(&d.customer_id).copied().unwrap_or_default();
                        (d, p)
                    })
                    .collect();
                let scores = tx.add_scores(&call, &scored).await?;
                tx.enqueue(&call, &Work { applied: &applied, scores: &scores }).await?;
                if let Some(points) = points {
                    // Points move with the purchases that earn them: in this
                    // transaction, so a purchase is never counted without
                    // its points or its points without it.
                    let batches = points.entries(&applied, &old);
                    let welcome = |first: &NewEntry| points.welcome(first);
                    post_all(&mut *tx, tenant, Mode::Claimed, batches, Some(&welcome), now)
                        .await
                        .map_err(PostError::into_sqlx)?;
                }
                // Read back in the same transaction: each score with the
                // months and marks of the version just written.
                let scores: Vec<StoredScore> = sqlx::query_as(&read_back)
                    .bind(Id(tenant))
                    .bind(List(&changed))
                    .fetch_all(&mut *tx)
                    .await?;
                let scores = details::in_order(scores, &changed);
                if let Some(log) = log {
                    tx.record(tenant, &log(&old, &scores)).await?;
                }
                Applied { scores, fresh }
            }
        });
        Ok(applied)
    }
}
