//! Checks of single settings fields: rates, category rates, the cost to
//! serve and the tiers.

use std::collections::BTreeMap;

use rapport_kit::{
    FieldErrors,
    domain::{self, CurrencyCode},
};
use rapport_proto::v1::{Money, TierThreshold};

use super::{MAX_CATEGORIES, MAX_TIERS, Tier};

/// A fraction from 0 to 1.
pub(super) fn rate(value: f64) -> Result<f64, String> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} must be a fraction from 0 to 1"))
    }
}

pub(super) fn categories(
    rates: &std::collections::HashMap<String, f64>,
    errors: &mut FieldErrors,
) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    if rates.len() > MAX_CATEGORIES {
        errors.add(
            "settings.category_margin_rates",
            format!("{} categories; at most {MAX_CATEGORIES}", rates.len()),
        );
        return out;
    }
    for (name, value) in rates {
        let field = format!(
            "settings.category_margin_rates[{}]",
            domain::truncate(name, 40)
        );
        let name = errors.check(&field, domain::parse_id(name).map(str::to_owned));
        if let (Some(name), Some(v)) = (name, errors.check(&field, rate(*value))) {
            out.insert(name, v);
        }
    }
    out
}

pub(super) fn cost(
    money: Option<&Money>,
    currency: CurrencyCode,
    errors: &mut FieldErrors,
) -> Option<i64> {
    let Some(m) = money else {
        errors.add("settings.monthly_cost_to_serve", "required");
        return None;
    };
    let mut ok = true;
    if !m.currency_code.is_empty() && m.currency_code != currency.as_str() {
        errors.add(
            "settings.monthly_cost_to_serve.currency_code",
            format!("must be the tenant's currency {currency}"),
        );
        ok = false;
    }
    let amount = errors.check(
        "settings.monthly_cost_to_serve.minor_units",
        domain::parse_amount_minor(m.minor_units),
    );
    amount.filter(|_| ok)
}

pub(super) fn tiers(given: &[TierThreshold], errors: &mut FieldErrors) -> Option<Vec<Tier>> {
    if given.len() > MAX_TIERS {
        errors.add(
            "settings.tiers",
            format!("{} tiers; at most {MAX_TIERS}", given.len()),
        );
        return None;
    }
    let before = errors.violations().len();
    let mut out: Vec<Tier> = Vec::with_capacity(given.len());
    for (i, t) in given.iter().enumerate() {
        let name = errors.check(
            &format!("settings.tiers[{i}].name"),
            domain::parse_id(&t.name).map(str::to_owned),
        );
        if name
            .as_ref()
            .is_some_and(|n| out.iter().any(|o| &o.name == n))
        {
            errors.add(
                format!("settings.tiers[{i}].name"),
                "repeats an earlier tier",
            );
        }
        let p = t.min_percentile;
        if !(p.is_finite() && (0.0..100.0).contains(&p)) {
            errors.add(
                format!("settings.tiers[{i}].min_percentile"),
                format!("{p} must be at least 0 and below 100"),
            );
        } else if out.iter().any(|o| o.min_percentile == p) {
            errors.add(
                format!("settings.tiers[{i}].min_percentile"),
                "another tier starts at the same percentile",
            );
        }
        if let Some(name) = name {
            out.push(Tier {
                name,
                min_percentile: p,
            });
        }
    }
    if errors.violations().len() > before {
        return None;
    }
    out.sort_by(|a, b| b.min_percentile.total_cmp(&a.min_percentile));
    if out.last().is_none_or(|t| t.min_percentile != 0.0) {
        errors.add(
            "settings.tiers",
            "one tier must start at percentile 0, so that every customer gets a tier",
        );
        return None;
    }
    Some(out)
}
