//! Addresses that belong to more than one thing: two nodes listing one address, or an external
//! host pinned to a node's address. Peer sets are built from addresses, so a rule meant for one of
//! them reaches the other, and a node that leaves its own address out of a group's peer set leaves
//! the other node out too. One of the two entries is a typo; the designer already refuses it.

use super::{Code, Collector, Severity};
use crate::topology::Topology;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// How many addresses or names one finding lists before "and N more".
const SHOWN: usize = 5;

fn listed(items: &[String]) -> String {
    let shown: Vec<&str> = items.iter().take(SHOWN).map(String::as_str).collect();
    let more = if items.len() > SHOWN {
        format!(" and {} more", items.len() - SHOWN)
    } else {
        String::new()
    };
    format!("{}{more}", shown.join(", "))
}

impl Collector {
    /// An error on every node that shares an address with another node, and a warning for every
    /// external host pinned to a node's address. Linear apart from one sort of all addresses.
    pub(super) fn shared_addresses(&mut self, topology: &Topology) {
        let mut all: Vec<(IpAddr, usize)> = topology
            .nodes
            .iter()
            .enumerate()
            .flat_map(|(i, n)| n.addresses.iter().map(move |a| (*a, i)))
            .collect();
        all.sort_unstable();
        all.dedup();
        // Node to (address, the other nodes holding it).
        let mut shared: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for run in all.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
            for &(addr, node) in run {
                let others: Vec<String> = run
                    .iter()
                    .filter(|(_, n)| *n != node)
                    .map(|(_, n)| format!("'{}'", topology.nodes[*n].name))
                    .collect();
                shared
                    .entry(node)
                    .or_default()
                    .push(format!("{addr} (also on {})", listed(&others)));
            }
        }
        for (node, items) in shared {
            self.add(
                Code::AddressOnTwoNodes,
                Severity::Error,
                Some(&topology.nodes[node].name),
                format!(
                    "the node shares addresses with other nodes: {}; rules meant for one of them also reach the other, and where both are in one peer set each drops the shared address as its own; give every node its own addresses",
                    listed(&items)
                ),
            );
        }
        for h in &topology.external_hosts {
            let on_nodes: Vec<String> = h
                .addresses
                .iter()
                .filter_map(|a| {
                    let i = all.partition_point(|(x, _)| x < a);
                    let nodes: Vec<String> = all[i..]
                        .iter()
                        .take_while(|(x, _)| x == a)
                        .map(|(_, n)| format!("'{}'", topology.nodes[*n].name))
                        .collect();
                    (!nodes.is_empty()).then(|| format!("{a} (node {})", listed(&nodes)))
                })
                .collect();
            if on_nodes.is_empty() {
                continue;
            }
            self.add(
                Code::ExternalHostIsNode,
                Severity::Warning,
                None,
                format!(
                    "external host '{}' is pinned to addresses of nodes of this site: {}; rules meant for that outside host reach the node instead; pin the host's own addresses",
                    h.name,
                    listed(&on_nodes)
                ),
            );
        }
    }
}
