//! Zones that hold every address: "from the admin zone" then means from anywhere. Where such a
//! zone is the peer of management or trusted-only flows, it opens them to the world, as much an
//! error as a rule that does it directly; elsewhere a warning.

use super::super::{Direction, FlowRef, NodePlan};
use super::{Code, Collector, Severity};
use crate::catalog::{Catalog, Endpoint, Tag};
use crate::topology::Topology;
use std::collections::{BTreeMap, BTreeSet};

/// A zone whose networks add up to every address of a family, and the flows that use it as a peer.
#[derive(Debug, Default)]
pub(super) struct WideZone {
    /// `0.0.0.0/0`, `::/0` or both.
    space: String,
    flows: BTreeSet<FlowRef>,
}

/// The zones of a topology that cover a whole address family once their networks are aggregated
/// (`0.0.0.0/1` and `128.0.0.0/1` count as `0.0.0.0/0`).
fn wide_zones(topology: &Topology) -> BTreeMap<String, WideZone> {
    topology
        .zones
        .iter()
        .filter_map(|z| {
            let whole: Vec<String> = ipnet::IpNet::aggregate(&z.cidrs)
                .into_iter()
                .filter(|n| n.prefix_len() == 0)
                .map(|n| n.to_string())
                .collect();
            (!whole.is_empty()).then(|| {
                let wide = WideZone {
                    space: whole.join(" and "),
                    flows: BTreeSet::new(),
                };
                (z.name.clone(), wide)
            })
        })
        .collect()
}

impl Collector {
    /// Remembers the flows whose peer side is a zone that covers every address.
    pub(super) fn wide_zone_peers(
        &mut self,
        catalog: &Catalog,
        topology: &Topology,
        plan: &NodePlan,
    ) {
        let wide = self.wide_zones.get_or_insert_with(|| wide_zones(topology));
        if wide.is_empty() {
            return;
        }
        for r in plan.rules() {
            for f in &r.provenance {
                let flow = f.flow(catalog);
                let peer_side = match r.direction {
                    Direction::Inbound => &flow.from,
                    Direction::Outbound => &flow.to,
                };
                for e in peer_side {
                    if let Endpoint::Zone(z) = e
                        && let Some(w) = wide.get_mut(z)
                    {
                        w.flows.insert(*f);
                    }
                }
            }
        }
    }

    /// One finding per zone that covers every address and is some flow's peer.
    pub(super) fn wide_zone_findings(&mut self, catalog: &Catalog) {
        for (zone, w) in self.wide_zones.take().unwrap_or_default() {
            if w.flows.is_empty() {
                continue;
            }
            let flows: BTreeSet<String> = w
                .flows
                .iter()
                .map(|r| format!("{}/{}", r.product(catalog).id, r.flow(catalog).id))
                .collect();
            let tagged = |tag: Tag| w.flows.iter().any(|r| r.flow(catalog).has_tag(tag));
            let guarded: Vec<&str> = [
                (Tag::Management, "management access"),
                (Tag::TrustedOnly, "trusted-only services"),
            ]
            .into_iter()
            .filter(|(tag, _)| tagged(*tag))
            .map(|(_, what)| what)
            .collect();
            let (severity, among) = if guarded.is_empty() {
                (Severity::Warning, String::new())
            } else {
                (
                    Severity::Error,
                    format!(" ({} among them)", guarded.join(" and ")),
                )
            };
            self.add(
                Code::ZoneCoversAll,
                severity,
                None,
                format!(
                    "zone '{zone}' covers every address ({}), so what it is allowed is open to anyone{among}: {}; list the networks its hosts really use",
                    w.space,
                    flows.into_iter().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
}

impl Collector {
    /// The starter's admin zone left as it was: management access from a documentation range
    /// nobody connects from, so the exported firewall locks every operator out.
    pub(super) fn placeholder_zones(&mut self, topology: &Topology) {
        for z in topology.zones.iter().filter(|z| z.is_placeholder()) {
            self.add(
                Code::PlaceholderZone,
                Severity::Error,
                None,
                format!(
                    "zone '{}' still holds the starter's placeholder network {}, a documentation range nobody connects from: management access (SSH, RDP, WinRM) from it locks every operator out. Replace it with the networks your operators really use",
                    z.name,
                    crate::topology::Zone::PLACEHOLDER_NETWORK
                ),
            );
        }
    }
}
