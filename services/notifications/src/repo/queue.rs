//! The delivery queue as the worker sees it: claiming due notifications
//! under a lease and recording each attempt's outcome.

use chrono::{DateTime, Utc};
use rapport_kit::{
    db::{Id, Time},
    in_tx, on_pool, sql_for,
};
use uuid::Uuid;

use super::{
    Repository,
    rows::{claimed, sql_int},
};
use crate::{
    error::Error,
    model::{Attempt, Claimed, Next},
};

/// The last error of an attempt whose result the store refused: the attempt
/// is counted, its details are lost.
pub const UNRECORDED: &str = "the attempt's result could not be recorded";

/// Runs `finish.sql` with executor `$ex` for the claimed `$job`: attempt
/// `$number` counted, the status and times of `$next`, `$error` (replacing
/// the last error when given) and `$provider_id`. Its value is the number of
/// rows updated, 0 when the claim lapsed.
macro_rules! finish_claim {
    ($ex:expr, $job:expr, $next:expr, $number:expr, $error:expr, $provider_id:expr) => {{
        let (status, next_at, delivered_at, _) = $next.outcome();
        sqlx::query(include_str!("../../sql/finish.sql"))
            .bind(Id($job.tenant_id))
            .bind(Id($job.customer_id))
            .bind(Id($job.id))
            .bind(Id($job.lease_id))
            .bind(status.as_str())
            .bind(sql_int($number))
            .bind(next_at.map(Time))
            .bind(delivered_at.map(Time))
            .bind($error)
            .bind($provider_id)
            .bind($next.suppressed_reason())
            .execute($ex)
            .await?
            .rows_affected()
    }};
}

impl Repository {
    /// Notifications waiting to be sent (now or later), and when the
    /// oldest of those due at `now` fell due.
    pub async fn backlog(&self, now: DateTime<Utc>) -> Result<(u64, Option<DateTime<Utc>>), Error> {
        let (rows, oldest): (i64, Option<Time>) = on_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT count(*), min(CASE WHEN next_attempt_at <= $1 THEN next_attempt_at END) \
                 FROM notifications WHERE status IN ('pending', 'scheduled')",
            )
            .bind(Time(now))
            .fetch_one(pool)
            .await?
        });
        Ok((rows.max(0) as u64, oldest.map(|t| t.0)))
    }

    /// Claims up to `limit` notifications due at `now` until `lease_until`.
    pub async fn claim(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Claimed>, Error> {
        let lease_id = Uuid::new_v4();
        // Postgres lets replicas claim side by side with SKIP LOCKED; SQLite
        // has one writer, so a plain UPDATE is the whole claim.
        let claim = sql_for!(
            &self.db,
            postgres = include_str!("../../sql/postgres/claim.sql"),
            sqlite = include_str!("../../sql/sqlite/claim.sql"),
        );
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(claim)
                .bind(Time(now))
                .bind(Time(lease_until))
                .bind(i64::from(limit))
                .bind(Id(lease_id))
                .fetch_all(pool)
                .await?;
            rows.iter().map(|r| claimed(r, lease_id)).collect()
        })
    }

    /// Records `attempt` of a claimed notification and what comes next, in
    /// one transaction. `error` replaces the last error when given. Returns
    /// false, recording nothing, when the claim lapsed and another worker
    /// took the notification over.
    pub async fn finish(
        &self,
        job: &Claimed,
        attempt: &Attempt,
        next: &Next,
        error: Option<&str>,
    ) -> Result<bool, Error> {
        let (tenant, customer, id) = (Id(job.tenant_id), Id(job.customer_id), Id(job.id));
        in_tx!(&self.db, tx => {
            // The update comes first, so on SQLite the transaction takes the
            // write lock at its first statement and never upgrades a read.
            let provider_id = next.outcome().3;
            let updated =
                finish_claim!(&mut *tx, job, next, attempt.number, error, provider_id);
            if updated == 0 {
                // Dropping the transaction rolls it back.
                return Ok(false);
            }
            sqlx::query(include_str!("../../sql/add_attempt.sql"))
                .bind(tenant)
                .bind(customer)
                .bind(id)
                .bind(sql_int(attempt.number))
                .bind(Time(attempt.started_at))
                .bind(attempt.succeeded)
                .bind(attempt.http_status)
                .bind(&attempt.error)
                .bind(sql_int(attempt.duration_ms))
                .bind(sql_int(attempt.retry_delay_ms))
                .execute(&mut *tx)
                .await?;
            Ok(true)
        })
    }

    /// Counts attempt `job.attempt` and moves on to `next` when
    /// [`Repository::finish`] failed: only the notification's own columns
    /// are written, with [`UNRECORDED`] as its last error and no provider
    /// id, so whatever the store refused (a value, the attempt's row) is not
    /// written again. Returns false when the claim lapsed.
    pub async fn finish_unrecorded(&self, job: &Claimed, next: &Next) -> Result<bool, Error> {
        on_pool!(&self.db, pool => {
            let updated = finish_claim!(pool, job, next, job.attempt, Some(UNRECORDED), "");
            Ok(updated == 1)
        })
    }

    /// Releases a claimed notification whose attempt could not start (a
    /// dependency did not answer) until `at`, keeping `error` as its last
    /// error; its attempt count is left as it was. Returns false, recording
    /// nothing, when the claim lapsed and another worker took it over.
    pub async fn wait(&self, job: &Claimed, at: DateTime<Utc>, error: &str) -> Result<bool, Error> {
        on_pool!(&self.db, pool => {
            let updated = sqlx::query(include_str!("../../sql/wait.sql"))
                .bind(Id(job.tenant_id))
                .bind(Id(job.customer_id))
                .bind(Id(job.id))
                .bind(Id(job.lease_id))
                .bind(Time(at))
                .bind(error)
                .execute(pool)
                .await?
                .rows_affected();
            Ok(updated == 1)
        })
    }
}
