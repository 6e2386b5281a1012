//! Keeping each tenant's customer value current: wallet estimates from
//! Profiles, the model fit and the population figures, for FitModels and the
//! background refresh, each attempt's outcome recorded for ListModelFits.

pub mod pass;
mod population;
mod wallets;

use std::time::Duration;

use chrono::{DateTime, Utc};
use rapport_kit::{ApiError, domain::later};
use uuid::Uuid;

use crate::{
    error::{Error, storage},
    profiles::Profiles,
    repo::models::{RefreshOutcome, StoredFit},
    scores::Scores,
    value::fits::{FitRequest, Fitter},
};

/// What a refresh reads and writes: the scores (wallets, population), the
/// fits, and Profiles for the wallet estimates.
#[derive(Clone)]
pub struct Refresher {
    pub(crate) scores: Scores,
    pub(crate) fitter: Fitter,
    pub(crate) profiles: Profiles,
}

impl Refresher {
    /// Everything a refresh does, for FitModels and the background job:
    /// wallet estimates (best effort: Profiles being down only delays
    /// them), the fit, then the population, which is refreshed even when the
    /// data cannot be fitted (RFM needs no model; the failure is recorded).
    /// The tenant is next due a fit interval from now. The outcome is
    /// recorded as the tenant's refresh status.
    pub async fn fit_and_refresh(&self, r: FitRequest) -> Result<(StoredFit, bool), Error> {
        let (tenant, now) = (r.tenant, r.now);
        match self.refresh_tenant(r).await {
            Ok((fit, created)) => {
                let outcome = if created {
                    RefreshOutcome::Fitted
                } else {
                    RefreshOutcome::Unchanged
                };
                self.record(tenant, outcome, None, now).await;
                Ok((fit, created))
            }
            Err(e) => Err(self.record_failure(tenant, e, now).await),
        }
    }

    /// Records that a refresh attempt at `at` failed with `error`, and
    /// returns it. Data the models cannot fit is "unfittable", with the
    /// reason; other texts are those the API shows (internal errors are
    /// logged, not stored).
    pub async fn record_failure(&self, tenant: Uuid, error: Error, at: DateTime<Utc>) -> Error {
        let (outcome, text, error) = match error {
            Error::Unfittable(reason) => (
                RefreshOutcome::Unfittable,
                reason.clone(),
                Error::Unfittable(reason),
            ),
            other => {
                let shown = ApiError::from(other);
                let text = match &shown {
                    ApiError::Internal(_) => "internal error".to_owned(),
                    e => e.to_string(),
                };
                (RefreshOutcome::Failed, text, Error::Api(shown))
            }
        };
        self.record(tenant, outcome, Some(&text), at).await;
        error
    }

    /// Best effort: a status that cannot be written is logged and does not
    /// fail the refresh.
    async fn record(
        &self,
        tenant: Uuid,
        outcome: RefreshOutcome,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) {
        let models = &self.fitter.models;
        if let Err(e) = models.record_refresh(tenant, outcome, error, at).await {
            tracing::warn!(error = %e, outcome = outcome.as_str(), "refresh status not recorded");
        }
    }

    async fn refresh_tenant(&self, r: FitRequest) -> Result<(StoredFit, bool), Error> {
        let (tenant, currency, now) = (r.tenant, r.currency, r.now);
        match self.refresh_wallets(tenant, currency, now).await {
            Ok(n) => tracing::debug!(changed = n, "wallet estimates refreshed"),
            Err(e) => tracing::warn!(error = %e, "wallet estimates not refreshed"),
        }
        let result = self.fitter.fit(r).await;
        self.refresh_population(tenant, currency, now).await?;
        let models = &self.fitter.models;
        if let Err(Error::Unfittable(message)) = &result {
            tracing::info!(reason = %message, "models not fitted");
            models
                .note(tenant, None, Some(message), now)
                .await
                .map_err(storage("model"))?;
        }
        let settings = models.settings(tenant).await.map_err(storage("model"))?;
        let interval = settings.settings.fit_interval_minutes;
        let due = later(now, minutes(interval));
        models
            .reschedule(tenant, due)
            .await
            .map_err(storage("model"))?;
        result
    }
}

/// A fit interval as a duration (a `u32` of minutes always fits one).
pub(crate) fn minutes(m: u32) -> Duration {
    Duration::from_secs(u64::from(m) * 60)
}
