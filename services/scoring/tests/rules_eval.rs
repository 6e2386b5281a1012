//! Rules evaluation on both backends, one worker round at a time: edge
//! triggering, the periodic pass, tier and tag marks on the score, dry runs
//! against a hand count, and the sandbox (refused at save, or bounded at run
//! time). Contact is in rules_contact.rs.

mod support;

use std::collections::{BTreeSet, HashMap};

use chrono::{Duration, Utc};
use rapport_kit::testing::{Backend, ok};
use rapport_proto::v1::{
    ChangeEvent, CreateRuleRequest, DryRunRuleRequest, GetRuleStatsRequest, RuleTrigger,
};
use support::{
    bad_fields, interaction_of, purchase, refund,
    rules::{definition, firings, publish, round, set_tier, start, tag},
};
use uuid::Uuid;

rapport_kit::backend_tests! {
    score_rules_fire_on_the_edge_only, the_schedule_fires_rules_that_time_makes_true,
    set_tier_overrides_the_scores_tier, dry_runs_match_a_hand_count, the_sandbox_refuses_at_save,
    costly_rules_are_stopped_and_recorded,
}

async fn score_rules_fire_on_the_edge_only(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut c = h.rules(&key);
    let rule = publish(
        &mut c,
        definition("big", RuleTrigger::ScoreChange, "score.net_spend > 100.0"),
    )
    .await;
    let a = Uuid::new_v4();
    let at = Utc::now() - Duration::days(3);
    let step = |id: &str, e: ChangeEvent| {
        let (h, id) = (&h, id.to_owned());
        async move {
            let r = h.apply(tenant.id, vec![e]).await.unwrap();
            assert_eq!(r.applied, 1, "{id}");
            round(h).await;
        }
    };
    step("1", purchase("txn:1", a, at, 15_000)).await;
    let f = firings(&mut c, &rule.id).await;
    assert_eq!(f.len(), 1, "false -> true fires");
    assert_eq!(
        f[0].inputs.get("score.net_spend").map(String::as_str),
        Some("150")
    );
    assert_eq!(f[0].action_results, ["tag matched"]);
    assert_eq!(f[0].customer_id, a.to_string());
    assert_eq!(f[0].rule_version, 1);
    let (score, _) = support::get(&mut h.api(&key), a).await.unwrap();
    assert_eq!(score.tags, ["matched"], "the tag shows on the score");
    step("2", purchase("txn:2", a, at, 2_000)).await;
    assert_eq!(
        firings(&mut c, &rule.id).await.len(),
        1,
        "still true: no firing"
    );
    step("3", refund("txn:3", a, at, 10_000)).await;
    assert_eq!(
        firings(&mut c, &rule.id).await.len(),
        1,
        "true -> false: none"
    );
    step("4", purchase("txn:4", a, at, 30_000)).await;
    let f = firings(&mut c, &rule.id).await;
    assert_eq!(f.len(), 2, "false -> true again fires again");
    assert_ne!(f[0].episode, f[1].episode);
    assert_eq!(
        f[0].inputs.get("score.net_spend").map(String::as_str),
        Some("370")
    );
    h.ts.stop().await;
}

async fn the_schedule_fires_rules_that_time_makes_true(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let (old, recent) = (Uuid::new_v4(), Uuid::new_v4());
    let now = Utc::now();
    h.apply(
        tenant.id,
        vec![
            purchase("txn:1", old, now - Duration::days(90), 1_000),
            purchase("txn:2", recent, now - Duration::days(5), 1_000),
        ],
    )
    .await
    .unwrap();
    let mut c = h.rules(&key);
    // Published after the purchases: only the periodic pass can find them.
    let rule = publish(
        &mut c,
        definition("lapsed", RuleTrigger::Schedule, "score.recency_days > 60"),
    )
    .await;
    round(&h).await;
    let f = firings(&mut c, &rule.id).await;
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].customer_id, old.to_string());
    assert!(f[0].episode.starts_with("s:"));
    assert_eq!(
        f[0].inputs.get("score.recency_days").map(String::as_str),
        Some("90")
    );
    // A change does not evaluate schedule rules, and the pass is not due.
    h.apply(
        tenant.id,
        vec![purchase("txn:3", recent, now - Duration::days(70), 500)],
    )
    .await
    .unwrap();
    round(&h).await;
    assert_eq!(firings(&mut c, &rule.id).await.len(), 1);
    // Publishing another rule brings the pass forward: customers who already
    // match it are found at the next round, not an interval later.
    let later = publish(
        &mut c,
        definition(
            "long-gone",
            RuleTrigger::Schedule,
            "score.recency_days > 80",
        ),
    )
    .await;
    round(&h).await;
    let f = firings(&mut c, &later.id).await;
    assert_eq!(f.len(), 1, "the new rule is evaluated at once");
    assert_eq!(f[0].customer_id, old.to_string());
    h.ts.stop().await;
}

async fn set_tier_overrides_the_scores_tier(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut c = h.rules(&key);
    let mut d = definition("vip", RuleTrigger::ScoreChange, "score.purchase_count >= 2");
    d.actions = vec![set_tier("platinum"), tag("vip")];
    let rule = publish(&mut c, d).await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let at = Utc::now() - Duration::days(4);
    // Two purchases make a the rule's only match.
    let changes = vec![
        purchase("txn:1", a, at, 1_000),
        purchase("txn:2", a, at, 1_000),
        purchase("txn:3", b, at, 1_000),
    ];
    h.apply(tenant.id, changes).await.unwrap();
    round(&h).await;
    let f = firings(&mut c, &rule.id).await;
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].action_results, ["tier set to platinum", "tag vip"]);
    let mut api = h.api(&key);
    let (sa, _) = support::get(&mut api, a).await.unwrap();
    assert_eq!(sa.tier, "platinum");
    assert_eq!(sa.tags, ["vip"]);
    let why = sa
        .explanations
        .iter()
        .find(|e| e.measure == "tier" && e.inputs.contains_key("override"))
        .expect("override explained");
    assert!(
        why.text.contains(&format!("rule {} v1", rule.id)),
        "{}",
        why.text
    );
    let (sb, _) = support::get(&mut api, b).await.unwrap();
    assert_ne!(sb.tier, "platinum");
    assert!(sb.tags.is_empty());
    // A dry run sees the tags rules set.
    let tagged = definition(
        "tagged",
        RuleTrigger::ScoreChange,
        "\"vip\" in customer.tags",
    );
    let r = ok(c.dry_run_rule(DryRunRuleRequest {
        definition: Some(tagged),
        page_size: 10,
        ..Default::default()
    }))
    .await;
    let matched: Vec<_> = r.matches.iter().map(|m| m.customer_id.clone()).collect();
    assert_eq!((r.matched, matched), (1, vec![a.to_string()]));
    h.ts.stop().await;
}

async fn dry_runs_match_a_hand_count(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let at = Utc::now() - Duration::days(2);
    let spends = [5_000, 15_000, 25_000, 9_900, 10_100, 0];
    let customers: Vec<Uuid> = spends.iter().map(|_| Uuid::new_v4()).collect();
    let mut changes = Vec::new();
    for (i, (cu, amount)) in customers.iter().zip(spends).enumerate() {
        changes.push(purchase(&format!("txn:{i}"), *cu, at, amount.max(100)));
        if amount == 0 {
            changes.push(refund(&format!("ref:{i}"), *cu, at, 100));
        }
    }
    h.apply(tenant.id, changes).await.unwrap();
    let expected: BTreeSet<String> = customers
        .iter()
        .zip(spends)
        .filter(|(_, s)| *s > 10_000)
        .map(|(c, _)| c.to_string())
        .collect();
    let mut c = h.rules(&key);
    let d = definition("dry", RuleTrigger::ScoreChange, "score.net_spend > 100.0");
    let r = ok(c.dry_run_rule(DryRunRuleRequest {
        definition: Some(d.clone()),
        page_size: 10,
        ..Default::default()
    }))
    .await;
    assert_eq!((r.customers_evaluated, r.matched, r.errors), (6, 3, 0));
    let ids: BTreeSet<_> = r.matches.iter().map(|m| m.customer_id.clone()).collect();
    assert_eq!(ids, expected);
    let inputs: HashMap<_, _> = r
        .matches
        .iter()
        .map(|m| (m.customer_id.clone(), m.inputs["score.net_spend"].clone()))
        .collect();
    assert_eq!(inputs[&customers[2].to_string()], "250");
    // A stored draft, first page only: the count still covers everyone.
    let rule = ok(c.create_rule(CreateRuleRequest {
        request_id: "r1".into(),
        author: "ana".into(),
        definition: Some(d),
    }))
    .await
    .rule
    .unwrap();
    let r = ok(c.dry_run_rule(DryRunRuleRequest {
        rule_id: rule.id.clone(),
        version: 1,
        page_size: 2,
        ..Default::default()
    }))
    .await;
    assert_eq!((r.matched, r.matches.len()), (3, 2));
    assert!(
        firings(&mut c, &rule.id).await.is_empty(),
        "a dry run fires nothing"
    );
    h.ts.stop().await;
}

async fn the_sandbox_refuses_at_save(backend: Backend) {
    let h = start(backend).await;
    let (_, mut c) = h.rules_tenant("acme").await;
    let list = |n: usize| {
        let items: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        format!("[{}]", items.join(","))
    };
    let blow_up = format!(
        "{l}.all(a, {l}.all(b, {l}.all(c, {l}.all(d, a + b + c + d >= 0))))",
        l = list(60)
    );
    let nested = format!("{}true{}", "(".repeat(100_000), ")".repeat(100_000));
    let deep_enough = format!("{}true{}", "(".repeat(1_000), ")".repeat(1_000));
    for (i, source) in [
        "system(\"ls\")",
        "tenant == \"acme\"",
        "other_tenant.score.net_spend > 0.0",
        "score.net_spend > 0.0 && exec(\"rm -rf /\") == \"\"",
        nested.as_str(),
        deep_enough.as_str(),
        blow_up.as_str(),
    ]
    .into_iter()
    .enumerate()
    {
        let e = c
            .create_rule(CreateRuleRequest {
                request_id: format!("r{i}"),
                author: "mallory".into(),
                definition: Some(definition(
                    &format!("evil {i}"),
                    RuleTrigger::ScoreChange,
                    source,
                )),
            })
            .await
            .expect_err(&source[..source.len().min(60)]);
        assert_eq!(bad_fields(&e), ["definition.condition"], "{i}");
        assert!(e.message().contains("line "), "{i}: {}", e.message());
    }
    h.ts.stop().await;
}

async fn costly_rules_are_stopped_and_recorded(backend: Backend) {
    let h = start(backend).await;
    let (tenant, mut c) = h.rules_tenant("acme").await;
    // Cheap to compile: the cost depends on the event's properties.
    let costly = "event.properties.all(a, event.properties.all(b, \
                  event.properties.all(c, a + b + c != \"\")))";
    let mut d = definition("costly", RuleTrigger::Event, costly);
    d.event_kinds = vec!["visit".into()];
    let costly = publish(&mut c, d).await;
    let mut d = definition("cheap", RuleTrigger::Event, "event.kind == \"visit\"");
    d.event_kinds = vec!["visit".into()];
    let cheap = publish(&mut c, d).await;
    let a = Uuid::new_v4();
    let properties: HashMap<String, String> =
        (0..80).map(|i| (format!("p{i}"), "x".repeat(20))).collect();
    let an_hour_ago = Utc::now() - Duration::hours(1);
    let visit = interaction_of("evt:1", a, "visit", an_hour_ago, properties);
    h.apply(tenant.id, vec![visit]).await.unwrap();
    round(&h).await;
    assert!(firings(&mut c, &costly.id).await.is_empty());
    assert_eq!(
        firings(&mut c, &cheap.id).await.len(),
        1,
        "the others still run"
    );
    let stats = ok(c.get_rule_stats(GetRuleStatsRequest {
        rule_id: costly.id.clone(),
        window_days: 1,
    }))
    .await;
    assert_eq!(stats.evaluation_errors, 1);
    assert!(stats.last_error.contains("budget"), "{}", stats.last_error);
    h.ts.stop().await;
}

/// Stops `database` taking connections and ends the ones it has (as a
/// failover or an outage would), or lets it take them again.
async fn database_reachable(url: &str, reachable: bool) {
    use sqlx::Connection;
    let name = url.rsplit('/').next().expect("database name");
    let mut admin = sqlx::PgConnection::connect(&rapport_kit::testing::admin_url())
        .await
        .expect("admin connection");
    sqlx::query(&format!(
        "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS {reachable}"
    ))
    .execute(&mut admin)
    .await
    .expect("alter database");
    if !reachable {
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(name)
        .execute(&mut admin)
        .await
        .expect("terminate backends");
    }
}

/// A cache hit runs no SQL: with the database unreachable, a cached score
/// (and the tag a rule set on it) is still served, from the cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_scores_and_their_marks_need_no_database() {
    use rapport_proto::v1::{BatchGetScoresRequest, ScoreSource};
    let config = rapport_kit::testing::config(Backend::Postgres).await;
    let url = config.database_url.as_ref().unwrap().expose().to_owned();
    let h = support::start_all(config, None, None).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut c = h.rules(&key);
    publish(
        &mut c,
        definition("big", RuleTrigger::ScoreChange, "score.net_spend > 100.0"),
    )
    .await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let at = Utc::now() - Duration::days(3);
    let changes = vec![
        purchase("txn:1", a, at, 15_000),
        purchase("txn:2", b, at, 500),
    ];
    h.apply(tenant.id, changes).await.unwrap();
    round(&h).await;
    let mut api = h.api(&key);
    let (s, _) = support::get(&mut api, a).await.unwrap();
    assert_eq!(s.tags, ["matched"]);
    support::get(&mut api, b).await.unwrap();

    database_reachable(&url, false).await;
    let (s, source) = support::get(&mut api, a).await.unwrap();
    assert_eq!(source, ScoreSource::Cache as i32);
    assert_eq!(s.tags, ["matched"], "the tag comes with the cached score");
    assert_eq!(s.purchase_count, 1);
    let batch = ok(api.batch_get_scores(BatchGetScoresRequest {
        customer_ids: vec![b.to_string(), a.to_string()],
    }))
    .await;
    let tags: Vec<&[String]> = batch.scores.iter().map(|s| s.tags.as_slice()).collect();
    assert_eq!(tags, [&[][..], &["matched".to_owned()][..]]);
    database_reachable(&url, true).await;
    h.ts.stop().await;
}
