//! Model predictions for one customer: the history in the fit's unit,
//! probability alive, expected purchases, order value and lifetime value.

use chrono::{DateTime, Utc};
use rapport_kit::domain::CurrencyCode;
use rapport_science::{CustomerHistory, ValueAssumptions};

use super::{Facts, HORIZONS_DAYS, Prediction};
use crate::{
    calendar::{TimeUnit, day_number},
    value::{
        histories::{major, repeat_mean},
        tenant_state::{LoadedFit, TenantState},
    },
};

/// The predictions for `f` under `fit`; `None` without a purchase.
pub(super) fn predict(
    f: &Facts<'_>,
    fit: &LoadedFit,
    state: &TenantState,
    c: CurrencyCode,
    now: DateTime<Utc>,
) -> Result<Option<Prediction>, String> {
    let unit = fit.unit;
    let (distinct, first_amount) = match unit {
        TimeUnit::Day => (f.basis.purchase_days, f.basis.first_day_purchase_minor),
        TimeUnit::Week => (f.basis.purchase_weeks, f.basis.first_week_purchase_minor),
    };
    let (Some(first), Some(last)) = (f.first, f.last) else {
        return Ok(None);
    };
    if distinct == 0 {
        return Ok(None);
    }
    let period = |t: DateTime<Utc>| unit.period_of_day(day_number(t));
    let repeats = (distinct - 1).min(u32::MAX as u64) as u32;
    let recency = (period(last) - period(first)) as f64;
    // A purchase stamped slightly ahead of this clock must not put the last
    // purchase after the end of observation.
    let age = ((period(now) - period(first)) as f64).max(recency);
    let history = CustomerHistory::new(repeats, recency, age);
    let mean = if repeats > 0 {
        repeat_mean(f.purchase_total, first_amount, repeats, c)
    } else {
        0.0
    };
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let probability_alive = fit
        .purchase
        .probability_alive(&history)
        .map_err(|e| err(&e))?;
    let mut expected = [0.0; 3];
    for (slot, days) in expected.iter_mut().zip(HORIZONS_DAYS) {
        *slot = fit
            .purchase
            .as_dyn()
            .conditional_expected_purchases(&history, days / unit.days())
            .map_err(|e| err(&e))?;
    }
    let shrunk = fit.no_spend.as_ref().and_then(|n| n.shrunk);
    let order_value = match (&fit.spend, shrunk) {
        (Some(spend), _) => spend.conditional_expected_value(repeats, mean),
        // Without a spend model: the repeat average shrunk toward the
        // population's, as the fit estimated.
        (None, Some(shrunk)) => shrunk.expected_value(repeats, mean),
        // A fit stored before the shrunk mean was kept, or without a repeat
        // customer to estimate it from: the customer's own average per
        // purchase period.
        (None, None) => major(f.purchase_total, c) / distinct as f64,
    };
    let s = &state.settings;
    let net = f.net;
    let margin_rate = if net > 0 {
        (major(f.basis.margin_total_minor, c) / major(net, c)).clamp(0.0, 1.0)
    } else {
        s.default_margin_rate
    };
    let assumptions = ValueAssumptions {
        periods_per_month: unit.periods_per_month(),
        horizon_months: s.lifetime_horizon_months,
        annual_discount_rate: s.annual_discount_rate,
        margin_rate,
    };
    let lifetime = fit
        .purchase
        .lifetime_value(&history, order_value, &assumptions)
        .map_err(|e| err(&e))?;
    Ok(Some(Prediction {
        history,
        repeat_mean: mean,
        probability_alive,
        expected,
        order_value,
        margin_rate,
        lifetime,
    }))
}
