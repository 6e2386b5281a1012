//! Keeps webhooks away from addresses that are not on the public internet
//! (loopback, private networks, link-local and cloud metadata, CGNAT…), so a
//! tenant cannot use them to probe the networks Rapport runs in.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether `ip` is an address a webhook may go to.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0 // "this network", including 0.0.0.0
        || a == 10 // private
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || a == 127 // loopback
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 168) // private
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18/15
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded = Ipv4Addr::from_bits(ip.to_bits() as u32);
    // IPv4-compatible (::a.b.c.d, which covers :: and ::1) and IPv4-mapped
    // (::ffff:a.b.c.d) addresses, and the well-known NAT64 prefix
    // 64:ff9b::/96: the IPv4 address inside decides.
    let v4_inside =
        s[..5] == [0; 5] && (s[5] == 0 || s[5] == 0xffff) || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    if v4_inside {
        return is_public_v4(embedded);
    }
    // 6to4 (2002::/16) carries the IPv4 address of its gateway.
    if s[0] == 0x2002 {
        return is_public_v4(Ipv4Addr::from_bits((ip.to_bits() >> 80) as u32));
    }
    // Only global unicast (2000::/3) is public; that leaves out unique-local
    // fc00::/7, link-local fe80::/10, multicast ff00::/8, discard 100::/64
    // and NAT64 for local use 64:ff9b:1::/48. Within it, documentation
    // 2001:db8::/32 and benchmarking 2001:2::/48 are refused too.
    (s[0] & 0xe000) == 0x2000
        && !(s[0] == 0x2001 && s[1] == 0x0db8)
        && !(s[0] == 0x2001 && s[1] == 0x0002 && s[2] == 0)
}

/// What a webhook attempt to a non-public destination fails with. Never
/// names the host or URL (its query string may hold a receiver's secret).
#[derive(Debug, thiserror::Error)]
#[error("the destination resolves only to non-public addresses; webhooks go to public hosts only")]
pub struct NonPublic;

/// Resolves with the system resolver and keeps only public addresses. The
/// webhook client resolves every host name through it at each connection
/// (unless `notify.allow_private_destinations`), so what a name points to is
/// checked every time.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicOnly;

impl PublicOnly {
    /// As an `Arc`, for [`reqwest::ClientBuilder::dns_resolver`].
    pub fn shared() -> Arc<PublicOnly> {
        Arc::new(PublicOnly)
    }
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // The port is replaced by the connector with the URL's.
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = found.filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(NonPublic) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// Whether `e`, or any error below it, is [`NonPublic`].
pub fn is_non_public(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(cause) = next {
        if cause.is::<NonPublic>() {
            return true;
        }
        next = cause.source();
    }
    false
}

/// Whether the host of `url` is an IP literal that is not public, checked
/// when a webhook is sent and again before each attempt. Host names (and
/// unparsable URLs) are `false`: they are for the resolver.
pub fn literal_non_public(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    // The parser has already normalised IPv4 literals (`0x7f000001`,
    // `0177.0.0.1`…) to dotted decimal; IPv6 ones come in brackets.
    let host = parsed.host_str().unwrap_or_default();
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
    bare.unwrap_or(host)
        .parse::<IpAddr>()
        .is_ok_and(|ip| !is_public(ip))
}

#[cfg(test)]
mod tests;
