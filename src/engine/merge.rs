//! Merging one node's entries into its rules: peers unioned per port set, then ports unioned per
//! peer set and family, management apart, temporary and insecure ports apart, tagged and ordered
//! so exports are stable.

use super::{Direction, Entry, FlowRef, PeerSrc, Rule};
use crate::catalog::{Catalog, Flow, Tag};
use crate::net::{AddrSetBuilder, Peers};
use crate::ports::{PortRange, PortSet, Protocol};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::rc::Rc;

/// Merges one node's entries into rules: first every entry with the same direction, protocol and
/// ports unions its peers; then, per address family, rules with the same peers union their ports.
/// Both steps keep exactly the set of allowed (direction, protocol, port, address) tuples.
pub(super) fn merge(catalog: &Catalog, entries: &[Entry]) -> (Vec<Rule>, Vec<Rule>) {
    // Step 1: union peers per (direction, protocol, management, kept-apart tags, ports), found as
    // runs of a sorted list (the key computed once per entry, not per comparison).
    type RunKey = (Direction, Protocol, bool, Apart);
    let mut sorted: Vec<(RunKey, &Entry)> = entries
        .iter()
        .map(|e| {
            let flow = e.flow.flow(catalog);
            let management = flow.has_tag(Tag::Management);
            ((e.direction, e.protocol, management, apart(flow)), e)
        })
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.ports.cmp(&b.1.ports)));
    let same_ports = |a: &Entry, b: &Entry| Rc::ptr_eq(&a.ports, &b.ports) || a.ports == b.ports;
    let runs = sorted.chunk_by(|a, b| a.0 == b.0 && same_ports(a.1, b.1));
    // Step 2: split per family and union ports per (direction, protocol, peers).
    // Management access stays in rules of its own, so exporters can put it first and an operator
    // can see it at a glance; so do temporary and insecure ports (see [`Apart`]).
    // A node has tens of rules: a linear search beats hashing long peer lists. Ports are gathered
    // as ranges and coalesced once at the end; peers are copied only into a new slot.
    type Slot = (RunKey, Peers, Vec<PortRange>, Vec<FlowRef>);
    let mut by_peers: Vec<Slot> = Vec::new();
    let mut add =
        |key: RunKey, peers: Cow<'_, Peers>, ports: &PortSet, group: &[(RunKey, &Entry)]| {
            let refs = group.iter().map(|(_, e)| e.flow);
            match by_peers
                .iter_mut()
                .find(|(k, p, _, _)| *k == key && *p == *peers)
            {
                Some(slot) => {
                    slot.2.extend_from_slice(ports.ranges());
                    slot.3.extend(refs);
                }
                None => by_peers.push((
                    key,
                    peers.into_owned(),
                    ports.ranges().to_vec(),
                    refs.collect(),
                )),
            }
        };
    for group in runs {
        let (key, first) = group[0];
        let ports: &PortSet = &first.ports;
        if group.iter().any(|(_, e)| matches!(e.peers, PeerSrc::Any)) {
            add(key, Cow::Owned(Peers::Any), ports, group);
            continue;
        }
        // The common case: every entry reaches the same shared group, already aggregated.
        let mut shared_iter = group.iter().filter_map(|(_, e)| match &e.peers {
            PeerSrc::Shared(s) => Some(s),
            _ => None,
        });
        let first_shared = shared_iter.next();
        let one_shared = first_shared.is_some_and(|f| shared_iter.all(|s| Rc::ptr_eq(f, s)));
        let has_nets = group
            .iter()
            .any(|(_, e)| matches!(e.peers, PeerSrc::Nets(_)));
        if let (true, false, Some(s)) = (one_shared, has_nets, first_shared) {
            for peers in [&s.v4, &s.v6].into_iter().flatten() {
                add(key, Cow::Borrowed(peers), ports, group);
            }
        } else if first_shared.is_some() || has_nets {
            let mut b = AddrSetBuilder::default();
            for (_, e) in group {
                match &e.peers {
                    PeerSrc::Shared(s) => {
                        for peers in [&s.v4, &s.v6].into_iter().flatten() {
                            push_peers(&mut b, peers);
                        }
                    }
                    PeerSrc::Nets(v) => v.iter().for_each(|n| b.push_net(*n)),
                    _ => {}
                }
            }
            let (v4, v6) = b.finish();
            // Both families are kept even on a node that lists addresses of one family only: the
            // list may be incomplete, and a missing rule could lock an operator out.
            for peers in [v4, v6].into_iter().flatten() {
                add(key, Cow::Owned(peers), ports, group);
            }
        }
        let dns: BTreeSet<&str> = group
            .iter()
            .filter_map(|(_, e)| match &e.peers {
                PeerSrc::Dns(n) => Some(n.as_str()),
                _ => None,
            })
            .collect();
        if !dns.is_empty() {
            let names = Peers::Dns(dns.into_iter().map(str::to_string).collect());
            add(key, Cow::Owned(names), ports, group);
        }
    }
    let mut rules: Vec<Rule> = by_peers
        .into_iter()
        .map(|((direction, protocol, _, _), peers, ports, mut refs)| {
            refs.sort_unstable();
            refs.dedup();
            Rule {
                direction,
                protocol,
                ports: PortSet::from_ranges(ports),
                peers,
                provenance: refs,
                tags: Vec::new(),
            }
        })
        .collect();
    tag_rules(catalog, &mut rules);
    rules.sort_by(|a, b| rule_key(a).cmp(&rule_key(b)));
    let (inbound, outbound): (Vec<Rule>, Vec<Rule>) = rules
        .into_iter()
        .partition(|r| r.direction == Direction::Inbound);
    (inbound, outbound)
}

fn push_peers(b: &mut AddrSetBuilder, peers: &Peers) {
    match peers {
        Peers::V4(v) => b.v4.extend_from_slice(v),
        Peers::V6(v) => b.v6.extend_from_slice(v),
        _ => {}
    }
}

/// Whether a flow's ports are temporary and whether they are insecure. A rule holds ports of one
/// kind only: its tags are the union of its flows' tags, and an operator told to close the
/// temporary ports afterwards (FW012), or the plaintext ones, deletes whole rules. A rule that
/// held PA's test port 51618 beside the package repository 80 and 8352-8364 would take the
/// permanent ports with it.
type Apart = (bool, bool);

fn apart(flow: &Flow) -> Apart {
    (flow.has_tag(Tag::Temporary), flow.has_tag(Tag::Insecure))
}

fn rule_key(r: &Rule) -> (Direction, bool, Protocol, &PortSet, &Peers, Apart) {
    (
        r.direction,
        !r.is_management(),
        r.protocol,
        &r.ports,
        &r.peers,
        (r.has_tag(Tag::Temporary), r.has_tag(Tag::Insecure)),
    )
}

/// Fills each rule's tags from its provenance.
fn tag_rules(catalog: &Catalog, rules: &mut [Rule]) {
    for r in rules {
        let mut tags: Vec<Tag> = r
            .provenance
            .iter()
            .flat_map(|f| f.flow(catalog).tags.iter().copied())
            .collect();
        tags.sort_unstable();
        tags.dedup();
        r.tags = tags;
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::{Catalog, Tag};
    use crate::engine::{Direction, derive};
    use crate::ports::Protocol;
    use crate::topology::{Node, Os, RoleAssignment, Topology, Zone};

    /// Seed 000: 'Test (used by utility PA.sn_test)- 51618' beside '80: Connection to PA package
    /// repository from service nodes' and '8352-8364: PA internal ports for accepting requests from
    /// Service Node(s)'. All three come from the service nodes, so they once shared one rule tagged
    /// `temporary`: closing it after the test would cut the service nodes off.
    #[test]
    fn temporary_ports_of_the_pa_management_node_stay_in_a_rule_of_their_own() {
        let cat = Catalog::embedded().expect("the embedded catalog loads");
        let mut mn = Node::new("mn", Os::Almalinux);
        mn.addresses = vec!["203.0.113.10".parse().expect("ip")];
        let mut role = RoleAssignment::new("plesk-automation", "mn");
        role.params.insert("sn_test".into(), "on".into());
        mn.roles = vec![role];
        let mut sn = Node::new("sn", Os::Almalinux);
        sn.addresses = vec!["203.0.113.11".parse().expect("ip")];
        sn.roles = vec![RoleAssignment::new("plesk-automation", "sn-apache")];
        let t = Topology {
            name: "t".into(),
            zones: vec![Zone {
                name: "admin".into(),
                cidrs: vec!["198.51.100.0/28".parse().expect("cidr")],
                note: String::new(),
            }],
            nodes: vec![mn, sn],
            ..Topology::default()
        };
        let plan = derive(&cat, &t);
        let mn = plan.node("mn").expect("mn");
        let holding = |port: u16| {
            mn.inbound
                .iter()
                .filter(|r| r.protocol == Protocol::Tcp && r.ports.contains(port))
                .collect::<Vec<_>>()
        };
        let test = holding(51618);
        assert_eq!(test.len(), 1, "{test:?}");
        assert!(test[0].has_tag(Tag::Temporary));
        assert_eq!(test[0].ports.to_string(), "51618", "only the test port");
        for port in [80, 8352, 8364, 8400] {
            for r in holding(port) {
                assert!(!r.has_tag(Tag::Temporary), "tcp/{port} in {r:?}");
            }
        }
        // The other end, on the service node: 51618 out apart from 80 and 8352-8364 out.
        let sn = plan.node("sn").expect("sn");
        for r in sn
            .outbound
            .iter()
            .filter(|r| r.direction == Direction::Outbound)
        {
            if r.ports.contains(51618) {
                assert_eq!(r.ports.to_string(), "51618", "{r:?}");
            } else {
                assert!(!r.has_tag(Tag::Temporary), "{r:?}");
            }
        }
    }
}
