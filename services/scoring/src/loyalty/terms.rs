//! A programme's terms: checked from the API's form into thousandths (so
//! points are computed in integers, the same on every replica), and the
//! points a purchase earns under them, with the computation in words.

use std::collections::BTreeMap;

use chrono::{DateTime, Months, Utc};
use rapport_kit::{FieldErrors, domain};
use rapport_proto::v1::PointsProgramme;
use serde::{Deserialize, Serialize};

/// Most points per currency unit.
const MAX_PER_UNIT: f64 = 1_000.0;
/// Highest multiplier.
const MAX_MULTIPLIER: f64 = 100.0;
/// Most multipliers of each kind.
const MAX_MULTIPLIERS: usize = 200;
/// Longest category or tier name, in bytes.
const MAX_NAME_LEN: usize = 128;
/// Largest bonus.
const MAX_BONUS: i64 = 1_000_000_000;
/// Longest expiry, in months.
const MAX_EXPIRY_MONTHS: u32 = 120;

/// A programme's terms as stored: rates in thousandths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Terms {
    /// Points per currency unit, in thousandths.
    pub per_unit_milli: i64,
    /// Multiplier per category, in thousandths.
    pub categories: BTreeMap<String, i64>,
    /// Multiplier per tier, in thousandths.
    pub tiers: BTreeMap<String, i64>,
    /// Points on a customer's first purchase.
    pub welcome_bonus: i64,
    /// Points on a member's birthday.
    pub birthday_bonus: i64,
    /// Months points are kept; 0 keeps them forever.
    pub expiry_months: u32,
    /// Nothing is earned while set.
    #[serde(default)]
    pub paused: bool,
}

/// What a purchase (or a refund, taken back) is worth, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worth {
    /// Rounded down.
    pub points: i64,
    /// The computation in words.
    pub reason: String,
}

/// `value` in thousandths, or why not: finite, from 0 to `max`, at most
/// three decimals.
fn milli(value: f64, max: f64) -> Result<i64, String> {
    if !value.is_finite() || !(0.0..=max).contains(&value) {
        return Err(format!("must be from 0 to {max}"));
    }
    let scaled = value * 1_000.0;
    if (scaled - scaled.round()).abs() > 1e-6 {
        return Err("has more than 3 decimals".to_owned());
    }
    Ok(scaled.round() as i64)
}

fn multipliers(
    field: &str,
    given: &std::collections::HashMap<String, f64>,
    errors: &mut FieldErrors,
) -> BTreeMap<String, i64> {
    if given.len() > MAX_MULTIPLIERS {
        errors.add(
            field,
            format!("has {} entries; at most {MAX_MULTIPLIERS}", given.len()),
        );
        return BTreeMap::new();
    }
    let mut out = BTreeMap::new();
    // Sorted, so the violations come in the same order every time.
    let sorted: BTreeMap<&String, &f64> = given.iter().collect();
    for (name, value) in sorted {
        let at = format!("{field}[{name:?}]");
        if name.is_empty() {
            errors.add(&at, "a name is required");
            continue;
        }
        if let Err(e) = domain::check_text(name, MAX_NAME_LEN) {
            errors.add(&at, e);
            continue;
        }
        match milli(*value, MAX_MULTIPLIER) {
            Ok(m) => {
                out.insert(name.clone(), m);
            }
            Err(e) => errors.add(&at, e),
        }
    }
    out
}

impl Terms {
    /// The terms of `p`, or every bad field (named under `programme.`).
    pub fn check(p: &PointsProgramme) -> Result<Terms, FieldErrors> {
        let mut errors = FieldErrors::new();
        let per_unit_milli = errors
            .check(
                "programme.points_per_unit",
                milli(p.points_per_unit, MAX_PER_UNIT),
            )
            .unwrap_or_default();
        let categories = multipliers(
            "programme.category_multipliers",
            &p.category_multipliers,
            &mut errors,
        );
        let tiers = multipliers(
            "programme.tier_multipliers",
            &p.tier_multipliers,
            &mut errors,
        );
        let bonus = |field: &str, v: i64, errors: &mut FieldErrors| {
            if !(0..=MAX_BONUS).contains(&v) {
                errors.add(field, format!("must be from 0 to {MAX_BONUS}"));
            }
            v
        };
        let welcome_bonus = bonus("programme.welcome_bonus", p.welcome_bonus, &mut errors);
        let birthday_bonus = bonus("programme.birthday_bonus", p.birthday_bonus, &mut errors);
        if p.expiry_months > MAX_EXPIRY_MONTHS {
            errors.add(
                "programme.expiry_months",
                format!("must be at most {MAX_EXPIRY_MONTHS} (0 keeps points forever)"),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Terms {
            per_unit_milli,
            categories,
            tiers,
            welcome_bonus,
            birthday_bonus,
            expiry_months: p.expiry_months,
            paused: p.paused,
        })
    }

    /// The API's form (without the output-only fields).
    pub fn to_proto(&self) -> PointsProgramme {
        let unmilli = |m: &i64| *m as f64 / 1_000.0;
        PointsProgramme {
            points_per_unit: unmilli(&self.per_unit_milli),
            category_multipliers: self
                .categories
                .iter()
                .map(|(k, v)| (k.clone(), unmilli(v)))
                .collect(),
            tier_multipliers: self
                .tiers
                .iter()
                .map(|(k, v)| (k.clone(), unmilli(v)))
                .collect(),
            welcome_bonus: self.welcome_bonus,
            birthday_bonus: self.birthday_bonus,
            expiry_months: self.expiry_months,
            paused: self.paused,
            ..PointsProgramme::default()
        }
    }

    /// Whether any tier earns other than 1 (the tier must then be known).
    pub fn uses_tiers(&self) -> bool {
        self.tiers.values().any(|m| *m != 1_000)
    }

    /// When points earned at `at` expire; `None` when they are kept.
    pub fn expiry(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.expiry_months {
            0 => None,
            n => at.checked_add_months(Months::new(n)),
        }
    }

    /// What `amount` minor units (with `exponent` decimals) in `category`
    /// earn a customer of `tier`: amount × rate × multipliers, rounded down.
    pub fn worth(
        &self,
        amount: i64,
        exponent: u8,
        currency: &str,
        category: &str,
        tier: &str,
    ) -> Worth {
        let category_m = self.categories.get(category).copied().unwrap_or(1_000);
        let tier_m = self.tiers.get(tier).copied().unwrap_or(1_000);
        let scale = 10i128.pow(u32::from(exponent)) * 1_000_000_000;
        let product = i128::from(amount)
            * i128::from(self.per_unit_milli)
            * i128::from(category_m)
            * i128::from(tier_m);
        let points = i64::try_from(product / scale).unwrap_or(i64::MAX);
        let mut reason = format!(
            "{} {currency} × {} point/unit",
            decimal(i128::from(amount), u32::from(exponent)),
            decimal(i128::from(self.per_unit_milli), 3),
        );
        if category_m != 1_000 {
            reason.push_str(&format!(
                " × {} (category {category})",
                decimal(i128::from(category_m), 3)
            ));
        }
        if tier_m != 1_000 {
            reason.push_str(&format!(
                " × {} (tier {tier})",
                decimal(i128::from(tier_m), 3)
            ));
        }
        reason.push_str(&format!(" = {points}"));
        Worth { points, reason }
    }
}

/// `value` with `decimals` implied decimals, trailing zeros dropped
/// ("12.5", "2", "0.25").
fn decimal(value: i128, decimals: u32) -> String {
    let scale = 10i128.pow(decimals);
    let (whole, frac) = (value / scale, (value % scale).abs());
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:0width$}", width = decimals as usize);
    let sign = if value < 0 && whole == 0 { "-" } else { "" };
    format!("{sign}{whole}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests;
