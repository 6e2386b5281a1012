//! Money over time: lifetime value by discounted cash flow, customer equity, and past
//! customer value.

use crate::error::ValueError;
use crate::evaluate::PurchaseModel;
use crate::history::CustomerHistory;

/// Time units of the purchase model per calendar month, for common units.
pub mod periods_per_month {
    /// Days per month on average over a Gregorian year.
    pub const DAYS: f64 = 365.2425 / 12.0;
    /// Weeks per month on average over a Gregorian year.
    pub const WEEKS: f64 = 365.2425 / 7.0 / 12.0;
    /// A model fitted in months.
    pub const MONTHS: f64 = 1.0;
}

/// Assumptions behind a lifetime value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValueAssumptions {
    /// How many of the purchase model's time units make one month (see
    /// [`periods_per_month`]).
    pub periods_per_month: f64,
    /// Months of future purchases counted.
    pub horizon_months: u32,
    /// Annual discount rate, e.g. `0.10` for 10% a year.
    pub annual_discount_rate: f64,
    /// Share of revenue kept as contribution, in `[0, 1]` (1 for revenue value).
    pub margin_rate: f64,
}

/// One month of a lifetime-value projection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthlyValue {
    /// 1 for the month starting now.
    pub month: u32,
    /// Expected purchases in this month.
    pub expected_purchases: f64,
    /// Expected contribution in this month before discounting:
    /// purchases × order value × margin.
    pub contribution: f64,
    /// Factor applied to bring this month's contribution to today.
    pub discount_factor: f64,
    /// `contribution × discount_factor`.
    pub present_value: f64,
}

/// A customer's projected lifetime value, month by month.
#[derive(Debug, Clone, PartialEq)]
pub struct LifetimeValue {
    /// The projection, month 1 first.
    pub months: Vec<MonthlyValue>,
    /// Sum of the months' present values.
    pub total: f64,
}

/// Monthly rate equivalent to an annual rate under monthly compounding:
/// `(1 + annual)^(1/12) - 1`.
pub fn monthly_rate(annual_rate: f64) -> f64 {
    (annual_rate.ln_1p() / 12.0).exp_m1()
}

fn invalid(field: &'static str, value: f64, reason: &'static str) -> ValueError {
    ValueError::InvalidInput {
        field,
        value,
        reason,
    }
}

/// Discounted lifetime value of one customer over the horizon.
///
/// Month `m` expects `E[Y(m·k) | history] - E[Y((m-1)·k) | history]` purchases (the
/// purchase model's conditional expectation, for BG/NBD Fader, Hardie & Lee 2005 eq. 10,
/// with `k` model periods per month), each worth `expected_order_value × margin_rate`, discounted to today by
/// `(1 + monthly_rate)^-m` as if paid at the month's end: a monthly, finite-horizon version
/// of the discounted expected transactions of Fader, Hardie & Lee (2005, JMR), and the same
/// scheme as `lifetimes`' `customer_lifetime_value`.
pub fn lifetime_value(
    model: &(impl PurchaseModel + ?Sized),
    history: &CustomerHistory,
    expected_order_value: f64,
    assumptions: &ValueAssumptions,
) -> Result<LifetimeValue, ValueError> {
    let ValueAssumptions {
        periods_per_month,
        horizon_months,
        annual_discount_rate,
        margin_rate,
    } = *assumptions;
    if !(periods_per_month.is_finite() && periods_per_month > 0.0) {
        return Err(invalid(
            "periods_per_month",
            periods_per_month,
            "must be positive and finite",
        ));
    }
    if !(annual_discount_rate.is_finite() && annual_discount_rate > -1.0) {
        return Err(invalid(
            "annual_discount_rate",
            annual_discount_rate,
            "must be finite and above -100%",
        ));
    }
    if !(margin_rate.is_finite() && (0.0..=1.0).contains(&margin_rate)) {
        return Err(invalid(
            "margin_rate",
            margin_rate,
            "must be between 0 and 1",
        ));
    }
    if !(expected_order_value.is_finite() && expected_order_value >= 0.0) {
        return Err(invalid(
            "expected_order_value",
            expected_order_value,
            "must be finite and not negative",
        ));
    }
    let monthly = monthly_rate(annual_discount_rate);
    let mut months = Vec::with_capacity(horizon_months as usize);
    let mut total = 0.0;
    let mut cumulative_before = 0.0;
    for month in 1..=horizon_months {
        let cumulative =
            model.conditional_expected_purchases(history, f64::from(month) * periods_per_month)?;
        // Rounding can make consecutive cumulative values dip by an ulp; a month never has
        // negative purchases.
        let expected_purchases = (cumulative - cumulative_before).max(0.0);
        cumulative_before = cumulative_before.max(cumulative);
        let contribution = expected_purchases * expected_order_value * margin_rate;
        let discount_factor = (-f64::from(month) * monthly.ln_1p()).exp();
        let present_value = contribution * discount_factor;
        total += present_value;
        months.push(MonthlyValue {
            month,
            expected_purchases,
            contribution,
            discount_factor,
            present_value,
        });
    }
    Ok(LifetimeValue { months, total })
}

/// Customer equity: the sum of the customers' lifetime values.
pub fn customer_equity<'a>(values: impl IntoIterator<Item = &'a LifetimeValue>) -> f64 {
    values.into_iter().map(|v| v.total).sum()
}

/// One past period's contribution (margin, or revenue) from a customer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PastContribution {
    /// How many periods before today it was earned (0 for the current period); may be
    /// fractional.
    pub periods_ago: f64,
    /// The contribution, in money units; refunds may make it negative.
    pub amount: f64,
}

/// Past customer value: each past contribution compounded to today,
/// `PCV = Σ amountₜ · (1 + rate)^periods_agoₜ`, the past-customer-value measure of Kumar &
/// Reinartz, "Customer Relationship Management: A Databased Approach" (Wiley). The rate is per period, in
/// the same period as `periods_ago`; an annual rate on monthly periods wants
/// [`monthly_rate`].
pub fn past_customer_value(
    contributions: &[PastContribution],
    rate_per_period: f64,
) -> Result<f64, ValueError> {
    if !(rate_per_period.is_finite() && rate_per_period > -1.0) {
        return Err(invalid(
            "rate_per_period",
            rate_per_period,
            "must be finite and above -100%",
        ));
    }
    let growth = rate_per_period.ln_1p();
    let mut total = 0.0;
    for c in contributions {
        if !(c.periods_ago.is_finite() && c.periods_ago >= 0.0) {
            return Err(invalid(
                "periods_ago",
                c.periods_ago,
                "must be finite and not negative",
            ));
        }
        if !c.amount.is_finite() {
            return Err(invalid("amount", c.amount, "must be finite"));
        }
        total += c.amount * (growth * c.periods_ago).exp();
    }
    if !total.is_finite() {
        return Err(invalid(
            "rate_per_period",
            rate_per_period,
            "compounds these contributions beyond any representable amount",
        ));
    }
    Ok(total)
}

#[cfg(test)]
mod tests;
