//! The customer-value work behind the RPCs and the background job: fitting
//! the models, refreshing the population figures, model checking and wallet
//! estimates. Storage goes through the repositories; the science runs on the
//! blocking pool so fits never stall request handling.

mod evaluate;
mod population;
mod wallets;

pub use wallets::WalletSource;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rapport_kit::{ApiError, domain::CurrencyCode, error::classify_db_error};
use rapport_science::FitOptions;
use uuid::Uuid;

use crate::{
    histories::{Builder, FitData},
    hot::HotScores,
    models::{self, PurchaseKind},
    periods::{TimeUnit, day_number, day_start, to_stored_precision},
    repo::{
        ScoreRepo,
        models::{FitRow, ModelRepo, RefreshOutcome, StoredFit},
    },
    state::TenantStates,
};

/// Reason in the ErrorInfo of data the models cannot fit.
pub const UNFITTABLE: &str = "MODEL_UNFITTABLE";
/// Bumped when the way fits are made changes, so an old fingerprint never
/// matches a new fit.
const FIT_SCHEME: &str = "fit-v1";

/// Shared by the service and the background job.
#[derive(Clone)]
pub struct Engine {
    pub(crate) scores: ScoreRepo,
    pub(crate) models: ModelRepo,
    pub(crate) states: Arc<TenantStates>,
    pub(crate) hot: Arc<HotScores>,
    pub(crate) wallets: WalletSource,
}

pub(crate) fn db_error(e: sqlx::Error) -> ApiError {
    classify_db_error(e, "model")
}

fn unfittable(message: String) -> ApiError {
    ApiError::FailedPrecondition {
        reason: UNFITTABLE,
        message,
    }
}

/// Runs CPU-heavy science off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("fit task failed: {e}")))
}

/// Fits every purchase model and the spend model to `data`; the selected
/// purchase model is `preferred` when it fitted, else the first that did.
/// Errors with the reason when no purchase model fits. A spend model that
/// cannot be fitted is left out (logged); scores then use each customer's own
/// average order value, and say so in their explanation.
pub fn fit_all(data: &FitData, preferred: Option<PurchaseKind>) -> Result<Vec<FitRow>, ApiError> {
    let options = FitOptions::default();
    let mut rows = Vec::new();
    let mut first_error = None;
    for kind in PurchaseKind::ALL {
        match models::fit_purchase(kind, &data.histories, &options) {
            Ok(row) => rows.push(row),
            Err(e) => {
                first_error.get_or_insert(format!("{} cannot be fitted: {e}", kind.label()));
            }
        }
    }
    if rows.is_empty() {
        return Err(unfittable(first_error.unwrap_or_default()));
    }
    let selected = preferred
        .and_then(|p| rows.iter().position(|r| r.model == p.as_str()))
        .unwrap_or(0);
    rows[selected].selected = true;
    match models::fit_spend(&data.spend, &options) {
        Ok(spend) => rows.push(spend),
        Err(e) => {
            tracing::warn!(reason = %e, "gamma-gamma spend model not fitted; own averages used")
        }
    }
    Ok(rows)
}

impl Engine {
    /// Every purchase day of the tenant folded into fit data.
    pub(crate) async fn fit_data(
        &self,
        tenant: Uuid,
        unit: TimeUnit,
        end_day: i64,
        holdout_end: Option<i64>,
        currency: CurrencyCode,
    ) -> Result<FitData, ApiError> {
        let mut builder = Builder::new(unit, end_day, holdout_end, currency);
        let last = holdout_end.unwrap_or(end_day);
        self.models
            .scan_days(tenant, last, &mut |row| builder.push(row))
            .await
            .map_err(db_error)?;
        Ok(builder.finish())
    }

    /// Everything a refresh does, for FitModels and the background job:
    /// wallet estimates (best effort: Profiles being down only delays
    /// them), the fit, then the population, which is refreshed even when the
    /// data cannot be fitted (RFM needs no model; the failure is recorded).
    /// The tenant is next due a fit interval from now. The outcome is
    /// recorded as the tenant's refresh status ([`Engine::record_refresh`]).
    pub async fn fit_and_refresh(
        &self,
        tenant: Uuid,
        currency: CurrencyCode,
        end_day: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(StoredFit, bool), ApiError> {
        let result = self.refresh_tenant(tenant, currency, end_day, now).await;
        let outcome = match &result {
            Ok((_, true)) => Ok(RefreshOutcome::Fitted),
            Ok((_, false)) => Ok(RefreshOutcome::Unchanged),
            Err(e) => Err(e),
        };
        self.record_refresh(tenant, outcome, now).await;
        result
    }

    /// Records how a refresh attempt at `at` ended: an outcome, or the error
    /// it failed with (data the models cannot fit is "unfittable", with the
    /// reason). Error texts are those the API would show: internal errors
    /// are logged, not stored. Best effort: a status that cannot be written
    /// is logged and does not fail the refresh.
    pub async fn record_refresh(
        &self,
        tenant: Uuid,
        outcome: Result<RefreshOutcome, &ApiError>,
        at: DateTime<Utc>,
    ) {
        let (outcome, error) = match outcome {
            Ok(o) => (o, None),
            Err(ApiError::FailedPrecondition { reason, message }) if *reason == UNFITTABLE => {
                (RefreshOutcome::Unfittable, Some(message.clone()))
            }
            Err(ApiError::Internal(_)) => (RefreshOutcome::Failed, Some("internal error".into())),
            Err(e) => (RefreshOutcome::Failed, Some(e.to_string())),
        };
        if let Err(e) = self
            .models
            .record_refresh(tenant, outcome, error.as_deref(), at)
            .await
        {
            tracing::warn!(error = %e, outcome = outcome.as_str(), "refresh status not recorded");
        }
    }

    async fn refresh_tenant(
        &self,
        tenant: Uuid,
        currency: CurrencyCode,
        end_day: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(StoredFit, bool), ApiError> {
        match self.refresh_wallets(tenant, currency, now).await {
            Ok(n) => tracing::debug!(changed = n, "wallet estimates refreshed"),
            Err(e) => tracing::warn!(error = %e, "wallet estimates not refreshed"),
        }
        let result = self.fit(tenant, currency, end_day, now).await;
        self.refresh_population(tenant, currency, now).await?;
        if let Err(ApiError::FailedPrecondition { reason, message }) = &result
            && *reason == UNFITTABLE
        {
            tracing::info!(reason = %message, "models not fitted");
            self.models
                .note(tenant, None, Some(message), now)
                .await
                .map_err(db_error)?;
        }
        let interval = self
            .models
            .settings(tenant)
            .await
            .map_err(db_error)?
            .settings
            .fit_interval_minutes;
        let due = now + Duration::minutes(i64::from(interval));
        self.models
            .reschedule(tenant, due)
            .await
            .map_err(db_error)?;
        result
    }

    /// Fits the tenant's models to purchases up to `end_day` (today for
    /// `None`). Returns the stored fit and whether it is new: over unchanged
    /// data the latest fit is returned as it is, without fitting again.
    pub async fn fit(
        &self,
        tenant: Uuid,
        currency: CurrencyCode,
        end_day: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(StoredFit, bool), ApiError> {
        let settings = self.models.settings(tenant).await.map_err(db_error)?;
        let unit = settings.settings.time_unit;
        let end_day = end_day.unwrap_or_else(|| day_number(now));
        let preferred = self
            .models
            .population(tenant)
            .await
            .map_err(db_error)?
            .preferred_model
            .and_then(|m| PurchaseKind::parse(&m));
        let data = self.fit_data(tenant, unit, end_day, None, currency).await?;
        let context = format!(
            "{FIT_SCHEME}|{}|{end_day}|{}|{}",
            unit.as_str(),
            PurchaseKind::ALL.map(|k| k.as_str()).join(","),
            preferred.map_or("", |p| p.as_str())
        );
        let fingerprint = data.fingerprint(&context);
        let latest = self.models.fit(tenant, None).await.map_err(db_error)?;
        if let Some(latest) = latest.filter(|f| f.fingerprint == fingerprint) {
            return Ok((latest, false));
        }
        let customers = data.histories.len();
        let rows = blocking(move || fit_all(&data, preferred)).await??;
        let fit = StoredFit {
            version: 0,
            fitted_at: to_stored_precision(now),
            observation_end: day_start(end_day),
            time_unit: unit,
            fingerprint,
            models: rows,
        };
        let (stored, created) = self
            .models
            .insert_fit(tenant, &fit)
            .await
            .map_err(db_error)?;
        tracing::info!(
            version = stored.version,
            customers,
            created,
            "models fitted"
        );
        self.states.reload(tenant).await.map_err(db_error)?;
        Ok((stored, created))
    }
}
