//! Where the split services listen: above the listen port for `rapport up
//! --split`, or on free ports for the benchmark.

use std::net::SocketAddr;

use anyhow::Context;

use super::service::SERVICES;

/// Free loopback addresses, one per service (bound and released at once;
/// another process could take one in between, which start-up then reports).
pub fn free_addrs<const N: usize>() -> anyhow::Result<[SocketAddr; N]> {
    let listeners: Vec<std::net::TcpListener> = (0..N)
        .map(|_| std::net::TcpListener::bind(("127.0.0.1", 0)))
        .collect::<Result<_, _>>()?;
    let addrs: Vec<SocketAddr> = listeners
        .iter()
        .map(|l| l.local_addr())
        .collect::<Result<_, _>>()?;
    addrs
        .try_into()
        .map_err(|_| anyhow::anyhow!("could not pick {N} free ports"))
}

/// The address of each service for `rapport up --split` with base address
/// `base`: profiles on port + 10, ingestion + 11, scoring + 12,
/// notifications + 13 (so 50061..50064 from the default 50051).
pub fn addrs_from(base: SocketAddr) -> anyhow::Result<[SocketAddr; 4]> {
    let offset = |service: &str| match service {
        "profiles" => 10,
        "ingestion" => 11,
        "scoring" => 12,
        _ => 13,
    };
    let mut addrs = [base; 4];
    for (i, name) in SERVICES.iter().enumerate() {
        let port = base
            .port()
            .checked_add(offset(name))
            .context("the listen port leaves no room for the four services above it")?;
        addrs[i].set_port(port);
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_ports_sit_above_the_listen_port() {
        let addrs = addrs_from("127.0.0.1:50051".parse().unwrap()).unwrap();
        let port = |name: &str| addrs[SERVICES.iter().position(|s| *s == name).unwrap()].port();
        assert_eq!(
            [
                port("profiles"),
                port("ingestion"),
                port("scoring"),
                port("notifications")
            ],
            [50061, 50062, 50063, 50064]
        );
        assert!(addrs_from("127.0.0.1:65530".parse().unwrap()).is_err());
    }
}
