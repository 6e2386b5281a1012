use std::time::Duration;

use crate::config::NotifyConfig;
use chrono::Utc;

use super::{backoff, decide, wait_delay};
use crate::{
    delivery::{AttemptResult, Verdict},
    model::{Claimed, Next},
};

fn config() -> NotifyConfig {
    NotifyConfig {
        base_backoff_ms: 100,
        max_backoff_ms: 1_000,
        max_attempts: 3,
        ..NotifyConfig::default()
    }
}

#[test]
fn backoff_doubles_up_to_the_cap() {
    let c = config();
    for (attempt, cap) in [
        (1, 100),
        (2, 200),
        (3, 400),
        (4, 800),
        (5, 1_000),
        (60, 1_000),
    ] {
        for _ in 0..200 {
            assert!(
                backoff(&c, attempt) <= Duration::from_millis(cap),
                "attempt {attempt}"
            );
        }
    }
    // Full jitter still spreads over the whole range.
    let spread: std::collections::HashSet<_> = (0..200).map(|_| backoff(&c, 4)).collect();
    assert!(spread.len() > 10);
}

fn result(verdict: Verdict) -> AttemptResult {
    AttemptResult {
        verdict,
        started_at: Utc::now(),
        duration: Duration::from_millis(3),
        http_status: 503,
        error: "receiver answered 503 Service Unavailable".into(),
    }
}

#[test]
fn retries_stop_at_max_attempts_and_refusals_at_once() {
    let c = config();
    let retry = result(Verdict::Retry);
    assert!(matches!(decide(&c, 1, &retry).0, Next::Retry { .. }));
    assert!(matches!(decide(&c, 2, &retry).0, Next::Retry { .. }));
    assert_eq!(decide(&c, 3, &retry).0, Next::DeadLetter);
    assert_eq!(decide(&c, 1, &result(Verdict::Refused)).0, Next::DeadLetter);
    let delivered = result(Verdict::Delivered("m-1".into()));
    let (next, error) = decide(&c, 3, &delivered);
    assert!(
        matches!(next, Next::Delivered { provider_message_id, .. } if provider_message_id == "m-1")
    );
    assert_eq!(error, None);
}

#[test]
fn waits_grow_with_the_time_waited_until_the_limit() {
    let c = NotifyConfig {
        dependency_wait_ms: 3_600_000,
        ..config()
    };
    let now = Utc::now();
    let accepted = |ago_ms: i64| Claimed {
        tenant_id: uuid::Uuid::nil(),
        customer_id: uuid::Uuid::nil(),
        id: uuid::Uuid::nil(),
        channel: "webhook".into(),
        dedupe_key: "k".into(),
        destination: String::new(),
        subject: String::new(),
        body: String::new(),
        created_at: now - chrono::Duration::milliseconds(ago_ms),
        attempt: 1,
        lease_id: uuid::Uuid::nil(),
        integration_endpoint: String::new(),
    };
    // (waited, longest delay): the base at first, half the time waited
    // later, never past the longest back-off.
    for (ago, cap) in [(0, 100), (150, 100), (1_000, 500), (600_000, 1_000)] {
        for _ in 0..200 {
            let at = wait_delay(&c, &accepted(ago), now).expect("may still wait");
            let delay = (at - now).num_milliseconds();
            assert!((0..=cap).contains(&delay), "waited {ago} ms: {delay} ms");
        }
    }
    assert_eq!(wait_delay(&c, &accepted(3_600_000), now), None);
    let wait = result(Verdict::Wait);
    assert!(matches!(decide(&c, 1, &wait).0, Next::Retry { .. }));
    assert_eq!(decide(&c, 3, &wait).0, Next::DeadLetter);
}
