//! Margin per transaction and a customer's monthly profit contribution.
//!
//! A transaction's margin is the first of these that is known: the margin the source system
//! reported; the amount less the reported cost; the amount times the tenant's default margin
//! rate for the transaction's category (or the tenant's fallback rate). A refund takes away
//! the margin that the same rule gives for its amount. A month's profit contribution is that
//! month's margin less the cost to serve the customer for a month, counted for every month
//! from the one of the first purchase on.

use std::collections::HashMap;

use crate::calendar::Month;

/// Why a margin or a profit contribution could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProfitError {
    /// A number is NaN, infinite or outside its range.
    #[error("{field} is {value}: {reason}")]
    InvalidInput {
        /// Name of the offending field.
        field: &'static str,
        /// The value supplied.
        value: f64,
        /// What is allowed.
        reason: &'static str,
    },
    /// A category was given an empty name.
    #[error("a margin rate was given for a category with an empty name")]
    EmptyCategory,
}

fn invalid(field: &'static str, value: f64, reason: &'static str) -> ProfitError {
    ProfitError::InvalidInput {
        field,
        value,
        reason,
    }
}

/// Whether a transaction adds to or takes back from the customer's business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionKind {
    /// A sale.
    Purchase,
    /// Money given back; its margin counts against the customer.
    Refund,
}

/// One transaction as the profit measures need it, in money units of one currency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transaction<'a> {
    /// The calendar month it happened in.
    pub month: Month,
    /// Purchase or refund.
    pub kind: TransactionKind,
    /// The amount, never negative: a refund says so in `kind`.
    pub amount: f64,
    /// The margin the source system reported, if any (for a refund, the margin of the goods
    /// given back, as a positive number when they were sold at a profit).
    pub margin: Option<f64>,
    /// The cost the source system reported, if any.
    pub cost: Option<f64>,
    /// The product category, if any, for the tenant's default margin rate.
    pub category: Option<&'a str>,
}

/// A tenant's default margin rates: one per category, and a fallback for transactions whose
/// category has none (or that have no category).
#[derive(Debug, Clone, PartialEq)]
pub struct MarginRates {
    fallback: f64,
    by_category: HashMap<String, f64>,
}

fn check_rate(field: &'static str, rate: f64) -> Result<f64, ProfitError> {
    if rate.is_finite() && (-1.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(invalid(
            field,
            rate,
            "a margin rate must be between -1 and 1",
        ))
    }
}

impl MarginRates {
    /// Rates with only a fallback, e.g. `0.25` for 25% of the amount. A rate must lie in
    /// `[-1, 1]` (a negative rate for goods sold at a loss).
    pub fn new(fallback: f64) -> Result<Self, ProfitError> {
        Ok(Self {
            fallback: check_rate("fallback_rate", fallback)?,
            by_category: HashMap::new(),
        })
    }

    /// The same rates with one category's rate set (replacing any earlier one).
    pub fn with_category(
        mut self,
        category: impl Into<String>,
        rate: f64,
    ) -> Result<Self, ProfitError> {
        let category = category.into();
        if category.is_empty() {
            return Err(ProfitError::EmptyCategory);
        }
        self.by_category
            .insert(category, check_rate("category_rate", rate)?);
        Ok(self)
    }

    /// The rate for a category: its own if set, else the fallback.
    pub fn rate_for(&self, category: Option<&str>) -> f64 {
        category
            .and_then(|c| self.by_category.get(c))
            .copied()
            .unwrap_or(self.fallback)
    }
}

/// A transaction's margin in money units: its own margin, else amount − cost, else amount ×
/// the category's default rate; negated for a refund.
pub fn transaction_margin(
    transaction: &Transaction<'_>,
    rates: &MarginRates,
) -> Result<f64, ProfitError> {
    let amount = transaction.amount;
    if !(amount.is_finite() && amount >= 0.0) {
        return Err(invalid(
            "amount",
            amount,
            "must be finite and not negative (refunds are marked by their kind)",
        ));
    }
    let margin = match (transaction.margin, transaction.cost) {
        (Some(margin), _) => {
            if !margin.is_finite() {
                return Err(invalid("margin", margin, "must be finite"));
            }
            margin
        }
        (None, Some(cost)) => {
            if !cost.is_finite() {
                return Err(invalid("cost", cost, "must be finite"));
            }
            amount - cost
        }
        (None, None) => amount * rates.rate_for(transaction.category),
    };
    Ok(match transaction.kind {
        TransactionKind::Purchase => margin,
        TransactionKind::Refund => -margin,
    })
}

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

/// Monthly profit contribution of one customer as of `as_of` (inclusive).
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

#[cfg(test)]
mod tests;
