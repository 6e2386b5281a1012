//! Keeps webhooks away from addresses that are not on the public internet
//! (loopback, private networks, link-local and cloud metadata, CGNAT…), so a
//! tenant cannot use them to probe the networks Rapport runs in. IP literals
//! are refused when a webhook is sent and again before each attempt; host
//! names are resolved by [`PublicOnly`] at each connection, which drops every
//! non-public address. `notify.allow_private_destinations` turns this off.

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

/// Resolves with the system resolver and keeps only public addresses.
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

/// Whether the host of `url` is an IP literal that is not public. Host
/// names (and unparsable URLs) are `false`: they are for the resolver.
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
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
    }

    #[test]
    fn non_public_v4_is_refused() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "169.254.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!public(ip), "{ip} must be refused");
        }
    }

    #[test]
    fn public_v4_is_allowed() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "126.255.255.255",
            "128.0.0.1",
            "169.253.1.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.1.1",
            "192.167.1.1",
            "192.169.1.1",
            "198.17.255.255",
            "198.20.0.1",
            "203.0.114.1",
            "223.255.255.255",
        ] {
            assert!(public(ip), "{ip} must be allowed");
        }
    }

    #[test]
    fn non_public_v6_is_refused() {
        for ip in [
            "::",
            "::1",
            "fe80::1",
            "febf::1",
            "fc00::1",
            "fdff:ffff::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "100::1",
            "2001:db8::1",
            "2001:2::1",
            "64:ff9b:1::1",
            // IPv4-mapped and -compatible forms of non-public addresses.
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:192.168.0.1",
            "::ffff:100.64.0.1",
            "::ffff:0.0.0.0",
            "::127.0.0.1",
            "::10.1.2.3",
            "::169.254.169.254",
            // NAT64 of private IPv4 addresses.
            "64:ff9b::127.0.0.1",
            "64:ff9b::10.1.2.3",
            "64:ff9b::a9fe:a9fe",
            // 6to4 of private IPv4 addresses.
            "2002:7f00:1::1",
            "2002:c0a8:101::1",
        ] {
            assert!(!public(ip), "{ip} must be refused");
        }
    }

    #[test]
    fn public_v6_is_allowed() {
        for ip in [
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "2a00:1450:4001::1",
            "3fff::1",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:808:808::1",
        ] {
            assert!(public(ip), "{ip} must be allowed");
        }
    }

    #[test]
    fn literals_in_urls() {
        for url in [
            "http://127.0.0.1:8080/x",
            "http://169.254.169.254/latest",
            "https://[::1]:8443/",
            "http://[::ffff:127.0.0.1]/",
            "http://10.1.2.3/",
            "http://0x7f000001/",
            "http://2130706433/",
            "http://0177.0.0.1/",
        ] {
            assert!(literal_non_public(url), "{url} must be refused");
        }
        for url in [
            "https://8.8.8.8/hook",
            "https://[2606:4700:4700::1111]/",
            "https://hooks.example.com/x",
            "http://localhost:1/",
        ] {
            assert!(
                !literal_non_public(url),
                "{url} is not a non-public literal"
            );
        }
    }

    #[tokio::test]
    async fn names_resolving_only_to_loopback_are_refused() {
        let e = match PublicOnly.resolve("localhost".parse().unwrap()).await {
            Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e,
        };
        assert!(is_non_public(e.as_ref()), "{e}");
        assert!(e.to_string().contains("non-public"), "{e}");
    }
}
