//! Which nodes a set of networks covers, answered from an index built once per topology.
//!
//! The nftables exporter names a set after the node or zone it is, and says in a comment which
//! nodes it covers. Asking every node of the topology for every set of every exported node made a
//! site export grow with the square of its size; the index answers from a sorted address list.

use crate::topology::Topology;
use ipnet::IpNet;
use std::net::IpAddr;

/// Every node address of a topology, sorted, with the node it belongs to.
#[derive(Debug, Clone, Default)]
pub struct AddressIndex {
    /// (address as an integer, node index); IPv4 and IPv6 apart.
    v4: Vec<(u128, usize)>,
    v6: Vec<(u128, usize)>,
    /// Per node, how many addresses it has of each family.
    counts: Vec<[usize; 2]>,
}

impl AddressIndex {
    pub fn new(topology: &Topology) -> Self {
        let mut index = AddressIndex {
            counts: vec![[0, 0]; topology.nodes.len()],
            ..AddressIndex::default()
        };
        for (ni, node) in topology.nodes.iter().enumerate() {
            for a in &node.addresses {
                match a {
                    IpAddr::V4(a) => index.v4.push((u32::from(*a).into(), ni)),
                    IpAddr::V6(a) => index.v6.push((u128::from(*a), ni)),
                }
            }
        }
        // An address listed twice on a node counts once, as it does when hit.
        for (family, list) in [&mut index.v4, &mut index.v6].into_iter().enumerate() {
            list.sort_unstable();
            list.dedup();
            for &(_, n) in list.iter() {
                index.counts[n][family] += 1;
            }
        }
        index
    }

    /// The nodes, in topology order, that have addresses of the networks' family and all of
    /// them inside the networks. `nets` must be of one family.
    pub fn covered(&self, nets: &[IpNet]) -> Vec<usize> {
        let Some(first) = nets.first() else {
            return Vec::new();
        };
        let (list, family) = match first {
            IpNet::V4(_) => (&self.v4, 0),
            IpNet::V6(_) => (&self.v6, 1),
        };
        // (node, address) for every node address inside a network; overlapping networks can
        // hit an address twice, so duplicates go before counting.
        let mut hits: Vec<(usize, u128)> = Vec::new();
        for net in nets {
            let (lo, hi) = bounds(net);
            let start = list.partition_point(|(a, _)| *a < lo);
            hits.extend(
                list[start..]
                    .iter()
                    .take_while(|(a, _)| *a <= hi)
                    .map(|&(a, n)| (n, a)),
            );
        }
        hits.sort_unstable();
        hits.dedup();
        // A node is covered when every one of its addresses of the family was hit.
        hits.chunk_by(|a, b| a.0 == b.0)
            .filter(|run| run.len() == self.counts[run[0].0][family])
            .map(|run| run[0].0)
            .collect()
    }
}

impl AddressIndex {
    /// Every node address inside a network, in address order, with its node (the probe script
    /// tries a rule's peers at these).
    pub fn within(&self, net: &IpNet) -> Vec<(IpAddr, usize)> {
        let (lo, hi) = bounds(net);
        let (list, v4) = match net {
            IpNet::V4(_) => (&self.v4, true),
            IpNet::V6(_) => (&self.v6, false),
        };
        let start = list.partition_point(|(a, _)| *a < lo);
        list[start..]
            .iter()
            .take_while(|(a, _)| *a <= hi)
            .map(|&(a, n)| {
                let addr = if v4 {
                    // Stored from a u32, so the cast keeps every bit.
                    IpAddr::from(std::net::Ipv4Addr::from(a as u32))
                } else {
                    IpAddr::from(std::net::Ipv6Addr::from(a))
                };
                (addr, n)
            })
            .collect()
    }
}

/// A network's first and last address as integers.
fn bounds(net: &IpNet) -> (u128, u128) {
    match net {
        IpNet::V4(n) => (
            u32::from(n.network()).into(),
            u32::from(n.broadcast()).into(),
        ),
        IpNet::V6(n) => (n.network().into(), n.broadcast().into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{Node, Os};

    fn node(name: &str, addrs: &[&str]) -> Node {
        let mut n = Node::new(name, Os::Almalinux);
        n.addresses = addrs.iter().filter_map(|a| a.parse().ok()).collect();
        n
    }

    fn nets(v: &[&str]) -> Vec<IpNet> {
        v.iter().filter_map(|n| n.parse().ok()).collect()
    }

    #[test]
    fn a_node_is_covered_only_with_all_its_addresses_of_the_family() {
        let t = Topology {
            nodes: vec![
                node("two-in", &["192.0.2.1", "192.0.2.9", "2001:db8::1"]),
                node("one-out", &["192.0.2.2", "203.0.113.1"]),
                node("twice", &["192.0.2.3", "192.0.2.3"]),
                node("v6-only", &["2001:db8::2"]),
                node("none", &[]),
            ],
            ..Topology::default()
        };
        let index = AddressIndex::new(&t);
        // Overlapping networks hit 192.0.2.1 twice: it still counts once.
        assert_eq!(
            index.covered(&nets(&["192.0.2.0/28", "192.0.2.0/30"])),
            vec![0, 2]
        );
        assert_eq!(
            index.covered(&nets(&["192.0.2.0/24", "203.0.113.1/32"])),
            vec![0, 1, 2]
        );
        assert_eq!(index.covered(&nets(&["2001:db8::/126"])), vec![0, 3]);
        assert_eq!(
            index.covered(&nets(&["198.51.100.0/24"])),
            Vec::<usize>::new()
        );
        assert_eq!(index.covered(&[]), Vec::<usize>::new());
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        let within = |n: &str| -> Vec<(Option<IpAddr>, usize)> {
            let net: IpNet = n.parse().unwrap_or_else(|e| panic!("{n}: {e}"));
            index
                .within(&net)
                .into_iter()
                .map(|(a, n)| (Some(a), n))
                .collect()
        };
        assert_eq!(
            within("192.0.2.0/30"),
            vec![
                (ip("192.0.2.1"), 0),
                (ip("192.0.2.2"), 1),
                (ip("192.0.2.3"), 2)
            ]
        );
        assert_eq!(within("2001:db8::2/128"), vec![(ip("2001:db8::2"), 3)]);
        assert!(within("198.51.100.0/24").is_empty());
    }
}
