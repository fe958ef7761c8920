//! The catalog's data model, exactly as `assets/catalog/<product>.ron` spells it.
//!
//! A vendor document describes *flows* ("port 8472 from MGMT and CAS to IH"); the catalog keeps them in
//! that form, once, and the engine derives both ends. Every flow carries where it came from so every
//! emitted port can be traced back to a document and section.

use crate::ports::Protocol;
use crate::topology::ownership::Ownership;
use serde::{Deserialize, Serialize};

/// One vendor product, from one source document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// Stable id used in topology files, e.g. `plesk-automation`.
    pub id: String,
    pub name: String,
    pub vendor: String,
    /// The document this product's flows come from.
    pub document: Document,
    #[serde(default)]
    pub description: String,
    /// Named groups of roles ("any PA service node"), usable as flow endpoints.
    #[serde(default)]
    pub groups: Vec<Group>,
    pub roles: Vec<Role>,
    pub flows: Vec<Flow>,
}

/// A source document: a seed file, or a vendor page named in the reference notes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// The seed file name (`000_85d20eae7ba860e6.txt`) or another stable id.
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: String,
    pub name: String,
}

/// Which operating systems a role runs on; a mismatch is a finding, not an error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    #[default]
    Any,
    Linux,
    Windows,
}

/// What a node does for a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Group ids this role belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub platform: Platform,
    /// Values the operator may set on this role (altered ports, passive ranges, switches).
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    /// Set only on the stand-in roles of a topology's own product (never read from a catalog
    /// file): the nodes the engine counts as playing this role.
    #[serde(skip)]
    pub stands_for: Option<StandIn>,
    /// Set only on a topology's own (custom) roles: who asked for the role and until when.
    #[serde(skip)]
    pub ownership: Option<Box<Ownership>>,
}

/// Whom a stand-in role of a topology's own product names: its custom flows reach catalog roles
/// (`plesk-automation/sn-apache`) and every node through roles of their own product, so the
/// engine, findings and provenance need no second kind of endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StandIn {
    /// Every node that plays a role (or a role of a group) of a catalog product.
    Role { product: String, role: String },
    /// Every node of the topology.
    EveryNode,
}

/// A value an operator may set on a role. Flows refer to parameters by id instead of hard-coding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub kind: ParamKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParamKind {
    /// A single port with a vendor default ("default ports which may have been altered").
    Port { default: u16 },
    /// A port range with a vendor default (FTP passive range).
    PortRange { default: (u16, u16) },
    /// A port the service picks at run time unless the operator pins it. Unset, flows use
    /// `fallback` and the engine reports it.
    Dynamic { fallback: (u16, u16) },
    /// A port or range that must be set; an unset value is a topology error.
    Required,
    /// A service the operator may switch off ("only open ports for services that you use").
    Switch { default: bool },
}

impl ParamKind {
    /// How the kind and its default read, for people (the designer and `catalog --notes`).
    pub fn describe(&self) -> String {
        match self {
            ParamKind::Port { default } => format!("port, default {default}"),
            ParamKind::PortRange { default } => {
                format!("range, default {}-{}", default.0, default.1)
            }
            ParamKind::Dynamic { fallback } => format!(
                "picked at run time; unset opens {}-{}",
                fallback.0, fallback.1
            ),
            ParamKind::Required => "required".into(),
            ParamKind::Switch { default } => {
                format!("on/off, default {}", if *default { "on" } else { "off" })
            }
        }
    }
}

/// One side of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Endpoint {
    /// A role or group id of the same product.
    Role(String),
    /// A named network of the topology: `admin`, `trusted` or one the operator defines.
    Zone(String),
    /// Any IPv4 or IPv6 address.
    Any,
    /// The host itself; never a network rule.
    Localhost,
    /// An external host known only by DNS name (its addresses change).
    Dns(String),
    /// Fixed ranges a vendor publishes (CIDR strings, checked when the catalog loads).
    Cidrs(Vec<String>),
}

/// One item of a flow's port list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PortItem {
    Port(u16),
    Range(u16, u16),
    /// The value of a role parameter (port, range or dynamic port).
    Param(String),
}

/// Where a flow's facts come from: the product's document, or the reference notes beside it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The product's seed document says it.
    #[default]
    Seed,
    /// The vendor's own documentation beyond the seed (shared/reference/domain.md).
    Vendor,
    /// Reconstructed from protocol semantics; an operator should review it.
    Inferred,
    /// The topology file's own custom flows (the operator's words, no vendor document).
    Topology,
}

impl Origin {
    /// The word catalog files and reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Seed => "seed",
            Origin::Vendor => "vendor",
            Origin::Inferred => "inferred",
            Origin::Topology => "topology",
        }
    }
}

/// Traceability: the document section a flow is taken from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    #[serde(default)]
    pub origin: Origin,
    /// Section or table row of the document, e.g. `Service Node(s)`.
    pub section: String,
}

/// Labels the engine and the findings act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tag {
    /// Plaintext credentials or data.
    Insecure,
    /// Not needed by every deployment.
    Optional,
    /// Must only ever be reached on the loopback interface.
    LocalhostOnly,
    /// Meant for trusted networks only.
    TrustedOnly,
    /// The service picks its port at run time.
    DynamicPort,
    /// The document is wrong or ambiguous here; the note keeps its words.
    Errata,
    /// Only needed during setup or testing.
    Temporary,
    /// Management access to the host itself (SSH, RDP, WinRM).
    Management,
    /// WinRM with Basic authentication over plain HTTP.
    WinrmBasicHttp,
    /// An outbound flow a role may need: while its switch is off, `check` says that strict egress
    /// blocks it.
    EgressNeed,
    /// A server administration interface (cPanel's WHM): meant for the admin zone.
    Administration,
}

impl Tag {
    pub fn as_str(self) -> &'static str {
        match self {
            Tag::Insecure => "insecure",
            Tag::Optional => "optional",
            Tag::LocalhostOnly => "localhost-only",
            Tag::TrustedOnly => "trusted-only",
            Tag::DynamicPort => "dynamic-port",
            Tag::Errata => "errata",
            Tag::Temporary => "temporary",
            Tag::Management => "management",
            Tag::WinrmBasicHttp => "winrm-basic-http",
            Tag::EgressNeed => "egress-need",
            Tag::Administration => "administration",
        }
    }
}

/// A vendor's statement "protocol/port from A to B", stored once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    /// Unique within the product.
    pub id: String,
    /// What the port is for, in the document's words where possible.
    pub service: String,
    pub protocols: Vec<Protocol>,
    pub ports: Vec<PortItem>,
    pub from: Vec<Endpoint>,
    pub to: Vec<Endpoint>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// A `Switch` parameter that turns this flow on or off.
    #[serde(default)]
    pub when: Option<String>,
    /// The document's own words where it is wrong or ambiguous, and why this value was chosen.
    #[serde(default)]
    pub note: String,
    pub source: Source,
    /// Set only on a topology's own (custom) flows: who asked for the flow and until when.
    #[serde(skip)]
    pub ownership: Option<Box<Ownership>>,
}

impl Flow {
    pub fn has_tag(&self, tag: Tag) -> bool {
        self.tags.contains(&tag)
    }
}
