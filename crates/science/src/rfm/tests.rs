use super::*;

fn values(recency_days: f64, frequency: u32, monetary: f64) -> RfmValues {
    RfmValues {
        recency_days,
        frequency,
        monetary,
    }
}

/// 100 customers: recency 0..99 days, frequency 1..100, monetary 10..1000.
fn population() -> Vec<RfmValues> {
    (0..100)
        .map(|i| values(f64::from(i), i + 1, 10.0 * f64::from(i + 1)))
        .collect()
}

#[test]
fn every_score_pair_has_exactly_one_rule() {
    for r in 1..=5 {
        for fm in 1..=5 {
            let matching = SEGMENT_RULES
                .iter()
                .filter(|rule| rule.covers(r, fm))
                .count();
            assert_eq!(matching, 1, "R {r}, FM {fm}");
        }
    }
}

#[test]
fn every_segment_is_reachable() {
    let all = [
        Segment::Champions,
        Segment::Loyal,
        Segment::PotentialLoyalist,
        Segment::New,
        Segment::Promising,
        Segment::NeedsAttention,
        Segment::AboutToSleep,
        Segment::AtRisk,
        Segment::CantLoseThem,
        Segment::Hibernating,
        Segment::Lost,
    ];
    for segment in all {
        assert!(
            SEGMENT_RULES.iter().any(|r| r.segment == segment),
            "{segment}"
        );
    }
}

#[test]
fn fm_score_rounds_half_up() {
    assert_eq!(fm_score(1, 1), 1);
    assert_eq!(fm_score(1, 2), 2);
    assert_eq!(fm_score(4, 5), 5);
    assert_eq!(fm_score(3, 3), 3);
}

#[test]
fn quintiles_interpolate_like_numpy() {
    let b = Breakpoints::from_population(&population()).unwrap();
    // numpy.percentile(range(100), [20, 40, 60, 80]) = [19.8, 39.6, 59.4, 79.2].
    let expected = [19.8, 39.6, 59.4, 79.2];
    for (got, want) in b.recency().iter().zip(expected) {
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }
    assert!((b.frequency()[0] - 20.8).abs() < 1e-12);
    assert!((b.monetary()[3] - 802.0).abs() < 1e-9);
}

#[test]
fn scores_follow_the_quintiles() {
    let b = Breakpoints::from_population(&population()).unwrap();
    let all = |score| RfmScores {
        recency: score,
        frequency: score,
        monetary: score,
    };
    let best = assess(&values(0.0, 100, 1000.0), &b).unwrap();
    assert_eq!(best.scores, all(5));
    assert_eq!(best.segment, Segment::Champions);
    let worst = assess(&values(99.0, 1, 10.0), &b).unwrap();
    assert_eq!(worst.scores, all(1));
    assert_eq!(worst.segment, Segment::Lost);
    let gone_quiet = assess(&values(95.0, 90, 950.0), &b).unwrap();
    assert_eq!(gone_quiet.segment, Segment::CantLoseThem);
    let fresh = assess(&values(1.0, 1, 10.0), &b).unwrap();
    assert_eq!(fresh.segment, Segment::New);
}

#[test]
fn explanation_names_inputs_scores_and_rule() {
    let b = Breakpoints::from_population(&population()).unwrap();
    let result = assess(&values(50.0, 45, 700.0), &b).unwrap();
    assert_eq!(
        result.scores,
        RfmScores {
            recency: 3,
            frequency: 3,
            monetary: 4
        }
    );
    assert_eq!(result.explanation.fm_score, 4);
    assert_eq!(result.segment, Segment::Loyal);
    assert_eq!(result.explanation.rule.segment, result.segment);
    let text = result.explanation.to_string();
    for part in [
        "recency 50 days",
        "R3",
        "F3",
        "M4",
        "FM = ceil((F + M) / 2) = 4",
        "rule R 3-5 and FM 4",
        "Loyal",
    ] {
        assert!(text.contains(part), "{part:?} missing from {text:?}");
    }
}

#[test]
fn ties_share_a_score() {
    // Most customers bought once: the low breakpoints coincide and all of them score F1.
    let mut pop: Vec<RfmValues> = (0..80).map(|i| values(f64::from(i), 1, 20.0)).collect();
    pop.extend((0..20).map(|i| values(f64::from(i), 2 + i, 50.0)));
    let b = Breakpoints::from_population(&pop).unwrap();
    assert_eq!(b.frequency()[0], 1.0);
    assert_eq!(
        assess(&values(3.0, 1, 20.0), &b).unwrap().scores.frequency,
        1
    );
    assert!(assess(&values(3.0, 5, 20.0), &b).unwrap().scores.frequency >= 4);
}

#[test]
fn values_from_purchases_as_of_a_day() {
    let purchases = [
        Purchase {
            day: 100,
            amount: 30.0,
        },
        Purchase {
            day: 130,
            amount: 20.0,
        },
        Purchase {
            day: 135,
            amount: -5.0,
        },
        Purchase {
            day: 200,
            amount: 99.0,
        },
    ];
    let v = RfmValues::from_purchases(&purchases, 150).unwrap().unwrap();
    assert_eq!(v, values(20.0, 2, 45.0));
    assert_eq!(RfmValues::from_purchases(&purchases, 99).unwrap(), None);
    let bad = [Purchase {
        day: 1,
        amount: f64::NAN,
    }];
    assert!(RfmValues::from_purchases(&bad, 5).is_err());
}

#[test]
fn rejects_bad_inputs() {
    assert_eq!(
        Breakpoints::from_population(&[]).unwrap_err(),
        RfmError::EmptyPopulation
    );
    assert!(Breakpoints::from_population(&[values(f64::NAN, 1, 1.0)]).is_err());
    assert!(Breakpoints::new([1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0], [1.0; 4]).is_err());
    let b = Breakpoints::new(
        [5.0, 10.0, 20.0, 40.0],
        [1.0, 2.0, 3.0, 5.0],
        [10.0, 20.0, 50.0, 100.0],
    )
    .unwrap();
    assert!(assess(&values(-1.0, 1, 1.0), &b).is_err());
    assert!(assess(&values(1.0, 1, f64::INFINITY), &b).is_err());
}
