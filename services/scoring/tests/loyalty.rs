//! LoyaltyService on both stores: points earned with the purchases that
//! ApplyChanges applies (once each, with the welcome bonus, category and
//! tier multipliers), taken back by refunds, spent by redemptions that
//! never take a balance below zero (also when many race), expired after the
//! programme's months, granted on birthdays; bad input named field by
//! field; tenants kept apart; erased with the customer.

mod support;

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, Utc};
use rapport_kit::{
    internal::BearerAuth,
    testing::{Backend, bad_fields, ok, reason},
};
use rapport_proto::v1::{
    AdjustPointsRequest, ChangeEvent, CreateCustomerRequest, Customer, EraseCustomerScoresRequest,
    GetPointsBalanceRequest, GetPointsProgrammeRequest, GetScoreRequest, ListPointsLedgerRequest,
    PointsBalance, PointsEntryKind, PointsProgramme, PutPointsProgrammeRequest,
    RedeemPointsRequest, loyalty_service_client::LoyaltyServiceClient,
    profiles_service_client::ProfilesServiceClient, scoring_service_client::ScoringServiceClient,
};
use support::{Harness, fit_models, population, start};
use tonic::{Code, service::interceptor::InterceptedService, transport::Channel};
use uuid::Uuid;

rapport_kit::backend_tests! {
    purchases_earn_once_and_refunds_take_back,
    redemptions_never_take_a_balance_below_zero,
    concurrent_redemptions_spend_each_point_once,
    points_expire_after_the_programme_s_months,
    a_refund_after_spending_leaves_a_debt,
    tier_multipliers_use_the_tier_before_the_purchase,
    members_get_a_birthday_bonus_once_a_year,
    bad_requests_name_their_fields,
    tenants_and_erasure,
}

type Client = LoyaltyServiceClient<InterceptedService<Channel, BearerAuth>>;

fn loyalty(h: &Harness, key: &str) -> Client {
    LoyaltyServiceClient::with_interceptor(h.ts.channel(), BearerAuth::new(key).unwrap())
}

/// A purchase (or refund) change in `category`, in euro cents.
fn txn(
    id: &str,
    customer: Uuid,
    purchase: bool,
    at: DateTime<Utc>,
    cents: i64,
    category: &str,
) -> ChangeEvent {
    population::Txn {
        id: id.to_owned(),
        customer,
        purchase,
        at,
        amount: cents,
        margin: None,
        cost: None,
        category: category.to_owned(),
    }
    .event()
}

/// 1 point a euro, books twice that, a welcome bonus of 100, points kept 12 months.
fn programme() -> PointsProgramme {
    PointsProgramme {
        points_per_unit: 1.0,
        category_multipliers: HashMap::from([("books".into(), 2.0)]),
        welcome_bonus: 100,
        expiry_months: 12,
        ..PointsProgramme::default()
    }
}

async fn put(client: &mut Client, p: PointsProgramme) {
    ok(client.put_points_programme(PutPointsProgrammeRequest { programme: Some(p) })).await;
}

async fn balance(client: &mut Client, customer: Uuid) -> PointsBalance {
    ok(client.get_points_balance(GetPointsBalanceRequest {
        customer_id: customer.to_string(),
    }))
    .await
    .balance
    .unwrap()
}

async fn ledger(client: &mut Client, customer: Uuid) -> Vec<(PointsEntryKind, i64, i64)> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = ok(client.list_points_ledger(ListPointsLedgerRequest {
            customer_id: customer.to_string(),
            page_size: 2,
            page_token: token,
        }))
        .await;
        out.extend(
            page.entries
                .iter()
                .map(|e| (e.kind(), e.points, e.balance_after)),
        );
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

fn redeem(request_id: &str, customer: Uuid, points: i64) -> RedeemPointsRequest {
    RedeemPointsRequest {
        request_id: request_id.into(),
        customer_id: customer.to_string(),
        points,
        reason: "order 1".into(),
    }
}

async fn purchases_earn_once_and_refunds_take_back(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = loyalty(&h, &key);
    let missing = client
        .get_points_programme(GetPointsProgrammeRequest {})
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(reason(&missing), "POINTS_PROGRAMME_NOT_FOUND");
    let put1 = ok(client.put_points_programme(PutPointsProgrammeRequest {
        programme: Some(programme()),
    }))
    .await;
    assert!(put1.created && put1.changed);
    let again = ok(client.put_points_programme(PutPointsProgrammeRequest {
        programme: Some(programme()),
    }))
    .await;
    assert!(
        !again.created && !again.changed,
        "the same programme changes nothing"
    );
    assert_eq!(again.programme.as_ref().unwrap().version, 1);

    let c = Uuid::new_v4();
    let now = Utc::now();
    // Before the programme began: nothing.
    h.apply(
        tenant.id,
        vec![txn(
            "old",
            c,
            true,
            now - Duration::days(30),
            5_000,
            "general",
        )],
    )
    .await
    .unwrap();
    assert_eq!(balance(&mut client, c).await.balance, 0);
    let changes = vec![
        txn("p1", c, true, now, 10_050, "general"),
        txn("p2", c, true, now, 2_520, "books"),
    ];
    h.apply(tenant.id, changes.clone()).await.unwrap();
    // Delivered again (the relay retrying): counted once.
    let dup = h.apply(tenant.id, changes).await.unwrap();
    assert_eq!(dup.duplicates, 2);
    // 100.50 € → 100; 25.20 € of books → 50.4 → 50; the welcome bonus 100.
    let b = balance(&mut client, c).await;
    assert_eq!((b.balance, b.earned), (250, 250));
    h.apply(tenant.id, vec![txn("r1", c, false, now, 3_099, "general")])
        .await
        .unwrap();
    let b = balance(&mut client, c).await;
    assert_eq!((b.balance, b.earned), (220, 220));
    assert_eq!(
        ledger(&mut client, c).await,
        vec![
            (PointsEntryKind::Reversal, -30, 220),
            (PointsEntryKind::Accrual, 50, 250),
            (PointsEntryKind::Accrual, 100, 200),
            (PointsEntryKind::WelcomeBonus, 100, 100),
        ]
    );
    let page = ok(client.list_points_ledger(ListPointsLedgerRequest {
        customer_id: c.to_string(),
        page_size: 10,
        page_token: String::new(),
    }))
    .await;
    let books = &page.entries[1];
    assert_eq!(books.entry_id, "p2");
    assert_eq!(
        books.reason,
        "25.2 EUR × 1 point/unit × 2 (category books) = 50"
    );
    // Earned points expire 12 months after the purchase.
    let expires = books.expires_at.unwrap();
    let expected = (now + chrono::Months::new(12)).timestamp();
    assert!((expires.seconds - expected).abs() <= 1);
    assert_eq!(
        page.entries[0].reason,
        "refund: 30.99 EUR × 1 point/unit = 30"
    );

    // Paused, purchases earn nothing.
    put(
        &mut client,
        PointsProgramme {
            paused: true,
            ..programme()
        },
    )
    .await;
    h.apply(
        tenant.id,
        vec![txn("p-paused", c, true, Utc::now(), 1_000, "general")],
    )
    .await
    .unwrap();
    assert_eq!(balance(&mut client, c).await.balance, 220);
    // A changed programme applies from then on.
    put(
        &mut client,
        PointsProgramme {
            points_per_unit: 2.0,
            ..programme()
        },
    )
    .await;
    h.apply(
        tenant.id,
        vec![txn("p3", c, true, Utc::now(), 1_000, "general")],
    )
    .await
    .unwrap();
    assert_eq!(balance(&mut client, c).await.balance, 240);
    let got = ok(client.get_points_programme(GetPointsProgrammeRequest {})).await;
    assert_eq!(got.programme.unwrap().version, 3);
    // Started earlier: purchases applied from then on earn back to it.
    let since = Utc::now() - Duration::days(60);
    put(
        &mut client,
        PointsProgramme {
            points_per_unit: 2.0,
            started_at: Some(prost_types::Timestamp {
                seconds: since.timestamp(),
                nanos: 0,
            }),
            ..programme()
        },
    )
    .await;
    h.apply(
        tenant.id,
        vec![txn(
            "p4",
            c,
            true,
            now - Duration::days(40),
            1_000,
            "general",
        )],
    )
    .await
    .unwrap();
    assert_eq!(balance(&mut client, c).await.balance, 260);
    let got = ok(client.get_points_programme(GetPointsProgrammeRequest {})).await;
    let got = got.programme.unwrap();
    assert_eq!(
        (got.version, got.started_at.unwrap().seconds),
        (4, since.timestamp())
    );
}

async fn redemptions_never_take_a_balance_below_zero(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = loyalty(&h, &key);
    put(
        &mut client,
        PointsProgramme {
            welcome_bonus: 0,
            ..programme()
        },
    )
    .await;
    let c = Uuid::new_v4();
    h.apply(
        tenant.id,
        vec![txn("p1", c, true, Utc::now(), 10_000, "general")],
    )
    .await
    .unwrap();
    let r = ok(client.redeem_points(redeem("r-1", c, 60))).await;
    assert!(!r.replayed);
    assert_eq!(r.entry.unwrap().points, -60);
    assert_eq!(r.balance.unwrap().balance, 40);
    // The same request again: the same entry, nothing spent twice.
    let again = ok(client.redeem_points(redeem("r-1", c, 60))).await;
    assert!(again.replayed);
    assert_eq!(again.balance.unwrap().balance, 40);
    // Beyond the balance: refused, with it, and nothing written.
    let refused = client
        .redeem_points(redeem("r-2", c, 41))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(reason(&refused), "INSUFFICIENT_POINTS");
    assert!(
        refused.message().contains("the balance is 40"),
        "{}",
        refused.message()
    );
    assert_eq!(ledger(&mut client, c).await.len(), 2);
    // A request id reused for another amount.
    let reused = client
        .redeem_points(redeem("r-1", c, 10))
        .await
        .unwrap_err();
    assert_eq!(reused.code(), Code::AlreadyExists);
    assert_eq!(reason(&reused), "REQUEST_ID_REUSED");
    // Adjustments: up with a reason, never below zero either.
    let adjust = |id: &str, points: i64| AdjustPointsRequest {
        request_id: id.into(),
        customer_id: c.to_string(),
        points,
        reason: "goodwill".into(),
    };
    let up = ok(client.adjust_points(adjust("a-1", 15))).await;
    assert_eq!(up.balance.unwrap().balance, 55);
    let down = client.adjust_points(adjust("a-2", -56)).await.unwrap_err();
    assert_eq!(reason(&down), "INSUFFICIENT_POINTS");
    let b = balance(&mut client, c).await;
    assert_eq!(
        (b.balance, b.redeemed, b.adjusted, b.earned),
        (55, 60, 15, 100)
    );
    // A customer without points has a zero balance.
    let stranger = Uuid::new_v4();
    assert_eq!(
        balance(&mut client, stranger).await,
        PointsBalance {
            customer_id: stranger.to_string(),
            ..PointsBalance::default()
        }
    );
}

async fn concurrent_redemptions_spend_each_point_once(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = loyalty(&h, &key);
    put(
        &mut client,
        PointsProgramme {
            welcome_bonus: 0,
            ..programme()
        },
    )
    .await;
    let c = Uuid::new_v4();
    h.apply(
        tenant.id,
        vec![txn("p1", c, true, Utc::now(), 10_000, "general")],
    )
    .await
    .unwrap();
    // 20 redemptions of 10 race for 100 points.
    let calls = (0..20).map(|i| {
        let mut client = loyalty(&h, &key);
        async move {
            client
                .redeem_points(redeem(&format!("race-{i}"), c, 10))
                .await
        }
    });
    let results = futures::future::join_all(calls).await;
    let granted = results.iter().filter(|r| r.is_ok()).count();
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(reason(r), "INSUFFICIENT_POINTS", "{r:?}");
    }
    assert_eq!(granted, 10);
    let b = balance(&mut client, c).await;
    assert_eq!((b.balance, b.redeemed), (0, 100));
    let entries = ledger(&mut client, c).await;
    assert_eq!(entries.len(), 11);
    assert!(entries.iter().all(|(_, _, after)| *after >= 0));
}

async fn points_expire_after_the_programme_s_months(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = loyalty(&h, &key);
    put(
        &mut client,
        PointsProgramme {
            welcome_bonus: 0,
            expiry_months: 1,
            ..programme()
        },
    )
    .await;
    let (c, d) = (Uuid::new_v4(), Uuid::new_v4());
    let now = Utc::now();
    h.apply(
        tenant.id,
        vec![
            txn("p1", c, true, now, 10_000, "general"),
            txn("p2", d, true, now, 5_000, "general"),
        ],
    )
    .await
    .unwrap();
    ok(client.redeem_points(redeem("r-1", c, 30))).await;
    let b = balance(&mut client, c).await;
    let due = now + chrono::Months::new(1);
    assert_eq!(b.next_expiry_points, 70);
    assert!((b.next_expiry_at.unwrap().seconds - due.timestamp()).abs() <= 1);
    // Nothing is due yet.
    assert_eq!(
        h.scoring.run_loyalty_once(Utc::now()).await.unwrap(),
        (0, 0)
    );
    let later = due + Duration::days(1);
    assert_eq!(h.scoring.run_loyalty_once(later).await.unwrap(), (2, 0));
    assert_eq!(
        h.scoring.run_loyalty_once(later).await.unwrap(),
        (0, 0),
        "expired once"
    );
    let b = balance(&mut client, c).await;
    assert_eq!((b.balance, b.expired, b.expiring_30d), (0, 70, 0));
    assert_eq!(
        ledger(&mut client, c).await[0],
        (PointsEntryKind::Expiry, -70, 0)
    );
    assert_eq!(balance(&mut client, d).await.expired, 50);
}

async fn a_refund_after_spending_leaves_a_debt(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = loyalty(&h, &key);
    put(
        &mut client,
        PointsProgramme {
            welcome_bonus: 0,
            ..programme()
        },
    )
    .await;
    let c = Uuid::new_v4();
    let now = Utc::now();
    h.apply(tenant.id, vec![txn("p1", c, true, now, 10_000, "general")])
        .await
        .unwrap();
    ok(client.redeem_points(redeem("r-1", c, 90))).await;
    // The purchase refunded in full: 100 taken back from a balance of 10.
    h.apply(tenant.id, vec![txn("r1", c, false, now, 10_000, "general")])
        .await
        .unwrap();
    assert_eq!(balance(&mut client, c).await.balance, -90);
    let refused = client.redeem_points(redeem("r-2", c, 1)).await.unwrap_err();
    assert_eq!(reason(&refused), "INSUFFICIENT_POINTS");
    // A second refund takes back nothing more than purchases earned.
    h.apply(tenant.id, vec![txn("r2", c, false, now, 5_000, "general")])
        .await
        .unwrap();
    assert_eq!(balance(&mut client, c).await.balance, -90);
    // The next purchase pays the debt first.
    h.apply(tenant.id, vec![txn("p2", c, true, now, 12_000, "general")])
        .await
        .unwrap();
    let b = balance(&mut client, c).await;
    assert_eq!(b.balance, 30);
    ok(client.redeem_points(redeem("r-3", c, 30))).await;
}

async fn tier_multipliers_use_the_tier_before_the_purchase(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = loyalty(&h, &key);
    let others: Vec<Uuid> = (0..150).map(|_| Uuid::new_v4()).collect();
    let txns = population::simulate(&mut population::rng(5), &others, Utc::now(), 400);
    support::apply_all(&h, tenant.id, &txns, 400).await;
    fit_models(&mut h.api(&key)).await.expect("fit");
    let mut scores =
        ScoringServiceClient::with_interceptor(h.ts.channel(), BearerAuth::new(&key).unwrap());
    let customer = others[0];
    let tier = ok(scores.get_score(GetScoreRequest {
        customer_id: customer.to_string(),
    }))
    .await
    .score
    .unwrap()
    .tier;
    assert!(!tier.is_empty(), "the fit gives every buyer a tier");
    put(
        &mut client,
        PointsProgramme {
            welcome_bonus: 0,
            tier_multipliers: HashMap::from([(tier.clone(), 3.0)]),
            ..programme()
        },
    )
    .await;
    let newcomer = Uuid::new_v4();
    h.apply(
        tenant.id,
        vec![
            txn("t1", customer, true, Utc::now(), 1_000, "general"),
            txn("t2", newcomer, true, Utc::now(), 1_000, "general"),
        ],
    )
    .await
    .unwrap();
    // 10 € at 3× for the customer's tier; a newcomer has no tier before.
    assert_eq!(balance(&mut client, customer).await.balance, 30);
    assert_eq!(balance(&mut client, newcomer).await.balance, 10);
    let page = ok(client.list_points_ledger(ListPointsLedgerRequest {
        customer_id: customer.to_string(),
        ..Default::default()
    }))
    .await;
    assert_eq!(
        page.entries[0].reason,
        format!("10 EUR × 1 point/unit × 3 (tier {tier}) = 30")
    );
}

async fn members_get_a_birthday_bonus_once_a_year(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = loyalty(&h, &key);
    put(
        &mut client,
        PointsProgramme {
            welcome_bonus: 0,
            birthday_bonus: 25,
            ..programme()
        },
    )
    .await;
    let mut profiles =
        ProfilesServiceClient::with_interceptor(h.ts.channel(), BearerAuth::new(&key).unwrap());
    let today = Utc::now().date_naive();
    let born = |years: i32| {
        today
            .with_year(today.year() - years)
            .unwrap_or_else(|| today - Duration::days(1))
            .format("%Y-%m-%d")
            .to_string()
    };
    let mut ids = Vec::new();
    // A member born today, a member born in a month, someone with no points.
    for (i, birth) in [
        born(30),
        (today + Duration::days(40))
            .with_year(1990)
            .unwrap()
            .format("%Y-%m-%d")
            .to_string(),
        born(40),
    ]
    .into_iter()
    .enumerate()
    {
        let r = ok(profiles.create_customer(CreateCustomerRequest {
            request_id: format!("c{i}"),
            customer: Some(Customer {
                display_name: format!("C{i}"),
                attributes: HashMap::from([("birth_date".to_owned(), birth)]),
                ..Default::default()
            }),
        }))
        .await;
        ids.push(Uuid::parse_str(&r.customer.unwrap().id).unwrap());
    }
    let now = Utc::now();
    h.apply(
        tenant.id,
        vec![
            txn("p1", ids[0], true, now, 1_000, "general"),
            txn("p2", ids[1], true, now, 1_000, "general"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        h.scoring.run_loyalty_once(Utc::now()).await.unwrap(),
        (0, 1)
    );
    // The day's pass is done; a later one grants nothing twice.
    assert_eq!(
        h.scoring.run_loyalty_once(Utc::now()).await.unwrap(),
        (0, 0)
    );
    assert_eq!(balance(&mut client, ids[0]).await.balance, 35);
    assert_eq!(balance(&mut client, ids[1]).await.balance, 10);
    assert_eq!(
        balance(&mut client, ids[2]).await.balance,
        0,
        "not a member"
    );
    assert_eq!(
        ledger(&mut client, ids[0]).await[0].0,
        PointsEntryKind::BirthdayBonus
    );
}

async fn bad_requests_name_their_fields(backend: Backend) {
    let h = start(backend).await;
    let (_, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = loyalty(&h, &key);
    let bad = client
        .put_points_programme(PutPointsProgrammeRequest {
            programme: Some(PointsProgramme {
                points_per_unit: -1.0,
                tier_multipliers: HashMap::from([("gold".into(), 0.0001)]),
                expiry_months: 500,
                ..PointsProgramme::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&bad),
        vec![
            "programme.points_per_unit",
            "programme.tier_multipliers[\"gold\"]",
            "programme.expiry_months"
        ]
    );
    let bad = client
        .put_points_programme(PutPointsProgrammeRequest { programme: None })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&bad), vec!["programme"]);
    let bad = client
        .redeem_points(RedeemPointsRequest {
            request_id: String::new(),
            customer_id: "nope".into(),
            points: 0,
            reason: "x".repeat(201),
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&bad),
        vec!["request_id", "customer_id", "points", "reason"]
    );
    let bad = client
        .adjust_points(AdjustPointsRequest {
            request_id: "a".into(),
            customer_id: Uuid::new_v4().to_string(),
            points: 0,
            reason: " ".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&bad), vec!["points", "reason"]);
    let bad = client
        .list_points_ledger(ListPointsLedgerRequest {
            customer_id: String::new(),
            page_size: -1,
            page_token: "zz".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&bad),
        vec!["customer_id", "page_size", "page_token"]
    );
    let bad = client
        .get_points_balance(GetPointsBalanceRequest {
            customer_id: "x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&bad), vec!["customer_id"]);
}

async fn tenants_and_erasure(backend: Backend) {
    let h = start(backend).await;
    let (acme, key) = h.ts.tenant("acme", "EUR").await;
    let (_, other_key) = h.ts.tenant("other", "EUR").await;
    let mut client = loyalty(&h, &key);
    let mut other = loyalty(&h, &other_key);
    put(&mut client, programme()).await;
    let c = Uuid::new_v4();
    h.apply(
        acme.id,
        vec![txn("p1", c, true, Utc::now(), 10_000, "general")],
    )
    .await
    .unwrap();
    assert_eq!(balance(&mut client, c).await.balance, 200);
    // Another tenant sees no programme, no balance, no ledger, and cannot spend.
    assert_eq!(
        other
            .get_points_programme(GetPointsProgrammeRequest {})
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    assert_eq!(balance(&mut other, c).await.balance, 0);
    assert!(ledger(&mut other, c).await.is_empty());
    let refused = other.redeem_points(redeem("x", c, 1)).await.unwrap_err();
    assert_eq!(reason(&refused), "POINTS_ACCOUNT_NOT_FOUND");
    assert_eq!(balance(&mut client, c).await.balance, 200);
    // Erasing the customer's scores erases the points too.
    let mut internal = ScoringServiceClient::new(h.ts.channel());
    let request = h.ts.app.internal.request(
        acme.id,
        None,
        EraseCustomerScoresRequest {
            customer_id: c.to_string(),
            erasure_id: Uuid::now_v7().to_string(),
        },
    );
    internal.erase_customer_scores(request).await.unwrap();
    assert_eq!(
        balance(&mut client, c).await,
        PointsBalance {
            customer_id: c.to_string(),
            ..PointsBalance::default()
        }
    );
    assert!(ledger(&mut client, c).await.is_empty());
}
