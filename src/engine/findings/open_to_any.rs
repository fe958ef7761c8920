//! Administration interfaces and management access that a product flow opens to any address.
//!
//! The built-in host product keeps SSH to the admin zone, and a server administration interface
//! (cPanel's WHM) is meant for it too; a product flow open to any address overrides that without a
//! word unless it is said here. Each finding names the flow and the switch that closes it.

use super::super::{Direction, Entry, PeerSrc};
use super::{Code, Collector, Severity};
use crate::catalog::{Catalog, Tag};
use crate::ports::{PortSet, Protocol};
use crate::topology::Node;
use std::collections::BTreeMap;

impl Collector {
    /// Warnings for inbound flows open to any address on the node's management access (FW025) or
    /// on an administration interface (FW024).
    pub(super) fn open_to_any(&mut self, catalog: &Catalog, node: &Node, entries: &[Entry]) {
        for (tag, code) in [
            (Tag::Administration, Code::AdministrationOpenToAny),
            (Tag::Management, Code::ManagementOpenToAny),
        ] {
            // (flow label, protocol) to the ports, the service and the flow's switch.
            let mut found: BTreeMap<(String, Protocol), (PortSet, &str, Option<&str>)> =
                BTreeMap::new();
            for e in entries.iter().filter(|e| {
                e.direction == Direction::Inbound
                    && matches!(e.peers, PeerSrc::Any)
                    && e.flow.flow(catalog).has_tag(tag)
            }) {
                let flow = e.flow.flow(catalog);
                let slot = found
                    .entry((e.flow.label(catalog), e.protocol))
                    .or_insert_with(|| {
                        (PortSet::new(), flow.service.as_str(), flow.when.as_deref())
                    });
                slot.0 = slot.0.union(&e.ports);
            }
            for ((label, protocol), (ports, service, switch)) in found {
                let port = format!("{}/{ports}", protocol.as_str());
                let (what, fix) = match switch {
                    Some(w) => (format!("{label} (switch {w})"), format!("switch {w} off")),
                    None => (label, "restrict the flow's peers".to_string()),
                };
                let message = match code {
                    Code::ManagementOpenToAny => format!(
                        "{port} ({service}) is management access to the node, which the host product keeps to the admin zone, but {what} opens it to any address; {fix} unless people must log in from anywhere"
                    ),
                    _ => format!(
                        "{port} ({service}) is server administration, open to any address through {what}; {fix} to keep it to the admin zone"
                    ),
                };
                self.add(code, Severity::Warning, Some(node.name.as_str()), message);
            }
        }
    }
}
