//! The background refresh's schedule (`refresh_leases`): one row per tenant,
//! leased by one replica at a time, with what the last refresh did.

use chrono::{DateTime, Utc};
use rapport_kit::{
    db::{Id, Time},
    on_pool, sql_for,
};
use uuid::Uuid;

use super::ModelRepo;

/// How a refresh of a tenant's models ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// A new fit was stored.
    Fitted,
    /// The inputs matched the stored fit's, so nothing was fitted.
    Unchanged,
    /// The data cannot be fitted (too few customers, no repeat buyers, ...).
    Unfittable,
    /// The refresh failed (database, Profiles, ...); it is retried.
    Failed,
}

impl RefreshOutcome {
    /// The stored and served name.
    pub fn as_str(self) -> &'static str {
        match self {
            RefreshOutcome::Fitted => "fitted",
            RefreshOutcome::Unchanged => "unchanged",
            RefreshOutcome::Unfittable => "unfittable",
            RefreshOutcome::Failed => "failed",
        }
    }

    /// Whether the models are as current as the data allows.
    pub fn succeeded(self) -> bool {
        matches!(self, RefreshOutcome::Fitted | RefreshOutcome::Unchanged)
    }
}

/// A tenant's refresh schedule and what its last refresh did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RefreshStatusRow {
    /// When a refresh was last attempted; `None` if never.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When a refresh last succeeded; `None` if never.
    pub last_success_at: Option<DateTime<Utc>>,
    /// The last attempt's outcome ("fitted", ...); `None` if never attempted.
    pub last_outcome: Option<String>,
    /// Why the last attempt did not succeed; `None` when it did.
    pub last_error: Option<String>,
    /// When the tenant is next due.
    pub next_due_at: DateTime<Utc>,
}

type StatusRow = (
    Option<Time>,
    Option<Time>,
    Option<String>,
    Option<String>,
    Time,
);

impl ModelRepo {
    /// Adds a lease row, due at `now`, for every tenant with scores that has
    /// none yet.
    pub async fn discover_tenants(&self, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
        // Postgres skips through the primary key a tenant at a time; SQLite
        // reads its (small, in-process) table with DISTINCT.
        let sql = sql_for!(
            &self.db,
            postgres = include_str!("../../../sql/postgres/discover_tenants.sql"),
            sqlite = include_str!("../../../sql/sqlite/discover_tenants.sql"),
        );
        on_pool!(&self.db, pool => {
            sqlx::query(sql).bind(Time(now)).execute(pool).await?;
        });
        Ok(())
    }

    /// Claims the tenant most overdue for a refresh, leasing it until
    /// `until`; `None` when nothing is due. A lease another replica holds is
    /// skipped; an expired one (its holder died) is taken over.
    pub async fn claim_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<Uuid>, sqlx::Error> {
        // Replicas claim side by side on Postgres (SKIP LOCKED); SQLite has
        // one connection, so no one claims alongside.
        let sql = sql_for!(
            &self.db,
            postgres = include_str!("../../../sql/postgres/claim_due.sql"),
            sqlite = include_str!("../../../sql/sqlite/claim_due.sql"),
        );
        let tenant: Option<Id> = on_pool!(&self.db, pool => {
            sqlx::query_scalar(sql)
                .bind(Time(now))
                .bind(Time(until))
                .fetch_optional(pool)
                .await?
        });
        Ok(tenant.map(|t| t.0))
    }

    /// Claims `tenant` itself, leasing it until `until`, unless another
    /// replica holds its lease at `now`: for work on a tenant that is not
    /// due a refresh (the stored population figures). False when it is
    /// held, or the tenant has no lease row yet.
    pub async fn claim_tenant(
        &self,
        tenant: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        let done = on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE refresh_leases SET leased_until = $3 \
                 WHERE tenant_id = $1 AND (leased_until IS NULL OR leased_until < $2)",
            )
            .bind(Id(tenant))
            .bind(Time(now))
            .bind(Time(until))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Ends the lease on `tenant` ending at `held`, if it is still this
    /// replica's, leaving when the tenant is due as it was.
    pub async fn release_lease(
        &self,
        tenant: Uuid,
        held: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE refresh_leases SET leased_until = NULL \
                 WHERE tenant_id = $1 AND leased_until = $2",
            )
            .bind(Id(tenant))
            .bind(Time(held))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Extends the lease on `tenant` from `held` (the end of the lease this
    /// replica holds) to `until`. False when the lease is no longer this
    /// replica's: it ran out and another replica claimed the tenant, or the
    /// tenant was rescheduled. Lease ends are whole milliseconds, so they
    /// compare equal on every store.
    pub async fn renew_lease(
        &self,
        tenant: Uuid,
        held: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        let done = on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE refresh_leases SET leased_until = $3 \
                 WHERE tenant_id = $1 AND leased_until = $2",
            )
            .bind(Id(tenant))
            .bind(Time(held))
            .bind(Time(until))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Records a refresh attempt at `at`: its outcome and, unless it
    /// succeeded, `error`. A tenant without a lease row gets one, due at `at`.
    pub async fn record_refresh(
        &self,
        tenant: Uuid,
        outcome: RefreshOutcome,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let error = if outcome.succeeded() { None } else { error };
        on_pool!(&self.db, pool => {
            sqlx::query(include_str!("../../../sql/record_refresh.sql"))
                .bind(Id(tenant))
                .bind(Time(at))
                .bind(outcome.succeeded())
                .bind(error)
                .bind(outcome.as_str())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The tenant's refresh status; `None` before the tenant was first
    /// scheduled.
    pub async fn refresh_status(
        &self,
        tenant: Uuid,
    ) -> Result<Option<RefreshStatusRow>, sqlx::Error> {
        let row: Option<StatusRow> = on_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT last_attempt_at, last_success_at, last_outcome, last_error, due_at \
                 FROM refresh_leases WHERE tenant_id = $1",
            )
            .bind(Id(tenant))
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|r| RefreshStatusRow {
            last_attempt_at: r.0.map(|t| t.0),
            last_success_at: r.1.map(|t| t.0),
            last_outcome: r.2,
            last_error: r.3,
            next_due_at: r.4.0,
        }))
    }

    /// Ends a lease and sets when the tenant is next due.
    pub async fn reschedule(&self, tenant: Uuid, due_at: DateTime<Utc>) -> Result<(), sqlx::Error> {
        on_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO refresh_leases (tenant_id, due_at) VALUES ($1, $2) \
                 ON CONFLICT (tenant_id) DO UPDATE SET due_at = excluded.due_at, leased_until = NULL",
            )
            .bind(Id(tenant))
            .bind(Time(due_at))
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, SubsecRound};
    use rapport_kit::{
        Db,
        testing::{self, Backend},
    };

    use super::*;

    rapport_kit::backend_tests! {
        a_renewed_refresh_lease_is_kept_and_a_lost_one_is_told,
    }

    async fn a_renewed_refresh_lease_is_kept_and_a_lost_one_is_told(backend: Backend) {
        let config = testing::config(backend).await;
        let db = Db::connect_lazy(&config, crate::SCHEMA).unwrap();
        db.migrate(crate::SCHEMA, &crate::MIGRATIONS).await.unwrap();
        let models = ModelRepo::new(db);
        let tenant = Uuid::new_v4();
        let t0 = Utc::now().trunc_subsecs(3);
        let at = |s: i64| t0 + Duration::seconds(s);
        models.reschedule(tenant, at(0)).await.unwrap();
        // Replica A claims at 1 s, leased to 10 s, and renews to 20 s.
        assert_eq!(models.claim_due(at(1), at(10)).await.unwrap(), Some(tenant));
        assert!(models.renew_lease(tenant, at(10), at(20)).await.unwrap());
        assert_eq!(models.claim_due(at(15), at(25)).await.unwrap(), None);
        // A stalls past 20 s; B takes the tenant over, and A hears so.
        assert_eq!(
            models.claim_due(at(21), at(30)).await.unwrap(),
            Some(tenant)
        );
        assert!(!models.renew_lease(tenant, at(20), at(40)).await.unwrap());
        assert!(
            models.renew_lease(tenant, at(30), at(40)).await.unwrap(),
            "B's"
        );
        // A claim of the tenant itself waits for B's lease, then takes it;
        // a release ends only the lease named.
        assert!(!models.claim_tenant(tenant, at(35), at(50)).await.unwrap());
        assert!(models.claim_tenant(tenant, at(41), at(50)).await.unwrap());
        models.release_lease(tenant, at(40)).await.unwrap();
        assert!(!models.claim_tenant(tenant, at(45), at(60)).await.unwrap());
        models.release_lease(tenant, at(50)).await.unwrap();
        assert!(models.claim_tenant(tenant, at(45), at(60)).await.unwrap());
    }
}
