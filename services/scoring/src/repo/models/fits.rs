//! Fitted models (`model_fits`): one version per fit, one row per model in
//! it, and a fit over unchanged inputs recognised by its fingerprint.

use chrono::{DateTime, Utc};
use rapport_kit::{
    Db,
    db::{Id, List, Time},
    in_tx, on_pool, sql_for,
};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use super::{
    ModelRepo,
    spend_fallback::{SPEND_FALLBACK, SpendUnfitted, StoredParameters},
};
use crate::{calendar::TimeUnit, exact_float::Exact};

/// One model parameter as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    /// The model's name for it ("r", "alpha", ...).
    pub name: String,
    /// Its estimate.
    #[serde(with = "crate::exact_float")]
    pub value: f64,
}

/// One model of a fit.
#[derive(Debug, Clone, PartialEq)]
pub struct FitRow {
    /// "bg_nbd", "gamma_gamma", ...
    pub model: String,
    /// Estimates, in the model's order.
    pub parameters: Vec<Parameter>,
    /// Standard errors in the same order; `None` when not available.
    pub standard_errors: Option<Vec<f64>>,
    /// Log-likelihood at the estimate.
    pub log_likelihood: f64,
    /// Optimiser iterations.
    pub iterations: i64,
    /// Whether the optimiser converged.
    pub converged: bool,
    /// Customers fitted.
    pub customers: i64,
    /// The purchase model predictions use.
    pub selected: bool,
}

/// A stored fit: one version, one row per model.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFit {
    /// Grows by one per fit, per tenant.
    pub version: i64,
    /// When it was made.
    pub fitted_at: DateTime<Utc>,
    /// 00:00 UTC of the last day observed.
    pub observation_end: DateTime<Utc>,
    /// The time unit the purchase models count in.
    pub time_unit: TimeUnit,
    /// Hash of the inputs.
    pub fingerprint: String,
    /// The models.
    pub models: Vec<FitRow>,
    /// Why there is no spend model among them, and what replaces it; `None`
    /// with a spend model, and in fits stored before this was kept.
    pub spend_unfitted: Option<SpendUnfitted>,
}

/// Where a model sits in a fit: purchase models in their order of
/// preference, then the spend model.
pub fn model_order(model: &str) -> usize {
    ["bg_nbd", "mbg_nbd", "pareto_nbd", "gamma_gamma"]
        .iter()
        .position(|m| *m == model)
        .unwrap_or(usize::MAX)
}

/// A row of `select_fits.sql`.
type Row = (
    i64,
    String,
    Time,
    Time,
    String,
    Json<StoredParameters>,
    Option<Json<Vec<Exact>>>,
    f64,
    i64,
    bool,
    i64,
    bool,
    String,
);

/// The fits of the versions in the list `$2`, newest first.
fn select_fits(db: &Db) -> &'static str {
    // A list is an array on Postgres, a JSON array on SQLite.
    sql_for!(
        db,
        postgres = include_str!("../../../sql/postgres/select_fits.sql"),
        sqlite = include_str!("../../../sql/sqlite/select_fits.sql"),
    )
}

/// Rows (ordered by version) grouped into fits.
fn to_fits(rows: Vec<Row>) -> Vec<StoredFit> {
    let mut fits: Vec<StoredFit> = Vec::new();
    for r in rows {
        if fits.last().is_none_or(|f| f.version != r.0) {
            fits.push(StoredFit {
                version: r.0,
                fitted_at: r.2.0,
                observation_end: r.3.0,
                time_unit: TimeUnit::parse(&r.4).unwrap_or_default(),
                fingerprint: r.12.clone(),
                models: Vec::new(),
                spend_unfitted: None,
            });
        }
        let Some(f) = fits.last_mut() else { break };
        let parameters = match r.5.0 {
            StoredParameters::Fallback(json) if r.1 == SPEND_FALLBACK => {
                f.spend_unfitted = Some(SpendUnfitted::from_row(json, r.10));
                continue;
            }
            StoredParameters::Fallback(_) => Vec::new(),
            StoredParameters::Model(p) => p,
        };
        f.models.push(FitRow {
            model: r.1,
            parameters,
            standard_errors: r.6.map(|j| j.0.into_iter().map(|e| e.0).collect()),
            log_likelihood: r.7,
            iterations: r.8,
            converged: r.9,
            customers: r.10,
            selected: r.11,
        });
        f.models.sort_by_key(|m| model_order(&m.model));
    }
    fits
}

impl ModelRepo {
    /// A stored fit: `version`, or the latest for `None`.
    pub async fn fit(
        &self,
        tenant: Uuid,
        version: Option<i64>,
    ) -> Result<Option<StoredFit>, sqlx::Error> {
        let version = match version {
            Some(v) => v,
            None => {
                let latest: Option<i64> = on_pool!(&self.db, pool => {
                    sqlx::query_scalar("SELECT max(version) FROM model_fits WHERE tenant_id = $1")
                        .bind(Id(tenant))
                        .fetch_one(pool)
                        .await?
                });
                match latest {
                    Some(v) => v,
                    None => return Ok(None),
                }
            }
        };
        Ok(self.fits_of(tenant, &[version]).await?.pop())
    }

    /// Up to `limit` fits older than `before` (all for `None`), newest first.
    pub async fn fits(
        &self,
        tenant: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredFit>, sqlx::Error> {
        let versions: Vec<i64> = on_pool!(&self.db, pool => {
            sqlx::query_scalar(include_str!("../../../sql/fit_versions.sql"))
                .bind(Id(tenant))
                .bind(before)
                .bind(limit as i64)
                .fetch_all(pool)
                .await?
        });
        if versions.is_empty() {
            return Ok(Vec::new());
        }
        self.fits_of(tenant, &versions).await
    }

    /// Stores `fit` as the next version, unless the latest stored fit has the
    /// same fingerprint: then that one is returned with `false`. Versions are
    /// allocated under a per-tenant lock, so concurrent fits cannot collide.
    pub async fn insert_fit(
        &self,
        tenant: Uuid,
        fit: &StoredFit,
    ) -> Result<(StoredFit, bool), sqlx::Error> {
        let (stored, inserted) = in_tx!(&self.db, tx => {
            // SQLite's one connection serialises fits already.
            if let Db::Postgres(_) = &self.db {
                sqlx::query(
                    "SELECT pg_advisory_xact_lock(hashtextextended('scoring-fit:' || $1::text, 0))",
                )
                .bind(Id(tenant))
                .execute(&mut *tx)
                .await?;
            }
            let latest: Option<(i64, String)> = sqlx::query_as(
                "SELECT version, fingerprint FROM model_fits WHERE tenant_id = $1 \
                 ORDER BY version DESC LIMIT 1",
            )
            .bind(Id(tenant))
            .fetch_optional(&mut *tx)
            .await?;
            match latest {
                Some((version, fp)) if fp == fit.fingerprint => {
                    let rows = sqlx::query_as(select_fits(&self.db))
                        .bind(Id(tenant))
                        .bind(List(&[version][..]))
                        .fetch_all(&mut *tx)
                        .await?;
                    (to_fits(rows).pop(), false)
                }
                latest => {
                    let version = latest.map_or(1, |(v, _)| v + 1);
                    let models = fit
                        .models
                        .iter()
                        .map(|m| (m.clone(), StoredParameters::Model(m.parameters.clone())));
                    let fallback = fit.spend_unfitted.as_ref().map(SpendUnfitted::to_row);
                    for (m, parameters) in models.chain(fallback) {
                        let errors = m.standard_errors.as_ref();
                        sqlx::query(include_str!("../../../sql/insert_fit.sql"))
                            .bind(Id(tenant))
                            .bind(version)
                            .bind(&m.model)
                            .bind(Time(fit.fitted_at))
                            .bind(Time(fit.observation_end))
                            .bind(fit.time_unit.as_str())
                            .bind(Json(&parameters))
                            .bind(errors.map(|e| Json(e.iter().map(|v| Exact(*v)).collect::<Vec<_>>())))
                            .bind(m.log_likelihood)
                            .bind(m.iterations)
                            .bind(m.converged)
                            .bind(m.customers)
                            .bind(m.selected)
                            .bind(&fit.fingerprint)
                            .execute(&mut *tx)
                            .await?;
                    }
                    (Some(StoredFit { version, ..fit.clone() }), true)
                }
            }
        });
        stored
            .map(|s| (s, inserted))
            .ok_or(sqlx::Error::RowNotFound)
    }

    /// The fits of `versions`.
    async fn fits_of(&self, tenant: Uuid, versions: &[i64]) -> Result<Vec<StoredFit>, sqlx::Error> {
        let rows = on_pool!(&self.db, pool => {
            sqlx::query_as(select_fits(&self.db))
                .bind(Id(tenant))
                .bind(List(versions))
                .fetch_all(pool)
                .await?
        });
        Ok(to_fits(rows))
    }
}
