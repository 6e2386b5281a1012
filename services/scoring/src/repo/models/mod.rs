//! Storage of what the customer-value models keep per tenant: `settings`,
//! `model_fits` (one version per fit), `population` (RFM breakpoints and tier
//! cut-offs) and `refresh_leases` (the background job's schedule), plus the
//! scan of `customer_days` fits are made from.

mod postgres;
mod sqlite;

use chrono::{DateTime, Utc};
use rapport_kit::Db;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{exact::Exact, periods::TimeUnit, settings::Settings};

/// Stored settings: the settings, their version (0 for defaults never
/// stored) and when they last changed.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSettings {
    /// The settings.
    pub settings: Settings,
    /// Grows with every change; 0 while the defaults are in force.
    pub version: i64,
    /// When they last changed.
    pub updated_at: Option<DateTime<Utc>>,
}

/// One model parameter as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    /// The model's name for it ("r", "alpha", ...).
    pub name: String,
    /// Its estimate.
    #[serde(with = "crate::exact")]
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
}

/// Where a model sits in a fit: purchase models in their order of
/// preference, then the spend model.
pub fn model_order(model: &str) -> usize {
    ["bg_nbd", "mbg_nbd", "pareto_nbd", "gamma_gamma"]
        .iter()
        .position(|m| *m == model)
        .unwrap_or(usize::MAX)
}

/// One tier's cut-off in the population: customers whose basis value is at
/// least `cutoff` reach it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierCutoff {
    /// Tier name.
    pub name: String,
    /// The tier's percentile threshold, a fraction.
    #[serde(with = "crate::exact")]
    pub percentile: f64,
    /// The basis value at that percentile, major units.
    #[serde(with = "crate::exact")]
    pub cutoff: f64,
}

/// Tier cut-offs as stored, with the percentile table customers' own
/// percentiles are read from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct StoredTiers {
    /// The basis the values are of ("lifetime_value", "monthly_profit").
    pub basis: String,
    /// Highest first.
    pub tiers: Vec<TierCutoff>,
    /// (fraction, value) pairs, ascending.
    pub quantiles: Vec<(Exact, Exact)>,
}

/// RFM quintile breakpoints as stored: recency, frequency, monetary.
pub type StoredBreakpoints = [[Exact; 4]; 3];

/// Population figures of a tenant.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PopulationRow {
    /// When they were computed; `None` if never.
    pub computed_at: Option<DateTime<Utc>>,
    /// Customers with a purchase counted.
    pub customers: i64,
    /// RFM breakpoints; `None` before any customer bought.
    pub breakpoints: Option<StoredBreakpoints>,
    /// Tier cut-offs; empty when the basis was not available.
    pub tiers: StoredTiers,
    /// The purchase model EvaluateModels found better, if it ran.
    pub preferred_model: Option<String>,
    /// Why the last background fit failed, if it did.
    pub last_error: Option<String>,
}

/// One purchase day of one customer, as fits read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRow {
    /// The customer.
    pub customer_id: Uuid,
    /// UTC day number.
    pub day: i64,
    /// Purchases that day, minor units.
    pub amount: i64,
}

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

/// The models' repository.
#[derive(Debug, Clone)]
pub struct ModelRepo {
    db: Db,
}

impl ModelRepo {
    /// Wraps the service's pool.
    pub fn new(db: Db) -> Self {
        ModelRepo { db }
    }

    /// The tenant's settings, defaults when none are stored.
    pub async fn settings(&self, tenant: Uuid) -> Result<StoredSettings, sqlx::Error> {
        match &self.db {
            Db::Postgres(p) => postgres::settings(p, tenant).await,
            Db::Sqlite(p) => sqlite::settings(p, tenant).await,
        }
    }

    /// Stores `next` unless the stored settings already equal it; returns
    /// the settings in force afterwards and whether they changed. Compared
    /// and written in one transaction, so a repeated update changes nothing.
    pub async fn put_settings(
        &self,
        tenant: Uuid,
        next: &Settings,
        now: DateTime<Utc>,
    ) -> Result<(StoredSettings, bool), sqlx::Error> {
        match &self.db {
            Db::Postgres(p) => postgres::put_settings(p, tenant, next, now).await,
            Db::Sqlite(p) => sqlite::put_settings(p, tenant, next, now).await,
        }
    }

    /// A stored fit: `version`, or the latest for `None`.
    pub async fn fit(
        &self,
        tenant: Uuid,
        version: Option<i64>,
    ) -> Result<Option<StoredFit>, sqlx::Error> {
        match &self.db {
            Db::Postgres(p) => postgres::fit(p, tenant, version).await,
            Db::Sqlite(p) => sqlite::fit(p, tenant, version).await,
        }
    }

    /// Up to `limit` fits older than `before` (all for `None`), newest first.
    pub async fn fits(
        &self,
        tenant: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredFit>, sqlx::Error> {
        match &self.db {
            Db::Postgres(p) => postgres::fits(p, tenant, before, limit).await,
            Db::Sqlite(p) => sqlite::fits(p, tenant, before, limit).await,
        }
    }

    /// Stores `fit` as the next version, unless the latest stored fit has the
    /// same fingerprint: then that one is returned with `false`. Versions are
    /// allocated under a per-tenant lock, so concurrent fits cannot collide.
    pub async fn insert_fit(
        &self,
        tenant: Uuid,
        fit: &StoredFit,
    ) -> Result<(StoredFit, bool), sqlx::Error> {
        match &self.db {
            Db::Postgres(p) => postgres::insert_fit(p, tenant, fit).await,
            Db::Sqlite(p) => sqlite::insert_fit(p, tenant, fit).await,
        }
    }

    /// The tenant's population figures (empty if never computed).
    pub async fn population(&self, tenant: Uuid) -> Result<PopulationRow, sqlx::Error> {
        match &self.db {
            Db::Postgres(p) => postgres::population(p, tenant).await,
            Db::Sqlite(p) => sqlite::population(p, tenant).await,
        }
    }

    /// Stores freshly computed figures (keeping the preferred model) and
    /// clears the last error.
    pub async fn put_population(
        &self,
        tenant: Uuid,
        row: &PopulationRow,
    ) -> Result<(), sqlx::Error> {
        match &self.db {
            Db::Postgres(p) => postgres::put_population(p, tenant, row).await,
            Db::Sqlite(p) => sqlite::put_population(p, tenant, row).await,
        }
    }

    /// Records the preferred purchase model (`Some`) or a fit failure
    /// (`error`), leaving the figures as they are.
    pub async fn note(
        &self,
        tenant: Uuid,
        preferred_model: Option<&str>,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        match &self.db {
            Db::Postgres(p) => postgres::note(p, tenant, preferred_model, error, now).await,
            Db::Sqlite(p) => sqlite::note(p, tenant, preferred_model, error, now).await,
        }
    }

    /// Every purchase day of the tenant up to and including `last_day`,
    /// ordered by customer then day, fed to `each` as it streams in.
    pub async fn scan_days(
        &self,
        tenant: Uuid,
        last_day: i64,
        each: &mut (dyn FnMut(DayRow) + Send),
    ) -> Result<(), sqlx::Error> {
        match &self.db {
            Db::Postgres(p) => postgres::scan_days(p, tenant, last_day, each).await,
            Db::Sqlite(p) => sqlite::scan_days(p, tenant, last_day, each).await,
        }
    }

    /// Adds a lease row, due at `now`, for every tenant with scores that has
    /// none yet.
    pub async fn discover_tenants(&self, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
        match &self.db {
            Db::Postgres(p) => postgres::discover_tenants(p, now).await,
            Db::Sqlite(p) => sqlite::discover_tenants(p, now).await,
        }
    }

    /// Claims the tenant most overdue for a refresh, leasing it until
    /// `until`; `None` when nothing is due. A lease another replica holds is
    /// skipped; an expired one (its holder died) is taken over.
    pub async fn claim_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<Uuid>, sqlx::Error> {
        match &self.db {
            Db::Postgres(p) => postgres::claim_due(p, now, until).await,
            Db::Sqlite(p) => sqlite::claim_due(p, now, until).await,
        }
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
        match &self.db {
            Db::Postgres(p) => postgres::record_refresh(p, tenant, outcome, error, at).await,
            Db::Sqlite(p) => sqlite::record_refresh(p, tenant, outcome, error, at).await,
        }
    }

    /// The tenant's refresh status; `None` before the tenant was first
    /// scheduled.
    pub async fn refresh_status(
        &self,
        tenant: Uuid,
    ) -> Result<Option<RefreshStatusRow>, sqlx::Error> {
        match &self.db {
            Db::Postgres(p) => postgres::refresh_status(p, tenant).await,
            Db::Sqlite(p) => sqlite::refresh_status(p, tenant).await,
        }
    }

    /// Ends a lease and sets when the tenant is next due.
    pub async fn reschedule(&self, tenant: Uuid, due_at: DateTime<Utc>) -> Result<(), sqlx::Error> {
        match &self.db {
            Db::Postgres(p) => postgres::reschedule(p, tenant, due_at).await,
            Db::Sqlite(p) => sqlite::reschedule(p, tenant, due_at).await,
        }
    }
}
