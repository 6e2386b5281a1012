//! Client-side balancing over every address a peer's name resolves to: what
//! a Kubernetes headless Service gives (one A record per ready pod), so each
//! replica of a peer takes its share of internal calls. Through a ClusterIP
//! Service one long-lived HTTP/2 connection reaches one pod, and pods added
//! by an autoscaler get no internal traffic until the caller reconnects.

use std::{
    collections::BTreeSet, future::Future, net::SocketAddr, pin::Pin, sync::Arc, time::Duration,
};

use anyhow::Context;
use tonic::transport::{Channel, Endpoint, channel::Change};

/// Resolves `(host, port)` to the addresses to call.
pub type Resolver = Arc<
    dyn Fn(String, u16) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>>
        + Send
        + Sync,
>;

/// The system resolver (`getaddrinfo`, through tokio).
pub fn system_resolver() -> Resolver {
    Arc::new(|host, port| {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, port)).await?.collect()) })
    })
}

/// An endpoint key: the name itself until it resolves, then one per address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    Name,
    Addr(SocketAddr),
}

/// A channel to `url` that spreads calls over every address its host
/// resolves to, resolving again every `every` and adding and removing
/// endpoints as the answer changes. `endpoint(url)` builds each endpoint
/// (timeouts, TLS naming the host, so certificates are checked against the
/// name, not the address). Until the first answer, and whenever an answer
/// is empty or fails, calls go to the name itself, connected as an
/// unbalanced channel would, so a resolver outage never leaves a peer
/// without an endpoint. Needs a tokio runtime; the resolving task ends when
/// the channel and its clones are dropped.
pub fn balanced_channel(
    url: &str,
    every: Duration,
    resolver: Resolver,
    endpoint: impl Fn(&str) -> anyhow::Result<Endpoint> + Send + 'static,
) -> anyhow::Result<Channel> {
    let uri: http::Uri = url
        .parse()
        .with_context(|| format!("{url:?} is not a URL"))?;
    let host = uri
        .host()
        .with_context(|| format!("{url:?} names no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let https = uri.scheme_str() == Some("https");
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let scheme = if https { "https" } else { "http" };
    let by_name = endpoint(url)?;
    let runtime = tokio::runtime::Handle::try_current()
        .context("balancing over a peer's addresses needs a tokio runtime")?;
    let (channel, changes) = Channel::balance_channel::<Key>(64);
    changes
        .try_send(Change::Insert(Key::Name, by_name.clone()))
        .context("starting the balanced channel")?;
    runtime.spawn(async move {
        let mut current: BTreeSet<Key> = BTreeSet::from([Key::Name]);
        loop {
            let answer = resolver(host.clone(), port).await;
            let wanted: BTreeSet<Key> = match answer {
                Ok(addrs) if !addrs.is_empty() => addrs.into_iter().map(Key::Addr).collect(),
                Ok(_) => BTreeSet::from([Key::Name]),
                Err(e) => {
                    tracing::warn!(%host, error = %e, "resolving a peer failed; calling it by name");
                    BTreeSet::from([Key::Name])
                }
            };
            // Add before removing, so the channel never has no endpoint.
            for key in &wanted {
                if current.contains(key) {
                    continue;
                }
                let made = match key {
                    Key::Name => Ok(by_name.clone()),
                    Key::Addr(addr) => endpoint(&format!("{scheme}://{addr}")),
                };
                match made {
                    Ok(e) => {
                        if changes.send(Change::Insert(key.clone(), e)).await.is_err() {
                            return;
                        }
                        current.insert(key.clone());
                    }
                    Err(e) => tracing::warn!(?key, error = %e, "peer endpoint not usable"),
                }
            }
            let gone: Vec<Key> = current
                .iter()
                .filter(|k| !wanted.contains(k))
                .cloned()
                .collect();
            for key in gone {
                if changes.send(Change::Remove(key.clone())).await.is_err() {
                    return;
                }
                current.remove(&key);
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = changes.closed() => return,
            }
        }
    });
    Ok(channel)
}

#[cfg(test)]
mod tests;
