//! The real `rapport-notifications` binary killed with SIGKILL in the middle
//! of a batch: after a restart every message is delivered, none is accepted
//! twice by a receiver honouring idempotency keys, and every attempt is
//! recorded. Postgres, as in production.

mod support;

use std::{collections::HashSet, process::Stdio, time::Duration};

use rapport_kit::testing::{Backend, TestServer};
use rapport_proto::v1::NotificationStatus;
use support::{Receiver, client, get, send, server, tenant_key, webhook};
use tokio::process::{Child, Command};

const MESSAGES: usize = 100;
const LEASE_MS: u64 = 3_000;

/// Starts the binary on a free port, sharing the test server's database,
/// tenants and internal token, with a short lease.
fn start_binary(ts: &TestServer) -> Child {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let config = &ts.config;
    Command::new(env!("CARGO_BIN_EXE_rapport-notifications"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RAPPORT_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "DATABASE_URL",
            config.database_url.as_ref().unwrap().expose(),
        )
        .env(
            "RAPPORT_INTERNAL_TOKEN",
            config.internal_token.as_ref().unwrap().expose(),
        )
        .env("RAPPORT_PEERS__PROFILES_URL", ts.url())
        .env("RAPPORT_PEERS__SCORING_URL", ts.url())
        .env("RAPPORT_NOTIFY__LEASE_MS", LEASE_MS.to_string())
        .env("RAPPORT_NOTIFY__HTTP_TIMEOUT_MS", "2000")
        .env("RAPPORT_NOTIFY__POLL_INTERVAL_MS", "20")
        .env("RAPPORT_NOTIFY__BASE_BACKOFF_MS", "20")
        .env("RAPPORT_NOTIFY__MAX_BACKOFF_MS", "200")
        .env("RAPPORT_NOTIFY__CONCURRENCY", "8")
        // The receiver is on 127.0.0.1.
        .env("RAPPORT_NOTIFY__ALLOW_PRIVATE_DESTINATIONS", "true")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start rapport-notifications")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_batch_loses_nothing_and_sends_nothing_twice() {
    // The in-process server only answers the API (no worker): the binary
    // is the one delivering.
    let ts = server(Backend::Postgres, |_| {}).await;
    let key = tenant_key(&ts, "acme").await;
    let mut c = client(&ts, &key);
    let receiver = Receiver::start().await;
    receiver.delay(500);
    let mut ids = Vec::new();
    for i in 0..MESSAGES {
        ids.push(
            send(
                &mut c,
                webhook(&format!("batch-{i}"), "", &receiver.url("/h")),
            )
            .await,
        );
    }

    let mut first = start_binary(&ts);
    for _ in 0..6_000 {
        if receiver.accepted().len() >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if let Ok(Some(exit)) = first.try_wait() {
        panic!("rapport-notifications exited on its own: {exit}");
    }
    first.start_kill().expect("SIGKILL");
    first.wait().await.expect("killed");
    let at_kill = receiver.accepted().len();
    assert!(
        (10..MESSAGES).contains(&at_kill),
        "killed mid-batch: {at_kill} of {MESSAGES} accepted"
    );

    let mut second = start_binary(&ts);
    let mut pending: Vec<String> = ids.clone();
    for _ in 0..1_200 {
        let mut still = Vec::new();
        for id in pending {
            if get(&mut c, &id).await.status != NotificationStatus::Delivered as i32 {
                still.push(id);
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(pending.is_empty(), "{} never delivered", pending.len());
    second.start_kill().expect("stop");
    second.wait().await.ok();

    // Every message arrived exactly once as far as the receiver is concerned.
    let accepted: Vec<String> = receiver
        .accepted()
        .iter()
        .map(|r| r.header("idempotency-key").to_owned())
        .collect();
    assert_eq!(accepted.len(), MESSAGES);
    let unique: HashSet<&String> = accepted.iter().collect();
    assert_eq!(unique, ids.iter().collect::<HashSet<_>>());
    // The sends cut off by the kill were made again after the lease, with
    // the same idempotency key, and the receiver dropped the repeat.
    let repeated = receiver.count_by_key().values().filter(|n| **n > 1).count();
    assert!(repeated >= 1, "a send in flight at the kill was repeated");
    for id in &ids {
        let n = get(&mut c, id).await;
        assert_eq!(n.attempts.len(), n.attempt_count as usize, "{id}");
        assert!(n.attempts.last().unwrap().succeeded);
        assert!(!n.provider_message_id.is_empty());
    }
    ts.stop().await;
}
