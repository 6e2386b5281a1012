//! The ranges of the split schedule passes (`rules_pass_ranges`): recorded
//! once per pass, each leased like a tenant's pass so that of several
//! replicas one takes it, and the tenant rescheduled by whoever finishes the
//! last. A pass's ranges and its tenant's `rules_schedule` row are written
//! under that row's lock (Postgres; SQLite's one connection runs one
//! transaction at a time), so two replicas finishing the last two ranges at
//! once cannot both miss that the pass is over, and a split cannot follow
//! the pass's end.

use rapport_kit::{
    db::{Id, List},
    in_tx, on_pool, sql_for,
};
use uuid::Uuid;

use super::EvaluationRepo;
use crate::rules::ranges::IdRange;

/// Locks a tenant's schedule row (Postgres) and reads its due time.
const LOCK_SCHEDULE_PG: &str = "SELECT due_at FROM rules_schedule WHERE tenant_id = $1 FOR UPDATE";
/// The same on SQLite, whose one connection needs no lock.
const LOCK_SCHEDULE_SQLITE: &str = "SELECT due_at FROM rules_schedule WHERE tenant_id = $1";

/// One claimed range of a split pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassRange {
    /// Tenant.
    pub tenant: Uuid,
    /// The pass: the due time it was claimed at (microseconds).
    pub due: i64,
    /// The range's number in the pass, from 0.
    pub number: i64,
    /// The customer ids it holds.
    pub ids: IdRange,
}

/// What marking a range done came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// The range was no longer this replica's (its lease was taken over) or
    /// its pass was over: nothing was written.
    Lost,
    /// Done; other ranges of the pass remain.
    Range,
    /// Done, and it was the pass's last: the tenant was rescheduled (if the
    /// pass was still its current one) and the pass's ranges deleted.
    Pass,
}

impl EvaluationRepo {
    /// Whether pass `due` of `tenant` is split into ranges.
    pub async fn is_split(&self, tenant: Uuid, due: i64) -> Result<bool, sqlx::Error> {
        let found: Option<i64> = on_pool!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT range_no FROM rules_pass_ranges \
                 WHERE tenant_id = $1 AND due_at = $2 LIMIT 1",
            )
            .bind(Id(tenant)).bind(due).fetch_optional(pool).await?
        });
        Ok(found.is_some())
    }

    /// Records `ranges` as pass `due` of `tenant`; false, writing nothing,
    /// when the pass is split already (by another replica, maybe into a
    /// different number of ranges) or is no longer the tenant's current pass.
    pub async fn split_pass(
        &self,
        tenant: Uuid,
        due: i64,
        ranges: &[IdRange],
    ) -> Result<bool, sqlx::Error> {
        let lock = sql_for!(
            &self.db,
            postgres = LOCK_SCHEDULE_PG,
            sqlite = LOCK_SCHEDULE_SQLITE
        );
        // UNNEST on Postgres, json_each on SQLite.
        let insert = sql_for!(
            &self.db,
            postgres = include_str!("../../../sql/postgres/rules_split_pass.sql"),
            sqlite = include_str!("../../../sql/sqlite/rules_split_pass.sql"),
        );
        let firsts: Vec<Uuid> = ranges.iter().map(|r| r.first).collect();
        let lasts: Vec<Uuid> = ranges.iter().map(|r| r.last).collect();
        let recorded = in_tx!(&self.db, tx => {
            let current: Option<i64> = sqlx::query_scalar(lock)
                .bind(Id(tenant)).fetch_optional(&mut *tx).await?;
            let split: Option<i64> = sqlx::query_scalar(
                "SELECT range_no FROM rules_pass_ranges \
                 WHERE tenant_id = $1 AND due_at = $2 LIMIT 1",
            )
            .bind(Id(tenant)).bind(due).fetch_optional(&mut *tx).await?;
            if current == Some(due) && split.is_none() {
                sqlx::query(insert)
                    .bind(Id(tenant)).bind(due).bind(List(&firsts)).bind(List(&lasts))
                    .execute(&mut *tx).await?;
                true
            } else {
                false
            }
        });
        Ok(recorded)
    }

    /// Leases one unfinished range of any split pass, free since `now`,
    /// until `until` (microseconds).
    pub async fn claim_range(
        &self,
        now: i64,
        until: i64,
    ) -> Result<Option<PassRange>, sqlx::Error> {
        // As for the tenants' passes: SKIP LOCKED on Postgres only.
        let sql = sql_for!(
            &self.db,
            postgres = include_str!("../../../sql/postgres/rules_claim_range.sql"),
            sqlite = include_str!("../../../sql/sqlite/rules_claim_range.sql"),
        );
        let row: Option<(Id, i64, i64, Id, Id)> = on_pool!(&self.db, pool => {
            sqlx::query_as(sql).bind(now).bind(until).fetch_optional(pool).await?
        });
        Ok(row.map(|(tenant, due, number, first, last)| PassRange {
            tenant: tenant.0,
            due,
            number,
            ids: IdRange {
                first: first.0,
                last: last.0,
            },
        }))
    }

    /// Extends the lease on `range` from `held` (the end of the lease this
    /// replica holds) to `until`; false when it is no longer this
    /// replica's.
    pub async fn renew_range(
        &self,
        range: &PassRange,
        held: i64,
        until: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE rules_pass_ranges SET leased_until = $5 \
                 WHERE tenant_id = $1 AND due_at = $2 AND range_no = $3 \
                 AND leased_until = $4 AND NOT done",
            )
            .bind(Id(range.tenant)).bind(range.due).bind(range.number).bind(held).bind(until)
            .execute(pool).await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Marks `range` done if this replica still holds it (its lease ending
    /// at `held`). When it was the last of its pass, the tenant's next pass
    /// is due at `next` and its lease released, if the pass is still the
    /// tenant's current one, and the pass's ranges are deleted.
    pub async fn finish_range(
        &self,
        range: &PassRange,
        held: i64,
        next: i64,
    ) -> Result<Finished, sqlx::Error> {
        let lock = sql_for!(
            &self.db,
            postgres = LOCK_SCHEDULE_PG,
            sqlite = LOCK_SCHEDULE_SQLITE
        );
        let (tenant, due) = (Id(range.tenant), range.due);
        let finished = in_tx!(&self.db, tx => {
            // The schedule row first: whoever finishes a range of this pass
            // after us waits, and then sees this range done.
            let _: Option<i64> = sqlx::query_scalar(lock)
                .bind(tenant).fetch_optional(&mut *tx).await?;
            let marked = sqlx::query(
                "UPDATE rules_pass_ranges SET done = TRUE, leased_until = NULL \
                 WHERE tenant_id = $1 AND due_at = $2 AND range_no = $3 \
                 AND leased_until = $4 AND NOT done",
            )
            .bind(tenant).bind(due).bind(range.number).bind(held)
            .execute(&mut *tx).await?
            .rows_affected();
            if marked == 0 {
                Finished::Lost
            } else {
                let left: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM rules_pass_ranges \
                     WHERE tenant_id = $1 AND due_at = $2 AND NOT done",
                )
                .bind(tenant).bind(due).fetch_one(&mut *tx).await?;
                if left > 0 {
                    Finished::Range
                } else {
                    sqlx::query(
                        "UPDATE rules_schedule SET due_at = $3, leased_until = NULL \
                         WHERE tenant_id = $1 AND due_at = $2",
                    )
                    .bind(tenant).bind(due).bind(next).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM rules_pass_ranges WHERE tenant_id = $1 AND due_at = $2")
                        .bind(tenant).bind(due).execute(&mut *tx).await?;
                    Finished::Pass
                }
            }
        });
        Ok(finished)
    }
}

#[cfg(test)]
mod tests;
