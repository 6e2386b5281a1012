//! Read-time measures: a score's stored basis plus the tenant's state give
//! every customer-value measure. Pure arithmetic through the science crate,
//! no I/O, so a cached score is enriched without touching the database.

mod explain;
mod predict;

pub use explain::enrich;

use chrono::{DateTime, Utc};
use rapport_kit::domain::{CurrencyCode, timestamp_to_chrono};
use rapport_proto::v1::{Score, ScoreBasis};
use rapport_science::{
    BehaviourChange, BehaviourSettings, CustomerHistory, LifetimeValue, MarginRates, Month,
    MonthlyActivity, PastContribution, ProfitContribution, RfmResult, RfmValues, TierAssignment,
    Transaction, TransactionKind,
};

use super::{histories::major, tenant_state::TenantState};
use crate::{calendar::month_index, config::TierBasis};
use predict::predict;

/// Days of the expected-purchase horizons a score reports.
pub const HORIZONS_DAYS: [f64; 3] = [30.0, 90.0, 365.0];

/// Model predictions for one customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The history predicted from, in the fit's unit.
    pub history: CustomerHistory,
    /// Repeat-spend mean, major units (0 without repeats).
    pub repeat_mean: f64,
    /// Probability of being alive.
    pub probability_alive: f64,
    /// Expected purchases over [`HORIZONS_DAYS`].
    pub expected: [f64; 3],
    /// Expected order value, major units.
    pub order_value: f64,
    /// Margin rate applied to lifetime value.
    pub margin_rate: f64,
    /// Lifetime value, major units.
    pub lifetime: LifetimeValue,
}

/// Every measure of one customer; a measure that cannot be computed is
/// `None` and its reason is in `problems`.
#[derive(Debug, Clone, Default)]
pub struct Measures {
    /// RFM scores and segment.
    pub rfm: Option<RfmResult>,
    /// Monthly profit contributions since the first purchase.
    pub profit: Option<ProfitContribution>,
    /// Past customer value, major units.
    pub past_value: Option<f64>,
    /// Model predictions.
    pub prediction: Option<Prediction>,
    /// Trailing-twelve-month spend and the yearly estimate, major units.
    pub wallet: Option<(f64, f64)>,
    /// Service tier.
    pub tier: Option<TierAssignment>,
    /// Behaviour-change signals.
    pub behaviour: Option<BehaviourChange>,
    /// (measure, why it is missing).
    pub problems: Vec<(&'static str, String)>,
}

impl Measures {
    /// The value tiers are assigned from under `basis`, major units.
    pub fn tier_value(&self, basis: TierBasis) -> Option<f64> {
        match basis {
            TierBasis::LifetimeValue => self.prediction.as_ref().map(|p| p.lifetime.total),
            TierBasis::MonthlyProfit => self.profit.as_ref().map(|p| p.trailing_12_month_average),
        }
    }
}

/// Facts of a score the measures read.
struct Facts<'a> {
    basis: &'a ScoreBasis,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    purchases: u64,
    recency_days: u32,
    net: i64,
    purchase_total: i64,
}

fn facts(score: &Score) -> Option<Facts<'_>> {
    let time =
        |t: &Option<prost_types::Timestamp>| t.as_ref().and_then(|t| timestamp_to_chrono(t).ok());
    let minor = |m: &Option<rapport_proto::v1::Money>| m.as_ref().map_or(0, |m| m.minor_units);
    Some(Facts {
        basis: score.basis.as_ref()?,
        first: time(&score.first_purchase_at),
        last: time(&score.last_purchase_at),
        purchases: score.purchase_count,
        recency_days: score.recency_days,
        net: minor(&score.net_spend),
        purchase_total: minor(&score.purchase_total),
    })
}

/// Computes every measure of `score` (after [`crate::scores::assemble::finish`]) as of
/// `now`. Without a basis (a cache entry from an older release) nothing is
/// computed.
pub fn measures(
    score: &Score,
    state: &TenantState,
    c: CurrencyCode,
    now: DateTime<Utc>,
) -> Measures {
    let mut out = Measures::default();
    let Some(f) = facts(score) else {
        return out;
    };
    let s = &state.settings;
    let as_of = Month::from_index(month_index(now));
    let months: Vec<(Month, &i64, &i64, &u32)> = f
        .basis
        .months
        .iter()
        .zip(&f.basis.month_net_minor)
        .zip(&f.basis.month_margin_minor)
        .zip(&f.basis.month_purchases)
        .map(|(((m, n), g), p)| (Month::from_index(*m), n, g, p))
        .collect();

    if f.purchases > 0 {
        match &state.breakpoints {
            Some(b) => {
                match rapport_science::assess(&rfm_values(f.recency_days, f.purchases, f.net, c), b)
                {
                    Ok(r) => out.rfm = Some(r),
                    Err(e) => out.problems.push(("rfm", e.to_string())),
                }
            }
            None => out
                .problems
                .push(("rfm", "the population has not been scored yet".into())),
        }
    }

    // Margins are stored per month, so each month enters as one transaction
    // carrying its margin; a month with refunds only enters as a refund.
    let txns: Vec<Transaction<'_>> = months
        .iter()
        .map(|(month, _, margin, purchases)| {
            let purchase = **purchases > 0;
            let m = major(**margin, c);
            Transaction {
                month: *month,
                kind: if purchase {
                    TransactionKind::Purchase
                } else {
                    TransactionKind::Refund
                },
                amount: 0.0,
                margin: Some(if purchase { m } else { -m }),
                cost: None,
                category: None,
            }
        })
        .collect();
    let rates = MarginRates::new(s.default_margin_rate);
    let cost = major(s.monthly_cost_to_serve_minor, c);
    match rates.and_then(|r| rapport_science::profit_contribution(&txns, &r, cost, as_of)) {
        Ok(p) => out.profit = p,
        Err(e) => out.problems.push(("monthly_profit", e.to_string())),
    }
    if let Some(p) = &out.profit {
        let past: Vec<PastContribution> = p
            .months
            .iter()
            .map(|m| PastContribution {
                periods_ago: as_of.months_since(m.month) as f64,
                amount: m.contribution,
            })
            .collect();
        let rate = rapport_science::monthly_rate(s.annual_discount_rate);
        match rapport_science::past_customer_value(&past, rate) {
            Ok(v) => out.past_value = Some(v),
            Err(e) => out.problems.push(("past_value", e.to_string())),
        }
    }

    if let Some(fit) = &state.fit {
        match predict(&f, fit, state, c, now) {
            Ok(p) => out.prediction = p,
            Err(e) => out.problems.push(("lifetime_value", e)),
        }
    }

    if let Some(estimate) = f.basis.wallet_estimate_minor {
        let spend: i64 = months
            .iter()
            .filter(|(m, ..)| as_of.months_since(*m) < 12 && *m <= as_of)
            .map(|(_, n, ..)| **n)
            .sum();
        out.wallet = Some((major(spend, c), major(estimate, c)));
    }

    if let (Some(t), Some(v)) = (&state.tiers, out.tier_value(s.tier_basis)) {
        match t.assign(v) {
            Ok(a) => out.tier = Some(a),
            Err(e) => out.problems.push(("tier", e.to_string())),
        }
    }

    let activity: Vec<MonthlyActivity> = months
        .iter()
        .map(|(month, net, _, purchases)| MonthlyActivity {
            month: *month,
            purchases: **purchases,
            net_spend: major(**net, c),
        })
        .collect();
    match rapport_science::assess_monthly(&activity, as_of, &BehaviourSettings::default()) {
        Ok(b) => out.behaviour = Some(b),
        Err(e) => out.problems.push(("behaviour", e.to_string())),
    }
    out
}

/// RFM values as scored: recency in whole days, purchases, net spend.
pub fn rfm_values(recency_days: u32, purchases: u64, net_minor: i64, c: CurrencyCode) -> RfmValues {
    RfmValues {
        recency_days: f64::from(recency_days),
        frequency: purchases.min(u32::MAX as u64) as u32,
        monetary: major(net_minor, c),
    }
}
