//! The customer-value fields of GetScore on both storage backends, checked
//! against hand computations: RFM against population quintiles, profit, past
//! value, share of wallet, model predictions, lifetime value, tiers,
//! behaviour flags and explanations; and customer equity adding up.

mod support;

use chrono::{DateTime, Datelike, Duration, Utc};
use rapport_kit::testing::{Backend, ok};
use rapport_proto::v1::{
    GetCustomerEquityRequest, ModelKind, Money, ScoreSource, ScoringSettings,
    UpdateScoringSettingsRequest,
};
use rapport_science::{
    BgNbd, BgNbdParams, CustomerHistory, ValueAssumptions, lifetime_value, value::periods_per_month,
};
use support::{
    ApiClient, Harness, apply_all, fit_models, fitted, get, latest_fit, model, param, population,
    purchase, start, start_acme,
};
use uuid::Uuid;

rapport_kit::backend_tests! {
    rfm_scores_against_population_quintiles, value_measures_match_hand_computation,
}

async fn rfm_scores_against_population_quintiles(backend: Backend) {
    let (h, tenant, mut client) = start_acme(backend).await;
    let now = Utc::now();
    // Customer k (1..=5) bought 6 - k times, 100 euros each, last 10 k days ago:
    // recency 10..50 days, frequency 5..1, monetary 500..100 euros.
    let ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    let mut changes = Vec::new();
    for (k, id) in ids.iter().enumerate() {
        let last = now - Duration::days(10 * (k as i64 + 1)) - Duration::hours(2);
        for n in 0..(5 - k) {
            let at = last - Duration::days(100 * n as i64);
            changes.push(purchase(&format!("t{k}-{n}"), *id, at, 10_000));
        }
    }
    h.apply(tenant.id, changes).await.unwrap();
    // Before any population is computed there are no RFM scores.
    let (before, _) = get(&mut client, ids[0]).await.unwrap();
    assert_eq!(before.rfm, None);
    // Five customers may or may not be enough for the models; the
    // population is refreshed either way.
    let _ = fit_models(&mut client).await;

    // Recency breakpoints of 10..50 are 18, 26, 34, 42 (linear interpolation),
    // frequency 1.8, 2.6, 3.4, 4.2, monetary 180, 260, 340, 420.
    let expected = [
        (5, 5, 5, "Champions"),
        (4, 4, 4, "Loyal"),
        (3, 3, 3, "Needs attention"),
        (2, 2, 2, "Hibernating"),
        (1, 1, 1, "Lost"),
    ];
    for (id, (r, f, m, segment)) in ids.iter().zip(expected) {
        let (s, _) = get(&mut client, *id).await.unwrap();
        let rfm = s.rfm.expect("rfm");
        assert_eq!(
            (
                rfm.recency,
                rfm.frequency,
                rfm.monetary,
                rfm.segment.as_str()
            ),
            (r, f, m, segment)
        );
        let why = s.explanations.iter().find(|e| e.measure == "rfm").unwrap();
        assert!(why.text.contains(&format!("R{r}")), "{}", why.text);
        assert!(why.text.contains("18.0, 26.0, 34.0, 42.0"), "{}", why.text);
    }
    h.ts.stop().await;
}

fn eur(minor_units: i64) -> Option<Money> {
    Some(Money {
        currency_code: "EUR".into(),
        minor_units,
    })
}

fn month_of(t: DateTime<Utc>) -> i64 {
    t.year() as i64 * 12 + t.month0() as i64
}

async fn set_settings(client: &mut ApiClient, settings: ScoringSettings, mask: &[&str]) {
    client
        .update_scoring_settings(UpdateScoringSettingsRequest {
            settings: Some(settings),
            update_mask: Some(prost_types::FieldMask {
                paths: mask.iter().map(|p| p.to_string()).collect(),
            }),
        })
        .await
        .unwrap();
}

/// The BG/NBD parameters of the latest fit.
async fn bg_params(client: &mut ApiClient) -> (BgNbdParams, u64) {
    let fit = latest_fit(client).await;
    assert!(model(&fit, ModelKind::BgNbd).selected);
    let p = |n: &str| param(&fit, ModelKind::BgNbd, n);
    let params = BgNbdParams {
        r: p("r"),
        alpha: p("alpha"),
        a: p("a"),
        b: p("b"),
    };
    (params, fit.version)
}

fn gg_params(fit: &rapport_proto::v1::ModelFit) -> (f64, f64, f64) {
    let p = |n: &str| param(fit, ModelKind::GammaGamma, n);
    (p("p"), p("q"), p("v"))
}

async fn value_measures_match_hand_computation(backend: Backend) {
    let h: Harness = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = h.api(&key);
    let now = Utc::now();
    set_settings(
        &mut client,
        ScoringSettings {
            annual_discount_rate: 0.12,
            default_margin_rate: 0.4,
            category_margin_rates: [("books".to_owned(), 0.25)].into_iter().collect(),
            monthly_cost_to_serve: eur(500),
            lifetime_horizon_months: 24,
            ..Default::default()
        },
        &[
            "annual_discount_rate",
            "default_margin_rate",
            "category_margin_rates",
            "monthly_cost_to_serve",
            "lifetime_horizon_months",
        ],
    )
    .await;

    // A population for the models, and two customers checked by hand: one
    // with a wallet estimate of 1000 euros, one who stopped buying.
    let people = population::customers(&h, &key, 2, |i| (i == 0).then(|| "1000".to_owned())).await;
    let (one, two) = (people[0], people[1]);
    let others: Vec<Uuid> = (0..150).map(|_| Uuid::new_v4()).collect();
    let txns = population::simulate(&mut population::rng(5), &others, now, 730);
    apply_all(&h, tenant.id, &txns, 400).await;
    let at = |days: i64| now - Duration::days(days) - Duration::hours(1);
    let mut changes = vec![
        support::purchase("h1", one, at(70), 20_000),
        support::purchase("h2", one, at(40), 10_000),
        support::purchase("h3", one, at(10), 30_000),
        support::refund("h4", one, at(5), 4_000),
    ];
    // Own margin 50.00 on the first, books (25%) on the second, cost 180.00
    // on the third; the refund takes back 40% of 40.00.
    for (change, (margin, cost, category)) in changes.iter_mut().zip([
        (Some(5_000), None, "general"),
        (None, None, "books"),
        (None, Some(18_000), "general"),
        (None, None, "general"),
    ]) {
        if let Some(rapport_proto::v1::change_event::Change::Transaction(t)) = &mut change.change {
            t.margin_minor = margin;
            t.cost_minor = cost;
            t.category = category.into();
        }
    }
    // Every 20 days for a year, then nothing for 150 days.
    for n in 0..19 {
        changes.push(purchase(&format!("s{n}"), two, at(150 + 20 * n), 5_000));
    }
    h.apply(tenant.id, changes).await.unwrap();
    let fit = fitted(&mut client).await;
    let (bg, version) = bg_params(&mut client).await;
    assert_eq!(version, fit.version);

    let (s, source) = get(&mut client, one).await.unwrap();
    assert_eq!(source, ScoreSource::Cache as i32);
    let v = s.value.clone().unwrap();
    assert_eq!(
        (v.model, v.model_version),
        (ModelKind::BgNbd as i32, version)
    );
    assert_eq!(s.basis, None, "the basis stays in the cache");

    // Monthly profit: margins 50, 25, 120 and -16 euros in their months, less
    // 5 euros for every month from the first purchase to this one.
    let mut margin_by_month = std::collections::BTreeMap::new();
    for (days, margin) in [(70, 5_000), (40, 2_500), (10, 12_000), (5, -1_600)] {
        *margin_by_month.entry(month_of(at(days))).or_insert(0i64) += margin;
    }
    let (first, current) = (month_of(at(70)), month_of(now));
    let contributions: Vec<(i64, f64)> = (first..=current)
        .map(|m| {
            (
                m,
                (margin_by_month.get(&m).copied().unwrap_or(0) - 500) as f64 / 100.0,
            )
        })
        .collect();
    let window = &contributions[contributions.len().saturating_sub(12)..];
    let monthly = window.iter().map(|c| c.1).sum::<f64>() / window.len() as f64;
    let got = v.monthly_profit.as_ref().unwrap().minor_units;
    assert!(
        (got as f64 - monthly * 100.0).abs() <= 1.0,
        "{got} vs {monthly}"
    );
    // Past value: each month's contribution compounded at 12% a year.
    let rate = 1.12f64.powf(1.0 / 12.0) - 1.0;
    let past: f64 = contributions
        .iter()
        .map(|(m, c)| c * (1.0 + rate).powf((current - m) as f64))
        .sum();
    let got = v.past_value.as_ref().unwrap().minor_units;
    assert!((got as f64 - past * 100.0).abs() <= 1.0, "{got} vs {past}");
    // Share of wallet: 560 euros in the last twelve months of 1000.
    assert_eq!(v.share_of_wallet, Some(0.56));

    // Three purchase days: two repeats, the last 60 days after the first,
    // observed for 70 days (whole days, as lifetimes counts them).
    let days = |d: i64| population::day(at(d));
    let x = 2.0;
    let (t_x, big_t) = (
        (days(10) - days(70)) as f64,
        (population::day(now) - days(70)) as f64,
    );
    let alive = 1.0
        / (1.0 + bg.a / (bg.b + x - 1.0) * ((bg.alpha + big_t) / (bg.alpha + t_x)).powf(bg.r + x));
    let p_alive = v.probability_alive.unwrap();
    assert!((p_alive - alive).abs() < 1e-12, "{p_alive} vs {alive}");
    let model = BgNbd::new(bg).unwrap();
    let history = CustomerHistory::new(2, t_x, big_t);
    for (days, got) in [
        (30.0, v.expected_purchases_30d),
        (90.0, v.expected_purchases_90d),
        (365.0, v.expected_purchases_365d),
    ] {
        let want = model
            .conditional_expected_purchases(&history, days)
            .unwrap();
        assert!((got.unwrap() - want).abs() < 1e-12);
    }
    // Gamma-Gamma: the repeat days' mean, (100 + 300) / 2 euros, weighted
    // with the population mean.
    let (p, q, gv) = gg_params(&fit);
    let order_value = (p * gv + p * x * 200.0) / (p * x + q - 1.0);
    assert_eq!(
        v.expected_order_value,
        eur((order_value * 100.0).round() as i64)
    );
    // Lifetime value on this customer's margin rate, 179 of 560 euros.
    let assumptions = ValueAssumptions {
        periods_per_month: periods_per_month::DAYS,
        horizon_months: 24,
        annual_discount_rate: 0.12,
        margin_rate: 179.0 / 560.0,
    };
    let ltv = lifetime_value(&model, &history, order_value, &assumptions).unwrap();
    let got = v.lifetime_value.as_ref().unwrap().minor_units;
    assert!(
        (got as f64 - ltv.total * 100.0).abs() <= 1.0,
        "{got} vs {}",
        ltv.total
    );
    assert_eq!(v.lifetime_value_by_month.len(), 24);
    let month_sum: i64 = v
        .lifetime_value_by_month
        .iter()
        .map(|m| m.value.as_ref().unwrap().minor_units)
        .sum();
    assert!((month_sum - got).abs() <= 24);
    assert!(!s.tier.is_empty());

    let measures: Vec<&str> = s.explanations.iter().map(|e| e.measure.as_str()).collect();
    for m in [
        "rfm",
        "monthly_profit",
        "past_value",
        "probability_alive",
        "expected_order_value",
        "lifetime_value",
        "share_of_wallet",
        "tier",
    ] {
        assert!(measures.contains(&m), "{m} missing from {measures:?}");
    }

    // The second customer bought every 20 days and has been silent for 150.
    let (quiet, _) = get(&mut client, two).await.unwrap();
    let overdue = quiet
        .behaviour_flags
        .iter()
        .find(|f| f.kind == "overdue")
        .expect("overdue flag");
    assert!(overdue.strength > 0.5 && overdue.strength <= 1.0);
    assert!(
        overdue.reason.contains("since the last"),
        "{}",
        overdue.reason
    );
    assert_eq!(quiet.value.unwrap().share_of_wallet, None);

    // The database answers the same as the cache.
    h.cache.delete(&h.key(tenant.id, one)).await.unwrap();
    let (from_db, source) = get(&mut client, one).await.unwrap();
    assert_eq!(source, ScoreSource::Database as i32);
    assert_eq!(from_db, s);

    equity_adds_up(&mut client, &[&others[..], &people[..]].concat()).await;
    h.ts.stop().await;
}

/// Customer equity is the sum of the customers' lifetime values, grouped by
/// segment and tier; share of wallet aggregates over those with an estimate.
async fn equity_adds_up(client: &mut ApiClient, ids: &[Uuid]) {
    let equity = ok(client.get_customer_equity(GetCustomerEquityRequest {})).await;
    let mut total = 0i64;
    for id in ids {
        let (s, _) = get(client, *id).await.unwrap();
        total += s.value.unwrap().lifetime_value.map_or(0, |m| m.minor_units);
    }
    let got = equity.total.unwrap().minor_units;
    assert!((got - total).abs() <= ids.len() as i64, "{got} vs {total}");
    assert_eq!(equity.customers, ids.len() as u64);
    assert_eq!(
        equity.segments.iter().map(|g| g.customers).sum::<u64>(),
        ids.len() as u64
    );
    assert_eq!(
        equity.tiers.iter().map(|g| g.customers).sum::<u64>(),
        ids.len() as u64
    );
    let overall = equity.overall.unwrap();
    assert_eq!(overall.wallet_customers, 1);
    assert_eq!(overall.share_of_wallet, Some(0.56));
    let with_wallet: Vec<_> = equity
        .segments
        .iter()
        .filter(|g| g.wallet_customers > 0)
        .collect();
    assert_eq!(with_wallet.len(), 1);
    assert_eq!(with_wallet[0].wallet_estimate, eur(100_000));
    assert!(equity.tiers.iter().any(|t| t.name == "platinum"));
}
