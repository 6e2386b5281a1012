//! Recency, frequency and monetary value (RFM): raw values as of a date, 1–5 scores against
//! population quintiles (the classic coding of Arthur Hughes, "Strategic Database
//! Marketing"), and the marketing segment those scores fall in (Rapport's own table,
//! [`SEGMENT_RULES`]).

mod breakpoints;
mod score;
mod segment;

pub use breakpoints::Breakpoints;
pub use score::{MeasureScore, RfmExplanation, RfmResult, RfmScores, assess};
pub use segment::{SEGMENT_RULES, Segment, SegmentRule, fm_score, segment_rule};

/// Why RFM values, breakpoints or scores could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RfmError {
    /// Breakpoints need at least one customer.
    #[error("no customers to compute breakpoints from")]
    EmptyPopulation,
    /// A value is NaN or infinite, or a recency is negative.
    #[error("{field} is {value}: {reason}")]
    InvalidValue {
        /// Name of the offending field.
        field: &'static str,
        /// The value supplied.
        value: f64,
        /// What is allowed.
        reason: &'static str,
    },
    /// Supplied breakpoints are not in ascending order.
    #[error("{measure} breakpoints {breakpoints:?} must be finite and in ascending order")]
    UnorderedBreakpoints {
        /// Which measure's breakpoints.
        measure: &'static str,
        /// The breakpoints supplied.
        breakpoints: [f64; 4],
    },
}

/// One purchase for RFM: the day it happened (any day count, e.g. days since 1970-01-01)
/// and its value in money units (negative for a refund).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Purchase {
    /// Day number of the purchase.
    pub day: i64,
    /// Value in money units.
    pub amount: f64,
}

/// A customer's raw RFM values as of a date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RfmValues {
    /// Days from the last purchase to the as-of date.
    pub recency_days: f64,
    /// Purchases up to and including the as-of date.
    pub frequency: u32,
    /// Total value of those purchases, net of refunds.
    pub monetary: f64,
}

impl RfmValues {
    /// RFM values from a customer's purchases, counting only those on or before `as_of_day`.
    /// `Ok(None)` when there is no such purchase (not yet a customer on that date). A refund
    /// (negative amount) counts towards monetary value but not frequency.
    pub fn from_purchases(
        purchases: &[Purchase],
        as_of_day: i64,
    ) -> Result<Option<Self>, RfmError> {
        let mut last_day = None;
        let mut frequency = 0_u32;
        let mut monetary = 0.0;
        for p in purchases.iter().filter(|p| p.day <= as_of_day) {
            if !p.amount.is_finite() {
                return Err(RfmError::InvalidValue {
                    field: "amount",
                    value: p.amount,
                    reason: "must be a finite amount",
                });
            }
            monetary += p.amount;
            if p.amount >= 0.0 {
                frequency = frequency.saturating_add(1);
                last_day = Some(last_day.map_or(p.day, |d: i64| d.max(p.day)));
            }
        }
        Ok(last_day.map(|day| Self {
            recency_days: (as_of_day - day) as f64,
            frequency,
            monetary,
        }))
    }

    fn check(&self) -> Result<(), RfmError> {
        if !(self.recency_days.is_finite() && self.recency_days >= 0.0) {
            return Err(RfmError::InvalidValue {
                field: "recency_days",
                value: self.recency_days,
                reason: "must be finite and not negative",
            });
        }
        if !self.monetary.is_finite() {
            return Err(RfmError::InvalidValue {
                field: "monetary",
                value: self.monetary,
                reason: "must be finite",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
