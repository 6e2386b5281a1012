//! The service's settings: each tenant's scoring settings (discount and
//! margin rates, tiers, the models' time unit, the fit interval), validated
//! at the edge into [`Settings`], stored as JSON, defaults until changed.

mod checks;
#[cfg(test)]
mod tests;
mod update;

use std::collections::BTreeMap;

use rapport_kit::domain::CurrencyCode;
use rapport_proto::v1::{Money, ScoringSettings, TierBasis as ProtoTierBasis, TierThreshold};
use serde::{Deserialize, Serialize};

use crate::calendar::TimeUnit;

/// Most categories with a margin rate of their own.
pub const MAX_CATEGORIES: usize = 1_000;
/// Most tiers.
pub const MAX_TIERS: usize = 10;
/// Longest fit interval: a week.
pub const MAX_FIT_INTERVAL_MINUTES: u32 = 7 * 24 * 60;
/// Longest lifetime horizon: ten years.
pub const MAX_HORIZON_MONTHS: u32 = 120;

/// What a service tier is assigned from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierBasis {
    /// Lifetime value.
    LifetimeValue,
    /// Trailing-twelve-month average monthly profit contribution.
    MonthlyProfit,
}

impl TierBasis {
    /// The name used in explanations.
    pub fn as_str(self) -> &'static str {
        match self {
            TierBasis::LifetimeValue => "lifetime value",
            TierBasis::MonthlyProfit => "monthly profit",
        }
    }
}

/// One tier: customers at or above `min_percentile` of the basis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    /// Its name ("gold").
    pub name: String,
    /// 0 to 100 (exclusive).
    #[serde(with = "crate::exact_float")]
    pub min_percentile: f64,
}

/// A tenant's settings. Unknown or missing JSON fields take defaults, so
/// settings stored by an older release still load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Annual discount rate, 0 to 1.
    #[serde(with = "crate::exact_float")]
    pub annual_discount_rate: f64,
    /// Margin rate of transactions without margin, cost or category rate.
    #[serde(with = "crate::exact_float")]
    pub default_margin_rate: f64,
    /// Margin rates by transaction category.
    #[serde(with = "crate::exact_float::map")]
    pub category_margin_rates: BTreeMap<String, f64>,
    /// Charged per month with a purchase, minor units.
    pub monthly_cost_to_serve_minor: i64,
    /// What tiers are assigned from.
    pub tier_basis: TierBasis,
    /// Tiers, highest `min_percentile` first; the last starts at 0.
    pub tiers: Vec<Tier>,
    /// The purchase models' time unit.
    pub time_unit: TimeUnit,
    /// Minutes between background fits.
    pub fit_interval_minutes: u32,
    /// Months counted in lifetime value.
    pub lifetime_horizon_months: u32,
}

impl Default for Settings {
    fn default() -> Self {
        let tier = |name: &str, min_percentile| Tier {
            name: name.to_owned(),
            min_percentile,
        };
        Settings {
            annual_discount_rate: 0.10,
            default_margin_rate: 1.0,
            category_margin_rates: BTreeMap::new(),
            monthly_cost_to_serve_minor: 0,
            tier_basis: TierBasis::LifetimeValue,
            tiers: vec![
                tier("platinum", 95.0),
                tier("gold", 80.0),
                tier("silver", 50.0),
                tier("bronze", 0.0),
            ],
            time_unit: TimeUnit::Day,
            fit_interval_minutes: 60,
            lifetime_horizon_months: 36,
        }
    }
}

impl Settings {
    /// The contract's form.
    pub fn to_proto(&self, currency: CurrencyCode, version: u64) -> ScoringSettings {
        ScoringSettings {
            annual_discount_rate: self.annual_discount_rate,
            default_margin_rate: self.default_margin_rate,
            category_margin_rates: self.category_margin_rates.clone().into_iter().collect(),
            monthly_cost_to_serve: Some(Money {
                currency_code: currency.as_str().to_owned(),
                minor_units: self.monthly_cost_to_serve_minor,
            }),
            tier_basis: match self.tier_basis {
                TierBasis::LifetimeValue => ProtoTierBasis::LifetimeValue,
                TierBasis::MonthlyProfit => ProtoTierBasis::MonthlyProfit,
            } as i32,
            tiers: self
                .tiers
                .iter()
                .map(|t| TierThreshold {
                    name: t.name.clone(),
                    min_percentile: t.min_percentile,
                })
                .collect(),
            time_unit: self.time_unit.to_proto() as i32,
            fit_interval_minutes: self.fit_interval_minutes,
            lifetime_horizon_months: self.lifetime_horizon_months,
            version,
            updated_at: None,
        }
    }

    /// The margin rate of a category: its own, else the default.
    pub fn margin_rate(&self, category: &str) -> f64 {
        self.category_margin_rates
            .get(category)
            .copied()
            .unwrap_or(self.default_margin_rate)
    }
}
