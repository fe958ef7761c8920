//! "Can A reach B on port P, and which rule says so?": the question an operator asks before and
//! after every change, answered from the derived plan with the evidence on both ends.
//!
//! An end is a node, a zone, an external host or an address. The inbound rules of a destination
//! node decide; the outbound rules of a source node decide too when egress is strict. Each address
//! family is answered on its own, since a node may be reachable over IPv4 and not over IPv6. When
//! the answer is no, the catalog is searched for the flows that would carry the port, to say which
//! role or switch would allow it.

use crate::catalog::{Catalog, Endpoint};
use crate::engine::{Direction, FlowRef, NodePlan, Plan, Rule};
use crate::export::Egress;
use crate::ports::Protocol;
use crate::report;
use crate::topology::{ParamValue, Topology};
use crate::user_text::quoted;
use ipnet::IpNet;
use serde::Serialize;
use std::net::IpAddr;

/// One end of the question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Node(usize),
    Zone(usize),
    Host(usize),
    Address(IpAddr),
}

impl End {
    /// Reads a node, zone or external host name, or an IPv4/IPv6 address. A name that is both a
    /// node and a zone (or host) is refused rather than guessed.
    pub fn parse(topology: &Topology, text: &str) -> Result<End, String> {
        if let Ok(a) = text.parse::<IpAddr>() {
            return Ok(End::Address(a));
        }
        let mut found = Vec::new();
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
                "{} is no node, zone, external host or address of the topology",
                quoted(text)
            )),
            _ => Err(format!(
                "{} names both a node and a zone or external host; give an address instead",
                quoted(text)
            )),
        }
    }

    /// How the end reads in answers: `node web1`, `zone admin`, `host x`, `address 192.0.2.1`.
    pub fn describe(&self, topology: &Topology) -> String {
        match *self {
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

/// The most suggestions an answer lists.
const MAX_MISSING: usize = 8;

/// What would allow a denied question: catalog flows carrying the protocol and port towards a
/// role, and what the destination (or source) lacks to take part in them. What the destination's
/// own roles lack (a switch, a peer) comes first; roles to assign after, from the products the
/// site already uses when any of them has one.
fn missing(catalog: &Catalog, topology: &Topology, q: &Question) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut assign: Vec<(bool, String)> = Vec::new();
    let used: std::collections::BTreeSet<&str> = topology
        .nodes
        .iter()
        .flat_map(|n| n.roles.iter().map(|r| r.product.as_str()))
        .collect();
    let End::Node(b) = q.to else {
        return out;
    };
    let dest = &topology.nodes[b];
    let assigned = roles_played(dest);
    for p in catalog.products() {
        for f in &p.flows {
            if !f.protocols.contains(&q.protocol) || !report::default_ports(p, f).contains(q.port) {
                continue;
            }
            let to_roles: Vec<&str> =
                f.to.iter()
                    .filter_map(|e| match e {
                        Endpoint::Role(id) => Some(id.as_str()),
                        _ => None,
                    })
                    .collect();
            // The destination's roles that listen in this flow.
            let plays: Vec<&(String, String, Option<&Params>)> = assigned
                .iter()
                .filter(|(product, role, _)| {
                    *product == p.id
                        && p.role(role)
                            .is_some_and(|r| to_roles.iter().any(|id| p.role_matches(r, id)))
                })
                .collect();
            let what = format!("{}/{} ({})", p.id, f.id, f.service);
            if plays.is_empty() {
                for id in &to_roles {
                    assign.push((
                        used.contains(p.id.as_str()),
                        format!("assign {}/{id} to {} (flow {what})", p.id, dest.name),
                    ));
                }
                continue;
            }
            if let Some(sw) = &f.when {
                let on = plays.iter().any(|(_, _, params)| switch_on(p, *params, sw));
                if !on {
                    out.push(format!(
                        "turn on switch {sw} of {}/{} on {} (flow {what})",
                        p.id, plays[0].1, dest.name
                    ));
                    continue;
                }
            }
            if f.from.contains(&Endpoint::Any) {
                // Open to anyone: this flow is not what keeps the source out.
                continue;
            }
            let from: Vec<String> = f.from.iter().map(report::endpoint).collect();
            out.push(format!(
                "{} takes {}/{} only from {}: make {} one of them (flow {what})",
                dest.name,
                q.protocol.as_str(),
                q.port,
                from.join(", "),
                q.from.describe(topology)
            ));
        }
    }
    out.sort();
    out.dedup();
    let on_site = assign.iter().any(|(used, _)| *used);
    if !out.is_empty() && !on_site {
        // The destination's own roles already say what is missing; other products' roles that
        // carry the port would only be noise.
        assign.clear();
    }
    let mut assign: Vec<String> = assign
        .into_iter()
        .filter(|(used, _)| *used || !on_site)
        .map(|(_, s)| s)
        .collect();
    assign.sort();
    assign.dedup();
    out.extend(assign);
    out.truncate(MAX_MISSING);
    if out.is_empty() {
        out.push(format!(
            "no catalog flow carries {}/{}: a role of the site's own would have to",
            q.protocol.as_str(),
            q.port
        ));
    }
    out
}

type Params = std::collections::BTreeMap<String, String>;

/// The roles a node plays as (product, role, its parameters): those it lists, and the host
/// product's role for its OS family, which the engine gives every node with management access.
fn roles_played(node: &crate::topology::Node) -> Vec<(String, String, Option<&Params>)> {
    use crate::catalog::HOST_PRODUCT;
    let mut v: Vec<(String, String, Option<&Params>)> = node
        .roles
        .iter()
        .map(|ra| (ra.product.clone(), ra.role.clone(), Some(&ra.params)))
        .collect();
    if node.management && !node.roles.iter().any(|ra| ra.product == HOST_PRODUCT) {
        let id = if node.os.is_windows() {
            "windows"
        } else {
            "linux"
        };
        v.push((HOST_PRODUCT.to_string(), id.to_string(), None));
    }
    v
}

/// Whether a switch parameter is on for a role (its value, else the default).
fn switch_on(p: &crate::catalog::Product, params: Option<&Params>, id: &str) -> bool {
    let Some((_, prm)) = p.parameter(id) else {
        return true;
    };
    let default = matches!(
        prm.kind,
        crate::catalog::ParamKind::Switch { default: true }
    );
    match params.and_then(|m| m.get(id)) {
        Some(v) => matches!(
            ParamValue::parse(&prm.kind, v),
            Ok(ParamValue::Switch(true))
        ),
        None => default,
    }
}
