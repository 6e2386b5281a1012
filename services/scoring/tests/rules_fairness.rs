//! The rules worker's queue is fair between tenants on both backends: one
//! tenant's backlog does not stall another tenant's rules (issue 10).

mod support;

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use rapport_kit::testing::Backend;
use rapport_proto::v1::{ChangeEvent, Firing, RuleTrigger};
use rapport_scoring::RulesOptions;
use support::{
    purchase,
    rules::{definition, firings, options, publish, round_with, start},
};
use uuid::Uuid;

rapport_kit::backend_tests! {
    one_tenants_backlog_does_not_stall_another_tenants_rules,
}

/// When a firing was recorded, comparable.
fn fired_at(f: &Firing) -> (i64, i32) {
    let at = f.fired_at.as_ref().expect("fired_at");
    (at.seconds, at.nanos)
}

/// Tenant A queues work for 200 customers before tenant B queues one; with
/// 50 rows claimed at a time, B's firing comes in the first claim (each
/// tenant's oldest row first), so at least A's last 150 fire after it, not
/// after all of A's backlog. Every customer still fires exactly once.
async fn one_tenants_backlog_does_not_stall_another_tenants_rules(backend: Backend) {
    let h = start(backend).await;
    let (a, mut rules_a) = h.rules_tenant("acme").await;
    let (b, mut rules_b) = h.rules_tenant("globex").await;
    let spend = || definition("spend", RuleTrigger::ScoreChange, "score.net_spend > 0.0");
    let rule_a = publish(&mut rules_a, spend()).await;
    let rule_b = publish(&mut rules_b, spend()).await;
    let at = Utc::now() - Duration::days(1);
    let backlog: Vec<ChangeEvent> = (0..200)
        .map(|i| purchase(&format!("txn:{i}"), Uuid::new_v4(), at, 1_000))
        .collect();
    assert_eq!(h.apply(a.id, backlog).await.unwrap().applied, 200);
    let lone = Uuid::new_v4();
    let change = purchase("txn:b", lone, at, 1_000);
    assert_eq!(h.apply(b.id, vec![change]).await.unwrap().applied, 1);

    let batch = RulesOptions {
        batch: 50,
        ..options()
    };
    round_with(&h, batch).await;

    let fa = firings(&mut rules_a, &rule_a.id).await;
    let customers: BTreeSet<&str> = fa.iter().map(|f| f.customer_id.as_str()).collect();
    assert_eq!(fa.len(), 200, "each of A's customers fires");
    assert_eq!(customers.len(), 200, "each of A's customers fires once");
    let fb = firings(&mut rules_b, &rule_b.id).await;
    assert_eq!(fb.len(), 1, "B's customer fires once");
    assert_eq!(fb[0].customer_id, lone.to_string());
    let b_at = fired_at(&fb[0]);
    let after = fa.iter().filter(|f| fired_at(f) > b_at).count();
    assert!(
        after >= 150,
        "B's firing waited behind A's backlog: only {after} of A's 200 firings came after it"
    );
    h.ts.stop().await;
}
