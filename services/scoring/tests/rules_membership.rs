//! Segment and tier membership on both backends: the periodic pass raises
//! entered events for every customer's first segment and tier, a score change
//! that moves a customer raises left and entered events, and EVENT rules act
//! on them.

mod support;

use std::collections::HashMap;

use chrono::{Duration, Utc};
use rapport_kit::testing::{Backend, ok};
use rapport_proto::v1::{BatchGetScoresRequest, RuleTrigger};
use support::{
    apply_all, fit_models, population, purchase,
    rules::{definition, firings, publish, round, start, tag},
};
use uuid::Uuid;

rapport_kit::backend_tests!(segment_and_tier_changes_raise_events);

async fn segment_and_tier_changes_raise_events(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let now = Utc::now();
    let customers: Vec<Uuid> = (0..150).map(|_| Uuid::new_v4()).collect();
    let txns = population::simulate(&mut population::rng(11), &customers, now, 730);
    apply_all(&h, tenant.id, &txns, 400).await;
    let mut api = h.api(&key);
    fit_models(&mut api).await.unwrap();

    let mut c = h.rules(&key);
    let mut d = definition("tiers", RuleTrigger::Event, "event.tier != \"\"");
    d.event_kinds = vec!["tier_entered".into(), "tier_left".into()];
    d.actions = vec![tag("tier-moved")];
    let tiers = publish(&mut c, d).await;
    let mut d = definition("segments", RuleTrigger::Event, "true");
    d.event_kinds = vec!["segment_entered".into()];
    let segments = publish(&mut c, d).await;
    // The first pass: everyone enters their segment and tier.
    round(&h).await;

    let scores = ok(api.batch_get_scores(BatchGetScoresRequest {
        customer_ids: customers.iter().map(Uuid::to_string).collect(),
    }))
    .await
    .scores;
    let tier_of: HashMap<String, String> = scores
        .iter()
        .filter(|s| !s.tier.is_empty())
        .map(|s| (s.customer_id.clone(), s.tier.clone()))
        .collect();
    let with_segment = scores
        .iter()
        .filter(|s| s.rfm.as_ref().is_some_and(|r| !r.segment.is_empty()))
        .count();
    assert!(!tier_of.is_empty() && with_segment > 0);
    let f = firings(&mut c, &tiers.id).await;
    assert_eq!(f.len(), tier_of.len());
    for f in &f {
        assert_eq!(f.event_kind, "tier_entered");
        assert_eq!(f.inputs["event.tier"], tier_of[&f.customer_id]);
    }
    assert_eq!(firings(&mut c, &segments.id).await.len(), with_segment);

    // The lowest-tier customer starts buying a lot: their tier moves.
    let (lowest, old_tier) = tier_of
        .iter()
        .find(|(_, t)| t.as_str() == "bronze")
        .map(|(c, t)| (Uuid::parse_str(c).unwrap(), t.clone()))
        .expect("a bronze customer");
    let changes = (0..15)
        .map(|i| {
            purchase(
                &format!("big:{i}"),
                lowest,
                now - Duration::days(i + 1),
                500_000,
            )
        })
        .collect();
    h.apply(tenant.id, changes).await.unwrap();
    round(&h).await;
    let (moved, _) = support::get(&mut api, lowest).await.unwrap();
    assert_ne!(moved.tier, old_tier, "the premise: the tier changed");
    let mine: Vec<_> = firings(&mut c, &tiers.id)
        .await
        .into_iter()
        .filter(|f| f.customer_id == lowest.to_string())
        .collect();
    let mut kinds: Vec<_> = mine
        .iter()
        .map(|f| (f.event_kind.as_str(), f.inputs["event.tier"].as_str()))
        .collect();
    kinds.sort();
    let mut expected = vec![
        ("tier_entered", moved.tier.as_str()),
        ("tier_entered", old_tier.as_str()),
        ("tier_left", old_tier.as_str()),
    ];
    expected.sort();
    assert_eq!(kinds, expected);
    let entered = mine
        .iter()
        .find(|f| f.event_kind == "tier_entered" && f.inputs["event.tier"] == moved.tier)
        .unwrap();
    assert_eq!(entered.inputs["event.previous"], old_tier);
    h.ts.stop().await;
}
