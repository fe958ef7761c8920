//! The design's side and the comparison: what the plan of one node accepts, cut at the same port
//! boundaries as the live model, and the differences both ways.
//!
//! Design and live are compared per direction, family, protocol and port range (ranges cut where
//! either side's ranges begin or end, so each is compared once, by binary search into both sides).
//! What the design accepts and the live firewall does not is missing; what the live firewall
//! accepts beyond the design is an extra port (the design accepts nobody there) or a wider peer
//! (the design accepts some peers there, the live firewall more, a strict superset included).
//! Host-name peers have no addresses in the design: on their ports any live peers short of every
//! address are taken as the names' addresses.

use super::addrs::{AddrSet, Fam};
use super::model::{Accepted, LiveModel, lookup, push_merged};
use super::ruleset::{covered, segments};
use crate::engine::{Direction, NodePlan};
use crate::export::Egress;
use crate::net::Peers;
use crate::ports::{PortRange, PortSet, Protocol};
use ipnet::IpNet;
use serde::Serialize;
use std::collections::BTreeMap;

/// What the design accepts for one direction, family and protocol, plus the port ranges on which
/// a host-name peer is accepted.
#[derive(Debug, Clone, Default)]
pub struct Expected {
    pub accepted: Accepted,
    pub dns: PortSet,
}

/// The design model of one node under an egress mode.
pub fn expected(node: &NodePlan, egress: Egress) -> BTreeMap<(Direction, Fam, Protocol), Expected> {
    let mut out = BTreeMap::new();
    for dir in [Direction::Inbound, Direction::Outbound] {
        for fam in Fam::BOTH {
            for proto in [Protocol::Tcp, Protocol::Udp] {
                let e = if dir == Direction::Outbound && egress == Egress::Open {
                    Expected {
                        accepted: vec![(
                            PortRange {
                                start: 1,
                                end: 65535,
                            },
                            AddrSet::full(fam),
                        )],
                        dns: PortSet::new(),
                    }
                } else {
                    let rules = if dir == Direction::Inbound {
                        &node.inbound
                    } else {
                        &node.outbound
                    };
                    one(rules, fam, proto)
                };
                out.insert((dir, fam, proto), e);
            }
        }
    }
    out
}

fn one(rules: &[crate::engine::Rule], fam: Fam, proto: Protocol) -> Expected {
    // Each rule's peers of this family, once.
    let mut items: Vec<(&PortSet, AddrSet)> = Vec::new();
    let mut dns = Vec::new();
    for r in rules.iter().filter(|r| r.protocol == proto) {
        let peers = match &r.peers {
            Peers::Any => AddrSet::full(fam),
            Peers::V4(v) if fam == Fam::V4 => {
                let nets: Vec<IpNet> = v.iter().map(|n| IpNet::V4(*n)).collect();
                AddrSet::from_nets(fam, &nets)
            }
            Peers::V6(v) if fam == Fam::V6 => {
                let nets: Vec<IpNet> = v.iter().map(|n| IpNet::V6(*n)).collect();
                AddrSet::from_nets(fam, &nets)
            }
            Peers::Dns(_) => {
                dns.extend_from_slice(r.ports.ranges());
                continue;
            }
            _ => continue,
        };
        items.push((&r.ports, peers));
    }
    let mut bounds = Vec::new();
    for (p, _) in &items {
        for r in p.ranges() {
            bounds.push(u32::from(r.start));
            bounds.push(u32::from(r.end) + 1);
        }
    }
    let segs = segments(bounds);
    let mut peers = vec![AddrSet::empty(); segs.len()];
    for (p, a) in &items {
        for s in covered(&segs, Some(p)) {
            peers[s] = peers[s].union(a);
        }
    }
    let mut accepted = Vec::new();
    for (seg, p) in segs.into_iter().zip(peers) {
        push_merged(&mut accepted, seg, p);
    }
    Expected {
        accepted,
        dns: PortSet::from_ranges(dns),
    }
}

/// One difference, over the ports it holds for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// `missing`, `extra-port` or `wider-peer`.
    pub kind: &'static str,
    pub direction: &'static str,
    pub family: &'static str,
    pub protocol: &'static str,
    /// `22` or `80,8352-8364`.
    pub ports: String,
    /// The peers concerned: blocked (missing) or let through beyond the design (extra, wider).
    pub peers: Vec<String>,
    /// For a wider peer: the peers the design accepts there.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub design_peers: Vec<String>,
}

/// Compares; the drifts come sorted by kind, direction, family, protocol and first port.
pub fn compare(
    design: &BTreeMap<(Direction, Fam, Protocol), Expected>,
    live: &LiveModel,
) -> Vec<Drift> {
    type Key = (u8, Direction, Fam, Protocol, Vec<String>, Vec<String>);
    let mut groups: BTreeMap<Key, Vec<PortRange>> = BTreeMap::new();
    for (&(dir, fam, proto), want) in design {
        if !live.captured.contains(&fam) {
            continue;
        }
        let empty = Vec::new();
        let have = live.accepted.get(&(dir, fam, proto)).unwrap_or(&empty);
        let mut bounds = Vec::new();
        for (r, _) in want.accepted.iter().chain(have) {
            bounds.push(u32::from(r.start));
            bounds.push(u32::from(r.end) + 1);
        }
        for r in want.dns.ranges() {
            bounds.push(u32::from(r.start));
            bounds.push(u32::from(r.end) + 1);
        }
        for seg in segments(bounds) {
            let w = lookup(&want.accepted, seg.start);
            let h = lookup(have, seg.start);
            let dns = want.dns.contains(seg.start);
            let missing = w.minus(&h);
            if !missing.is_empty() {
                let key = (0, dir, fam, proto, missing.describe(fam), Vec::new());
                groups.entry(key).or_default().push(seg);
            }
            let extra = h.minus(&w);
            if extra.is_empty() || (dns && !h.is_full(fam)) {
                continue;
            }
            let key = if w.is_empty() && !dns {
                (1, dir, fam, proto, extra.describe(fam), Vec::new())
            } else {
                let design_peers = if w.is_empty() {
                    vec!["host names".to_string()]
                } else {
                    w.describe(fam)
                };
                (2, dir, fam, proto, h.describe(fam), design_peers)
            };
            groups.entry(key).or_default().push(seg);
        }
    }
    let mut out: Vec<(PortRange, Drift)> = groups
        .into_iter()
        .map(|((kind, dir, fam, proto, peers, design_peers), ranges)| {
            let ports = PortSet::from_ranges(ranges);
            let first = ports.ranges()[0];
            (
                first,
                Drift {
                    kind: ["missing", "extra-port", "wider-peer"][usize::from(kind)],
                    direction: dir.as_str(),
                    family: fam.label(),
                    protocol: proto.as_str(),
                    ports: ports.join("-"),
                    peers,
                    design_peers,
                },
            )
        })
        .collect();
    let rank = |k: &str| {
        ["missing", "extra-port", "wider-peer"]
            .iter()
            .position(|x| *x == k)
    };
    out.sort_by(|a, b| {
        (rank(a.1.kind), a.1.direction, a.1.family, a.1.protocol, a.0).cmp(&(
            rank(b.1.kind),
            b.1.direction,
            b.1.family,
            b.1.protocol,
            b.0,
        ))
    });
    out.into_iter().map(|(_, d)| d).collect()
}
