//! Scoring one customer's RFM values against breakpoints, the segment the scores fall in,
//! and the explanation of how.

use std::fmt;

use super::{Breakpoints, RfmError, RfmValues, Segment, SegmentRule, fm_score, segment_rule};

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
    /// The row of [`SEGMENT_RULES`](super::SEGMENT_RULES) that matched.
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
    /// The segment from [`SEGMENT_RULES`](super::SEGMENT_RULES).
    pub segment: Segment,
    /// Why.
    pub explanation: RfmExplanation,
}

/// Score a customer against breakpoints and place them in a segment.
pub fn assess(values: &RfmValues, breakpoints: &Breakpoints) -> Result<RfmResult, RfmError> {
    values.check()?;
    let recency = MeasureScore {
        value: values.recency_days,
        breakpoints: breakpoints.recency(),
        score: score_lower_better(values.recency_days, &breakpoints.recency()),
    };
    let frequency_value = f64::from(values.frequency);
    let frequency = MeasureScore {
        value: frequency_value,
        breakpoints: breakpoints.frequency(),
        score: score_higher_better(frequency_value, &breakpoints.frequency()),
    };
    let monetary = MeasureScore {
        value: values.monetary,
        breakpoints: breakpoints.monetary(),
        score: score_higher_better(values.monetary, &breakpoints.monetary()),
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
