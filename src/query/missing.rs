//! What would allow a question that is denied: the catalog's flows that carry the port, and
//! what the destination lacks to take part in them (a switch, a peer, a role).

use super::{End, Question};
use crate::catalog::{Catalog, Endpoint};
use crate::report;
use crate::topology::{ParamValue, Topology};

/// The most suggestions an answer lists.
const MAX_MISSING: usize = 8;

/// What would allow a denied question: catalog flows carrying the protocol and port towards a
/// role, and what the destination (or source) lacks to take part in them. What the destination's
/// own roles lack (a switch, a peer) comes first; roles to assign after, from the products the
/// site already uses when any of them has one.
pub(super) fn missing(catalog: &Catalog, topology: &Topology, q: &Question) -> Vec<String> {
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
