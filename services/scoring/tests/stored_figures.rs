//! Stored population figures: a tenant with more scores than
//! `scoring.inline_figures_limit` is answered SummarizeScores and
//! GetCustomerEquity from the figures the refresh worker stores
//! (FIGURES_PENDING before), equal to what the request path computes for
//! the same data; a tenant within the limit is computed in the request;
//! the pass leaves figures younger than `scoring.figures_max_age_seconds`
//! alone and recomputes older ones. On both stores.

mod support;

use chrono::{Duration, Utc};
use rapport_kit::{config::Config, domain::timestamp_to_chrono, testing::Backend};
use rapport_proto::v1::{
    GetCustomerEquityRequest, GetCustomerEquityResponse, SummarizeScoresRequest,
    SummarizeScoresResponse,
};
use rapport_scoring::{FIGURES_PENDING, ScoringConfig};
use support::{ApiClient, apply_all, fitted, population, purchase, reason};
use tonic::Code;
use uuid::Uuid;

rapport_kit::backend_tests! {
    large_tenants_are_answered_the_stored_figures,
}

async fn summary(client: &mut ApiClient) -> Result<SummarizeScoresResponse, tonic::Status> {
    let r = client.summarize_scores(SummarizeScoresRequest {}).await;
    r.map(|r| r.into_inner())
}

async fn equity(client: &mut ApiClient) -> Result<GetCustomerEquityResponse, tonic::Status> {
    let r = client
        .get_customer_equity(GetCustomerEquityRequest {})
        .await;
    r.map(|r| r.into_inner())
}

fn pending(status: tonic::Status) {
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(reason(&status), FIGURES_PENDING);
    assert!(status.message().contains("refresh worker"), "{status:?}");
}

/// The figures without when they were read and whether they were stored.
fn figures_of_summary(mut r: SummarizeScoresResponse) -> SummarizeScoresResponse {
    (r.as_of, r.stored) = (None, false);
    r
}

fn figures_of_equity(mut r: GetCustomerEquityResponse) -> GetCustomerEquityResponse {
    (r.as_of, r.stored) = (None, false);
    r
}

fn as_of(t: &Option<prost_types::Timestamp>) -> chrono::DateTime<Utc> {
    timestamp_to_chrono(t.as_ref().expect("as_of")).expect("a time")
}

async fn large_tenants_are_answered_the_stored_figures(backend: Backend) {
    let mut config = rapport_kit::testing::config(backend).await;
    config
        .set("scoring.inline_figures_limit", "3")
        .expect("limit");
    let h = support::start_with(config.clone()).await;
    let (acme, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = h.api(&key);
    // Purchases an hour back from now, on whole days before that: every
    // segment and model period is the same all through the test.
    let ids: Vec<Uuid> = (0..150).map(|_| Uuid::new_v4()).collect();
    let base = Utc::now() - Duration::hours(1);
    let txns = population::simulate(&mut population::rng(5), &ids, base, 730);
    apply_all(&h, acme.id, &txns, 500).await;
    // A tenant within the limit is computed in the request, pass or no pass.
    let (small, mut small_client) = h.tenant("globex").await;
    let at = base - Duration::days(3);
    let few = vec![
        purchase("g1", Uuid::new_v4(), at, 1_000),
        purchase("g2", Uuid::new_v4(), at, 2_500),
    ];
    h.apply(small.id, few).await.expect("apply");

    // Before the pass: no figures yet, nor a fit.
    pending(summary(&mut client).await.unwrap_err());
    let e = equity(&mut client).await.unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::FailedPrecondition, "MODEL_NOT_FITTED")
    );

    // The pass stores the summary; without a fit, no equity.
    let started = Utc::now();
    assert_eq!(h.scoring.run_figures_once(Utc::now()).await.unwrap(), 1);
    let first = summary(&mut client).await.expect("stored summary");
    assert!(first.stored);
    assert!(as_of(&first.as_of) >= started - Duration::seconds(1));
    assert_eq!(first.customers, ids.len() as u64);
    let e = equity(&mut client).await.unwrap_err();
    assert_eq!(reason(&e), "MODEL_NOT_FITTED");
    let inline = summary(&mut small_client).await.expect("inline summary");
    assert!(!inline.stored);
    assert_eq!(inline.customers, 2);
    assert!(as_of(&inline.as_of) >= started - Duration::seconds(1));

    // A fit: equity is pending until the next pass stores it too.
    fitted(&mut client).await;
    pending(equity(&mut client).await.unwrap_err());
    assert_eq!(h.scoring.run_figures_once(Utc::now()).await.unwrap(), 1);
    let stored_equity = equity(&mut client).await.expect("stored equity");
    assert!(stored_equity.stored);
    assert_eq!(stored_equity.customers, ids.len() as u64);
    let stored_summary = summary(&mut client).await.expect("stored summary");

    // Figures younger than the max age are left as they are...
    assert_eq!(h.scoring.run_figures_once(Utc::now()).await.unwrap(), 0);
    let again = summary(&mut client).await.unwrap();
    assert_eq!(again.as_of, stored_summary.as_of);
    assert_eq!(
        equity(&mut client).await.unwrap().as_of,
        stored_equity.as_of
    );
    // ...and older ones recomputed.
    let age = Duration::seconds(ScoringConfig::default().figures_max_age_seconds as i64 + 1);
    assert_eq!(
        h.scoring.run_figures_once(Utc::now() + age).await.unwrap(),
        1
    );
    let newer = summary(&mut client).await.unwrap();
    assert!(as_of(&newer.as_of) > as_of(&stored_summary.as_of));
    let newer_equity = equity(&mut client).await.unwrap();
    assert!(as_of(&newer_equity.as_of) > as_of(&stored_equity.as_of));
    assert!(!summary(&mut small_client).await.unwrap().stored);
    let mut config = h.ts.config.clone();
    h.ts.stop().await;

    // The same data read in the request (the default limit): the same
    // figures, field by field.
    config.update_section(|s: &mut ScoringConfig| *s = ScoringConfig::default());
    let h = support::start_with(config).await;
    let mut client = h.api(&key);
    let fresh = summary(&mut client).await.expect("inline summary");
    assert!(!fresh.stored);
    assert!(as_of(&fresh.as_of) > as_of(&newer.as_of));
    assert_eq!(figures_of_summary(fresh), figures_of_summary(newer));
    let fresh = equity(&mut client).await.expect("inline equity");
    assert!(!fresh.stored);
    assert_eq!(figures_of_equity(fresh), figures_of_equity(newer_equity));
    h.ts.stop().await;
}

#[test]
fn the_figures_settings_are_read_from_the_environment() {
    let env = |limit: &str, age: &str| {
        [
            (
                "RAPPORT_SCORING__INLINE_FIGURES_LIMIT".to_owned(),
                limit.to_owned(),
            ),
            (
                "RAPPORT_SCORING__FIGURES_MAX_AGE_SECONDS".to_owned(),
                age.to_owned(),
            ),
        ]
    };
    let read =
        |limit, age| Config::load(env(limit, age), None, &[]).and_then(|c| ScoringConfig::read(&c));
    let loaded = read("3", "120").unwrap();
    assert_eq!(
        (loaded.inline_figures_limit, loaded.figures_max_age_seconds),
        (3, 120)
    );
    let e = read("3", "5").unwrap_err().to_string();
    assert!(e.contains("scoring.figures_max_age_seconds"), "{e}");
    let e = read("2000000", "900").unwrap_err().to_string();
    assert!(e.contains("scoring.inline_figures_limit"), "{e}");
    let defaults = ScoringConfig::default();
    assert_eq!(
        (
            defaults.inline_figures_limit,
            defaults.figures_max_age_seconds
        ),
        (50_000, 900)
    );
}
