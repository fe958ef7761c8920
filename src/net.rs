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
    /// Whether the set holds every address of a network: sets are aggregated and sorted, so a
    /// network inside one lies within the last entry starting at or before it.
    pub fn covers(&self, net: &IpNet) -> bool {
        match (self, net) {
            (Peers::Any, _) => true,
            (Peers::V4(v), IpNet::V4(n)) => {
                let i = v.partition_point(|p| p.network() <= n.network());
                i > 0 && v[i - 1].contains(n)
            }
            (Peers::V6(v), IpNet::V6(n)) => {
                let i = v.partition_point(|p| p.network() <= n.network());
                i > 0 && v[i - 1].contains(n)
            }
            _ => false,
        }
    }

    /// The JSON interface's spelling: `any`, CIDRs, or `dns:<name>`.
    pub fn to_strings(&self) -> Vec<String> {
        match self {
            Peers::Any => vec!["any".to_string()],
            Peers::V4(v) => v.iter().map(|n| n.to_string()).collect(),
            Peers::V6(v) => v.iter().map(|n| n.to_string()).collect(),
            Peers::Dns(v) => v.iter().map(|n| format!("dns:{n}")).collect(),
        }
    }

    /// The [`Display`](fmt::Display) text, or its beginning: elements are written until the
    /// text is longer than `limit` bytes, for comments that keep only their start.
    pub fn display_prefix(&self, limit: usize) -> String {
        let mut out = String::new();
        let mut push = |item: &dyn fmt::Display| {
            use fmt::Write;
            if out.len() > limit {
                return;
            }
            if !out.is_empty() {
                out.push_str(", ");
            }
            let _ = write!(out, "{item}");
        };
        match self {
            Peers::Any => push(&"any"),
            Peers::V4(v) => v.iter().for_each(|n| push(n)),
            Peers::V6(v) => v.iter().for_each(|n| push(n)),
            Peers::Dns(v) => v.iter().for_each(|n| push(&format_args!("dns:{n}"))),
        }
        out
    }

    /// The first `n` of [`Peers::to_strings`], without formatting the rest.
    pub fn first_strings(&self, n: usize) -> Vec<String> {
        match self {
            Peers::Any => vec!["any".to_string()],
            Peers::V4(v) => v.iter().take(n).map(|n| n.to_string()).collect(),
            Peers::V6(v) => v.iter().take(n).map(|n| n.to_string()).collect(),
            Peers::Dns(v) => v.iter().take(n).map(|n| format!("dns:{n}")).collect(),
        }
    }

    pub fn is_any(&self) -> bool {
        matches!(self, Peers::Any)
    }

    /// Whether the address is inside this peer set (host names never match an address).
    /// Whether an address is in the set; the networks are sorted and disjoint, so a binary
    /// search (the designer's overview asks for every cell of its window).
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self, addr) {
            (Peers::Any, _) => true,
            (Peers::V4(v), IpAddr::V4(a)) => {
                let i = v.partition_point(|n| n.network() <= a);
                i > 0 && v[i - 1].contains(&a)
            }
            (Peers::V6(v), IpAddr::V6(a)) => {
                let i = v.partition_point(|n| n.network() <= a);
                i > 0 && v[i - 1].contains(&a)
            }
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
        let v4 = (!self.v4.is_empty()).then(|| Peers::V4(aggregate_v4(&self.v4)));
        let v6 = (!self.v6.is_empty()).then(|| Peers::V6(aggregate_v6(&self.v6)));
        (v4, v6)
    }
}

/// The fewest IPv4 networks covering exactly the given ones, sorted: what `Ipv4Net::aggregate`
/// returns, computed on integer intervals without its allocation per network. A management node
/// of a large site aggregates sets of thousands of peers, once for each node that excludes itself.
pub fn aggregate_v4(nets: &[Ipv4Net]) -> Vec<Ipv4Net> {
    let intervals = merge_intervals(
        nets.iter()
            .map(|n| {
                (
                    u32::from(n.network()).into(),
                    u32::from(n.broadcast()).into(),
                )
            })
            .collect(),
    );
    let mut out = Vec::with_capacity(intervals.len());
    for (first, last) in intervals {
        for_each_cidr(first, last, 32, |start, len| {
            out.extend(Ipv4Net::new((start as u32).into(), len).ok())
        });
    }
    out
}

/// [`aggregate_v4`] for IPv6.
pub fn aggregate_v6(nets: &[Ipv6Net]) -> Vec<Ipv6Net> {
    let intervals = merge_intervals(
        nets.iter()
            .map(|n| (u128::from(n.network()), u128::from(n.broadcast())))
            .collect(),
    );
    let mut out = Vec::with_capacity(intervals.len());
    for (first, last) in intervals {
        for_each_cidr(first, last, 128, |start, len| {
            out.extend(Ipv6Net::new(start.into(), len).ok())
        });
    }
    out
}

/// Sorted, disjoint, non-adjacent intervals covering the same addresses (inclusive bounds).
fn merge_intervals(mut v: Vec<(u128, u128)>) -> Vec<(u128, u128)> {
    // A stable sort finds the sorted runs of concatenated aggregated sets and merges them in
    // linear time, where an unstable one would sort from scratch.
    if !v.is_sorted() {
        v.sort();
    }
    let mut out: Vec<(u128, u128)> = Vec::with_capacity(v.len());
    for (first, last) in v {
        match out.last_mut() {
            Some(prev) if first <= prev.1.saturating_add(1) => prev.1 = prev.1.max(last),
            _ => out.push((first, last)),
        }
    }
    out
}

/// Calls `f(start, prefix_len)` for the fewest networks covering `first..=last` in a space of
/// `bits` bits, in address order: at each step the largest aligned block that fits.
fn for_each_cidr(first: u128, last: u128, bits: u32, mut f: impl FnMut(u128, u8)) {
    let mut start = first;
    loop {
        let align = if start == 0 {
            bits
        } else {
            start.trailing_zeros().min(bits)
        };
        let span = last - start;
        // floor(log2(span + 1)): the largest block size (as a power of two) that fits.
        let fit = match span.checked_add(1) {
            Some(count) => 127 - count.leading_zeros(),
            None => 128,
        };
        let k = align.min(fit);
        f(start, (bits - k) as u8);
        let size_minus_one = if k >= 128 {
            u128::MAX
        } else {
            (1u128 << k) - 1
        };
        match start.checked_add(size_minus_one) {
            Some(end) if end < last => start = end + 1,
            _ => break,
        }
    }
}

/// Removes one address from a sorted, aggregated IPv4 set, keeping it sorted and aggregated: the
/// one network holding it (found by binary search) is replaced by the fewest networks covering the
/// rest of it. Linear in the set's size only for the copy.
pub fn exclude_v4(nets: &mut Vec<Ipv4Net>, addr: std::net::Ipv4Addr) {
    let a = u32::from(addr);
    let i = nets.partition_point(|n| u32::from(n.network()) <= a);
    let Some(i) = i.checked_sub(1) else { return };
    let (first, last) = (u32::from(nets[i].network()), u32::from(nets[i].broadcast()));
    if a > last {
        return;
    }
    let mut pieces = Vec::new();
    if a > first {
        for_each_cidr(first.into(), (a - 1).into(), 32, |s, l| {
            pieces.extend(Ipv4Net::new((s as u32).into(), l).ok())
        });
    }
    if a < last {
        for_each_cidr((a + 1).into(), last.into(), 32, |s, l| {
            pieces.extend(Ipv4Net::new((s as u32).into(), l).ok())
        });
    }
    nets.splice(i..=i, pieces);
}

/// [`exclude_v4`] for IPv6.
pub fn exclude_v6(nets: &mut Vec<Ipv6Net>, addr: std::net::Ipv6Addr) {
    let a = u128::from(addr);
    let i = nets.partition_point(|n| u128::from(n.network()) <= a);
    let Some(i) = i.checked_sub(1) else { return };
    let (first, last) = (
        u128::from(nets[i].network()),
        u128::from(nets[i].broadcast()),
    );
    if a > last {
        return;
    }
    let mut pieces = Vec::new();
    if a > first {
        for_each_cidr(first, a - 1, 128, |s, l| {
            pieces.extend(Ipv6Net::new(s.into(), l).ok())
        });
    }
    if a < last {
        for_each_cidr(a + 1, last, 128, |s, l| {
            pieces.extend(Ipv6Net::new(s.into(), l).ok())
        });
    }
    nets.splice(i..=i, pieces);
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
    fn a_display_prefix_is_the_start_of_the_display() {
        let nets: Vec<Ipv6Net> = (0..500u128)
            .filter_map(|i| Ipv6Net::new(std::net::Ipv6Addr::from(i << 16), 112).ok())
            .collect();
        let p = Peers::V6(nets);
        let full = p.to_string();
        let short = p.display_prefix(100);
        assert!(full.starts_with(&short) && short.len() > 100 && short.len() < 200);
        let dns = Peers::Dns(vec!["a.example".into(), "b.example".into()]);
        assert_eq!(dns.display_prefix(400), dns.to_string());
        assert_eq!(Peers::Any.display_prefix(0), "any");
        assert_eq!(p.first_strings(3)[..], p.to_strings()[..3]);
        assert_eq!(dns.first_strings(9), dns.to_strings());
    }

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

#[cfg(test)]
mod interval_tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// Networks inside 192.0.2.0/24, so that random ones overlap, touch and nest often.
    fn v4_nets() -> impl Strategy<Value = Vec<Ipv4Net>> {
        prop::collection::vec((0u8..=255, 24u8..=32), 0..40).prop_map(|v| {
            v.into_iter()
                .filter_map(|(host, len)| Ipv4Net::new(Ipv4Addr::new(192, 0, 2, host), len).ok())
                .map(|n| n.trunc())
                .collect()
        })
    }

    /// Networks at both ends of the IPv6 space (where interval arithmetic overflows if careless).
    fn v6_nets() -> impl Strategy<Value = Vec<Ipv6Net>> {
        prop::collection::vec((any::<bool>(), 0u16..=255, 0u8..=8), 0..40).prop_map(|v| {
            v.into_iter()
                .filter_map(|(top, low, width)| {
                    let base: u128 = if top { u128::MAX - 255 } else { 0 };
                    Ipv6Net::new(Ipv6Addr::from(base + u128::from(low)), 128 - width).ok()
                })
                .map(|n| n.trunc())
                .collect()
        })
    }

    proptest! {
        #[test]
        fn aggregate_matches_ipnet(v4 in v4_nets(), v6 in v6_nets()) {
            prop_assert_eq!(aggregate_v4(&v4), Ipv4Net::aggregate(&v4));
            prop_assert_eq!(aggregate_v6(&v6), Ipv6Net::aggregate(&v6));
        }

        #[test]
        fn excluding_keeps_every_other_address_aggregated(v4 in v4_nets(), host in 0u8..=255) {
            let mut set = aggregate_v4(&v4);
            let before = set.clone();
            let gone = Ipv4Addr::new(192, 0, 2, host);
            exclude_v4(&mut set, gone);
            prop_assert_eq!(&aggregate_v4(&set), &set, "still sorted and aggregated");
            for i in 0..=255u8 {
                let a = Ipv4Addr::new(192, 0, 2, i);
                let was = before.iter().any(|n| n.contains(&a));
                prop_assert_eq!(set.iter().any(|n| n.contains(&a)), was && a != gone, "{}", a);
            }
        }

        #[test]
        fn excluding_works_at_the_ends_of_ipv6(v6 in v6_nets(), top: bool, low in 0u16..=255) {
            let mut set = aggregate_v6(&v6);
            let before = set.clone();
            let base: u128 = if top { u128::MAX - 255 } else { 0 };
            let gone = Ipv6Addr::from(base + u128::from(low));
            exclude_v6(&mut set, gone);
            prop_assert_eq!(&aggregate_v6(&set), &set);
            for i in 0..=255u128 {
                for b in [0, u128::MAX - 255] {
                    let a = Ipv6Addr::from(b + i);
                    let was = before.iter().any(|n| n.contains(&a));
                    prop_assert_eq!(set.iter().any(|n| n.contains(&a)), was && a != gone);
                }
            }
        }
    }

    #[test]
    fn the_whole_space_aggregates_and_splits() {
        let all6: Ipv6Net = "::/0".parse().unwrap();
        assert_eq!(aggregate_v6(&[all6]), vec![all6]);
        let mut set = vec![all6];
        exclude_v6(&mut set, Ipv6Addr::UNSPECIFIED);
        assert_eq!(set.len(), 128);
        let all4: Ipv4Net = "0.0.0.0/0".parse().unwrap();
        let mut set = vec![all4];
        exclude_v4(&mut set, Ipv4Addr::BROADCAST);
        assert_eq!(set.len(), 32);
        assert_eq!(aggregate_v4(&set), set);
    }
}
