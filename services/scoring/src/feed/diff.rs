//! What changed between two versions of a customer's score, both computed
//! for the same moment and tenant state: plain values, no I/O.

use rapport_proto::v1::{CrossingDirection, Score, ScoreChange, ScoreChangeKind};

/// The P(alive) thresholds a crossing of which is an event (stated in
/// `score_changes.proto`).
pub const P_ALIVE_THRESHOLDS: [f64; 3] = [0.2, 0.5, 0.8];

/// The share of its previous value by which a lifetime value must move to
/// be an event (stated in `score_changes.proto`).
pub const LIFETIME_VALUE_SHARE: f64 = 0.2;

fn rfm_segment(s: &Score) -> &str {
    s.rfm.as_ref().map_or("", |r| r.segment.as_str())
}

fn p_alive(s: &Score) -> Option<f64> {
    s.value.as_ref().and_then(|v| v.probability_alive)
}

fn lifetime_value(s: &Score) -> Option<i64> {
    let v = s.value.as_ref()?;
    v.lifetime_value.as_ref().map(|m| m.minor_units)
}

fn named(kind: ScoreChangeKind, from: &str, to: &str) -> ScoreChange {
    ScoreChange {
        kind: kind as i32,
        from: from.to_owned(),
        to: to.to_owned(),
        ..ScoreChange::default()
    }
}

/// The changes from `old` (`None` for a customer's first score) to `new`,
/// in a fixed order: tier, RFM segment, lifecycle left then entered,
/// P(alive) crossings (lowest threshold first), lifetime value.
pub fn changes(old: Option<&Score>, new: &Score) -> Vec<ScoreChange> {
    let mut out = Vec::new();
    let before = |f: fn(&Score) -> &str| old.map_or("", f);
    if before(|s| &s.tier) != new.tier {
        out.push(named(
            ScoreChangeKind::TierChanged,
            before(|s| &s.tier),
            &new.tier,
        ));
    }
    if before(rfm_segment) != rfm_segment(new) {
        out.push(named(
            ScoreChangeKind::RfmSegmentChanged,
            before(rfm_segment),
            rfm_segment(new),
        ));
    }
    let (was, is) = (before(|s| &s.segment), new.segment.as_str());
    if was != is {
        if !was.is_empty() {
            out.push(named(ScoreChangeKind::LifecycleLeft, was, ""));
        }
        if !is.is_empty() {
            out.push(named(ScoreChangeKind::LifecycleEntered, "", is));
        }
    }
    // A first score has nothing to cross from or move from.
    let Some(old) = old else { return out };
    if let (Some(a), Some(b)) = (p_alive(old), p_alive(new)) {
        for t in P_ALIVE_THRESHOLDS {
            let direction = if a < t && b >= t {
                CrossingDirection::Up
            } else if a >= t && b < t {
                CrossingDirection::Down
            } else {
                continue;
            };
            out.push(ScoreChange {
                kind: ScoreChangeKind::PAliveCrossed as i32,
                threshold: t,
                direction: direction as i32,
                before: a,
                after: b,
                ..ScoreChange::default()
            });
        }
    }
    if let (Some(a), Some(b)) = (lifetime_value(old), lifetime_value(new)) {
        let share = (a != 0).then(|| (b - a) as f64 / a as f64);
        let moved = match share {
            Some(s) => s.abs() >= LIFETIME_VALUE_SHARE,
            None => b != 0,
        };
        if moved {
            out.push(ScoreChange {
                kind: ScoreChangeKind::LifetimeValueMoved as i32,
                before: a as f64,
                after: b as f64,
                share,
                ..ScoreChange::default()
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use rapport_proto::v1::{Money, Rfm, ValueScores};

    use super::*;

    fn score(tier: &str, rfm: &str, lifecycle: &str, p: f64, ltv: i64) -> Score {
        Score {
            tier: tier.into(),
            segment: lifecycle.into(),
            rfm: Some(Rfm {
                segment: rfm.into(),
                ..Rfm::default()
            }),
            value: Some(ValueScores {
                probability_alive: Some(p),
                lifetime_value: Some(Money {
                    currency_code: "EUR".into(),
                    minor_units: ltv,
                }),
                ..ValueScores::default()
            }),
            ..Score::default()
        }
    }

    fn kinds(c: &[ScoreChange]) -> Vec<ScoreChangeKind> {
        c.iter().map(|c| c.kind()).collect()
    }

    #[test]
    fn nothing_changed_is_no_change() {
        let s = score("gold", "Loyal", "active", 0.6, 10_000);
        assert!(changes(Some(&s), &s).is_empty());
        // Within the band and under the share.
        let t = score("gold", "Loyal", "active", 0.7, 11_000);
        assert!(changes(Some(&s), &t).is_empty());
    }

    #[test]
    fn a_first_score_enters_its_tier_segment_and_lifecycle() {
        let new = score("silver", "New", "new", 0.9, 5_000);
        let c = changes(None, &new);
        use ScoreChangeKind::*;
        assert_eq!(
            kinds(&c),
            [TierChanged, RfmSegmentChanged, LifecycleEntered]
        );
        assert_eq!((c[0].from.as_str(), c[0].to.as_str()), ("", "silver"));
        assert_eq!(c[2].to, "new");
    }

    #[test]
    fn each_kind_with_its_details() {
        let old = score("bronze", "At risk", "lapsing", 0.45, 10_000);
        let new = score("gold", "Champions", "active", 0.85, 13_000);
        let c = changes(Some(&old), &new);
        use ScoreChangeKind::*;
        assert_eq!(
            kinds(&c),
            [
                TierChanged,
                RfmSegmentChanged,
                LifecycleLeft,
                LifecycleEntered,
                PAliveCrossed,
                PAliveCrossed,
                LifetimeValueMoved
            ]
        );
        assert_eq!(c[2].from, "lapsing");
        assert_eq!(c[3].to, "active");
        assert_eq!(
            (c[4].threshold, c[4].direction()),
            (0.5, CrossingDirection::Up)
        );
        assert_eq!(c[5].threshold, 0.8);
        assert!((c[6].share.unwrap() - 0.3).abs() < 1e-9);
        let down = changes(
            Some(&new),
            &score("gold", "Champions", "active", 0.1, 13_000),
        );
        assert_eq!(down.len(), 3);
        assert!(
            down.iter()
                .all(|c| c.direction() == CrossingDirection::Down)
        );
    }

    #[test]
    fn a_move_from_zero_counts_without_a_share() {
        let old = score("", "", "new", 0.5, 0);
        let c = changes(Some(&old), &score("", "", "new", 0.5, 1));
        assert_eq!(kinds(&c), [ScoreChangeKind::LifetimeValueMoved]);
        assert_eq!(c[0].share, None);
    }
}
