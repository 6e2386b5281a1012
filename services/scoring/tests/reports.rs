//! ReportsService on both stores: a run queued, run by the worker and read
//! back, each figure checked against a hand computation on a small tenant;
//! starts idempotent and one run at a time; bad input named field by field;
//! tenants kept apart; the merge of scores and profiles over several pages
//! of each; the schedule.

mod support;

use std::collections::HashMap;

use rapport_kit::{
    internal::BearerAuth,
    testing::{Backend, bad_fields, ok},
};
use rapport_proto::v1::{
    BreakdownRow, CustomerKind, CustomerRecord, DryRunRuleRequest, ExternalIdentity,
    GetReportRequest, ListReportsRequest, RankingSpec, Report, ReportDimension, ReportFilter,
    ReportMeasure, ReportRunState, RuleTrigger, StartReportRequest, UpsertCustomersRequest,
    profiles_service_client::ProfilesServiceClient, reports_service_client::ReportsServiceClient,
};
use support::{Harness, day, fit_models, purchase, start};
use tonic::{Code, service::interceptor::InterceptedService, transport::Channel};
use uuid::Uuid;

rapport_kit::backend_tests! {
    a_report_matches_a_hand_computation,
    starts_are_idempotent_and_one_at_a_time,
    bad_requests_name_their_fields,
    the_merge_covers_every_customer_over_many_pages,
    the_schedule_queues_a_run_per_refreshed_tenant,
    a_customer_erased_while_a_run_is_in_flight_is_replaced_in_its_report,
}

type Client = ReportsServiceClient<InterceptedService<Channel, BearerAuth>>;

fn reports(h: &Harness, key: &str) -> Client {
    ReportsServiceClient::with_interceptor(h.ts.channel(), BearerAuth::new(key).unwrap())
}

fn record(id: &str, name: &str, kind: CustomerKind, attributes: &[(&str, &str)]) -> CustomerRecord {
    CustomerRecord {
        identity: Some(ExternalIdentity {
            source: "erp".into(),
            external_id: id.into(),
        }),
        display_name: name.into(),
        kind: kind as i32,
        attributes: attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

/// Upserts `customers`; their ids in order.
async fn upsert(h: &Harness, key: &str, customers: Vec<CustomerRecord>) -> Vec<Uuid> {
    let mut client =
        ProfilesServiceClient::with_interceptor(h.ts.channel(), BearerAuth::new(key).unwrap());
    let r = ok(client.upsert_customers(UpsertCustomersRequest { customers })).await;
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    r.customer_ids
        .iter()
        .map(|id| id.parse().unwrap())
        .collect()
}

/// Starts a run, runs it and reads the latest report.
async fn report(h: &Harness, client: &mut Client, request: StartReportRequest) -> Report {
    let started = ok(client.start_report(request)).await;
    assert!(started.started);
    assert_eq!(h.scoring.run_reports_once().await.unwrap(), 1);
    let got = ok(client.get_report(GetReportRequest::default())).await;
    let run = got.run.unwrap();
    assert_eq!(run.run_id, started.run.unwrap().run_id);
    assert_eq!(run.state, ReportRunState::Succeeded as i32, "{}", run.error);
    got.report.expect("a succeeded run has its report")
}

fn rows(r: &Report, d: ReportDimension) -> Vec<(String, u64, u64, i64)> {
    let b = r
        .breakdowns
        .iter()
        .find(|b| b.dimension == d as i32)
        .unwrap();
    b.rows.iter().map(summary).collect()
}

fn summary(r: &BreakdownRow) -> (String, u64, u64, i64) {
    let net = r.net_spend.as_ref().unwrap().minor_units;
    (r.value.clone(), r.customers, r.purchasers, net)
}

fn row(value: &str, customers: u64, purchasers: u64, net: i64) -> (String, u64, u64, i64) {
    (value.to_owned(), customers, purchasers, net)
}

async fn a_report_matches_a_hand_computation(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = reports(&h, &key);
    let person = CustomerKind::Person;
    let ids = upsert(
        &h,
        &key,
        vec![
            record(
                "A",
                "Anna",
                person,
                &[
                    ("region", "north"),
                    ("birth_date", "1990-05-01"),
                    ("gender", "F"),
                ],
            ),
            record(
                "B",
                "Bolt GmbH",
                CustomerKind::Business,
                &[("region", "south"), ("industry", "machinery")],
            ),
            record("D", "Dora", person, &[("region", "south")]),
        ],
    )
    .await;
    let (a, b, d) = (ids[0], ids[1], ids[2]);
    let mut carl = record("C", "Carl", person, &[("region", "north"), ("gender", "m")]);
    carl.parent_external_id = "B".into();
    let c = upsert(&h, &key, vec![carl]).await[0];
    // E has a score and no profile.
    let e = Uuid::new_v4();
    let changes = vec![
        purchase("a1", a, day(2025, 1, 10), 10_000),
        purchase("b1", b, day(2025, 1, 20), 50_000),
        purchase("b2", b, day(2025, 3, 5), 25_000),
        purchase("c1", c, day(2025, 2, 15), 5_000),
        purchase("e1", e, day(2025, 2, 1), 7_000),
    ];
    h.apply(tenant.id, changes).await.expect("apply");

    let ranking = RankingSpec {
        measure: ReportMeasure::NetSpend as i32,
        limit: 1,
        filters: vec![ReportFilter {
            dimension: ReportDimension::Region as i32,
            value: "north".into(),
        }],
    };
    let request = StartReportRequest {
        request_id: "first".into(),
        rankings: vec![ranking.clone()],
    };
    let r = report(&h, &mut client, request).await;

    let total = r.total.as_ref().unwrap();
    assert_eq!(summary(total), row("all", 5, 4, 97_000));
    assert_eq!(r.currency_code, "EUR");
    use ReportDimension as D;
    assert_eq!(
        rows(&r, D::Region),
        [
            row("south", 2, 1, 75_000),
            row("north", 2, 2, 15_000),
            row("unknown", 1, 1, 7_000)
        ]
    );
    assert_eq!(
        rows(&r, D::Industry),
        [row("machinery", 1, 1, 75_000), row("unknown", 4, 3, 22_000)]
    );
    assert_eq!(
        rows(&r, D::Gender),
        [
            row("unknown", 3, 2, 82_000),
            row("f", 1, 1, 10_000),
            row("m", 1, 1, 5_000)
        ]
    );
    assert_eq!(
        rows(&r, D::Kind),
        [
            row("business", 1, 1, 75_000),
            row("person", 3, 2, 15_000),
            row("unknown", 1, 1, 7_000)
        ]
    );
    // Anna is 36 on any day of 2026-05-01..2027-04-30.
    assert_eq!(
        rows(&r, D::AgeBand),
        [row("unknown", 4, 3, 87_000), row("35-44", 1, 1, 10_000)]
    );
    assert_eq!(
        rows(&r, D::ParentAccount),
        [row("none", 4, 3, 92_000), row(&b.to_string(), 1, 1, 5_000)]
    );
    assert_eq!(
        rows(&r, D::Cohort),
        [
            row("2025-01", 2, 2, 85_000),
            row("2025-02", 2, 2, 12_000),
            row("none", 1, 0, 0)
        ]
    );
    assert_eq!(
        rows(&r, D::Lifecycle),
        [row("lapsed", 4, 4, 97_000), row("none", 1, 0, 0)]
    );
    // Without a population there is no tier or RFM segment yet.
    assert_eq!(rows(&r, D::Tier), [row("none", 5, 4, 97_000)]);
    assert!(r.rfm_grid.is_empty());
    assert!(r.lifetime_value_histogram.is_empty());
    assert_eq!(r.model_version, 0);

    let months: Vec<(&str, i64, u64, u64, u64)> = r
        .months
        .iter()
        .map(|m| {
            let net = m.net_spend.as_ref().unwrap().minor_units;
            (
                m.month.as_str(),
                net,
                m.buying_customers,
                m.new_customers,
                m.returning_customers,
            )
        })
        .collect();
    assert_eq!(
        months,
        [
            ("2025-01", 60_000, 2, 2, 0),
            ("2025-02", 12_000, 2, 2, 0),
            ("2025-03", 25_000, 1, 0, 1),
        ]
    );
    assert_eq!(
        r.months[2]
            .returning_customer_spend
            .as_ref()
            .unwrap()
            .minor_units,
        25_000
    );
    let cohorts: Vec<(&str, u64, Vec<u64>)> = r
        .cohorts
        .iter()
        .map(|c| (c.cohort.as_str(), c.customers, c.active[..3].to_vec()))
        .collect();
    // Of January's two, Bolt bought again two months later.
    assert_eq!(
        cohorts,
        [("2025-01", 2, vec![2, 0, 1]), ("2025-02", 2, vec![2, 0, 0])]
    );

    // Eight default rankings (top 20 by each measure), then the one asked for.
    assert_eq!(r.rankings.len(), 9);
    let by_net: Vec<(&str, f64)> = r.rankings[0]
        .customers
        .iter()
        .map(|c| (c.display_name.as_str(), c.value))
        .collect();
    assert_eq!(
        by_net,
        [
            ("Bolt GmbH", 750.0),
            ("Anna", 100.0),
            ("", 70.0),
            ("Carl", 50.0),
            ("Dora", 0.0)
        ]
    );
    assert_eq!(r.rankings[0].customers[2].customer_id, e.to_string());
    let asked = &r.rankings[8];
    assert_eq!(asked.spec.as_ref().unwrap(), &ranking);
    assert_eq!(asked.customers.len(), 1);
    assert_eq!(asked.customers[0].customer_id, a.to_string());
    assert_eq!(
        asked.customers[0].money.as_ref().unwrap().minor_units,
        10_000
    );
    let _ = d;

    // Another tenant sees none of it.
    let (_, other) = h.ts.tenant("globex", "EUR").await;
    let status = reports(&h, &other)
        .get_report(GetReportRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    let listed = ok(reports(&h, &other).list_reports(ListReportsRequest::default())).await;
    assert!(listed.runs.is_empty());
}

async fn starts_are_idempotent_and_one_at_a_time(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = reports(&h, &key);
    h.apply(
        tenant.id,
        vec![purchase("p1", Uuid::new_v4(), day(2026, 1, 5), 1_000)],
    )
    .await
    .unwrap();
    let status = client
        .get_report(GetReportRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::NotFound,
        "no report before the first run"
    );

    let start = |id: &str| StartReportRequest {
        request_id: id.into(),
        rankings: Vec::new(),
    };
    let first = ok(client.start_report(start("one"))).await;
    assert!(first.started);
    let run = first.run.unwrap();
    assert_eq!(run.state, ReportRunState::Queued as i32);
    assert_eq!(run.origin, "api");
    // The same request again, and another while it is queued: the same run.
    let again = ok(client.start_report(start("one"))).await;
    assert!(!again.started);
    assert_eq!(again.run.unwrap().run_id, run.run_id);
    let busy = ok(client.start_report(start("two"))).await;
    assert!(!busy.started);
    assert_eq!(busy.run.unwrap().run_id, run.run_id);
    let queued = ok(client.get_report(GetReportRequest {
        run_id: run.run_id.clone(),
    }))
    .await;
    assert_eq!(queued.run.unwrap().state, ReportRunState::Queued as i32);
    assert!(queued.report.is_none());

    assert_eq!(h.scoring.run_reports_once().await.unwrap(), 1);
    assert_eq!(
        h.scoring.run_reports_once().await.unwrap(),
        0,
        "nothing left to run"
    );
    let done = ok(client.get_report(GetReportRequest {
        run_id: run.run_id.clone(),
    }))
    .await;
    let done_run = done.run.unwrap();
    assert_eq!(done_run.state, ReportRunState::Succeeded as i32);
    assert_eq!(
        (done_run.customers_done, done_run.customers_expected),
        (1, 1)
    );
    assert!(done_run.started_at.is_some() && done_run.finished_at.is_some());
    assert_eq!(done.report.unwrap().total.unwrap().customers, 1);

    // Once it has run, the first request id still answers it; a new one
    // starts another run.
    let replay = ok(client.start_report(start("one"))).await;
    assert!(!replay.started);
    assert_eq!(replay.run.unwrap().run_id, run.run_id);
    let second = ok(client.start_report(start("three"))).await;
    assert!(second.started);
    assert_ne!(second.run.as_ref().unwrap().run_id, run.run_id);
    assert_eq!(h.scoring.run_reports_once().await.unwrap(), 1);

    // Newest first, a page at a time.
    let page = ok(client.list_reports(ListReportsRequest {
        page_size: 1,
        page_token: String::new(),
    }))
    .await;
    assert_eq!(page.runs.len(), 1);
    assert_eq!(page.runs[0].run_id, second.run.unwrap().run_id);
    let rest = ok(client.list_reports(ListReportsRequest {
        page_size: 1,
        page_token: page.next_page_token,
    }))
    .await;
    assert_eq!(rest.runs.len(), 1);
    assert_eq!(rest.runs[0].run_id, run.run_id);
    assert!(rest.next_page_token.is_empty());
}

async fn bad_requests_name_their_fields(backend: Backend) {
    let h = start(backend).await;
    let (_, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = reports(&h, &key);
    let bad = StartReportRequest {
        request_id: String::new(),
        rankings: vec![
            RankingSpec {
                measure: 0,
                limit: 101,
                filters: vec![ReportFilter {
                    dimension: 99,
                    value: String::new(),
                }],
            },
            RankingSpec {
                measure: 42,
                limit: 5,
                filters: Vec::new(),
            },
        ],
    };
    let status = client.start_report(bad).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        bad_fields(&status),
        [
            "request_id",
            "rankings[0].measure",
            "rankings[0].limit",
            "rankings[0].filters[0].dimension",
            "rankings[0].filters[0].value",
            "rankings[1].measure",
        ]
    );
    let too_many = StartReportRequest {
        request_id: "x".into(),
        rankings: vec![RankingSpec::default(); 21],
    };
    let status = client.start_report(too_many).await.unwrap_err();
    assert_eq!(bad_fields(&status), ["rankings"]);
    // Nothing was queued by the refused starts.
    let listed = ok(client.list_reports(ListReportsRequest::default())).await;
    assert!(listed.runs.is_empty());

    let status = client
        .get_report(GetReportRequest {
            run_id: "yesterday".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&status), ["run_id"]);
    let status = client
        .get_report(GetReportRequest {
            run_id: Uuid::new_v4().to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = client
        .list_reports(ListReportsRequest {
            page_size: -1,
            page_token: "zz".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&status), ["page_size", "page_token"]);
}

/// Profiles come 500 a page and scores 500 a page: 1,100 profiles, two in
/// three with a purchase, and 7 scores without a profile, interleave in id
/// order across pages of both.
async fn the_merge_covers_every_customer_over_many_pages(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = reports(&h, &key);
    let mut ids = Vec::new();
    for chunk in (0..1_100).collect::<Vec<usize>>().chunks(500) {
        let records = chunk
            .iter()
            .map(|i| {
                let region = if i % 2 == 0 { "even" } else { "odd" };
                record(
                    &format!("M{i}"),
                    &format!("M {i}"),
                    CustomerKind::Person,
                    &[("region", region)],
                )
            })
            .collect();
        ids.extend(upsert(&h, &key, records).await);
    }
    let mut changes = Vec::new();
    let mut expected: HashMap<&str, (u64, u64, i64)> = HashMap::new();
    for (i, id) in ids.iter().enumerate() {
        let region = if i % 2 == 0 { "even" } else { "odd" };
        let e = expected.entry(region).or_default();
        e.0 += 1;
        if i % 3 != 0 {
            let amount = 100 + i as i64;
            changes.push(purchase(&format!("m{i}"), *id, day(2026, 2, 1), amount));
            e.1 += 1;
            e.2 += amount;
        }
    }
    for i in 0..7 {
        changes.push(purchase(
            &format!("o{i}"),
            Uuid::new_v4(),
            day(2026, 2, 1),
            1_000,
        ));
    }
    expected.insert("unknown", (7, 7, 7_000));
    for part in changes.chunks(400) {
        h.apply(tenant.id, part.to_vec()).await.expect("apply");
    }
    let r = report(
        &h,
        &mut client,
        StartReportRequest {
            request_id: "many".into(),
            rankings: Vec::new(),
        },
    )
    .await;
    let purchasers = 1_100 - 1_100usize.div_ceil(3) + 7;
    let total = r.total.as_ref().unwrap();
    assert_eq!(
        (total.customers, total.purchasers),
        (1_107, purchasers as u64)
    );
    let mut got = rows(&r, ReportDimension::Region);
    got.sort();
    let mut want: Vec<_> = expected
        .iter()
        .map(|(k, (c, p, n))| row(k, *c, *p, *n))
        .collect();
    want.sort();
    assert_eq!(got, want);
    let run = ok(client.get_report(GetReportRequest::default()))
        .await
        .run
        .unwrap();
    assert_eq!(run.customers_done, purchasers as u64);
}

async fn the_schedule_queues_a_run_per_refreshed_tenant(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = reports(&h, &key);
    let others: Vec<Uuid> = (0..150).map(|_| Uuid::new_v4()).collect();
    let txns = support::population::simulate(
        &mut support::population::rng(3),
        &others,
        chrono::Utc::now(),
        400,
    );
    support::apply_all(&h, tenant.id, &txns, 400).await;
    // A customer who buys every month, a euro a basket: the up-sell list's.
    let thrifty = Uuid::new_v4();
    let baskets: Vec<_> = (1..=10)
        .map(|k| {
            purchase(
                &format!("t{k}"),
                thrifty,
                chrono::Utc::now() - chrono::Duration::days(30 * k),
                100,
            )
        })
        .collect();
    h.apply(tenant.id, baskets).await.expect("apply");
    let now = chrono::Utc::now();
    assert_eq!(
        h.scoring.schedule_reports_once(now).await.unwrap(),
        0,
        "never refreshed"
    );
    fit_models(&mut h.api(&key)).await.expect("fit");
    assert_eq!(h.scoring.schedule_reports_once(now).await.unwrap(), 1);
    assert_eq!(
        h.scoring.schedule_reports_once(now).await.unwrap(),
        0,
        "one is queued"
    );
    assert_eq!(h.scoring.run_reports_once().await.unwrap(), 1);
    assert_eq!(
        h.scoring.schedule_reports_once(now).await.unwrap(),
        0,
        "not due for a day"
    );
    let later = now + chrono::Duration::hours(25);
    assert_eq!(h.scoring.schedule_reports_once(later).await.unwrap(), 1);

    let got = ok(client.get_report(GetReportRequest::default())).await;
    let run = got.run.unwrap();
    assert_eq!(run.origin, "schedule");
    let r = got.report.unwrap();
    // With a fit and a population: every buyer has a tier, an RFM cell and
    // a lifetime value.
    assert!(r.model_version > 0);
    let total = r.total.clone().unwrap();
    assert_eq!(total.customers, 151);
    assert_eq!(
        r.rfm_grid.iter().map(|c| c.customers).sum::<u64>(),
        total.purchasers
    );
    assert_eq!(
        r.lifetime_value_histogram
            .iter()
            .map(|b| b.customers)
            .sum::<u64>(),
        total.purchasers
    );
    let tiers = rows(&r, ReportDimension::Tier);
    assert!(tiers.iter().all(|t| t.0 != "none"), "{tiers:?}");
    assert_eq!(tiers.iter().map(|t| t.1).sum::<u64>(), 151);

    // The reactivation list: repeat buyers below P(alive) 0.5, by value at
    // risk, each entry's figures as GetScore shows them.
    assert!(
        !r.reactivation.is_empty(),
        "some simulated customers stopped buying"
    );
    let values: Vec<i64> = r
        .reactivation
        .iter()
        .map(|e| e.value.as_ref().unwrap().minor_units)
        .collect();
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "{values:?}");
    let mut scoring = h.api(&key);
    for e in r.reactivation.iter().take(5) {
        assert!(e.probability_alive < 0.5 && e.purchases >= 2, "{e:?}");
        let (score, _) = support::get(&mut scoring, e.customer_id.parse().unwrap())
            .await
            .unwrap();
        let v = score.value.unwrap();
        let p = v.probability_alive.unwrap();
        assert!((p - e.probability_alive).abs() < 1e-6, "{p} against {e:?}");
        let ltv = v.lifetime_value.unwrap().minor_units;
        assert_eq!(ltv, e.lifetime_value.as_ref().unwrap().minor_units, "{e:?}");
        let at_risk = ltv as f64 / p * (1.0 - p);
        let listed = e.value.as_ref().unwrap().minor_units as f64;
        // The lifetime value shown is rounded to the cent; the list's
        // figure is from the unrounded one.
        let slack = 0.5 * (1.0 - p) / p + 1.0;
        assert!((at_risk - listed).abs() <= slack, "{at_risk} against {e:?}");
        assert!(
            e.reason.starts_with(&format!("P(alive) {p:.2} after")),
            "{}",
            e.reason
        );
    }

    // Rules read the list as customer.lists.
    let condition = "'reactivation' in customer.lists";
    let definition = support::rules::definition("win back", RuleTrigger::Schedule, condition);
    let dry = ok(h.rules(&key).dry_run_rule(DryRunRuleRequest {
        definition: Some(definition),
        page_size: 1_000,
        ..Default::default()
    }))
    .await;
    assert_eq!(dry.errors, 0, "{}", dry.first_error);
    assert_eq!(dry.matched, r.reactivation.len() as u64);
    let mut matched: Vec<&str> = dry.matches.iter().map(|m| m.customer_id.as_str()).collect();
    let mut listed: Vec<&str> = r
        .reactivation
        .iter()
        .map(|e| e.customer_id.as_str())
        .collect();
    matched.sort();
    listed.sort();
    assert_eq!(matched, listed);

    // The up-sell list: the thrifty customer is on it, and every entry's
    // figures agree with GetScore and the peers' medians shown.
    assert!(!r.upsell_peers.is_empty());
    assert!(
        r.upsell
            .iter()
            .any(|e| e.customer_id == thrifty.to_string()),
        "{:?} {:?}",
        r.upsell_peers,
        r.upsell
    );
    for e in &r.upsell {
        let (score, _) = support::get(&mut scoring, e.customer_id.parse().unwrap())
            .await
            .unwrap();
        let aov = score.average_order_value.unwrap().minor_units;
        assert_eq!(aov, e.order_value.as_ref().unwrap().minor_units, "{e:?}");
        let frequency = score.rfm.unwrap().frequency;
        let peers = r
            .upsell_peers
            .iter()
            .find(|p| p.frequency == frequency)
            .unwrap();
        let median = peers.median_order_value.as_ref().unwrap().minor_units;
        assert!(peers.customers >= 10);
        assert!((aov as f64) < median as f64 * 0.5, "{aov} against {median}");
        let gap = (median - aov) as f64 * e.purchases_last_12_months as f64;
        let listed = e.value.as_ref().unwrap().minor_units as f64;
        // Both the median and the order value are shown rounded to the cent.
        let slack = e.purchases_last_12_months as f64 + 1.0;
        assert!((gap - listed).abs() <= slack, "{gap} against {e:?}");
        assert!(e.purchases_last_12_months >= 2);
    }
    let condition = "'upsell' in customer.lists";
    let definition = support::rules::definition("grow", RuleTrigger::Schedule, condition);
    let dry = ok(h.rules(&key).dry_run_rule(DryRunRuleRequest {
        definition: Some(definition),
        page_size: 1_000,
        ..Default::default()
    }))
    .await;
    assert_eq!(dry.matched, r.upsell.len() as u64);
}

/// An erasure that comes while a run is queued (or running) finds no stored
/// report to clean; the run, which still reads the customer's profile (the
/// profile goes last in an erasure), stores a report naming them, then
/// finds the erasure recorded and replaces them.
async fn a_customer_erased_while_a_run_is_in_flight_is_replaced_in_its_report(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = reports(&h, &key);
    let ids = upsert(
        &h,
        &key,
        vec![record("E", "Erin", CustomerKind::Person, &[])],
    )
    .await;
    let erin = ids[0];
    h.apply(
        tenant.id,
        vec![purchase("e1", erin, day(2026, 3, 1), 4_200)],
    )
    .await
    .expect("apply");
    let started = ok(client.start_report(StartReportRequest {
        request_id: "in-flight".into(),
        rankings: Vec::new(),
    }))
    .await;
    assert!(started.started);

    let erasure = Uuid::now_v7();
    let request = h.ts.app.internal.request(
        tenant.id,
        None,
        rapport_proto::v1::EraseCustomerScoresRequest {
            customer_id: erin.to_string(),
            erasure_id: erasure.to_string(),
        },
    );
    let erased =
        rapport_proto::v1::scoring_service_client::ScoringServiceClient::new(h.ts.channel())
            .erase_customer_scores(request)
            .await
            .expect("erase")
            .into_inner();
    assert_eq!(
        erased.counts.get("reports_anonymised"),
        Some(&0),
        "nothing stored yet"
    );

    assert_eq!(h.scoring.run_reports_once().await.unwrap(), 1);
    let report = ok(client.get_report(GetReportRequest::default()))
        .await
        .report
        .unwrap();
    let text = format!("{report:?}");
    assert!(!text.contains(&erin.to_string()), "{text}");
    assert!(!text.contains("Erin"), "{text}");
    // Her profile was still there when the run read it: she is counted,
    // under the erasure id.
    assert_eq!(report.total.unwrap().customers, 1);
    let ranked = &report.rankings[0].customers;
    assert_eq!(ranked.len(), 1);
    assert_eq!(ranked[0].customer_id, erasure.to_string());
}
