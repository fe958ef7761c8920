//! Guarded ports: a node's management access (SSH, RDP, WinRM) and its trusted-only services.
//!
//! Such a port is meant for a few peers (the admin zone, the trusted networks, the peers a vendor
//! names). A flow open to any address, or one whose port a parameter sets, that lands on it lets in
//! more: `cas_https_port: "3389"` publishes RDP, `ftp_passive: "20-30"` publishes SSH. Both are
//! errors that name the flow and the parameter, so `export` refuses them without `--force`.

use super::super::{Direction, Entry, FlowRef, Member, PeerSrc};
use super::{Code, Collector, Severity};
use crate::catalog::{Catalog, ParamKind, PortItem, Tag};
use crate::net::Peers;
use crate::ports::{PortRange, PortSet, Protocol};
use crate::topology::{Node, OsFamily, ParamValue};
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet};

/// What kind of port is guarded, and so which finding a widening gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Guard {
    Management,
    TrustedOnly,
}

impl Guard {
    fn tag(self) -> Tag {
        match self {
            Guard::Management => Tag::Management,
            Guard::TrustedOnly => Tag::TrustedOnly,
        }
    }
}

/// The ports the operating system's own management listeners use whatever the plan says: sshd,
/// Remote Desktop (TCP and its UDP transport) and both WinRM listeners (Windows Server starts the
/// HTTP one by default), so a product rule landing there exposes them even where no management
/// flow opens them.
fn listeners(family: OsFamily) -> &'static [(Protocol, u16, &'static str)] {
    match family {
        OsFamily::Linux => &[(Protocol::Tcp, 22, "SSH")],
        OsFamily::Windows => &[
            (Protocol::Tcp, 3389, "Remote Desktop"),
            (Protocol::Udp, 3389, "Remote Desktop"),
            (Protocol::Tcp, 5985, "WinRM over HTTP"),
            (Protocol::Tcp, 5986, "WinRM over HTTPS"),
        ],
    }
}

/// A guarded port set of a node and the service it belongs to.
struct Segment<'c> {
    protocol: Protocol,
    ports: PortSet,
    service: &'c str,
}

/// Addresses as merged intervals per family: who may reach a guarded port.
#[derive(Debug, Default)]
struct Reach<'a> {
    any: bool,
    v4: Vec<(u128, u128)>,
    v6: Vec<(u128, u128)>,
    names: BTreeSet<&'a str>,
}

fn v4_span(n: &ipnet::Ipv4Net) -> (u128, u128) {
    (
        u32::from(n.network()).into(),
        u32::from(n.broadcast()).into(),
    )
}

fn v6_span(n: &ipnet::Ipv6Net) -> (u128, u128) {
    (n.network().into(), n.broadcast().into())
}

/// Every network of a peer source, as (is IPv6, first, last).
fn spans(peers: &PeerSrc) -> Vec<(bool, u128, u128)> {
    let mut out = Vec::new();
    let push_peers = |p: &Peers| match p {
        Peers::V4(v) => out.extend(v.iter().map(|n| {
            let (a, b) = v4_span(n);
            (false, a, b)
        })),
        Peers::V6(v) => out.extend(v.iter().map(|n| {
            let (a, b) = v6_span(n);
            (true, a, b)
        })),
        _ => {}
    };
    match peers {
        PeerSrc::Shared(s) => [&s.v4, &s.v6].into_iter().flatten().for_each(push_peers),
        PeerSrc::Nets(nets) => {
            for n in nets.iter() {
                out.push(match n {
                    IpNet::V4(n) => {
                        let (a, b) = v4_span(&n.trunc());
                        (false, a, b)
                    }
                    IpNet::V6(n) => {
                        let (a, b) = v6_span(&n.trunc());
                        (true, a, b)
                    }
                });
            }
        }
        PeerSrc::Any | PeerSrc::Dns(_) => {}
    }
    out
}

fn merge_spans(v: &mut Vec<(u128, u128)>) {
    v.sort_unstable();
    let mut out: Vec<(u128, u128)> = Vec::with_capacity(v.len());
    for &(a, b) in v.iter() {
        match out.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    *v = out;
}

/// Whether merged intervals hold `[a, b]`: it then lies in one of them.
fn holds(v: &[(u128, u128)], a: u128, b: u128) -> bool {
    let i = v.partition_point(|&(s, _)| s <= a);
    i > 0 && v[i - 1].1 >= b
}

impl<'a> Reach<'a> {
    fn add(&mut self, peers: &'a PeerSrc) {
        match peers {
            PeerSrc::Any => self.any = true,
            PeerSrc::Dns(n) => {
                self.names.insert(n.as_str());
            }
            _ => {
                for (six, a, b) in spans(peers) {
                    if six { &mut self.v6 } else { &mut self.v4 }.push((a, b));
                }
            }
        }
    }

    fn finish(&mut self) {
        merge_spans(&mut self.v4);
        merge_spans(&mut self.v6);
    }

    /// Whether everyone in `peers` may already reach the port.
    fn covers(&self, peers: &PeerSrc) -> bool {
        if self.any {
            return true;
        }
        match peers {
            PeerSrc::Any => holds(&self.v4, 0, u32::MAX.into()) && holds(&self.v6, 0, u128::MAX),
            PeerSrc::Dns(n) => self.names.contains(n.as_str()),
            _ => spans(peers)
                .into_iter()
                .all(|(six, a, b)| holds(if six { &self.v6 } else { &self.v4 }, a, b)),
        }
    }
}

/// Whether a flow takes (some of) its ports from a parameter.
fn parametrised(catalog: &Catalog, f: FlowRef) -> bool {
    f.flow(catalog)
        .ports
        .iter()
        .any(|i| matches!(i, PortItem::Param(_)))
}

/// The parameters behind a flow's ports as this node gives them: `cas_https_port = 3389`,
/// `ftp_passive (not pinned: 1024-65535)`, or just the id when the value comes from elsewhere.
fn parameters(catalog: &Catalog, e: &Entry, roles: &[Member<'_>]) -> Vec<String> {
    let product = e.flow.product(catalog);
    let mut out = Vec::new();
    for item in &e.flow.flow(catalog).ports {
        let PortItem::Param(id) = item else { continue };
        let Some((_, prm)) = product.parameter(id) else {
            out.push(id.clone());
            continue;
        };
        let typed = roles
            .iter()
            .filter(|m| m.product == e.flow.product)
            .find_map(|m| m.params.and_then(|ps| ps.get(id)))
            .and_then(|v| ParamValue::parse(&prm.kind, v).ok());
        out.push(match (typed, &prm.kind) {
            (Some(ParamValue::Ports(r)), _) => format!("{id} = {r}"),
            (_, ParamKind::Dynamic { fallback }) if e.fallback => {
                let r = PortRange::new(fallback.0, fallback.1)
                    .map_or_else(String::new, |r| r.to_string());
                format!("{id} (not pinned: {r})")
            }
            _ => id.clone(),
        });
    }
    out
}

/// What one flow opens beyond the guarded ports' peers on one node.
struct Widening<'c> {
    ports: PortSet,
    services: BTreeSet<&'c str>,
    any: bool,
    parameters: Vec<String>,
}

impl Collector {
    /// Errors for the flows that open a guarded port of the node to more than its peers.
    pub(super) fn guarded_ports(
        &mut self,
        catalog: &Catalog,
        node: &Node,
        entries: &[Entry],
        roles: &[Member<'_>],
        guard: Guard,
    ) {
        let tag = guard.tag();
        let inbound: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.direction == Direction::Inbound)
            .collect();
        let mut segments: Vec<Segment<'_>> = inbound
            .iter()
            .filter(|e| e.flow.flow(catalog).has_tag(tag))
            .map(|e| Segment {
                protocol: e.protocol,
                ports: PortSet::clone(&e.ports),
                service: e.flow.flow(catalog).service.as_str(),
            })
            .collect();
        if guard == Guard::Management {
            for &(protocol, port, service) in listeners(node.os.family()) {
                let ports = PortSet::from_ranges(PortRange::single(port).into_iter().collect());
                segments.push(Segment {
                    protocol,
                    ports,
                    service,
                });
            }
        }
        // A flow that is itself guarded, or fixed by the vendor to restricted peers, is what the
        // port is meant for; one open to any address, or moved by a parameter, may widen it.
        let widens = |e: &Entry| {
            !e.flow.flow(catalog).has_tag(tag)
                && (matches!(e.peers, PeerSrc::Any) || parametrised(catalog, e.flow))
        };
        let mut found: BTreeMap<(FlowRef, Protocol), Widening<'_>> = BTreeMap::new();
        for w in inbound.iter().filter(|e| widens(e)) {
            for s in segments.iter().filter(|s| s.protocol == w.protocol) {
                let both = w.ports.intersection(&s.ports);
                if both.is_empty() {
                    continue;
                }
                let mut reach = Reach::default();
                for e in inbound.iter().filter(|e| {
                    e.protocol == s.protocol
                        && !widens(e)
                        && !e.ports.intersection(&both).is_empty()
                }) {
                    reach.add(&e.peers);
                }
                reach.finish();
                if reach.covers(&w.peers) {
                    continue;
                }
                let slot = found
                    .entry((w.flow, w.protocol))
                    .or_insert_with(|| Widening {
                        ports: PortSet::new(),
                        services: BTreeSet::new(),
                        any: false,
                        parameters: parameters(catalog, w, roles),
                    });
                slot.ports = slot.ports.union(&both);
                slot.services.insert(s.service);
                slot.any |= matches!(w.peers, PeerSrc::Any);
            }
        }
        let name = Some(node.name.as_str());
        for ((flow, protocol), w) in found {
            let services: Vec<&str> = w.services.into_iter().collect();
            let whom = if w.any {
                "any address"
            } else {
                "peers beyond the ones meant for it"
            };
            let through = if w.parameters.is_empty() {
                String::new()
            } else {
                format!(" (parameter {})", w.parameters.join(", "))
            };
            let (code, message) = match guard {
                Guard::Management => (
                    Code::ManagementPortExposed,
                    format!(
                        "{}/{} is the node's management access ({}), but {}{through} opens it to {whom}; move that service off the port or narrow its range",
                        protocol.as_str(),
                        w.ports,
                        services.join(", "),
                        flow.label(catalog),
                    ),
                ),
                Guard::TrustedOnly => (
                    Code::TrustedOnlyOpenToAny,
                    format!(
                        "{}/{} is meant for trusted networks only ({}), but {}{through} opens it to {whom}; narrow or pin that range",
                        protocol.as_str(),
                        w.ports,
                        services.join(", "),
                        flow.label(catalog),
                    ),
                ),
            };
            self.add(code, Severity::Error, name, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> PeerSrc {
        let v: Vec<IpNet> = list.iter().map(|s| s.parse().unwrap()).collect();
        PeerSrc::Nets(v.into())
    }

    #[test]
    fn reach_covers_what_its_networks_hold_together() {
        let admin = nets(&["198.51.100.0/25", "198.51.100.128/25", "2001:db8::/48"]);
        let mut reach = Reach::default();
        reach.add(&admin);
        reach.finish();
        assert!(reach.covers(&nets(&["198.51.100.0/24"])), "two halves");
        assert!(reach.covers(&nets(&["198.51.100.7/32", "2001:db8::1/128"])));
        assert!(!reach.covers(&nets(&["198.51.100.0/23"])));
        assert!(!reach.covers(&nets(&["203.0.113.1/32"])));
        assert!(!reach.covers(&nets(&["2001:db8:1::1/128"])));
        assert!(!reach.covers(&PeerSrc::Any));
        assert!(!reach.covers(&PeerSrc::Dns("example.com".into())));
        let mut all = Reach::default();
        let whole = nets(&["0.0.0.0/1", "128.0.0.0/1", "::/0"]);
        all.add(&whole);
        all.finish();
        assert!(all.covers(&PeerSrc::Any), "both families whole");
    }
}
