//! What a change to a topology does to the firewalls: per node, the ports opened and closed to
//! each peer, in each direction; nodes added and removed; findings introduced and resolved. The
//! derived plans decide, not the files: a reformatted file with the same design has no changes.
//!
//! Rules are compared as grants, (direction, protocol, peer) to a port set, so a rule that merged
//! differently but allows the same reads as unchanged, and a widened peer reads as the ports it
//! now opens to that peer. Rule lists shared by many nodes (a mesh) are compared once per pair of
//! lists, which keeps a 100,000-node diff linear.

use crate::engine::{Direction, Finding, NodePlan, Plan, Rule};
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
    grants_of(&rules.iter().collect::<Vec<_>>())
}

fn grants_of(rules: &[&Rule]) -> BTreeMap<Key, PortSet> {
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

/// One line of [`render`]'s text, with the node it is about (for the designer to go to it) and,
/// for a port change, the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    pub text: String,
    pub node: Option<&'a str>,
    pub change: Option<&'a Change>,
}

/// Text for a terminal (`color`: green opened, red closed) or Markdown for a ticket or pull
/// request.
pub fn render(d: &Diff, markdown: bool, color: bool) -> String {
    let mut out = String::new();
    for l in lines(d, markdown, color) {
        out.push_str(&l.text);
        out.push('\n');
    }
    out
}

/// [`render`]'s text line by line.
pub fn lines(d: &Diff, markdown: bool, color: bool) -> Vec<Line<'_>> {
    let paint = |s: String, code: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s
        }
    };
    let mut out: Vec<Line> = Vec::new();
    let push = |out: &mut Vec<Line<'_>>, text: String| {
        out.push(Line {
            text,
            node: None,
            change: None,
        })
    };
    if d.is_empty() {
        push(
            &mut out,
            "no change: the derived firewalls and findings are the same".into(),
        );
        return out;
    }
    let head = |out: &mut Vec<Line<'_>>, title: &str| {
        if markdown {
            for text in [String::new(), format!("### {title}"), String::new()] {
                push(out, text);
            }
        } else {
            push(out, title.to_string());
        }
    };
    let item = if markdown { "- " } else { "  " };
    for (title, list, sign, code) in [
        ("Nodes added", &d.nodes_added, "+", "32"),
        ("Nodes removed", &d.nodes_removed, "-", "31"),
    ] {
        if list.is_empty() {
            continue;
        }
        head(&mut out, title);
        for n in list {
            out.push(Line {
                text: format!("{item}{}", paint(format!("{sign} {n}"), code)),
                node: Some(n),
                change: None,
            });
        }
    }
    for n in &d.nodes_changed {
        head(&mut out, &format!("Node {}", n.node));
        if let Some(l) = out.last_mut() {
            l.node = Some(&n.node);
        }
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
            out.push(Line {
                text: format!("{item}{}", paint(line, code)),
                node: Some(&n.node),
                change: Some(c),
            });
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
            out.push(Line {
                text: format!(
                    "{item}{sign} {} {}{node}: {}",
                    f.severity, f.code, f.message
                ),
                node: f.node.as_deref(),
                change: None,
            });
        }
    }
    out
}

/// How a rule of a node's new plan compares with the node's old plan, grant by grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleMark {
    /// Everything it allows was allowed before, and nothing of its grants was taken away.
    Same,
    /// None of it was allowed before.
    Added,
    /// Some of it is new, or ports it shares a peer and protocol with were closed.
    Changed,
}

impl RuleMark {
    /// The sign the designer shows: readable without colour.
    pub fn sign(self) -> char {
        match self {
            RuleMark::Same => ' ',
            RuleMark::Added => '+',
            RuleMark::Changed => '~',
        }
    }
}

/// What an old rule allowed that the new plan no longer does: the whole rule, or the part of it
/// (ports, peers) that went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub direction: Direction,
    pub protocol: &'static str,
    pub ports: PortSet,
    pub peers: Vec<String>,
    /// The whole old rule went, not a part of it.
    pub whole: bool,
}

/// One node's rules compared: a mark per rule of the new plan (inbound, then outbound), and what
/// the old plan allowed that is gone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleChanges {
    pub marks: Vec<RuleMark>,
    pub removed: Vec<Removed>,
}

impl RuleChanges {
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.marks.iter().all(|m| *m == RuleMark::Same)
    }
}

/// The rules of one node compared with its rules in the old plan (`None`: the node is new), on
/// the same grants as [`diff`], so a rule marked here is a change `diff` reports.
pub fn rule_changes(old: Option<&NodePlan>, new: &NodePlan) -> RuleChanges {
    let Some(old) = old else {
        return RuleChanges {
            marks: vec![RuleMark::Added; new.inbound.len() + new.outbound.len()],
            removed: Vec::new(),
        };
    };
    if old.inbound == new.inbound && old.outbound == new.outbound {
        return RuleChanges {
            marks: vec![RuleMark::Same; new.inbound.len() + new.outbound.len()],
            removed: Vec::new(),
        };
    }
    let old_rules: Vec<&Rule> = old.rules().collect();
    let new_rules: Vec<&Rule> = new.rules().collect();
    let (was, now) = (grants_of(&old_rules), grants_of(&new_rules));
    let empty = PortSet::default();
    let key = |r: &Rule, peer: String| -> Key {
        let dir = match r.direction {
            Direction::Inbound => 0,
            Direction::Outbound => 1,
        };
        (dir, r.protocol.as_str(), peer)
    };
    let marks = new_rules
        .iter()
        .map(|r| {
            let (mut before, mut opened, mut closed) = (false, false, false);
            for peer in r.peers.to_strings() {
                let k = key(r, peer);
                let old_ports = was.get(&k).unwrap_or(&empty);
                let fresh = minus(&r.ports, old_ports);
                before |= fresh != r.ports;
                opened |= !fresh.is_empty();
                closed |= !minus(old_ports, now.get(&k).unwrap_or(&empty)).is_empty();
            }
            match (before, opened || closed) {
                (false, _) => RuleMark::Added,
                (true, true) => RuleMark::Changed,
                (true, false) => RuleMark::Same,
            }
        })
        .collect();
    let mut removed = Vec::new();
    for r in old_rules {
        let peers = r.peers.to_strings();
        let all = peers.len();
        // Peers that lost the same ports make one row.
        let mut lost: BTreeMap<PortSet, Vec<String>> = BTreeMap::new();
        for peer in peers {
            let gone = minus(&r.ports, now.get(&key(r, peer.clone())).unwrap_or(&empty));
            if !gone.is_empty() {
                lost.entry(gone).or_default().push(peer);
            }
        }
        for (ports, peers) in lost {
            removed.push(Removed {
                direction: r.direction,
                protocol: r.protocol.as_str(),
                whole: ports == r.ports && peers.len() == all,
                ports,
                peers,
            });
        }
    }
    RuleChanges { marks, removed }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Peers;
    use crate::ports::Protocol;

    fn rule(dir: Direction, proto: Protocol, ports: &[u16], peers: Peers) -> Rule {
        Rule {
            direction: dir,
            protocol: proto,
            ports: PortSet::from_ranges(
                ports.iter().filter_map(|p| PortRange::single(*p)).collect(),
            ),
            peers,
            provenance: Vec::new(),
            tags: Vec::new(),
        }
    }

    fn node(rules: Vec<Rule>) -> NodePlan {
        let (inbound, outbound): (Vec<Rule>, Vec<Rule>) = rules
            .into_iter()
            .partition(|r| r.direction == Direction::Inbound);
        NodePlan {
            node: 0,
            name: "web".into(),
            inbound: inbound.into(),
            outbound: outbound.into(),
            local_only: Vec::new(),
        }
    }

    fn v4(net: &str) -> Peers {
        Peers::V4(vec![net.parse().unwrap()])
    }

    /// A rule narrowed to fewer ports reads as changed, with the ports it lost as a removed part;
    /// a rule to a new peer as added; a rule that went as removed whole.
    #[test]
    fn rules_are_marked_on_their_grants_and_what_went_is_listed() {
        use Direction::{Inbound, Outbound};
        use Protocol::{Tcp, Udp};
        let old = node(vec![
            rule(Inbound, Tcp, &[80, 443], v4("192.0.2.0/24")),
            rule(Inbound, Tcp, &[25], Peers::Any),
            rule(Outbound, Udp, &[53], Peers::Any),
        ]);
        let new = node(vec![
            rule(Inbound, Tcp, &[443], v4("192.0.2.0/24")),
            rule(Inbound, Tcp, &[22], v4("198.51.100.0/24")),
            rule(Inbound, Tcp, &[25], Peers::Any),
        ]);
        let c = rule_changes(Some(&old), &new);
        assert_eq!(
            c.marks,
            [RuleMark::Changed, RuleMark::Added, RuleMark::Same],
            "in the order of the new plan: inbound, then outbound"
        );
        assert_eq!(
            c.removed,
            [
                Removed {
                    direction: Inbound,
                    protocol: "tcp",
                    ports: PortSet::from_ranges(PortRange::single(80).into_iter().collect()),
                    peers: vec!["192.0.2.0/24".into()],
                    whole: false,
                },
                Removed {
                    direction: Outbound,
                    protocol: "udp",
                    ports: PortSet::from_ranges(PortRange::single(53).into_iter().collect()),
                    peers: vec!["any".into()],
                    whole: true,
                },
            ]
        );
        // The same plan: nothing; a new node: all added.
        assert!(rule_changes(Some(&new), &new).is_empty());
        let added = rule_changes(None, &new);
        assert!(added.marks.iter().all(|m| *m == RuleMark::Added));
        assert!(added.removed.is_empty());
    }
}
