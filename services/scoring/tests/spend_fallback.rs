//! A tenant whose order values the spend model cannot fit, on both storage
//! backends: FitModels, GetModelFit and ListModelFits say why, and GetScore's
//! expected order value is the customer's repeat average shrunk toward the
//! population's (Bühlmann credibility), checked against a hand computation.

mod support;

use chrono::{Duration, Utc};
use rapport_kit::testing::{Backend, ok};
use rapport_proto::v1::{
    GetModelFitRequest, ListModelFitsRequest, ModelFit, ModelKind, Score, SpendFallback,
};
use support::{eur, fitted, get, population, purchase, start_acme};
use uuid::Uuid;

rapport_kit::backend_tests! {
    an_unfittable_spend_model_falls_back_to_shrunk_means,
}

/// The fallback of a fit, which must have no spend model.
fn fallback(fit: &ModelFit) -> &SpendFallback {
    assert!(
        !fit.models
            .iter()
            .any(|m| m.kind == ModelKind::GammaGamma as i32),
        "{fit:?}"
    );
    // Which parameter runs off, and whether the optimiser notices before
    // it stops, depends on the order the store hands the customers over.
    let reason = &fit.spend_model_unfitted_reason;
    assert!(
        reason.starts_with("Gamma-Gamma cannot be fitted: parameter")
            || reason.starts_with("Gamma-Gamma did not converge"),
        "{reason}"
    );
    fit.spend_fallback.as_ref().expect("a spend fallback")
}

fn explanation<'a>(s: &'a Score, measure: &str) -> &'a rapport_proto::v1::Explanation {
    let found = s.explanations.iter().find(|e| e.measure == measure);
    found.unwrap_or_else(|| panic!("{measure} in {:?}", s.explanations))
}

async fn an_unfittable_spend_model_falls_back_to_shrunk_means(backend: Backend) {
    let (h, tenant, mut client) = start_acme(backend).await;
    // Noon yesterday, not the moment the test runs: purchases are counted
    // in calendar days, so data placed relative to the clock changed with
    // the time of day, and at some hours BG/NBD could not be fitted ("b ran
    // off towards infinity"), failing the test by the hour it ran at.
    let now = Utc::now()
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
        - Duration::days(1);
    let at = |days: i64| now - Duration::days(days) - Duration::hours(1);

    // One-time buyers for the purchase model: the first purchases of a
    // simulated population, so they add nothing to the spend data.
    // Fixed ids, as the repeat customers' below, so the fit sees the same
    // customers in the same order at every run.
    let others: Vec<Uuid> = (0..80).map(|i| Uuid::from_u128(0x07e4_0000 + i)).collect();
    let simulated = population::simulate(&mut population::rng(3), &others, now, 400);
    let firsts: Vec<_> = others
        .iter()
        .filter_map(|c| simulated.iter().find(|t| t.customer == *c && t.purchase))
        .map(|t| t.event())
        .collect();
    h.apply(tenant.id, firsts).await.unwrap();

    // Eight repeat customers: averages of 20, 40, 60 and 80 euros, each over
    // 2 and over 4 repeat days, the orders 15 euros either side of the
    // average. The averages spread as widely over 4 repeat days as over 2, so
    // Gamma-Gamma finds no noise within customers to shrink by and runs off;
    // the orders themselves do vary, so the credibility weight can be
    // estimated.
    let mut changes = Vec::new();
    let mut chosen = None;
    for (i, level) in [20_i64, 40, 60, 80].into_iter().enumerate() {
        for repeats in [2_i64, 4] {
            // Fixed ids: the order the spend data reach the fit in is the same
            // at every run.
            let c = Uuid::from_u128(0x5eed_0000 + (level * 10 + repeats) as u128);
            if (level, repeats) == (20, 2) {
                chosen = Some(c);
            }
            let first = 300 - 25 * i as i64 - 7 * repeats;
            let gap = 11 + 3 * i as i64 + repeats;
            changes.push(purchase(&format!("{c}-0"), c, at(first), level * 100));
            for n in 1..=repeats {
                let amount = if n % 2 == 0 { level + 15 } else { level - 15 };
                let day = first - gap * n;
                changes.push(purchase(&format!("{c}-{n}"), c, at(day), amount * 100));
            }
        }
    }
    h.apply(tenant.id, changes).await.unwrap();
    let chosen = chosen.unwrap();

    // By hand, over the eight repeat customers (n repeat days of mean m,
    // squared deviations SS = n·15²):
    //   N = 4·(2 + 4) = 24 repeat days, r = 8 customers
    //   m̄ = Σ n·m / N = 6·(20 + 40 + 60 + 80) / 24 = 50
    //   s² = Σ SS / Σ (n − 1) = 4·(2 + 4)·225 / (4·(1 + 3)) = 337.5
    //   Σ n·(m − m̄)² = 6·(30² + 10² + 10² + 30²) = 12000
    //   a = (12000 − (8 − 1)·337.5) / (24 − 4·(2² + 4²)/24) = 9637.5 / (62/3) = 57825/124
    //   k = s² / a = 337.5·124 / 57825 = 186/257 ≈ 0.7237
    let k = 186.0 / 257.0;
    let fit = fitted(&mut client).await;
    let f = fallback(&fit);
    assert!((f.population_mean - 50.0).abs() < 1e-9, "{f:?}");
    assert!((f.credibility_weight - k).abs() < 1e-9, "{f:?}");
    assert_eq!(f.customers, 8);
    assert_eq!(f.credibility_weight_note, "");
    assert!(model_selected(&fit));

    // The stored fit reads back the same, alone and in the list.
    let stored = ok(client.get_model_fit(GetModelFitRequest::default())).await;
    assert_eq!(stored.fit.as_ref(), Some(&fit));
    let list = ok(client.list_model_fits(ListModelFitsRequest::default())).await;
    assert_eq!(list.fits.first(), Some(&fit));

    // The customer averaging 20 euros over 2 repeat days:
    //   (2·20 + k·50) / (2 + k) = (40·257 + 186·50) / (2·257 + 186)
    //   = 19580 / 700 = 27.9714... → 27.97 euros
    let (s, _) = get(&mut client, chosen).await.unwrap();
    let v = s.value.clone().unwrap();
    assert_eq!(v.expected_order_value, eur(2_797));
    let why = explanation(&s, "expected_order_value");
    for part in [
        "no spend model could be fitted (Gamma-Gamma ",
        "shrunk toward the population mean",
        "k=0.724",
    ] {
        assert!(why.text.contains(part), "{part}: {}", why.text);
    }
    assert_eq!(why.inputs["frequency"], "2");
    assert_eq!(why.inputs["k"], k.to_string());
    assert!(
        why.inputs["repeat_mean"].contains("20.00"),
        "{:?}",
        why.inputs
    );
    assert!(
        why.inputs["population_mean"].contains("50.00"),
        "{:?}",
        why.inputs
    );
    let ltv = explanation(&s, "lifetime_value");
    assert!(
        ltv.text.contains("no spend model could be fitted"),
        "{}",
        ltv.text
    );
    assert!(ltv.text.contains("27.97"), "{}", ltv.text);

    // A one-time buyer has no average of their own: the population's mean.
    let (s, _) = get(&mut client, others[0]).await.unwrap();
    assert_eq!(s.value.unwrap().expected_order_value, eur(5_000));
    h.ts.stop().await;
}

/// Whether a purchase model was fitted and selected.
fn model_selected(fit: &ModelFit) -> bool {
    fit.models.iter().any(|m| m.selected)
}
