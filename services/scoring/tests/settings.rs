//! Scoring settings on both storage backends: defaults, validation naming
//! the field with nothing written, idempotent updates, margins computed with
//! the settings in force when a change is applied, tenant isolation; and the
//! background refresh fitting and reading wallet estimates on its own.

mod support;

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use rapport_kit::testing::{self, Backend, ok};
use rapport_proto::v1::{
    GetModelFitRequest, GetScoringSettingsRequest, Money, ScoringSettings, TierBasis,
    TierThreshold, TimeUnit, UpdateScoringSettingsRequest,
};
use rapport_scoring::RefreshOptions;
use support::{
    ApiClient, apply_all, bad_fields, get, population, purchase, start_acme, start_full,
};
use uuid::Uuid;

rapport_kit::backend_tests! {
    settings_are_validated_and_idempotent, margins_use_the_settings_in_force,
    background_refresh_fits_and_reads_wallets,
}

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

async fn settings(client: &mut ApiClient) -> ScoringSettings {
    ok(client.get_scoring_settings(GetScoringSettingsRequest {}))
        .await
        .settings
        .unwrap()
}

async fn settings_are_validated_and_idempotent(backend: Backend) {
    let (h, _acme, mut a) = start_acme(backend).await;
    let (_globex, mut g) = h.tenant("globex").await;

    let defaults = settings(&mut a).await;
    assert_eq!(defaults.version, 0);
    assert_eq!(defaults.annual_discount_rate, 0.1);
    assert_eq!(defaults.time_unit, TimeUnit::Day as i32);
    assert_eq!(defaults.tier_basis, TierBasis::LifetimeValue as i32);
    assert_eq!(defaults.fit_interval_minutes, 60);
    assert_eq!(defaults.tiers.last().unwrap().min_percentile, 0.0);

    let update = UpdateScoringSettingsRequest {
        settings: Some(ScoringSettings {
            annual_discount_rate: 0.08,
            time_unit: TimeUnit::Week as i32,
            tiers: vec![
                TierThreshold {
                    name: "all".into(),
                    min_percentile: 0.0,
                },
                TierThreshold {
                    name: "top".into(),
                    min_percentile: 90.0,
                },
            ],
            ..Default::default()
        }),
        update_mask: mask(&["annual_discount_rate", "time_unit", "tiers"]),
    };
    let first = ok(a.update_scoring_settings(update.clone())).await;
    assert!(first.changed);
    let stored = first.settings.unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.annual_discount_rate, 0.08);
    assert_eq!(stored.tiers[0].name, "top");
    assert_eq!(
        stored.default_margin_rate, 1.0,
        "fields outside the mask are kept"
    );
    // The same request again changes nothing.
    let again = ok(a.update_scoring_settings(update)).await;
    assert!(!again.changed);
    assert_eq!(again.settings.unwrap(), stored);
    assert_eq!(settings(&mut a).await, stored);

    // Bad values are named and nothing is written.
    let bad = UpdateScoringSettingsRequest {
        settings: Some(ScoringSettings {
            annual_discount_rate: -0.5,
            monthly_cost_to_serve: Some(Money {
                currency_code: "USD".into(),
                minor_units: 100,
            }),
            tiers: vec![TierThreshold {
                name: "only".into(),
                min_percentile: 10.0,
            }],
            fit_interval_minutes: 0,
            ..Default::default()
        }),
        update_mask: mask(&[
            "annual_discount_rate",
            "monthly_cost_to_serve",
            "tiers",
            "fit_interval_minutes",
        ]),
    };
    let err = a.update_scoring_settings(bad).await.unwrap_err();
    assert_eq!(
        bad_fields(&err),
        [
            "settings.annual_discount_rate",
            "settings.monthly_cost_to_serve.currency_code",
            "settings.tiers",
            "settings.fit_interval_minutes",
        ]
    );
    // No settings at all; a path the mask cannot name.
    for (settings, update_mask, field) in [
        (None, None, "settings"),
        (
            Some(ScoringSettings::default()),
            mask(&["colour"]),
            "update_mask.paths[0]",
        ),
    ] {
        let request = UpdateScoringSettingsRequest {
            settings,
            update_mask,
        };
        let err = a.update_scoring_settings(request).await.unwrap_err();
        assert_eq!(bad_fields(&err), [field]);
    }
    assert_eq!(settings(&mut a).await, stored);

    // Another tenant has its own settings and cannot touch acme's.
    assert_eq!(settings(&mut g).await.version, 0);
    g.update_scoring_settings(UpdateScoringSettingsRequest {
        settings: Some(ScoringSettings {
            annual_discount_rate: 0.3,
            ..Default::default()
        }),
        update_mask: mask(&["annual_discount_rate"]),
    })
    .await
    .unwrap();
    assert_eq!(settings(&mut a).await, stored);
    assert_eq!(settings(&mut g).await.annual_discount_rate, 0.3);
    h.ts.stop().await;
}

async fn margins_use_the_settings_in_force(backend: Backend) {
    let (h, tenant, mut client) = start_acme(backend).await;
    let c = Uuid::new_v4();
    // Two purchases in this month (so both land in the trailing window),
    // the first under a 40% margin rate, the second under 10%.
    let at = Utc::now() - Duration::minutes(5);
    let set = |rate: f64| UpdateScoringSettingsRequest {
        settings: Some(ScoringSettings {
            default_margin_rate: rate,
            ..Default::default()
        }),
        update_mask: mask(&["default_margin_rate"]),
    };
    client.update_scoring_settings(set(0.4)).await.unwrap();
    h.apply(tenant.id, vec![purchase("t1", c, at, 10_000)])
        .await
        .unwrap();
    client.update_scoring_settings(set(0.1)).await.unwrap();
    h.apply(tenant.id, vec![purchase("t2", c, at, 10_000)])
        .await
        .unwrap();
    // 40.00 + 10.00 in the one month since the first purchase.
    let (s, _) = get(&mut client, c).await.unwrap();
    let value = s.value.unwrap();
    assert_eq!(value.monthly_profit.unwrap().minor_units, 5_000);
    assert_eq!(value.past_value.unwrap().minor_units, 5_000);
    h.ts.stop().await;
}

async fn background_refresh_fits_and_reads_wallets(backend: Backend) {
    let options = RefreshOptions {
        poll: StdDuration::from_millis(50),
        lease: StdDuration::from_secs(60),
        retry: StdDuration::from_secs(1),
    };
    let h = start_full(testing::config(backend).await, Some(options)).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = h.api(&key);
    let now = Utc::now();
    let people = population::customers(&h, &key, 1, |_| Some("2500.50".to_owned())).await;
    let mut ids: Vec<Uuid> = (0..150).map(|_| Uuid::new_v4()).collect();
    ids.push(people[0]);
    let mut txns = population::simulate(&mut population::rng(9), &ids, now, 730);
    // The customer with the estimate goes in the first call: the job may
    // refresh as soon as the tenant has a score, and estimates only reach
    // customers that have one (the rest wait for the next refresh).
    txns.sort_by_key(|t| t.customer != people[0]);
    apply_all(&h, tenant.id, &txns, 500).await;

    // Nobody calls FitModels: the job finds the tenant, fits it and reads
    // the wallet estimate from Profiles.
    let mut fitted = None;
    for _ in 0..400 {
        if let Ok(r) = client.get_model_fit(GetModelFitRequest::default()).await {
            fitted = r.into_inner().fit;
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert_eq!(fitted.expect("the job fitted the tenant").version, 1);
    let mut share = None;
    for _ in 0..100 {
        let (s, src) = get(&mut client, people[0]).await.unwrap();
        eprintln!(
            "DEBUG v={} src={} value={:?}",
            s.version,
            src,
            s.value.as_ref().map(|v| v.share_of_wallet)
        );
        share = s.value.and_then(|v| v.share_of_wallet);
        if share.is_some() {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    let spend: i64 = txns
        .iter()
        .filter(|t| t.customer == people[0] && t.at > now - Duration::days(400))
        .filter(|t| {
            let m = |d: chrono::DateTime<Utc>| {
                use chrono::Datelike;
                d.year() * 12 + d.month0() as i32
            };
            m(now) - m(t.at) < 12
        })
        .map(|t| if t.purchase { t.amount } else { -t.amount })
        .sum();
    let expected = (spend as f64 / 100.0 / 2500.5).clamp(0.0, 1.0);
    let got = share.expect("share of wallet from the profile's estimate");
    assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
    h.ts.stop().await;
}
