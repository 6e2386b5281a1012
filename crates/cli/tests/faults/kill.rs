//! kill -9 of each service in turn during an import, with a rule sending a
//! webhook for every large purchase: nothing lost or stored twice, every
//! score equal to an undisturbed run's and to the totals computed from the
//! file, every message delivered once per dedupe key.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use rapport::{
    client::Clients,
    import::{ImportOptions, import_customers, import_transactions},
    rules::file,
};
use rapport_kit::testing::{Receiver, fresh_postgres, ok, redis_url};
use rapport_proto::v1::{CreateRuleRequest, PublishRuleRequest};

use crate::{
    data::Data,
    stored::{differing, settle, unlike},
    support::{Stack, figure, notification_statuses, size, webhook_secret},
};

/// Purchases above this many minor units fire the rule.
pub const LARGE: i64 = 95_000;

/// Registers `url` as the tenant's integration endpoint "receiver" and
/// publishes a rule posting every large purchase to it.
pub async fn publish_rule(c: &mut Clients, url: &str) {
    ok(c.notifications.put_integration_endpoint(
        rapport_proto::v1::PutIntegrationEndpointRequest {
            endpoint: Some(rapport_proto::v1::IntegrationEndpoint {
                name: "receiver".into(),
                url: url.into(),
                ..Default::default()
            }),
            signing_secret: "fault-tests-0123456789abcdef0123456789".into(),
        },
    ))
    .await;
    let text = "name = \"large-purchase\"\ncondition = \"event.amount > 950.0\"\n\
         trigger = \"event\"\nevent_kinds = [\"purchase\"]\n\
         [[actions]]\nwebhook = \"receiver\"\n";
    let definition = file::parse(text).expect("rule file");
    let rule = ok(c.rules.create_rule(CreateRuleRequest {
        request_id: "large-purchase".into(),
        author: "ops@example.com".into(),
        definition: Some(definition),
    }))
    .await
    .rule
    .expect("rule");
    ok(c.rules.publish_rule(PublishRuleRequest {
        rule_id: rule.id,
        version: 1,
    }))
    .await;
}

/// Messages the receiver accepted at `path`: (distinct dedupe keys, the
/// most accepted for one dedupe key, requests repeating an idempotency key
/// already answered).
pub fn deliveries(hook: &Receiver, path: &str) -> (usize, usize, usize) {
    let mut per_key: HashMap<String, usize> = HashMap::new();
    for m in hook.accepted().iter().filter(|m| m.path == path) {
        let key = m.json()["dedupe_key"].as_str().unwrap_or("").to_owned();
        *per_key.entry(key).or_insert(0) += 1;
    }
    let calls = hook.calls().iter().filter(|m| m.path == path).count();
    let accepted: usize = per_key.values().sum();
    let most = per_key.values().copied().max().unwrap_or(0);
    (per_key.len(), most, calls.saturating_sub(accepted))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_of_each_service_during_an_import_loses_and_repeats_nothing() {
    let data = Data::new(size(1_500, 100_000));
    let (customers_csv, transactions_csv) = data.write();
    let expected = data.expected();
    let large = data.purchases_over(LARGE);
    let hook = Receiver::start().await;
    let db = fresh_postgres().await;
    let mut stack = Stack::start(&db, &redis_url(), &[]).await;
    // Small batches, so the kill falls between many of them.
    let opts = ImportOptions {
        batch_size: 25,
        ..ImportOptions::default()
    };

    let names = ["calm", "ingestion", "scoring", "notifications", "profiles"];
    let mut tenants = Vec::new();
    for name in names {
        let mut c = stack.clients(&stack.tenant(name));
        import_customers(&mut c, &customers_csv, &opts)
            .await
            .expect("customers");
        webhook_secret(&mut c).await;
        publish_rule(&mut c, &hook.url(&format!("/hook/{name}"))).await;
        tenants.push(c);
    }

    let started = Instant::now();
    let calm = import_transactions(&mut tenants[0], &transactions_csv, &opts).await;
    let calm_took = started.elapsed();
    assert_eq!(
        calm.expect("undisturbed import").stored,
        data.rows.len() as u64
    );

    for (i, service) in names.iter().enumerate().skip(1) {
        let started = Instant::now();
        let done = AtomicBool::new(false);
        let import = async {
            let summary = import_transactions(&mut tenants[i], &transactions_csv, &opts).await;
            done.store(true, Ordering::SeqCst);
            summary
        };
        let crash = async {
            tokio::time::sleep(calm_took / 4).await;
            let mid_import = !done.load(Ordering::SeqCst);
            assert!(mid_import, "the import still runs when {service} is killed");
            stack.kill9(service).await;
            let killed = Instant::now();
            tokio::time::sleep(Duration::from_secs(1)).await;
            stack.restart(service).await;
            killed.elapsed()
        };
        let (summary, down) = tokio::join!(import, crash);
        let summary =
            summary.unwrap_or_else(|e| panic!("import through the kill of {service}: {e:#}"));
        assert_eq!(
            summary.stored + summary.unchanged,
            data.rows.len() as u64,
            "every row stored once or found already stored: {summary:?}"
        );
        assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
        figure(
            &format!("kill9 {service}"),
            format!(
                "{} rows, down {:.1} s, import {:.1} s (undisturbed {:.1} s)",
                data.rows.len(),
                down.as_secs_f64(),
                started.elapsed().as_secs_f64(),
                calm_took.as_secs_f64()
            ),
        );
    }

    let within = Duration::from_secs(size(240, 10_800));
    let calm = settle(&mut tenants[0], &data, within).await;
    let calm_differing = differing(&calm.scores, &expected);
    assert_eq!(calm_differing, Vec::<String>::new(), "undisturbed run");
    for (i, service) in names.iter().enumerate() {
        let got = settle(&mut tenants[i], &data, within).await;
        let unlike_calm = unlike(&calm.scores, &got.scores);
        // Messages keep going out after the scores settle.
        let path = format!("/hook/{service}");
        let deadline = tokio::time::Instant::now() + within;
        let statuses = loop {
            let statuses = notification_statuses(&mut tenants[i]).await;
            let dead = statuses.get("NOTIFICATION_STATUS_DEAD_LETTER").copied();
            let (delivered, _, _) = deliveries(&hook, &path);
            if delivered + dead.unwrap_or(0) >= large || tokio::time::Instant::now() > deadline {
                break statuses;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        let dead = statuses
            .get("NOTIFICATION_STATUS_DEAD_LETTER")
            .copied()
            .unwrap_or(0);
        let (delivered, most, resent) = deliveries(&hook, &path);
        figure(
            &format!("kill9 {service} result"),
            format!(
                "{} stored of {} rows, {} lost, {} duplicated; {} of {} customers' scores \
                 differ from the file's totals, {} from the undisturbed run; {} messages \
                 expected, {delivered} delivered, {dead} dead-lettered, at most {most} per \
                 dedupe key, {resent} repeated requests with an idempotency key already answered",
                got.transactions,
                data.rows.len(),
                got.lost,
                got.duplicated,
                differing(&got.scores, &expected).len(),
                expected.len(),
                unlike_calm,
                large,
            ),
        );
        assert_eq!((got.lost, got.duplicated), (0, 0), "{service}");
        assert_eq!(got.transactions, data.rows.len(), "{service}");
        assert_eq!(
            differing(&got.scores, &expected),
            Vec::<String>::new(),
            "{service}"
        );
        assert_eq!(
            unlike_calm, 0,
            "{service}: scores unlike the undisturbed run"
        );
        assert!(most <= 1, "{service}: a dedupe key delivered {most} times");
        assert_eq!(delivered + dead, large, "{service}: {statuses:?}");
    }
    stack.stop().await;
}
