//! The `.ron` topology format: what is on disk, its version, and errors that say where.
//!
//! Values are read as text and checked here, so a bad address names its node and field instead of
//! a byte offset, and nothing a person typed reaches an exporter unchecked.

use super::networks::not_a_host_address;
pub use super::networks::parse_net;
use super::ownership::{DEFAULT_GRACE_DAYS, MAX_GRACE_DAYS, Ownership};
use super::{ExternalHost, Node, Os, RoleAssignment, Topology, Zone, is_safe_name};
use crate::catalog::is_dns_name;
use crate::date::Date;
use crate::target::Target;
pub use crate::user_text::{check_line, check_text};
use crate::user_text::{double_quoted, quoted};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

/// The topology format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// One thing wrong with a value, and where (`nodes[2] "pa-sn1": addresses[1]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why a topology text could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("{line}:{col}: {message}")]
    Syntax {
        line: usize,
        col: usize,
        message: String,
    },
    #[error(
        "format version {found} is newer than this fwtopo understands ({FORMAT_VERSION}); upgrade fwtopo"
    )]
    Version { found: u32 },
    #[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

/// The file's structure. Values that are only parsed further (addresses, OS and firewall names)
/// borrow from the text where it has no escapes: a 10,000-node file has some 40,000 of them.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopologyFile<'a> {
    version: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    description: String,
    /// `false` turns off the package-update flows every node otherwise gets by its OS.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    os_updates: bool,
    /// Days an expired role, flow or node stays a warning before it is an error.
    #[serde(default = "default_grace", skip_serializing_if = "is_default_grace")]
    expiry_grace_days: u16,
    #[serde(default, borrow)]
    zones: Vec<ZoneFile<'a>>,
    #[serde(default, borrow)]
    nodes: Vec<NodeFile<'a>>,
    #[serde(default, borrow, skip_serializing_if = "Vec::is_empty")]
    external_hosts: Vec<ExternalHostFile<'a>>,
    /// Roles and flows of the site's own, checked in [`super::custom`].
    #[serde(default, skip_serializing_if = "super::Custom::is_empty")]
    custom: super::Custom,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tests: Vec<super::flow_tests::FlowTestFile>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoneFile<'a> {
    name: String,
    #[serde(default, borrow)]
    cidrs: Vec<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    note: String,
}

fn is_true(b: &bool) -> bool {
    *b
}

fn yes() -> bool {
    true
}

fn default_grace() -> u16 {
    DEFAULT_GRACE_DAYS
}

fn is_default_grace(days: &u16) -> bool {
    *days == DEFAULT_GRACE_DAYS
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeFile<'a> {
    name: String,
    #[serde(borrow)]
    os: Cow<'a, str>,
    #[serde(default, borrow)]
    addresses: Vec<Cow<'a, str>>,
    #[serde(default)]
    roles: Vec<RoleFile>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    firewall: Option<Cow<'a, str>>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    management: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    note: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    owner: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    ticket: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    reason: String,
    #[serde(
        default,
        with = "super::ownership::expires",
        skip_serializing_if = "Option::is_none"
    )]
    expires: Option<Date>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFile {
    product: String,
    role: String,
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "crate::unique_keys::map"
    )]
    params: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExternalHostFile<'a> {
    name: String,
    #[serde(default, borrow)]
    addresses: Vec<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    note: String,
}

/// Only the version, read first so a newer file gets a version error instead of "unknown field".
#[derive(Deserialize)]
struct VersionProbe {
    version: u32,
}

/// From this size on, a text's node list is parsed in parts on every core ([`super::parts`]):
/// about 800 nodes, where one parse takes some 2 ms and starting a thread some 20 µs.
const PARTS_FROM: usize = 256 * 1024;

/// Parses and checks a topology text (everything that does not need the catalog).
pub fn from_ron(text: &str) -> Result<Topology, LoadError> {
    let parts = if text.len() >= PARTS_FROM {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
    } else {
        1
    };
    from_ron_in_parts(text, parts)
}

/// [`from_ron`], with the node list parsed in up to `parts` parts at once. Whatever `parts` is,
/// the result is that of one parse of the whole text (the fuzz tests check it, hence public).
pub fn from_ron_in_parts(text: &str, parts: usize) -> Result<Topology, LoadError> {
    // A byte-order mark (Windows editors write one) is no part of the text; positions count
    // from after it, as an editor shows them.
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let cut = super::parts::split(text, parts);
    let file = match cut.as_ref().and_then(parse_parts) {
        Some(file) => file,
        None => parse_whole(text)?,
    };
    if let Some(e) = newer(file.version) {
        return Err(e);
    }
    if file.version == 0 {
        return Err(LoadError::Invalid(vec![Problem {
            path: "version".into(),
            message: format!("version must be {FORMAT_VERSION}"),
        }]));
    }
    convert(file)
}

/// The error for a file of a newer format, if it is one.
fn newer(found: u32) -> Option<LoadError> {
    (found > FORMAT_VERSION).then_some(LoadError::Version { found })
}

/// One parse of the whole text, with the error where the parser stopped.
fn parse_whole(text: &str) -> Result<TopologyFile<'_>, LoadError> {
    // The version is probed (a second parse) only when the file does not read as this format:
    // a newer file then gets a version error instead of "unknown field".
    ron::from_str(text).map_err(|e| {
        ron::from_str::<VersionProbe>(text)
            .ok()
            .and_then(|probe| newer(probe.version))
            .unwrap_or_else(|| LoadError::Syntax {
                line: e.span.start.line,
                col: e.span.start.col,
                message: crate::unique_keys::syntax_message(&e.code),
            })
    })
}

/// The node lists and the rest of a cut text, each list on a thread of its own and the rest on
/// this one; `None` when any part does not parse (the whole text is then parsed, for the error)
/// or a thread cannot start.
fn parse_parts(cut: &super::parts::Parts) -> Option<TopologyFile<'_>> {
    std::thread::scope(|scope| {
        let spawned: Vec<_> = cut
            .lists
            .iter()
            .map(|list| {
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || ron::from_str::<Vec<NodeFile>>(list).ok())
            })
            .collect();
        let rest: Option<TopologyFile> = ron::from_str(&cut.rest).ok();
        let mut nodes = Vec::new();
        for handle in spawned {
            nodes.extend(handle.ok()?.join().ok()??);
        }
        // The rest holds the last nodes.
        let mut file = rest?;
        nodes.append(&mut file.nodes);
        file.nodes = nodes;
        Some(file)
    })
}

/// Writes a topology in the current format. `from_ron(&to_ron(t)) == Ok(t)` for every checked `t`.
pub fn to_ron(t: &Topology) -> String {
    let file = TopologyFile {
        version: FORMAT_VERSION,
        name: t.name.clone(),
        description: t.description.clone(),
        os_updates: t.os_updates,
        expiry_grace_days: t.expiry_grace_days,
        zones: t
            .zones
            .iter()
            .map(|z| ZoneFile {
                name: z.name.clone(),
                cidrs: z.cidrs.iter().map(|c| c.to_string().into()).collect(),
                note: z.note.clone(),
            })
            .collect(),
        nodes: t
            .nodes
            .iter()
            .map(|n| NodeFile {
                name: n.name.clone(),
                os: n.os.as_str().into(),
                addresses: n.addresses.iter().map(|a| a.to_string().into()).collect(),
                roles: n
                    .roles
                    .iter()
                    .map(|r| RoleFile {
                        product: r.product.clone(),
                        role: r.role.clone(),
                        params: r.params.clone(),
                    })
                    .collect(),
                firewall: n.firewall.map(|f| f.as_str().into()),
                management: n.management,
                note: n.note.clone(),
                owner: n.ownership.owner.clone(),
                ticket: n.ownership.ticket.clone(),
                reason: n.ownership.reason.clone(),
                expires: n.ownership.expires,
            })
            .collect(),
        external_hosts: t
            .external_hosts
            .iter()
            .map(|h| ExternalHostFile {
                name: h.name.clone(),
                addresses: h.addresses.iter().map(|a| a.to_string().into()).collect(),
                note: h.note.clone(),
            })
            .collect(),
        custom: t.custom.clone(),
        tests: t.tests.iter().map(|x| x.to_file()).collect(),
    };
    let config = ron::ser::PrettyConfig::new()
        .indentor("    ")
        .struct_names(false);
    // Serialising plain strings, vectors and maps cannot fail.
    let mut out = ron::ser::to_string_pretty(&file, config).unwrap_or_default();
    out.push('\n');
    out
}

/// Checks a node, zone or parameter name: it ends up in shell, cmd.exe and PowerShell text.
pub fn check_name(s: &str) -> Result<(), String> {
    if is_safe_name(s) {
        Ok(())
    } else if s.is_empty() {
        Err("is empty".into())
    } else {
        Err(format!(
            "{} may only use letters, digits, '.', '_' and '-', start with a letter or digit, and be at most 63 characters",
            quoted(s)
        ))
    }
}

/// `nodes[i] "name"`, for problem paths.
struct NodeAt<'n>(usize, &'n str);

impl std::fmt::Display for NodeAt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "nodes[{}] {}", self.0, double_quoted(self.1))
    }
}

fn convert(file: TopologyFile<'_>) -> Result<Topology, LoadError> {
    let mut problems = Vec::new();
    let mut push = |path: String, message: String| problems.push(Problem { path, message });

    // The topology's name is a title, printed within a line.
    if let Err(m) = check_line(&file.name) {
        push("name".into(), m);
    }
    if let Err(m) = check_text(&file.description) {
        push("description".into(), m);
    }
    if file.expiry_grace_days > MAX_GRACE_DAYS {
        push(
            "expiry_grace_days".into(),
            format!(
                "{} days is more than the {MAX_GRACE_DAYS} allowed (ten years)",
                file.expiry_grace_days
            ),
        );
    }

    let mut zones = Vec::new();
    let mut zone_names = HashSet::new();
    for (i, z) in file.zones.into_iter().enumerate() {
        let at = format!("zones[{i}] {}", double_quoted(&z.name));
        if let Err(m) = check_name(&z.name) {
            push(format!("{at}: name"), m);
        } else if !zone_names.insert(z.name.to_ascii_lowercase()) {
            // Case too, as for nodes: `Admin` beside `admin` reads as one zone but is two.
            push(
                format!("{at}: name"),
                format!(
                    "duplicate zone name {} (names may not differ only in case)",
                    quoted(&z.name)
                ),
            );
        }
        if let Err(m) = check_text(&z.note) {
            push(format!("{at}: note"), m);
        }
        let mut cidrs = Vec::new();
        let mut seen = HashSet::new();
        for (j, c) in z.cidrs.iter().enumerate() {
            match parse_net(c) {
                Ok(n) if !seen.insert(n) => push(
                    format!("{at}: cidrs[{j}]"),
                    format!("'{}' is listed twice", c.trim()),
                ),
                Ok(n) => cidrs.push(n),
                Err(m) => push(format!("{at}: cidrs[{j}]"), m),
            }
        }
        zones.push(Zone {
            name: z.name,
            cidrs,
            note: z.note,
        });
    }

    let mut nodes = Vec::new();
    let mut node_names = HashSet::new();
    for (i, n) in file.nodes.into_iter().enumerate() {
        // Where a problem is, written only when there is one.
        let at = NodeAt(i, &n.name);
        if let Err(m) = check_name(&n.name) {
            push(format!("{at}: name"), m);
        } else if !node_names.insert(n.name.to_ascii_lowercase()) {
            // Case too: export file names and Windows Firewall rule names ignore it.
            push(
                format!("{at}: name"),
                format!(
                    "duplicate node name '{}' (names may not differ only in case)",
                    n.name
                ),
            );
        }
        let os = match n.os.parse::<Os>() {
            Ok(os) => os,
            Err(m) => {
                push(format!("{at}: os"), m);
                Os::Almalinux
            }
        };
        let mut addresses = Vec::new();
        for (j, a) in n.addresses.iter().enumerate() {
            match a
                .trim()
                .parse::<IpAddr>()
                .map(|ip| (ip, not_a_host_address(ip)))
            {
                Ok((_, Some(why))) => push(
                    format!("{at}: addresses[{j}]"),
                    format!("{} cannot be a node's address ({why})", quoted(a)),
                ),
                Ok((ip, None)) if addresses.contains(&ip) => push(
                    format!("{at}: addresses[{j}]"),
                    format!("{} is listed twice", quoted(a)),
                ),
                Ok((ip, None)) => addresses.push(ip),
                Err(_) => push(
                    format!("{at}: addresses[{j}]"),
                    format!("{} is not an IPv4 or IPv6 address", quoted(a)),
                ),
            }
        }
        let firewall = match n.firewall.as_deref().map(str::parse::<Target>) {
            None => None,
            Some(Ok(t)) => Some(t),
            Some(Err(m)) => {
                push(format!("{at}: firewall"), m);
                None
            }
        };
        if let Err(m) = check_text(&n.note) {
            push(format!("{at}: note"), m);
        }
        let ownership = Ownership {
            owner: n.owner,
            ticket: n.ticket,
            reason: n.reason,
            expires: n.expires,
        };
        ownership.check(&at, &mut push);
        let mut roles = Vec::new();
        for (j, r) in n.roles.into_iter().enumerate() {
            // Product and role ids reach scripts and error messages: the same rule as names.
            for (field, value) in [("product", &r.product), ("role", &r.role)] {
                if let Err(m) = check_name(value) {
                    push(format!("{at}: roles[{j}].{field}"), m);
                }
            }
            if check_name(&r.product).is_err() || check_name(&r.role).is_err() {
                continue;
            }
            for key in r.params.keys() {
                if let Err(m) = check_name(key) {
                    push(
                        format!("{at}: roles[{j}] {}/{}: params", r.product, r.role),
                        m,
                    );
                }
            }
            for (key, value) in &r.params {
                // A port, a range or a switch: one line.
                if let Err(m) = check_line(value) {
                    push(
                        format!("{at}: roles[{j}] {}/{}: params.{key}", r.product, r.role),
                        m,
                    );
                }
            }
            roles.push(RoleAssignment {
                product: r.product,
                role: r.role,
                params: r.params,
            });
        }
        nodes.push(Node {
            name: n.name,
            os,
            addresses,
            roles,
            firewall,
            management: n.management,
            note: n.note,
            ownership,
        });
    }

    let mut external_hosts = Vec::new();
    let mut host_names = HashSet::new();
    for (i, h) in file.external_hosts.into_iter().enumerate() {
        let at = format!("external_hosts[{i}] {}", double_quoted(&h.name));
        if !is_dns_name(&h.name) {
            push(
                format!("{at}: name"),
                format!("{} is not a DNS name", quoted(&h.name)),
            );
        } else if !host_names.insert(h.name.to_ascii_lowercase()) {
            push(
                format!("{at}: name"),
                format!("duplicate external host '{}'", h.name),
            );
        }
        let mut addresses = Vec::new();
        for (j, a) in h.addresses.iter().enumerate() {
            match a
                .trim()
                .parse::<IpAddr>()
                .map(|ip| (ip, not_a_host_address(ip)))
            {
                Ok((_, Some(why))) => push(
                    format!("{at}: addresses[{j}]"),
                    format!("{} cannot be a host's address ({why})", quoted(a)),
                ),
                Ok((ip, None)) => addresses.push(ip),
                Err(_) => push(
                    format!("{at}: addresses[{j}]"),
                    format!("{} is not an IPv4 or IPv6 address", quoted(a)),
                ),
            }
        }
        if let Err(m) = check_text(&h.note) {
            push(format!("{at}: note"), m);
        }
        external_hosts.push(ExternalHost {
            name: h.name,
            addresses,
            note: h.note,
        });
    }

    super::custom::check_section(&file.custom, &zones, &external_hosts, &mut push);

    let mut topology = Topology {
        name: file.name,
        description: file.description,
        zones,
        nodes,
        external_hosts,
        custom: file.custom,
        tests: Vec::new(),
        os_updates: file.os_updates,
        expiry_grace_days: file.expiry_grace_days,
    };
    topology.tests = super::flow_tests::convert(&topology, file.tests, &mut push);
    if problems.is_empty() {
        Ok(topology)
    } else {
        Err(LoadError::Invalid(problems))
    }
}

#[cfg(test)]
mod tests;
