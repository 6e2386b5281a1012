//! The whole suite end to end through its gRPC API: a tenant imports
//! customers and transactions from ERP CSV, reads scores that match a hand
//! computation, and a notification reaches a real HTTP receiver. Run once with
//! the four services as separate servers on Postgres and Redis, and once as
//! the embedded all-in-one on SQLite.

use std::time::Duration;

use chrono::{Datelike, TimeZone, Utc};
use rapport::{
    client::Clients,
    import::{ImportOptions, import_customers, import_transactions},
};
use rapport_kit::testing::{self, Backend, Receiver, ok};
use rapport_proto::v1::{
    BatchGetScoresRequest, Channel, GetCustomerRequest, GetNotificationRequest, GetScoreRequest,
    ListCustomersRequest, NotificationStatus, RotateWebhookSecretRequest, Score,
    SendNotificationRequest, SetConsentRequest,
};
use rapport_tests::{SplitSuite, all_in_one, customer_id, score_once};
use tonic::Code;

const CUSTOMERS: &str = "\
customer_id,name,kind,email,parent_id,consent_email,region,industry
H1,Harbor Holdings,business,hq@example.com,,yes,north,logistics
C1,Ada Adler,person,ada@example.com,,yes,south,
C2,Ben Berg,business,ben@example.com,H1,no,north,retail
";

// Lines 7 to 9 are bad: three decimals, a foreign currency, year 9999.
const TRANSACTIONS: &str = "\
transaction_id,customer_id,kind,occurred_at,amount,currency,margin,category
T1,C1,purchase,2026-01-15,100.00,EUR,30.00,apparel
T2,C1,purchase,2026-03-20T10:00:00Z,50.50,EUR,,home
T3,C1,refund,2026-03-25,20.00,EUR,,home
T4,C2,purchase,2026-02-01,1000.00,EUR,250.00,services
T5,C3,purchase,2026-02-02,10.00,EUR,,groceries
T6,C1,purchase,2026-03-21,12.345,EUR,,home
T7,C2,purchase,2026-02-03,5.00,USD,,services
T8,C2,purchase,9999-01-01,5.00,EUR,,services
";

fn files() -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = testing::fresh_dir();
    let (c, t) = (dir.join("customers.csv"), dir.join("transactions.csv"));
    std::fs::write(&c, CUSTOMERS).unwrap();
    std::fs::write(&t, TRANSACTIONS).unwrap();
    (c, t)
}

/// Polls until the customer's score shows `purchases` purchases and `refunds` refunds.
async fn score_when(clients: &mut Clients, id: &str, purchases: u64, refunds: u64) -> Score {
    let counts = |s: &Score| s.purchase_count == purchases && s.refund_count == refunds;
    let score = score_once(clients, id, Duration::from_secs(15), counts).await;
    score.unwrap_or_else(|| {
        panic!("score of {id} never reached {purchases} purchases and {refunds} refunds")
    })
}

fn minor(m: &Option<rapport_proto::v1::Money>) -> (i64, &str) {
    let m = m.as_ref().expect("money");
    (m.minor_units, m.currency_code.as_str())
}

async fn scenario(mut a: Clients, mut b: Clients) {
    let (customers_csv, transactions_csv) = files();
    let opts = ImportOptions {
        batch_size: 3,
        ..ImportOptions::default()
    };

    // Import: customers, then transactions with three bad rows among good ones.
    let c = import_customers(&mut a, &customers_csv, &opts)
        .await
        .unwrap();
    assert_eq!((c.rows, c.stored, c.rejected.len()), (3, 3, 0), "{c:?}");
    let t = import_transactions(&mut a, &transactions_csv, &opts)
        .await
        .unwrap();
    assert_eq!(
        (t.rows, t.stored, t.unchanged, t.customers_created),
        (8, 5, 0, 1),
        "{t:?}"
    );
    let rejected: Vec<(u64, &str)> = t
        .rejected
        .iter()
        .map(|r| (r.line, r.field.as_str()))
        .collect();
    assert_eq!(
        rejected,
        vec![(7, "amount"), (8, "currency"), (9, "occurred_at")],
        "{t:?}"
    );

    // The same files again change nothing.
    let c2 = import_customers(&mut a, &customers_csv, &opts)
        .await
        .unwrap();
    assert_eq!((c2.stored, c2.updated, c2.unchanged), (0, 0, 3), "{c2:?}");
    let t2 = import_transactions(&mut a, &transactions_csv, &opts)
        .await
        .unwrap();
    assert_eq!(
        (
            t2.stored,
            t2.unchanged,
            t2.customers_created,
            t2.rejected.len()
        ),
        (0, 5, 0, 3),
        "{t2:?}"
    );

    // Profiles: the hierarchy and the stub created from an unknown customer id.
    let (h1, c1, c2, c3) = (
        customer_id(&mut a, "H1").await,
        customer_id(&mut a, "C1").await,
        customer_id(&mut a, "C2").await,
        customer_id(&mut a, "C3").await,
    );
    let children = ok(a.profiles.list_customers(ListCustomersRequest {
        parent_id: h1.clone(),
        ..Default::default()
    }))
    .await
    .customers;
    assert_eq!(
        children.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        vec![c2.as_str()]
    );
    let stub = a
        .profiles
        .get_customer(GetCustomerRequest {
            customer_id: c3.clone(),
        })
        .await
        .unwrap();
    assert!(stub.into_inner().customer.unwrap().stub);

    // Scores against a hand computation. C1: purchases 100.00 (Jan) and 50.50
    // (Mar), a refund of 20.00 (Mar).
    let s = score_when(&mut a, &c1, 2, 1).await;
    assert_eq!(minor(&s.purchase_total), (15_050, "EUR"));
    assert_eq!(minor(&s.refund_total), (2_000, "EUR"));
    assert_eq!(minor(&s.net_spend), (13_050, "EUR"));
    assert_eq!(minor(&s.average_order_value), (7_525, "EUR"));
    assert_eq!(
        s.first_purchase_at.unwrap().seconds,
        Utc.with_ymd_and_hms(2026, 1, 15, 0, 0, 0)
            .unwrap()
            .timestamp()
    );
    let last = Utc.with_ymd_and_hms(2026, 3, 20, 10, 0, 0).unwrap();
    assert_eq!(s.last_purchase_at.unwrap().seconds, last.timestamp());
    let now = Utc::now();
    let recency = (now - last).num_days();
    assert!(
        (recency..=recency + 1).contains(&i64::from(s.recency_days)),
        "recency {}",
        s.recency_days
    );
    let months = i64::from((now.year() - 2026) * 12 + now.month() as i32 - 1 + 1);
    let expected_monthly = (13_050 * 2 + months) / (2 * months); // half up
    assert_eq!(minor(&s.average_monthly_spend).0, expected_monthly);
    let monthly: Vec<(String, i64)> = s
        .monthly_spend
        .iter()
        .map(|m| (m.month.clone(), minor(&m.net_spend).0))
        .collect();
    assert_eq!(
        monthly,
        vec![
            ("2026-01".to_owned(), 10_000),
            ("2026-03".to_owned(), 3_050)
        ]
    );

    // C2's purchase travels in a later import batch than C1's rows.
    score_when(&mut a, &c2, 1, 0).await;
    let batch = ok(a.scoring.batch_get_scores(BatchGetScoresRequest {
        customer_ids: vec![c2.clone(), h1.clone(), c1.clone()],
    }))
    .await;
    let got: Vec<(&str, i64)> = batch
        .scores
        .iter()
        .map(|s| (s.customer_id.as_str(), minor(&s.net_spend).0))
        .collect();
    assert_eq!(got, vec![(c2.as_str(), 100_000), (c1.as_str(), 13_050)]);
    assert_eq!(batch.missing_customer_ids, vec![h1.clone()]);
    let stub_score = score_when(&mut a, &c3, 1, 0).await;
    assert_eq!(minor(&stub_score.net_spend).0, 1_000);

    // Another tenant sees none of it.
    let customer_id = c1.clone();
    let answer = b.scoring.get_score(GetScoreRequest { customer_id }).await;
    assert_eq!(answer.unwrap_err().code(), Code::NotFound);
    let customer_id = c1.clone();
    let answer = b
        .profiles
        .get_customer(GetCustomerRequest { customer_id })
        .await;
    assert_eq!(answer.unwrap_err().code(), Code::NotFound);
    let listed = ok(b.profiles.list_customers(ListCustomersRequest::default())).await;
    assert!(listed.customers.is_empty());

    // A notification reaches a real HTTP receiver, once, signed: the
    // customer consented to the webhook channel and the tenant has a secret.
    a.profiles
        .set_consent(SetConsentRequest {
            customer_id: c1.clone(),
            channel: Channel::Webhook as i32,
            granted: true,
            at: None,
        })
        .await
        .unwrap();
    a.notifications
        .rotate_webhook_secret(RotateWebhookSecretRequest {})
        .await
        .unwrap();
    let receiver = Receiver::start().await;
    let send = SendNotificationRequest {
        dedupe_key: format!("welcome-{c1}"),
        customer_id: c1.clone(),
        channel: Channel::Webhook as i32,
        destination: receiver.url("/hooks/crm"),
        subject: "Welcome".into(),
        body: "Thanks for your purchases".into(),
        ..Default::default()
    };
    let first = ok(a.notifications.send_notification(send.clone())).await;
    assert!(first.created);
    let id = first.notification.unwrap().id;
    let mut delivered = None;
    for _ in 0..200 {
        let n = ok(a.notifications.get_notification(GetNotificationRequest {
            notification_id: id.clone(),
        }))
        .await
        .notification
        .unwrap();
        if n.status == NotificationStatus::Delivered as i32 {
            delivered = Some(n);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let n = delivered.expect("notification delivered");
    assert_eq!(n.attempt_count, 1);
    let again = ok(a.notifications.send_notification(send)).await;
    assert!(!again.created);
    assert_eq!(again.notification.unwrap().id, id);
    let calls = receiver.calls();
    assert_eq!(calls.len(), 1, "delivered exactly once");
    let got = &calls[0];
    assert_eq!(got.path, "/hooks/crm");
    let body = got.json();
    assert_eq!(body["customer_id"], c1.as_str());
    assert_eq!(body["body"], "Thanks for your purchases");
    assert_eq!(got.header("idempotency-key"), id);
    let signature = got.header("rapport-signature");
    assert!(
        signature.starts_with("t=") && signature.contains(",v1="),
        "webhooks are signed: {signature:?}"
    );
    let err = b
        .notifications
        .get_notification(GetNotificationRequest {
            notification_id: id,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_services_on_postgres_and_redis() {
    let mut config = testing::config(Backend::Postgres).await;
    config.redis_url = Some(rapport_kit::config::Secret::new(testing::redis_url()));
    let suite = SplitSuite::start(config).await;
    let (a, b) = suite.two_tenants().await;
    scenario(a, b).await;
    suite.stop().await;
}

/// The production shape behind a real PgBouncer in transaction mode, one
/// pooler database per service schema, with `LISTEN` on the direct URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_services_through_pgbouncer() {
    let mut config = testing::config(Backend::Postgres).await;
    config.redis_url = Some(rapport_kit::config::Secret::new(testing::redis_url()));
    let bouncer = rapport_tests::through_pgbouncer(&mut config, true).await;
    let suite = SplitSuite::start(config).await;
    let (a, b) = suite.two_tenants().await;
    scenario(a, b).await;
    suite.stop().await;
    rapport_tests::assert_every_schema_pooled(&bouncer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_in_one_on_the_embedded_store() {
    let config = testing::config(Backend::Sqlite).await;
    let suite = all_in_one::serving(config).await;
    let (a, b) = all_in_one::two_tenants(&suite).await;
    scenario(a, b).await;
    suite.stop().await.unwrap();
}
