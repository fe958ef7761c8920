//! What `--egress strict` will block that a node's roles need. Strict egress allows exactly the
//! derived outbound rules, so a need the plan leaves out is silently dropped on the host: an
//! outbound flow tagged `egress_need` that its switch turns off (licence checks, apt keyservers,
//! Zeroconf discovery), or the package updates the topology turned off. And the updates that are
//! on go to any address, which `check` says once.

use super::super::{Direction, Entry, Member, updates_role};
use super::{Code, Collector, Severity};
use crate::catalog::{COMMON_PRODUCT, Catalog, Endpoint, Flow, Tag};
use crate::topology::{Node, Topology};
use std::collections::{BTreeMap, BTreeSet};

impl Collector {
    /// Per node: the switched-off outbound needs of its roles, and its package updates when the
    /// topology turned them off and the node lists no updates role of its own.
    pub(super) fn strict_egress(
        &mut self,
        catalog: &Catalog,
        topology: &Topology,
        node: &Node,
        entries: &[Entry],
        roles: &[Member<'_>],
    ) {
        let name = Some(node.name.as_str());
        let products = catalog.products();
        let derived: BTreeSet<(usize, usize)> = entries
            .iter()
            .filter(|e| e.direction == Direction::Outbound)
            .map(|e| (e.flow.product, e.flow.flow))
            .collect();
        // One finding per switch: the flows it turns off together (mDNS queries and answers).
        let mut blocked: BTreeMap<(usize, String), Vec<&Flow>> = BTreeMap::new();
        let mut seen = BTreeSet::new();
        for m in roles {
            let product = &products[m.product];
            let role = &product.roles[m.role];
            for (fi, f) in product.flows.iter().enumerate() {
                let sends = f
                    .from
                    .iter()
                    .any(|e| matches!(e, Endpoint::Role(id) if product.role_matches(role, id)));
                if !f.has_tag(Tag::EgressNeed)
                    || !sends
                    || derived.contains(&(m.product, fi))
                    || !seen.insert((m.product, fi))
                {
                    continue;
                }
                let key = f.when.clone().unwrap_or_else(|| f.id.clone());
                blocked.entry((m.product, key)).or_default().push(f);
            }
        }
        for ((p, key), flows) in blocked {
            let product = &products[p];
            let what: Vec<String> = flows
                .iter()
                .map(|f| {
                    format!(
                        "{}/{} ({}, {} {})",
                        product.id,
                        f.id,
                        f.service,
                        protocols(f),
                        ports(f)
                    )
                })
                .collect();
            let because = match flows[0].when {
                Some(_) => {
                    format!("while its switch '{key}' is off; switch it on if the node needs it")
                }
                None => "as no rule is derived for it".into(),
            };
            let why = flows[0].note.lines().next().unwrap_or_default();
            self.add(
                Code::StrictEgressBlocks,
                Severity::Info,
                name,
                format!(
                    "with --egress strict, {} {} blocked {because}. {why}",
                    what.join(" and "),
                    if what.len() > 1 { "are" } else { "is" }
                ),
            );
        }
        let has_updates = roles.iter().any(|m| {
            products[m.product].id == COMMON_PRODUCT
                && products[m.product].roles[m.role]
                    .id
                    .starts_with(super::super::UPDATES_PREFIX)
        });
        if !topology.os_updates && !has_updates && catalog.product(COMMON_PRODUCT).is_some() {
            self.add(
                Code::StrictEgressBlocks,
                Severity::Warning,
                name,
                format!(
                    "with --egress strict, the node cannot reach its package repositories (tcp 80, 443): the topology says os_updates: false and the node does not list {COMMON_PRODUCT}/{}",
                    updates_role(node.os)
                ),
            );
        }
    }

    /// Once per topology: the package updates every node gets go to any address.
    pub(super) fn updates_to_any(&mut self, catalog: &Catalog, topology: &Topology) {
        if !topology.os_updates
            || topology.nodes.is_empty()
            || catalog.product(COMMON_PRODUCT).is_none()
        {
            return;
        }
        self.add(
            Code::UpdatesToAnyAddress,
            Severity::Info,
            None,
            format!(
                "package updates ({COMMON_PRODUCT}/updates-deb, updates-rpm, updates-windows) allow tcp 80 and 443 out to any address on every node: repositories are mirror networks and CDNs whose addresses change, and no export target keeps a host name resolving after it loads; with --egress open these rules are only comments. To narrow them, set os_updates: false and give the nodes flows to mirrors pinned as external hosts"
            ),
        );
    }
}

fn protocols(f: &Flow) -> String {
    f.protocols
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join("/")
}

fn ports(f: &Flow) -> String {
    f.ports
        .iter()
        .map(|i| match i {
            crate::catalog::PortItem::Port(p) => p.to_string(),
            crate::catalog::PortItem::Range(a, b) => format!("{a}-{b}"),
            crate::catalog::PortItem::Param(id) => format!("<{id}>"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
