use super::*;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn policy(loopback: Loopback) -> OutboundPolicy {
    OutboundPolicy { loopback, ..OutboundPolicy::default() }
}

#[test]
fn addresses_are_classified_with_embedded_ipv4_judged_by_itself() {
    use AddressClass::*;
    for (addr, class) in [
        ("8.8.8.8", Public),
        ("2606:4700::1111", Public),
        ("10.1.2.3", Private),
        ("172.16.0.1", Private),
        ("172.31.255.255", Private),
        ("172.32.0.1", Public),
        ("192.168.1.1", Private),
        ("100.64.0.1", Private),
        ("fd12:3456::1", Private),
        ("127.0.0.1", Loopback),
        ("127.8.9.10", Loopback),
        ("::1", Loopback),
        ("169.254.169.254", Metadata),
        ("100.100.100.200", Metadata),
        ("fd00:ec2::254", Metadata),
        ("169.254.1.1", LinkLocal),
        ("fe80::1", LinkLocal),
        ("0.0.0.0", Unspecified),
        ("0.1.2.3", Unspecified),
        ("::", Unspecified),
        ("224.0.0.1", Multicast),
        ("ff02::1", Multicast),
        ("255.255.255.255", Reserved),
        ("240.0.0.1", Reserved),
        ("192.0.0.170", Reserved),
        // IPv6 forms of IPv4 addresses are judged by the IPv4 address.
        ("::ffff:169.254.169.254", Metadata),
        ("::ffff:127.0.0.1", Loopback),
        ("::ffff:10.0.0.1", Private),
        ("::127.0.0.1", Loopback),
        ("64:ff9b::a9fe:a9fe", Metadata),
        ("2002:a9fe:a9fe::1", Metadata),
        ("2002:0808:0808::1", Public),
    ] {
        assert_eq!(classify(ip(addr)), class, "{addr}");
    }
}

#[test]
fn metadata_link_local_and_the_like_are_never_called() {
    let open = OutboundPolicy { loopback: Loopback::Http, ..OutboundPolicy::default() };
    for addr in ["169.254.169.254", "::ffff:169.254.169.254", "fe80::1", "0.0.0.0", "224.0.0.1", "100.100.100.200"] {
        for plain in [false, true] {
            let e = open.check_address(addr, ip(addr), plain).unwrap_err();
            assert!(e.to_string().contains("does not connect there"), "{addr}: {e}");
        }
    }
}

#[test]
fn loopback_needs_the_operator_and_plain_http_needs_loopback() {
    let host = "127.0.0.1";
    let deny = policy(Loopback::Deny);
    let e = deny.check_address(host, ip(host), false).unwrap_err().to_string();
    assert!(e.contains("loopback") && e.contains("--outbound-loopback"), "{e}");
    assert!(policy(Loopback::Https).check_address(host, ip(host), false).is_ok());
    assert!(policy(Loopback::Https).check_address(host, ip(host), true).is_err(), "https only");
    assert!(policy(Loopback::Http).check_address(host, ip(host), true).is_ok());
    // Plain http never leaves the machine, whatever the loopback setting.
    for addr in ["10.0.0.1", "8.8.8.8"] {
        let e = policy(Loopback::Http).check_address(addr, ip(addr), true).unwrap_err().to_string();
        assert!(e.contains("plain http"), "{e}");
        assert!(policy(Loopback::Deny).check_address(addr, ip(addr), false).is_ok(), "https to {addr}");
    }
}

#[test]
fn private_ranges_and_listed_networks_can_be_refused() {
    let strict = OutboundPolicy {
        deny_private: true,
        deny: vec!["203.0.113.0/24".parse().unwrap()],
        ..OutboundPolicy::default()
    };
    for addr in ["10.0.0.1", "192.168.0.10", "fd00::1", "203.0.113.7"] {
        assert!(strict.check_address(addr, ip(addr), false).is_err(), "{addr}");
        // …and the name that resolved to it is named with the address.
        let e = strict.check_address("api.example", ip(addr), false).unwrap_err().to_string();
        assert!(e.starts_with(&format!("api.example resolves to {addr},")), "{e}");
    }
    assert!(strict.check_address("8.8.8.8", ip("8.8.8.8"), false).is_ok());
    assert!(OutboundPolicy::default().check_address("10.0.0.1", ip("10.0.0.1"), false).is_ok(), "allowed by default");
}

#[test]
fn targets_are_parsed_as_urls() {
    let url = parse_target(" https://rancher.example/k8s/clusters/c-1/ ").unwrap();
    assert_eq!(normalized(&url), "https://rancher.example/k8s/clusters/c-1");
    assert_eq!(normalized(&parse_target("https://10.0.0.1:6443").unwrap()), "https://10.0.0.1:6443");
    for (text, why) in [
        ("https://api.example/?x=", "query"),
        ("https://api.example/#frag", "fragment"),
        ("https://user:pw@api.example", "password"),
        ("ftp://api.example", "https://"),
        ("file:///etc/passwd", "https://"),
        ("api.example:6443", "https://"),
        ("not a url", "not a URL"),
        ("https://", "not a URL"),
    ] {
        let e = parse_target(text).unwrap_err().to_string();
        assert!(e.contains(why), "{text}: {e}");
    }
    // An attacker's long URL is cut in the message.
    let long = format!("gopher://{}", "a".repeat(5000));
    assert!(parse_target(&long).unwrap_err().to_string().len() < 300);
}

#[test]
fn urls_are_checked_before_resolving() {
    let deny = OutboundPolicy::default();
    let check = |p: &OutboundPolicy, text: &str| p.check_url(&Url::parse(text).unwrap());
    assert!(check(&deny, "https://api.example:6443").is_ok());
    assert!(matches!(check(&deny, "http://api.example"), Err(Refused::PlainHttp(_))));
    assert!(matches!(check(&deny, "https://169.254.169.254/latest"), Err(Refused::Address { .. })));
    assert!(matches!(check(&deny, "https://[::ffff:a9fe:a9fe]/"), Err(Refused::Address { .. })));
    assert!(matches!(check(&deny, "https://127.0.0.1:6443"), Err(Refused::Address { .. })));
    // Decimal and hex IPv4 forms are addresses to the URL parser, and judged as such.
    assert!(matches!(check(&deny, "https://2852039166/"), Err(Refused::Address { .. })));
    assert!(matches!(check(&deny, "https://0xa9fea9fe/"), Err(Refused::Address { .. })));
    let demo = policy(Loopback::Http);
    assert!(check(&demo, "http://127.0.0.1:9000/idp").is_ok());
    assert!(check(&demo, "http://localhost:9000").is_ok(), "a name is judged once resolved");
    assert!(matches!(check(&demo, "gopher://x"), Err(Refused::Url(_))));
}

#[tokio::test]
async fn names_are_judged_by_every_address_they_resolve_to() {
    let deny = OutboundPolicy::default();
    let e = deny.resolve("localhost", false).await.unwrap_err();
    assert!(matches!(&e, Refused::Address { host, .. } if host == "localhost"), "{e}");
    let https = policy(Loopback::Https);
    let addrs = https.resolve("localhost", false).await.unwrap();
    assert!(!addrs.is_empty() && addrs.iter().all(|a| a.is_loopback()), "{addrs:?}");
    assert!(https.resolve("localhost", true).await.is_err(), "no plain http with https-only loopback");
    assert!(policy(Loopback::Http).resolve("localhost", true).await.is_ok());
    // Addresses as URLs write them.
    assert_eq!(https.resolve("[::1]", false).await.unwrap(), vec![ip("::1")]);
    assert!(deny.resolve("169.254.169.254", false).await.is_err());
    let e = deny.resolve("name.invalid", false).await.unwrap_err();
    assert!(matches!(e, Refused::Unresolved { .. }), "{e}");
}

#[test]
fn loopback_settings_parse() {
    assert_eq!("https".parse::<Loopback>().unwrap(), Loopback::Https);
    assert_eq!(Loopback::Http.to_string().parse::<Loopback>().unwrap(), Loopback::Http);
    assert!("yes".parse::<Loopback>().unwrap_err().contains("deny, https or http"));
}
