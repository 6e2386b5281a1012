//! Webhooks go to public addresses only (unless
//! `notify.allow_private_destinations` is set, as in the other suites): IP
//! literals that are not public are refused when sent, host names that
//! resolve only to such addresses are dead-lettered at their first attempt.

mod support;

use rapport_kit::{Db, testing::Backend};
use rapport_notifications::config::NotifyConfig;
use rapport_proto::v1::{ListNotificationsRequest, NotificationStatus};
use support::{
    Receiver, peers, send, send_settled, server, settled, stop, tenant, violations, webhook, worker,
};

rapport_kit::backend_tests!(
    non_public_literals_are_refused_and_nothing_is_stored,
    a_name_resolving_to_loopback_is_dead_lettered_at_once,
    a_stored_private_literal_is_dead_lettered_by_a_guarded_worker,
    private_destinations_are_reached_when_allowed,
);

async fn non_public_literals_are_refused_and_nothing_is_stored(backend: Backend) {
    let ts = server(backend, |c| c.allow_private_destinations = false).await;
    let mut client = tenant(&ts, "acme").await;
    let receiver = Receiver::start().await;
    let port = receiver.port();
    let urls = [
        format!("http://127.0.0.1:{port}/x"),
        "http://169.254.169.254/latest".to_owned(),
        format!("http://[::1]:{port}/"),
        "http://10.1.2.3/".to_owned(),
    ];
    for (i, url) in urls.iter().enumerate() {
        let status = client
            .send_notification(webhook(&format!("k{i}"), "", url))
            .await
            .expect_err(url);
        let violations = violations(&status);
        assert_eq!(violations.len(), 1, "{url}: {violations:?}");
        let (field, description) = &violations[0];
        assert_eq!(field, "destination");
        assert!(
            description.contains("resolves to a non-public address"),
            "{description}"
        );
    }
    let stored = client
        .list_notifications(ListNotificationsRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .notifications;
    assert!(stored.is_empty(), "stored: {stored:?}");
    ts.stop().await;
    assert!(receiver.calls().is_empty());
}

async fn a_name_resolving_to_loopback_is_dead_lettered_at_once(backend: Backend) {
    let ts = server(backend, |c| {
        c.allow_private_destinations = false;
        c.max_attempts = 3;
    })
    .await;
    let mut client = tenant(&ts, "acme").await;
    let receiver = Receiver::start().await;
    let workers = vec![worker(&ts)];

    let url = format!("http://localhost:{}/hook?token=s3cr3t", receiver.port());
    let (_, n) = send_settled(&mut client, webhook("k", "", &url)).await;
    assert_eq!(n.status, NotificationStatus::DeadLetter as i32);
    assert_eq!(n.attempt_count, 1, "not retried");
    assert_eq!(n.attempts.len(), 1);
    let attempt = &n.attempts[0];
    assert_eq!(attempt.http_status, 0);
    assert!(!attempt.succeeded);
    assert!(
        attempt.error.contains("non-public addresses"),
        "{}",
        attempt.error
    );
    assert!(!attempt.error.contains("s3cr3t"), "{}", attempt.error);
    assert!(!attempt.error.contains("localhost"), "{}", attempt.error);
    assert!(
        n.last_error.contains("non-public addresses"),
        "{}",
        n.last_error
    );
    stop(ts, workers).await;
    assert!(receiver.calls().is_empty(), "the receiver got nothing");
}

/// A literal accepted while private destinations were allowed is still
/// refused by a worker that does not allow them (the resolver never sees
/// literals, so the worker checks them itself).
async fn a_stored_private_literal_is_dead_lettered_by_a_guarded_worker(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let mut client = tenant(&ts, "acme").await;
    let receiver = Receiver::start().await;
    let id = send(&mut client, webhook("k", "", &receiver.url("/hook"))).await;

    let mut guarded = ts.config.section::<NotifyConfig>().unwrap();
    guarded.allow_private_destinations = false;
    let db = Db::connect_lazy(&ts.config, rapport_notifications::SCHEMA).expect("worker pool");
    let workers = vec![
        rapport_notifications::spawn_worker(
            db,
            guarded,
            peers(&ts.url(), &ts.app),
            ts.app.shutdown.clone(),
        )
        .expect("delivery settings"),
    ];
    let n = settled(&mut client, &id).await;
    assert_eq!(n.status, NotificationStatus::DeadLetter as i32);
    assert_eq!(n.attempts.len(), 1, "not retried");
    assert!(
        n.attempts[0].error.contains("non-public addresses"),
        "{}",
        n.attempts[0].error
    );
    stop(ts, workers).await;
    assert!(receiver.calls().is_empty(), "the receiver got nothing");
}

async fn private_destinations_are_reached_when_allowed(backend: Backend) {
    // The test configuration allows them.
    let ts = server(backend, |_| {}).await;
    assert!(
        ts.config
            .section::<NotifyConfig>()
            .unwrap()
            .allow_private_destinations
    );
    let mut client = tenant(&ts, "acme").await;
    let receiver = Receiver::start().await;
    let workers = vec![worker(&ts)];

    let url = format!("http://localhost:{}/hook", receiver.port());
    let (_, n) = send_settled(&mut client, webhook("k", "", &url)).await;
    assert_eq!(n.status, NotificationStatus::Delivered as i32, "{n:?}");
    stop(ts, workers).await;
    assert_eq!(receiver.calls().len(), 1);
}
