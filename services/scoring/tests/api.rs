//! The scoring service's behaviour on both storage backends with the
//! in-process cache: changes applied by hand and every field checked against
//! a hand computation, idempotency, validation, batch reads, tenants.

mod support;

use chrono::{Datelike, Duration, Utc};
use rapport_kit::{
    domain::chrono_to_timestamp,
    testing::{Backend, ok},
};
use rapport_proto::v1::{
    ApplyChangesRequest, BatchGetScoresRequest, GetScoreRequest, ListScoresRequest, Money,
    MonthlySpend, ScoreSource, SummarizeScoresRequest,
};
use support::{bad_fields, day, eur, get, interaction, purchase, refund, start_acme};
use tonic::Code;
use uuid::Uuid;

rapport_kit::backend_tests! {
    scores_follow_changes, api_keys_cannot_apply_changes, get_score_validates_the_id, batch_get_keeps_request_order, tenants_are_isolated,
}

async fn scores_follow_changes(backend: Backend) {
    let (h, tenant, mut client) = start_acme(backend).await;
    let a = Uuid::new_v4();
    let started = Utc::now();

    // The latest and the earliest purchase first...
    let first = vec![
        purchase("txn:3", a, day(2025, 3, 20), 4_000),
        purchase("txn:2", a, day(2024, 11, 3), 2_550),
    ];
    let r = h.apply(tenant.id, first.clone()).await.unwrap();
    assert_eq!((r.applied, r.duplicates), (2, 0));
    // ...then one from between them arrives late, with a refund and a visit.
    let second = vec![
        purchase("txn:1", a, day(2025, 1, 15), 10_000),
        refund("txn:4", a, day(2025, 3, 25), 1_000),
        interaction("evt:1", a, day(2025, 4, 1)),
    ];
    let r = h.apply(tenant.id, second.clone()).await.unwrap();
    assert_eq!((r.applied, r.duplicates), (3, 0));

    let (s, source) = get(&mut client, a).await.unwrap();
    assert_eq!(source, ScoreSource::Cache as i32);
    let now = Utc::now();
    assert_eq!(s.customer_id, a.to_string());
    assert_eq!(s.version, 2);
    let updated = s.updated_at.expect("updated_at");
    assert!(updated.seconds <= now.timestamp() && updated.seconds >= started.timestamp());
    assert_eq!(
        s.first_purchase_at,
        Some(chrono_to_timestamp(day(2024, 11, 3)))
    );
    assert_eq!(
        s.last_purchase_at,
        Some(chrono_to_timestamp(day(2025, 3, 20)))
    );
    assert_eq!((s.purchase_count, s.refund_count), (3, 1));
    assert_eq!(s.purchase_total, eur(16_550));
    assert_eq!(s.refund_total, eur(1_000));
    assert_eq!(s.net_spend, eur(15_550));
    // 16550 / 3 = 5516.67, rounded half up.
    assert_eq!(s.average_order_value, eur(5_517));
    // Months from November 2024 to this month, both included.
    let months = (now.year() as i64 * 12 + now.month0() as i64) - (2024 * 12 + 10) + 1;
    let monthly = (15_550.0 / months as f64 + 0.5).floor() as i64;
    assert_eq!(s.average_monthly_spend, eur(monthly));
    let month = |m: &str, net, purchases| MonthlySpend {
        month: m.into(),
        net_spend: eur(net),
        purchases,
    };
    assert_eq!(
        s.monthly_spend,
        vec![
            month("2024-11", 2_550, 1),
            month("2025-01", 10_000, 1),
            month("2025-03", 3_000, 1)
        ]
    );
    assert_eq!(s.recency_days as i64, (now - day(2025, 3, 20)).num_days());
    assert_eq!(
        s.last_interaction_at,
        Some(chrono_to_timestamp(day(2025, 4, 1)))
    );
    assert_eq!(s.interaction_count, 1);
    assert_eq!(s.segment, "lapsed");

    // Without the cache entry the database gives the same answer and refills it.
    h.cache.delete(&h.key(tenant.id, a)).await.unwrap();
    let (from_db, source) = get(&mut client, a).await.unwrap();
    assert_eq!(source, ScoreSource::Database as i32);
    assert_eq!(from_db, s);
    let (again, source) = get(&mut client, a).await.unwrap();
    assert_eq!(source, ScoreSource::Cache as i32);
    assert_eq!(again, s);

    // Redelivery changes nothing, not even the version.
    let r = h.apply(tenant.id, first.clone()).await.unwrap();
    assert_eq!((r.applied, r.duplicates), (0, 2));
    let r = h.apply(tenant.id, second).await.unwrap();
    assert_eq!((r.applied, r.duplicates), (0, 3));
    h.cache.delete(&h.key(tenant.id, a)).await.unwrap();
    assert_eq!(get(&mut client, a).await.unwrap().0, s);

    // A mixed call applies only what is new; a repeat inside one call counts once.
    let mixed = vec![
        first[0].clone(),
        purchase("txn:5", a, day(2025, 3, 21), 50),
        purchase("txn:5", a, day(2025, 3, 21), 50),
    ];
    let r = h.apply(tenant.id, mixed).await.unwrap();
    assert_eq!((r.applied, r.duplicates), (1, 2));
    let (s, _) = get(&mut client, a).await.unwrap();
    assert_eq!(
        (s.version, s.purchase_count, s.purchase_total.clone()),
        (3, 4, eur(16_600))
    );
    assert_eq!(
        s.last_purchase_at,
        Some(chrono_to_timestamp(day(2025, 3, 21)))
    );
    assert_eq!(s.monthly_spend.last(), Some(&month("2025-03", 3_050, 2)));

    // A new customer, and one who only ever visited.
    let (b, c) = (Uuid::new_v4(), Uuid::new_v4());
    let recent = now - Duration::days(5);
    h.apply(
        tenant.id,
        vec![
            purchase("txn:6", b, recent, 1_999),
            interaction("evt:2", c, recent),
        ],
    )
    .await
    .unwrap();
    let (sb, _) = get(&mut client, b).await.unwrap();
    assert_eq!(
        (sb.segment.as_str(), sb.recency_days, sb.version),
        ("new", 5, 1)
    );
    // One month, or two when five days ago was last month.
    let months = if recent.month() == now.month() {
        1.0
    } else {
        2.0
    };
    let monthly = (1_999.0 / months + 0.5_f64).floor() as i64;
    assert_eq!(
        (sb.average_order_value, sb.average_monthly_spend),
        (eur(1_999), eur(monthly))
    );
    let (sc, _) = get(&mut client, c).await.unwrap();
    assert_eq!(
        (sc.segment.as_str(), sc.purchase_count, sc.interaction_count),
        ("none", 0, 1)
    );
    assert_eq!(
        (sc.first_purchase_at, sc.average_order_value, sc.net_spend),
        (None, eur(0), eur(0))
    );
    h.ts.stop().await;
}

async fn api_keys_cannot_apply_changes(backend: Backend) {
    let (h, _, mut client) = start_acme(backend).await;
    let a = Uuid::new_v4();
    let request = ApplyChangesRequest {
        changes: vec![purchase("txn:1", a, day(2025, 1, 1), 100)],
    };
    let err = client.apply_changes(request).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert_eq!(
        get(&mut client, a).await.unwrap_err().code(),
        Code::NotFound
    );
    h.ts.stop().await;
}

async fn get_score_validates_the_id(backend: Backend) {
    let (h, _, mut client) = start_acme(backend).await;
    for bad in ["", "42", "not-a-uuid"] {
        let err = client
            .get_score(GetScoreRequest {
                customer_id: bad.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(bad_fields(&err), ["customer_id"]);
    }
    assert_eq!(
        get(&mut client, Uuid::new_v4()).await.unwrap_err().code(),
        Code::NotFound
    );
    h.ts.stop().await;
}

async fn batch_get_keeps_request_order(backend: Backend) {
    let (h, tenant, mut client) = start_acme(backend).await;
    let (a, b, c, missing) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    let changes = vec![
        purchase("t1", a, day(2025, 1, 1), 100),
        purchase("t2", b, day(2025, 1, 1), 200),
        purchase("t3", c, day(2025, 1, 1), 300),
    ];
    h.apply(tenant.id, changes).await.unwrap();
    // b comes from the database, the others from the cache.
    h.cache.delete(&h.key(tenant.id, b)).await.unwrap();
    let ids = [c, missing, a, b, a].iter().map(Uuid::to_string).collect();
    let r = ok(client.batch_get_scores(BatchGetScoresRequest { customer_ids: ids })).await;
    let got: Vec<(String, Option<Money>)> = r
        .scores
        .iter()
        .map(|s| (s.customer_id.clone(), s.net_spend.clone()))
        .collect();
    let want = [(c, 300), (a, 100), (b, 200), (a, 100)].map(|(id, net)| (id.to_string(), eur(net)));
    assert_eq!(got, want);
    assert_eq!(r.missing_customer_ids, [missing.to_string()]);
    assert!(
        r.scores
            .iter()
            .all(|s| s.segment == "lapsed" && s.version == 1)
    );

    let empty = ok(client.batch_get_scores(BatchGetScoresRequest::default())).await;
    assert!(empty.scores.is_empty() && empty.missing_customer_ids.is_empty());
    let too_many = vec![a.to_string(); 1_001];
    let malformed = vec![a.to_string(), "nope".into()];
    for (customer_ids, field) in [(too_many, "customer_ids"), (malformed, "customer_ids[1]")] {
        let request = BatchGetScoresRequest { customer_ids };
        let err = client.batch_get_scores(request).await.unwrap_err();
        assert_eq!(bad_fields(&err), [field]);
    }
    h.ts.stop().await;
}

async fn tenants_are_isolated(backend: Backend) {
    let (h, acme, mut a_client) = start_acme(backend).await;
    let (globex, mut g_client) = h.tenant("globex").await;
    let a = Uuid::new_v4();
    let changes = vec![purchase("txn:1", a, day(2025, 2, 1), 1_000)];
    h.apply(acme.id, changes.clone()).await.unwrap();
    let (before, _) = get(&mut a_client, a).await.unwrap();

    assert_eq!(
        get(&mut g_client, a).await.unwrap_err().code(),
        Code::NotFound
    );
    let batch = g_client
        .batch_get_scores(BatchGetScoresRequest {
            customer_ids: vec![a.to_string()],
        })
        .await
        .unwrap();
    assert_eq!(batch.into_inner().missing_customer_ids, [a.to_string()]);
    let list = ok(g_client.list_scores(ListScoresRequest::default())).await;
    assert!(list.scores.is_empty());
    let summary = ok(g_client.summarize_scores(SummarizeScoresRequest {})).await;
    assert_eq!(summary.customers, 0);

    // The same change ids mean nothing across tenants, and touch only globex.
    let r = h
        .apply(globex.id, vec![purchase("txn:1", a, day(2025, 2, 2), 7)])
        .await
        .unwrap();
    assert_eq!((r.applied, r.duplicates), (1, 0));
    h.cache.delete(&h.key(acme.id, a)).await.unwrap();
    assert_eq!(get(&mut a_client, a).await.unwrap().0, before);
    let (theirs, _) = get(&mut g_client, a).await.unwrap();
    assert_eq!((theirs.net_spend, theirs.version), (eur(7), 1));
    let list = ok(a_client.list_scores(ListScoresRequest::default())).await;
    assert_eq!(list.scores, vec![before.clone()]);
    let summary = ok(a_client.summarize_scores(SummarizeScoresRequest {})).await;
    assert_eq!((summary.customers, summary.net_spend), (1, eur(1_000)));
    h.ts.stop().await;
}
