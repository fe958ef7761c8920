//! The site as a picture: zones, nodes (with OS and roles), external hosts and `any` as boxes,
//! one edge per source and destination carrying every flow between them, labelled with protocols
//! and ports; management access (SSH, RDP, WinRM from the admin zone) drawn bold. DOT and Mermaid
//! are text for the tools people already use; SVG is laid out here by the layout-rs crate, so no
//! external program is needed.
//!
//! Edges come from the inbound rules: a rule's peers are attributed to the ends they hold (a zone
//! whose networks they cover, a node or external host whose address they hold, `any`, a DNS
//! name); networks no end holds (a vendor's published ranges) get a box of their own.

use crate::catalog::Catalog;
use crate::engine::{Plan, Rule};
use crate::net::Peers;
use crate::ports::PortSet;
use crate::topology::Topology;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;

/// What a box stands for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum End {
    Any,
    Zone(usize),
    Host(usize),
    Node(usize),
    Dns(String),
    /// Networks no zone, node or host holds, as the rule's peers spell them.
    Networks(String),
}

/// The part of the site to draw: everything, or the nodes named and those playing a role of the
/// products named, with what reaches them.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub nodes: Vec<String>,
    pub products: Vec<String>,
}

/// A drawing: boxes and labelled edges, in a stable order.
#[derive(Debug, Clone, Default)]
pub struct Drawing {
    boxes: Vec<(End, Vec<String>)>,
    /// (source box, destination box, label, management access).
    edges: Vec<(usize, usize, String, bool)>,
}

/// Every node address, sorted, with its node: a rule's peer networks find the nodes inside them
/// by range, so attributing a rule costs its peers and the nodes it reaches, not the whole site.
type AddressIndex = BTreeMap<std::net::IpAddr, Vec<usize>>;

fn address_index(topology: &Topology) -> AddressIndex {
    let mut index: AddressIndex = BTreeMap::new();
    for (i, n) in topology.nodes.iter().enumerate() {
        for a in &n.addresses {
            index.entry(*a).or_default().push(i);
        }
    }
    index
}

/// The nodes with an address inside the peers, in node order, each once.
fn nodes_in(index: &AddressIndex, peers: &Peers) -> Vec<(usize, std::net::IpAddr)> {
    use std::net::IpAddr;
    let ranges: Vec<(IpAddr, IpAddr)> = match peers {
        Peers::V4(v) => v
            .iter()
            .map(|n| (IpAddr::V4(n.network()), IpAddr::V4(n.broadcast())))
            .collect(),
        Peers::V6(v) => v
            .iter()
            .map(|n| (IpAddr::V6(n.network()), IpAddr::V6(n.broadcast())))
            .collect(),
        _ => Vec::new(),
    };
    let mut out: Vec<(usize, IpAddr)> = ranges
        .into_iter()
        .flat_map(|(lo, hi)| index.range(lo..=hi))
        .flat_map(|(a, nodes)| nodes.iter().map(move |&i| (i, *a)))
        .collect();
    out.sort();
    out
}

/// The ends a rule's peers hold, but the destination node itself (a node reaching itself goes
/// over loopback).
fn sources(topology: &Topology, index: &AddressIndex, r: &Rule) -> Vec<End> {
    let mut out = Vec::new();
    match &r.peers {
        Peers::Any => out.push(End::Any),
        Peers::Dns(names) => out.extend(names.iter().map(|n| End::Dns(n.clone()))),
        peers => {
            let mut held = false;
            // A rule holds one address family: a zone counts when its networks of that family
            // are all among the peers.
            let v6 = matches!(peers, Peers::V6(_));
            for (i, z) in topology.zones.iter().enumerate() {
                let mut nets = z
                    .cidrs
                    .iter()
                    .filter(|n| matches!(n, ipnet::IpNet::V6(_)) == v6)
                    .peekable();
                if nets.peek().is_some() && nets.all(|n| peers.covers(n)) {
                    out.push(End::Zone(i));
                    held = true;
                }
            }
            for (i, h) in topology.external_hosts.iter().enumerate() {
                if h.addresses.iter().any(|a| peers.contains(*a)) {
                    out.push(End::Host(i));
                    held = true;
                }
            }
            // A node inside a zone drawn for this rule is reached through the zone's edge.
            let zoned: Vec<&ipnet::IpNet> = out
                .iter()
                .filter_map(|e| match e {
                    End::Zone(i) => Some(&topology.zones[*i].cidrs),
                    _ => None,
                })
                .flatten()
                .collect();
            let mut last = None;
            for (i, a) in nodes_in(index, peers) {
                if last != Some(i) && !zoned.iter().any(|z| z.contains(&a)) {
                    out.push(End::Node(i));
                    last = Some(i);
                    held = true;
                }
            }
            if !held {
                out.push(End::Networks(peers.display_prefix(60)));
            }
        }
    }
    out
}

/// Whether node `n` is drawn as a destination under the filter.
fn wanted(catalog: &Catalog, topology: &Topology, f: &Filter, n: usize) -> bool {
    if f.nodes.is_empty() && f.products.is_empty() {
        return true;
    }
    let node = &topology.nodes[n];
    f.nodes.contains(&node.name)
        || node
            .roles
            .iter()
            .any(|r| f.products.contains(&r.product) && catalog.product(&r.product).is_some())
}

/// Builds the drawing of a derived plan.
pub fn build(catalog: &Catalog, topology: &Topology, plan: &Plan, filter: &Filter) -> Drawing {
    // (source, destination node) to protocol to ports, and whether management access is among them.
    type Flows = (BTreeMap<&'static str, PortSet>, bool);
    let mut edges: BTreeMap<(End, usize), Flows> = BTreeMap::new();
    // Attribution depends only on the rule list: lists shared by many nodes are attributed once.
    let mut attributed: HashMap<*const Rule, Vec<Vec<End>>> = HashMap::new();
    let named: BTreeSet<&str> = filter.nodes.iter().map(String::as_str).collect();
    let index = address_index(topology);
    // The nodes --node names, by index: their own connections out are drawn too.
    let named_nodes: Vec<usize> = topology
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| named.contains(n.name.as_str()))
        .map(|(i, _)| i)
        .collect();
    for p in &plan.nodes {
        let mut add = |e: End, r: &Rule| {
            let slot = edges.entry((e, p.node)).or_default();
            let set = slot.0.entry(r.protocol.as_str()).or_default();
            *set = set.union(&r.ports);
            slot.1 |= r.is_management();
        };
        if !wanted(catalog, topology, filter, p.node) {
            // Only what a named node sends here: looked up directly, so a part of a large site
            // costs the nodes drawn, not every node's sources.
            // A rule open to any address is the `any` box's edge, not the named node's.
            for r in p.inbound.iter().filter(|r| !r.peers.is_any()) {
                for &s in &named_nodes {
                    let reaches = s != p.node
                        && topology.nodes[s]
                            .addresses
                            .iter()
                            .any(|a| r.peers.contains(*a));
                    if reaches {
                        add(End::Node(s), r);
                    }
                }
            }
            continue;
        }
        let per_rule = attributed.entry(p.inbound.as_ptr()).or_insert_with(|| {
            p.inbound
                .iter()
                .map(|r| sources(topology, &index, r))
                .collect()
        });
        for (r, ends) in p.inbound.iter().zip(per_rule.iter()) {
            for e in ends.iter().filter(|e| **e != End::Node(p.node)) {
                add(e.clone(), r);
            }
        }
    }
    let mut d = Drawing::default();
    let mut index: HashMap<End, usize> = HashMap::new();
    let mut add = |d: &mut Drawing, e: &End| -> usize {
        *index.entry(e.clone()).or_insert_with(|| {
            d.boxes.push((e.clone(), label(topology, e)));
            d.boxes.len() - 1
        })
    };
    // Every node drawn as a destination has a box, edges or not.
    for p in plan
        .nodes
        .iter()
        .filter(|p| wanted(catalog, topology, filter, p.node))
    {
        add(&mut d, &End::Node(p.node));
    }
    for ((src, dst), (ports, management)) in &edges {
        let a = add(&mut d, src);
        let b = add(&mut d, &End::Node(*dst));
        let text: Vec<String> = ports.iter().map(|(p, s)| format!("{p} {s}")).collect();
        d.edges.push((a, b, text.join("; "), *management));
    }
    d
}

/// A box's lines: what it is, then (nodes) the OS and the roles.
fn label(topology: &Topology, e: &End) -> Vec<String> {
    match e {
        End::Any => vec!["any address".into()],
        End::Zone(i) => {
            let z = &topology.zones[*i];
            let nets: Vec<String> = z.cidrs.iter().take(3).map(|c| c.to_string()).collect();
            let more = if z.cidrs.len() > 3 { ", …" } else { "" };
            vec![
                format!("zone {}", z.name),
                format!("{}{more}", nets.join(", ")),
            ]
        }
        End::Host(i) => vec![format!("host {}", topology.external_hosts[*i].name)],
        End::Node(i) => {
            let n = &topology.nodes[*i];
            let mut v = vec![n.name.clone(), n.os.as_str().to_string()];
            v.extend(n.roles.iter().map(|r| format!("{}/{}", r.product, r.role)));
            v
        }
        End::Dns(name) => vec![format!("dns {name}")],
        End::Networks(nets) => vec![format!("networks {nets}")],
    }
}

/// A DOT string literal: quotes and backslashes escaped, line breaks as `\n`.
fn dot_text(lines: &[String]) -> String {
    let escaped: Vec<String> = lines
        .iter()
        .map(|l| l.replace('\\', "\\\\").replace('"', "\\\""))
        .collect();
    format!("\"{}\"", escaped.join("\\n"))
}

fn shape(e: &End) -> &'static str {
    match e {
        End::Node(_) => "box",
        End::Zone(_) => "folder",
        End::Any => "doublecircle",
        _ => "ellipse",
    }
}

/// Graphviz DOT: `dot -Tsvg site.dot > site.svg`.
pub fn dot(d: &Drawing, title: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph fwtopo {{");
    let _ = writeln!(out, "  label={};", dot_text(&[title.to_string()]));
    let _ = writeln!(out, "  rankdir=LR;");
    let _ = writeln!(out, "  node [fontname=\"Helvetica\", fontsize=10];");
    let _ = writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=9];");
    for (i, (e, lines)) in d.boxes.iter().enumerate() {
        let _ = writeln!(
            out,
            "  b{i} [shape={}, label={}];",
            shape(e),
            dot_text(lines)
        );
    }
    for (a, b, text, management) in &d.edges {
        let style = if *management {
            ", style=bold, color=\"#b03030\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  b{a} -> b{b} [label={}{style}];",
            dot_text(std::slice::from_ref(text))
        );
    }
    out.push_str("}\n");
    out
}

/// Mermaid text: quotes become `#quot;`, line breaks `<br/>`; nothing else of ours needs it
/// (names are letters, digits, `.`, `_` and `-`).
fn mermaid_text(lines: &[String]) -> String {
    let escaped: Vec<String> = lines
        .iter()
        .map(|l| {
            l.replace('&', "#amp;")
                .replace('"', "#quot;")
                .replace('<', "#lt;")
                .replace('>', "#gt;")
        })
        .collect();
    format!("\"{}\"", escaped.join("<br/>"))
}

/// A Mermaid flowchart, for Markdown that renders it (GitHub, GitLab).
pub fn mermaid(d: &Drawing) -> String {
    let mut out = String::from("flowchart LR\n");
    for (i, (e, lines)) in d.boxes.iter().enumerate() {
        let text = mermaid_text(lines);
        let _ = match e {
            End::Node(_) => writeln!(out, "  b{i}[{text}]"),
            End::Zone(_) => writeln!(out, "  b{i}[/{text}/]"),
            End::Any => writeln!(out, "  b{i}(({text}))"),
            _ => writeln!(out, "  b{i}([{text}])"),
        };
    }
    for (k, (a, b, text, management)) in d.edges.iter().enumerate() {
        let arrow = if *management { "==>" } else { "-->" };
        let _ = writeln!(
            out,
            "  b{a} {arrow}|{}| b{b}",
            mermaid_text(std::slice::from_ref(text))
        );
        if *management {
            let _ = writeln!(out, "  linkStyle {k} stroke:#b03030");
        }
    }
    out
}

/// SVG laid out by layout-rs (its Sugiyama-style placer), left to right.
pub fn svg(d: &Drawing) -> String {
    use layout::backends::svg::SVGWriter;
    use layout::core::base::Orientation;
    use layout::core::geometry::Point;
    use layout::core::style::StyleAttr;
    use layout::std_shapes::shapes::{Arrow, Element, ShapeKind};
    use layout::topo::layout::VisualGraph;
    let mut vg = VisualGraph::new(Orientation::LeftToRight);
    let handles: Vec<_> = d
        .boxes
        .iter()
        .map(|(_, lines)| {
            let text = lines.join("\n");
            let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(4) as f64;
            let size = Point::new(24. + 8.5 * width, 18. + 17. * lines.len() as f64);
            let shape = ShapeKind::new_box(&text);
            vg.add_node(Element::create(
                shape,
                StyleAttr::simple(),
                Orientation::LeftToRight,
                size,
            ))
        })
        .collect();
    for (a, b, text, _) in &d.edges {
        vg.add_edge(Arrow::simple(text), handles[*a], handles[*b]);
    }
    let mut w = SVGWriter::new();
    if !d.boxes.is_empty() {
        vg.do_it(false, false, false, &mut w);
    }
    w.finalize()
}

/// The nodes a drawing shows, by name (for tests and callers that list them).
pub fn node_names<'t>(d: &Drawing, topology: &'t Topology) -> Vec<&'t str> {
    d.boxes
        .iter()
        .filter_map(|(e, _)| match e {
            End::Node(i) => Some(topology.nodes[*i].name.as_str()),
            _ => None,
        })
        .collect()
}

/// How many edges a drawing has.
pub fn edge_count(d: &Drawing) -> usize {
    d.edges.len()
}
