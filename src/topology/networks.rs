//! Which addresses and networks a topology may name: a node's or external host's address must be
//! a host's, a zone's network one that peers can come from. Firewalls refuse the rest (Windows
//! Firewall loopback and multicast remote addresses), and a rule for them matches nothing.

use crate::user_text::quoted;
use ipnet::IpNet;
use std::net::IpAddr;

/// Why an address cannot be a peer on the network, if it cannot: firewalls (Windows' among them)
/// refuse loopback, unspecified and multicast addresses as remote addresses, no host sends from
/// the broadcast address or from "this network" (`0.0.0.0/8`), and a rule for them is meaningless
/// anyway. IPv4-mapped IPv6 addresses count as their IPv4 address.
pub(super) fn not_a_host_address(ip: IpAddr) -> Option<&'static str> {
    let v4 = match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
    };
    if ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || v4.is_some_and(|v4| v4.is_loopback() || v4.is_unspecified())
    {
        Some("loopback, unspecified or multicast")
    } else if v4.is_some_and(|v4| v4.is_broadcast()) {
        Some("the broadcast address")
    } else if v4.is_some_and(|v4| v4.octets()[0] == 0) {
        Some("in 0.0.0.0/8, this network, which no host has")
    } else {
        None
    }
}

/// A zone's network: a CIDR (`198.51.100.0/24`) or a bare address (taken as a host network).
///
/// Networks no peer can come from are refused here, because a zone is only ever a peer: a rule for
/// them matches nothing, and Windows Firewall refuses loopback and multicast remote addresses, so a
/// netsh export would fail its management rule and still go on to block inbound.
pub fn parse_net(s: &str) -> Result<IpNet, String> {
    let t = s.trim();
    let n = match t.parse::<IpNet>() {
        Ok(n) if n.trunc() != n => {
            return Err(format!(
                "'{t}' has host bits set; did you mean {}?",
                n.trunc()
            ));
        }
        Ok(n) => n,
        Err(_) => t
            .parse::<IpAddr>()
            .map(IpNet::from)
            .map_err(|_| format!("{} is not a CIDR or address", quoted(t)))?,
    };
    match not_a_peer_network(&n) {
        Some(why) => Err(format!("'{t}' is {why}")),
        None => Ok(n),
    }
}

/// Why no peer can come from a network, if none can: it lies wholly in loopback, multicast or
/// link-local space, or is the unspecified address (IPv4-mapped IPv6 counts as its IPv4 network).
fn not_a_peer_network(n: &IpNet) -> Option<&'static str> {
    const LOOPBACK: &str = "loopback: traffic from it never crosses a network, and Windows Firewall refuses it as a remote address";
    const MULTICAST: &str = "multicast: no connection comes from a multicast address, and Windows Firewall refuses it as a remote address";
    const UNSPECIFIED: &str =
        "the unspecified address, not a network; write 0.0.0.0/0 or ::/0 to mean every address";
    const LINK_LOCAL: &str = "link-local only: such addresses are unique on one link alone, so they cannot say where peers are; use routable networks";
    let within = |outer: &str, n: &IpNet| outer.parse::<IpNet>().is_ok_and(|o| o.contains(n));
    let v4 = match n {
        IpNet::V4(v) => Some(*v),
        IpNet::V6(v) if v.prefix_len() >= 96 => v
            .addr()
            .to_ipv4_mapped()
            .and_then(|a| ipnet::Ipv4Net::new(a, v.prefix_len() - 96).ok()),
        IpNet::V6(_) => None,
    };
    match v4 {
        Some(v) => {
            let n = IpNet::V4(v);
            if within("127.0.0.0/8", &n) {
                Some(LOOPBACK)
            } else if within("224.0.0.0/4", &n) {
                Some(MULTICAST)
            } else if v.prefix_len() == 32 && v.addr().is_unspecified() {
                Some(UNSPECIFIED)
            } else if within("169.254.0.0/16", &n) {
                Some(LINK_LOCAL)
            } else {
                None
            }
        }
        None => {
            if within("::1/128", n) {
                Some(LOOPBACK)
            } else if within("ff00::/8", n) {
                Some(MULTICAST)
            } else if within("::/128", n) {
                Some(UNSPECIFIED)
            } else if within("fe80::/10", n) {
                Some(LINK_LOCAL)
            } else {
                None
            }
        }
    }
}
