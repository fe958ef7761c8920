//! Machine-readable reports: the JSON interface of `fwtopo catalog --json` and `fwtopo rules --json`.
//!
//! Field names are an interface for scripts and `jq`: add fields, never rename or remove them.

use crate::catalog::{Catalog, Endpoint, Flow, ParamKind, PortItem, Product, Role};
use crate::engine::{FlowRef, NodePlan, Plan, Rule};
use crate::ports::{PortRange, PortSet};
use crate::topology::Topology;
use crate::topology::ownership::Ownership;
use serde::Serialize;

#[derive(Serialize)]
pub struct CatalogReport<'c> {
    pub products: Vec<ProductReport<'c>>,
}

#[derive(Serialize)]
pub struct ProductReport<'c> {
    pub id: &'c str,
    pub name: &'c str,
    pub vendor: &'c str,
    pub document: DocumentReport<'c>,
    pub roles: Vec<RoleReport<'c>>,
}

#[derive(Serialize)]
pub struct DocumentReport<'c> {
    pub id: &'c str,
    pub title: &'c str,
    pub url: &'c str,
}

#[derive(Serialize)]
pub struct RoleReport<'c> {
    pub id: &'c str,
    pub name: &'c str,
    pub platform: &'static str,
    pub groups: &'c [String],
    pub parameters: Vec<ParameterReport<'c>>,
    pub flows: Vec<FlowReport<'c>>,
}

#[derive(Serialize)]
pub struct ParameterReport<'c> {
    pub id: &'c str,
    pub name: &'c str,
    pub kind: &'static str,
    /// The default as the topology file spells it (`8470`, `1024-65535`, `on`); empty when required.
    pub default: String,
    /// The help: what the value is for and when to change it.
    pub description: &'c str,
}

/// One flow on one protocol, as seen from a role of the product.
#[derive(Serialize)]
pub struct FlowReport<'c> {
    pub id: &'c str,
    pub protocol: &'static str,
    /// Ports with parameter defaults filled in: `25`, `8352-8364`, `80,443`.
    pub ports: String,
    /// Parameters the ports or the switch come from.
    pub parameters: Vec<&'c str>,
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub service: &'c str,
    pub tags: Vec<&'static str>,
    pub when: Option<&'c str>,
    pub note: &'c str,
    pub source: SourceReport<'c>,
}

#[derive(Serialize)]
pub struct SourceReport<'c> {
    pub document: &'c str,
    pub section: &'c str,
    pub origin: &'static str,
}

/// The catalog, or one product of it, as JSON values.
pub fn catalog<'c>(catalog: &'c Catalog, only: Option<&str>) -> CatalogReport<'c> {
    let products = catalog
        .products()
        .iter()
        .filter(|p| only.is_none_or(|id| p.id == id))
        .map(|p| ProductReport {
            id: &p.id,
            name: &p.name,
            vendor: &p.vendor,
            document: DocumentReport {
                id: &p.document.id,
                title: &p.document.title,
                url: &p.document.url,
            },
            roles: p.roles.iter().map(|r| role(p, r)).collect(),
        })
        .collect();
    CatalogReport { products }
}

fn role<'c>(p: &'c Product, r: &'c Role) -> RoleReport<'c> {
    RoleReport {
        id: &r.id,
        name: &r.name,
        platform: match r.platform {
            crate::catalog::Platform::Any => "any",
            crate::catalog::Platform::Linux => "linux",
            crate::catalog::Platform::Windows => "windows",
        },
        groups: &r.groups,
        parameters: r
            .parameters
            .iter()
            .map(|x| {
                let (kind, default) = param_default(&x.kind);
                ParameterReport {
                    id: &x.id,
                    name: &x.name,
                    kind,
                    default,
                    description: &x.description,
                }
            })
            .collect(),
        flows: p.flows_of(r).flat_map(|f| flow(p, f)).collect(),
    }
}

fn param_default(kind: &ParamKind) -> (&'static str, String) {
    match kind {
        ParamKind::Port { default } => ("port", default.to_string()),
        ParamKind::PortRange { default } => ("port-range", format!("{}-{}", default.0, default.1)),
        ParamKind::Dynamic { fallback } => ("dynamic", format!("{}-{}", fallback.0, fallback.1)),
        ParamKind::Required => ("required", String::new()),
        ParamKind::Switch { default } => {
            ("switch", if *default { "on" } else { "off" }.to_string())
        }
    }
}

/// A flow's ports with every parameter at its default (a dynamic port at its fallback range).
pub fn default_ports(p: &Product, f: &Flow) -> PortSet {
    let ranges = f.ports.iter().filter_map(|item| match item {
        PortItem::Port(n) => PortRange::single(*n),
        PortItem::Range(a, b) => PortRange::new(*a, *b),
        PortItem::Param(id) => match p.parameter(id).map(|(_, x)| &x.kind) {
            Some(ParamKind::Port { default }) => PortRange::single(*default),
            Some(ParamKind::PortRange { default })
            | Some(ParamKind::Dynamic { fallback: default }) => {
                PortRange::new(default.0, default.1)
            }
            _ => None,
        },
    });
    PortSet::from_ranges(ranges.collect())
}

/// How an endpoint reads in reports: `role:mn`, `zone:admin`, `any`, `localhost`, `dns:name`, CIDRs.
pub fn endpoint(e: &Endpoint) -> String {
    match e {
        Endpoint::Role(id) => format!("role:{id}"),
        Endpoint::Zone(z) => format!("zone:{z}"),
        Endpoint::Any => "any".into(),
        Endpoint::Localhost => "localhost".into(),
        Endpoint::Dns(n) => format!("dns:{n}"),
        Endpoint::Cidrs(v) => v.join(","),
    }
}

fn flow<'c>(p: &'c Product, f: &'c Flow) -> Vec<FlowReport<'c>> {
    let ports = default_ports(p, f).join("-");
    let parameters: Vec<&str> = f
        .ports
        .iter()
        .filter_map(|i| match i {
            PortItem::Param(id) => Some(id.as_str()),
            _ => None,
        })
        .chain(f.when.as_deref())
        .collect();
    f.protocols
        .iter()
        .map(|proto| FlowReport {
            id: &f.id,
            protocol: proto.as_str(),
            ports: ports.clone(),
            parameters: parameters.clone(),
            from: f.from.iter().map(endpoint).collect(),
            to: f.to.iter().map(endpoint).collect(),
            service: &f.service,
            tags: f.tags.iter().map(|t| t.as_str()).collect(),
            when: f.when.as_deref(),
            note: &f.note,
            source: SourceReport {
                document: &p.document.id,
                section: &f.source.section,
                origin: f.source.origin.as_str(),
            },
        })
        .collect()
}

/// The plan as JSON: `{ topology, nodes, findings }`. Each node's report is built as it is
/// written and dropped after, so the report of a 10,000-node site never exists whole in memory.
pub struct RulesReport<'a> {
    catalog: &'a Catalog,
    topology: &'a Topology,
    plan: &'a Plan,
    only: Option<&'a str>,
    /// The topology file as the user named it, for the source of custom flows.
    file: Option<&'a str>,
}

impl<'a> RulesReport<'a> {
    /// Names the topology file the report's custom flows come from.
    pub fn from_file(mut self, file: &'a str) -> Self {
        self.file = Some(file);
        self
    }
}

impl Serialize for RulesReport<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let only = self.only;
        let mut st = serializer.serialize_struct("RulesReport", 4)?;
        st.serialize_field("topology", &self.topology.name)?;
        // Rules labelled `site/...` come from the topology's own custom section.
        if !self.topology.custom.is_empty() {
            st.serialize_field(
                "custom_source",
                &format!(
                    "{}/...: the custom section of {}",
                    crate::topology::custom::PRODUCT,
                    self.file.unwrap_or("the topology file")
                ),
            )?;
        }
        st.serialize_field(
            "nodes",
            &Lazy(|| {
                self.plan
                    .nodes
                    .iter()
                    .filter(move |n| only.is_none_or(|name| n.name == name))
                    .map(|n| node(self.catalog, self.topology, n))
            }),
        )?;
        st.serialize_field(
            "findings",
            &Lazy(|| {
                self.plan
                    .findings
                    .iter()
                    .filter(move |f| {
                        only.is_none_or(|name| f.node.as_deref().is_none_or(|n| n == name))
                    })
                    .map(|f| FindingReport {
                        code: f.code.id(),
                        slug: f.code.slug(),
                        severity: f.severity.as_str(),
                        node: f.node.clone(),
                        message: f.message.to_string(),
                    })
            }),
        )?;
        st.end()
    }
}

/// A JSON array whose items are made one at a time while it is written.
struct Lazy<F>(F);

impl<F, I> Serialize for Lazy<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq((self.0)())
    }
}

#[derive(Serialize)]
pub struct NodeReport {
    pub name: String,
    pub os: &'static str,
    pub addresses: Vec<String>,
    pub roles: Vec<String>,
    /// Who asked for the node and until when; absent when nothing is said.
    #[serde(skip_serializing_if = "Ownership::is_empty")]
    pub ownership: Ownership,
    pub inbound: Vec<RuleReport>,
    pub outbound: Vec<RuleReport>,
    pub local_only: Vec<LocalReport>,
}

#[derive(Serialize)]
pub struct RuleReport {
    pub protocol: &'static str,
    pub ports: Vec<String>,
    pub peers: Vec<String>,
    pub services: Vec<String>,
    pub tags: Vec<&'static str>,
    /// `product/role/flow` of every flow behind the rule.
    pub provenance: Vec<String>,
    /// Who asked for the custom flows and roles behind the rule, and until when; absent when
    /// none says.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ownership: Vec<Requested>,
}

/// The owner, ticket, reason and expiry of a custom flow or role behind a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requested {
    /// `product/role/flow` of the flow behind the rule.
    pub provenance: String,
    /// `flow site/<id>` or `role site/<id>`: what says it.
    pub of: String,
    #[serde(flatten)]
    pub ownership: Ownership,
}

/// Who asked for the flows behind rules (their custom flows', then their custom roles'
/// ownership), once each, in the order of `provenance`.
pub fn requested<'a>(
    catalog: &Catalog,
    provenance: impl IntoIterator<Item = &'a FlowRef>,
) -> Vec<Requested> {
    let mut out: Vec<Requested> = Vec::new();
    for f in provenance {
        let product = f.product(catalog);
        let flow = f.flow(catalog);
        let role = &product.roles[f.role];
        for (of, o) in [
            (format!("flow {}/{}", product.id, flow.id), &flow.ownership),
            (format!("role {}/{}", product.id, role.id), &role.ownership),
        ] {
            if let Some(o) = o
                && !out.iter().any(|r| r.of == of)
            {
                out.push(Requested {
                    provenance: f.label(catalog),
                    of,
                    ownership: (**o).clone(),
                });
            }
        }
    }
    out
}

#[derive(Serialize)]
pub struct LocalReport {
    pub protocol: &'static str,
    pub ports: Vec<String>,
    pub service: String,
    pub provenance: String,
}

#[derive(Serialize)]
pub struct FindingReport {
    pub code: &'static str,
    pub slug: &'static str,
    pub severity: &'static str,
    pub node: Option<String>,
    pub message: String,
}

/// The plan as JSON; `only` restricts nodes and findings to one node.
pub fn rules<'a>(
    catalog: &'a Catalog,
    topology: &'a Topology,
    plan: &'a Plan,
    only: Option<&'a str>,
) -> RulesReport<'a> {
    RulesReport {
        catalog,
        topology,
        plan,
        only,
        file: None,
    }
}

fn node(catalog: &Catalog, topology: &Topology, n: &NodePlan) -> NodeReport {
    let node = &topology.nodes[n.node];
    NodeReport {
        name: n.name.clone(),
        os: node.os.as_str(),
        addresses: node.addresses.iter().map(|a| a.to_string()).collect(),
        roles: node
            .roles
            .iter()
            .map(|r| format!("{}/{}", r.product, r.role))
            .collect(),
        ownership: node.ownership.clone(),
        inbound: n.inbound.iter().map(|r| rule(catalog, r)).collect(),
        outbound: n.outbound.iter().map(|r| rule(catalog, r)).collect(),
        local_only: n
            .local_only
            .iter()
            .map(|l| LocalReport {
                protocol: l.protocol.as_str(),
                ports: l.ports.to_strings(),
                service: l.provenance.flow(catalog).service.clone(),
                provenance: l.provenance.label(catalog),
            })
            .collect(),
    }
}

fn rule(catalog: &Catalog, r: &Rule) -> RuleReport {
    RuleReport {
        protocol: r.protocol.as_str(),
        ports: r.ports.to_strings(),
        peers: r.peers.to_strings(),
        services: r
            .services(catalog)
            .into_iter()
            .map(str::to_string)
            .collect(),
        tags: r.tags.iter().map(|t| t.as_str()).collect(),
        provenance: r.provenance.iter().map(|f| f.label(catalog)).collect(),
        ownership: requested(catalog, &r.provenance),
    }
}
