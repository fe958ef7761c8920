//! Address sets: the peers of a rule, kept per family and aggregated.
//!
//! IPv4 and IPv6 never mix in one set, so an IPv6-only peer list can never be printed as an IPv4
//! "any" by a target that only understands one family.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::fmt;
use std::net::IpAddr;

/// Who a rule lets in (inbound) or reaches (outbound).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Peers {
    /// Every address of both families.
    Any,
    /// IPv4 networks, aggregated and sorted.
    V4(Vec<Ipv4Net>),
    /// IPv6 networks, aggregated and sorted.
    V6(Vec<Ipv6Net>),
    /// Host names whose addresses change: no host firewall can hold them as addresses.
    Dns(Vec<String>),
}

impl Peers {
    /// The JSON interface's spelling: `any`, CIDRs, or `dns:<name>`.
    pub fn to_strings(&self) -> Vec<String> {
        match self {
            Peers::Any => vec!["any".to_string()],
            Peers::V4(v) => v.iter().map(|n| n.to_string()).collect(),
            Peers::V6(v) => v.iter().map(|n| n.to_string()).collect(),
            Peers::Dns(v) => v.iter().map(|n| format!("dns:{n}")).collect(),
        }
    }

    pub fn is_any(&self) -> bool {
        matches!(self, Peers::Any)
    }

    /// Whether the address is inside this peer set (host names never match an address).
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self, addr) {
            (Peers::Any, _) => true,
            (Peers::V4(v), IpAddr::V4(a)) => v.iter().any(|n| n.contains(&a)),
            (Peers::V6(v), IpAddr::V6(a)) => v.iter().any(|n| n.contains(&a)),
            _ => false,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Peers::Any => 1,
            Peers::V4(v) => v.len(),
            Peers::V6(v) => v.len(),
            Peers::Dns(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Display for Peers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_strings().join(", "))
    }
}

/// The single-host network of an address (`/32` or `/128`).
pub fn host_net(addr: IpAddr) -> IpNet {
    IpNet::from(addr)
}

/// Collects addresses and networks of both families, then aggregates each family on its own.
#[derive(Debug, Clone, Default)]
pub struct AddrSetBuilder {
    pub v4: Vec<Ipv4Net>,
    pub v6: Vec<Ipv6Net>,
}

impl AddrSetBuilder {
    pub fn push_net(&mut self, net: IpNet) {
        match net {
            IpNet::V4(n) => self.v4.push(n.trunc()),
            IpNet::V6(n) => self.v6.push(n.trunc()),
        }
    }

    pub fn push_addr(&mut self, addr: IpAddr) {
        self.push_net(host_net(addr));
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// The aggregated per-family sets; an empty family yields nothing (never "any").
    pub fn finish(self) -> (Option<Peers>, Option<Peers>) {
        let v4 = (!self.v4.is_empty()).then(|| Peers::V4(Ipv4Net::aggregate(&self.v4)));
        let v6 = (!self.v6.is_empty()).then(|| Peers::V6(Ipv6Net::aggregate(&self.v6)));
        (v4, v6)
    }
}

/// Whether a network lies entirely in the documentation ranges (RFC 5737, RFC 3849).
pub fn is_documentation(net: &IpNet) -> bool {
    const V4: [&str; 3] = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"];
    match net {
        IpNet::V4(n) => V4
            .iter()
            .filter_map(|s| s.parse::<Ipv4Net>().ok())
            .any(|d| d.contains(n)),
        IpNet::V6(n) => "2001:db8::/32"
            .parse::<Ipv6Net>()
            .is_ok_and(|d| d.contains(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_per_family_and_never_widens() {
        let mut b = AddrSetBuilder::default();
        for a in ["203.0.113.2", "203.0.113.3", "2001:db8::1"] {
            b.push_addr(a.parse().unwrap());
        }
        let (v4, v6) = b.finish();
        assert_eq!(v4.unwrap().to_strings(), vec!["203.0.113.2/31"]);
        assert_eq!(v6.unwrap().to_strings(), vec!["2001:db8::1/128"]);
        let only6 = AddrSetBuilder {
            v4: vec![],
            v6: vec!["2001:db8::/64".parse().unwrap()],
        };
        let (v4, _) = only6.finish();
        assert!(v4.is_none());
    }
}

/// The networks minus one address, as the fewest networks: each network holding the address is
/// split in halves down to the address, keeping the halves without it. Used to drop a node's own
/// address from a shared peer set without rebuilding the set from every other node.
pub fn exclude_addr(nets: &[IpNet], addr: IpAddr) -> Vec<IpNet> {
    let mut out = Vec::with_capacity(nets.len() + 8);
    for &net in nets {
        if !net.contains(&addr) {
            out.push(net);
            continue;
        }
        let mut cur = net;
        while cur.prefix_len() < cur.max_prefix_len() {
            let Ok(mut halves) = cur.subnets(cur.prefix_len() + 1) else {
                break;
            };
            let (Some(lo), Some(hi)) = (halves.next(), halves.next()) else {
                break;
            };
            if lo.contains(&addr) {
                out.push(hi);
                cur = lo;
            } else {
                out.push(lo);
                cur = hi;
            }
        }
    }
    out
}

#[cfg(test)]
mod exclude_tests {
    use super::*;

    #[test]
    fn excluding_an_address_keeps_every_other() {
        let nets: Vec<IpNet> = vec![
            "203.0.113.0/29".parse().unwrap(),
            "2001:db8::/126".parse().unwrap(),
        ];
        let a: IpAddr = "203.0.113.5".parse().unwrap();
        let out = exclude_addr(&nets, a);
        for i in 0..8u8 {
            let x = IpAddr::from([203, 0, 113, i]);
            assert_eq!(out.iter().any(|n| n.contains(&x)), i != 5, "{x}");
        }
        assert!(
            out.iter()
                .any(|n| n.contains(&"2001:db8::3".parse::<IpAddr>().unwrap()))
        );
        assert_eq!(out.len(), 3 + 1);
    }
}
