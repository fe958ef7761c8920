//! Address sets as sorted, disjoint, inclusive intervals of one family: the peer half of the live
//! model. Intervals (not prefixes) make union, intersection and difference one linear merge each,
//! so a rule's set of ten thousand hosts costs ten thousand steps, not their square.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::{Ipv4Addr, Ipv6Addr};

/// An address family; IPv4 and IPv6 are compared apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fam {
    V4,
    V6,
}

impl Fam {
    pub const BOTH: [Fam; 2] = [Fam::V4, Fam::V6];

    pub fn label(self) -> &'static str {
        match self {
            Fam::V4 => "IPv4",
            Fam::V6 => "IPv6",
        }
    }

    fn max(self) -> u128 {
        match self {
            Fam::V4 => u128::from(u32::MAX),
            Fam::V6 => u128::MAX,
        }
    }

    fn bits(self) -> u32 {
        match self {
            Fam::V4 => 32,
            Fam::V6 => 128,
        }
    }

    pub fn of(net: &IpNet) -> Fam {
        match net {
            IpNet::V4(_) => Fam::V4,
            IpNet::V6(_) => Fam::V6,
        }
    }
}

/// A set of addresses of one family.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddrSet(Vec<(u128, u128)>);

impl AddrSet {
    pub fn empty() -> Self {
        AddrSet(Vec::new())
    }

    pub fn full(fam: Fam) -> Self {
        AddrSet(vec![(0, fam.max())])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_full(&self, fam: Fam) -> bool {
        self.0 == [(0, fam.max())]
    }

    /// The networks of `fam` among these (others are left out).
    pub fn from_nets<'a>(fam: Fam, nets: impl IntoIterator<Item = &'a IpNet>) -> Self {
        let mut v: Vec<(u128, u128)> = nets
            .into_iter()
            .filter(|n| Fam::of(n) == fam)
            .map(interval)
            .collect();
        v.sort_unstable();
        Self::normalised(v)
    }

    /// From intervals already sorted by start (overlapping or adjacent ones are merged).
    fn normalised(sorted: Vec<(u128, u128)>) -> Self {
        let mut out: Vec<(u128, u128)> = Vec::with_capacity(sorted.len());
        for (s, e) in sorted {
            match out.last_mut() {
                Some(last) if last.1 == u128::MAX || s <= last.1 + 1 => last.1 = last.1.max(e),
                _ => out.push((s, e)),
            }
        }
        AddrSet(out)
    }

    /// From intervals in any order.
    pub fn from_intervals(mut v: Vec<(u128, u128)>) -> Self {
        v.retain(|(s, e)| s <= e);
        v.sort_unstable();
        Self::normalised(v)
    }

    pub fn union(&self, other: &AddrSet) -> AddrSet {
        if other.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return other.clone();
        }
        let mut v = Vec::with_capacity(self.0.len() + other.0.len());
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() || j < other.0.len() {
            if j >= other.0.len() || (i < self.0.len() && self.0[i] <= other.0[j]) {
                v.push(self.0[i]);
                i += 1;
            } else {
                v.push(other.0[j]);
                j += 1;
            }
        }
        Self::normalised(v)
    }

    pub fn intersect(&self, other: &AddrSet) -> AddrSet {
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() && j < other.0.len() {
            let (a, b) = (self.0[i], other.0[j]);
            let (s, e) = (a.0.max(b.0), a.1.min(b.1));
            if s <= e {
                out.push((s, e));
            }
            if a.1 < b.1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        AddrSet(out)
    }

    /// The addresses of `self` not in `other`.
    pub fn minus(&self, other: &AddrSet) -> AddrSet {
        let mut out = Vec::new();
        let mut j = 0;
        for &(s, e) in &self.0 {
            let mut start = s;
            let mut open = true;
            while j < other.0.len() && other.0[j].1 < start {
                j += 1;
            }
            let mut k = j;
            while k < other.0.len() && other.0[k].0 <= e {
                let (os, oe) = other.0[k];
                if os > start {
                    out.push((start, os - 1));
                }
                if oe >= e {
                    open = false;
                    break;
                }
                start = oe + 1;
                k += 1;
            }
            if open {
                out.push((start, e));
            }
        }
        AddrSet(out)
    }

    /// The complement within the family.
    pub fn complement(&self, fam: Fam) -> AddrSet {
        AddrSet::full(fam).minus(self)
    }

    /// The fewest networks covering exactly these addresses, as text (`any` for the whole family).
    pub fn describe(&self, fam: Fam) -> Vec<String> {
        if self.is_full(fam) {
            return vec!["any".to_string()];
        }
        let mut out = Vec::new();
        for &(s, e) in &self.0 {
            let mut start = s;
            loop {
                // The largest aligned block starting at `start` that ends at or before `e`.
                let align = if start == 0 {
                    fam.bits()
                } else {
                    start.trailing_zeros().min(fam.bits())
                };
                let mut size = align;
                while size > 0 && block_end(start, size) > e {
                    size -= 1;
                }
                out.push(net_text(fam, start, fam.bits() - size));
                let end = block_end(start, size);
                if end >= e {
                    break;
                }
                start = end + 1;
            }
        }
        out
    }
}

/// The last address of the block of `2^size` addresses at `start`.
fn block_end(start: u128, size: u32) -> u128 {
    if size >= 128 {
        u128::MAX
    } else {
        start + ((1u128 << size) - 1)
    }
}

fn net_text(fam: Fam, addr: u128, prefix: u32) -> String {
    let net = match fam {
        Fam::V4 => Ipv4Net::new(Ipv4Addr::from(addr as u32), prefix as u8).map(IpNet::V4),
        Fam::V6 => Ipv6Net::new(Ipv6Addr::from(addr), prefix as u8).map(IpNet::V6),
    };
    match net {
        Ok(n) if n.prefix_len() == n.max_prefix_len() => n.addr().to_string(),
        Ok(n) => n.to_string(),
        Err(_) => format!("{addr}/{prefix}"),
    }
}

/// The first and last address of a network.
pub fn interval(net: &IpNet) -> (u128, u128) {
    match net {
        IpNet::V4(n) => (
            u128::from(u32::from(n.network())),
            u128::from(u32::from(n.broadcast())),
        ),
        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(fam: Fam, nets: &[&str]) -> AddrSet {
        let nets: Vec<IpNet> = nets.iter().map(|n| n.parse().expect("net")).collect();
        AddrSet::from_nets(fam, &nets)
    }

    #[test]
    fn set_algebra() {
        let a = set(Fam::V4, &["198.51.100.0/24"]);
        let b = set(Fam::V4, &["198.51.100.16/28"]);
        assert_eq!(a.intersect(&b), b);
        assert!(b.minus(&a).is_empty());
        assert_eq!(
            a.minus(&b).describe(Fam::V4),
            [
                "198.51.100.0/28",
                "198.51.100.32/27",
                "198.51.100.64/26",
                "198.51.100.128/25"
            ]
        );
        assert_eq!(a.minus(&b).union(&b), a);
        assert_eq!(AddrSet::full(Fam::V6).describe(Fam::V6), ["any"]);
        assert_eq!(
            AddrSet::full(Fam::V4)
                .minus(&set(Fam::V4, &["0.0.0.0/1"]))
                .describe(Fam::V4),
            ["128.0.0.0/1"]
        );
        assert_eq!(
            set(Fam::V6, &["2001:db8::1/128"]).describe(Fam::V6),
            ["2001:db8::1"]
        );
        assert!(
            AddrSet::full(Fam::V6)
                .minus(&AddrSet::full(Fam::V6))
                .is_empty()
        );
    }
}
