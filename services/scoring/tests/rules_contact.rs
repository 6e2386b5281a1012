//! Rules that contact customers, on both backends: actions reaching the real
//! notifications service (dedupe keys, origin, templates, send times),
//! consent answers recorded, holdout, and work left for a retry (and saves
//! refused) while notifications cannot be reached.

mod support;

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use rapport_kit::testing::{self, Backend, ok};
use rapport_proto::v1::{
    Channel, GetRuleStatsRequest, NotificationStatus, Purpose, PutTemplateRequest, RuleTrigger,
    Template,
};
use support::{
    interaction_of, population, purchase,
    rules::{
        consent, definition, email, firings, notifications_of, publish, round, start, tag, webhook,
    },
    start_all,
};
use uuid::Uuid;

rapport_kit::backend_tests! {
    event_rules_fire_once_per_event_and_reach_notifications, holdout_customers_are_not_contacted,
    unreachable_notifications_leave_work_for_a_retry, birthdays_reminders_and_cart_nudges,
    concurrent_workers_fire_each_episode_once, points_reach_rules_and_templates,
}

/// A tenant's email template and a server accepting email.
async fn email_harness(backend: Backend) -> support::Harness {
    let mut config = testing::config(backend).await;
    // The worker that would deliver is not started: messages stay pending.
    config.update_section(|n: &mut rapport_notifications::config::NotifyConfig| {
        n.smtp.host = Some("127.0.0.1".into());
        n.smtp.from = "Rapport <rules@example.com>".into();
    });
    start_all(config, None, None).await
}

async fn event_rules_fire_once_per_event_and_reach_notifications(backend: Backend) {
    let h = email_harness(backend).await;
    let (tenant, key) = h.contact_tenant("acme").await;
    let mut notify = h.notifications(&key);
    notify
        .put_template(PutTemplateRequest {
            template: Some(Template {
                name: "receipt".into(),
                channel: Channel::Email as i32,
                locale: "en".into(),
                subject: "Your receipt".into(),
                body: "Thank you for your purchase.".into(),
                default_locale: true,
                ..Default::default()
            }),
        })
        .await
        .expect("put template");
    let mut c = h.rules(&key);
    let mut d = definition("receipt", RuleTrigger::Event, "event.amount > 0.0");
    d.event_kinds = vec!["purchase".into()];
    d.topic = "receipt".into();
    d.actions = vec![email("receipt", Purpose::Transactional), webhook("crm")];
    let rule = publish(&mut c, d).await;
    // No consent on any channel: the email is suppressed, while the post to
    // the tenant's own CRM is an integration and needs none.
    let a = population::customers(&h, &key, 1, |_| None).await[0];
    let at = Utc::now() - Duration::days(1);
    let first = vec![
        purchase("txn:1", a, at, 4_000),
        purchase("txn:2", a, at, 2_500),
        support::interaction("evt:1", a, at),
    ];
    h.apply(tenant.id, first.clone()).await.unwrap();
    h.apply(tenant.id, vec![purchase("txn:3", a, at, 900)])
        .await
        .unwrap();
    round(&h).await;
    // Redelivered changes and another round fire nothing new.
    h.apply(tenant.id, first).await.unwrap();
    round(&h).await;
    let f = firings(&mut c, &rule.id).await;
    let episodes: BTreeSet<_> = f.iter().map(|f| f.episode.as_str()).collect();
    assert_eq!(episodes, BTreeSet::from(["txn:1", "txn:2", "txn:3"]));
    for f in &f {
        assert_eq!(f.event_kind, "purchase");
        assert_eq!(f.action_results.len(), 2, "{:?}", f.action_results);
        // No consent to email: suppressed, recorded, not retried.
        assert!(
            f.action_results[0].starts_with("suppressed: "),
            "{:?}",
            f.action_results
        );
        assert!(
            f.action_results[1].starts_with("notification "),
            "{:?}",
            f.action_results
        );
    }
    let listed = notifications_of(&mut notify, Some(&a.to_string())).await;
    assert_eq!(listed.len(), 6, "two actions per purchase, each once");
    let origin = format!("rule:{}:v1", rule.id);
    let keys: BTreeSet<_> = listed.iter().map(|n| n.dedupe_key.clone()).collect();
    for id in ["txn:1", "txn:2", "txn:3"] {
        assert!(keys.contains(&format!("topic:receipt:{a}:{id}")));
        assert!(keys.contains(&format!("topic:receipt:{a}:{id}:1")));
    }
    assert!(listed.iter().all(|n| n.origin == origin));
    let posts: Vec<_> = listed
        .iter()
        .filter(|n| n.channel == Channel::Webhook as i32)
        .collect();
    assert_eq!(posts.len(), 3);
    assert!(posts.iter().all(|n| n.integration_endpoint == "crm"
        && n.destination == "http://127.0.0.1:9/hook"
        && n.status != NotificationStatus::Suppressed as i32));
    let emails: Vec<_> = listed
        .iter()
        .filter(|n| n.channel == Channel::Email as i32)
        .collect();
    assert_eq!(emails.len(), 3);
    assert!(emails.iter().all(|n| n.template == "receipt"));
    assert!(
        emails
            .iter()
            .all(|n| n.purpose == Purpose::Transactional as i32)
    );
    h.ts.stop().await;
}

async fn holdout_customers_are_not_contacted(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.contact_tenant("acme").await;
    let mut c = h.rules(&key);
    let mut d = definition("thanks", RuleTrigger::Event, "true");
    d.event_kinds = vec!["purchase".into()];
    d.holdout_percent = 50;
    d.actions = vec![webhook("crm"), tag("thanked")];
    let rule = publish(&mut c, d).await;
    let at = Utc::now() - Duration::days(1);
    let customers = population::customers(&h, &key, 40, |_| None).await;
    consent(&h, &key, &customers, Channel::Webhook).await;
    let changes = customers
        .iter()
        .enumerate()
        .map(|(i, cu)| purchase(&format!("txn:{i}"), *cu, at, 1_000))
        .collect();
    h.apply(tenant.id, changes).await.unwrap();
    round(&h).await;
    let f = firings(&mut c, &rule.id).await;
    assert_eq!(f.len(), 40);
    // Pages of 15 cover every firing once; a customer's own list has theirs.
    let mut paged = BTreeSet::new();
    let mut token = String::new();
    loop {
        let page = ok(c.list_firings(rapport_proto::v1::ListFiringsRequest {
            rule_id: rule.id.clone(),
            page_size: 15,
            page_token: token,
            ..Default::default()
        }))
        .await;
        assert!(page.firings.len() <= 15);
        paged.extend(page.firings.into_iter().map(|f| f.id));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(
        paged,
        f.iter().map(|f| f.id.clone()).collect::<BTreeSet<_>>()
    );
    let own = ok(c.list_firings(rapport_proto::v1::ListFiringsRequest {
        customer_id: customers[7].to_string(),
        ..Default::default()
    }))
    .await
    .firings;
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].customer_id, customers[7].to_string());
    let (held, contacted): (Vec<_>, Vec<_>) = f.iter().partition(|f| f.holdout);
    assert!(
        !held.is_empty() && !contacted.is_empty(),
        "both groups: {}",
        held.len()
    );
    for f in &held {
        assert_eq!(f.action_results, ["holdout: not contacted", "tag thanked"]);
    }
    for f in &contacted {
        assert!(f.action_results[0].starts_with("notification "));
    }
    let mut notify = h.notifications(&key);
    let sent = notifications_of(&mut notify, None).await;
    let sent_to: BTreeSet<_> = sent.iter().map(|n| n.customer_id.clone()).collect();
    let expected: BTreeSet<_> = contacted.iter().map(|f| f.customer_id.clone()).collect();
    assert_eq!(sent_to, expected);
    let stats = ok(c.get_rule_stats(GetRuleStatsRequest {
        rule_id: rule.id.clone(),
        window_days: 30,
    }))
    .await;
    assert_eq!(stats.firings, 40);
    assert_eq!(stats.customers_matched, 40);
    assert_eq!(stats.customers_contacted, contacted.len() as u64);
    assert_eq!(stats.holdout_customers, held.len() as u64);
    assert_eq!(stats.notifications_sent, contacted.len() as u64);
    // The purchases that fired the rule came before it: none count as after.
    assert_eq!(
        (
            stats.purchases_per_contacted_customer,
            stats.purchases_per_holdout_customer
        ),
        (0.0, 0.0)
    );
    h.ts.stop().await;
}

/// A notifications server at `addr`, on `h`'s database.
async fn notifications_at(
    h: &support::Harness,
    addr: std::net::SocketAddr,
) -> rapport_kit::testing::TestServer {
    let mut config = h.ts.config.clone();
    config.listen = addr;
    let own = h.ts.url();
    rapport_kit::testing::TestServer::start(config, move |app, server, _| {
        support::add_notifications(app, server, &own)
    })
    .await
}

async fn unreachable_notifications_leave_work_for_a_retry(backend: Backend) {
    use rapport_proto::v1::ListRulesRequest;
    use support::rules::{options, round_with};
    // A port nothing listens on yet: sends fail with UNAVAILABLE.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = testing::config(backend).await;
    let h = support::start_sending_to(config, format!("http://{addr}")).await;
    let (tenant, key) = h.contact_tenant("acme").await;
    let a = population::customers(&h, &key, 1, |_| None).await[0];
    consent(&h, &key, &[a], Channel::Webhook).await;
    let mut c = h.rules(&key);
    let mut d = definition("hook", RuleTrigger::Event, "true");
    d.event_kinds = vec!["purchase".into()];
    d.actions = vec![webhook("crm")];
    // The endpoint cannot be looked up: the save is refused, nothing kept.
    let create = rapport_proto::v1::CreateRuleRequest {
        request_id: "create-hook".into(),
        author: "tester".into(),
        definition: Some(d.clone()),
    };
    let refused = c.create_rule(create).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    assert!(refused.message().contains("notifications"), "{refused:?}");
    let listed = ok(c.list_rules(ListRulesRequest::default())).await;
    assert!(listed.rules.is_empty(), "{:?}", listed.rules);
    // Saved and published while notifications answers; then it goes away.
    let notify = notifications_at(&h, addr).await;
    let rule = publish(&mut c, d).await;
    notify.stop().await;
    let at = Utc::now() - Duration::days(1);
    h.apply(tenant.id, vec![purchase("txn:1", a, at, 1_000)])
        .await
        .unwrap();
    let short = rapport_scoring::RulesOptions {
        lease: std::time::Duration::from_secs(1),
        ..options()
    };
    round_with(&h, short.clone()).await;
    let f = firings(&mut c, &rule.id).await;
    assert_eq!(f.len(), 1, "the firing is recorded once");
    assert!(f[0].action_results.is_empty(), "{:?}", f[0].action_results);

    // Notifications comes back where scoring sends; the work row's lease lapses.
    let notify = notifications_at(&h, addr).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    round_with(&h, short.clone()).await;
    round_with(&h, short).await;
    let f = firings(&mut c, &rule.id).await;
    assert_eq!(f.len(), 1, "still one firing");
    assert!(
        f[0].action_results[0].starts_with("notification "),
        "{:?}",
        f[0].action_results
    );
    let sent = notifications_of(&mut h.notifications(&key), Some(&a.to_string())).await;
    assert_eq!(sent.len(), 1, "sent once");
    assert_eq!(sent[0].dedupe_key, format!("topic:{}:{a}:txn:1", rule.id));
    notify.stop().await;
    h.ts.stop().await;
}

async fn birthdays_reminders_and_cart_nudges(backend: Backend) {
    use rapport_proto::v1::{
        CreateCustomerRequest, Customer, NotifyAction,
        profiles_service_client::ProfilesServiceClient,
    };
    use support::rules::{email_notice, notify_action};
    let hours = |n: i64| prost_types::Duration {
        seconds: n * 3_600,
        nanos: 0,
    };
    let h = email_harness(backend).await;
    let (tenant, key) = h.contact_tenant("acme").await;
    let now = Utc::now();
    let mut profiles = ProfilesServiceClient::with_interceptor(
        h.ts.channel(),
        rapport_kit::internal::BearerAuth::new(&key).unwrap(),
    );
    let mut ids = Vec::new();
    for (i, birth) in [now.format("1990-%m-%d").to_string(), "1990-01-00".into()]
        .into_iter()
        .enumerate()
    {
        let r = ok(profiles.create_customer(CreateCustomerRequest {
            request_id: format!("c{i}"),
            customer: Some(Customer {
                display_name: format!("C{i}"),
                email: format!("c{i}@example.com"),
                attributes: [("birth_date".to_owned(), birth)].into(),
                ..Default::default()
            }),
        }))
        .await;
        ids.push(Uuid::parse_str(&r.customer.unwrap().id).unwrap());
    }
    consent(&h, &key, &ids, Channel::Email).await;
    let changes = ids
        .iter()
        .enumerate()
        .map(|(i, c)| purchase(&format!("txn:{i}"), *c, now - Duration::days(10), 1_000))
        .collect();
    h.apply(tenant.id, changes).await.unwrap();
    let mut notify = h.notifications(&key);
    for name in ["birthday", "reminder", "cart"] {
        notify
            .put_template(PutTemplateRequest {
                template: Some(Template {
                    name: name.into(),
                    channel: Channel::Email as i32,
                    locale: "en".into(),
                    subject: name.into(),
                    body: format!("{name} text"),
                    default_locale: true,
                    ..Default::default()
                }),
            })
            .await
            .unwrap();
    }
    let mut c = h.rules(&key);
    let mut d = definition(
        "birthday",
        RuleTrigger::Schedule,
        "customer.attributes[\"birth_date\"].endsWith(today.month_day)",
    );
    d.actions = vec![email("birthday", Purpose::Transactional)];
    let birthday = publish(&mut c, d).await;
    let mut d = definition(
        "reminder",
        RuleTrigger::Event,
        "\"appointment_at\" in event.properties",
    );
    d.event_kinds = vec!["appointment_booked".into()];
    d.actions = vec![notify_action(NotifyAction {
        before_event_property: "appointment_at".into(),
        before: Some(hours(24)),
        ..email_notice("reminder", Purpose::Transactional)
    })];
    let reminder = publish(&mut c, d).await;
    // An abandoned cart gets a nudge an hour later, not at once.
    let mut d = definition("cart-nudge", RuleTrigger::Event, "true");
    d.event_kinds = vec!["cart_abandoned".into()];
    d.actions = vec![notify_action(NotifyAction {
        delay: Some(hours(1)),
        ..email_notice("cart", Purpose::Marketing)
    })];
    let nudge = publish(&mut c, d).await;
    let appointment = (now + Duration::days(3))
        .format("%Y-%m-%dT10:00:00Z")
        .to_string();
    let props = [("appointment_at".to_owned(), appointment.clone())].into();
    let hour_ago = now - Duration::hours(1);
    let booked = interaction_of("evt:booked", ids[1], "appointment_booked", hour_ago, props);
    let just_now = now - Duration::minutes(5);
    let abandoned = interaction_of("evt:cart", ids[0], "cart_abandoned", just_now, [].into());
    let before = Utc::now();
    h.apply(tenant.id, vec![booked, abandoned]).await.unwrap();
    round(&h).await;
    let after = Utc::now();

    let f = firings(&mut c, &birthday.id).await;
    assert_eq!(f.len(), 1, "only today's birthday");
    assert_eq!(f[0].customer_id, ids[0].to_string());
    assert!(f[0].inputs.contains_key("today.month_day"));
    let f = firings(&mut c, &reminder.id).await;
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].inputs["event.properties.appointment_at"], appointment);
    let sent = notifications_of(&mut notify, Some(&ids[1].to_string())).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let expected = chrono::DateTime::parse_from_rfc3339(&appointment).unwrap() - Duration::days(1);
    assert_eq!(
        sent[0].send_at.as_ref().map(|t| t.seconds),
        Some(expected.timestamp()),
        "sent a day before the appointment"
    );
    assert_eq!(sent[0].template, "reminder");

    assert_eq!(firings(&mut c, &nudge.id).await.len(), 1);
    let to_first = notifications_of(&mut notify, Some(&ids[0].to_string())).await;
    let cart = to_first
        .iter()
        .find(|n| n.template == "cart")
        .expect("the nudge is queued");
    assert_eq!(cart.status, NotificationStatus::Scheduled as i32);
    let send_at = cart.send_at.as_ref().expect("send_at").seconds;
    assert!(
        (before + Duration::hours(1)).timestamp() <= send_at
            && send_at <= (after + Duration::hours(1)).timestamp() + 1,
        "an hour after the firing: {send_at}"
    );
    h.ts.stop().await;
}

async fn concurrent_workers_fire_each_episode_once(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.contact_tenant("acme").await;
    let customers = population::customers(&h, &key, 30, |_| None).await;
    consent(&h, &key, &customers, Channel::Webhook).await;
    let mut c = h.rules(&key);
    let mut d = definition("hook", RuleTrigger::Event, "event.amount > 1.0");
    d.event_kinds = vec!["purchase".into()];
    d.actions = vec![webhook("crm")];
    let hook = publish(&mut c, d).await;
    let buyer = publish(
        &mut c,
        definition(
            "buyer",
            RuleTrigger::ScoreChange,
            "score.purchase_count > 0",
        ),
    )
    .await;
    let at = Utc::now() - Duration::days(1);
    for (i, cu) in customers.iter().enumerate() {
        let changes = vec![
            purchase(&format!("txn:{i}:a"), *cu, at, 1_000),
            purchase(&format!("txn:{i}:b"), *cu, at, 2_000),
        ];
        h.apply(tenant.id, changes).await.unwrap();
    }
    // Three workers at once, as three replicas would run.
    tokio::join!(round(&h), round(&h), round(&h));
    round(&h).await;
    assert_eq!(
        firings(&mut c, &hook.id).await.len(),
        60,
        "one per purchase"
    );
    assert_eq!(
        firings(&mut c, &buyer.id).await.len(),
        30,
        "one per customer"
    );
    let sent = notifications_of(&mut h.notifications(&key), None).await;
    assert_eq!(sent.len(), 60);
    h.ts.stop().await;
}

/// A rule on loyalty points: its condition reads them, and its email's
/// template shows them.
async fn points_reach_rules_and_templates(backend: Backend) {
    use rapport_kit::internal::BearerAuth;
    use rapport_proto::v1::{
        CreateCustomerRequest, Customer, PointsProgramme, PutPointsProgrammeRequest,
        loyalty_service_client::LoyaltyServiceClient,
        profiles_service_client::ProfilesServiceClient,
    };
    let h = email_harness(backend).await;
    let (tenant, key) = h.contact_tenant("acme").await;
    let mut notify = h.notifications(&key);
    ok(notify.put_template(PutTemplateRequest {
        template: Some(Template {
            name: "points".into(),
            channel: Channel::Email as i32,
            locale: "en".into(),
            subject: "Your points".into(),
            body: "You have {{ data.points_balance }} points; \
                   {{ data.points_expiring_30d }} expire within 30 days."
                .into(),
            required_data: vec!["points_balance".into(), "points_expiring_30d".into()],
            default_locale: true,
            ..Default::default()
        }),
    }))
    .await;
    // Points kept a month, earning since a year ago.
    let mut loyalty =
        LoyaltyServiceClient::with_interceptor(h.ts.channel(), BearerAuth::new(&key).unwrap());
    let since = Utc::now() - Duration::days(365);
    ok(loyalty.put_points_programme(PutPointsProgrammeRequest {
        programme: Some(PointsProgramme {
            points_per_unit: 1.0,
            expiry_months: 1,
            started_at: Some(rapport_kit::domain::chrono_to_timestamp(since)),
            ..Default::default()
        }),
    }))
    .await;
    let mut profiles =
        ProfilesServiceClient::with_interceptor(h.ts.channel(), BearerAuth::new(&key).unwrap());
    let mut ids = Vec::new();
    for (i, email) in ["rich@example.com", "poor@example.com"]
        .into_iter()
        .enumerate()
    {
        let made = ok(profiles.create_customer(CreateCustomerRequest {
            request_id: format!("c{i}"),
            customer: Some(Customer {
                display_name: format!("C{i}"),
                email: email.into(),
                ..Default::default()
            }),
        }))
        .await;
        ids.push(Uuid::parse_str(&made.customer.unwrap().id).unwrap());
    }
    consent(&h, &key, &ids, Channel::Email).await;
    let mut c = h.rules(&key);
    let mut d = definition(
        "points-expiring",
        RuleTrigger::ScoreChange,
        "points.balance >= 100 && points.expiring_30d > 0",
    );
    d.actions = vec![email("points", Purpose::Marketing)];
    let rule = publish(&mut c, d).await;
    // Ten days ago: the points expire in about twenty.
    let at = Utc::now() - Duration::days(10);
    h.apply(
        tenant.id,
        vec![
            purchase("txn:rich", ids[0], at, 15_000),
            purchase("txn:poor", ids[1], at, 5_000),
        ],
    )
    .await
    .unwrap();
    round(&h).await;
    let fired = firings(&mut c, &rule.id).await;
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0].customer_id, ids[0].to_string());
    let sent = notifications_of(&mut notify, Some(&ids[0].to_string())).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].body,
        "You have 150 points; 150 expire within 30 days."
    );
    assert!(
        notifications_of(&mut notify, Some(&ids[1].to_string()))
            .await
            .is_empty()
    );
    h.ts.stop().await;
}
