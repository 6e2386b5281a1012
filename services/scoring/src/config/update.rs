//! Applying an UpdateScoringSettings request: the masked fields checked and
//! taken onto the current settings, each violation naming its field.

use rapport_kit::{
    FieldErrors,
    domain::{self, CurrencyCode},
};
use rapport_proto::v1::{ScoringSettings, TierBasis as ProtoTierBasis};

use super::{
    MAX_FIT_INTERVAL_MINUTES, MAX_HORIZON_MONTHS, Settings, TierBasis,
    checks::{categories, cost, rate, tiers},
};
use crate::calendar::TimeUnit;

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
}
