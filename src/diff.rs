//! What a change to a topology does to the firewalls: per node, the ports opened and closed to
//! each peer, in each direction; nodes added and removed; findings introduced and resolved. The
//! derived plans decide, not the files: a reformatted file with the same design has no changes.
//!
//! Rules are compared as grants, (direction, protocol, peer) to a port set, so a rule that merged
//! differently but allows the same reads as unchanged, and a widened peer reads as the ports it
//! now opens to that peer. Rule lists shared by many nodes (a mesh) are compared once per pair of
//! lists, which keeps a 100,000-node diff linear.

use crate::engine::{Direction, Finding, Plan, Rule};
use crate::ports::{PortRange, PortSet};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// One change of what a node's firewall allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// `opened` or `closed`.
    pub what: &'static str,
    pub direction: &'static str,
    pub protocol: &'static str,
    pub ports: String,
    /// Networks, `any` or `dns:<name>`: the peers the same ports were opened to (or closed to).
    pub peers: Vec<String>,
}

/// The changes of one node present in both topologies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeChanges {
    pub node: String,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingChange {
    pub severity: &'static str,
    pub code: String,
    pub node: Option<String>,
    pub message: String,
}

/// Everything that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Diff {
    pub nodes_added: Vec<String>,
    pub nodes_removed: Vec<String>,
    pub nodes_changed: Vec<NodeChanges>,
    pub findings_introduced: Vec<FindingChange>,
    pub findings_resolved: Vec<FindingChange>,
}

impl Diff {
    /// Whether the derived firewalls are the same (findings aside: they follow from them, or
    /// from names and notes that open nothing).
    pub fn firewalls_same(&self) -> bool {
        self.nodes_added.is_empty()
            && self.nodes_removed.is_empty()
            && self.nodes_changed.is_empty()
    }

    pub fn is_empty(&self) -> bool {
        self.firewalls_same()
            && self.findings_introduced.is_empty()
            && self.findings_resolved.is_empty()
    }
}

type Key = (u8, &'static str, String);

/// A rule list as grants: (direction, protocol, peer) to the ports allowed.
fn grants(rules: &[Rule]) -> BTreeMap<Key, PortSet> {
    let mut out: BTreeMap<Key, PortSet> = BTreeMap::new();
    for r in rules {
        let dir = match r.direction {
            Direction::Inbound => 0,
            Direction::Outbound => 1,
        };
        for peer in r.peers.to_strings() {
            let slot = out.entry((dir, r.protocol.as_str(), peer)).or_default();
            *slot = slot.union(&r.ports);
        }
    }
    out
}

/// Ports in `a` and not in `b`.
fn minus(a: &PortSet, b: &PortSet) -> PortSet {
    let mut out = Vec::new();
    for r in a.ranges() {
        let mut start = u32::from(r.start);
        let end = u32::from(r.end);
        for c in b.ranges() {
            let (cs, ce) = (u32::from(c.start), u32::from(c.end));
            if ce < start || cs > end {
                continue;
            }
            if cs > start {
                out.extend(PortRange::new(start as u16, (cs - 1) as u16));
            }
            start = start.max(ce + 1);
        }
        if start <= end {
            out.extend(PortRange::new(start as u16, end as u16));
        }
    }
    PortSet::from_ranges(out)
}

fn changes(old: &[Rule], new: &[Rule]) -> Vec<Change> {
    let (a, b) = (grants(old), grants(new));
    let keys: BTreeSet<&Key> = a.keys().chain(b.keys()).collect();
    let empty = PortSet::default();
    // Peers that gained or lost the same ports make one change.
    let mut grouped: BTreeMap<(&'static str, u8, &'static str, PortSet), Vec<String>> =
        BTreeMap::new();
    for k in keys {
        let was = a.get(k).unwrap_or(&empty);
        let now = b.get(k).unwrap_or(&empty);
        for (what, ports) in [("opened", minus(now, was)), ("closed", minus(was, now))] {
            if !ports.is_empty() {
                grouped
                    .entry((what, k.0, k.1, ports))
                    .or_default()
                    .push(k.2.clone());
            }
        }
    }
    grouped
        .into_iter()
        .map(|((what, dir, protocol, ports), peers)| Change {
            what,
            direction: if dir == 0 { "inbound" } else { "outbound" },
            protocol,
            ports: ports.to_string(),
            peers,
        })
        .collect()
}

fn finding_change(f: &Finding) -> FindingChange {
    FindingChange {
        severity: f.severity.as_str(),
        code: f.code.to_string(),
        node: f.node.clone(),
        message: f.message.to_string(),
    }
}

/// The difference between two derived plans (node names match nodes).
pub fn diff(old: &Plan, new: &Plan) -> Diff {
    let old_nodes: HashMap<&str, usize> = old
        .nodes
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    let new_names: BTreeSet<&str> = new.nodes.iter().map(|p| p.name.as_str()).collect();
    let mut d = Diff::default();
    // Shared rule lists are compared once per pair.
    let mut cache: HashMap<(usize, usize, usize, usize), Vec<Change>> = HashMap::new();
    for p in &new.nodes {
        let Some(&i) = old_nodes.get(p.name.as_str()) else {
            d.nodes_added.push(p.name.clone());
            continue;
        };
        let o = &old.nodes[i];
        let key = (
            Arc::as_ptr(&o.inbound) as *const Rule as usize,
            Arc::as_ptr(&o.outbound) as *const Rule as usize,
            Arc::as_ptr(&p.inbound) as *const Rule as usize,
            Arc::as_ptr(&p.outbound) as *const Rule as usize,
        );
        let c = cache
            .entry(key)
            .or_insert_with(|| {
                if o.inbound == p.inbound && o.outbound == p.outbound {
                    return Vec::new();
                }
                let mut c = changes(&o.inbound, &p.inbound);
                c.extend(changes(&o.outbound, &p.outbound));
                c
            })
            .clone();
        if !c.is_empty() {
            d.nodes_changed.push(NodeChanges {
                node: p.name.clone(),
                changes: c,
            });
        }
    }
    d.nodes_removed = old
        .nodes
        .iter()
        .filter(|p| !new_names.contains(p.name.as_str()))
        .map(|p| p.name.clone())
        .collect();
    let key = |f: &Finding| (f.severity, f.node.clone(), f.code, f.message.to_string());
    let was: BTreeSet<_> = old.findings.iter().map(key).collect();
    let now: BTreeSet<_> = new.findings.iter().map(key).collect();
    d.findings_introduced = new
        .findings
        .iter()
        .filter(|f| !was.contains(&key(f)))
        .map(finding_change)
        .collect();
    d.findings_resolved = old
        .findings
        .iter()
        .filter(|f| !now.contains(&key(f)))
        .map(finding_change)
        .collect();
    d
}

/// Text for a terminal (`color`: green opened, red closed) or Markdown for a ticket or pull
/// request.
pub fn render(d: &Diff, markdown: bool, color: bool) -> String {
    use std::fmt::Write;
    let paint = |s: String, code: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s
        }
    };
    let mut out = String::new();
    if d.is_empty() {
        out.push_str("no change: the derived firewalls and findings are the same\n");
        return out;
    }
    let head = |out: &mut String, title: &str| {
        if markdown {
            let _ = writeln!(out, "\n### {title}\n");
        } else {
            let _ = writeln!(out, "{title}");
        }
    };
    let item = if markdown { "- " } else { "  " };
    if !d.nodes_added.is_empty() {
        head(&mut out, "Nodes added");
        for n in &d.nodes_added {
            let _ = writeln!(out, "{item}{}", paint(format!("+ {n}"), "32"));
        }
    }
    if !d.nodes_removed.is_empty() {
        head(&mut out, "Nodes removed");
        for n in &d.nodes_removed {
            let _ = writeln!(out, "{item}{}", paint(format!("- {n}"), "31"));
        }
    }
    for n in &d.nodes_changed {
        head(&mut out, &format!("Node {}", n.node));
        for c in &n.changes {
            let word = if c.direction == "inbound" {
                "from"
            } else {
                "to"
            };
            let (sign, code) = if c.what == "opened" {
                ("+", "32")
            } else {
                ("-", "31")
            };
            let line = format!(
                "{sign} {} {} {} {} {} ({})",
                c.direction,
                c.protocol,
                c.ports,
                word,
                c.peers.join(", "),
                c.what
            );
            let line = if markdown { format!("`{line}`") } else { line };
            let _ = writeln!(out, "{item}{}", paint(line, code));
        }
    }
    for (title, list, sign) in [
        ("Findings introduced", &d.findings_introduced, "+"),
        ("Findings resolved", &d.findings_resolved, "-"),
    ] {
        if list.is_empty() {
            continue;
        }
        head(&mut out, title);
        for f in list {
            let node = f
                .node
                .as_deref()
                .map_or(String::new(), |n| format!(" [{n}]"));
            let _ = writeln!(
                out,
                "{item}{sign} {} {}{node}: {}",
                f.severity, f.code, f.message
            );
        }
    }
    out
}
