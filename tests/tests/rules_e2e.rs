//! Rules acting on scores across the four services as separate servers on
//! Postgres and Redis, with email delivered to a real SMTP server (aiosmtpd):
//! a receipt rule fires once per purchase, a marketing rule once when the
//! customer becomes valuable, the customer without email consent gets
//! nothing (and the refusal is on record), and importing the same
//! transactions again contacts no one twice.

use std::time::Duration;

use rapport::{
    client::Clients,
    import::{ImportOptions, import_customers, import_transactions},
    rules::file,
};
use rapport_kit::testing::{
    self, Backend, ok,
    smtp::{Mail, Options, SmtpServer},
};
use rapport_proto::v1::{
    Channel, CreateRuleRequest, GetRuleRequest, GetRuleStatsRequest, ListFiringsRequest,
    ListNotificationsRequest, NotificationStatus, PublishRuleRequest, PutTemplateRequest, Rule,
    Template,
};
use rapport_tests::{SplitSuite, customer_id};
use tonic::Code;

const CUSTOMERS: &str = "\
customer_id,name,kind,email,consent_email
C1,Ada Adler,person,ada@example.com,yes
C2,Ben Berg,person,ben@example.com,no
";

const RECEIPT_RULE: &str = r#"
name = "receipt"
condition = "event.amount > 0.0"
trigger = "event"
event_kinds = ["purchase"]
[[actions]]
notify = { channel = "email", template = "receipt", locale = "en", purpose = "transactional" }
"#;

const VIP_RULE: &str = r#"
name = "became-valuable"
condition = "score.net_spend > 500.0"
topic = "vip-welcome"
[[actions]]
notify = { channel = "email", template = "vip", locale = "en" }
[[actions]]
tag = "vip"
"#;

async fn template(clients: &mut Clients, name: &str, subject: &str, body: &str, data: &[&str]) {
    clients
        .notifications
        .put_template(PutTemplateRequest {
            template: Some(Template {
                name: name.into(),
                channel: Channel::Email as i32,
                locale: "en".into(),
                subject: subject.into(),
                body: body.into(),
                required_data: data.iter().map(|d| d.to_string()).collect(),
                default_locale: true,
                ..Default::default()
            }),
        })
        .await
        .unwrap_or_else(|s| panic!("template {name}: {s:?}"));
}

async fn publish(clients: &mut Clients, text: &str) -> Rule {
    let definition = file::parse(text).unwrap();
    let rule = ok(clients.rules.create_rule(CreateRuleRequest {
        request_id: format!("create-{}", definition.name),
        author: "maria@example.com".into(),
        definition: Some(definition),
    }))
    .await
    .rule
    .unwrap();
    ok(clients.rules.publish_rule(PublishRuleRequest {
        rule_id: rule.id.clone(),
        version: 1,
    }))
    .await
    .rule
    .unwrap()
}

async fn import(clients: &mut Clients, rows: &str) {
    let path = testing::fresh_dir().join("transactions.csv");
    std::fs::write(
        &path,
        format!("transaction_id,customer_id,kind,occurred_at,amount,currency\n{rows}"),
    )
    .unwrap();
    let summary = import_transactions(clients, &path, &ImportOptions::default())
        .await
        .unwrap();
    assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
}

/// Waits until the server holds `n` emails, then returns them.
async fn mails(smtp: &SmtpServer, n: usize) -> Vec<Mail> {
    for _ in 0..600 {
        let got = smtp.mails();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("expected {n} emails, got {:?}", smtp.mails());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_contact_customers_through_real_email_once_and_with_consent() {
    rules_contact_customers(false).await;
}

/// The same with every service behind a real PgBouncer in transaction mode:
/// the rules worker's claims, leases and marks, and notifications' outbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_contact_customers_through_pgbouncer() {
    rules_contact_customers(true).await;
}

async fn rules_contact_customers(pgbouncer: bool) {
    let smtp = SmtpServer::start(Options::default()).await;
    let mut config = testing::config(Backend::Postgres).await;
    config.redis_url = Some(rapport_kit::config::Secret::new(testing::redis_url()));
    config.update_section(|n: &mut rapport_notifications::config::NotifyConfig| {
        n.smtp.host = Some("127.0.0.1".into());
        n.smtp.port = smtp.port;
        n.smtp.tls = rapport_notifications::config::SmtpTls::None;
        n.smtp.from = "Shop <shop@example.com>".into();
    });
    let _bouncer = match pgbouncer {
        true => Some(rapport_tests::through_pgbouncer(&mut config, true).await),
        false => None,
    };
    let suite = SplitSuite::start(config).await;
    let (_, key) = suite.profiles.tenant("acme", "EUR").await;
    let (_, other_key) = suite.profiles.tenant("globex", "EUR").await;
    let mut c = suite.clients(&key);

    let customers = testing::fresh_dir().join("customers.csv");
    std::fs::write(&customers, CUSTOMERS).unwrap();
    import_customers(&mut c, &customers, &ImportOptions::default())
        .await
        .unwrap();
    template(
        &mut c,
        "receipt",
        "Your order",
        "Thank you {{ customer.first_name | default: \"friend\" }}: we received your order \
         of {{ data.event_amount }} EUR.",
        &["event_amount"],
    )
    .await;
    template(
        &mut c,
        "vip",
        "Welcome to our best customers",
        "{{ customer.first_name | default: \"Hello\" }}, {{ score.purchases_this_year }} \
         orders this year: you are now one of our best customers.",
        &[],
    )
    .await;
    let receipt = publish(&mut c, RECEIPT_RULE).await;
    let vip = publish(&mut c, VIP_RULE).await;

    // 100 then 600 EUR for Ada (the second makes her valuable); 50 for Ben.
    let batch = "T1,C1,purchase,2026-11-01,100.00,EUR\n\
                 T2,C1,purchase,2026-11-02,600.00,EUR\n\
                 T3,C2,purchase,2026-11-02,50.00,EUR\n";
    import(&mut c, batch).await;
    let got = mails(&smtp, 3).await;
    let ada = customer_id(&mut c, "C1").await;
    let ben = customer_id(&mut c, "C2").await;

    let to_ada: Vec<&Mail> = got
        .iter()
        .filter(|m| m.rcpt_tos == ["ada@example.com"])
        .collect();
    assert_eq!(to_ada.len(), 3, "two receipts and one welcome: {got:?}");
    let mut receipts: Vec<&str> = to_ada
        .iter()
        .filter(|m| m.headers.get("subject").map(String::as_str) == Some("Your order"))
        .map(|m| m.body.trim())
        .collect();
    receipts.sort();
    assert_eq!(
        receipts,
        [
            "Thank you Ada: we received your order of 100 EUR.",
            "Thank you Ada: we received your order of 600 EUR."
        ]
    );
    let welcome = to_ada
        .iter()
        .find(|m| {
            m.headers.get("subject").map(String::as_str) == Some("Welcome to our best customers")
        })
        .expect("the welcome email");
    assert!(
        welcome.body.contains("Ada, 2 orders this year"),
        "{}",
        welcome.body
    );
    assert!(
        got.iter().all(|m| m.rcpt_tos != ["ben@example.com"]),
        "Ben never consented to email"
    );

    // Ben's receipt was refused for lack of consent, and that is on record
    // (his purchase may be evaluated after Ada's emails went out).
    let mut bens = Vec::new();
    for _ in 0..600 {
        bens = ok(c
            .notifications
            .list_notifications(ListNotificationsRequest {
                customer_id: ben.clone(),
                page_size: 10,
                page_token: String::new(),
            }))
        .await
        .notifications;
        if !bens.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(bens.len(), 1, "{bens:?}");
    assert_eq!(bens[0].status, NotificationStatus::Suppressed as i32);
    assert!(
        bens[0].suppressed_reason.contains("CONSENT"),
        "{}",
        bens[0].suppressed_reason
    );
    assert!(bens[0].origin.contains(&receipt.id));

    // The same import again, then one new purchase as a marker: only the
    // marker's receipt goes out.
    import(&mut c, batch).await;
    import(&mut c, "T4,C1,purchase,2026-11-03,10.00,EUR\n").await;
    let all = mails(&smtp, 4).await;
    let third = |s: &rapport_proto::v1::Score| s.purchase_count == 3;
    let score = rapport_tests::score_once(&mut c, &ada, Duration::from_secs(60), third).await;
    let score = score.expect("Ada's third purchase reaches her score");
    assert_eq!(all.len(), 4, "nothing sent twice: {all:?}");
    assert!(all.iter().any(|m| m.body.contains("order of 10 EUR")));
    assert_eq!(score.tags, ["vip"]);

    let firings = |rule: &Rule| ListFiringsRequest {
        rule_id: rule.id.clone(),
        page_size: 50,
        ..Default::default()
    };
    let receipt_firings = ok(c.rules.list_firings(firings(&receipt))).await.firings;
    assert_eq!(receipt_firings.len(), 4, "one per purchase, Ben's included");
    let vip_firings = ok(c.rules.list_firings(firings(&vip))).await.firings;
    assert_eq!(vip_firings.len(), 1);
    assert_eq!(vip_firings[0].customer_id, ada);
    let stats = ok(c.rules.get_rule_stats(GetRuleStatsRequest {
        rule_id: receipt.id.clone(),
        window_days: 30,
    }))
    .await;
    assert_eq!(stats.firings, 4);
    assert_eq!(stats.notifications_suppressed, 1);

    // Another tenant sees none of it.
    let mut other = suite.clients(&other_key);
    let seen = ok(other.rules.list_firings(firings(&receipt)))
        .await
        .firings;
    assert!(seen.is_empty(), "{seen:?}");
    let err = other
        .rules
        .get_rule(GetRuleRequest {
            rule_id: receipt.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    suite.stop().await;
}
