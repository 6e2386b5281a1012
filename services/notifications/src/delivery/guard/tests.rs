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
