//! The report runs' storage (`report_runs`, migration 10): one SQL text for
//! both stores. A worker's writes are guarded by its lease, so a worker whose
//! lease ran out and was taken over changes nothing.

use chrono::{DateTime, Utc};
use rapport_kit::{
    Db,
    db::{Id, Time},
    in_tx, on_pool,
};
use sqlx::{ColumnIndex, Decode, Row, Type};
use uuid::Uuid;

/// A run's state as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Running => "running",
            State::Succeeded => "succeeded",
            State::Failed => "failed",
        }
    }

    fn parse(s: &str) -> State {
        match s {
            "queued" => State::Queued,
            "running" => State::Running,
            "succeeded" => State::Succeeded,
            _ => State::Failed,
        }
    }
}

/// A run as stored, without its report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub tenant: Uuid,
    pub run_id: Uuid,
    pub request_id: String,
    pub origin: String,
    pub state: State,
    /// An encoded `StartReportRequest`.
    pub request: Vec<u8>,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub customers_done: i64,
    pub customers_expected: i64,
    pub error: String,
}

const COLUMNS: &str = "tenant_id, run_id, request_id, origin, state, request, queued_at, \
                       started_at, finished_at, customers_done, customers_expected, error";

fn run<'r, R>(r: &'r R) -> sqlx::Result<Run>
where
    R: Row,
    usize: ColumnIndex<R>,
    Id: Decode<'r, R::Database> + Type<R::Database>,
    Time: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let time = |i: usize| r.try_get::<Option<Time>, _>(i).map(|t| t.map(|t| t.0));
    Ok(Run {
        tenant: r.try_get::<Id, _>(0)?.0,
        run_id: r.try_get::<Id, _>(1)?.0,
        request_id: r.try_get(2)?,
        origin: r.try_get(3)?,
        state: State::parse(&r.try_get::<String, _>(4)?),
        request: r.try_get(5)?,
        queued_at: r.try_get::<Time, _>(6)?.0,
        started_at: time(7)?,
        finished_at: time(8)?,
        customers_done: r.try_get(9)?,
        customers_expected: r.try_get(10)?,
        error: r.try_get(11)?,
    })
}

/// What a start found or made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// A new run was queued.
    Queued(Run),
    /// The request id had queued this run already.
    Again(Run),
    /// Another run is queued or running.
    Busy(Run),
}

/// The report runs table.
#[derive(Debug, Clone)]
pub struct ReportRepo {
    db: Db,
}

impl ReportRepo {
    pub fn new(db: Db) -> Self {
        ReportRepo { db }
    }

    /// Queues a run for `request_id`, unless that id has one or another run
    /// is queued or running.
    pub async fn start(
        &self,
        tenant: Uuid,
        request_id: &str,
        origin: &str,
        request: &[u8],
        now: DateTime<Utc>,
    ) -> sqlx::Result<Started> {
        let by_request =
            format!("SELECT {COLUMNS} FROM report_runs WHERE tenant_id = $1 AND request_id = $2");
        let active = format!(
            "SELECT {COLUMNS} FROM report_runs \
              WHERE tenant_id = $1 AND state IN ('queued', 'running')"
        );
        let run_id = Uuid::now_v7();
        Ok(in_tx!(&self.db, tx => {
            let found = sqlx::query(&by_request)
                .bind(Id(tenant))
                .bind(request_id)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(r) = found.as_ref().map(run).transpose()? {
                Started::Again(r)
            } else {
                // Both unique indexes guard the insert: of two concurrent
                // starts, one inserts and the other reads what it made.
                let inserted = sqlx::query(
                    "INSERT INTO report_runs \
                         (tenant_id, run_id, request_id, origin, state, request, queued_at) \
                     VALUES ($1, $2, $3, $4, 'queued', $5, $6) ON CONFLICT DO NOTHING",
                )
                .bind(Id(tenant))
                .bind(Id(run_id))
                .bind(request_id)
                .bind(origin)
                .bind(request)
                .bind(Time(now))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let again = sqlx::query(&by_request)
                    .bind(Id(tenant))
                    .bind(request_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                match again.as_ref().map(run).transpose()? {
                    Some(r) if inserted == 1 => Started::Queued(r),
                    Some(r) => Started::Again(r),
                    None => {
                        let busy = sqlx::query(&active)
                            .bind(Id(tenant))
                            .fetch_one(&mut *tx)
                            .await?;
                        Started::Busy(run(&busy)?)
                    }
                }
            }
        }))
    }

    /// One run and its encoded report (set once it succeeded).
    pub async fn get(
        &self,
        tenant: Uuid,
        run_id: Uuid,
    ) -> sqlx::Result<Option<(Run, Option<Vec<u8>>)>> {
        let sql = format!(
            "SELECT {COLUMNS}, report FROM report_runs WHERE tenant_id = $1 AND run_id = $2"
        );
        Ok(on_pool!(&self.db, pool => {
            match sqlx::query(&sql).bind(Id(tenant)).bind(Id(run_id)).fetch_optional(pool).await? {
                Some(row) => Some((run(&row)?, row.try_get::<Option<Vec<u8>>, _>(12)?)),
                None => None,
            }
        }))
    }

    /// The latest run that succeeded, and its report.
    pub async fn latest(&self, tenant: Uuid) -> sqlx::Result<Option<(Run, Option<Vec<u8>>)>> {
        let sql = format!(
            "SELECT {COLUMNS}, report FROM report_runs \
              WHERE tenant_id = $1 AND state = 'succeeded' \
              ORDER BY queued_at DESC, run_id DESC LIMIT 1"
        );
        Ok(on_pool!(&self.db, pool => {
            match sqlx::query(&sql).bind(Id(tenant)).fetch_optional(pool).await? {
                Some(row) => Some((run(&row)?, row.try_get::<Option<Vec<u8>>, _>(12)?)),
                None => None,
            }
        }))
    }

    /// Up to `limit` runs, newest first, after the run `after` (queued at,
    /// run id) of a previous page.
    pub async fn list(
        &self,
        tenant: Uuid,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> sqlx::Result<Vec<Run>> {
        let (at, id) = after.unwrap_or((DateTime::<Utc>::MAX_UTC, Uuid::max()));
        let sql = format!(
            "SELECT {COLUMNS} FROM report_runs \
              WHERE tenant_id = $1 AND (queued_at < $2 OR (queued_at = $2 AND run_id < $3)) \
              ORDER BY queued_at DESC, run_id DESC LIMIT $4"
        );
        on_pool!(&self.db, pool => {
            sqlx::query(&sql)
                .bind(Id(tenant))
                .bind(Time(at))
                .bind(Id(id))
                .bind(limit as i64)
                .fetch_all(pool)
                .await?
                .iter()
                .map(run)
                .collect()
        })
    }

    /// Leases the oldest run waiting (queued, or running with its lease run
    /// out) to `owner` until `until`: one conditional update, so of two
    /// workers one gets it.
    pub async fn claim(
        &self,
        owner: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> sqlx::Result<Option<Run>> {
        let waiting = "(state = 'queued' OR (state = 'running' AND lease_until < $2))";
        let sql = format!(
            "UPDATE report_runs \
                SET state = 'running', lease_owner = $1, lease_until = $3, \
                    started_at = COALESCE(started_at, $2), customers_done = 0 \
              WHERE (tenant_id, run_id) IN ( \
                    SELECT tenant_id, run_id FROM report_runs WHERE {waiting} \
                     ORDER BY queued_at LIMIT 1) \
                AND {waiting} \
             RETURNING {COLUMNS}"
        );
        on_pool!(&self.db, pool => {
            sqlx::query(&sql)
                .bind(Id(owner))
                .bind(Time(now))
                .bind(Time(until))
                .fetch_optional(pool)
                .await?
                .as_ref()
                .map(run)
                .transpose()
        })
    }

    /// Records progress and renews the lease; `false` when the lease is no
    /// longer `owner`'s.
    pub async fn progress(
        &self,
        r: &Run,
        owner: Uuid,
        done: i64,
        expected: i64,
        until: DateTime<Utc>,
    ) -> sqlx::Result<bool> {
        let n = on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE report_runs \
                    SET customers_done = $4, customers_expected = $5, lease_until = $6 \
                  WHERE tenant_id = $1 AND run_id = $2 AND lease_owner = $3 AND state = 'running'",
            )
            .bind(Id(r.tenant))
            .bind(Id(r.run_id))
            .bind(Id(owner))
            .bind(done)
            .bind(expected)
            .bind(Time(until))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Ends `owner`'s run: succeeded with `report`, or failed with `error`;
    /// `false` when the lease is no longer its.
    pub async fn finish(
        &self,
        r: &Run,
        owner: Uuid,
        outcome: Result<(&[u8], i64), &str>,
        now: DateTime<Utc>,
    ) -> sqlx::Result<bool> {
        let (state, report, error, done) = match outcome {
            Ok((report, done)) => (State::Succeeded, Some(report), "", Some(done)),
            Err(e) => (State::Failed, None, e, None),
        };
        let n = on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE report_runs \
                    SET state = $4, report = $5, error = $6, finished_at = $7, \
                        customers_done = COALESCE($8, customers_done), \
                        lease_owner = NULL, lease_until = NULL \
                  WHERE tenant_id = $1 AND run_id = $2 AND lease_owner = $3 AND state = 'running'",
            )
            .bind(Id(r.tenant))
            .bind(Id(r.run_id))
            .bind(Id(owner))
            .bind(state.as_str())
            .bind(report)
            .bind(error)
            .bind(Time(now))
            .bind(done)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// The tenant's runs that hold a report.
    pub async fn with_reports(&self, tenant: Uuid) -> sqlx::Result<Vec<Uuid>> {
        let rows: Vec<(Id,)> = on_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT run_id FROM report_runs WHERE tenant_id = $1 AND report IS NOT NULL",
            )
            .bind(Id(tenant))
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(r,)| r.0).collect())
    }

    /// Stores `report` in place of a run's report.
    pub async fn replace_report(
        &self,
        tenant: Uuid,
        run_id: Uuid,
        report: &[u8],
    ) -> sqlx::Result<()> {
        on_pool!(&self.db, pool => {
            sqlx::query("UPDATE report_runs SET report = $3 WHERE tenant_id = $1 AND run_id = $2")
                .bind(Id(tenant))
                .bind(Id(run_id))
                .bind(report)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Records that `customer_hash` was erased as `erasure`.
    pub async fn note_erased(
        &self,
        tenant: Uuid,
        customer_hash: &str,
        erasure: Uuid,
        now: DateTime<Utc>,
    ) -> sqlx::Result<()> {
        on_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO erased_customers (tenant_id, customer_hash, erasure_id, erased_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, customer_hash) DO NOTHING",
            )
            .bind(Id(tenant))
            .bind(customer_hash)
            .bind(Id(erasure))
            .bind(Time(now))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The tenant's erased customers: (hash, erasure id).
    pub async fn erased(&self, tenant: Uuid) -> sqlx::Result<Vec<(String, Uuid)>> {
        let rows: Vec<(String, Id)> = on_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT customer_hash, erasure_id FROM erased_customers WHERE tenant_id = $1",
            )
            .bind(Id(tenant))
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(h, e)| (h, e.0)).collect())
    }

    /// Tenants whose scores are refreshed (`refresh_leases`) and that have
    /// no run queued or running and none queued since `since`.
    pub async fn due(&self, since: DateTime<Utc>) -> sqlx::Result<Vec<Uuid>> {
        let rows: Vec<(Id,)> = on_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT l.tenant_id FROM refresh_leases l \
                  WHERE NOT EXISTS (SELECT 1 FROM report_runs r \
                                     WHERE r.tenant_id = l.tenant_id \
                                       AND (r.state IN ('queued', 'running') OR r.queued_at >= $1))",
            )
            .bind(Time(since))
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(t,)| t.0).collect())
    }

    /// Deletes runs finished before `before`, except each tenant's latest
    /// that succeeded; the number deleted.
    pub async fn retire(&self, before: DateTime<Utc>) -> sqlx::Result<u64> {
        on_pool!(&self.db, pool => {
            sqlx::query(
                "DELETE FROM report_runs \
                  WHERE finished_at < $1 \
                    AND run_id NOT IN ( \
                        SELECT (SELECT k.run_id FROM report_runs k \
                                 WHERE k.tenant_id = t.tenant_id AND k.state = 'succeeded' \
                                 ORDER BY k.queued_at DESC, k.run_id DESC LIMIT 1) \
                          FROM (SELECT DISTINCT tenant_id FROM report_runs) t \
                         WHERE EXISTS (SELECT 1 FROM report_runs s \
                                        WHERE s.tenant_id = t.tenant_id AND s.state = 'succeeded'))",
            )
            .bind(Time(before))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })
    }
}
