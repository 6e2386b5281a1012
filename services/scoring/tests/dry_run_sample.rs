//! DryRunRule within `scoring.dry_run_limit`, on both stores: a tenant
//! larger than the limit is dry-run over its first `limit` customers in id
//! order (a uniform sample, ids being UUIDv5 hashes) and answered `sampled`
//! with its size and matches estimated within the sampling spread; a tenant
//! of exactly the limit is counted whole, the estimates equal to the counts.

mod support;

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use rapport_kit::{
    config::Config,
    testing::{Backend, ok},
};
use rapport_proto::v1::{DryRunRuleRequest, DryRunRuleResponse, RuleTrigger};
use rapport_scoring::{DRY_RUN_LIMIT, ScoringConfig};
use support::{Harness, purchase, rules::definition};
use uuid::Uuid;

rapport_kit::backend_tests! {
    tenants_past_the_limit_are_dry_run_on_a_sample,
}

/// The smallest limit allowed, set for the suite.
const LIMIT: u64 = 1_000;

/// Matches about half the customers [`load`] makes.
const CONDITION: &str = "score.net_spend > 100.0";

/// `n` customers of `tenant` with ids as Profiles makes them (UUIDv5 of
/// the tenant and an identity), each with one purchase: 150 for every
/// other customer, 50 for the rest. Their ids, and whether each matches
/// [`CONDITION`], in id order.
async fn load(h: &Harness, tenant: Uuid, n: usize) -> Vec<(Uuid, bool)> {
    let at = Utc::now() - Duration::days(2);
    let mut customers: Vec<(Uuid, bool)> = (0..n)
        .map(|i| {
            let identity = format!("identity:email\0c{i}@example.com");
            (Uuid::new_v5(&tenant, identity.as_bytes()), i % 2 == 0)
        })
        .collect();
    for chunk in customers.chunks(500) {
        let changes = chunk
            .iter()
            .map(|(id, big)| {
                let amount = if *big { 15_000 } else { 5_000 };
                purchase(&format!("first:{id}"), *id, at, amount)
            })
            .collect();
        let r = h.apply(tenant, changes).await.expect("apply");
        assert_eq!(r.applied as usize, chunk.len());
    }
    customers.sort();
    customers
}

async fn dry_run(h: &Harness, key: &str) -> DryRunRuleResponse {
    ok(h.rules(key).dry_run_rule(DryRunRuleRequest {
        definition: Some(definition("half", RuleTrigger::ScoreChange, CONDITION)),
        page_size: LIMIT as i32,
        ..Default::default()
    }))
    .await
}

/// The response without its matches, for failure messages.
fn counts(r: &DryRunRuleResponse) -> String {
    format!(
        "evaluated {}, matched {}, sampled {}, estimated {} customers and {} matched",
        r.customers_evaluated, r.matched, r.sampled, r.estimated_customers, r.estimated_matched
    )
}

/// Whether `estimate` is within `tolerance` (relative) of `truth`.
fn near(estimate: u64, truth: u64, tolerance: f64) -> bool {
    (estimate as f64 - truth as f64).abs() <= tolerance * truth as f64
}

async fn tenants_past_the_limit_are_dry_run_on_a_sample(backend: Backend) {
    let mut config = rapport_kit::testing::config(backend).await;
    config
        .set("scoring.dry_run_limit", &LIMIT.to_string())
        .expect("limit");
    let h = support::start_with(config).await;

    // Twice the limit: sampled.
    let (acme, key) = h.ts.tenant("acme", "EUR").await;
    let n = 2 * LIMIT;
    let customers = load(&h, acme.id, n as usize).await;
    let r = dry_run(&h, &key).await;
    assert!(r.sampled, "{}", counts(&r));
    assert_eq!((r.customers_evaluated, r.errors), (LIMIT, 0));
    // The sample is the first customers in id order: its matches, and
    // only those, are counted and listed.
    let first = &customers[..LIMIT as usize];
    let expected: Vec<String> = first
        .iter()
        .filter(|(_, big)| *big)
        .map(|(id, _)| id.to_string())
        .collect();
    let listed: Vec<String> = r.matches.iter().map(|m| m.customer_id.clone()).collect();
    assert_eq!(r.matched, expected.len() as u64);
    assert_eq!(
        listed.iter().collect::<BTreeSet<_>>(),
        expected.iter().collect::<BTreeSet<_>>()
    );
    // The estimates, against the truth. The first k of n uniform ids reach
    // a share of the id space whose relative spread is
    // sqrt((1 - k/n) / k), 2.2% here; the matched estimate adds the spread
    // of the half that matches within the sample (as much again,
    // independent of it), sqrt(2) times that. Five standard deviations
    // each: about 11% and 16%, missed by chance about once in 1.7 million
    // runs, each.
    let k = LIMIT as f64;
    let spread = ((1.0 - k / n as f64) / k).sqrt();
    let truth_matched = customers.iter().filter(|(_, big)| *big).count() as u64;
    assert!(
        near(r.estimated_customers, n, 5.0 * spread),
        "{} of {n} customers",
        counts(&r)
    );
    assert!(
        near(
            r.estimated_matched,
            truth_matched,
            5.0 * 2f64.sqrt() * spread
        ),
        "{} of {truth_matched} matched",
        counts(&r)
    );
    // Both estimates are scaled by the same factor.
    let scaled = r.matched as f64 * r.estimated_customers as f64 / LIMIT as f64;
    assert!(
        (r.estimated_matched as f64 - scaled).abs() <= 1.0,
        "{}",
        counts(&r)
    );

    // Exactly the limit: read whole (nobody is left after the last page),
    // the estimates being the counts.
    let (globex, key) = h.ts.tenant("globex", "EUR").await;
    let customers = load(&h, globex.id, LIMIT as usize).await;
    let r = dry_run(&h, &key).await;
    let truth_matched = customers.iter().filter(|(_, big)| *big).count() as u64;
    assert!(!r.sampled, "{}", counts(&r));
    assert_eq!(
        (r.customers_evaluated, r.matched, r.errors),
        (LIMIT, truth_matched, 0)
    );
    assert_eq!(
        (r.estimated_customers, r.estimated_matched),
        (LIMIT, truth_matched)
    );
    h.ts.stop().await;
}

#[test]
fn the_dry_run_limit_is_read_from_the_environment() {
    let read = |limit: &str| {
        let env = [(
            "RAPPORT_SCORING__DRY_RUN_LIMIT".to_owned(),
            limit.to_owned(),
        )];
        Config::load(env, None, &[]).and_then(|c| ScoringConfig::read(&c))
    };
    assert_eq!(read("2500").unwrap().dry_run_limit, 2_500);
    for bad in ["999", "1000001"] {
        let e = read(bad).unwrap_err().to_string();
        assert!(e.contains("scoring.dry_run_limit"), "{bad}: {e}");
    }
    assert_eq!(ScoringConfig::default().dry_run_limit, 50_000);
    assert_eq!(
        (*DRY_RUN_LIMIT.start(), *DRY_RUN_LIMIT.end()),
        (1_000, 1_000_000)
    );
}
