//! Delivery against a real local HTTP(S) receiver, on both backends.

mod support;

use std::time::Duration;

use rapport_kit::Db;
use rapport_kit::shutdown::Shutdown;
use rapport_kit::testing::{Backend, TestServer, ok};
use rapport_notifications::config::NotifyConfig;
use rapport_proto::v1::{Channel, Notification};
use support::{
    DEAD_LETTER, DELIVERED, PENDING, Receiver, customer, get, peers, profiles, send, send_settled,
    server, settled, stop, tenant, tenant_key, tls, webhook, worker, worker_with,
};
use tokio::task::JoinHandle;

rapport_kit::backend_tests!(
    delivers_once_with_body_and_headers,
    repeated_dedupe_key_delivers_once,
    retries_until_the_receiver_recovers,
    dead_letters_after_max_attempts,
    dead_letters_a_refusal_at_once,
    https_receiver_with_an_untrusted_certificate_gets_nothing,
    unreachable_receiver_is_retried_without_leaking_the_url,
    two_workers_deliver_each_notification_once,
    a_ca_file_without_a_certificate_stops_the_worker_at_start,
    a_provider_id_the_store_cannot_hold_is_cleaned,
    a_profiles_outage_waits_without_using_attempts,
    past_the_wait_a_profiles_outage_uses_attempts,
);

async fn delivers_once_with_body_and_headers(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let mut client = tenant(&ts, "acme").await;
    let receiver = Receiver::start().await;
    let workers = vec![worker(&ts)];
    let customer = String::new();

    let (id, n) = send_settled(
        &mut client,
        webhook("tier-1", &customer, &receiver.url("/hooks/rapport?sig=abc")),
    )
    .await;
    assert_eq!(n.status, DELIVERED);
    assert_eq!(n.attempt_count, 1);
    assert_eq!(
        n.provider_message_id, "msg-0",
        "id taken from the x-message-id header"
    );
    assert!(n.delivered_at.is_some());
    assert!(n.next_attempt_at.is_none());
    assert_eq!(n.last_error, "");
    assert_eq!(n.attempts.len(), 1);
    assert!(n.attempts[0].succeeded);
    assert_eq!(n.attempts[0].http_status, 200);

    let call = receiver.only_call();
    assert_eq!(call.method, "POST");
    assert_eq!(call.path, "/hooks/rapport?sig=abc");
    assert_eq!(call.header("content-type"), "application/json");
    assert_eq!(call.header("idempotency-key"), id);
    assert_eq!(call.header("user-agent"), "rapport-notifications/0.1");
    let body = call.json();
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["dedupe_key"], "tier-1");
    assert_eq!(body["customer_id"], customer.as_str());
    assert_eq!(body["subject"], "Your tier changed");
    assert_eq!(body["body"], "{\"tier\":\"gold\"}");
    let created =
        chrono::DateTime::parse_from_rfc3339(body["created_at"].as_str().unwrap()).unwrap();
    let stored = n.created_at.unwrap();
    assert_eq!(
        (created.timestamp(), created.timestamp_subsec_nanos() as i32),
        (stored.seconds, stored.nanos)
    );

    // Without the header, the receiver's JSON body names the message.
    receiver.without_id_header();
    let (_, n) = send_settled(
        &mut client,
        webhook("tier-2", &customer, &receiver.url("/hooks/rapport")),
    )
    .await;
    assert_eq!(n.status, DELIVERED);
    assert_eq!(n.provider_message_id, "body-1");
    stop(ts, workers).await;
}

async fn repeated_dedupe_key_delivers_once(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let mut client = tenant(&ts, "acme").await;
    let receiver = Receiver::start().await;
    let customer = String::new();
    let req = webhook("welcome", &customer, &receiver.url("/h"));

    let first = send(&mut client, req.clone()).await;
    let workers = vec![worker(&ts)];
    settled(&mut client, &first).await;
    let again = ok(client.send_notification(req)).await;
    assert!(!again.created);
    let again = again.notification.unwrap();
    assert_eq!(again.id, first);
    assert_eq!(
        again.status, DELIVERED,
        "the stored notification comes back as it is"
    );

    stop(ts, workers).await;
    assert_eq!(receiver.calls().len(), 1);
    assert_eq!(receiver.count_by_key().get(&first), Some(&1));
}

/// Starts a server tweaked by `tweak` and its worker, and sends one webhook
/// to `receiver`: the server, its workers, and the notification's id and
/// settled state.
async fn settle_one(
    backend: Backend,
    tweak: impl FnOnce(&mut NotifyConfig),
    receiver: &Receiver,
) -> (TestServer, Vec<JoinHandle<()>>, String, Notification) {
    let ts = server(backend, tweak).await;
    let mut client = tenant(&ts, "acme").await;
    let workers = vec![worker(&ts)];
    let (id, n) = send_settled(&mut client, webhook("k", "", &receiver.url("/h"))).await;
    (ts, workers, id, n)
}

async fn retries_until_the_receiver_recovers(backend: Backend) {
    let receiver = Receiver::start().await;
    receiver.fail_first(2);
    let (ts, workers, id, n) = settle_one(backend, |_| {}, &receiver).await;
    assert_eq!(n.status, DELIVERED);
    assert_eq!(n.attempt_count, 3);
    assert_eq!(n.provider_message_id, "msg-2");
    assert!(
        n.last_error.contains("503"),
        "last error kept: {}",
        n.last_error
    );
    let numbers: Vec<u32> = n.attempts.iter().map(|a| a.number).collect();
    assert_eq!(numbers, [1, 2, 3]);
    let outcomes: Vec<(bool, i32)> = n
        .attempts
        .iter()
        .map(|a| (a.succeeded, a.http_status))
        .collect();
    assert_eq!(outcomes, [(false, 503), (false, 503), (true, 200)]);
    assert!(n.attempts[0].error.contains("503"));
    assert_eq!(n.attempts[2].error, "");
    let started: Vec<_> = n.attempts.iter().map(|a| a.started_at.unwrap()).collect();
    for pair in started.windows(2) {
        assert!(
            (pair[0].seconds, pair[0].nanos) < (pair[1].seconds, pair[1].nanos),
            "attempts in order"
        );
    }
    stop(ts, workers).await;
    assert_eq!(
        receiver.count_by_key().get(&id),
        Some(&3),
        "every attempt carried the same key"
    );
}

async fn dead_letters_after_max_attempts(backend: Backend) {
    let receiver = Receiver::start().await;
    receiver.always(503);
    let (ts, workers, _, n) = settle_one(backend, |c| c.max_attempts = 3, &receiver).await;
    assert_eq!(n.status, DEAD_LETTER);
    assert_eq!(n.attempt_count, 3);
    assert_eq!(n.attempts.len(), 3);
    assert!(
        n.attempts
            .iter()
            .all(|a| !a.succeeded && a.http_status == 503)
    );
    assert!(n.next_attempt_at.is_none() && n.delivered_at.is_none());
    assert!(n.last_error.contains("503"));
    stop(ts, workers).await;
    assert_eq!(receiver.calls().len(), 3);
}

async fn dead_letters_a_refusal_at_once(backend: Backend) {
    let receiver = Receiver::start().await;
    receiver.always(400);
    let (ts, workers, _, n) = settle_one(backend, |_| {}, &receiver).await;
    assert_eq!(n.status, DEAD_LETTER);
    assert_eq!(n.attempt_count, 1);
    assert_eq!(n.attempts.len(), 1);
    assert_eq!(n.attempts[0].http_status, 400);
    assert!(n.last_error.contains("400"));
    stop(ts, workers).await;
    assert_eq!(receiver.calls().len(), 1);
}

/// Without `notify.http_ca_file`, a certificate from a private CA is not
/// trusted: every attempt fails the handshake, is retried, and the
/// notification is dead-lettered naming the certificate problem.
async fn https_receiver_with_an_untrusted_certificate_gets_nothing(backend: Backend) {
    let (cert, key) = tls::self_signed();
    let receiver = Receiver::start_https(&cert, &key).await;
    let ts = server(backend, |c| c.max_attempts = 2).await;
    let mut client = tenant(&ts, "acme").await;
    let workers = vec![worker(&ts)];

    let (_, n) = send_settled(
        &mut client,
        webhook("k", "", &receiver.url("/h?token=s3cr3t")),
    )
    .await;
    assert_eq!(n.status, DEAD_LETTER);
    assert_eq!(n.attempts.len(), 2, "a failed handshake is retried");
    for a in &n.attempts {
        assert_eq!(a.http_status, 0);
        assert!(!a.succeeded);
        assert!(a.error.contains("certificate"), "{}", a.error);
        assert!(a.error.contains("UnknownIssuer"), "{}", a.error);
        assert!(!a.error.contains("s3cr3t"), "url leaked: {}", a.error);
    }
    stop(ts, workers).await;
    assert!(receiver.calls().is_empty(), "nothing was delivered");
}

async fn unreachable_receiver_is_retried_without_leaking_the_url(backend: Backend) {
    let ts = server(backend, |c| c.max_attempts = 2).await;
    let mut client = tenant(&ts, "acme").await;
    // A port that was free a moment ago and has no listener now.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let workers = vec![worker(&ts)];

    let url = format!("http://{closed}/h?token=s3cr3t-token");
    let (_, n) = send_settled(&mut client, webhook("k", "", &url)).await;
    assert_eq!(n.status, DEAD_LETTER);
    assert_eq!(n.attempts.len(), 2);
    for a in &n.attempts {
        assert_eq!(a.http_status, 0);
        assert!(a.error.contains("connection failed"), "{}", a.error);
        assert!(
            !a.error.contains("s3cr3t"),
            "query string leaked: {}",
            a.error
        );
    }
    stop(ts, workers).await;
}

async fn two_workers_deliver_each_notification_once(backend: Backend) {
    let ts = server(backend, |c| c.concurrency = 4).await;
    let mut client = tenant(&ts, "acme").await;
    let receiver = Receiver::start().await;
    let customer = String::new();
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(
            send(
                &mut client,
                webhook(&format!("batch-{i}"), &customer, &receiver.url("/h")),
            )
            .await,
        );
    }
    let workers = vec![worker(&ts), worker(&ts)];
    for id in &ids {
        assert_eq!(settled(&mut client, id).await.status, DELIVERED);
    }
    stop(ts, workers).await;
    let counts = receiver.count_by_key();
    assert_eq!(counts.len(), 20);
    for id in &ids {
        assert_eq!(counts.get(id), Some(&1), "notification {id} delivered once");
    }
}

/// Delivery settings that cannot be used are a start-up error, never a
/// replica that reports healthy and delivers nothing.
async fn a_ca_file_without_a_certificate_stops_the_worker_at_start(backend: Backend) {
    let dir = rapport_kit::testing::fresh_dir();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, "this is not a certificate\n").unwrap();
    let ts = server(backend, |_| {}).await;
    let mut config = ts.config.section::<NotifyConfig>().unwrap();
    config.http_ca_file = Some(ca.clone());
    let db = Db::connect_lazy(&ts.config, rapport_notifications::SCHEMA).unwrap();
    let error = rapport_notifications::spawn_worker(
        db,
        config,
        peers(&ts.url(), &ts.app),
        ts.app.shutdown.clone(),
    )
    .expect_err("a CA file with no certificate is refused");
    let text = error.to_string();
    assert!(
        text.contains("ca.pem") && text.contains("no PEM certificate"),
        "{text}"
    );
    ts.stop().await;
}

/// A receiver answering with an id that holds NUL and other control
/// characters: the id is kept without them, and the message is delivered
/// once (recording it used to fail on Postgres, so it was sent again every
/// lease and never dead-lettered).
async fn a_provider_id_the_store_cannot_hold_is_cleaned(backend: Backend) {
    let receiver = Receiver::start().await;
    receiver.without_id_header();
    receiver.body_id(r#""ab\u0000c\nd""#);
    let (ts, workers, _, n) = settle_one(backend, |_| {}, &receiver).await;
    assert_eq!(n.status, DELIVERED);
    assert_eq!(n.attempt_count, 1);
    assert_eq!(n.provider_message_id, "ab c d");
    stop(ts, workers).await;
    assert_eq!(receiver.calls().len(), 1, "delivered once");
}

/// A server whose tenant has a customer consenting to webhooks, a webhook to
/// them accepted, and a delivery worker whose Profiles is a closed port: the
/// server, the notification's id, and the worker with its own shutdown.
async fn outage(
    backend: Backend,
    tweak: impl FnOnce(&mut NotifyConfig),
    receiver: &Receiver,
) -> (
    TestServer,
    support::Client,
    String,
    JoinHandle<()>,
    Shutdown,
) {
    let ts = server(backend, tweak).await;
    let key = tenant_key(&ts, "acme").await;
    let mut client = support::client(&ts, &key);
    let mut people = profiles(&ts, &key);
    let ann = customer(&mut people, "Ann", "", "", &[], &[Channel::Webhook]).await;
    let id = send(&mut client, webhook("k", &ann, &receiver.url("/h"))).await;
    let down = format!("http://127.0.0.1:{}", rapport_kit::testing::free_port());
    let shutdown = Shutdown::new();
    let blind = worker_with(&ts, peers(&down, &ts.app), shutdown.clone());
    (ts, client, id, blind, shutdown)
}

/// While Profiles does not answer, the consent check is tried again and
/// again without using up attempts (with two attempts allowed, it used to be
/// dead-lettered within a second); once Profiles answers, the message goes
/// out on its first attempt.
async fn a_profiles_outage_waits_without_using_attempts(backend: Backend) {
    let receiver = Receiver::start().await;
    let (ts, mut client, id, blind, shutdown) =
        outage(backend, |n| n.max_attempts = 2, &receiver).await;
    // Many times the back-off of two attempts (20 ms, then at most 200 ms).
    let mut waited = get(&mut client, &id).await;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited = get(&mut client, &id).await;
    }
    assert_eq!(waited.status, PENDING, "{waited:?}");
    assert_eq!(
        waited.attempt_count, 0,
        "no attempt used while Profiles is down"
    );
    assert!(
        waited.last_error.contains("consent could not be checked"),
        "{waited:?}"
    );
    assert!(receiver.calls().is_empty(), "nothing sent unchecked");
    shutdown.trigger();
    blind.await.expect("the blind worker ends");

    let workers = vec![worker(&ts)];
    let delivered = settled(&mut client, &id).await;
    assert_eq!(delivered.status, DELIVERED);
    assert_eq!(delivered.attempt_count, 1);
    stop(ts, workers).await;
    assert_eq!(receiver.calls().len(), 1);
}

/// Once a notification has waited `dependency_wait_ms`, a failed consent
/// check counts as a failed attempt, and the attempts run out as before.
async fn past_the_wait_a_profiles_outage_uses_attempts(backend: Backend) {
    let receiver = Receiver::start().await;
    let tweak = |n: &mut NotifyConfig| {
        n.max_attempts = 2;
        n.dependency_wait_ms = 0;
    };
    let (ts, mut client, id, blind, shutdown) = outage(backend, tweak, &receiver).await;
    let n = settled(&mut client, &id).await;
    assert_eq!(n.status, DEAD_LETTER);
    assert_eq!(n.attempt_count, 2);
    shutdown.trigger();
    blind.await.expect("the blind worker ends");
    ts.stop().await;
    assert!(receiver.calls().is_empty());
}
