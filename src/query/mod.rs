//! "Can A reach B on port P, and which rule says so?": the question an operator asks before and
//! after every change, answered from the derived plan with the evidence on both ends.
//!
//! An end is a node, a zone, an external host or an address. The inbound rules of a destination
//! node decide; the outbound rules of a source node decide too when egress is strict. Each address
//! family is answered on its own, since a node may be reachable over IPv4 and not over IPv6. When
//! the answer is no, the catalog is searched for the flows that would carry the port, to say which
//! role or switch would allow it.

use crate::catalog::Catalog;
use crate::engine::{Direction, FlowRef, NodePlan, Plan, Rule};
use crate::export::Egress;
use crate::ports::Protocol;
use crate::topology::Topology;
use crate::user_text::quoted;
use ipnet::IpNet;
use serde::Serialize;
use std::net::IpAddr;

mod missing;
pub mod text;

use missing::missing;

/// One end of the question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Every address: what a rule open to anyone lets in (`any`).
    Any,
    Node(usize),
    Zone(usize),
    Host(usize),
    Address(IpAddr),
}

impl End {
    /// Reads a node, zone or external host name, an IPv4/IPv6 address, or `any` (every
    /// address). A name that is both a node and a zone (or host), or `any` and a name, is refused
    /// rather than guessed.
    pub fn parse(topology: &Topology, text: &str) -> Result<End, String> {
        if let Ok(a) = text.parse::<IpAddr>() {
            return Ok(End::Address(a));
        }
        let mut found = Vec::new();
        if text == "any" {
            found.push(End::Any);
        }
        if let Some(i) = topology.nodes.iter().position(|n| n.name == text) {
            found.push(End::Node(i));
        }
        if let Some(i) = topology.zones.iter().position(|z| z.name == text) {
            found.push(End::Zone(i));
        }
        if let Some(i) = topology.external_hosts.iter().position(|h| h.name == text) {
            found.push(End::Host(i));
        }
        match found[..] {
            [one] => Ok(one),
            [] => Err(format!(
                "{} is no node, zone, external host or address of the topology, nor any",
                quoted(text)
            )),
            _ => Err(format!(
                "{} names more than one of: any, a node, a zone, an external host; give an address instead",
                quoted(text)
            )),
        }
    }

    /// How the end reads in answers: `node web1`, `zone admin`, `host x`, `address 192.0.2.1`.
    pub fn describe(&self, topology: &Topology) -> String {
        match *self {
            End::Any => "any address".to_string(),
            End::Node(i) => format!("node {}", topology.nodes[i].name),
            End::Zone(i) => format!("zone {}", topology.zones[i].name),
            End::Host(i) => format!("host {}", topology.external_hosts[i].name),
            End::Address(a) => format!("address {a}"),
        }
    }

    /// The networks the end stands for: a node's or host's addresses as single hosts, a zone's
    /// networks as they are.
    fn networks(&self, topology: &Topology) -> Vec<IpNet> {
        match *self {
            End::Any => vec![
                IpNet::V4(ipnet::Ipv4Net::default()),
                IpNet::V6(ipnet::Ipv6Net::default()),
            ],
            End::Node(i) => hosts(&topology.nodes[i].addresses),
            End::Host(i) => hosts(&topology.external_hosts[i].addresses),
            End::Zone(i) => topology.zones[i].cidrs.clone(),
            End::Address(a) => vec![crate::net::host_net(a)],
        }
    }
}

fn hosts(addrs: &[IpAddr]) -> Vec<IpNet> {
    addrs.iter().map(|a| crate::net::host_net(*a)).collect()
}

/// What one side's firewall says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Side {
    /// This side does not filter the traffic (not a node, or egress is open, or loopback).
    NotFiltered { why: String },
    /// A rule allows it.
    Allowed { rule: Evidence },
    /// No rule allows it: the default policy drops it.
    Dropped,
}

/// A rule and the flows behind it, each with its role and document section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub node: String,
    pub direction: &'static str,
    pub protocol: &'static str,
    pub ports: String,
    pub peers: Vec<String>,
    pub flows: Vec<FlowEvidence>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowEvidence {
    /// `product/role/flow`.
    pub flow: String,
    pub service: String,
    pub document: String,
    pub section: String,
}

/// The answer for one address family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FamilyAnswer {
    pub family: &'static str,
    pub allowed: bool,
    /// The source network and destination address the verdict is about.
    pub from: String,
    pub to: String,
    /// The destination node's inbound rules.
    pub inbound: Side,
    /// The source node's outbound rules.
    pub outbound: Side,
}

/// The whole answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    pub from: String,
    pub to: String,
    pub protocol: &'static str,
    pub port: u16,
    pub egress: &'static str,
    pub allowed: bool,
    pub families: Vec<FamilyAnswer>,
    /// When not allowed: what would allow it (a role to assign, a switch to turn on).
    pub missing: Vec<String>,
}

/// The question.
#[derive(Debug, Clone, Copy)]
pub struct Question {
    pub from: End,
    pub to: End,
    pub protocol: Protocol,
    pub port: u16,
    pub egress: Egress,
}

/// Answers a question from a derived plan.
pub fn ask(catalog: &Catalog, topology: &Topology, plan: &Plan, q: &Question) -> Answer {
    let from_nets = q.from.networks(topology);
    let to_nets = q.to.networks(topology);
    let mut families = Vec::new();
    for (family, v6) in [("IPv4", false), ("IPv6", true)] {
        let sources: Vec<&IpNet> = from_nets
            .iter()
            .filter(|n| matches!(n, IpNet::V6(_)) == v6)
            .collect();
        let dests: Vec<&IpNet> = to_nets
            .iter()
            .filter(|n| matches!(n, IpNet::V6(_)) == v6)
            .collect();
        if sources.is_empty() || dests.is_empty() {
            continue;
        }
        // The first pair both sides allow, else the first pair, as the family's verdict.
        let mut first = None;
        let mut verdict = None;
        'pairs: for s in &sources {
            for d in &dests {
                let a = family_answer(catalog, topology, plan, q, family, s, d);
                if a.allowed {
                    verdict = Some(a);
                    break 'pairs;
                }
                first.get_or_insert(a);
            }
        }
        if let Some(a) = verdict.or(first) {
            families.push(a);
        }
    }
    let allowed = families.iter().any(|f| f.allowed);
    let missing = if allowed {
        Vec::new()
    } else {
        let dropped = |f: &FamilyAnswer, inbound: bool| {
            matches!(
                if inbound { &f.inbound } else { &f.outbound },
                Side::Dropped
            )
        };
        let mut m = Vec::new();
        if families.iter().any(|f| dropped(f, true)) {
            m.extend(missing(catalog, topology, q));
        }
        if families.iter().any(|f| dropped(f, false))
            && let End::Node(a) = q.from
        {
            m.push(format!(
                "{} may send only what its outbound rules allow (egress strict), and none of its roles' flows sends {}/{} to {}: a flow of the site's own from it would, or --egress open",
                topology.nodes[a].name,
                q.protocol.as_str(),
                q.port,
                q.to.describe(topology)
            ));
        }
        m
    };
    Answer {
        from: q.from.describe(topology),
        to: q.to.describe(topology),
        protocol: q.protocol.as_str(),
        port: q.port,
        egress: match q.egress {
            Egress::Open => "open",
            Egress::Strict => "strict",
        },
        allowed,
        families,
        missing,
    }
}

fn family_answer(
    catalog: &Catalog,
    topology: &Topology,
    plan: &Plan,
    q: &Question,
    family: &'static str,
    source: &IpNet,
    dest: &IpNet,
) -> FamilyAnswer {
    let loopback = matches!((q.from, q.to), (End::Node(a), End::Node(b)) if a == b);
    let node_plan = |i: usize| plan.nodes.iter().find(|p| p.node == i);
    let inbound = match q.to {
        _ if loopback => Side::NotFiltered {
            why: "a node reaching itself goes over loopback, which every export accepts".into(),
        },
        End::Node(b) => match node_plan(b) {
            Some(p) => side(catalog, p, Direction::Inbound, q, source),
            None => Side::Dropped,
        },
        _ => Side::NotFiltered {
            why: format!(
                "{} is not a node: fwtopo filters only on nodes",
                q.to.describe(topology)
            ),
        },
    };
    let outbound = match q.from {
        _ if loopback => Side::NotFiltered {
            why: "loopback".into(),
        },
        End::Node(a) if q.egress == Egress::Strict => match node_plan(a) {
            Some(p) => side(catalog, p, Direction::Outbound, q, dest),
            None => Side::Dropped,
        },
        End::Node(_) => Side::NotFiltered {
            why: "egress is open: the node may send anywhere (--egress strict checks it)".into(),
        },
        _ => Side::NotFiltered {
            why: format!(
                "{} is not a node: fwtopo filters only on nodes",
                q.from.describe(topology)
            ),
        },
    };
    let passes = |s: &Side| !matches!(s, Side::Dropped);
    FamilyAnswer {
        family,
        allowed: passes(&inbound) && passes(&outbound),
        from: source.to_string(),
        to: dest.to_string(),
        inbound,
        outbound,
    }
}

/// The first rule of one direction on a node that lets the protocol and port through for all of
/// the peer network.
fn side(catalog: &Catalog, p: &NodePlan, dir: Direction, q: &Question, peer: &IpNet) -> Side {
    let rules: &[Rule] = match dir {
        Direction::Inbound => &p.inbound,
        Direction::Outbound => &p.outbound,
    };
    let hit = rules
        .iter()
        .find(|r| r.protocol == q.protocol && r.ports.contains(q.port) && r.peers.covers(peer));
    match hit {
        Some(r) => Side::Allowed {
            rule: evidence(catalog, &p.name, r),
        },
        None => Side::Dropped,
    }
}

fn evidence(catalog: &Catalog, node: &str, r: &Rule) -> Evidence {
    Evidence {
        node: node.to_string(),
        direction: match r.direction {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        },
        protocol: r.protocol.as_str(),
        ports: r.ports.to_string(),
        peers: r.peers.to_strings(),
        flows: r
            .provenance
            .iter()
            .map(|f: &FlowRef| {
                let flow = f.flow(catalog);
                FlowEvidence {
                    flow: f.label(catalog),
                    service: flow.service.clone(),
                    document: f.product(catalog).document.id.clone(),
                    section: flow.source.section.clone(),
                }
            })
            .collect(),
    }
}
