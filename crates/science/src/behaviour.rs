//! Behaviour change: a customer who departs from his own history, not from the population's,
//! judged by three signals with a strength and a reason each.

mod evidence;
mod signals;

use crate::calendar::Month;
use crate::rfm::Purchase;
use evidence::Evidence;
use signals::judge;

/// Why behaviour could not be assessed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BehaviourError {
    /// An input is NaN, infinite or out of range.
    #[error("{field} is {value}: {reason}")]
    InvalidInput {
        /// Name of the offending field.
        field: &'static str,
        /// The value supplied.
        value: f64,
        /// What is allowed.
        reason: &'static str,
    },
}

/// Windows and thresholds. The defaults are the ones described in the module docs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BehaviourSettings {
    /// Length of the recent window in days (for monthly input, rounded to whole months of
    /// 30.44 days, at least one).
    pub recent_days: u32,
    /// Length of the baseline window before it, in days (rounded the same way).
    pub baseline_days: u32,
    /// Flag as overdue from this many mean inter-purchase times since the last purchase.
    pub overdue_ratio: f64,
    /// Purchase days (months, for monthly input) needed before overdue is judged.
    pub min_purchases_for_overdue: u32,
    /// Flag a drop from this value on.
    pub drop_threshold: f64,
    /// Purchases in the baseline window needed before a drop is judged.
    pub min_baseline_purchases: u32,
}

impl Default for BehaviourSettings {
    fn default() -> Self {
        Self {
            recent_days: 90,
            baseline_days: 365,
            overdue_ratio: 2.0,
            min_purchases_for_overdue: 3,
            drop_threshold: 0.3,
            min_baseline_purchases: 3,
        }
    }
}

impl BehaviourSettings {
    fn check(&self) -> Result<(), BehaviourError> {
        let invalid = |field, value: f64, reason| {
            Err(BehaviourError::InvalidInput {
                field,
                value,
                reason,
            })
        };
        if self.recent_days == 0 || self.baseline_days == 0 {
            return invalid(
                "recent_days",
                f64::from(self.recent_days.min(self.baseline_days)),
                "both windows need at least one day",
            );
        }
        if !(self.overdue_ratio.is_finite() && self.overdue_ratio >= 1.0) {
            return invalid(
                "overdue_ratio",
                self.overdue_ratio,
                "must be finite and at least 1",
            );
        }
        if !(self.drop_threshold.is_finite()
            && self.drop_threshold > 0.0
            && self.drop_threshold <= 1.0)
        {
            return invalid(
                "drop_threshold",
                self.drop_threshold,
                "must be above 0 and at most 1",
            );
        }
        Ok(())
    }
}

/// One signal of behaviour change.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// The measure: for overdue, time since the last purchase over the mean time between
    /// purchases (any non-negative number); for a drop, `1 − recent / baseline` in `[0, 1]`.
    pub value: f64,
    /// Whether it crosses the settings' threshold.
    pub flagged: bool,
    /// The share of the expected activity that did not happen, in `[0, 1]`: for overdue
    /// `1 − mean gap / time since`, for a drop the drop itself (0 when the customer is on or
    /// ahead of his own pace).
    pub strength: f64,
    /// Why, in a sentence.
    pub reason: String,
}

/// The three signals; `None` where the customer's history is too short to judge.
///
/// Three signals, each judged against the customer's own past:
/// - **overdue**: the time since his last purchase over his own mean time between purchases;
/// - **frequency drop**: `1 − recent rate / baseline rate` of purchases;
/// - **spend drop**: the same for net spend.
///
/// The recent window is the last 90 days and the baseline the 365 days before it (by
/// default, see [`BehaviourSettings`]). Each signal carries a strength in `[0, 1]`, the share
/// of the activity his history leads one to expect that did not happen, and a reason a
/// person can read. A customer with too little history gets no signal rather than a guess.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BehaviourChange {
    /// Long silence compared with his own rhythm.
    pub overdue: Option<Signal>,
    /// Fewer purchases recently than in his baseline.
    pub frequency_drop: Option<Signal>,
    /// Less net spend recently than in his baseline.
    pub spend_drop: Option<Signal>,
}

impl BehaviourChange {
    /// The signals that are flagged, with their names ("overdue", "frequency_drop",
    /// "spend_drop").
    pub fn flags(&self) -> impl Iterator<Item = (&'static str, &Signal)> {
        [
            ("overdue", &self.overdue),
            ("frequency_drop", &self.frequency_drop),
            ("spend_drop", &self.spend_drop),
        ]
        .into_iter()
        .filter_map(|(name, s)| s.as_ref().filter(|s| s.flagged).map(|s| (name, s)))
    }
}

/// Behaviour change from individual purchases (days counted as in [`Purchase`]; a negative
/// amount is a refund, which counts towards net spend but not as a purchase), as of
/// `as_of_day` inclusive. Purchases after it are ignored.
///
/// The mean time between purchases counts purchases on one day as one visit. The baseline
/// rate is over the part of the baseline window from the first purchase on, and no drop is
/// judged when that part is shorter than the recent window.
pub fn assess_purchases(
    purchases: &[Purchase],
    as_of_day: i64,
    settings: &BehaviourSettings,
) -> Result<BehaviourChange, BehaviourError> {
    settings.check()?;
    check_finite("amount", purchases.iter().map(|p| p.amount))?;
    let evidence = Evidence::from_purchases(purchases, as_of_day, settings);
    Ok(judge(evidence, settings))
}

/// One month of a customer's activity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthlyActivity {
    /// The month.
    pub month: Month,
    /// Purchases in it (refunds not counted).
    pub purchases: u32,
    /// Spend in it, net of refunds.
    pub net_spend: f64,
}

/// Behaviour change from monthly totals, with `as_of` the last month counted (normally the
/// last complete month). The windows are whole months: the recent one ends with `as_of`.
///
/// Months stand in for days: the mean time between purchases is the mean gap between
/// months with a purchase, and overdue compares the months since the last such month with
/// it. Several rows for one month are added together.
pub fn assess_monthly(
    months: &[MonthlyActivity],
    as_of: Month,
    settings: &BehaviourSettings,
) -> Result<BehaviourChange, BehaviourError> {
    settings.check()?;
    check_finite("net_spend", months.iter().map(|m| m.net_spend))?;
    let evidence = Evidence::from_months(months, as_of, settings);
    Ok(judge(evidence, settings))
}

/// The first of `amounts` that is not finite, as an error on `field`.
fn check_finite(
    field: &'static str,
    mut amounts: impl Iterator<Item = f64>,
) -> Result<(), BehaviourError> {
    match amounts.find(|a| !a.is_finite()) {
        Some(value) => Err(BehaviourError::InvalidInput {
            field,
            value,
            reason: "must be a finite amount",
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
