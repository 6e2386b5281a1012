//! Population reads on both storage backends: ListScores paging in each
//! order, and SummarizeScores figures checked by hand.

mod support;

use chrono::{Duration, Utc};
use rapport_kit::testing::{Backend, ok};
use rapport_proto::v1::{ListScoresRequest, Money, Score, ScoreOrder, SummarizeScoresRequest};
use support::{ApiClient, bad_fields, day, eur, interaction, purchase, refund, start_acme};
use uuid::Uuid;

rapport_kit::backend_tests! {
    list_scores_pages_in_each_order, summarize_counts_the_population,
}

/// A customer for listing tests: id, purchases as (day of May 2025, amount),
/// refunded amount.
type Person = (Uuid, Vec<(u32, i64)>, i64);

/// Every page of a listing, following tokens.
async fn list_all(
    client: &mut ApiClient,
    order: ScoreOrder,
    page_size: i32,
) -> (Vec<Score>, usize) {
    let (mut all, mut pages, mut token) = (Vec::new(), 0, String::new());
    loop {
        let request = ListScoresRequest {
            order_by: order as i32,
            page_size,
            page_token: token,
        };
        let r = ok(client.list_scores(request)).await;
        assert!(r.scores.len() <= page_size as usize);
        all.extend(r.scores);
        pages += 1;
        if r.next_page_token.is_empty() {
            return (all, pages);
        }
        token = r.next_page_token;
    }
}

async fn list_scores_pages_in_each_order(backend: Backend) {
    let (h, tenant, mut client) = start_acme(backend).await;
    // Net, count and last purchase tie in places.
    let people: Vec<Person> = vec![
        (Uuid::new_v4(), vec![(10, 500)], 0),
        (Uuid::new_v4(), vec![(1, 100), (2, 200)], 0),
        (Uuid::new_v4(), vec![(20, 300)], 0),
        (Uuid::new_v4(), vec![(3, 300), (4, 300), (5, 300)], 0),
        (Uuid::new_v4(), vec![(20, 100)], 0),
        (Uuid::new_v4(), vec![], 0),
        (Uuid::new_v4(), vec![(6, 400), (7, 400)], 100),
    ];
    let mut changes = Vec::new();
    for (i, (id, buys, refunded)) in people.iter().enumerate() {
        for (j, (d, amount)) in buys.iter().enumerate() {
            changes.push(purchase(
                &format!("p{i}-{j}"),
                *id,
                day(2025, 5, *d),
                *amount,
            ));
        }
        if *refunded > 0 {
            changes.push(refund(&format!("r{i}"), *id, day(2025, 5, 28), *refunded));
        }
        if buys.is_empty() {
            changes.push(interaction(&format!("e{i}"), *id, day(2025, 5, 28)));
        }
    }
    h.apply(tenant.id, changes).await.unwrap();

    let expect = |measure: &dyn Fn(&Person) -> i64| {
        let mut v: Vec<(i64, Uuid)> = people.iter().map(|p| (measure(p), p.0)).collect();
        v.sort_by(|x, y| y.cmp(x));
        v.into_iter()
            .map(|(_, id)| id.to_string())
            .collect::<Vec<_>>()
    };
    let net = expect(&|p| p.1.iter().map(|b| b.1).sum::<i64>() - p.2);
    let count = expect(&|p| p.1.len() as i64);
    // Customers without a purchase come last.
    let last = expect(&|p| p.1.iter().map(|b| b.0 as i64).max().unwrap_or(-1));
    for (order, want) in [
        (ScoreOrder::NetSpend, net),
        (ScoreOrder::PurchaseCount, count),
        (ScoreOrder::LastPurchase, last),
    ] {
        let (all, pages) = list_all(&mut client, order, 3).await;
        let ids: Vec<String> = all.iter().map(|s| s.customer_id.clone()).collect();
        assert_eq!(ids, want, "{order:?}");
        assert_eq!(pages, 3, "{order:?}");
        let (all, pages) = list_all(&mut client, order, 7).await;
        assert_eq!((all.len(), pages), (7, 1), "{order:?}");
    }
    // The default order is net spend, and scores come complete.
    let first = ok(client.list_scores(ListScoresRequest {
        page_size: 1,
        ..Default::default()
    }))
    .await;
    assert_eq!(first.scores[0].customer_id, people[3].0.to_string());
    assert_eq!(
        (
            first.scores[0].net_spend.clone(),
            first.scores[0].monthly_spend.len()
        ),
        (eur(900), 1)
    );

    let bad = |order: ScoreOrder, page_size, page_token: &str| ListScoresRequest {
        order_by: order as i32,
        page_size,
        page_token: page_token.into(),
    };
    let err = client
        .list_scores(bad(ScoreOrder::NetSpend, 2, "zz"))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["page_token"]);
    let err = client
        .list_scores(bad(ScoreOrder::PurchaseCount, 2, &first.next_page_token))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["page_token"]);
    let err = client
        .list_scores(bad(ScoreOrder::NetSpend, -1, ""))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["page_size"]);
    let err = client
        .list_scores(ListScoresRequest {
            order_by: 42,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["order_by"]);
    h.ts.stop().await;
}

async fn summarize_counts_the_population(backend: Backend) {
    let (h, tenant, mut client) = start_acme(backend).await;
    let empty = ok(client.summarize_scores(SummarizeScoresRequest {})).await;
    assert_eq!((empty.customers, empty.net_spend.clone()), (0, eur(0)));
    assert!(empty.spend_percentiles.is_empty() && empty.spend_histogram.is_empty());

    let now = Utc::now();
    let ago = |d: i64| now - Duration::days(d);
    let ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    let changes = vec![
        purchase("n", ids[0], ago(5), 1_000),
        purchase("a1", ids[1], ago(200), 2_000),
        purchase("a2", ids[1], ago(10), 3_000),
        purchase("l1", ids[2], ago(300), 4_000),
        purchase("l2", ids[2], ago(120), 500),
        purchase("x1", ids[3], ago(400), 700),
        refund("x2", ids[3], ago(390), 200),
        interaction("z", ids[4], ago(3)),
    ];
    h.apply(tenant.id, changes).await.unwrap();
    let s = ok(client.summarize_scores(SummarizeScoresRequest {})).await;
    assert_eq!(s.customers, 5);
    assert_eq!(s.net_spend, eur(11_000));
    let segments: Vec<(String, u64, Option<Money>)> = s
        .segments
        .iter()
        .map(|g| (g.segment.clone(), g.customers, g.net_spend.clone()))
        .collect();
    let want = [
        ("new", 1_000),
        ("active", 5_000),
        ("lapsing", 4_500),
        ("lapsed", 500),
        ("none", 0),
    ]
    .map(|(name, net)| (name.to_owned(), 1, eur(net)));
    assert_eq!(segments, want);
    // Sorted: 0, 500, 1000, 4500, 5000; nearest ranks 1, 2, 3, 4, 5, 5.
    let p: Vec<i64> = s.spend_percentiles.iter().map(|m| m.minor_units).collect();
    assert_eq!(p, [0, 500, 1_000, 4_500, 5_000, 5_000]);
    // Half-decade buckets from 0: 0, 100, 300, 1000, 3000.
    let hist: Vec<(i64, u64)> = s
        .spend_histogram
        .iter()
        .map(|b| (b.from.as_ref().unwrap().minor_units, b.customers))
        .collect();
    assert_eq!(
        hist,
        vec![(0, 1), (100, 0), (300, 1), (1_000, 1), (3_000, 2)]
    );
    h.ts.stop().await;
}
