//! What an attempt leaves behind and when it comes: a result the store
//! refuses still counts, a receiver's answer is not kept verbatim, and one
//! tenant's backlog does not hold back another tenant's message; on both
//! backends, against a real local receiver.

mod support;

use rapport_kit::testing::Backend;
use support::{
    DEAD_LETTER, DELIVERED, Receiver, run_sql, send, server, settled, stop, store, tenant, webhook,
    worker,
};

rapport_kit::backend_tests!(
    a_result_the_store_refuses_still_counts_the_attempt,
    a_receivers_error_body_is_not_kept,
    one_tenants_backlog_does_not_hold_back_another_tenant,
);

/// Refuses every attempt row, as a store refusing the result would.
const REFUSE_POSTGRES: &str = "
    CREATE FUNCTION refuse_attempt() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'attempt refused'; END $$;
    CREATE TRIGGER refuse_attempt BEFORE INSERT ON attempts
        FOR EACH ROW EXECUTE FUNCTION refuse_attempt();";
const REFUSE_SQLITE: &str = "
    CREATE TRIGGER refuse_attempt BEFORE INSERT ON attempts
    BEGIN SELECT RAISE(ABORT, 'attempt refused'); END;";

/// With every attempt's record refused, a failing receiver still gets
/// exactly max_attempts calls and the message is dead-lettered; a delivered
/// message is marked delivered and not sent again.
async fn a_result_the_store_refuses_still_counts_the_attempt(backend: Backend) {
    // A short lease: without the count, the message would go out again
    // every lease.
    let ts = server(backend, |c| {
        c.max_attempts = 3;
        c.lease_ms = 2_500;
    })
    .await;
    let mut client = tenant(&ts, "acme").await;
    run_sql(&store(&ts).await, REFUSE_POSTGRES, REFUSE_SQLITE).await;
    let (failing, working) = (Receiver::start().await, Receiver::start().await);
    failing.always(503);
    let workers = vec![worker(&ts)];

    let doomed = send(&mut client, webhook("doomed", "", &failing.url("/h"))).await;
    let fine = send(&mut client, webhook("fine", "", &working.url("/h"))).await;
    let n = settled(&mut client, &doomed).await;
    assert_eq!(n.status, DEAD_LETTER, "{n:?}");
    assert_eq!(n.attempt_count, 3);
    assert_eq!(n.last_error, "the attempt's result could not be recorded");
    assert!(n.attempts.is_empty(), "no attempt row was kept");
    let n = settled(&mut client, &fine).await;
    assert_eq!(n.status, DELIVERED, "{n:?}");
    assert_eq!(n.attempt_count, 1);
    // Longer than a lease: nothing is sent again.
    tokio::time::sleep(std::time::Duration::from_millis(3_000)).await;
    stop(ts, workers).await;
    assert_eq!(failing.calls().len(), 3, "max_attempts calls");
    assert_eq!(working.calls().len(), 1, "delivered once");
}

/// A receiver failing with a body that holds a token and an email address:
/// neither reaches what the tenant reads.
async fn a_receivers_error_body_is_not_kept(backend: Backend) {
    let ts = server(backend, |c| c.max_attempts = 2).await;
    let mut client = tenant(&ts, "acme").await;
    let receiver = Receiver::start().await;
    receiver.always(500);
    receiver.error_body(r#"{"error":"bad token sk_live_51Hx9Q2eZvKYlo2C for ops@example.com"}"#);
    let workers = vec![worker(&ts)];
    let id = send(&mut client, webhook("k", "", &receiver.url("/h"))).await;
    let n = settled(&mut client, &id).await;
    stop(ts, workers).await;
    assert_eq!(n.status, DEAD_LETTER);
    assert!(n.last_error.contains("500"), "{}", n.last_error);
    for text in std::iter::once(&n.last_error).chain(n.attempts.iter().map(|a| &a.error)) {
        assert!(!text.contains("sk_live"), "token kept: {text}");
        assert!(!text.contains("example.com"), "address kept: {text}");
    }
}

/// Tenant A queues 30 webhooks before tenant B queues one; with two
/// deliveries at a time, B's is among the first two the receiver gets (the
/// first claim takes each tenant's oldest), not after A's backlog.
async fn one_tenants_backlog_does_not_hold_back_another_tenant(backend: Backend) {
    let ts = server(backend, |c| c.concurrency = 2).await;
    let (mut a, mut b) = (tenant(&ts, "acme").await, tenant(&ts, "globex").await);
    let receiver = Receiver::start().await;
    receiver.delay(50);
    for i in 0..30 {
        send(&mut a, webhook(&format!("a{i}"), "", &receiver.url("/a"))).await;
    }
    let lone = send(&mut b, webhook("b", "", &receiver.url("/b"))).await;
    let workers = vec![worker(&ts)];
    assert_eq!(settled(&mut b, &lone).await.status, DELIVERED);
    stop(ts, workers).await;
    let order: Vec<String> = receiver
        .calls()
        .iter()
        .map(|c| c.header("idempotency-key").to_owned())
        .collect();
    let at = order.iter().position(|k| *k == lone).expect("delivered");
    assert!(at < 2, "B's message was call {at} of {}", order.len());
}
