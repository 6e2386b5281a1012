//! A tenant's population figures (`population`): RFM breakpoints and tier
//! cut-offs, refreshed with every fit, and what the last fit noted.

use chrono::{DateTime, Utc};
use rapport_kit::{
    db::{Id, Time},
    on_pool,
};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use super::ModelRepo;
use crate::exact_float::Exact;

/// One tier's cut-off in the population: customers whose basis value is at
/// least `cutoff` reach it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierCutoff {
    /// Tier name.
    pub name: String,
    /// The tier's percentile threshold, a fraction.
    #[serde(with = "crate::exact_float")]
    pub percentile: f64,
    /// The basis value at that percentile, major units.
    #[serde(with = "crate::exact_float")]
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

type Row = (
    Time,
    i64,
    Option<Json<StoredBreakpoints>>,
    Json<StoredTiers>,
    Option<String>,
    Option<String>,
);

impl ModelRepo {
    /// The tenant's population figures (empty if never computed).
    pub async fn population(&self, tenant: Uuid) -> Result<PopulationRow, sqlx::Error> {
        let row: Option<Row> = on_pool!(&self.db, pool => {
            sqlx::query_as(include_str!("../../../sql/select_population.sql"))
                .bind(Id(tenant))
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map_or_else(PopulationRow::default, |r| PopulationRow {
            computed_at: Some(r.0.0),
            customers: r.1,
            breakpoints: r.2.map(|j| j.0),
            tiers: r.3.0,
            preferred_model: r.4,
            last_error: r.5,
        }))
    }

    /// Stores freshly computed figures (keeping the preferred model) and
    /// clears the last error.
    pub async fn put_population(
        &self,
        tenant: Uuid,
        row: &PopulationRow,
    ) -> Result<(), sqlx::Error> {
        on_pool!(&self.db, pool => {
            sqlx::query(include_str!("../../../sql/put_population.sql"))
                .bind(Id(tenant))
                .bind(Time(row.computed_at.unwrap_or_else(Utc::now)))
                .bind(row.customers)
                .bind(row.breakpoints.map(Json))
                .bind(Json(&row.tiers))
                .execute(pool)
                .await?;
        });
        Ok(())
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
        on_pool!(&self.db, pool => {
            sqlx::query(include_str!("../../../sql/note_population.sql"))
                .bind(Id(tenant))
                .bind(preferred_model)
                .bind(error)
                .bind(Time(now))
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
