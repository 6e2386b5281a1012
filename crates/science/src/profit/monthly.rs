//! A customer's profit contribution month by month, from the first purchase to a given
//! month.

use super::{MarginRates, ProfitError, Transaction, TransactionKind, invalid, transaction_margin};
use crate::calendar::Month;

/// One month of a customer's profit contribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthlyProfit {
    /// The month.
    pub month: Month,
    /// Margin of the month's transactions, refunds subtracted.
    pub margin: f64,
    /// The cost to serve charged for the month.
    pub cost_to_serve: f64,
    /// `margin − cost_to_serve`.
    pub contribution: f64,
}

/// A customer's monthly profit contribution from the month of the first purchase to the
/// as-of month.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfitContribution {
    /// Month of the first purchase.
    pub first_purchase: Month,
    /// Every month from the first purchase's to the as-of month, oldest first.
    pub months: Vec<MonthlyProfit>,
    /// Mean contribution over the last 12 of those months, or over all of them when there
    /// are fewer than 12.
    pub trailing_12_month_average: f64,
}

/// Longest stretch of months a summary will lay out: a thousand years. Guards against a
/// corrupt first-purchase date making the month list enormous.
const MAX_MONTHS: i64 = 12_000;

/// Monthly profit contribution of one customer as of `as_of` (inclusive): each month's
/// margin less the cost to serve the customer for a month, for every month from the one of
/// the first purchase on.
///
/// Transactions after `as_of` are ignored. Months before the first purchase carry no cost to
/// serve and do not count; a refund before any purchase is ignored with them. `Ok(None)`
/// when there is no purchase on or before `as_of`.
pub fn profit_contribution(
    transactions: &[Transaction<'_>],
    rates: &MarginRates,
    cost_to_serve_per_month: f64,
    as_of: Month,
) -> Result<Option<ProfitContribution>, ProfitError> {
    if !(cost_to_serve_per_month.is_finite() && cost_to_serve_per_month >= 0.0) {
        return Err(invalid(
            "cost_to_serve_per_month",
            cost_to_serve_per_month,
            "must be finite and not negative",
        ));
    }
    let mut margins = Vec::with_capacity(transactions.len());
    for t in transactions.iter().filter(|t| t.month <= as_of) {
        margins.push((t.month, transaction_margin(t, rates)?));
    }
    let Some(first_purchase) = transactions
        .iter()
        .filter(|t| t.month <= as_of && t.kind == TransactionKind::Purchase)
        .map(|t| t.month)
        .min()
    else {
        return Ok(None);
    };
    let span = as_of.months_since(first_purchase) + 1;
    if span > MAX_MONTHS {
        return Err(invalid(
            "first_purchase_month",
            f64::from(first_purchase.index()),
            "lies more than a thousand years before the as-of month",
        ));
    }
    let mut month_margin = vec![0.0; span as usize];
    for (month, margin) in margins {
        if month >= first_purchase {
            month_margin[month.months_since(first_purchase) as usize] += margin;
        }
    }
    let months: Vec<MonthlyProfit> = month_margin
        .iter()
        .enumerate()
        .map(|(i, &margin)| MonthlyProfit {
            month: first_purchase.plus(i as i32),
            margin,
            cost_to_serve: cost_to_serve_per_month,
            contribution: margin - cost_to_serve_per_month,
        })
        .collect();
    let recent = &months[months.len().saturating_sub(12)..];
    let trailing_12_month_average =
        recent.iter().map(|m| m.contribution).sum::<f64>() / recent.len() as f64;
    if !trailing_12_month_average.is_finite() {
        return Err(invalid(
            "margin",
            trailing_12_month_average,
            "the margins add up beyond any representable amount",
        ));
    }
    Ok(Some(ProfitContribution {
        first_purchase,
        months,
        trailing_12_month_average,
    }))
}
