//! Recency, frequency and monetary value (RFM): raw values as of a date, 1–5 scores against
//! population quintiles, and the marketing segment those scores fall in.
//!
//! Scoring by quintiles is the classic RFM coding of Arthur Hughes, "Strategic Database
//! Marketing" (McGraw-Hill); the segment table is Rapport's own, laid out in
//! [`SEGMENT_RULES`].

mod segment;

pub use segment::{SEGMENT_RULES, Segment, SegmentRule, fm_score, segment_rule};

use std::fmt;

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

/// Quintile boundaries (20th, 40th, 60th and 80th percentiles) of each measure over a
/// population. Computed once from the customer base and stored, so scores stay comparable
/// until the service chooses to refresh them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Breakpoints {
    recency: [f64; 4],
    frequency: [f64; 4],
    monetary: [f64; 4],
}

/// Percentile of sorted data by linear interpolation between order statistics (Hyndman &
/// Fan 1996, definition 7, the default of R and NumPy).
fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    let position = fraction * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let weight = position - below as f64;
    sorted[below] + weight * (sorted[above] - sorted[below])
}

fn quintile_breakpoints(mut values: Vec<f64>) -> [f64; 4] {
    values.sort_by(f64::total_cmp);
    [0.2, 0.4, 0.6, 0.8].map(|f| percentile(&values, f))
}

fn check_order(measure: &'static str, breakpoints: [f64; 4]) -> Result<[f64; 4], RfmError> {
    let finite = breakpoints.iter().all(|b| b.is_finite());
    let ordered = breakpoints.windows(2).all(|w| w[0] <= w[1]);
    if finite && ordered {
        Ok(breakpoints)
    } else {
        Err(RfmError::UnorderedBreakpoints {
            measure,
            breakpoints,
        })
    }
}

impl Breakpoints {
    /// Breakpoints from stored values (ascending, finite), e.g. read back from a database.
    pub fn new(
        recency: [f64; 4],
        frequency: [f64; 4],
        monetary: [f64; 4],
    ) -> Result<Self, RfmError> {
        Ok(Self {
            recency: check_order("recency", recency)?,
            frequency: check_order("frequency", frequency)?,
            monetary: check_order("monetary", monetary)?,
        })
    }

    /// Quintile breakpoints of a population.
    pub fn from_population(population: &[RfmValues]) -> Result<Self, RfmError> {
        if population.is_empty() {
            return Err(RfmError::EmptyPopulation);
        }
        for v in population {
            v.check()?;
        }
        Ok(Self {
            recency: quintile_breakpoints(population.iter().map(|v| v.recency_days).collect()),
            frequency: quintile_breakpoints(
                population.iter().map(|v| f64::from(v.frequency)).collect(),
            ),
            monetary: quintile_breakpoints(population.iter().map(|v| v.monetary).collect()),
        })
    }

    /// Recency breakpoints in days, ascending.
    pub fn recency(&self) -> [f64; 4] {
        self.recency
    }

    /// Frequency breakpoints, ascending.
    pub fn frequency(&self) -> [f64; 4] {
        self.frequency
    }

    /// Monetary breakpoints, ascending.
    pub fn monetary(&self) -> [f64; 4] {
        self.monetary
    }
}

/// Score where larger is better: 1 plus the number of breakpoints the value exceeds.
fn score_higher_better(value: f64, breakpoints: &[f64; 4]) -> u8 {
    1 + breakpoints.iter().filter(|&&b| value > b).count() as u8
}

/// Score where smaller is better: 1 plus the number of breakpoints the value is below.
fn score_lower_better(value: f64, breakpoints: &[f64; 4]) -> u8 {
    1 + breakpoints.iter().filter(|&&b| value < b).count() as u8
}

/// 1–5 scores, 5 best: most recent, most frequent, highest spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RfmScores {
    /// Recency score.
    pub recency: u8,
    /// Frequency score.
    pub frequency: u8,
    /// Monetary score.
    pub monetary: u8,
}

/// One measure's contribution to an RFM result: its value, the breakpoints it was scored
/// against, and the score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeasureScore {
    /// The raw value.
    pub value: f64,
    /// The breakpoints used.
    pub breakpoints: [f64; 4],
    /// The 1–5 score.
    pub score: u8,
}

/// How an RFM result came about: inputs, breakpoints, scores, and the table rule that chose
/// the segment. Its `Display` is a sentence for people.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RfmExplanation {
    /// Recency: days since the last purchase, scored so that fewer days is better.
    pub recency: MeasureScore,
    /// Frequency: purchases, more is better.
    pub frequency: MeasureScore,
    /// Monetary: total spend, more is better.
    pub monetary: MeasureScore,
    /// The combined frequency-monetary score, see [`fm_score`].
    pub fm_score: u8,
    /// The row of [`SEGMENT_RULES`] that matched.
    pub rule: SegmentRule,
}

impl fmt::Display for RfmExplanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (r, fq, m) = (&self.recency, &self.frequency, &self.monetary);
        write!(
            f,
            "recency {} days -> R{} (breakpoints {:?}, fewer is better); \
             frequency {} -> F{} (breakpoints {:?}); monetary {} -> M{} (breakpoints {:?}); \
             FM = ceil((F + M) / 2) = {}; {} -> {}",
            r.value,
            r.score,
            r.breakpoints,
            fq.value,
            fq.score,
            fq.breakpoints,
            m.value,
            m.score,
            m.breakpoints,
            self.fm_score,
            self.rule,
            self.rule.segment
        )
    }
}

/// A customer's RFM assessment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RfmResult {
    /// The raw values scored.
    pub values: RfmValues,
    /// The 1–5 scores.
    pub scores: RfmScores,
    /// The segment from [`SEGMENT_RULES`].
    pub segment: Segment,
    /// Why.
    pub explanation: RfmExplanation,
}

/// Score a customer against breakpoints and place them in a segment.
pub fn assess(values: &RfmValues, breakpoints: &Breakpoints) -> Result<RfmResult, RfmError> {
    values.check()?;
    let recency = MeasureScore {
        value: values.recency_days,
        breakpoints: breakpoints.recency,
        score: score_lower_better(values.recency_days, &breakpoints.recency),
    };
    let frequency_value = f64::from(values.frequency);
    let frequency = MeasureScore {
        value: frequency_value,
        breakpoints: breakpoints.frequency,
        score: score_higher_better(frequency_value, &breakpoints.frequency),
    };
    let monetary = MeasureScore {
        value: values.monetary,
        breakpoints: breakpoints.monetary,
        score: score_higher_better(values.monetary, &breakpoints.monetary),
    };
    let scores = RfmScores {
        recency: recency.score,
        frequency: frequency.score,
        monetary: monetary.score,
    };
    let fm = fm_score(scores.frequency, scores.monetary);
    let rule = segment_rule(scores.recency, fm);
    Ok(RfmResult {
        values: *values,
        scores,
        segment: rule.segment,
        explanation: RfmExplanation {
            recency,
            frequency,
            monetary,
            fm_score: fm,
            rule,
        },
    })
}

#[cfg(test)]
mod tests;
