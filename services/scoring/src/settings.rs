//! A tenant's scoring settings: validated at the edge into [`Settings`],
//! stored as JSON, defaults until the tenant changes them.

use std::collections::BTreeMap;

use rapport_kit::{
    FieldErrors,
    domain::{self, CurrencyCode},
};
use rapport_proto::v1::{Money, ScoringSettings, TierBasis as ProtoTierBasis, TierThreshold};
use serde::{Deserialize, Serialize};

use crate::periods::TimeUnit;
use checks::{categories, cost, tiers};

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
    #[serde(with = "crate::exact")]
    pub min_percentile: f64,
}

/// A tenant's settings. Unknown or missing JSON fields take defaults, so
/// settings stored by an older release still load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Annual discount rate, 0 to 1.
    #[serde(with = "crate::exact")]
    pub annual_discount_rate: f64,
    /// Margin rate of transactions without margin, cost or category rate.
    #[serde(with = "crate::exact")]
    pub default_margin_rate: f64,
    /// Margin rates by transaction category.
    #[serde(with = "crate::exact::map")]
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

/// Every field an update mask may name.
pub const FIELDS: [&str; 9] = [
    "annual_discount_rate",
    "default_margin_rate",
    "category_margin_rates",
    "monthly_cost_to_serve",
    "tier_basis",
    "tiers",
    "time_unit",
    "fit_interval_minutes",
    "lifetime_horizon_months",
];

pub(crate) fn rate(value: f64) -> Result<f64, String> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} must be a fraction from 0 to 1"))
    }
}

fn within(value: u32, max: u32) -> Result<u32, String> {
    if (1..=max).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} must be from 1 to {max}"))
    }
}

impl Settings {
    /// The settings with the fields of `mask` (every field when empty) taken
    /// from `update`, each checked; violations name `settings.<field>`.
    pub fn updated(
        &self,
        update: &ScoringSettings,
        mask: &[String],
        currency: CurrencyCode,
    ) -> Result<Settings, FieldErrors> {
        let mut errors = FieldErrors::new();
        let all: Vec<String> = FIELDS.iter().map(|f| f.to_string()).collect();
        let mask = if mask.is_empty() { &all[..] } else { mask };
        let mut next = self.clone();
        for (i, path) in mask.iter().enumerate() {
            let field = format!("settings.{path}");
            match path.as_str() {
                "annual_discount_rate" => {
                    if let Some(v) = errors.check(&field, rate(update.annual_discount_rate)) {
                        next.annual_discount_rate = v;
                    }
                }
                "default_margin_rate" => {
                    if let Some(v) = errors.check(&field, rate(update.default_margin_rate)) {
                        next.default_margin_rate = v;
                    }
                }
                "category_margin_rates" => {
                    next.category_margin_rates =
                        categories(&update.category_margin_rates, &mut errors);
                }
                "monthly_cost_to_serve" => {
                    if let Some(v) =
                        cost(update.monthly_cost_to_serve.as_ref(), currency, &mut errors)
                    {
                        next.monthly_cost_to_serve_minor = v;
                    }
                }
                "tier_basis" => match ProtoTierBasis::try_from(update.tier_basis) {
                    Ok(ProtoTierBasis::LifetimeValue) => next.tier_basis = TierBasis::LifetimeValue,
                    Ok(ProtoTierBasis::MonthlyProfit) => next.tier_basis = TierBasis::MonthlyProfit,
                    _ => errors.add(field, "must be LIFETIME_VALUE or MONTHLY_PROFIT"),
                },
                "tiers" => {
                    if let Some(t) = tiers(&update.tiers, &mut errors) {
                        next.tiers = t;
                    }
                }
                "time_unit" => match TimeUnit::from_proto(update.time_unit) {
                    Some(u) => next.time_unit = u,
                    None => errors.add(field, "must be DAY or WEEK"),
                },
                "fit_interval_minutes" => {
                    let v = within(update.fit_interval_minutes, MAX_FIT_INTERVAL_MINUTES);
                    if let Some(v) = errors.check(&field, v) {
                        next.fit_interval_minutes = v;
                    }
                }
                "lifetime_horizon_months" => {
                    let v = within(update.lifetime_horizon_months, MAX_HORIZON_MONTHS);
                    if let Some(v) = errors.check(&field, v) {
                        next.lifetime_horizon_months = v;
                    }
                }
                other => errors.add(
                    format!("update_mask.paths[{i}]"),
                    format!(
                        "{:?} is not a settings field; one of {}",
                        domain::truncate(other, 40),
                        FIELDS.join(", ")
                    ),
                ),
            }
        }
        if errors.is_empty() {
            Ok(next)
        } else {
            Err(errors)
        }
    }

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

mod checks;
#[cfg(test)]
mod tests;
