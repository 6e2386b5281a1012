use chrono::TimeZone;
use rapport_proto::v1::{BehaviourFlag, MonthlySpend, Rfm, ValueScores};

use super::*;

fn eur(minor_units: i64) -> Option<Money> {
    Some(Money {
        currency_code: "EUR".into(),
        minor_units,
    })
}

#[test]
fn scores_bind_in_major_units_with_flags_and_this_year() {
    let now = Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0).unwrap();
    let s = Score {
        customer_id: "c".into(),
        purchase_count: 6,
        recency_days: 12,
        net_spend: eur(61_250),
        first_purchase_at: Some(rapport_kit::domain::chrono_to_timestamp(
            Utc.with_ymd_and_hms(2025, 10, 1, 0, 0, 0).unwrap(),
        )),
        monthly_spend: vec![
            MonthlySpend {
                month: "2025-12".into(),
                net_spend: eur(10_000),
                purchases: 2,
            },
            MonthlySpend {
                month: "2026-02".into(),
                net_spend: eur(5_000),
                purchases: 1,
            },
        ],
        value: Some(ValueScores {
            monthly_profit: eur(61_200),
            probability_alive: Some(0.8),
            ..Default::default()
        }),
        rfm: Some(Rfm {
            recency: 4,
            segment: "Loyal".into(),
            ..Default::default()
        }),
        behaviour_flags: vec![BehaviourFlag {
            kind: "frequency_drop".into(),
            strength: 0.4,
            reason: String::new(),
        }],
        ..Default::default()
    };
    let (score, change) = score_values(&s, 2, now);
    let b = Bindings(BTreeMap::from([("score", score), ("change", change)]));
    let refs: Vec<String> = [
        "score.net_spend",
        "score.monthly_profit",
        "score.purchases_per_month",
        "score.purchases_this_year",
        "score.spend_this_year",
        "score.rfm_segment",
        "score.has_wallet_estimate",
        "score.days_since_last_interaction",
        "change.frequency_drop",
        "change.spend_rise",
    ]
    .map(String::from)
    .to_vec();
    let inputs = b.inputs(refs.iter());
    // Six purchases over six months (October to March).
    let expected = [
        ("score.net_spend", "612.5"),
        ("score.monthly_profit", "612"),
        ("score.purchases_per_month", "1"),
        ("score.purchases_this_year", "1"),
        ("score.spend_this_year", "50"),
        ("score.rfm_segment", "Loyal"),
        ("score.has_wallet_estimate", "false"),
        ("score.days_since_last_interaction", "-1"),
        ("change.frequency_drop", "0.4"),
        ("change.spend_rise", "0"),
    ];
    for (k, v) in expected {
        assert_eq!(inputs[k], v, "{k}");
    }
}

#[test]
fn every_declared_variable_compiles() {
    let env = environment();
    for source in [
        "score.tier == \"gold\" && score.lifecycle != \"lapsed\"",
        "customer.attributes[\"region\"] == \"north\" && \"vip\" in customer.tags",
        "event.properties[\"cart\"] != \"\" && event.amount > 10",
        "today.month_day == \"12-24\" && today.weekday <= 5",
    ] {
        assert!(env.compile_condition(source).is_ok(), "{source}");
    }
}
