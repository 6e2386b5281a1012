//! The API without delivery: round trips, idempotency, validation, paging and
//! tenant isolation, on both backends.

mod support;

use rapport_kit::testing::{Backend, ok, reason};
use rapport_proto::v1::{
    Channel, GetNotificationRequest, ListNotificationsRequest, Notification, NotificationStatus,
};
use support::{Client, bad_fields, send, server, tenant, webhook};
use tonic::Code;
use uuid::Uuid;

rapport_kit::backend_tests!(
    send_and_get_round_trip,
    repeated_dedupe_key_returns_the_stored_notification,
    email_and_sms_are_not_configured,
    bad_input_names_the_field_and_stores_nothing,
    list_pages_newest_first,
    tenants_are_isolated,
);

const HOOK: &str = "http://hooks.example.com/rapport?sig=1";

async fn list(
    client: &mut Client,
    customer_id: &str,
    page_size: i32,
    page_token: &str,
) -> (Vec<Notification>, String) {
    let req = ListNotificationsRequest {
        customer_id: customer_id.to_owned(),
        page_size,
        page_token: page_token.to_owned(),
    };
    let resp = client
        .list_notifications(req)
        .await
        .expect("list")
        .into_inner();
    (resp.notifications, resp.next_page_token)
}

async fn get(client: &mut Client, id: &str) -> Result<Notification, tonic::Status> {
    let req = GetNotificationRequest {
        notification_id: id.to_owned(),
    };
    client
        .get_notification(req)
        .await
        .map(|r| r.into_inner().notification.expect("notification"))
}

async fn send_and_get_round_trip(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let mut client = tenant(&ts, "acme").await;
    // A webhook about no one in particular: no profile, no consent needed.
    let customer = String::new();
    let resp = ok(client.send_notification(webhook("tier-change-1", &customer, HOOK))).await;
    assert!(resp.created);
    let sent = resp.notification.unwrap();
    assert_eq!(sent.status, NotificationStatus::Pending as i32);
    assert_eq!(sent.attempt_count, 0);
    assert_eq!(sent.next_attempt_at, sent.created_at, "due at once");

    let got = get(&mut client, &sent.id).await.unwrap();
    assert_eq!(got, sent, "what was stored is what send answered");
    assert_eq!(got.dedupe_key, "tier-change-1");
    assert_eq!(got.customer_id, customer);
    assert_eq!(got.channel, Channel::Webhook as i32);
    assert_eq!(got.destination, HOOK);
    assert_eq!(got.subject, "Your tier changed");
    assert!(got.attempts.is_empty());

    let missing = get(&mut client, &Uuid::new_v4().to_string())
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let bad = get(&mut client, "nope").await.unwrap_err();
    assert_eq!(bad_fields(&bad), ["notification_id"]);
    ts.stop().await;
}

async fn repeated_dedupe_key_returns_the_stored_notification(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let mut client = tenant(&ts, "acme").await;
    let customer = Uuid::new_v4().to_string();
    let first = ok(client.send_notification(webhook("once", &customer, HOOK))).await;
    let mut changed = webhook(
        "once",
        &Uuid::new_v4().to_string(),
        "http://elsewhere.example.com/",
    );
    changed.subject = "Different".into();
    let second = ok(client.send_notification(changed)).await;
    assert!(first.created);
    assert!(!second.created);
    assert_eq!(
        second.notification, first.notification,
        "the first request's notification, unchanged"
    );

    let (all, _) = list(&mut client, "", 0, "").await;
    assert_eq!(all.len(), 1, "nothing else was queued");
    ts.stop().await;
}

async fn email_and_sms_are_not_configured(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let mut client = tenant(&ts, "acme").await;
    let customer = Uuid::new_v4().to_string();
    for (channel, destination) in [
        (Channel::Email, "someone@example.com"),
        (Channel::Sms, "+4915112345678"),
    ] {
        let mut req = webhook(&format!("k-{channel:?}"), &customer, destination);
        req.channel = channel as i32;
        let status = client.send_notification(req).await.unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition, "{channel:?}");
        assert_eq!(reason(&status), "CHANNEL_NOT_CONFIGURED");
    }
    assert!(list(&mut client, "", 0, "").await.0.is_empty());
    ts.stop().await;
}

async fn bad_input_names_the_field_and_stores_nothing(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let mut client = tenant(&ts, "acme").await;
    let customer = Uuid::new_v4().to_string();
    let long_url = format!("https://example.com/{}", "a".repeat(2048));
    for url in [
        "",
        "not a url",
        "ftp://example.com/x",
        "example.com/hook",
        "http://",
        "mailto:a@example.com",
        &long_url,
    ] {
        let status = client
            .send_notification(webhook("k", &customer, url))
            .await
            .unwrap_err();
        assert_eq!(bad_fields(&status), ["destination"], "{url:?}");
    }

    let mut req = webhook("", "not-a-uuid", HOOK);
    req.channel = Channel::Unspecified as i32;
    req.subject = "s".repeat(257);
    req.body = "x".repeat(64 * 1024 + 1);
    let status = client.send_notification(req).await.unwrap_err();
    assert_eq!(
        bad_fields(&status),
        ["dedupe_key", "customer_id", "channel", "subject", "body"]
    );

    let status = client
        .send_notification(webhook(&"k".repeat(201), &customer, HOOK))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&status), ["dedupe_key"]);
    let mut req = webhook("k", &customer, HOOK);
    req.channel = 42;
    assert_eq!(
        bad_fields(&client.send_notification(req).await.unwrap_err()),
        ["channel"]
    );

    // Limits are inclusive.
    let mut req = webhook(&"k".repeat(200), &customer, HOOK);
    req.subject = "s".repeat(256);
    req.body = "x".repeat(64 * 1024);
    send(&mut client, req).await;

    let (all, _) = list(&mut client, "", 0, "").await;
    assert_eq!(all.len(), 1, "only the valid request was stored");
    ts.stop().await;
}

async fn list_pages_newest_first(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let mut client = tenant(&ts, "acme").await;
    let (alice, bob) = (Uuid::new_v4().to_string(), Uuid::new_v4().to_string());
    let mut sent = Vec::new();
    for i in 0..5 {
        let customer = if i % 2 == 0 { &alice } else { &bob };
        sent.push(send(&mut client, webhook(&format!("k{i}"), customer, HOOK)).await);
    }

    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let (page, next) = list(&mut client, "", 2, &token).await;
        assert!(page.len() <= 2);
        seen.extend(page.into_iter().map(|n| n.id));
        if next.is_empty() {
            break;
        }
        token = next;
    }
    let newest_first: Vec<String> = sent.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);

    let (page, next) = list(&mut client, &alice, 2, "").await;
    assert_eq!(
        page.iter().map(|n| n.id.clone()).collect::<Vec<_>>(),
        [sent[4].clone(), sent[2].clone()]
    );
    let (page, last) = list(&mut client, &alice, 2, &next).await;
    assert_eq!(
        page.iter().map(|n| n.id.clone()).collect::<Vec<_>>(),
        [sent[0].clone()]
    );
    assert_eq!(last, "");

    let req = ListNotificationsRequest {
        customer_id: "x".into(),
        page_size: -1,
        page_token: "zz".into(),
    };
    let status = client.list_notifications(req).await.unwrap_err();
    assert_eq!(
        bad_fields(&status),
        ["customer_id", "page_size", "page_token"]
    );
    ts.stop().await;
}

async fn tenants_are_isolated(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let mut a = tenant(&ts, "acme").await;
    let mut b = tenant(&ts, "globex").await;
    let customer = Uuid::new_v4().to_string();
    let a_id = send(&mut a, webhook("shared-key", &customer, HOOK)).await;

    // Get: another tenant's id is not found.
    assert_eq!(get(&mut b, &a_id).await.unwrap_err().code(), Code::NotFound);
    // List: nothing of A's, with or without A's customer as a filter.
    assert!(list(&mut b, "", 0, "").await.0.is_empty());
    assert!(list(&mut b, &customer, 0, "").await.0.is_empty());
    // Send: the same dedupe key is B's own, not a repeat of A's.
    let resp = ok(b.send_notification(webhook("shared-key", &customer, HOOK))).await;
    assert!(resp.created);
    let b_id = resp.notification.unwrap().id;
    assert_ne!(b_id, a_id);

    // A still sees exactly its own.
    let (a_all, _) = list(&mut a, "", 0, "").await;
    let a_ids: Vec<&str> = a_all.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(a_ids, [a_id.as_str()]);
    assert_eq!(get(&mut a, &b_id).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(get(&mut a, &a_id).await.unwrap().dedupe_key, "shared-key");
    ts.stop().await;
}
