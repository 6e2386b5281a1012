//! The contact policy: frequency cap and cool-down across channels, enforced
//! atomically under racing sends; policy RPCs; scheduling with send_at; on
//! both backends.

mod support;

use rapport_kit::testing::{Backend, ok};
use rapport_proto::v1::{
    Channel, ContactPolicy, GetContactPolicyRequest, ListNotificationsRequest, NotificationStatus,
    Purpose, SendNotificationRequest, UpdateContactPolicyRequest,
};
use support::{
    Client, PENDING, Receiver, SCHEDULED, SUPPRESSED, bad_fields, client, customer, get, profiles,
    send, server, settled, stop, stored, tenant_key, worker,
};
use tonic::Code;

rapport_kit::backend_tests!(
    cap_and_cool_down_count_across_channels,
    racing_sends_let_exactly_the_cap_through,
    policy_updates_are_idempotent_and_isolated,
    send_at_schedules_delivery,
    send_at_keeps_to_the_timestamp_range,
);

fn policy(max_messages: u32, cool_down_hours: u32) -> ContactPolicy {
    ContactPolicy {
        max_messages,
        window_hours: 24,
        cool_down_hours,
        quiet_start_hour: 0,
        quiet_end_hour: 0,
    }
}

async fn set_policy(c: &mut Client, p: ContactPolicy) -> ContactPolicy {
    c.update_contact_policy(UpdateContactPolicyRequest { policy: Some(p) })
        .await
        .expect("update policy")
        .into_inner()
        .policy
        .unwrap()
}

fn message(
    key: &str,
    customer_id: &str,
    channel: Channel,
    purpose: Purpose,
) -> SendNotificationRequest {
    SendNotificationRequest {
        dedupe_key: key.into(),
        customer_id: customer_id.into(),
        channel: channel as i32,
        destination: match channel {
            Channel::Webhook => "http://hooks.example.com/crm".into(),
            _ => String::new(),
        },
        body: "Spring sale".into(),
        purpose: purpose as i32,
        ..Default::default()
    }
}

async fn outcome(c: &mut Client, req: SendNotificationRequest) -> (i32, String) {
    let n = stored(c, req).await;
    (n.status, n.suppressed_reason)
}

async fn cap_and_cool_down_count_across_channels(backend: Backend) {
    let provider = Receiver::start().await;
    let url = provider.url("/sms");
    let ts = server(backend, |c| c.sms.url = Some(url)).await;
    let key = tenant_key(&ts, "acme").await;
    let (mut c, mut people) = (client(&ts, &key), profiles(&ts, &key));
    let both = [Channel::Sms, Channel::Webhook];
    let ann = customer(&mut people, "Ann", "", "+41790000001", &[], &both).await;
    let bob = customer(&mut people, "Bob", "", "+41790000002", &[], &both).await;
    let (mk, tx) = (Purpose::Marketing, Purpose::Transactional);

    set_policy(&mut c, policy(2, 0)).await;
    // Each message in turn: its status and, for a suppressed one, the reason.
    let cap = Some("FREQUENCY_CAP");
    let steps = [
        ("a1", &ann, Channel::Sms, mk, PENDING, None, "the first"),
        (
            "a2",
            &ann,
            Channel::Webhook,
            mk,
            PENDING,
            None,
            "the second",
        ),
        (
            "a3",
            &ann,
            Channel::Sms,
            mk,
            SUPPRESSED,
            cap,
            "the third marketing message in the window, whatever the channel",
        ),
        (
            "a4",
            &ann,
            Channel::Webhook,
            Purpose::Unspecified,
            SUPPRESSED,
            cap,
            "unspecified purpose counts as marketing",
        ),
        (
            "a5",
            &ann,
            Channel::Sms,
            tx,
            PENDING,
            None,
            "receipts are not capped",
        ),
        ("b1", &bob, Channel::Sms, mk, PENDING, None, "per customer"),
    ];
    for (key, who, channel, purpose, status, reason, why) in steps {
        let got = outcome(&mut c, message(key, who, channel, purpose)).await;
        assert_eq!(got.0, status, "{key}: {why}");
        if let Some(reason) = reason {
            assert_eq!(got.1, reason, "{key}: {why}");
        }
    }

    set_policy(&mut c, policy(10, 24)).await;
    assert_eq!(
        outcome(&mut c, message("b2", &bob, Channel::Webhook, mk)).await,
        (SUPPRESSED, "COOL_DOWN".into())
    );
    // Suppressed messages are recorded and listed.
    let listed = ok(
        c.list_notifications(rapport_proto::v1::ListNotificationsRequest {
            customer_id: ann.clone(),
            ..Default::default()
        }),
    )
    .await
    .notifications;
    assert_eq!(listed.iter().filter(|n| n.status == SUPPRESSED).count(), 2);
    ts.stop().await;
}

async fn racing_sends_let_exactly_the_cap_through(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let key = tenant_key(&ts, "acme").await;
    let (mut c, mut people) = (client(&ts, &key), profiles(&ts, &key));
    let who = customer(&mut people, "Raced", "", "", &[], &[Channel::Webhook]).await;
    set_policy(&mut c, policy(4, 0)).await;
    // The first contact creates the customer's contact-state row, so the
    // racers below all meet at its lock rather than at its insertion.
    let first = message("race-first", &who, Channel::Webhook, Purpose::Marketing);
    assert_eq!(outcome(&mut c, first).await.0, PENDING);
    let mut tasks = Vec::new();
    for i in 0..24 {
        let mut c = client(&ts, &key);
        let req = message(
            &format!("race-{i}"),
            &who,
            Channel::Webhook,
            Purpose::Marketing,
        );
        tasks.push(tokio::spawn(async move { outcome(&mut c, req).await }));
    }
    let mut passed = 0;
    for t in tasks {
        match t.await.unwrap() {
            (PENDING, _) => passed += 1,
            (SUPPRESSED, reason) => assert_eq!(reason, "FREQUENCY_CAP"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        passed, 3,
        "exactly up to the cap, however the sends interleave"
    );
    ts.stop().await;
}

async fn policy_updates_are_idempotent_and_isolated(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let mut a = client(&ts, &tenant_key(&ts, "acme").await);
    let mut b = client(&ts, &tenant_key(&ts, "globex").await);
    let get = |c: &mut Client| {
        let mut c = c.clone();
        async move {
            ok(c.get_contact_policy(GetContactPolicyRequest {}))
                .await
                .policy
                .unwrap()
        }
    };
    let defaults = get(&mut a).await;
    assert_eq!(
        (
            defaults.max_messages,
            defaults.window_hours,
            defaults.cool_down_hours
        ),
        (3, 168, 24)
    );
    let p = ContactPolicy {
        quiet_start_hour: 22,
        quiet_end_hour: 7,
        ..policy(5, 12)
    };
    assert_eq!(set_policy(&mut a, p).await, p);
    assert_eq!(set_policy(&mut a, p).await, p, "the same update again");
    assert_eq!(get(&mut a).await, p);
    assert_eq!(get(&mut b).await, defaults, "another tenant keeps its own");
    let err = a
        .update_contact_policy(UpdateContactPolicyRequest {
            policy: Some(ContactPolicy {
                max_messages: 0,
                quiet_end_hour: 24,
                ..p
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(get(&mut a).await, p, "nothing half-written");
    ts.stop().await;
}

async fn send_at_schedules_delivery(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let key = tenant_key(&ts, "acme").await;
    let mut c = client(&ts, &key);
    let receiver = Receiver::start().await;
    let workers = vec![worker(&ts)];
    let at = |secs: i64| {
        rapport_kit::domain::chrono_to_timestamp(
            chrono::Utc::now() + chrono::Duration::seconds(secs),
        )
    };
    let mut later = support::webhook("reminder-tomorrow", "", &receiver.url("/h"));
    later.send_at = Some(at(3_600));
    let resp = stored(&mut c, later).await;
    assert_eq!(resp.status, NotificationStatus::Scheduled as i32);
    assert_eq!(resp.next_attempt_at, resp.send_at);

    let mut soon = support::webhook("reminder-soon", "", &receiver.url("/h"));
    soon.send_at = Some(at(1));
    let soon_id = send(&mut c, soon).await;
    let now_id = send(
        &mut c,
        support::webhook("receipt-now", "", &receiver.url("/h")),
    )
    .await;
    let delivered_now = settled(&mut c, &now_id).await;
    let delivered_soon = settled(&mut c, &soon_id).await;
    assert_eq!(delivered_soon.status, NotificationStatus::Delivered as i32);
    let (due, done) = (
        delivered_soon.send_at.unwrap(),
        delivered_soon.delivered_at.unwrap(),
    );
    assert!(
        (done.seconds, done.nanos) >= (due.seconds, due.nanos),
        "not before send_at"
    );
    assert_eq!(delivered_now.status, NotificationStatus::Delivered as i32);
    let still = get(&mut c, &resp.id).await;
    assert_eq!(still.status, SCHEDULED, "not due yet");
    stop(ts, workers).await;
    let keys: Vec<_> = receiver
        .calls()
        .iter()
        .map(|r| r.header("idempotency-key").to_owned())
        .collect();
    assert!(!keys.contains(&resp.id));
    assert_eq!(keys.len(), 2);
}

/// A marketing message in quiet hours moves to their end: at the last evening
/// a timestamp may hold that is the next year's first morning, and past the
/// timestamp range the request is refused naming send_at (it used to overflow
/// the date arithmetic and panic the handler).
async fn send_at_keeps_to_the_timestamp_range(backend: Backend) {
    use chrono::{DateTime, TimeZone, Utc};
    let ts = server(backend, |_| {}).await;
    let key = tenant_key(&ts, "acme").await;
    let mut c = client(&ts, &key);
    let mut people = profiles(&ts, &key);
    let ann = customer(&mut people, "Ann", "", "", &[], &[Channel::Webhook]).await;
    set_policy(
        &mut c,
        ContactPolicy {
            quiet_start_hour: 22,
            quiet_end_hour: 7,
            ..policy(10, 0)
        },
    )
    .await;
    let at = |key: &str, t: i64| SendNotificationRequest {
        send_at: Some(prost_types::Timestamp {
            seconds: t,
            nanos: 0,
        }),
        ..message(key, &ann, Channel::Webhook, Purpose::Marketing)
    };

    let last_second = DateTime::<Utc>::MAX_UTC.timestamp();
    let refused = c
        .send_notification(at("beyond", last_second))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&refused), ["send_at"]);

    let last_evening = Utc.with_ymd_and_hms(9999, 12, 31, 23, 30, 0).unwrap();
    let n = stored(&mut c, at("last-evening", last_evening.timestamp())).await;
    assert_eq!(n.status, SCHEDULED);
    let morning = Utc.with_ymd_and_hms(10000, 1, 1, 7, 0, 0).unwrap();
    assert_eq!(n.send_at.map(|t| t.seconds), Some(morning.timestamp()));
    let listed = ok(c.list_notifications(ListNotificationsRequest::default())).await;
    assert_eq!(
        listed.notifications.len(),
        1,
        "the refused request stored nothing"
    );
    ts.stop().await;
}
