use super::*;

const TIERS: [(&str, f64); 4] = [
    ("platinum", 0.95),
    ("gold", 0.80),
    ("silver", 0.50),
    ("bronze", 0.0),
];

/// Values 1, 2, ..., 101: the value at fraction f is 1 + 100·f.
fn population() -> Vec<f64> {
    (1..=101).rev().map(f64::from).collect()
}

#[test]
fn cutoffs_are_the_population_percentiles() {
    let t = TierThresholds::from_population(&TIERS, &population()).unwrap();
    let cutoffs: Vec<f64> = t.tiers().iter().map(|t| t.cutoff).collect();
    assert_eq!(cutoffs, vec![96.0, 81.0, 51.0, 1.0]);
    assert_eq!(t.quantiles().len(), 101);
    // Interpolated between order statistics: 1, 2, 3, 4 at fraction 0.8 is 3.4.
    let small = TierThresholds::from_population(&TIERS, &[4.0, 1.0, 3.0, 2.0]).unwrap();
    assert!((small.tiers()[1].cutoff - 3.4).abs() < 1e-12);
}

#[test]
fn values_get_the_highest_tier_they_reach() {
    let t = TierThresholds::from_population(&TIERS, &population()).unwrap();
    let tier = |v: f64| t.assign(v).unwrap().tier;
    assert_eq!(tier(200.0), "platinum");
    assert_eq!(tier(96.0), "platinum");
    assert_eq!(tier(95.9), "gold");
    assert_eq!(tier(81.0), "gold");
    assert_eq!(tier(60.0), "silver");
    assert_eq!(tier(50.0), "bronze");
    assert_eq!(tier(-1000.0), "bronze");
    let a = t.assign(86.0).unwrap();
    assert!((a.percentile - 0.85).abs() < 1e-12, "{}", a.percentile);
    assert_eq!(
        a.explanation,
        "value 86 is at the 85th percentile; gold starts at the 80th percentile (value 81) \
         and platinum at the 95th (value 96)"
    );
    assert_eq!(t.assign(1000.0).unwrap().percentile, 1.0);
    assert_eq!(t.assign(0.0).unwrap().percentile, 0.0);
    assert!(t.assign(f64::NAN).is_err());
}

#[test]
fn ties_put_a_cutoff_value_in_its_tier() {
    // Half the customers are worth nothing: the median cut-off is 0, and a customer worth
    // 0 sits at the top of the run of zeros.
    let mut values = vec![0.0; 50];
    values.extend((1..=51).map(f64::from));
    let t = TierThresholds::from_population(&TIERS, &values).unwrap();
    assert_eq!(t.tiers()[2].cutoff, 1.0);
    let zero = t.assign(0.0).unwrap();
    assert_eq!(zero.tier, "bronze");
    assert!(
        (zero.percentile - 0.49).abs() < 1e-12,
        "{}",
        zero.percentile
    );
    let all_equal = TierThresholds::from_population(&TIERS, &[5.0; 10]).unwrap();
    let a = all_equal.assign(5.0).unwrap();
    assert_eq!((a.tier.as_str(), a.percentile), ("platinum", 1.0));
}

#[test]
fn thresholds_are_validated_with_reasons() {
    let v = [1.0, 2.0];
    let err = |tiers: &[(&str, f64)]| TierThresholds::from_population(tiers, &v).unwrap_err();
    assert_eq!(err(&[]), TierError::NoTiers);
    assert!(matches!(
        err(&[("gold", 0.5), ("silver", 0.8), ("bronze", 0.0)]),
        TierError::NotDescending { .. }
    ));
    assert!(matches!(
        err(&[("gold", 0.5), ("silver", 0.5), ("bronze", 0.0)]),
        TierError::NotDescending { .. }
    ));
    assert!(matches!(
        err(&[("gold", 1.5), ("bronze", 0.0)]),
        TierError::PercentileOutOfRange { .. }
    ));
    assert!(matches!(
        err(&[("gold", f64::NAN), ("bronze", 0.0)]),
        TierError::PercentileOutOfRange { .. }
    ));
    assert_eq!(
        err(&[("gold", 0.5), ("gold", 0.0)]),
        TierError::DuplicateName {
            name: "gold".into()
        }
    );
    assert_eq!(err(&[("", 0.0)]), TierError::EmptyName { index: 0 });
    let last = err(&[("gold", 0.5), ("silver", 0.2)]);
    assert!(last.to_string().contains("must start at 0"), "{last}");
    assert_eq!(
        TierThresholds::from_population(&TIERS, &[]).unwrap_err(),
        TierError::EmptyPopulation
    );
    assert_eq!(
        TierThresholds::from_population(&TIERS, &[1.0, f64::INFINITY]).unwrap_err(),
        TierError::NonFiniteValue {
            index: 1,
            value: f64::INFINITY
        }
    );
}

#[test]
fn stored_thresholds_round_trip_and_are_checked() {
    let t = TierThresholds::from_population(&TIERS, &population()).unwrap();
    let back = TierThresholds::from_stored(t.tiers().to_vec(), t.quantiles().to_vec()).unwrap();
    assert_eq!(back, t);
    let mut swapped = t.tiers().to_vec();
    swapped[0].cutoff = 10.0;
    assert!(matches!(
        TierThresholds::from_stored(swapped, t.quantiles().to_vec()),
        Err(TierError::Inconsistent { .. })
    ));
    let mut table = t.quantiles().to_vec();
    table.pop();
    assert!(TierThresholds::from_stored(t.tiers().to_vec(), table).is_err());
}
