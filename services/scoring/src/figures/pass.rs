//! The refresh worker's pass over the stored figures: every enabled tenant
//! with more than `scoring.inline_figures_limit` scores whose figures are
//! missing (first) or older than `scoring.figures_max_age_seconds` gets
//! both kinds computed and stored. A tenant is held through the refresh's
//! own lease on it (`refresh_leases`), so one replica computes it at a time
//! and never while its models are being refreshed.

use std::{sync::Mutex, time::Duration as StdDuration, time::Instant};

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use prost::Message;
use rapport_kit::{Authenticator, domain::later, shutdown::Shutdown, tenants::Tenant};
use uuid::Uuid;

use super::{Figures, Kind, WHAT, repo::StoredFigures};
use crate::{
    error::{Error, storage},
    refresh::pass::keep_leased,
};

impl Figures {
    /// One pass as of `now`: the number of tenants whose figures were
    /// stored. A tenant that fails is logged and left for the next pass.
    pub async fn refresh_due(
        &self,
        auth: &Authenticator,
        lease: StdDuration,
        now: DateTime<Utc>,
        shutdown: &Shutdown,
    ) -> Result<usize, Error> {
        // Tenants get their lease row here too, so a tenant's first figures
        // need not wait for its first refresh.
        let discover = self.models.discover_tenants(now).await;
        discover.map_err(storage("model"))?;
        let stale = now - self.max_age();
        let due = self.repo.due(stale).await.map_err(storage(WHAT))?;
        let mut stored = 0;
        for tenant in due {
            if shutdown.is_triggered() {
                break;
            }
            match self.refresh_tenant(auth, tenant, lease, now, stale).await {
                Ok(true) => stored += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(%tenant, error = %e, "population figures not stored"),
            }
        }
        Ok(stored)
    }

    fn max_age(&self) -> TimeDelta {
        TimeDelta::seconds(i64::from(self.config.figures_max_age_seconds))
    }

    /// The tenant's figures computed and stored if it is large, enabled,
    /// due and not leased elsewhere; whether they were.
    async fn refresh_tenant(
        &self,
        auth: &Authenticator,
        tenant: Uuid,
        lease: StdDuration,
        now: DateTime<Utc>,
        stale: DateTime<Utc>,
    ) -> Result<bool, Error> {
        if self.counted_small(tenant, now) {
            return Ok(false);
        }
        if self.inline(tenant).await? {
            self.note_small(tenant, now);
            return Ok(false);
        }
        let record = auth.tenants().record(tenant).await.map_err(Error::Api)?;
        let Some(record) = record.filter(|r| r.disabled_at.is_none()) else {
            return Ok(false);
        };
        let until = later(Utc::now(), lease).trunc_subsecs(3);
        if !self
            .models
            .claim_tenant(tenant, Utc::now(), until)
            .await
            .map_err(storage("model"))?
        {
            return Ok(false);
        }
        let held = Mutex::new(until);
        let result = tokio::select! {
            r = self.compute_if_due(&record.tenant, stale) => r,
            () = keep_leased(&self.models, tenant, &held, lease) => {
                tracing::warn!(%tenant, "population figures lease taken over; stopped");
                return Ok(false);
            }
        };
        let end = *held.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = self.models.release_lease(tenant, end).await {
            tracing::warn!(%tenant, error = %e, "population figures lease not released");
        }
        result
    }

    /// Under the lease: whether the figures are still due (another replica
    /// may have stored them since the pass listed the tenant), and if so
    /// both kinds computed and stored; equity only with a fit.
    async fn compute_if_due(&self, tenant: &Tenant, stale: DateTime<Utc>) -> Result<bool, Error> {
        let summary = self.repo.get(tenant.id, Kind::Summary).await;
        let fresh = summary
            .map_err(storage(WHAT))?
            .is_some_and(|s| s.as_of >= stale);
        let equity = self.repo.get(tenant.id, Kind::Equity).await;
        let has_equity = equity.map_err(storage(WHAT))?.is_some();
        if fresh && (has_equity || self.scores.states.get(tenant.id).await?.fit.is_none()) {
            return Ok(false);
        }
        let (started, as_of) = (Instant::now(), Utc::now());
        let answer = self.paged_summary(tenant, as_of).await?;
        let customers = answer.customers;
        self.put(
            tenant.id,
            Kind::Summary,
            as_of,
            customers,
            started,
            answer.encode_to_vec(),
        )
        .await?;
        let (started, as_of) = (Instant::now(), Utc::now());
        let equity = match self.scores.equity(tenant, as_of).await {
            Ok(answer) => Some(answer),
            Err(Error::NotFitted) => None,
            Err(e) => return Err(e),
        };
        if let Some(answer) = equity {
            let customers = answer.customers;
            self.put(
                tenant.id,
                Kind::Equity,
                as_of,
                customers,
                started,
                answer.encode_to_vec(),
            )
            .await?;
        }
        tracing::info!(tenant = %tenant.id, customers, "population figures stored");
        Ok(true)
    }

    async fn put(
        &self,
        tenant: Uuid,
        kind: Kind,
        as_of: DateTime<Utc>,
        customers: u64,
        started: Instant,
        response: Vec<u8>,
    ) -> Result<(), Error> {
        let row = StoredFigures {
            as_of,
            customers: i64::try_from(customers).unwrap_or(i64::MAX),
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            response,
        };
        self.repo
            .put(tenant, kind, &row)
            .await
            .map_err(storage(WHAT))
    }

    /// Whether this replica counted the tenant within the limit less than
    /// the max age before `now`.
    fn counted_small(&self, tenant: Uuid, now: DateTime<Utc>) -> bool {
        let small = self.small.lock().unwrap_or_else(|p| p.into_inner());
        small
            .get(&tenant)
            .is_some_and(|at| now - *at < self.max_age())
    }

    fn note_small(&self, tenant: Uuid, now: DateTime<Utc>) {
        let mut small = self.small.lock().unwrap_or_else(|p| p.into_inner());
        // Forget the ones counted long ago, so the map stays the size of the
        // tenants still small.
        let max_age = self.max_age();
        small.retain(|_, at| now - *at < max_age);
        small.insert(tenant, now);
    }
}
