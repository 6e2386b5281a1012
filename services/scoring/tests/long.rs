//! Whole-tenant work asked for by a request runs under
//! `long_request_timeout_ms`, not the request timeout: a model fit grows
//! with the tenant (about a minute at 200,000 customers on two cores), while
//! every other call keeps the short bound.

mod support;

use chrono::Utc;
use rapport_kit::testing::{self, Backend};
use rapport_proto::v1::FitModelsRequest;
use support::{apply_all, population, start_with};
use tonic::Code;
use uuid::Uuid;

/// Loads a population with the default timeouts, then starts the service
/// again on the same database with `request_ms` and `long_ms` and fits.
async fn fit_with(request_ms: u64, long_ms: u64) -> Result<(), tonic::Status> {
    let mut config = testing::config(Backend::Postgres).await;
    let h = start_with(config.clone()).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let people: Vec<Uuid> = (0..150).map(|_| Uuid::new_v4()).collect();
    let txns = population::simulate(&mut population::rng(3), &people, Utc::now(), 730);
    apply_all(&h, tenant.id, &txns, 400).await;
    h.ts.stop().await;

    config.request_timeout_ms = request_ms;
    config.long_request_timeout_ms = long_ms;
    let h = start_with(config).await;
    let mut client = h.api(&key);
    let fit = client
        .fit_models(FitModelsRequest {
            observation_end: None,
        })
        .await;
    h.ts.stop().await;
    fit.map(|_| ())
}

#[tokio::test]
async fn a_fit_gets_the_long_timeout_and_stops_at_it() {
    // Shorter than any fit: every database round trip takes longer.
    fit_with(1, 600_000)
        .await
        .expect("a fit past the 1 ms request timeout completes under the long one");
    let stopped = fit_with(1, 1)
        .await
        .expect_err("a fit past the long timeout");
    assert_eq!(stopped.code(), Code::DeadlineExceeded, "{stopped:?}");
}
