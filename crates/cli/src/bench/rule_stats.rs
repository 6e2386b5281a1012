//! GetRuleStats of a rule that fired for every loaded customer: the call
//! reads at most `scoring.dry_run_limit` of the customers a rule fired for
//! (a uniform sample, counts scaled to the whole), so its time should stay
//! flat as the population grows. Baselines: the exact counts of the same
//! firings in one SQL aggregate on the store, and GetScore.
//!
//! The firings are written straight into the store, one per customer, as
//! evaluation records them (a draft rule that is never evaluated, so no
//! later scenario does rules work for it): making a rule fire for the
//! whole population through the rules pass would measure the pass, not the
//! read.

use std::time::Instant;

use anyhow::Context;
use rapport_kit::{Db, db::Id, on_pool, sql_for};
use rapport_proto::v1::{
    CreateRuleRequest, GetRuleStatsRequest, GetRuleStatsResponse, GetScoreRequest, RuleAction,
    RuleDefinition, RuleTrigger, TagAction, rule_action,
};

use super::{
    load::{self, Latency},
    report::{Report, Target as Goal},
    run::Run,
};

/// Calls of each kind, one at a time.
const CALLS: usize = 50;

/// Days back the firings are spread over (inside GetRuleStats' default 30).
const SPREAD_DAYS: i64 = 20;

/// One firing per scored customer of `tenant` for `rule`, fired over the
/// last [`SPREAD_DAYS`] days: a tenth in the control group, half with an
/// accepted notification. Returns the firings written.
async fn write_firings(db: &Db, tenant: uuid::Uuid, rule: &str) -> anyhow::Result<u64> {
    let now = rapport_kit::domain::to_micros(chrono::Utc::now());
    let spread = SPREAD_DAYS * 86_400 * 1_000_000;
    let sql = sql_for!(
        db,
        postgres = "INSERT INTO rule_firings (tenant_id, firing_id, rule_id, version, customer_id, \
                    trigger_kind, event_kind, episode, fired_at, inputs, holdout, results) \
                    SELECT tenant_id, gen_random_uuid()::text, $2, 1, customer_id, 'SCORE', '', \
                    'bench', $3 - (random() * $4)::bigint, '{}', random() < 0.1, \
                    CASE WHEN random() < 0.5 THEN '[\"notification bench\"]' ELSE '[]' END \
                    FROM customer_scores WHERE tenant_id = $1",
        sqlite = "INSERT INTO rule_firings (tenant_id, firing_id, rule_id, version, customer_id, \
                  trigger_kind, event_kind, episode, fired_at, inputs, holdout, results) \
                  SELECT tenant_id, lower(hex(randomblob(16))), $2, 1, customer_id, 'SCORE', '', \
                  'bench', $3 - abs(random() % $4), '{}', abs(random() % 10) = 0, \
                  CASE WHEN abs(random() % 2) = 0 THEN '[\"notification bench\"]' ELSE '[]' END \
                  FROM customer_scores WHERE tenant_id = $1",
    );
    Ok(on_pool!(db, pool => {
        sqlx::query(sql)
            .bind(Id(tenant)).bind(rule).bind(now).bind(spread)
            .execute(pool).await?.rows_affected()
    }))
}

/// The exact (firings, customers) of `rule`, in one aggregate on the store.
async fn counted(db: &Db, tenant: uuid::Uuid, rule: &str) -> anyhow::Result<(i64, i64)> {
    let sql = "SELECT COUNT(*), COUNT(DISTINCT customer_id) FROM rule_firings \
               WHERE tenant_id = $1 AND rule_id = $2";
    Ok(on_pool!(db, pool => {
        sqlx::query_as(sql).bind(Id(tenant)).bind(rule).fetch_one(pool).await?
    }))
}

pub async fn rule_stats(run: &Run<'_>, report: &mut Report) -> anyhow::Result<()> {
    let clients = run.target.clients()?;
    let mut rules = clients.rules.clone();
    let definition = RuleDefinition {
        name: "bench-everyone".into(),
        description: "fired for every customer by the benchmark".into(),
        condition: "true".into(),
        trigger: RuleTrigger::ScoreChange as i32,
        actions: vec![RuleAction {
            action: Some(rule_action::Action::Tag(TagAction {
                tag: "bench".into(),
            })),
        }],
        ..Default::default()
    };
    let rule = rules
        .create_rule(CreateRuleRequest {
            request_id: "bench-rule-stats".into(),
            author: "bench".into(),
            definition: Some(definition),
        })
        .await
        .context("CreateRule")?
        .into_inner()
        .rule
        .context("CreateRule answered no rule")?
        .id;
    let db = run.target.db(rapport_scoring::SCHEMA)?;
    let result = measure(run, report, &db, &rule).await;
    db.close().await;
    result
}

async fn measure(run: &Run<'_>, report: &mut Report, db: &Db, rule: &str) -> anyhow::Result<()> {
    let tenant = run.target.tenant_id;
    let written = write_firings(db, tenant, rule).await?;
    let clients = run.target.clients()?;
    let stats = || {
        let mut c = clients.rules.clone();
        let rule_id = rule.to_owned();
        async move {
            c.get_rule_stats(GetRuleStatsRequest {
                rule_id,
                window_days: 30,
            })
            .await
            .context("GetRuleStats")
            .map(tonic::Response::into_inner)
        }
    };
    let first: GetRuleStatsResponse = stats().await?;
    let mut rule_stats = load::histogram();
    let mut exact = load::histogram();
    let mut score = load::histogram();
    let mut truth = (0, 0);
    let mut ids = run.ids.iter().cycle();
    for _ in 0..CALLS {
        let t = Instant::now();
        stats().await?;
        rule_stats.record(load::micros_since(t)).ok();
        let t = Instant::now();
        truth = counted(db, tenant, rule).await?;
        exact.record(load::micros_since(t)).ok();
        let mut c = clients.scoring.clone();
        let customer_id = ids.next().cloned().unwrap_or_default();
        let t = Instant::now();
        c.get_score(GetScoreRequest { customer_id })
            .await
            .context("GetScore")?;
        score.record(load::micros_since(t)).ok();
    }
    let (rule_stats, exact, score) = (
        Latency::of(&rule_stats),
        Latency::of(&exact),
        Latency::of(&score),
    );
    let condition = format!(
        "{written} firings, {} customers read{}",
        first.customers_read,
        if first.sampled { " (sampled)" } else { "" }
    );
    report.ratio(
        "GetRuleStats: against an exact SQL count, p50",
        condition.clone(),
        rule_stats.p50_us as f64 / 1000.0,
        "COUNT(DISTINCT) of the firings, direct",
        exact.p50_us as f64 / 1000.0,
        "ms",
        Goal::None,
    );
    report.latency_ratios("GetRuleStats", &condition, &rule_stats, "GetScore", &score);
    report.ratio(
        "GetRuleStats: customers matched against the exact count",
        condition.clone(),
        first.customers_matched as f64,
        "COUNT(DISTINCT customer_id)",
        truth.1 as f64,
        "customers",
        Goal::None,
    );
    report.add_json(
        "rule_stats",
        serde_json::json!({
            "firings_written": written,
            "sampled": first.sampled,
            "customers_read": first.customers_read,
            "estimated_customers": first.customers_matched,
            "estimated_firings": first.firings,
            "exact_firings": truth.0,
            "exact_customers": truth.1,
            "get_rule_stats": rule_stats,
            "exact_count": exact,
            "get_score": score,
        }),
    );
    Ok(())
}
