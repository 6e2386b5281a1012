//! What the signals are judged on, gathered from purchases or monthly totals.

use std::collections::BTreeMap;

use super::{BehaviourSettings, MonthlyActivity};
use crate::calendar::Month;
use crate::rfm::Purchase;

/// Mean days per calendar month over a Gregorian year.
const DAYS_PER_MONTH: f64 = 365.2425 / 12.0;

/// The unit times are counted in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Unit {
    Day,
    Month,
}

impl Unit {
    /// The unit's name for an amount of it: "1 day", "2.5 days".
    pub fn name(self, amount: f64) -> &'static str {
        match (self, amount == 1.0) {
            (Unit::Day, true) => "day",
            (Unit::Day, false) => "days",
            (Unit::Month, true) => "month",
            (Unit::Month, false) => "months",
        }
    }

    /// Units in a month, to state rates per month.
    pub fn per_month(self) -> f64 {
        match self {
            Unit::Day => DAYS_PER_MONTH,
            Unit::Month => 1.0,
        }
    }
}

/// The customer's own rhythm: purchase days (or months) and the gaps between them.
pub(super) struct Rhythm {
    /// Distinct days (months) with a purchase.
    pub visits: usize,
    /// Mean time between them.
    pub mean_gap: f64,
    /// Time from the last one to the as-of date.
    pub since_last: f64,
}

/// Purchases and net spend in the recent window and in the part of the baseline window
/// from the first purchase on.
pub(super) struct Windows {
    pub recent_purchases: f64,
    pub recent_spend: f64,
    pub recent_length: f64,
    pub baseline_purchases: f64,
    pub baseline_spend: f64,
    pub baseline_length: f64,
}

pub(super) struct Evidence {
    pub unit: Unit,
    pub rhythm: Option<Rhythm>,
    pub windows: Option<Windows>,
}

/// One period (day or month) of activity, keyed by its number.
#[derive(Default, Clone, Copy)]
struct Period {
    purchases: f64,
    spend: f64,
}

impl Evidence {
    pub fn from_purchases(purchases: &[Purchase], as_of: i64, s: &BehaviourSettings) -> Self {
        let mut days: BTreeMap<i64, Period> = BTreeMap::new();
        for p in purchases.iter().filter(|p| p.day <= as_of) {
            let day = days.entry(p.day).or_default();
            day.spend += p.amount;
            if p.amount >= 0.0 {
                day.purchases += 1.0;
            }
        }
        Self::from_periods(
            Unit::Day,
            &days,
            as_of,
            i64::from(s.recent_days),
            i64::from(s.baseline_days),
        )
    }

    pub fn from_months(months: &[MonthlyActivity], as_of: Month, s: &BehaviourSettings) -> Self {
        let mut periods: BTreeMap<i64, Period> = BTreeMap::new();
        for m in months.iter().filter(|m| m.month <= as_of) {
            let period = periods.entry(i64::from(m.month.index())).or_default();
            period.purchases += f64::from(m.purchases);
            period.spend += m.net_spend;
        }
        let whole_months = |days: u32| ((f64::from(days) / DAYS_PER_MONTH).round() as i64).max(1);
        Self::from_periods(
            Unit::Month,
            &periods,
            i64::from(as_of.index()),
            whole_months(s.recent_days),
            whole_months(s.baseline_days),
        )
    }

    fn from_periods(
        unit: Unit,
        periods: &BTreeMap<i64, Period>,
        as_of: i64,
        recent: i64,
        baseline: i64,
    ) -> Self {
        let active: Vec<i64> = periods
            .iter()
            .filter(|(_, p)| p.purchases > 0.0)
            .map(|(&k, _)| k)
            .collect();
        let rhythm = match (active.first(), active.last()) {
            (Some(&first), Some(&last)) if active.len() >= 2 => Some(Rhythm {
                visits: active.len(),
                mean_gap: last.saturating_sub(first) as f64 / (active.len() - 1) as f64,
                since_last: as_of.saturating_sub(last) as f64,
            }),
            _ => None,
        };
        let windows = active.first().and_then(|&first| {
            let recent_start = as_of.saturating_sub(recent);
            let baseline_start = recent_start.saturating_sub(baseline);
            // Baseline time the customer was a customer: from the first purchase's period on.
            let exposure = recent_start.saturating_sub(baseline_start.max(first.saturating_sub(1)));
            if exposure < recent {
                return None;
            }
            let mut w = Windows {
                recent_purchases: 0.0,
                recent_spend: 0.0,
                recent_length: recent as f64,
                baseline_purchases: 0.0,
                baseline_spend: 0.0,
                baseline_length: exposure as f64,
            };
            for (&k, p) in periods.range(baseline_start.saturating_add(1)..=as_of) {
                if k > recent_start {
                    w.recent_purchases += p.purchases;
                    w.recent_spend += p.spend;
                } else {
                    w.baseline_purchases += p.purchases;
                    w.baseline_spend += p.spend;
                }
            }
            Some(w)
        });
        Self {
            unit,
            rhythm,
            windows,
        }
    }
}
