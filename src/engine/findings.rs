//! Findings: what an operator must know about a derived plan before pasting it into a console.
//!
//! Codes are stable (`FW001` …) so scripts and the designer can filter on them; the slug says the same
//! in words.

use super::{Direction, Entry, FlowRef, Member, NodePlan};
use crate::catalog::{Catalog, HOST_PRODUCT, ParamKind, Platform, StandIn, Tag};
use crate::net::Peers;
use crate::target::Target;
use crate::topology::{OsFamily, Topology};
use std::collections::{BTreeMap, BTreeSet};

mod addresses;
mod egress;
pub(super) mod expiry;
mod families;
pub(super) mod flow_tests;
mod guarded;
mod kinds;
mod open_to_any;
mod zones;

pub use kinds::{Code, Finding, Severity};

pub(super) use families::Families;

/// Gathers findings during derivation, deduplicated and aggregated.
#[derive(Debug, Default)]
pub(super) struct Collector {
    out: Vec<Finding>,
    /// (product, flow, missing endpoint id) to the nodes left without a peer.
    peer_missing: BTreeMap<(usize, usize, String), BTreeSet<usize>>,
    /// Zone name to the flows that name it.
    zones: BTreeMap<String, BTreeSet<FlowRef>>,
    /// Zones that hold the whole IPv4 or IPv6 address space (found on the first node), with the
    /// flows that take them as a peer: "from the admin zone" then means from anywhere.
    wide_zones: Option<BTreeMap<String, zones::WideZone>>,
}

impl Collector {
    pub(super) fn peer_missing(
        &mut self,
        p: usize,
        flow: usize,
        missing: &str,
        nodes: BTreeSet<usize>,
    ) {
        self.peer_missing
            .entry((p, flow, missing.to_string()))
            .or_default()
            .extend(nodes);
    }

    pub(super) fn zone_missing(&mut self, zone: &str, _node: usize, r: FlowRef) {
        self.zones.entry(zone.to_string()).or_default().insert(r);
    }

    /// How many node findings are collected so far (to remember a node's range).
    pub(super) fn len(&self) -> usize {
        self.out.len()
    }

    /// Repeats another node's findings for a node of the same shape.
    pub(super) fn copy_node(&mut self, range: std::ops::Range<usize>, name: &str) {
        for i in range {
            let f = &self.out[i];
            let f = Finding {
                severity: f.severity,
                node: Some(name.to_string()),
                code: f.code,
                message: f.message.clone(),
            };
            self.out.push(f);
        }
    }

    fn add(&mut self, code: Code, severity: Severity, node: Option<&str>, message: String) {
        self.out.push(Finding {
            severity,
            node: node.map(str::to_string),
            code,
            message: message.into(),
        });
    }

    /// The findings of one node's finished plan.
    pub(super) fn node(
        &mut self,
        catalog: &Catalog,
        topology: &Topology,
        plan: &NodePlan,
        entries: &[Entry],
        roles: &[Member<'_>],
    ) {
        let node = &topology.nodes[plan.node];
        let name = Some(node.name.as_str());
        let products = catalog.products();
        let rule_text = |r: &super::Rule| format!("{}/{}", r.protocol.as_str(), r.ports);
        let services = |r: &super::Rule| r.services(catalog).join(", ");
        // Only the services of the flows carrying the tag: a merged rule may hold others too.
        let tagged = |r: &super::Rule, tag: Tag| {
            let set: BTreeSet<&str> = r
                .provenance
                .iter()
                .map(|f| f.flow(catalog))
                .filter(|f| f.has_tag(tag))
                .map(|f| f.service.as_str())
                .collect();
            set.into_iter().collect::<Vec<_>>().join(", ")
        };

        if node.addresses.is_empty() && roles.iter().any(|m| m.product_id(catalog) != HOST_PRODUCT)
        {
            self.add(
                Code::NodeWithoutAddress,
                Severity::Error,
                name,
                "the node has no address, so no other node's rules can reach it; add its IPv4 or IPv6 addresses".into(),
            );
        }
        if let Some(target) = node.firewall
            && target.is_windows() != node.os.is_windows()
        {
            let fitting: Vec<&str> = Target::ALL
                .iter()
                .filter(|t| t.is_windows() == node.os.is_windows())
                .map(|t| t.as_str())
                .collect();
            self.add(
                Code::FirewallOsMismatch,
                Severity::Error,
                name,
                format!(
                    "the node's firewall is {target}, which does not run on {}; remove the firewall choice or pick one of {}",
                    node.os.as_str(),
                    fitting.join(", ")
                ),
            );
        }
        for m in roles {
            let role = &products[m.product].roles[m.role];
            let wrong = matches!(
                (role.platform, node.os.family()),
                (Platform::Windows, OsFamily::Linux) | (Platform::Linux, OsFamily::Windows)
            );
            if wrong {
                self.add(
                    Code::RoleOsMismatch,
                    Severity::Error,
                    name,
                    format!(
                        "{}/{} runs on {:?} but the node's OS is {}",
                        products[m.product].id,
                        role.id,
                        role.platform,
                        node.os.as_str()
                    )
                    .to_lowercase(),
                );
            }
        }
        self.strict_egress(catalog, topology, node, entries, roles);
        // Dynamic ports left at their fallback range, reported where a rule really opens that range:
        // on the listener (inbound) or on the node that declares the parameter. Reporting every
        // unset Dynamic parameter of the node's roles instead warned about ranges a switched-off
        // flow never opens (VHS rpc_ports with vhs_rpc off) and missed ranges opened on roles that
        // use a parameter declared elsewhere (CGP frontend and ftp_passive, declared on server).
        let mut unset: BTreeSet<(usize, usize, &str)> = BTreeSet::new();
        for e in entries.iter().filter(|e| e.fallback) {
            let product = &products[e.flow.product];
            for item in &e.flow.flow(catalog).ports {
                let crate::catalog::PortItem::Param(id) = item else {
                    continue;
                };
                let Some((decl, prm)) = product.parameter(id) else {
                    continue;
                };
                if !matches!(prm.kind, ParamKind::Dynamic { .. }) {
                    continue;
                }
                let declaring: Vec<&Member<'_>> = roles
                    .iter()
                    .filter(|m| {
                        m.product == e.flow.product
                            && products[m.product].roles[m.role].id == decl.id
                    })
                    .collect();
                if declaring
                    .iter()
                    .any(|m| m.params.is_some_and(|ps| ps.contains_key(id)))
                {
                    continue;
                }
                if e.direction == Direction::Inbound || !declaring.is_empty() {
                    unset.insert((e.flow.product, e.flow.role, id.as_str()));
                }
            }
        }
        for (p, r, id) in unset {
            let Some((decl, param)) = products[p].parameter(id) else {
                continue;
            };
            let ParamKind::Dynamic { fallback } = param.kind else {
                continue;
            };
            let role = &products[p].roles[r];
            let elsewhere = if decl.id == role.id {
                String::new()
            } else {
                format!(" (declared on {})", decl.id)
            };
            self.add(
                Code::DynamicPortUnset,
                Severity::Warning,
                name,
                format!(
                    "{}/{} parameter {}{elsewhere} ({}) is not pinned, so {}-{} stays open; pin it to one port",
                    products[p].id, role.id, param.id, param.name, fallback.0, fallback.1
                ),
            );
        }

        let management = plan.inbound.iter().any(|r| r.is_management());
        let severity = if node.management {
            Severity::Error
        } else {
            Severity::Warning
        };
        if !management {
            let why = if node.management {
                "define the admin zone's CIDRs so SSH (Linux) or RDP and WinRM (Windows) can be allowed from it"
            } else {
                "management access is switched off for this node; make sure a console is at hand"
            };
            self.add(
                Code::NoManagementAccess,
                severity,
                name,
                format!("no inbound rule lets an operator back in: {why}"),
            );
        } else if let Some(why) = families::management_lost(plan, node) {
            self.add(Code::NoManagementAccess, severity, name, why);
        }
        self.lost_to_family(catalog, node, plan);
        self.guarded_ports(catalog, node, entries, roles, guarded::Guard::Management);
        self.guarded_ports(catalog, node, entries, roles, guarded::Guard::TrustedOnly);
        self.open_to_any(catalog, node, entries);

        for r in plan.inbound.iter() {
            if r.peers.is_any() && r.has_tag(Tag::Insecure) {
                self.add(
                    Code::PlaintextOpenToAny,
                    Severity::Warning,
                    name,
                    format!(
                        "plaintext {} open to any address (rule {})",
                        tagged(r, Tag::Insecure),
                        rule_text(r)
                    ),
                );
            }
            if r.peers.is_any() && r.has_tag(Tag::TrustedOnly) {
                self.add(
                    Code::TrustedOnlyOpenToAny,
                    Severity::Error,
                    name,
                    format!("{} is meant for trusted networks only but is open to any address (rule {})", tagged(r, Tag::TrustedOnly), rule_text(r)),
                );
            }
            for lp in &plan.local_only {
                if lp.protocol == r.protocol
                    && !lp.ports.intersection(&r.ports).is_empty()
                    && !r.peers.is_empty()
                {
                    self.add(
                        Code::LocalhostPortExposed,
                        Severity::Error,
                        name,
                        format!(
                            "{}/{} ({}) must only be reached on localhost but {} ({}) opens it to {}",
                            lp.protocol.as_str(),
                            lp.ports.intersection(&r.ports),
                            lp.provenance.flow(catalog).service,
                            rule_text(r),
                            services(r),
                            r.peers
                        ),
                    );
                }
            }
        }
        // A port range that a parameter sets and that is open to any address makes every narrower
        // rule inside it moot: an FTP passive range of 1-65535 (or an unpinned one) silently opens
        // the management and peer-only ports it covers.
        let from_param = |e: &&Entry| {
            e.direction == Direction::Inbound
                && matches!(e.peers, super::PeerSrc::Any)
                && e.flow
                    .flow(catalog)
                    .ports
                    .iter()
                    .any(|i| matches!(i, crate::catalog::PortItem::Param(_)))
        };
        let wide: Vec<&Entry> = entries.iter().filter(from_param).collect();
        type Voided<'a> = (crate::ports::PortSet, BTreeSet<&'a str>);
        let mut voided: BTreeMap<(crate::ports::Protocol, &str), Voided<'_>> = BTreeMap::new();
        // Management and trusted-only ports are guarded: widening them is an error of its own.
        let guarded = |e: &Entry| {
            let f = e.flow.flow(catalog);
            f.has_tag(Tag::Management) || f.has_tag(Tag::TrustedOnly)
        };
        for r in entries.iter().filter(|e| {
            e.direction == Direction::Inbound
                && !matches!(e.peers, super::PeerSrc::Any)
                && !guarded(e)
        }) {
            for w in wide
                .iter()
                .filter(|w| w.protocol == r.protocol && w.flow.flow != r.flow.flow)
            {
                let both = w.ports.intersection(&r.ports);
                if !both.is_empty() {
                    let slot = voided
                        .entry((r.protocol, r.flow.flow(catalog).service.as_str()))
                        .or_default();
                    slot.0 = slot.0.union(&both);
                    slot.1.insert(w.flow.flow(catalog).service.as_str());
                }
            }
        }
        for ((protocol, service), (ports, by)) in voided {
            self.add(
                Code::RestrictionVoided,
                Severity::Warning,
                name,
                format!(
                    "{}/{ports} ({service}) is meant for its peers only, but the port range of {} is open to any address and covers it, so the restriction has no effect; narrow or pin that range",
                    protocol.as_str(),
                    by.into_iter().collect::<Vec<_>>().join(", ")
                ),
            );
        }
        // One WinRM finding per node, whatever the number of address families it is open to.
        // What an inbound rule open to any address lets in on top of a restricted flow: the ports
        // of the flows tagged `tag` (restricted themselves) that some any-peer flow covers, per
        // protocol, and the services of the covering flows. A restriction is only as good as the
        // widest rule on the same port.
        let exposed = |tag: Tag| {
            let mut out: BTreeMap<crate::ports::Protocol, (crate::ports::PortSet, BTreeSet<&str>)> =
                BTreeMap::new();
            let inbound = || entries.iter().filter(|e| e.direction == Direction::Inbound);
            for t in inbound().filter(|e| {
                !matches!(e.peers, super::PeerSrc::Any) && e.flow.flow(catalog).has_tag(tag)
            }) {
                for w in inbound().filter(|w| {
                    matches!(w.peers, super::PeerSrc::Any)
                        && w.protocol == t.protocol
                        && !w.flow.flow(catalog).has_tag(tag)
                }) {
                    let both = w.ports.intersection(&t.ports);
                    if !both.is_empty() {
                        let slot = out.entry(t.protocol).or_default();
                        slot.0 = slot.0.union(&both);
                        slot.1.insert(w.flow.flow(catalog).service.as_str());
                    }
                }
            }
            out
        };
        let widened =
            |found: BTreeMap<crate::ports::Protocol, (crate::ports::PortSet, BTreeSet<&str>)>| {
                found
                    .into_iter()
                    .map(|(p, (ports, by))| {
                        format!(
                            "{}/{ports} through {}",
                            p.as_str(),
                            by.into_iter().collect::<Vec<_>>().join(", ")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
        // One WinRM finding per node, whatever the number of address families it is open to.
        let winrm: Vec<&super::Rule> = plan
            .inbound
            .iter()
            .filter(|r| r.has_tag(Tag::WinrmBasicHttp))
            .collect();
        if let Some(first) = winrm.first() {
            let peers: Vec<String> = winrm.iter().map(|r| r.peers.to_string()).collect();
            let open = exposed(Tag::WinrmBasicHttp);
            let (severity, reach) = if open.is_empty() {
                (
                    Severity::Warning,
                    format!("it is open only to {}", peers.join(", ")),
                )
            } else {
                // Credentials in the clear, reachable from anywhere: not something to export.
                (
                    Severity::Error,
                    format!(
                        "it is meant for {} only, but a rule open to any address covers it ({}), so anyone can reach it; narrow that range",
                        peers.join(", "),
                        widened(open)
                    ),
                )
            };
            self.add(
                Code::WinrmBasicHttp,
                severity,
                name,
                format!(
                    "{} is WinRM with Basic authentication over plain HTTP, so credentials cross the wire in the clear; {reach}; prefer the HTTPS listener (5986)",
                    tagged(first, Tag::WinrmBasicHttp),
                ),
            );
        }
        for r in plan.rules() {
            if let Peers::Dns(names) = &r.peers {
                self.add(
                    Code::DnsPeer,
                    Severity::Warning,
                    name,
                    format!(
                        "{} {} ({}) reaches {} by name; host firewalls hold addresses, so pin its addresses as an external host or allow the port to any",
                        r.direction.as_str(),
                        rule_text(r),
                        services(r),
                        names.join(", ")
                    ),
                );
            }
        }

        let labels = |set: &BTreeSet<(usize, usize)>| {
            set.iter()
                .map(|&(p, f)| format!("{}/{}", products[p].id, products[p].flows[f].id))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut errata = BTreeSet::new();
        let mut temporary = BTreeSet::new();
        let refs = plan
            .rules()
            .flat_map(|r| r.provenance.iter())
            .chain(plan.local_only.iter().map(|l| &l.provenance));
        for f in refs {
            let flow = f.flow(catalog);
            if flow.has_tag(Tag::Errata) {
                errata.insert((f.product, f.flow));
            }
            if flow.has_tag(Tag::Temporary) {
                temporary.insert((f.product, f.flow));
            }
        }
        if !errata.is_empty() {
            self.add(
                Code::ErrataInUse,
                Severity::Info,
                name,
                format!("rules rest on flows where the document is wrong or ambiguous (see their notes): {}", labels(&errata)),
            );
        }
        if !temporary.is_empty() {
            // Say how to close them: the switch that opened them, where there is one.
            let with_switch = temporary
                .iter()
                .map(|&(p, f)| {
                    let flow = &products[p].flows[f];
                    match &flow.when {
                        Some(w) => format!("{}/{} (switch {w} off)", products[p].id, flow.id),
                        None => format!("{}/{}", products[p].id, flow.id),
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            self.add(
                Code::TemporaryPort,
                Severity::Info,
                name,
                format!(
                    "ports only needed during setup or testing; close them once the test has passed: {with_switch}"
                ),
            );
        }
        self.conflicts(catalog, name, entries);
        self.wide_zone_peers(catalog, topology, plan);
    }

    /// Two services of different products listening on one port and protocol of a node.
    fn conflicts(&mut self, catalog: &Catalog, name: Option<&str>, entries: &[Entry]) {
        let products = catalog.products();
        let host = catalog.product_index(HOST_PRODUCT);
        let mut claims: Vec<&Entry> = entries
            .iter()
            .filter(|e| {
                e.direction == Direction::Inbound && !e.fallback && Some(e.flow.product) != host
            })
            // A custom flow to a catalog role (`site/cpanel-whm/server`) brings that role's
            // daemon more clients, not a second daemon.
            .filter(|e| {
                !matches!(
                    products[e.flow.product].roles[e.flow.role].stands_for,
                    Some(StandIn::Role { .. })
                )
            })
            .collect();
        claims.sort_by_key(|e| (e.flow.product, e.flow.flow, e.protocol));
        claims.dedup_by_key(|e| (e.flow.product, e.flow.flow, e.protocol));
        let mut seen = BTreeSet::new();
        for (i, a) in claims.iter().enumerate() {
            for b in &claims[i + 1..] {
                if a.flow.product == b.flow.product || a.protocol != b.protocol {
                    continue;
                }
                let both = a.ports.intersection(&b.ports);
                if both.is_empty() {
                    continue;
                }
                let (fa, fb) = (a.flow.flow(catalog), b.flow.flow(catalog));
                let key = (a.protocol, both.clone(), a.flow.product, b.flow.product);
                if !seen.insert(key) {
                    continue;
                }
                self.add(
                    Code::PortConflict,
                    Severity::Warning,
                    name,
                    format!(
                        "{}/{} is claimed by {}/{} ({}) and {}/{} ({}); only one daemon can listen there",
                        a.protocol.as_str(),
                        both,
                        products[a.flow.product].id,
                        products[a.flow.product].roles[a.flow.role].id,
                        fa.service,
                        products[b.flow.product].id,
                        products[b.flow.product].roles[b.flow.role].id,
                        fb.service
                    ),
                );
            }
        }
    }

    /// The topology-wide findings, then everything sorted.
    pub(super) fn finish(mut self, catalog: &Catalog, topology: &Topology) -> Vec<Finding> {
        let products = catalog.products();
        // One line per (product, missing peer): which flows and how many nodes lack a peer.
        /// Flow ids, nodes left without a peer, and whether any of the flows is required.
        type Missing = (BTreeSet<String>, BTreeSet<usize>, bool);
        let mut by_missing: BTreeMap<(usize, String), Missing> = BTreeMap::new();
        for ((p, flow, missing), nodes) in std::mem::take(&mut self.peer_missing) {
            let f = &products[p].flows[flow];
            let slot = by_missing.entry((p, missing)).or_default();
            slot.0.insert(f.id.clone());
            slot.1.extend(nodes);
            slot.2 |= !f.has_tag(Tag::Optional);
        }
        for ((p, missing), (flows, nodes, required)) in by_missing {
            let names: Vec<&str> = nodes
                .iter()
                .take(5)
                .map(|&n| topology.nodes[n].name.as_str())
                .collect();
            let more = if nodes.len() > 5 {
                format!(" and {} more", nodes.len() - 5)
            } else {
                String::new()
            };
            self.add(
                Code::PeerRoleMissing,
                if required {
                    Severity::Warning
                } else {
                    Severity::Info
                },
                None,
                format!(
                    "no node plays {}/{}, so flows {} of {}{} have no peer",
                    products[p].id,
                    missing,
                    flows.into_iter().collect::<Vec<_>>().join(", "),
                    names.join(", "),
                    more
                ),
            );
        }
        for (zone, refs) in std::mem::take(&mut self.zones) {
            let flows: BTreeSet<String> = refs
                .iter()
                .map(|r| format!("{}/{}", products[r.product].id, r.flow(catalog).id))
                .collect();
            let defined = topology.zone(&zone).is_some();
            self.add(
                Code::ZoneUndefined,
                Severity::Warning,
                None,
                format!(
                    "zone '{zone}' is {}, so nothing is allowed for {}",
                    if defined {
                        "defined without CIDRs"
                    } else {
                        "not defined"
                    },
                    flows.into_iter().collect::<Vec<_>>().join(", ")
                ),
            );
        }
        self.wide_zone_findings(catalog);
        self.placeholder_zones(topology);
        self.shared_addresses(topology);
        self.updates_to_any(catalog, topology);
        self.out.sort();
        self.out.dedup();
        self.out
    }
}

impl Member<'_> {
    fn product_id<'c>(&self, catalog: &'c Catalog) -> &'c str {
        &catalog.products()[self.product].id
    }
}

#[cfg(test)]
mod tests;
