//! Margin per transaction and a customer's monthly profit contribution.

mod monthly;

use std::collections::HashMap;

pub use monthly::{MonthlyProfit, ProfitContribution, profit_contribution};

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
///
/// A transaction's margin is the first of these that is known: the margin the source system
/// reported; the amount less the reported cost; the amount times the tenant's default margin
/// rate for the transaction's category (or the tenant's fallback rate). A refund takes away
/// the margin that the same rule gives for its amount.
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

#[cfg(test)]
mod tests;
