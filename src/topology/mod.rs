//! The operator's design: zones, nodes with their roles, and external hosts.
//!
//! [`Topology`] holds typed, already-checked values (addresses are addresses, names are safe); the file
//! format and its errors live in [`file`], and the checks that need the catalog in [`check`].

mod check;
pub mod comments;
pub mod custom;
pub mod file;
pub mod flow_tests;
mod networks;
mod os;
pub mod ownership;
mod parts;

pub use check::{ParamValue, check};
pub use custom::{Custom, CustomEndpoint, CustomFlow, CustomRole, site_catalog};
pub use file::{FORMAT_VERSION, LoadError, Problem, from_ron, from_ron_in_parts, to_ron};
pub use os::{Os, OsFamily};

use crate::target::Target;
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    pub name: String,
    pub description: String,
    pub zones: Vec<Zone>,
    pub nodes: Vec<Node>,
    pub external_hosts: Vec<ExternalHost>,
    /// Roles and flows of the site's own ([`custom`]).
    pub custom: Custom,
    /// What the design promises ([`flow_tests`]): checked on every derive.
    pub tests: Vec<flow_tests::FlowTest>,
    /// Whether every node gets its OS family's package-update role (common-services
    /// `updates-*`) without listing it: under `--egress strict` a node must still reach its
    /// repositories. On unless the file says `os_updates: false`.
    pub os_updates: bool,
    /// Days an expired custom role, custom flow or node is a warning (FW029) before it is an
    /// error (FW030) that stops exports ([`ownership::DEFAULT_GRACE_DAYS`] unless the file says).
    pub expiry_grace_days: u16,
}

impl Default for Topology {
    fn default() -> Self {
        Topology {
            name: String::new(),
            description: String::new(),
            zones: Vec::new(),
            nodes: Vec::new(),
            external_hosts: Vec::new(),
            custom: Custom::default(),
            tests: Vec::new(),
            os_updates: true,
            expiry_grace_days: ownership::DEFAULT_GRACE_DAYS,
        }
    }
}

/// A named network: `admin` (where operators come from), `trusted`, or one the operator defines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Zone {
    pub name: String,
    pub cidrs: Vec<IpNet>,
    pub note: String,
}

impl Zone {
    /// The network a starter's admin zone holds until the operator replaces it: a documentation
    /// range, so nothing generated points at a real host.
    pub const PLACEHOLDER_NETWORK: &'static str = "198.51.100.0/28";
    /// The note that marks a starter's admin zone as still to be filled in.
    pub const PLACEHOLDER_NOTE: &'static str =
        "where operators connect from: replace with your own networks";

    /// Whether this is still the starter's placeholder: its network and its note both untouched.
    /// A topology that chose the same documentation network with a note of its own (every
    /// example does) is deliberate.
    pub fn is_placeholder(&self) -> bool {
        self.note == Self::PLACEHOLDER_NOTE
            && self.cidrs.len() == 1
            && self.cidrs[0].to_string() == Self::PLACEHOLDER_NETWORK
    }
}

/// A server of the deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub os: Os,
    pub addresses: Vec<IpAddr>,
    pub roles: Vec<RoleAssignment>,
    /// The firewall to export for, when the OS default is not wanted.
    pub firewall: Option<Target>,
    /// Whether the built-in `host` management role (SSH, or RDP and WinRM) is added automatically.
    pub management: bool,
    pub note: String,
    /// Who asked for the node and until when.
    pub ownership: ownership::Ownership,
}

impl Node {
    pub fn new(name: impl Into<String>, os: Os) -> Node {
        Node {
            name: name.into(),
            os,
            addresses: Vec::new(),
            roles: Vec::new(),
            firewall: None,
            management: true,
            note: String::new(),
            ownership: Default::default(),
        }
    }
}

/// A node's role of one product, with the parameter values the operator set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleAssignment {
    pub product: String,
    pub role: String,
    /// Parameter id to value as typed (`"9000"`, `"60000-65000"`, `"off"`), checked against the catalog.
    pub params: BTreeMap<String, String>,
}

impl RoleAssignment {
    pub fn new(product: impl Into<String>, role: impl Into<String>) -> Self {
        RoleAssignment {
            product: product.into(),
            role: role.into(),
            params: BTreeMap::new(),
        }
    }
}

/// A host outside the design, known by DNS name; pinned addresses make it expressible in a firewall.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalHost {
    pub name: String,
    pub addresses: Vec<IpAddr>,
    pub note: String,
}

impl Topology {
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub fn zone(&self, name: &str) -> Option<&Zone> {
        self.zones.iter().find(|z| z.name == name)
    }
}

/// Whether a node, zone or parameter name is safe to carry into every export target unquoted:
/// letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 63 characters.
pub fn is_safe_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && s.len() <= 63
}
