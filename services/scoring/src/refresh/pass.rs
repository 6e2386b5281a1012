//! The background refresh's pass: every tenant due now (on its fit
//! interval) is refreshed ([`Refresher::fit_and_refresh`]). Tenants are
//! leased one at a time through `refresh_leases` (FOR UPDATE SKIP LOCKED on
//! Postgres), so with several replicas each tenant is refreshed by one of
//! them; a lease that outlives its holder expires and is taken over.

use std::time::Duration as StdDuration;

use chrono::{SubsecRound, Utc};
use rapport_kit::{Authenticator, domain::later, shutdown::Shutdown};
use uuid::Uuid;

use super::Refresher;
use crate::{
    error::{Error, storage},
    value::fits::FitRequest,
};

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

impl Refresher {
    /// Refreshes every due tenant, one lease at a time.
    pub async fn refresh_due(
        &self,
        auth: &Authenticator,
        options: &RefreshOptions,
        shutdown: &Shutdown,
    ) -> Result<(), Error> {
        let models = &self.fitter.models;
        models
            .discover_tenants(Utc::now())
            .await
            .map_err(storage("model"))?;
        while !shutdown.is_triggered() {
            let now = Utc::now();
            let until = later(now, options.lease).trunc_subsecs(3);
            let Some(tenant) = models
                .claim_due(now, until)
                .await
                .map_err(storage("model"))?
            else {
                return Ok(());
            };
            // The lease is renewed while the refresh runs; a refresh whose
            // lease another replica took over stops, so no tenant is
            // refreshed twice at once however long its fit takes.
            let held = std::sync::Mutex::new(until);
            let result = tokio::select! {
                r = self.refresh_leased(auth, tenant) => r,
                () = keep_leased(models, tenant, &held, options.lease) => {
                    tracing::warn!(%tenant, "refresh lease taken over; refresh stopped");
                    continue;
                }
            };
            if let Err(e) = result {
                tracing::warn!(%tenant, error = %e, "tenant refresh failed; retrying later");
                let interval = match models.settings(tenant).await {
                    Ok(s) => super::minutes(s.settings.fit_interval_minutes),
                    Err(_) => StdDuration::from_secs(3_600),
                };
                models
                    .reschedule(tenant, later(Utc::now(), options.retry.min(interval)))
                    .await
                    .map_err(storage("model"))?;
            }
        }
        Ok(())
    }

    /// One tenant's refresh; data the models cannot fit is not a failure
    /// of the refresh (it is recorded, and the tenant rescheduled as usual).
    /// Every attempt's outcome is recorded as the tenant's refresh status:
    /// by [`Refresher::fit_and_refresh`] once the refresh has started, here if
    /// it cannot.
    async fn refresh_leased(&self, auth: &Authenticator, tenant: Uuid) -> Result<(), Error> {
        let t = match auth.tenant_by_id(tenant).await {
            Ok(t) => t,
            Err(s) => {
                let e = Error::Unavailable(format!("tenant lookup: {}", s.message()));
                return Err(self.record_failure(tenant, e, Utc::now()).await);
            }
        };
        let r = FitRequest {
            tenant,
            currency: t.currency,
            end_day: None,
            now: Utc::now(),
        };
        match self.fit_and_refresh(r).await {
            Ok(_) | Err(Error::Unfittable(_)) => Ok(()),
            Err(other) => Err(other),
        }
    }
}

/// Renews the lease on `tenant` (ending at `held`, kept there as renewed)
/// every third of `lease` for as long as it is polled; returns once the
/// lease is no longer this replica's. A renewal that fails is tried again
/// at the next turn (the lease runs out, and is lost, only if they keep
/// failing). The refresh and the stored population figures both hold a
/// tenant this way.
pub(crate) async fn keep_leased(
    models: &crate::repo::models::ModelRepo,
    tenant: Uuid,
    held: &std::sync::Mutex<chrono::DateTime<Utc>>,
    lease: StdDuration,
) {
    let end = || *held.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        tokio::time::sleep(lease / 3).await;
        let until = later(Utc::now(), lease).trunc_subsecs(3);
        match models.renew_lease(tenant, end(), until).await {
            Ok(true) => *held.lock().unwrap_or_else(|p| p.into_inner()) = until,
            Ok(false) => return,
            Err(e) => tracing::warn!(%tenant, error = %e, "renewing a refresh lease"),
        }
    }
}
