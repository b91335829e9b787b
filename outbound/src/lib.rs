//! Where Flotilla's hub may connect.
//!
//! The hub calls addresses that tenants give it: member clusters' API servers and OpenID
//! Providers (and the endpoints a provider's discovery document names). Left alone, a tenant
//! admin could point it at the cloud's metadata service, at a service on the hub's own
//! machine, or at anything inside the hub's network, and read the answers back through error
//! messages. Every such call goes through one [`OutboundPolicy`]:
//!
//! - **URLs** are parsed as URLs ([`parse_target`]): `https://` (plain `http://` only to
//!   loopback addresses, and only where the operator allows it, as the demo does), a host, no
//!   credentials, no query or fragment.
//! - **Addresses** are checked after DNS resolution, and the connection is made to the
//!   addresses checked ([`OutboundPolicy::resolve`] is what the HTTP clients resolve with), so a
//!   name that resolves differently a second later (DNS rebinding) gains nothing.
//! - Link-local addresses, cloud metadata services, unspecified, multicast and reserved
//!   addresses are never called. Loopback is refused unless the operator allows it. Private
//!   ranges (RFC 1918, CGNAT, IPv6 unique local) are allowed by default, since clusters live
//!   there, and refused with `deny_private`; the operator may deny more networks.
//! - IPv6 addresses that carry an IPv4 one (mapped, compatible, NAT64, 6to4) are judged by the
//!   IPv4 address inside.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;
use serde::Deserialize;
use url::{Host, Url};

/// Whether the hub may call its own machine's loopback addresses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Loopback {
    /// Never (the default: nothing a tenant registers should live on the hub's machine).
    #[default]
    Deny,
    /// Over https (clusters or a provider on the same machine, e.g. kind).
    Https,
    /// Over https and plain http (the demo and tests: simulated clusters, a local provider).
    Http,
}

impl FromStr for Loopback {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "deny" => Ok(Loopback::Deny),
            "https" => Ok(Loopback::Https),
            "http" => Ok(Loopback::Http),
            other => Err(format!("'{other}' is not a loopback setting: deny, https or http")),
        }
    }
}

impl fmt::Display for Loopback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Loopback::Deny => "deny",
            Loopback::Https => "https",
            Loopback::Http => "http",
        })
    }
}

/// Where the hub may connect; see the crate's documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    pub loopback: Loopback,
    /// Refuse private ranges: 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7.
    pub deny_private: bool,
    /// More networks to refuse.
    pub deny: Vec<IpNet>,
}

/// What kind of address an IP address is, as far as the policy cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    Public,
    Private,
    Loopback,
    LinkLocal,
    /// A cloud provider's instance metadata service.
    Metadata,
    Unspecified,
    Multicast,
    /// Reserved for future use, broadcast, or IETF protocol assignments.
    Reserved,
}

impl AddressClass {
    fn describe(self) -> &'static str {
        match self {
            AddressClass::Public => "a public address",
            AddressClass::Private => "a private address",
            AddressClass::Loopback => "a loopback address",
            AddressClass::LinkLocal => "a link-local address",
            AddressClass::Metadata => "a cloud metadata service",
            AddressClass::Unspecified => "an unspecified address",
            AddressClass::Multicast => "a multicast address",
            AddressClass::Reserved => "a reserved address",
        }
    }
}

/// Why the hub will not call an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not a URL the hub calls.
    #[error("{0}")]
    Url(String),
    /// Plain http where only https is allowed.
    #[error(
        "{0} is plain http: Flotilla calls https:// only (plain http only to loopback addresses, where the \
         operator allows it)"
    )]
    PlainHttp(String),
    /// An address the policy refuses.
    #[error("{what}: Flotilla does not connect there{hint}")]
    Address { host: String, addr: IpAddr, what: String, hint: &'static str },
    /// The name did not resolve.
    #[error("{host} does not resolve: {reason}")]
    Unresolved { host: String, reason: String },
}

/// Parses `text` as the URL of something the hub will call: `http` or `https`, a host, no
/// user or password, no query or fragment. Whether the policy allows it is a separate
/// question ([`OutboundPolicy::check_url`]).
pub fn parse_target(text: &str) -> Result<Url, Refused> {
    let text = text.trim();
    let url = Url::parse(text).map_err(|e| Refused::Url(format!("'{}' is not a URL: {e}", shorten(text))))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(Refused::Url(format!("'{}' must start with https://", shorten(text))));
    }
    if url.host().is_none() {
        return Err(Refused::Url(format!("'{}' names no host", shorten(text))));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refused::Url("a URL with a user name or password is not accepted: give credentials apart".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Refused::Url(format!("'{}' must not have a query (?…) or fragment (#…)", shorten(text))));
    }
    Ok(url)
}

/// `url` as stored and shown: without a trailing slash (`https://host:6443/k8s/clusters/c-1`).
pub fn normalized(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

/// `text` cut for an error message (it is attacker-chosen).
fn shorten(text: &str) -> String {
    const MAX: usize = 120;
    if text.chars().count() <= MAX {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MAX).collect();
    cut.push('…');
    cut
}

impl OutboundPolicy {
    /// What may be checked before resolving: the scheme, credentials, and a host given as an
    /// address. A host given as a name is checked by [`OutboundPolicy::resolve`].
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        let plain_http = match url.scheme() {
            "https" => false,
            "http" => true,
            other => return Err(Refused::Url(format!("{other}:// URLs are not called: use https://"))),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refused::Url("a URL with a user name or password is not accepted".into()));
        }
        match url.host() {
            None => Err(Refused::Url("the URL names no host".into())),
            Some(Host::Ipv4(ip)) => self.check_address(&ip.to_string(), IpAddr::V4(ip), plain_http),
            Some(Host::Ipv6(ip)) => self.check_address(&format!("[{ip}]"), IpAddr::V6(ip), plain_http),
            Some(Host::Domain(_)) if plain_http && self.loopback != Loopback::Http => {
                Err(Refused::PlainHttp(origin_of(url)))
            }
            Some(Host::Domain(_)) => Ok(()),
        }
    }

    /// Whether `addr` (which `host` named or resolved to) may be called, over plain http or
    /// over https.
    pub fn check_address(&self, host: &str, addr: IpAddr, plain_http: bool) -> Result<(), Refused> {
        let class = classify(addr);
        // A name is shown with the address it resolved to.
        let named = host != addr.to_string() && host != format!("[{addr}]");
        let subject = if named { format!("{host} resolves to {addr},") } else { format!("{host} is") };
        let refuse = |why: &str, hint: &'static str| {
            Err(Refused::Address { host: host.to_owned(), addr, what: format!("{subject} {why}"), hint })
        };
        let described = class.describe();
        match class {
            AddressClass::LinkLocal
            | AddressClass::Metadata
            | AddressClass::Unspecified
            | AddressClass::Multicast
            | AddressClass::Reserved => return refuse(described, ""),
            AddressClass::Loopback => match (self.loopback, plain_http) {
                (Loopback::Deny, _) => {
                    return refuse(described, " (the operator may allow it: --outbound-loopback https)");
                }
                (Loopback::Https, true) => return refuse(&format!("{described} over plain http"), ", use https"),
                _ => {}
            },
            AddressClass::Private if self.deny_private => {
                return refuse(described, " (this hub refuses private ranges)");
            }
            AddressClass::Private | AddressClass::Public if plain_http => {
                return refuse(&format!("{described} over plain http"), ": use https (plain http only to loopback)");
            }
            AddressClass::Private | AddressClass::Public => {}
        }
        if let Some(net) = self.deny.iter().find(|net| net.contains(&addr)) {
            return refuse(&format!("in {net}, a network this hub refuses"), "");
        }
        Ok(())
    }

    /// The addresses of `host` (a name, or an address as a URL writes it), each allowed by the
    /// policy; the connection must be made to these. Refused when any address is refused, or
    /// when the name resolves to nothing.
    pub async fn resolve(&self, host: &str, plain_http: bool) -> Result<Vec<IpAddr>, Refused> {
        let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        if let Ok(addr) = bare.parse::<IpAddr>() {
            self.check_address(host, addr, plain_http)?;
            return Ok(vec![addr]);
        }
        let found = tokio::net::lookup_host((bare, 0))
            .await
            .map_err(|e| Refused::Unresolved { host: host.to_owned(), reason: e.to_string() })?;
        let mut addrs: Vec<IpAddr> = Vec::new();
        for addr in found.map(|a| a.ip()) {
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
        if addrs.is_empty() {
            return Err(Refused::Unresolved { host: host.to_owned(), reason: "no addresses".into() });
        }
        for addr in &addrs {
            self.check_address(host, *addr, plain_http)?;
        }
        Ok(addrs)
    }
}

/// The policy's refusal somewhere in `error`'s chain of causes, if that is why a request
/// failed (HTTP clients wrap what their resolver said).
pub fn refusal_in<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused);
        }
        cause = e.source();
    }
    None
}

fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// What kind of address `addr` is. IPv6 addresses that embed an IPv4 one are judged by it.
pub fn classify(addr: IpAddr) -> AddressClass {
    match addr {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, c, d] = ip.octets();
    match (a, b, c, d) {
        (0, ..) => AddressClass::Unspecified,
        (127, ..) => AddressClass::Loopback,
        // AWS, GCP, Azure, OpenStack…; Alibaba Cloud.
        (169, 254, 169, 254) | (100, 100, 100, 200) => AddressClass::Metadata,
        (169, 254, ..) => AddressClass::LinkLocal,
        (10, ..) | (192, 168, ..) => AddressClass::Private,
        (172, b, ..) if (16..32).contains(&b) => AddressClass::Private,
        (100, b, ..) if (64..128).contains(&b) => AddressClass::Private, // CGNAT
        (192, 0, 0, _) => AddressClass::Reserved,                        // IETF protocol assignments
        (224..=239, ..) => AddressClass::Multicast,
        (240..=255, ..) => AddressClass::Reserved, // includes broadcast
        _ => AddressClass::Public,
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    if ip.is_unspecified() {
        return AddressClass::Unspecified;
    }
    if ip.is_loopback() {
        return AddressClass::Loopback;
    }
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let s = ip.segments();
    match s[0] {
        // AWS's instance metadata service over IPv6.
        _ if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) => AddressClass::Metadata,
        x if x & 0xffc0 == 0xfe80 => AddressClass::LinkLocal,
        x if x & 0xffc0 == 0xfec0 => AddressClass::Reserved, // deprecated site-local
        x if x & 0xfe00 == 0xfc00 => AddressClass::Private,
        x if x & 0xff00 == 0xff00 => AddressClass::Multicast,
        _ => AddressClass::Public,
    }
}

/// The IPv4 address carried by an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible
/// (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:aabb:ccdd::`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, ..] | [0, 0, 0, 0, 0, 0, ..] => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => Some(low),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
