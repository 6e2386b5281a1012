use rapport_kit::{FieldErrors, domain::CurrencyCode};
use rapport_proto::v1::{Money, ScoringSettings, TierBasis as ProtoTierBasis, TierThreshold};

use super::*;

fn eur() -> CurrencyCode {
    CurrencyCode::parse("EUR").unwrap()
}

fn fields(e: &FieldErrors) -> Vec<&str> {
    e.violations().iter().map(|(f, _)| f.as_str()).collect()
}

#[test]
fn defaults_round_trip_through_the_contract() {
    let d = Settings::default();
    let proto = d.to_proto(eur(), 1);
    assert_eq!(d.updated(&proto, &[], eur()).unwrap(), d);
    let json = serde_json::to_string(&d).unwrap();
    assert_eq!(serde_json::from_str::<Settings>(&json).unwrap(), d);
    // Settings stored by an older release, with fewer fields, still load.
    let old: Settings = serde_json::from_str(r#"{"annual_discount_rate":0.2}"#).unwrap();
    assert_eq!(old.annual_discount_rate, 0.2);
    assert_eq!(old.tiers, d.tiers);
}

#[test]
fn a_mask_changes_only_its_fields() {
    let d = Settings::default();
    let update = ScoringSettings {
        annual_discount_rate: 0.05,
        ..Default::default()
    };
    let next = d
        .updated(&update, &["annual_discount_rate".into()], eur())
        .unwrap();
    assert_eq!(next.annual_discount_rate, 0.05);
    assert_eq!(next.tiers, d.tiers);
    assert_eq!(next.default_margin_rate, 1.0);
}

#[test]
fn bad_values_name_their_fields() {
    let update = ScoringSettings {
        annual_discount_rate: f64::NAN,
        default_margin_rate: 1.5,
        category_margin_rates: [("books".to_owned(), -0.1), (String::new(), 0.2)]
            .into_iter()
            .collect(),
        monthly_cost_to_serve: Some(Money {
            currency_code: "USD".into(),
            minor_units: -5,
        }),
        tier_basis: ProtoTierBasis::Unspecified as i32,
        tiers: vec![
            TierThreshold {
                name: "gold".into(),
                min_percentile: 100.0,
            },
            TierThreshold {
                name: "gold".into(),
                min_percentile: 10.0,
            },
        ],
        time_unit: 0,
        fit_interval_minutes: 0,
        lifetime_horizon_months: 121,
        ..Default::default()
    };
    let e = Settings::default()
        .updated(&update, &[], eur())
        .unwrap_err();
    let mut got = fields(&e);
    got.sort();
    let mut want = vec![
        "settings.annual_discount_rate",
        "settings.default_margin_rate",
        "settings.category_margin_rates[books]",
        "settings.category_margin_rates[]",
        "settings.monthly_cost_to_serve.currency_code",
        "settings.monthly_cost_to_serve.minor_units",
        "settings.tier_basis",
        "settings.tiers[0].min_percentile",
        "settings.tiers[1].name",
        "settings.time_unit",
        "settings.fit_interval_minutes",
        "settings.lifetime_horizon_months",
    ];
    want.sort();
    assert_eq!(got, want);
    let e = Settings::default()
        .updated(&update, &["colour".into()], eur())
        .unwrap_err();
    assert_eq!(fields(&e), ["update_mask.paths[0]"]);
    let no_floor = ScoringSettings {
        tiers: vec![TierThreshold {
            name: "gold".into(),
            min_percentile: 50.0,
        }],
        ..Default::default()
    };
    let e = Settings::default()
        .updated(&no_floor, &["tiers".into()], eur())
        .unwrap_err();
    assert_eq!(fields(&e), ["settings.tiers"]);
}

#[test]
fn tiers_are_kept_highest_first_and_categories_override_the_default() {
    let update = ScoringSettings {
        tiers: vec![
            TierThreshold {
                name: "base".into(),
                min_percentile: 0.0,
            },
            TierThreshold {
                name: "top".into(),
                min_percentile: 90.0,
            },
        ],
        category_margin_rates: [("books".to_owned(), 0.25)].into_iter().collect(),
        default_margin_rate: 0.4,
        ..Default::default()
    };
    let mask = ["tiers", "category_margin_rates", "default_margin_rate"].map(String::from);
    let s = Settings::default().updated(&update, &mask, eur()).unwrap();
    assert_eq!(s.tiers[0].name, "top");
    assert_eq!(s.margin_rate("books"), 0.25);
    assert_eq!(s.margin_rate("toys"), 0.4);
}
