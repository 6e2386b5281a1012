//! A large tenant's periodic pass split into ranges of customer ids on both
//! stores: two workers share it, every customer fires once for the pass, the
//! tenant is rescheduled when the last range is done (and not before) and
//! the ranges are then gone; a range whose worker died is taken again when
//! its lease ends; a tenant under the limit runs as one pass.

mod support;

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration as StdDuration,
};

use chrono::{Duration, Utc};
use rapport_kit::{Db, db::Id, on_pool, testing::Backend};
use rapport_proto::v1::RuleTrigger;
use rapport_scoring::RulesOptions;
use support::{
    Harness, purchase,
    rules::{definition, options, publish, round_with, start},
};
use tokio::task::JoinHandle;
use uuid::Uuid;

rapport_kit::backend_tests! {
    a_large_tenants_pass_is_shared_by_two_workers_range_by_range,
    a_range_left_by_a_dead_worker_is_taken_again_when_its_lease_ends,
    a_tenant_under_the_limit_runs_as_one_pass,
}

/// Customers per range in these tests.
const RANGE: u64 = 500;

/// The large tenant: about six ranges.
const CUSTOMERS: usize = 3_000;

/// The rounds' options with ranges of [`RANGE`] customers.
fn ranged() -> RulesOptions {
    RulesOptions {
        range_customers: RANGE,
        ..options()
    }
}

/// `n` customers of `tenant` with ids as Profiles makes them (UUIDv5 of the
/// tenant and an identity), each with one purchase; their ids.
async fn load(h: &Harness, tenant: Uuid, n: usize) -> Vec<Uuid> {
    let at = Utc::now() - Duration::days(2);
    let customers: Vec<Uuid> = (0..n)
        .map(|i| {
            let identity = format!("identity:email\0c{i}@example.com");
            Uuid::new_v5(&tenant, identity.as_bytes())
        })
        .collect();
    for chunk in customers.chunks(500) {
        let changes = chunk
            .iter()
            .map(|id| purchase(&format!("first:{id}"), *id, at, 5_000))
            .collect();
        let r = h.apply(tenant, changes).await.expect("apply");
        assert_eq!(r.applied as usize, chunk.len());
    }
    customers
}

/// A tenant of `n` customers with a published schedule rule matching all of
/// them (a tag action): the tenant, the rule's id and the pass's due time.
async fn tenant_with_rule(h: &Harness, name: &str, n: usize) -> (Uuid, Vec<Uuid>, String, i64) {
    let (tenant, mut rules) = h.rules_tenant(name).await;
    let customers = load(h, tenant.id, n).await;
    let rule = publish(&mut rules, definition("all", RuleTrigger::Schedule, "true")).await;
    let (due, _) = schedule(&h.db(), tenant.id).await;
    (tenant.id, customers, rule.id, due)
}

impl Harness {
    /// The scoring store.
    fn db(&self) -> Db {
        self.ts.app.db(rapport_scoring::SCHEMA).unwrap()
    }
}

/// The tenant's schedule row: when its pass is due and its lease.
async fn schedule(db: &Db, tenant: Uuid) -> (i64, Option<i64>) {
    on_pool!(db, pool => {
        sqlx::query_as("SELECT due_at, leased_until FROM rules_schedule WHERE tenant_id = $1")
            .bind(Id(tenant))
            .fetch_one(pool)
            .await
            .unwrap()
    })
}

/// The tenant's range rows: (range_no, leased_until, done), in order.
async fn ranges(db: &Db, tenant: Uuid) -> Vec<(i64, Option<i64>, bool)> {
    on_pool!(db, pool => {
        sqlx::query_as(
            "SELECT range_no, leased_until, done FROM rules_pass_ranges \
             WHERE tenant_id = $1 ORDER BY range_no",
        )
        .bind(Id(tenant))
        .fetch_all(pool)
        .await
        .unwrap()
    })
}

/// The rule's firings per customer, and the episodes they belong to.
async fn fired(db: &Db, tenant: Uuid, rule: &str) -> (BTreeMap<Uuid, i64>, Vec<String>) {
    let (per, episodes): (Vec<(Id, i64)>, Vec<String>) = on_pool!(db, pool => {
        let per = sqlx::query_as(
            "SELECT customer_id, count(*) FROM rule_firings \
             WHERE tenant_id = $1 AND rule_id = $2 GROUP BY customer_id",
        )
        .bind(Id(tenant))
        .bind(rule)
        .fetch_all(pool)
        .await
        .unwrap();
        let episodes = sqlx::query_scalar(
            "SELECT DISTINCT episode FROM rule_firings WHERE tenant_id = $1 AND rule_id = $2",
        )
        .bind(Id(tenant))
        .bind(rule)
        .fetch_all(pool)
        .await
        .unwrap();
        (per, episodes)
    });
    (per.into_iter().map(|(c, n)| (c.0, n)).collect(), episodes)
}

/// Asserts every one of `customers` fired exactly once, for pass `due`.
async fn fired_once(db: &Db, tenant: Uuid, rule: &str, customers: &[Uuid], due: i64) {
    let (per, episodes) = fired(db, tenant, rule).await;
    let twice: Vec<_> = per.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "fired more than once: {twice:?}");
    let missed = customers.iter().filter(|c| !per.contains_key(c)).count();
    assert_eq!(missed, 0, "customers not fired");
    assert_eq!(per.len(), customers.len());
    assert_eq!(episodes, [format!("s:{due}")], "one episode: the pass's");
}

/// A replica's rules worker: rounds every 20 ms until pass `due` of
/// `tenant` is over (its schedule moved on); the rounds it ran.
async fn worker(scoring: rapport_scoring::Scoring, db: Db, tenant: Uuid, due: i64) -> usize {
    let started = std::time::Instant::now();
    let mut rounds = 0;
    while schedule(&db, tenant).await.0 == due {
        assert!(
            started.elapsed() < StdDuration::from_secs(300),
            "the pass never ended"
        );
        scoring.run_rules_once(ranged()).await.expect("rules round");
        rounds += 1;
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    rounds
}

/// What a [`Watch`] saw.
#[derive(Debug, Default)]
struct Seen {
    /// The most range rows of the tenant at once.
    most_ranges: usize,
    /// The most ranges leased and not done at once.
    most_leased: usize,
    /// Times the tenant had been rescheduled while range rows remained.
    early: usize,
    /// Looks taken.
    looks: usize,
}

/// Looks at a tenant's schedule row and range rows every few milliseconds
/// while workers run, each look one statement (one snapshot).
struct Watch {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Seen>,
}

impl Watch {
    fn start(db: Db, tenant: Uuid, due: i64) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let mut seen = Seen::default();
            while !stopped.load(Ordering::Relaxed) {
                let (at, rows, leased): (i64, i64, i64) = on_pool!(&db, pool => {
                    sqlx::query_as(
                        "SELECT (SELECT due_at FROM rules_schedule WHERE tenant_id = $1), \
                         (SELECT count(*) FROM rules_pass_ranges WHERE tenant_id = $1), \
                         (SELECT count(*) FROM rules_pass_ranges WHERE tenant_id = $1 \
                          AND leased_until IS NOT NULL AND NOT done)",
                    )
                    .bind(Id(tenant))
                    .fetch_one(pool)
                    .await
                    .unwrap()
                });
                seen.looks += 1;
                seen.most_ranges = seen.most_ranges.max(rows as usize);
                seen.most_leased = seen.most_leased.max(leased as usize);
                if at != due && rows > 0 {
                    seen.early += 1;
                }
                tokio::time::sleep(StdDuration::from_millis(5)).await;
            }
            seen
        });
        Watch { stop, task }
    }

    async fn stop(self) -> Seen {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap()
    }
}

/// Asserts the pass `due` is over: the tenant rescheduled an interval on
/// and released, its range rows gone.
async fn rescheduled(db: &Db, tenant: Uuid, due: i64) {
    let (next, lease) = schedule(db, tenant).await;
    assert!(
        next > due + 3_000_000_000,
        "next pass an hour on: {next} after {due}"
    );
    assert_eq!(lease, None, "released");
    assert_eq!(
        ranges(db, tenant).await,
        [],
        "the pass's ranges are deleted"
    );
}

async fn a_large_tenants_pass_is_shared_by_two_workers_range_by_range(backend: Backend) {
    let h = start(backend).await;
    let db = h.db();
    let (tenant, customers, rule, due) = tenant_with_rule(&h, "acme", CUSTOMERS).await;

    let watch = Watch::start(db.clone(), tenant, due);
    let a = tokio::spawn(worker(h.scoring.clone(), db.clone(), tenant, due));
    let b = tokio::spawn(worker(h.scoring.clone(), db.clone(), tenant, due));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let seen = watch.stop().await;
    assert!(
        seen.most_leased >= 2,
        "both workers ran ranges at once ({a} and {b} rounds): {seen:?}"
    );

    // 3,000 customers estimated from the first 1,000: within 13% (five
    // standard deviations of the estimate, sqrt((1 - 1/3) / 1000) = 2.6%),
    // so 6 or 7 ranges of 500.
    assert!(
        (6..=7).contains(&seen.most_ranges),
        "ranges of the pass: {seen:?}"
    );
    assert_eq!(seen.early, 0, "rescheduled while ranges remained: {seen:?}");
    fired_once(&db, tenant, &rule, &customers, due).await;
    rescheduled(&db, tenant, due).await;

    // Not due again: another round evaluates nobody and splits nothing.
    round_with(&h, ranged()).await;
    assert_eq!(ranges(&db, tenant).await, []);
    fired_once(&db, tenant, &rule, &customers, due).await;
    h.ts.stop().await;
}

async fn a_range_left_by_a_dead_worker_is_taken_again_when_its_lease_ends(backend: Backend) {
    let h = start(backend).await;
    let db = h.db();
    let (tenant, customers, rule, due) = tenant_with_rule(&h, "acme", CUSTOMERS).await;

    // A worker with a short lease dies in its first range, having fired
    // for some of its customers.
    let short = RulesOptions {
        lease: StdDuration::from_secs(2),
        ..ranged()
    };
    let scoring = h.scoring.clone();
    let worker = tokio::spawn(async move { scoring.run_rules_once(short).await });
    let started = std::time::Instant::now();
    while fired(&db, tenant, &rule).await.0.is_empty() {
        assert!(
            started.elapsed() < StdDuration::from_secs(120),
            "nothing fired"
        );
        tokio::time::sleep(StdDuration::from_millis(2)).await;
    }
    worker.abort();
    assert!(worker.await.unwrap_err().is_cancelled());

    let left = ranges(&db, tenant).await;
    let leased: Vec<_> = left
        .iter()
        .filter(|(_, lease, _)| lease.is_some())
        .collect();
    assert!((6..=7).contains(&left.len()), "{left:?}");
    assert_eq!(leased.len(), 1, "one range taken: {left:?}");
    assert!(left.iter().all(|(_, _, done)| !done), "{left:?}");
    let (first, _) = fired(&db, tenant, &rule).await;
    assert!(first.len() < customers.len() / 2, "{} fired", first.len());
    assert_eq!(schedule(&db, tenant).await.0, due, "not rescheduled");

    // Its lease ends; the next round takes the range again with the rest.
    let (_, Some(until), _) = *leased[0] else {
        unreachable!()
    };
    let now = rapport_kit::domain::to_micros(Utc::now());
    let wait = (until - now).max(0) as u64 + 100_000;
    tokio::time::sleep(StdDuration::from_micros(wait)).await;
    let watch = Watch::start(db.clone(), tenant, due);
    round_with(&h, ranged()).await;
    let seen = watch.stop().await;
    assert_eq!(seen.early, 0, "rescheduled while ranges remained: {seen:?}");
    fired_once(&db, tenant, &rule, &customers, due).await;
    rescheduled(&db, tenant, due).await;
    h.ts.stop().await;
}

async fn a_tenant_under_the_limit_runs_as_one_pass(backend: Backend) {
    let h = start(backend).await;
    let db = h.db();
    let (tenant, customers, rule, due) = tenant_with_rule(&h, "acme", 400).await;
    let watch = Watch::start(db.clone(), tenant, due);
    round_with(&h, ranged()).await;
    let seen = watch.stop().await;
    assert_eq!(seen.most_ranges, 0, "split: {seen:?}");
    assert!(seen.looks > 0);
    fired_once(&db, tenant, &rule, &customers, due).await;
    rescheduled(&db, tenant, due).await;
    h.ts.stop().await;
}
