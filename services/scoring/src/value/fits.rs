//! Fitting a tenant's models: its purchase days folded into histories, every
//! model fitted on the blocking pool and the fit stored as a new version
//! (unless the data is unchanged), and the stored fits read back.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rapport_kit::domain::CurrencyCode;
use uuid::Uuid;

use super::{
    blocking,
    fitting::fit_all,
    histories::{Builder, FitData},
    models::PurchaseKind,
    tenant_states::TenantStates,
};
use crate::{
    calendar::{TimeUnit, day_number, day_start, to_stored_precision},
    error::{Error, storage},
    repo::models::{ModelRepo, RefreshStatusRow, StoredFit},
};

/// Bumped when the way fits are made changes, so an old fingerprint never
/// matches a new fit.
const FIT_SCHEME: &str = "fit-v2";
/// What a failure here was reading or writing.
const WHAT: &str = "model";

/// One fit asked for: the tenant's, in its currency, over purchases up to
/// `end_day` (today for `None`), made at `now`.
#[derive(Debug, Clone, Copy)]
pub struct FitRequest {
    /// Whose models.
    pub tenant: Uuid,
    /// The tenant's currency.
    pub currency: CurrencyCode,
    /// The last day of data, today for `None`.
    pub end_day: Option<i64>,
    /// When the fit is made.
    pub now: DateTime<Utc>,
}

/// Fits and checks a tenant's models, and reads the fits stored.
#[derive(Clone)]
pub struct Fitter {
    pub(crate) models: ModelRepo,
    pub(crate) states: Arc<TenantStates>,
}

impl Fitter {
    /// The time unit the tenant's settings fit in.
    pub(crate) async fn time_unit(&self, tenant: Uuid) -> Result<TimeUnit, Error> {
        let settings = self.models.settings(tenant).await.map_err(storage(WHAT))?;
        Ok(settings.settings.time_unit)
    }

    /// Every purchase day of the tenant folded into fit data.
    pub(crate) async fn fit_data(
        &self,
        tenant: Uuid,
        unit: TimeUnit,
        end_day: i64,
        holdout_end: Option<i64>,
        currency: CurrencyCode,
    ) -> Result<FitData, Error> {
        let mut builder = Builder::new(unit, end_day, holdout_end, currency);
        let last = holdout_end.unwrap_or(end_day);
        self.models
            .scan_days(tenant, last, &mut |row| builder.push(row))
            .await
            .map_err(storage(WHAT))?;
        Ok(builder.finish())
    }

    /// Fits the models `r` asks for. Returns the stored fit and whether it
    /// is new: over unchanged data the latest fit is returned as it is,
    /// without fitting again.
    pub async fn fit(&self, r: FitRequest) -> Result<(StoredFit, bool), Error> {
        let FitRequest {
            tenant,
            currency,
            end_day,
            now,
        } = r;
        let unit = self.time_unit(tenant).await?;
        let end_day = end_day.unwrap_or_else(|| day_number(now));
        let preferred = self
            .models
            .population(tenant)
            .await
            .map_err(storage(WHAT))?
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
        let latest = self.models.fit(tenant, None).await.map_err(storage(WHAT))?;
        if let Some(latest) = latest.filter(|f| f.fingerprint == fingerprint) {
            return Ok((latest, false));
        }
        let (customers, sampled) = (data.customers, data.histories.len());
        let started = std::time::Instant::now();
        let (rows, spend_unfitted) = blocking(move || fit_all(&data, preferred)).await??;
        crate::metrics::fitted(started.elapsed());
        let fit = StoredFit {
            version: 0,
            fitted_at: to_stored_precision(now),
            observation_end: day_start(end_day),
            time_unit: unit,
            fingerprint,
            models: rows,
            spend_unfitted,
        };
        let (stored, created) = self
            .models
            .insert_fit(tenant, &fit)
            .await
            .map_err(storage(WHAT))?;
        tracing::info!(
            version = stored.version,
            customers,
            sampled,
            created,
            "models fitted"
        );
        self.states.reload(tenant).await?;
        Ok((stored, created))
    }

    /// Fit `version` (the latest for `None`), which must exist.
    pub async fn stored(&self, tenant: Uuid, version: Option<i64>) -> Result<StoredFit, Error> {
        let fit = self
            .models
            .fit(tenant, version)
            .await
            .map_err(storage(WHAT))?;
        fit.ok_or_else(|| Error::NotFound {
            what: "model fit",
            id: version.map_or_else(|| "latest".to_owned(), |v| v.to_string()),
        })
    }

    /// Up to `limit` fits older than version `before` (the newest without),
    /// newest first, and how the tenant's last refresh went.
    pub async fn list(
        &self,
        tenant: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> Result<(Vec<StoredFit>, Option<RefreshStatusRow>), Error> {
        let fits = self
            .models
            .fits(tenant, before, limit)
            .await
            .map_err(storage(WHAT))?;
        let refresh = self
            .models
            .refresh_status(tenant)
            .await
            .map_err(storage(WHAT))?;
        Ok((fits, refresh))
    }
}
