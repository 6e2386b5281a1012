//! Every TCP connection the suite opens or accepts has `TCP_NODELAY` set.
//! Without it a response larger than one segment waits for the peer's
//! delayed ACK, about 40 ms: GetScore once cost 44 ms where an empty call
//! cost 0.5 ms. The check looks at the real sockets of this process (the
//! suite runs in it), so it fails whichever server or client forgets.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    os::fd::{AsFd, OwnedFd},
    time::Duration,
};

use rapport_kit::{
    config::Secret,
    testing::{self, Backend},
};
use rapport_tests::all_in_one;
use rustix::{
    net::{SocketType, getpeername, getsockname, sockopt},
    process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open},
};

/// One connected TCP socket of this process.
#[derive(Debug)]
struct Connection {
    local: SocketAddr,
    peer: SocketAddr,
    nodelay: bool,
}

fn inet(addr: rustix::net::SocketAddrAny) -> Option<SocketAddr> {
    SocketAddr::try_from(addr).ok()
}

/// Every connected TCP socket this process holds, read through duplicates
/// of its descriptors (pidfd_getfd), so no descriptor is borrowed unsafely.
fn connections() -> Vec<Connection> {
    let me = pidfd_open(getpid(), PidfdFlags::empty()).expect("pidfd_open");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").expect("list fds") {
        let entry = entry.expect("fd entry");
        let Ok(n) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path())
            .map(|l| l.to_string_lossy().starts_with("socket:"))
            .unwrap_or(false);
        if !is_socket {
            continue;
        }
        // The descriptor may have closed since it was listed.
        let Ok(fd): Result<OwnedFd, _> = pidfd_getfd(&me, n, PidfdGetfdFlags::empty()) else {
            continue;
        };
        if sockopt::socket_type(fd.as_fd()).ok() != Some(SocketType::STREAM) {
            continue;
        }
        let (Some(local), Some(peer)) = (
            getsockname(&fd).ok().and_then(inet),
            getpeername(&fd).ok().flatten().and_then(inet),
        ) else {
            continue;
        };
        let nodelay = sockopt::tcp_nodelay(&fd).expect("read TCP_NODELAY");
        found.push(Connection {
            local,
            peer,
            nodelay,
        });
    }
    found
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.split('/').next())
        .and_then(|p| p.parse().ok())
        .expect("port in url")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_the_suite_opens_or_accepts_has_tcp_nodelay() {
    let mut config = testing::config(Backend::Postgres).await;
    config.redis_url = Some(Secret::new(testing::redis_url()));
    let pg_port = port_of(&testing::admin_url().replace("/postgres", ""));
    let redis_port = port_of(&testing::redis_url());
    let suite = all_in_one::serving(config).await;
    let (_, key) = all_in_one::tenant(&suite, "acme").await;
    let mut clients = all_in_one::clients(&suite, &key);

    // Traffic over every path: client → server, ingestion → profiles,
    // relay → scoring, scoring → Redis, every service → Postgres.
    let purchase = rapport_tests::purchase("T-1", "C-1", 0, 12_000);
    let within = Duration::from_secs(10);
    let scored = rapport_tests::first_purchase_scored(&mut clients, purchase, within).await;
    assert!(scored.is_some(), "the purchase never reached the score");

    let port = suite.addr.port();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut lacking = Vec::new();
    for c in connections() {
        let role = if c.local.port() == port {
            "accepted by the suite"
        } else if c.peer.port() == port {
            "opened to the suite"
        } else if c.peer.port() == redis_port {
            "opened to Redis"
        } else if c.peer.port() == pg_port {
            "opened to Postgres"
        } else {
            continue;
        };
        *seen.entry(role).or_default() += 1;
        if !c.nodelay {
            lacking.push(format!("{role}: {} -> {}", c.local, c.peer));
        }
    }
    for role in [
        "accepted by the suite",
        "opened to the suite",
        "opened to Redis",
        "opened to Postgres",
    ] {
        assert!(
            seen.contains_key(role),
            "no connection {role} found; saw {seen:?}"
        );
    }
    assert!(
        lacking.is_empty(),
        "connections without TCP_NODELAY:\n{}",
        lacking.join("\n")
    );
    suite.stop().await.unwrap();
}
