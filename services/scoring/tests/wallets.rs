//! Wallet estimates read from Profiles page by page on both storage
//! backends: a tenant of several pages gets every estimate, and a later
//! refresh sets the changed ones, adds the new ones and clears the removed
//! ones on every page, without holding the tenant in memory.

mod support;

use std::collections::HashMap;

use chrono::{Duration, Utc};
use rapport_kit::{
    internal::BearerAuth,
    testing::{Backend, ok},
};
use rapport_proto::v1::{
    CustomerRecord, ExternalIdentity, GetCustomerEquityRequest, UpsertCustomersRequest,
    profiles_service_client::ProfilesServiceClient,
};
use support::{ApiClient, Harness, apply_all, fit_models, population, purchase, start};
use uuid::Uuid;

rapport_kit::backend_tests! {
    estimates_on_every_page_are_set_changed_and_cleared,
}

/// Three pages of Profiles' 1,000.
const CUSTOMERS: usize = 2_100;

/// Upserts every customer with `attributes(i)`; returns the ids in order.
async fn upsert(
    h: &Harness,
    key: &str,
    attributes: impl Fn(usize) -> HashMap<String, String>,
) -> Vec<Uuid> {
    let mut client =
        ProfilesServiceClient::with_interceptor(h.ts.channel(), BearerAuth::new(key).unwrap());
    let mut ids = Vec::with_capacity(CUSTOMERS);
    for start in (0..CUSTOMERS).step_by(500) {
        let customers = (start..(start + 500).min(CUSTOMERS))
            .map(|i| CustomerRecord {
                identity: Some(ExternalIdentity {
                    source: "erp".into(),
                    external_id: format!("W{i}"),
                }),
                display_name: format!("Customer {i}"),
                attributes: attributes(i),
                ..Default::default()
            })
            .collect();
        let r = ok(client.upsert_customers(UpsertCustomersRequest { customers })).await;
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        ids.extend(r.customer_ids.iter().map(|id| Uuid::parse_str(id).unwrap()));
    }
    ids
}

/// Customers with an estimate, and the sum of their estimates in cents, as
/// the tenant's equity reports them after a refresh.
async fn refreshed(client: &mut ApiClient) -> (u64, i64) {
    fit_models(client)
        .await
        .expect("FitModels refreshes estimates");
    let equity = ok(client.get_customer_equity(GetCustomerEquityRequest {})).await;
    let overall = equity.overall.expect("overall");
    let sum = overall.wallet_estimate.map_or(0, |m| m.minor_units);
    (overall.wallet_customers, sum)
}

fn wallet(euros: usize) -> HashMap<String, String> {
    HashMap::from([("wallet_estimate".to_owned(), euros.to_string())])
}

async fn estimates_on_every_page_are_set_changed_and_cleared(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = h.api(&key);

    // Two in three customers have an estimate of (i + 1) euros.
    let first = |i: usize| {
        if i.is_multiple_of(3) {
            HashMap::from([("region".to_owned(), "north".to_owned())])
        } else {
            wallet(i + 1)
        }
    };
    let ids = upsert(&h, &key, first).await;
    let at = Utc::now() - Duration::days(3);
    let changes: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| purchase(&format!("p{i}"), *id, at, 1_000))
        .collect();
    for part in changes.chunks(500) {
        h.apply(tenant.id, part.to_vec()).await.expect("apply");
    }
    // Repeat buyers without a profile, so the models can be fitted.
    let others: Vec<Uuid> = (0..150).map(|_| Uuid::new_v4()).collect();
    let txns = population::simulate(&mut population::rng(5), &others, Utc::now(), 730);
    apply_all(&h, tenant.id, &txns, 400).await;
    let expected = |estimate: &dyn Fn(usize) -> Option<usize>| {
        let all: Vec<usize> = (0..CUSTOMERS).filter_map(estimate).collect();
        (all.len() as u64, all.iter().sum::<usize>() as i64 * 100)
    };
    let before = expected(&|i| (!i.is_multiple_of(3)).then_some(i + 1));
    assert_eq!(refreshed(&mut client).await, before);

    // Then every third customer's estimate is removed, every third changed,
    // and the others get one, on every page alike.
    let second = |i: usize| match i % 3 {
        1 => HashMap::from([("region".to_owned(), "south".to_owned())]),
        2 => wallet(2 * (i + 1)),
        _ => wallet(7),
    };
    assert_eq!(upsert(&h, &key, second).await, ids);
    let after = expected(&|i| match i % 3 {
        1 => None,
        2 => Some(2 * (i + 1)),
        _ => Some(7),
    });
    assert_ne!(after, before);
    assert_eq!(refreshed(&mut client).await, after);
    // Nothing changed since: a refresh changes nothing.
    assert_eq!(refreshed(&mut client).await, after);
}
