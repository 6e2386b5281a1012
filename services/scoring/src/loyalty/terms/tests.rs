use std::collections::HashMap;

use chrono::{TimeZone, Utc};

use super::*;

fn programme() -> PointsProgramme {
    PointsProgramme {
        points_per_unit: 1.5,
        category_multipliers: HashMap::from([("books".into(), 2.0)]),
        tier_multipliers: HashMap::from([("gold".into(), 1.25)]),
        welcome_bonus: 100,
        birthday_bonus: 50,
        expiry_months: 12,
        ..PointsProgramme::default()
    }
}

#[test]
fn a_purchase_earns_amount_times_rate_times_multipliers_rounded_down() {
    let t = Terms::check(&programme()).unwrap();
    // 12.34 × 1.5 × 2 × 1.25 = 46.275
    let w = t.worth(1_234, 2, "EUR", "books", "gold");
    assert_eq!(w.points, 46);
    assert_eq!(
        w.reason,
        "12.34 EUR × 1.5 point/unit × 2 (category books) × 1.25 (tier gold) = 46"
    );
    // Neither multiplier applies: 12.34 × 1.5 = 18.51
    let w = t.worth(1_234, 2, "EUR", "food", "");
    assert_eq!(
        (w.points, w.reason.as_str()),
        (18, "12.34 EUR × 1.5 point/unit = 18")
    );
    // A currency without decimals: 1,000 JPY × 1.5 = 1,500.
    assert_eq!(t.worth(1_000, 0, "JPY", "", "").points, 1_500);
    assert!(t.uses_tiers());
}

#[test]
fn the_api_form_goes_round() {
    let t = Terms::check(&programme()).unwrap();
    assert_eq!(t.per_unit_milli, 1_500);
    assert_eq!(Terms::check(&t.to_proto()).unwrap(), t);
}

#[test]
fn points_expire_after_the_months_and_are_kept_without_them() {
    let mut t = Terms::check(&programme()).unwrap();
    let at = Utc.with_ymd_and_hms(2026, 1, 31, 10, 0, 0).unwrap();
    assert_eq!(
        t.expiry(at),
        Some(Utc.with_ymd_and_hms(2027, 1, 31, 10, 0, 0).unwrap())
    );
    t.expiry_months = 1;
    // The end of a shorter month.
    assert_eq!(
        t.expiry(at),
        Some(Utc.with_ymd_and_hms(2026, 2, 28, 10, 0, 0).unwrap())
    );
    t.expiry_months = 0;
    assert_eq!(t.expiry(at), None);
}

#[test]
fn bad_terms_name_each_field() {
    let p = PointsProgramme {
        points_per_unit: 1.2345,
        category_multipliers: HashMap::from([("".into(), 1.0), ("toys".into(), -1.0)]),
        tier_multipliers: HashMap::from([("gold".into(), f64::NAN)]),
        welcome_bonus: -1,
        birthday_bonus: 2_000_000_000,
        expiry_months: 121,
        ..PointsProgramme::default()
    };
    let errors = Terms::check(&p).unwrap_err();
    let fields: Vec<&str> = errors
        .violations()
        .iter()
        .map(|(f, _)| f.as_str())
        .collect();
    assert_eq!(
        fields,
        vec![
            "programme.points_per_unit",
            "programme.category_multipliers[\"\"]",
            "programme.category_multipliers[\"toys\"]",
            "programme.tier_multipliers[\"gold\"]",
            "programme.welcome_bonus",
            "programme.birthday_bonus",
            "programme.expiry_months",
        ]
    );
    assert!(errors.violations()[0].1.contains("3 decimals"));
}
