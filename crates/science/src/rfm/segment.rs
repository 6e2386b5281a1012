//! The segment table: which (R, FM) score pairs make which marketing segment.

use std::fmt;

/// A named marketing segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Segment {
    /// Bought recently, buy often and spend the most.
    Champions,
    /// Buy often and spend well, and have bought fairly recently.
    Loyal,
    /// Recent customers with middling frequency and spend: could become loyal.
    PotentialLoyalist,
    /// Bought very recently, little history yet.
    New,
    /// Bought recently, little history yet.
    Promising,
    /// Middling on recency, frequency and spend.
    NeedsAttention,
    /// Not very recent, low frequency and spend: slipping away.
    AboutToSleep,
    /// Used to buy often or spend well, not for a while.
    AtRisk,
    /// The best frequency and spend, but gone quiet.
    CantLoseThem,
    /// Long since the last purchase, low frequency and spend.
    Hibernating,
    /// Longest since the last purchase, lowest frequency and spend.
    Lost,
}

impl Segment {
    /// The segment's display name.
    pub fn name(self) -> &'static str {
        match self {
            Segment::Champions => "Champions",
            Segment::Loyal => "Loyal",
            Segment::PotentialLoyalist => "Potential loyalist",
            Segment::New => "New",
            Segment::Promising => "Promising",
            Segment::NeedsAttention => "Needs attention",
            Segment::AboutToSleep => "About to sleep",
            Segment::AtRisk => "At risk",
            Segment::CantLoseThem => "Can't lose them",
            Segment::Hibernating => "Hibernating",
            Segment::Lost => "Lost",
        }
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One row of the segment table: an inclusive range of recency scores and of FM scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegmentRule {
    /// Lowest and highest recency score covered.
    pub recency: (u8, u8),
    /// Lowest and highest FM score covered.
    pub fm: (u8, u8),
    /// The segment for this block of cells.
    pub segment: Segment,
}

impl SegmentRule {
    pub(crate) fn covers(&self, recency: u8, fm: u8) -> bool {
        (self.recency.0..=self.recency.1).contains(&recency)
            && (self.fm.0..=self.fm.1).contains(&fm)
    }
}

impl fmt::Display for SegmentRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let range = |(lo, hi): (u8, u8)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            }
        };
        write!(
            f,
            "rule R {} and FM {}",
            range(self.recency),
            range(self.fm)
        )
    }
}

const fn rule(recency: (u8, u8), fm: (u8, u8), segment: Segment) -> SegmentRule {
    SegmentRule {
        recency,
        fm,
        segment,
    }
}

/// The segment table. Every (R, FM) pair from 1–5 × 1–5 falls in exactly one row:
///
/// ```text
///        FM 1            FM 2            FM 3             FM 4             FM 5
/// R 5    New             Pot. loyalist   Pot. loyalist    Loyal            Champions
/// R 4    Promising       Pot. loyalist   Pot. loyalist    Loyal            Champions
/// R 3    About to sleep  About to sleep  Needs attention  Loyal            Loyal
/// R 2    Hibernating     Hibernating     At risk          At risk          Can't lose them
/// R 1    Lost            Lost            At risk          Can't lose them  Can't lose them
/// ```
pub const SEGMENT_RULES: [SegmentRule; 14] = [
    rule((4, 5), (5, 5), Segment::Champions),
    rule((3, 5), (4, 4), Segment::Loyal),
    rule((3, 3), (5, 5), Segment::Loyal),
    rule((4, 5), (2, 3), Segment::PotentialLoyalist),
    rule((5, 5), (1, 1), Segment::New),
    rule((4, 4), (1, 1), Segment::Promising),
    rule((3, 3), (3, 3), Segment::NeedsAttention),
    rule((3, 3), (1, 2), Segment::AboutToSleep),
    rule((2, 2), (3, 4), Segment::AtRisk),
    rule((1, 1), (3, 3), Segment::AtRisk),
    rule((2, 2), (5, 5), Segment::CantLoseThem),
    rule((1, 1), (4, 5), Segment::CantLoseThem),
    rule((2, 2), (1, 2), Segment::Hibernating),
    rule((1, 1), (1, 2), Segment::Lost),
];

/// Combined frequency-monetary score: the mean of F and M rounded half up,
/// `ceil((F + M) / 2)`, so one strong measure lifts a weak one.
pub fn fm_score(frequency: u8, monetary: u8) -> u8 {
    (frequency.clamp(1, 5) + monetary.clamp(1, 5)).div_ceil(2)
}

/// The table row for a recency score and an FM score (each clamped to 1–5).
pub fn segment_rule(recency: u8, fm: u8) -> SegmentRule {
    let (recency, fm) = (recency.clamp(1, 5), fm.clamp(1, 5));
    // The table covers every clamped pair; the unit tests check it cell by cell.
    SEGMENT_RULES
        .iter()
        .copied()
        .find(|r| r.covers(recency, fm))
        .unwrap_or(SEGMENT_RULES[SEGMENT_RULES.len() - 1])
}
