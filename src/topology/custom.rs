//! Roles and flows of the operator's own, carried in the topology file (`custom: (roles, flows)`).
//!
//! They are catalog data that travels with the site: [`site_catalog`] loads them into the same
//! [`Catalog`] as product [`PRODUCT`], whose source is the topology, so the engine, the findings
//! and every exporter treat them exactly like a vendor's flows. A custom flow's endpoints may name
//! catalog roles (`plesk-automation/sn-apache`) and every node; those become stand-in roles of the
//! product ([`StandIn`]) that the engine fills with the nodes they name.

use super::file::{Problem, check_name};
use super::ownership::Ownership;
use super::{ExternalHost, Topology, Zone};
use crate::catalog::{
    Catalog, Document, Endpoint, Flow, Origin, ParamKind, Parameter, PortItem, Product, Role,
    Source, StandIn, Tag, is_dns_name, is_id,
};
use crate::date::Date;
use crate::ports::{PortRange, Protocol};
use crate::user_text::{check_line, check_text, double_quoted, quoted};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The product id under which a topology's own roles are assigned: `(product: "site", role: …)`.
pub const PRODUCT: &str = "site";

/// The stand-in role id for "every node" (no custom role id can be it: ids are kebab-case).
pub const EVERY_NODE: &str = "*";

/// What the catalog origin of the topology's own product says.
pub const ORIGIN: &str = "this topology file";

/// The `custom` section: roles of the site's own and the flows between them and everything else.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Custom {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<CustomRole>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<CustomFlow>,
}

impl Custom {
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.flows.is_empty()
    }
}

/// The owner, ticket, reason and expiry date of a custom role or flow, as one value.
fn ownership_of(owner: &str, ticket: &str, reason: &str, expires: Option<Date>) -> Ownership {
    Ownership {
        owner: owner.to_string(),
        ticket: ticket.to_string(),
        reason: reason.to_string(),
        expires,
    }
}

impl CustomRole {
    pub fn ownership(&self) -> Ownership {
        ownership_of(&self.owner, &self.ticket, &self.reason, self.expires)
    }
}

impl CustomFlow {
    pub fn ownership(&self) -> Ownership {
        ownership_of(&self.owner, &self.ticket, &self.reason, self.expires)
    }
}

/// The ownership a catalog role or flow carries: none when nothing is set.
fn carried(o: Ownership) -> Option<Box<Ownership>> {
    (!o.is_empty()).then(|| Box::new(o))
}

/// A role of the site's own ("monitoring server"), assigned to nodes as `site/<id>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRole {
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Values a node may set on the role, as in the catalog (an altered port, a switch).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    /// Who asked for it ([`Ownership`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub owner: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ticket: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// The first day it is no longer wanted: `check` warns from then, and after the topology's
    /// grace period reports an error.
    #[serde(
        default,
        with = "super::ownership::expires",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires: Option<Date>,
}

/// "protocol/ports from A to B", in the catalog's shape, without a document: the topology is its
/// source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomFlow {
    pub id: String,
    pub service: String,
    pub protocols: Vec<Protocol>,
    pub ports: Vec<PortItem>,
    pub from: Vec<CustomEndpoint>,
    pub to: Vec<CustomEndpoint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// A switch parameter of an endpoint role that turns the flow on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Who asked for it ([`Ownership`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub owner: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ticket: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// The first day it is no longer wanted: `check` warns from then, and after the topology's
    /// grace period reports an error.
    #[serde(
        default,
        with = "super::ownership::expires",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires: Option<Date>,
}

/// One side of a custom flow.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CustomEndpoint {
    /// A custom role (`monitoring`), or a catalog role or group as `product/role`.
    Role(String),
    /// Every node of the topology.
    EveryNode,
    /// A zone the topology defines.
    Zone(String),
    /// Any address.
    Any,
    /// An external host the topology lists (its pinned addresses, else its name).
    Host(String),
    /// Any host known by DNS name.
    Dns(String),
}

impl CustomEndpoint {
    /// How the endpoint reads in lists: `role:monitoring`, `every node`, `zone:admin`, ….
    pub fn describe(&self) -> String {
        match self {
            CustomEndpoint::Role(r) => format!("role:{r}"),
            CustomEndpoint::EveryNode => "every node".into(),
            CustomEndpoint::Zone(z) => format!("zone:{z}"),
            CustomEndpoint::Any => "any".into(),
            CustomEndpoint::Host(h) => format!("host:{h}"),
            CustomEndpoint::Dns(d) => format!("dns:{d}"),
        }
    }

    /// Whether nodes play this side (a role or every node), so they get rules from it.
    fn is_nodes(&self) -> bool {
        matches!(self, CustomEndpoint::Role(_) | CustomEndpoint::EveryNode)
    }
}

/// Checks a custom section against the rest of the file (zones, external hosts); the catalog
/// roles it names are checked by [`check`]. Problems name the role or flow and the field.
pub(super) fn check_section(
    c: &Custom,
    zones: &[Zone],
    hosts: &[ExternalHost],
    push: &mut impl FnMut(String, String),
) {
    let mut role_ids = HashSet::new();
    let mut params: Vec<(&str, &ParamKind, &str)> = Vec::new();
    for (i, r) in c.roles.iter().enumerate() {
        let at = format!("custom.roles[{i}] {}", double_quoted(&r.id));
        if let Err(m) = check_line(&r.id) {
            push(format!("{at}: id"), m);
        } else if !is_id(&r.id) {
            push(
                format!("{at}: id"),
                format!(
                    "{} must be lowercase letters, digits, '-' and '_', starting with a letter",
                    quoted(&r.id)
                ),
            );
        } else if !role_ids.insert(r.id.as_str()) {
            push(
                format!("{at}: id"),
                format!("duplicate role {}", quoted(&r.id)),
            );
        }
        if let Err(m) = check_line(&r.name) {
            push(format!("{at}: name"), m);
        }
        if let Err(m) = check_text(&r.description) {
            push(format!("{at}: description"), m);
        }
        r.ownership().check(&at, push);
        for (j, p) in r.parameters.iter().enumerate() {
            let here = format!("{at}: parameters[{j}]");
            if let Err(m) = check_name(&p.id) {
                push(format!("{here}.id"), m);
            } else if params.iter().any(|(id, _, _)| *id == p.id) {
                push(
                    format!("{here}.id"),
                    format!("parameter {} is declared twice", quoted(&p.id)),
                );
            } else {
                params.push((&p.id, &p.kind, &r.id));
            }
            if let Err(m) = check_line(&p.name) {
                push(format!("{here}.name"), m);
            }
            if let Err(m) = check_text(&p.description) {
                push(format!("{here}.description"), m);
            }
            let bad = match p.kind {
                ParamKind::Port { default } => PortRange::single(default).is_none(),
                ParamKind::PortRange { default: (a, b) }
                | ParamKind::Dynamic { fallback: (a, b) } => PortRange::new(a, b).is_none(),
                ParamKind::Required | ParamKind::Switch { .. } => false,
            };
            if bad {
                push(
                    format!("{here}.kind"),
                    "the default port must be 1-65535 (a range low to high)".into(),
                );
            }
        }
    }
    let mut flow_ids = HashSet::new();
    for (i, f) in c.flows.iter().enumerate() {
        let at = format!("custom.flows[{i}] {}", double_quoted(&f.id));
        if let Err(m) = check_line(&f.id) {
            push(format!("{at}: id"), m);
        } else if !is_id(&f.id) {
            push(
                format!("{at}: id"),
                format!(
                    "{} must be lowercase letters, digits, '-' and '_', starting with a letter",
                    quoted(&f.id)
                ),
            );
        } else if !flow_ids.insert(f.id.as_str()) {
            push(
                format!("{at}: id"),
                format!("duplicate flow {}", quoted(&f.id)),
            );
        }
        match check_line(&f.service) {
            Err(m) => push(format!("{at}: service"), m),
            Ok(()) if f.service.trim().is_empty() => push(
                format!("{at}: service"),
                "is empty: say what the port is for".into(),
            ),
            Ok(()) => {}
        }
        if let Err(m) = check_text(&f.note) {
            push(format!("{at}: note"), m);
        }
        f.ownership().check(&at, push);
        if f.protocols.is_empty() {
            push(
                format!("{at}: protocols"),
                "is empty: tcp, udp or both".into(),
            );
        }
        for (side, eps) in [("from", &f.from), ("to", &f.to)] {
            if eps.is_empty() {
                push(format!("{at}: {side}"), "is empty".into());
            }
            for (j, e) in eps.iter().enumerate() {
                if let Some(m) = endpoint_problem(e, &role_ids, zones, hosts) {
                    push(format!("{at}: {side}[{j}]"), m);
                }
            }
        }
        if !f.from.iter().chain(&f.to).any(CustomEndpoint::is_nodes) {
            push(
                format!("{at}: from"),
                "neither side is a role or EveryNode: no node would get a rule".into(),
            );
        }
        // Parameters belong to the custom roles the flow names, as in the catalog.
        let endpoint_role = |role: &str| {
            f.from
                .iter()
                .chain(&f.to)
                .any(|e| matches!(e, CustomEndpoint::Role(r) if r == role))
        };
        if f.ports.is_empty() {
            push(format!("{at}: ports"), "is empty".into());
        }
        for (j, item) in f.ports.iter().enumerate() {
            let here = format!("{at}: ports[{j}]");
            match item {
                PortItem::Port(0) => push(here, "port 0 is not a port".into()),
                PortItem::Range(a, b) if PortRange::new(*a, *b).is_none() => {
                    push(here, format!("bad range {a}-{b}: 1-65535, low to high"))
                }
                PortItem::Param(id) => match params.iter().find(|(p, _, _)| p == id) {
                    None => push(here, format!("unknown parameter {}", quoted(id))),
                    Some((_, ParamKind::Switch { .. }, _)) => push(
                        here,
                        format!("parameter {} is a switch, not a port", quoted(id)),
                    ),
                    Some((_, _, role)) if !endpoint_role(role) => push(
                        here,
                        format!(
                            "parameter {} belongs to role {}, which the flow does not name",
                            quoted(id),
                            quoted(role)
                        ),
                    ),
                    Some(_) => {}
                },
                _ => {}
            }
        }
        if let Some(w) = &f.when {
            match params.iter().find(|(p, _, _)| p == w) {
                Some((_, ParamKind::Switch { .. }, role)) if endpoint_role(role) => {}
                Some(_) => push(
                    format!("{at}: when"),
                    format!("{} must be a switch of a role the flow names", quoted(w)),
                ),
                None => push(
                    format!("{at}: when"),
                    format!("unknown switch {}", quoted(w)),
                ),
            }
        }
    }
}

/// What is wrong with an endpoint, if anything (catalog roles are checked with the catalog).
fn endpoint_problem(
    e: &CustomEndpoint,
    roles: &HashSet<&str>,
    zones: &[Zone],
    hosts: &[ExternalHost],
) -> Option<String> {
    let line = |s: &str| check_line(s).err();
    match e {
        CustomEndpoint::Role(r) => line(r).or_else(|| match r.split_once('/') {
            Some((p, role)) => check_name(p)
                .and_then(|()| check_name(role))
                .err()
                .or_else(|| {
                    (p == PRODUCT).then(|| {
                        format!(
                            "name the site's own roles without {PRODUCT}/: {}",
                            quoted(role)
                        )
                    })
                }),
            None if roles.contains(r.as_str()) => None,
            None => Some(format!(
                "unknown role {} (custom roles: {}; a catalog role is product/role)",
                quoted(r),
                if roles.is_empty() {
                    "none".to_string()
                } else {
                    let mut v: Vec<&str> = roles.iter().copied().collect();
                    v.sort_unstable();
                    v.join(", ")
                }
            )),
        }),
        CustomEndpoint::Zone(z) => line(z).or_else(|| {
            (!zones.iter().any(|x| x.name == *z)).then(|| {
                let known: Vec<&str> = zones.iter().map(|x| x.name.as_str()).collect();
                format!("unknown zone {} (zones: {})", quoted(z), known.join(", "))
            })
        }),
        CustomEndpoint::Host(h) => line(h).or_else(|| {
            (!hosts.iter().any(|x| x.name.eq_ignore_ascii_case(h))).then(|| {
                format!(
                    "unknown external host {} (list it in external_hosts, or use Dns)",
                    quoted(h)
                )
            })
        }),
        CustomEndpoint::Dns(d) => line(d)
            .or_else(|| (!is_dns_name(d)).then(|| format!("{} is not a DNS name", quoted(d)))),
        CustomEndpoint::Any | CustomEndpoint::EveryNode => None,
    }
}

/// The problems of custom flows that need the catalog: every `product/role` names a catalog role
/// or group.
pub(super) fn check_catalog_roles(t: &Topology, catalog: &Catalog, problems: &mut Vec<Problem>) {
    for (i, f) in t.custom.flows.iter().enumerate() {
        let at = format!("custom.flows[{i}] {}", double_quoted(&f.id));
        for (side, eps) in [("from", &f.from), ("to", &f.to)] {
            for (j, e) in eps.iter().enumerate() {
                let CustomEndpoint::Role(r) = e else { continue };
                let Some((p, role)) = r.split_once('/') else {
                    continue;
                };
                let message = match catalog.product(p).filter(|_| p != PRODUCT) {
                    None => format!("{}: unknown product {}", quoted(r), quoted(p)),
                    Some(prod) if prod.roles.iter().any(|x| prod.role_matches(x, role)) => {
                        continue;
                    }
                    Some(prod) => {
                        let known: Vec<&str> = prod.roles.iter().map(|x| x.id.as_str()).collect();
                        format!(
                            "{}: unknown role {} of {} (known: {})",
                            quoted(r),
                            quoted(role),
                            prod.id,
                            known.join(", ")
                        )
                    }
                };
                problems.push(Problem {
                    path: format!("{at}: {side}[{j}]"),
                    message,
                });
            }
        }
    }
}

/// The catalog a topology is derived with: `base`, plus the topology's own product when it has a
/// custom section. Everything that reads a plan's provenance takes this catalog.
pub fn site_catalog(base: &Catalog, t: &Topology) -> Catalog {
    let mut catalog = base.clone();
    if !t.custom.is_empty() {
        catalog.insert(ORIGIN.to_string(), product(&t.custom));
    }
    catalog
}

/// The custom section as a catalog product: its roles, a stand-in role per catalog role and for
/// every node that a flow names, and its flows with the topology as their source.
pub fn product(c: &Custom) -> Product {
    let mut roles: Vec<Role> = c
        .roles
        .iter()
        .map(|r| Role {
            id: r.id.clone(),
            name: if r.name.is_empty() {
                r.id.clone()
            } else {
                r.name.clone()
            },
            description: r.description.clone(),
            groups: Vec::new(),
            platform: Default::default(),
            parameters: r.parameters.clone(),
            stands_for: None,
            ownership: carried(r.ownership()),
        })
        .collect();
    let endpoint = |e: &CustomEndpoint, roles: &mut Vec<Role>| -> Endpoint {
        let stand_in = |id: &str, name: String, s: StandIn, roles: &mut Vec<Role>| {
            if !roles.iter().any(|r| r.id == id) {
                roles.push(Role {
                    id: id.to_string(),
                    name,
                    description: String::new(),
                    groups: Vec::new(),
                    platform: Default::default(),
                    parameters: Vec::new(),
                    stands_for: Some(s),
                    ownership: None,
                });
            }
            Endpoint::Role(id.to_string())
        };
        match e {
            CustomEndpoint::Role(r) => match r.split_once('/') {
                Some((p, role)) => stand_in(
                    r,
                    format!("every node playing {r}"),
                    StandIn::Role {
                        product: p.to_string(),
                        role: role.to_string(),
                    },
                    roles,
                ),
                None => Endpoint::Role(r.clone()),
            },
            CustomEndpoint::EveryNode => {
                stand_in(EVERY_NODE, "every node".into(), StandIn::EveryNode, roles)
            }
            CustomEndpoint::Zone(z) => Endpoint::Zone(z.clone()),
            CustomEndpoint::Any => Endpoint::Any,
            CustomEndpoint::Host(h) | CustomEndpoint::Dns(h) => Endpoint::Dns(h.clone()),
        }
    };
    let mut flows = Vec::with_capacity(c.flows.len());
    for f in &c.flows {
        let from = f.from.iter().map(|e| endpoint(e, &mut roles)).collect();
        let to = f.to.iter().map(|e| endpoint(e, &mut roles)).collect();
        flows.push(Flow {
            id: f.id.clone(),
            service: f.service.clone(),
            protocols: f.protocols.clone(),
            ports: f.ports.clone(),
            from,
            to,
            tags: f.tags.clone(),
            when: f.when.clone(),
            note: f.note.clone(),
            source: Source {
                origin: Origin::Topology,
                section: format!("custom flow {}", f.id),
            },
            ownership: carried(f.ownership()),
        });
    }
    Product {
        id: PRODUCT.to_string(),
        name: "Custom roles of this topology".into(),
        vendor: "the operator".into(),
        document: Document {
            id: "topology".into(),
            title: "the topology file's custom section".into(),
            url: String::new(),
        },
        description: String::new(),
        groups: Vec::new(),
        roles,
        flows,
    }
}

#[cfg(test)]
mod tests {
    use crate::topology::{LoadError, from_ron, from_ron_in_parts, to_ron};

    const SITE: &str = r#"(
        version: 1,
        zones: [(name: "admin", cidrs: ["198.51.100.0/28"])],
        nodes: [
            (name: "mon", os: "debian", addresses: ["203.0.113.30"], roles: [(product: "site", role: "monitoring")]),
        ],
        external_hosts: [(name: "relay.example.net", addresses: ["192.0.2.25"])],
        custom: (
            roles: [
                (id: "monitoring", name: "Zabbix server", parameters: [
                    (id: "agent_port", name: "agent port", kind: Port(default: 10050)),
                    (id: "smtp", name: "alert mail", kind: Switch(default: true)),
                ]),
            ],
            flows: [
                (id: "agent", service: "Zabbix agent", protocols: [tcp], ports: [Param("agent_port")],
                 from: [Role("monitoring")], to: [EveryNode], tags: [optional], note: "passive checks"),
                (id: "mail", service: "alert mail", protocols: [tcp], ports: [Port(25), Range(587, 588)],
                 from: [Role("monitoring")], to: [Host("relay.example.net"), Dns("mx.example.org")], when: Some("smtp")),
                (id: "web", service: "web UI", protocols: [tcp, udp], ports: [Port(443)],
                 from: [Zone("admin"), Any], to: [Role("monitoring"), Role("cpanel-whm/server")]),
            ],
        ),
    )"#;

    /// The problems of a text, as lines.
    fn problems(text: &str) -> Vec<String> {
        match from_ron(text) {
            Err(LoadError::Invalid(p)) => p.iter().map(ToString::to_string).collect(),
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn a_custom_section_loads_and_round_trips() {
        let t = from_ron(SITE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.custom.roles.len(), 1);
        assert_eq!(t.custom.flows.len(), 3);
        assert_eq!(t.custom.roles[0].parameters.len(), 2);
        let text = to_ron(&t);
        assert!(text.contains("custom: ("), "{text}");
        assert!(
            text.contains("to: [\n                    EveryNode,"),
            "{text}"
        );
        let again = from_ron(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(t, again);
        assert_eq!(text, to_ron(&again));
        // A topology without custom roles writes no section.
        let mut plain = t;
        plain.custom = Default::default();
        assert!(!to_ron(&plain).contains("custom"));
    }

    #[test]
    fn the_parallel_parser_reads_the_custom_section_as_the_whole_parse_does() {
        let mut t = from_ron(SITE).unwrap_or_else(|e| panic!("{e}"));
        let first = t.nodes[0].clone();
        t.nodes = (0..40)
            .map(|i| {
                let mut n = first.clone();
                n.name = format!("n{i}");
                n
            })
            .collect();
        let text = to_ron(&t);
        for parts in 1..=6 {
            assert_eq!(
                from_ron_in_parts(&text, parts),
                Ok(t.clone()),
                "{parts} parts"
            );
        }
        let bad = text.replacen("Port(25)", "Port(0)", 1);
        let whole = from_ron_in_parts(&bad, 1);
        assert!(matches!(whole, Err(LoadError::Invalid(_))), "{whole:?}");
        for parts in 2..=6 {
            assert_eq!(from_ron_in_parts(&bad, parts), whole, "{parts} parts");
        }
    }

    #[test]
    fn errors_name_the_role_or_flow_and_the_field() {
        for (from, to, want) in [
            (
                "to: [Role(\"monitoring\"), Role(\"cpanel",
                "to: [Role(\"monitor\"), Role(\"cpanel",
                "custom.flows[2] \"web\": to[0]: unknown role 'monitor' (custom roles: monitoring; a catalog role is product/role)",
            ),
            (
                "Zone(\"admin\"), Any",
                "Zone(\"admins\"), Any",
                "custom.flows[2] \"web\": from[0]: unknown zone 'admins' (zones: admin)",
            ),
            (
                "Host(\"relay.example.net\")",
                "Host(\"relay.example.com\")",
                "custom.flows[1] \"mail\": to[0]: unknown external host 'relay.example.com'",
            ),
            (
                "Dns(\"mx.example.org\")",
                "Dns(\"mx example\")",
                "custom.flows[1] \"mail\": to[1]: 'mx example' is not a DNS name",
            ),
            (
                "Port(25)",
                "Port(0)",
                "custom.flows[1] \"mail\": ports[0]: port 0 is not a port",
            ),
            (
                "Range(587, 588)",
                "Range(588, 587)",
                "custom.flows[1] \"mail\": ports[1]: bad range 588-587",
            ),
            (
                "Param(\"agent_port\")",
                "Param(\"agent\")",
                "custom.flows[0] \"agent\": ports[0]: unknown parameter 'agent'",
            ),
            (
                "Param(\"agent_port\")",
                "Param(\"smtp\")",
                "custom.flows[0] \"agent\": ports[0]: parameter 'smtp' is a switch, not a port",
            ),
            (
                "when: Some(\"smtp\")",
                "when: Some(\"agent_port\")",
                "custom.flows[1] \"mail\": when: 'agent_port' must be a switch",
            ),
            (
                "(id: \"web\"",
                "(id: \"agent\"",
                "custom.flows[2] \"agent\": id: duplicate flow 'agent'",
            ),
            (
                "service: \"web UI\"",
                "service: \"web\\u{1b}[2J UI\"",
                "custom.flows[2] \"web\": service: ",
            ),
            (
                "note: \"passive checks\"",
                "note: \"passive\\u{202E} checks\"",
                "custom.flows[0] \"agent\": note: ",
            ),
            (
                "roles: [\n",
                "roles: [\n(id: \"Bad Role\"),\n",
                "custom.roles[0] \"Bad Role\": id: 'Bad Role' must be lowercase",
            ),
            (
                "Role(\"cpanel-whm/server\")",
                "Role(\"site/monitoring\")",
                "custom.flows[2] \"web\": to[1]: name the site's own roles without site/",
            ),
            (
                "from: [Zone(\"admin\"), Any], to: [Role(\"monitoring\"), Role(\"cpanel-whm/server\")]",
                "from: [Zone(\"admin\"), Any], to: [Any]",
                "custom.flows[2] \"web\": from: neither side is a role or EveryNode",
            ),
            (
                "protocols: [tcp, udp]",
                "protocols: []",
                "custom.flows[2] \"web\": protocols: is empty",
            ),
        ] {
            assert!(SITE.contains(from), "{from}");
            let all = problems(&SITE.replacen(from, to, 1));
            assert!(
                all.iter().any(|p| p.starts_with(want)),
                "{to}: want {want}, got {all:?}"
            );
            // Nothing else is reported: the problem is named once, where it is.
            assert_eq!(all.len(), 1, "{to}: {all:?}");
        }
        // A role given twice.
        let twice = SITE.replacen("roles: [\n", "roles: [\n(id: \"monitoring\"),\n", 1);
        let all = problems(&twice);
        assert!(
            all.iter().any(|p| p
                .starts_with("custom.roles[1] \"monitoring\": id: duplicate role 'monitoring'")),
            "{all:?}"
        );
    }

    #[test]
    fn unknown_fields_and_endpoints_are_syntax_errors_with_a_position() {
        let bad = SITE.replacen("to: [EveryNode]", "to: [AllNodes]", 1);
        match from_ron(&bad) {
            Err(LoadError::Syntax { line, .. }) => assert_eq!(line, 17),
            other => panic!("{other:?}"),
        }
        let bad = SITE.replacen("tags: [optional]", "tag: [optional]", 1);
        assert!(matches!(from_ron(&bad), Err(LoadError::Syntax { .. })));
    }
}
