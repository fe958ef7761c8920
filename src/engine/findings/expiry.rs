//! What the topology wanted only until some day (`expires` on a custom role, a custom flow or a
//! node) and still has: from that day a warning (FW029), and once the topology's grace period
//! (`expiry_grace_days`) has passed too an error (FW030), so export refuses it without `--force`.
//!
//! Each finding is about the nodes it opens ports on: a custom flow's, the nodes whose rules come
//! from it; a custom role's, the nodes playing it; a node's, the node. One that reaches no node is
//! about the whole topology. Today's date is a parameter: the core reads no clock.

use super::super::Plan;
use super::{Code, Finding, Severity};
use crate::catalog::Catalog;
use crate::date::Date;
use crate::topology::Topology;
use crate::topology::custom::PRODUCT;
use crate::topology::ownership::Ownership;
use std::collections::BTreeSet;

/// Adds the expiry findings as of `today`, keeping the plan's findings sorted.
pub(in crate::engine) fn add(catalog: &Catalog, topology: &Topology, today: Date, plan: &mut Plan) {
    let grace = i64::from(topology.expiry_grace_days);
    let mut found = Vec::new();
    // (days past, severity) of an expiry date, if it has passed.
    let past = |expires: Option<Date>| {
        let days = expires?.days_until(today);
        (days >= 0).then_some(days)
    };
    let mut push = |nodes: Vec<&str>, what: String, o: &Ownership, days: i64| {
        let Some(expires) = o.expires else { return };
        let (code, severity, when) = if days >= grace {
            (
                Code::ExpiredPastGrace,
                Severity::Error,
                format!(
                    "past the {grace}-day grace period; export refuses it until it is removed or renewed"
                ),
            )
        } else {
            (
                Code::Expired,
                Severity::Warning,
                format!(
                    "an error in {} days (grace period {grace} days)",
                    grace - days
                ),
            )
        };
        let who = [("owner", &o.owner), ("ticket", &o.ticket)]
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let ago = match days {
            0 => "today".to_string(),
            1 => "1 day ago".to_string(),
            n => format!("{n} days ago"),
        };
        let who = if who.is_empty() {
            String::new()
        } else {
            format!(" ({who})")
        };
        let message: std::sync::Arc<str> = format!(
            "{what}{who} expired on {expires}, {ago}: remove it, or renew its expires date; {when}"
        )
        .into();
        let mut add = |node: Option<&str>| {
            found.push(Finding {
                severity,
                node: node.map(str::to_string),
                code,
                message: message.clone(),
            })
        };
        if nodes.is_empty() {
            add(None);
        }
        for n in nodes {
            add(Some(n));
        }
    };

    for n in &topology.nodes {
        if let Some(days) = past(n.ownership.expires) {
            push(vec![&n.name], "the node".into(), &n.ownership, days);
        }
    }
    for r in &topology.custom.roles {
        let o = r.ownership();
        if let Some(days) = past(o.expires) {
            let nodes = topology
                .nodes
                .iter()
                .filter(|n| {
                    n.roles
                        .iter()
                        .any(|a| a.product == PRODUCT && a.role == r.id)
                })
                .map(|n| n.name.as_str())
                .collect();
            push(nodes, format!("custom role {PRODUCT}/{}", r.id), &o, days);
        }
    }
    let expired_flows: Vec<(usize, Ownership, i64)> = topology
        .custom
        .flows
        .iter()
        .filter_map(|f| Some((f, past(f.expires)?)))
        .filter_map(|(f, days)| {
            let p = catalog.product_index(PRODUCT)?;
            let i = catalog.products()[p]
                .flows
                .iter()
                .position(|x| x.id == f.id)?;
            Some((i, f.ownership(), days))
        })
        .collect();
    if !expired_flows.is_empty()
        && let Some(p) = catalog.product_index(PRODUCT)
    {
        let wanted: BTreeSet<usize> = expired_flows.iter().map(|(i, _, _)| *i).collect();
        // Per expired flow, the nodes with a rule (or a localhost-only port) from it.
        let mut on: Vec<Vec<&str>> = vec![Vec::new(); catalog.products()[p].flows.len()];
        for np in &plan.nodes {
            let carried: BTreeSet<usize> = np
                .rules()
                .flat_map(|r| r.provenance.iter())
                .chain(np.local_only.iter().map(|l| &l.provenance))
                .filter(|f| f.product == p && wanted.contains(&f.flow))
                .map(|f| f.flow)
                .collect();
            for i in carried {
                on[i].push(np.name.as_str());
            }
        }
        let products = catalog.products();
        for (i, o, days) in &expired_flows {
            let f = &products[p].flows[*i];
            push(
                std::mem::take(&mut on[*i]),
                format!("custom flow {PRODUCT}/{} ({})", f.id, f.service),
                o,
                *days,
            );
        }
    }
    if !found.is_empty() {
        plan.findings.extend(found);
        plan.findings.sort();
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::Catalog;
    use crate::engine::{Code, Finding, Plan, Severity, derive, derive_on};
    use crate::topology::{Topology, from_ron, site_catalog};

    const SITE: &str = r#"(
        version: 1,
        zones: [(name: "admin", cidrs: ["198.51.100.0/28"])],
        nodes: [
            (name: "mon", os: "debian", addresses: ["203.0.113.30"],
             roles: [(product: "site", role: "monitoring")]),
            (name: "web", os: "debian", addresses: ["203.0.113.31"],
             owner: "web team", expires: "2027-05-01"),
        ],
        custom: (
            roles: [
                (id: "monitoring"),
                (id: "spare", owner: "ops", expires: "2027-01-10"),
            ],
            flows: [
                (id: "ui", service: "monitor UI", protocols: [tcp], ports: [Port(8443)],
                 from: [Zone("admin")], to: [Role("monitoring")],
                 owner: "ops@example.com", ticket: "CHG-8", reason: "trial",
                 expires: "2027-02-28"),
            ],
        ),
    )"#;

    fn site(text: &str) -> (Catalog, Topology) {
        let t = from_ron(text).unwrap_or_else(|e| panic!("{e}"));
        let catalog = Catalog::embedded().unwrap_or_else(|e| panic!("{e}"));
        (site_catalog(&catalog, &t), t)
    }

    fn on(catalog: &Catalog, t: &Topology, day: &str) -> Plan {
        derive_on(catalog, t, day.parse().unwrap_or_else(|e| panic!("{e}")))
    }

    /// The expiry findings of a plan: (code, severity, node).
    fn expiry(plan: &Plan) -> Vec<(Code, Severity, Option<String>)> {
        plan.findings
            .iter()
            .filter(|f| matches!(f.code, Code::Expired | Code::ExpiredPastGrace))
            .map(|f| (f.code, f.severity, f.node.clone()))
            .collect()
    }

    fn message<'p>(plan: &'p Plan, what: &str) -> &'p Finding {
        plan.findings
            .iter()
            .find(|f| f.message.contains(what))
            .unwrap_or_else(|| panic!("no finding about {what}: {:?}", plan.findings))
    }

    #[test]
    fn a_custom_flow_is_a_warning_from_its_day_and_an_error_after_the_grace_period() {
        let (catalog, mut t) = site(SITE);
        // Only the flow's expiry is looked at here.
        t.nodes[1].ownership.expires = None;
        t.custom.roles.pop();
        let flow = |t: &Topology, day: &str| expiry(&on(&catalog, t, day));
        let mon = Some("mon".to_string());
        assert_eq!(flow(&t, "2027-02-27"), []);
        assert_eq!(
            flow(&t, "2027-02-28"),
            [(Code::Expired, Severity::Warning, mon.clone())]
        );
        // 13 days past: the last day of the 14-day grace period.
        assert_eq!(
            flow(&t, "2027-03-13"),
            [(Code::Expired, Severity::Warning, mon.clone())]
        );
        assert_eq!(
            flow(&t, "2027-03-14"),
            [(Code::ExpiredPastGrace, Severity::Error, mon.clone())]
        );
        let plan = on(&catalog, &t, "2027-03-14");
        assert!(plan.has_errors());
        // Export refuses the node carrying the flow, not the others.
        assert_eq!(plan.errors_for(&["mon"]).len(), 1);
        assert!(plan.errors_for(&["web"]).is_empty());
        let f = message(&plan, "custom flow site/ui");
        assert_eq!(
            &*f.message,
            "custom flow site/ui (monitor UI) (owner ops@example.com, ticket CHG-8) expired on 2027-02-28, 14 days ago: remove it, or renew its expires date; past the 14-day grace period; export refuses it until it is removed or renewed"
        );
        assert_eq!(f.code.id(), "FW030");
        let warned = on(&catalog, &t, "2027-03-01");
        assert!(
            message(&warned, "site/ui")
                .message
                .ends_with("1 day ago: remove it, or renew its expires date; an error in 13 days (grace period 14 days)"),
            "{:?}",
            warned.findings
        );
        // The topology's own grace period: none at all makes the day itself an error.
        t.expiry_grace_days = 0;
        assert_eq!(
            flow(&t, "2027-02-28"),
            [(Code::ExpiredPastGrace, Severity::Error, mon.clone())]
        );
        t.expiry_grace_days = 30;
        assert_eq!(
            flow(&t, "2027-03-29"),
            [(Code::Expired, Severity::Warning, mon)]
        );
        // Without a date the engine reports no expiry.
        assert_eq!(expiry(&derive(&catalog, &t)), []);
    }

    #[test]
    fn a_node_is_about_itself_and_a_role_nobody_plays_about_the_topology() {
        let (catalog, t) = site(SITE);
        let plan = on(&catalog, &t, "2027-05-20");
        assert_eq!(
            expiry(&plan),
            [
                // The role expired 130 days ago, the flow 81: errors; the node 19: an error too.
                (Code::ExpiredPastGrace, Severity::Error, None),
                (Code::ExpiredPastGrace, Severity::Error, Some("mon".into())),
                (Code::ExpiredPastGrace, Severity::Error, Some("web".into())),
            ]
        );
        let plan = on(&catalog, &t, "2027-05-02");
        let node = message(&plan, "the node");
        assert_eq!(node.node.as_deref(), Some("web"));
        assert_eq!(node.severity, Severity::Warning);
        assert!(
            node.message
                .starts_with("the node (owner web team) expired on 2027-05-01, 1 day ago"),
            "{}",
            node.message
        );
        let role = message(&plan, "custom role site/spare");
        assert_eq!(role.node, None);
        // A topology-wide error refuses every export.
        assert!(!plan.errors_for(&["web"]).is_empty());
        // The findings stay sorted: errors first.
        let mut sorted = plan.findings.clone();
        sorted.sort();
        assert_eq!(plan.findings, sorted);
    }
}
