//! Merging one node's entries into its rules: peers unioned per port set, then ports unioned per
//! peer set and family, management apart, tagged and ordered so exports are stable.

use super::{Direction, Entry, FlowRef, PeerSrc, Rule};
use crate::catalog::{Catalog, Tag};
use crate::net::{AddrSetBuilder, Peers};
use crate::ports::{PortRange, PortSet, Protocol};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::rc::Rc;

/// Merges one node's entries into rules: first every entry with the same direction, protocol and
/// ports unions its peers; then, per address family, rules with the same peers union their ports.
/// Both steps keep exactly the set of allowed (direction, protocol, port, address) tuples.
pub(super) fn merge(catalog: &Catalog, entries: &[Entry]) -> (Vec<Rule>, Vec<Rule>) {
    // Step 1: union peers per (direction, protocol, management, ports), found as runs of a sorted
    // list (the key computed once per entry, not per comparison).
    type RunKey = (Direction, Protocol, bool);
    let mut sorted: Vec<(RunKey, &Entry)> = entries
        .iter()
        .map(|e| {
            let management = e.flow.flow(catalog).has_tag(Tag::Management);
            ((e.direction, e.protocol, management), e)
        })
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.ports.cmp(&b.1.ports)));
    let same_ports = |a: &Entry, b: &Entry| Rc::ptr_eq(&a.ports, &b.ports) || a.ports == b.ports;
    let runs = sorted.chunk_by(|a, b| a.0 == b.0 && same_ports(a.1, b.1));
    // Step 2: split per family and union ports per (direction, protocol, peers).
    // Management access stays in rules of its own, so exporters can put it first and an operator
    // can see it at a glance.
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
        .map(|((direction, protocol, _), peers, ports, mut refs)| {
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

fn rule_key(r: &Rule) -> (Direction, bool, Protocol, &PortSet, &Peers) {
    (
        r.direction,
        !r.is_management(),
        r.protocol,
        &r.ports,
        &r.peers,
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
