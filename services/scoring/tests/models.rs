//! Fitting on both storage backends: FitModels against the science crate on
//! the same histories, idempotency and versions, data the models cannot fit,
//! model checking against a direct count, and tenant isolation of every
//! model RPC.

mod support;

use chrono::{Duration, Utc};
use rapport_kit::{
    domain::chrono_to_timestamp,
    testing::{Backend, ok},
};
use rapport_proto::v1::{
    EvaluateModelsRequest, FitModelsRequest, GetCustomerEquityRequest, GetModelFitRequest,
    ListModelFitsRequest, ModelKind,
};
use rapport_science::{FitOptions, fit_bg_nbd};
use support::{
    ApiClient, apply_all, fit_models, fitted, model, param, population, purchase, reason,
    start_acme,
};
use tonic::Code;
use uuid::Uuid;

rapport_kit::backend_tests! {
    fit_matches_the_science_and_is_idempotent, unfittable_data_is_refused_with_the_reason,
    evaluation_counts_the_holdout, model_rpcs_are_isolated_by_tenant,
}

async fn fit_matches_the_science_and_is_idempotent(backend: Backend) {
    let (h, tenant, mut client) = start_acme(backend).await;
    let now = Utc::now();
    let mut ids: Vec<Uuid> = (0..150).map(|_| Uuid::new_v4()).collect();
    let txns = population::simulate(&mut population::rng(7), &ids, now, 730);
    apply_all(&h, tenant.id, &txns, 200).await;

    let first = fit_models(&mut client).await.unwrap();
    assert!(first.created);
    let fit = first.fit.unwrap();
    assert_eq!(fit.version, 1);

    // The same histories, built here from the transactions, ordered by id as
    // the store reads them.
    ids.sort();
    let today = population::day(Utc::now());
    let histories: Vec<_> = ids
        .iter()
        .filter_map(|c| population::history(&population::purchase_days(&txns, *c, today), today))
        .map(|(h, _)| h)
        .collect();
    let expected = fit_bg_nbd(&histories, &FitOptions::default()).unwrap();
    let p = expected.model.params();
    for (name, want) in [("r", p.r), ("alpha", p.alpha), ("a", p.a), ("b", p.b)] {
        let got = param(&fit, ModelKind::BgNbd, name);
        assert!(
            (got - want).abs() <= 1e-9 * want.abs(),
            "{name}: {got} vs {want}"
        );
    }
    let bg = model(&fit, ModelKind::BgNbd);
    assert!(bg.selected);
    assert_eq!(bg.customers, histories.len() as u64);
    assert!((bg.log_likelihood - expected.log_likelihood).abs() < 1e-6);
    assert!(
        fit.models
            .iter()
            .any(|m| m.kind == ModelKind::GammaGamma as i32)
    );
    assert!(bg.parameters.iter().all(|p| p.standard_error.is_some()));

    // Unchanged data: the same version, nothing new stored.
    let again = fit_models(&mut client).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.fit.unwrap(), fit);

    // New data: a new version, the old one still readable.
    let c = ids[0];
    h.apply(
        tenant.id,
        vec![purchase("txn:new", c, now - Duration::days(1), 4_200)],
    )
    .await
    .unwrap();
    let second = fit_models(&mut client).await.unwrap();
    assert!(second.created);
    assert_eq!(second.fit.as_ref().unwrap().version, 2);
    let latest = ok(client.get_model_fit(GetModelFitRequest { version: 0 })).await;
    assert_eq!(latest.fit, second.fit);
    let old = ok(client.get_model_fit(GetModelFitRequest { version: 1 })).await;
    assert_eq!(old.fit.unwrap(), fit);
    let missing = client
        .get_model_fit(GetModelFitRequest { version: 9 })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);

    // Newest first, one per page.
    let page = ok(client.list_model_fits(ListModelFitsRequest {
        page_size: 1,
        page_token: String::new(),
    }))
    .await;
    assert_eq!(page.fits.iter().map(|f| f.version).collect::<Vec<_>>(), [2]);
    let rest = ok(client.list_model_fits(ListModelFitsRequest {
        page_size: 1,
        page_token: page.next_page_token,
    }))
    .await;
    assert_eq!(rest.fits.iter().map(|f| f.version).collect::<Vec<_>>(), [1]);
    assert!(rest.next_page_token.is_empty());

    // A chosen observation end is a different input: a new version, whose
    // histories end that day.
    let end = now - Duration::days(100);
    let r = ok(client.fit_models(FitModelsRequest {
        observation_end: Some(chrono_to_timestamp(end)),
    }))
    .await;
    let past = r.fit.unwrap();
    assert_eq!(past.version, 3);
    assert_eq!(
        past.observation_end.unwrap().seconds,
        population::day(end) * 86_400
    );
    let end_day = population::day(end);
    let earlier: Vec<_> = ids
        .iter()
        .filter_map(|c| {
            population::history(&population::purchase_days(&txns, *c, end_day), end_day)
        })
        .map(|(h, _)| h)
        .collect();
    let want = fit_bg_nbd(&earlier, &FitOptions::default())
        .unwrap()
        .model
        .params()
        .r;
    assert!((param(&past, ModelKind::BgNbd, "r") - want).abs() <= 1e-9 * want);
    h.ts.stop().await;
}

/// FitModels refuses the tenant's data as unfittable, saying `why`.
async fn unfittable(client: &mut ApiClient, why: &str) {
    let e = fit_models(client).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(reason(&e), "MODEL_UNFITTABLE");
    assert!(e.message().contains(why), "{}", e.message());
}

async fn unfittable_data_is_refused_with_the_reason(backend: Backend) {
    let (h, tenant, mut client) = start_acme(backend).await;
    let now = Utc::now();
    unfittable(&mut client, "no customers").await;

    // One customer, however many purchases.
    let a = Uuid::new_v4();
    let changes = (0..4)
        .map(|i| purchase(&format!("a{i}"), a, now - Duration::days(10 * i + 1), 1_000))
        .collect();
    h.apply(tenant.id, changes).await.unwrap();
    unfittable(&mut client, "only 1 customer").await;

    // Many customers, none of whom bought twice (the first customer's
    // purchases are all on one day in this tenant).
    let (other, other_key) = h.ts.tenant("globex", "EUR").await;
    let changes = (0..5)
        .map(|i| {
            purchase(
                &format!("b{i}"),
                Uuid::new_v4(),
                now - Duration::days(i + 3),
                900,
            )
        })
        .collect();
    h.apply(other.id, changes).await.unwrap();
    let mut other_client = h.api(&other_key);
    unfittable(&mut other_client, "repeat purchase").await;

    // Nothing was stored, and scores carry no prediction rather than a NaN,
    // with RFM all the same (the population was refreshed).
    let latest = other_client
        .get_model_fit(GetModelFitRequest::default())
        .await
        .unwrap_err();
    assert_eq!(latest.code(), Code::NotFound);
    let (score, _) = support::get(&mut client, a).await.unwrap();
    let value = score.value.unwrap();
    assert_eq!(value.probability_alive, None);
    assert_eq!(value.lifetime_value, None);
    assert!(score.rfm.is_some());
    h.ts.stop().await;
}

async fn evaluation_counts_the_holdout(backend: Backend) {
    let (h, tenant, mut client) = start_acme(backend).await;
    let now = Utc::now();
    let mut ids: Vec<Uuid> = (0..150).map(|_| Uuid::new_v4()).collect();
    ids.sort();
    let txns = population::simulate(&mut population::rng(11), &ids, now, 730);
    apply_all(&h, tenant.id, &txns, 500).await;
    let calibration = now - Duration::days(120);
    let r = ok(client.evaluate_models(EvaluateModelsRequest {
        calibration_end: Some(chrono_to_timestamp(calibration)),
        holdout_end: None,
    }))
    .await;

    // Counted here: customers who bought by the calibration end, and their
    // distinct purchase days after it.
    let (cal, end) = (population::day(calibration), population::day(now));
    let mut customers = 0;
    let mut actual = 0;
    for c in &ids {
        let all = population::purchase_days(&txns, *c, end);
        if all.keys().next().is_some_and(|d| *d <= cal) {
            customers += 1;
            actual += all.keys().filter(|d| **d > cal).count() as u64;
        }
    }
    assert_eq!(r.customers, customers);
    assert_eq!(r.actual_purchases, actual);
    let bg = r
        .models
        .iter()
        .find(|m| m.kind == ModelKind::BgNbd as i32)
        .expect("bg/nbd evaluated");
    assert!(bg.error.is_empty(), "{}", bg.error);
    assert_eq!(bg.groups.len(), 8);
    let grouped: u64 = bg.groups.iter().map(|g| g.actual_purchases).sum();
    assert_eq!(grouped, actual);
    assert_eq!(
        bg.groups.iter().map(|g| g.customers).sum::<u64>(),
        customers
    );
    assert!(bg.predicted_purchases > 0.0 && bg.chi_square.is_finite());
    assert!(!r.reason.is_empty());

    // The chosen model is the one the next fit selects.
    let fit = fitted(&mut client).await;
    let selected = fit.models.iter().find(|m| m.selected).unwrap();
    assert_eq!(selected.kind, r.chosen);

    // No calibration end; a holdout ending before the calibration does.
    for (calibration_end, holdout_end, field) in [
        (None, None, "calibration_end"),
        (
            Some(chrono_to_timestamp(now)),
            Some(chrono_to_timestamp(calibration)),
            "holdout_end",
        ),
    ] {
        let request = EvaluateModelsRequest {
            calibration_end,
            holdout_end,
        };
        let bad = client.evaluate_models(request).await.unwrap_err();
        assert_eq!(support::bad_fields(&bad), [field]);
    }
    h.ts.stop().await;
}

async fn model_rpcs_are_isolated_by_tenant(backend: Backend) {
    let (h, acme, mut a) = start_acme(backend).await;
    let (_globex, mut g) = h.tenant("globex").await;
    let now = Utc::now();
    let ids: Vec<Uuid> = (0..150).map(|_| Uuid::new_v4()).collect();
    let txns = population::simulate(&mut population::rng(3), &ids, now, 730);
    apply_all(&h, acme.id, &txns, 500).await;
    let fit = fitted(&mut a).await;

    // Globex sees none of acme's fits, data or equity.
    let e = g
        .get_model_fit(GetModelFitRequest { version: 1 })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let list = ok(g.list_model_fits(ListModelFitsRequest::default())).await;
    assert!(list.fits.is_empty());
    let e = fit_models(&mut g).await.unwrap_err();
    assert_eq!(reason(&e), "MODEL_UNFITTABLE");
    let e = g
        .evaluate_models(EvaluateModelsRequest {
            calibration_end: Some(chrono_to_timestamp(now - Duration::days(90))),
            holdout_end: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    let e = g
        .get_customer_equity(GetCustomerEquityRequest {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);

    // Acme's fit is untouched by globex's attempts.
    let latest = ok(a.get_model_fit(GetModelFitRequest::default())).await;
    assert_eq!(latest.fit.unwrap(), fit);
    let equity = ok(a.get_customer_equity(GetCustomerEquityRequest {})).await;
    assert_eq!(equity.customers, ids.len() as u64);
    assert_eq!(equity.model_version, 1);
    h.ts.stop().await;
}
