//! The background refresh: every tenant's wallet estimates, fit and
//! population ([`Engine::fit_and_refresh`]), on the tenant's fit interval,
//! each attempt's outcome recorded for ListModelFits. Tenants are leased one
//! at a time through `refresh_leases` (FOR UPDATE SKIP LOCKED on Postgres), so
//! with several replicas each tenant is refreshed by one of them; a lease
//! that outlives its holder expires and is taken over.

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use rapport_kit::{ApiError, Authenticator, Db, shutdown::Shutdown};
use uuid::Uuid;

use crate::engine::{Engine, UNFITTABLE};

/// How the job paces itself.
#[derive(Debug, Clone)]
pub struct RefreshOptions {
    /// Pause between looks for due tenants.
    pub poll: StdDuration,
    /// How long a claimed tenant stays leased.
    pub lease: StdDuration,
    /// Delay before a failed refresh is retried (capped by the interval).
    pub retry: StdDuration,
}

impl Default for RefreshOptions {
    fn default() -> Self {
        RefreshOptions {
            poll: StdDuration::from_secs(15),
            lease: StdDuration::from_secs(600),
            retry: StdDuration::from_secs(300),
        }
    }
}

/// The job.
pub struct Refresh {
    pub(crate) engine: Engine,
    pub(crate) auth: Authenticator,
    pub(crate) db: Db,
    pub(crate) options: RefreshOptions,
}

impl Refresh {
    /// Runs until `shutdown` fires. The schema is migrated first (as the
    /// health check does; migrating twice is harmless), so the first pass
    /// does not race the server's start.
    pub async fn run(self, shutdown: Shutdown) {
        while let Err(e) = self.db.migrate(crate::SCHEMA, &crate::MIGRATIONS).await {
            tracing::debug!(error = %e, "scoring refresh waits for its database");
            tokio::select! {
                _ = tokio::time::sleep(self.options.poll.max(StdDuration::from_millis(500))) => {}
                _ = shutdown.wait() => return,
            }
        }
        loop {
            if let Err(e) = self.pass(&shutdown).await {
                tracing::warn!(error = %e, "scoring refresh pass failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.options.poll) => {}
                _ = shutdown.wait() => return,
            }
        }
    }

    /// Refreshes every due tenant, one lease at a time.
    pub(crate) async fn pass(&self, shutdown: &Shutdown) -> Result<(), sqlx::Error> {
        let models = &self.engine.models;
        models.discover_tenants(Utc::now()).await?;
        while !shutdown.is_triggered() {
            let now = Utc::now();
            let until =
                now + Duration::from_std(self.options.lease).unwrap_or(Duration::minutes(10));
            let Some(tenant) = models.claim_due(now, until).await? else {
                return Ok(());
            };
            if let Err(e) = self.refresh(tenant).await {
                tracing::warn!(%tenant, error = %e, "tenant refresh failed; retrying later");
                let interval = match models.settings(tenant).await {
                    Ok(s) => Duration::minutes(i64::from(s.settings.fit_interval_minutes)),
                    Err(_) => Duration::hours(1),
                };
                let retry = Duration::from_std(self.options.retry).unwrap_or(interval);
                models
                    .reschedule(tenant, Utc::now() + retry.min(interval))
                    .await?;
            }
        }
        Ok(())
    }

    /// One tenant's refresh; data the models cannot fit is not a failure
    /// of the refresh (it is recorded, and the tenant rescheduled as usual).
    /// Every attempt's outcome is recorded as the tenant's refresh status:
    /// by the engine once the refresh has started, here if it cannot.
    async fn refresh(&self, tenant: Uuid) -> Result<(), ApiError> {
        let t = match self.auth.tenant_by_id(tenant).await {
            Ok(t) => t,
            Err(s) => {
                let e = ApiError::Unavailable(format!("tenant lookup: {}", s.message()));
                self.engine
                    .record_refresh(tenant, Err(&e), Utc::now())
                    .await;
                return Err(e);
            }
        };
        match self
            .engine
            .fit_and_refresh(tenant, t.currency, None, Utc::now())
            .await
        {
            Ok(_) => Ok(()),
            Err(ApiError::FailedPrecondition { reason, .. }) if reason == UNFITTABLE => Ok(()),
            Err(other) => Err(other),
        }
    }
}
