//! Address families: a rule whose peers are all IPv4 does nothing for a node that has only IPv6
//! addresses (and the other way round). The engine keeps rules of both families on every node (a
//! node's address list may be incomplete), so a flow lost to the family is silent unless a finding
//! says so; for management access it means the node cannot be managed.

use super::super::{FlowRef, NodePlan};
use super::{Code, Collector, Severity};
use crate::catalog::{Catalog, Tag};
use crate::net::Peers;
use crate::topology::Node;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Which address families a node or a peer set has: (IPv4, IPv6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(in crate::engine) struct Families {
    pub v4: bool,
    pub v6: bool,
}

impl Families {
    pub(in crate::engine) fn of_addresses(addresses: &[IpAddr]) -> Families {
        Families {
            v4: addresses.iter().any(IpAddr::is_ipv4),
            v6: addresses.iter().any(IpAddr::is_ipv6),
        }
    }

    /// A peer set's families; `any` and host names (resolved at run time) count as both.
    fn of_peers(peers: &Peers) -> Families {
        match peers {
            Peers::V4(_) => Families {
                v4: true,
                v6: false,
            },
            Peers::V6(_) => Families {
                v4: false,
                v6: true,
            },
            Peers::Any | Peers::Dns(_) => Families { v4: true, v6: true },
        }
    }

    fn union(self, other: Families) -> Families {
        Families {
            v4: self.v4 || other.v4,
            v6: self.v6 || other.v6,
        }
    }

    fn meets(self, other: Families) -> bool {
        (self.v4 && other.v4) || (self.v6 && other.v6)
    }

    fn is_empty(self) -> bool {
        !self.v4 && !self.v6
    }

    fn describe(self) -> &'static str {
        match (self.v4, self.v6) {
            (true, false) => "IPv4 only",
            (false, true) => "IPv6 only",
            (true, true) => "IPv4 and IPv6",
            (false, false) => "no address",
        }
    }
}

/// Whether a peer set can reach (or be reached by) a node with these addresses. A node without
/// addresses is left to its own finding (FW014).
pub(super) fn reaches(peers: &Peers, node: Families) -> bool {
    node.is_empty() || Families::of_peers(peers).meets(node)
}

/// Why the node's management rules, all of another family, leave it unmanageable; `None` when one
/// of them reaches it (or there are none: that is reported on its own).
pub(super) fn management_lost(plan: &NodePlan, node: &Node) -> Option<String> {
    let have = Families::of_addresses(&node.addresses);
    let mut peers = Families::default();
    let mut any = false;
    for r in plan.inbound.iter().filter(|r| r.is_management()) {
        any = true;
        if reaches(&r.peers, have) {
            return None;
        }
        peers = peers.union(Families::of_peers(&r.peers));
    }
    any.then(|| {
        let missing = if have.v6 { "IPv6" } else { "IPv4" };
        format!(
            "management access is allowed from {} peers but the node's addresses are {}, so no operator can reach it; add the admin zone's {missing} networks or give the node an address of the admin zone's family",
            peers.describe(),
            have.describe()
        )
    })
}

impl Collector {
    /// A warning naming the flows whose rules on this node all hold peers of a family the node
    /// has no address of. Management flows are left to [`management_lost`].
    pub(super) fn lost_to_family(&mut self, catalog: &Catalog, node: &Node, plan: &NodePlan) {
        let have = Families::of_addresses(&node.addresses);
        if have.is_empty() {
            return;
        }
        // Keyed by the flow, labelled only when lost: every node of a mesh passes through here.
        let mut per_flow: BTreeMap<FlowRef, Families> = BTreeMap::new();
        for r in plan.rules().filter(|r| !r.is_management()) {
            let fam = Families::of_peers(&r.peers);
            for f in &r.provenance {
                let slot = per_flow.entry(*f).or_default();
                *slot = slot.union(fam);
            }
        }
        let lost: BTreeSet<String> = per_flow
            .into_iter()
            .filter(|(f, fam)| !fam.meets(have) && !f.flow(catalog).has_tag(Tag::Management))
            .map(|(f, fam)| format!("{} (peers {})", f.label(catalog), fam.describe()))
            .collect();
        let lost: Vec<String> = lost.into_iter().collect();
        if lost.is_empty() {
            return;
        }
        const SHOWN: usize = 8;
        let more = if lost.len() > SHOWN {
            format!(" and {} more", lost.len() - SHOWN)
        } else {
            String::new()
        };
        let shown: Vec<&str> = lost.iter().take(SHOWN).map(String::as_str).collect();
        self.add(
            Code::NoCommonFamily,
            Severity::Warning,
            Some(node.name.as_str()),
            format!(
                "the node's addresses are {}, so these flows allow nothing here: {}{more}; give the node an address of the peers' family, or the peers one of the node's",
                have.describe(),
                shown.join(", ")
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_meet_only_on_a_shared_family() {
        let v4 = Families::of_addresses(&["192.0.2.1".parse().unwrap()]);
        let v6 = Families::of_addresses(&["2001:db8::1".parse().unwrap()]);
        let p4 = Peers::V4(vec!["198.51.100.0/24".parse().unwrap()]);
        let p6 = Peers::V6(vec!["2001:db8::/32".parse().unwrap()]);
        assert!(reaches(&p4, v4) && reaches(&p6, v6));
        assert!(!reaches(&p4, v6) && !reaches(&p6, v4));
        assert!(reaches(&Peers::Any, v6));
        assert!(reaches(&p4, Families::default()), "no address: FW014's");
        assert_eq!(v4.union(v6).describe(), "IPv4 and IPv6");
    }
}
