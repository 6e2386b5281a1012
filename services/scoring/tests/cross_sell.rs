//! Category affinity and the cross-sell list on both stores: the
//! per-category aggregate kept on the apply path (a change counted once,
//! refunds taking back spend and not purchases), the report's pairs and list
//! against a hand computation, rules reading the list, GetCrossSell for one
//! customer, and an erasure scrubbing both.

mod support;

use rapport_kit::{
    internal::BearerAuth,
    testing::{self, Backend, bad_fields, ok},
};
use rapport_proto::v1::{
    CustomerKind, CustomerRecord, DryRunRuleRequest, EraseCustomerScoresRequest, ExternalIdentity,
    GetCrossSellRequest, GetCrossSellResponse, GetReportRequest, Report, ReportRunState,
    RuleTrigger, StartReportRequest, UpsertCustomersRequest,
    profiles_service_client::ProfilesServiceClient, reports_service_client::ReportsServiceClient,
    scoring_service_client::ScoringServiceClient,
};
use support::{Harness, day, population::Txn, start_with};
use tonic::{Code, service::interceptor::InterceptedService, transport::Channel};
use uuid::Uuid;

rapport_kit::backend_tests! {
    affinity_and_the_list_match_a_hand_computation,
    the_category_aggregate_counts_a_change_once_and_refunds_take_back_spend,
    an_erasure_takes_the_customer_off_the_list_and_their_categories_away,
}

type Client = ReportsServiceClient<InterceptedService<Channel, BearerAuth>>;

/// A pair's figures: (category, also bought, both, buyers of each, support,
/// confidence, lift).
type PairRow<'a> = (&'a str, &'a str, u64, u64, u64, f64, f64, f64);

/// A list entry's figures: (id, name, value, order value, bought,
/// recommended).
type EntryRow<'a> = (String, &'a str, i64, i64, &'a str, &'a str);

/// Scoring with pairs counted from 2 customers (5 by default), so a small
/// tenant has some.
async fn start(backend: Backend) -> Harness {
    let mut config = testing::config(backend).await;
    config
        .set("reports.affinity_min_customers", "2")
        .expect("setting");
    start_with(config).await
}

fn reports(h: &Harness, key: &str) -> Client {
    ReportsServiceClient::with_interceptor(h.ts.channel(), BearerAuth::new(key).unwrap())
}

/// Customers c1..c8 with profiles; their ids in order.
async fn customers(h: &Harness, key: &str) -> Vec<Uuid> {
    let mut client =
        ProfilesServiceClient::with_interceptor(h.ts.channel(), BearerAuth::new(key).unwrap());
    let customers = (1..=8)
        .map(|i| CustomerRecord {
            identity: Some(ExternalIdentity {
                source: "erp".into(),
                external_id: format!("c{i}"),
            }),
            display_name: format!("c{i}"),
            kind: CustomerKind::Person as i32,
            ..Default::default()
        })
        .collect();
    let r = ok(client.upsert_customers(UpsertCustomersRequest { customers })).await;
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    r.customer_ids
        .iter()
        .map(|id| id.parse().unwrap())
        .collect()
}

fn txn(id: &str, customer: Uuid, purchase: bool, amount: i64, category: &str) -> Txn {
    Txn {
        id: id.to_owned(),
        customer,
        purchase,
        at: day(2026, 1, 10),
        amount,
        margin: None,
        cost: None,
        category: category.to_owned(),
    }
}

/// The sample of `affinity/tests.rs`, as transactions:
///
/// | customer | purchases (refunds)                    | order value |
/// |----------|----------------------------------------|-------------|
/// | c1       | books 40.00, music 20.00 (books 5.00)  | 30.00       |
/// | c2       | books, music, games 10.00 each         | 10.00       |
/// | c3       | books, games 10.00 each (garden 5.00)  | 10.00       |
/// | c4       | books 90.00                            | 90.00       |
/// | c5       | music, garden 10.00 each               | 10.00       |
/// | c6       | garden, music 10.00 each               | 10.00       |
/// | c7       | garden 30.00                           | 30.00       |
/// | c8       | 50.00 without a category               | 50.00       |
///
/// c3's refund in garden makes no garden buyer of c3.
fn sample(c: &[Uuid]) -> Vec<Txn> {
    vec![
        txn("c1-books", c[0], true, 4_000, "books"),
        txn("c1-music", c[0], true, 2_000, "music"),
        txn("c1-books-back", c[0], false, 500, "books"),
        txn("c2-books", c[1], true, 1_000, "books"),
        txn("c2-music", c[1], true, 1_000, "music"),
        txn("c2-games", c[1], true, 1_000, "games"),
        txn("c3-books", c[2], true, 1_000, "books"),
        txn("c3-games", c[2], true, 1_000, "games"),
        txn("c3-garden-back", c[2], false, 500, "garden"),
        txn("c4-books", c[3], true, 9_000, "books"),
        txn("c5-music", c[4], true, 1_000, "music"),
        txn("c5-garden", c[4], true, 1_000, "garden"),
        txn("c6-garden", c[5], true, 1_000, "garden"),
        txn("c6-music", c[5], true, 1_000, "music"),
        txn("c7-garden", c[6], true, 3_000, "garden"),
        txn("c8-none", c[7], true, 5_000, ""),
    ]
}

/// The sample applied (c4's purchase delivered twice, in a second call),
/// a run made and its report read.
async fn prepared(h: &Harness) -> (Uuid, String, Vec<Uuid>, Client, Report) {
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let ids = customers(h, &key).await;
    let txns = sample(&ids);
    let events = txns.iter().map(Txn::event).collect();
    h.apply(tenant.id, events).await.expect("apply");
    let again = h
        .apply(tenant.id, vec![txns[9].event()])
        .await
        .expect("apply");
    assert_eq!(again.applied, 0, "{again:?}");
    let mut client = reports(h, &key);
    let started = ok(client.start_report(StartReportRequest {
        request_id: "r1".into(),
        rankings: Vec::new(),
    }))
    .await;
    assert!(started.started);
    assert_eq!(h.scoring.run_reports_once().await.unwrap(), 1);
    let got = ok(client.get_report(GetReportRequest::default())).await;
    let run = got.run.unwrap();
    assert_eq!(run.state, ReportRunState::Succeeded as i32, "{}", run.error);
    (tenant.id, key, ids, client, got.report.unwrap())
}

async fn cross_sell(client: &mut Client, customer: Uuid) -> GetCrossSellResponse {
    ok(client.get_cross_sell(GetCrossSellRequest {
        customer_id: customer.to_string(),
    }))
    .await
}

/// (category, purchases, net minor units) of each of the customer's rows.
fn categories(r: &GetCrossSellResponse) -> Vec<(&str, u64, i64)> {
    r.categories
        .iter()
        .map(|c| {
            let net = c.net_spend.as_ref().unwrap();
            assert_eq!(net.currency_code, "EUR");
            (c.category.as_str(), c.purchases, net.minor_units)
        })
        .collect()
}

/// By hand (see the sample): 7 category buyers (c8 has none); books 4,
/// music 4, garden 3 (c3 only refunded there), games 2; both: books+music
/// 2, books+games 2, music+garden 2, music+games 1. From 2 customers:
/// books→music has lift 2·7/(4·4) = 0.875 and is left out;
/// games→books confidence 2/2, lift 2·7/(2·4) = 1.75; books→games 2/4,
/// 1.75; garden→music 2/3, lift 2·7/(3·4) = 7/6; music→garden 2/4, 7/6;
/// support 2/7 each. The list: c4 books→games 0.5 × 90.00 = 45.00; c7
/// garden→music 2/3 × 30.00 = 20.00; c1 books→games (games and garden
/// both at 0.5, games by its lift) 0.5 × 30.00 = 15.00; c2 music→garden
/// 0.5 × 10.00 = 5.00. c3, c5 and c6 bought what is recommended to them.
async fn affinity_and_the_list_match_a_hand_computation(backend: Backend) {
    let h = start(backend).await;
    let mut client = reports(&h, &h.ts.tenant("empty", "EUR").await.1);
    let none = client
        .get_cross_sell(GetCrossSellRequest {
            customer_id: Uuid::new_v4().to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(none.code(), Code::NotFound, "no report yet");
    let bad = client
        .get_cross_sell(GetCrossSellRequest {
            customer_id: "c1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&bad), ["customer_id"]);

    let (_, key, c, mut client, r) = prepared(&h).await;
    assert_eq!(r.category_buyers, 7);
    let pairs: Vec<PairRow> = r
        .category_affinity
        .iter()
        .map(|p| {
            (
                p.category.as_str(),
                p.also_bought.as_str(),
                p.customers,
                p.category_customers,
                p.also_bought_customers,
                p.support,
                p.confidence,
                p.lift,
            )
        })
        .collect();
    let support = 2.0 / 7.0;
    assert_eq!(
        pairs,
        vec![
            ("games", "books", 2, 2, 4, support, 1.0, 1.75),
            ("books", "games", 2, 4, 2, support, 0.5, 1.75),
            ("garden", "music", 2, 3, 4, support, 2.0 / 3.0, 14.0 / 12.0),
            ("music", "garden", 2, 4, 3, support, 0.5, 14.0 / 12.0),
        ]
    );
    let listed: Vec<EntryRow> = r
        .cross_sell
        .iter()
        .map(|e| {
            (
                e.customer_id.clone(),
                e.display_name.as_str(),
                e.value.as_ref().unwrap().minor_units,
                e.order_value.as_ref().unwrap().minor_units,
                e.bought_category.as_str(),
                e.recommended_category.as_str(),
            )
        })
        .collect();
    let entry = |i: usize, value, aov, bought, recommended| {
        (
            c[i].to_string(),
            format!("c{}", i + 1),
            value,
            aov,
            bought,
            recommended,
        )
    };
    let expected = [
        entry(3, 4_500, 9_000, "books", "games"),
        entry(6, 2_000, 3_000, "garden", "music"),
        entry(0, 1_500, 3_000, "books", "games"),
        entry(1, 500, 1_000, "music", "garden"),
    ];
    let expected: Vec<EntryRow> = expected
        .iter()
        .map(|(id, name, v, a, b, rec)| (id.clone(), name.as_str(), *v, *a, *b, *rec))
        .collect();
    assert_eq!(listed, expected);
    let c7 = &r.cross_sell[1];
    assert_eq!(
        (c7.confidence, c7.lift, c7.support),
        (2.0 / 3.0, 14.0 / 12.0, support)
    );
    assert_eq!(c7.purchases, 1);
    assert_eq!(
        c7.reason,
        "bought garden but not music: 2 of 3 garden buyers also bought music (confidence \
         0.67, lift 1.17, support 0.29); 0.67 of a 30.00 basket is 20.00"
    );

    // One customer: what they bought, and what they have not, most likely
    // first.
    let c1 = cross_sell(&mut client, c[0]).await;
    assert_eq!(categories(&c1), [("books", 1, 3_500), ("music", 1, 2_000)]);
    let picks: Vec<(&str, &str, f64)> = c1
        .candidates
        .iter()
        .map(|p| (p.category.as_str(), p.also_bought.as_str(), p.confidence))
        .collect();
    assert_eq!(picks, [("books", "games", 0.5), ("music", "garden", 0.5)]);
    assert!(c1.as_of.is_some() && !c1.run_id.is_empty());
    let c8 = cross_sell(&mut client, c[7]).await;
    assert!(c8.categories.is_empty() && c8.candidates.is_empty());
    // Another tenant's customer is nobody here.
    let (_, other) = h.ts.tenant("other", "EUR").await;
    let status = reports(&h, &other)
        .get_cross_sell(GetCrossSellRequest {
            customer_id: c[0].to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "no report of its own");

    // Rules read the list as customer.lists.
    let condition = "'cross_sell' in customer.lists";
    let definition = support::rules::definition("grow", RuleTrigger::Schedule, condition);
    let dry = ok(h.rules(&key).dry_run_rule(DryRunRuleRequest {
        definition: Some(definition),
        page_size: 1_000,
        ..Default::default()
    }))
    .await;
    assert_eq!(dry.errors, 0, "{}", dry.first_error);
    let mut matched: Vec<String> = dry.matches.iter().map(|m| m.customer_id.clone()).collect();
    let mut listed: Vec<String> = r.cross_sell.iter().map(|e| e.customer_id.clone()).collect();
    matched.sort();
    listed.sort();
    assert_eq!(matched, listed);

    // Or as a rule's audience: a schedule rule holding for every buyer
    // fires for the list's customers only.
    let mut rules = h.rules(&key);
    let mut d = support::rules::definition(
        "grow-buyers",
        RuleTrigger::Schedule,
        "score.purchase_count >= 1",
    );
    d.audience = "cross_sell".into();
    let dry = ok(rules.dry_run_rule(DryRunRuleRequest {
        definition: Some(d.clone()),
        page_size: 1_000,
        ..Default::default()
    }))
    .await;
    let mut matched: Vec<String> = dry.matches.iter().map(|m| m.customer_id.clone()).collect();
    matched.sort();
    assert_eq!(
        (matched, dry.customers_evaluated),
        (listed.clone(), listed.len() as u64)
    );
    let rule = support::rules::publish(&mut rules, d).await;
    support::rules::round(&h).await;
    let mut fired: Vec<String> = support::rules::firings(&mut rules, &rule.id)
        .await
        .into_iter()
        .map(|f| f.customer_id)
        .collect();
    fired.sort();
    assert_eq!(fired, listed);
    let mut bad = support::rules::definition("nobody", RuleTrigger::Schedule, "true");
    bad.audience = "vip".into();
    let refused = rules
        .create_rule(rapport_proto::v1::CreateRuleRequest {
            request_id: "bad-audience".into(),
            author: "tester".into(),
            definition: Some(bad),
        })
        .await
        .unwrap_err();
    assert_eq!(support::bad_fields(&refused), vec!["definition.audience"]);
}

async fn the_category_aggregate_counts_a_change_once_and_refunds_take_back_spend(backend: Backend) {
    let h = start(backend).await;
    let (tenant, _, c, mut client, _) = prepared(&h).await;
    // c4's purchase came twice and counts once; c3's refund in a category
    // never bought leaves a row with no purchase, which recommends nothing.
    let c4 = cross_sell(&mut client, c[3]).await;
    assert_eq!(categories(&c4), [("books", 1, 9_000)]);
    let c3 = cross_sell(&mut client, c[2]).await;
    assert_eq!(
        categories(&c3),
        [
            ("books", 1, 1_000),
            ("games", 1, 1_000),
            ("garden", 0, -500)
        ]
    );
    assert!(c3.candidates.is_empty(), "{:?}", c3.candidates);
    // A later refund takes back net spend, never the purchase; one call
    // with two changes to one category adds both.
    let more = [
        txn("c4-books-back", c[3], false, 2_000, "books"),
        txn("c4-books-2", c[3], true, 1_000, " books "),
        txn("c4-music", c[3], true, 500, "music"),
    ];
    let applied = h
        .apply(tenant, more.iter().map(Txn::event).collect())
        .await
        .expect("apply");
    assert_eq!(applied.applied, 3);
    let c4 = cross_sell(&mut client, c[3]).await;
    assert_eq!(
        categories(&c4),
        [("books", 2, 8_000), ("music", 1, 500)],
        "9,000 - 2,000 + 1,000 in books (the category trimmed)"
    );
}

async fn an_erasure_takes_the_customer_off_the_list_and_their_categories_away(backend: Backend) {
    let h = start(backend).await;
    let (tenant, _, c, mut client, _) = prepared(&h).await;
    let erasure = Uuid::now_v7();
    let request = h.ts.app.internal.request(
        tenant,
        None,
        EraseCustomerScoresRequest {
            customer_id: c[3].to_string(),
            erasure_id: erasure.to_string(),
        },
    );
    let erased = ScoringServiceClient::new(h.ts.channel())
        .erase_customer_scores(request)
        .await
        .expect("erase")
        .into_inner();
    assert_eq!(erased.counts.get("customer_categories"), Some(&1));
    assert_eq!(erased.counts.get("reports_anonymised"), Some(&1));
    let r = ok(client.get_report(GetReportRequest::default()))
        .await
        .report
        .unwrap();
    let text = format!("{r:?}");
    assert!(!text.contains(&c[3].to_string()), "{text}");
    assert_eq!(r.cross_sell[0].customer_id, erasure.to_string());
    assert_eq!(r.cross_sell[0].display_name, "");
    let c4 = cross_sell(&mut client, c[3]).await;
    assert!(c4.categories.is_empty() && c4.candidates.is_empty());
}
