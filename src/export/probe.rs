//! The probe script: run on a node after deploying, it tries every flow the design lets the node
//! start and prints `flows reached N/N` with each failure, so an operator learns at once whether
//! the firewalls on both ends (and the services behind them) do what the design says.
//!
//! What to try comes from the node's derived outbound rules: each peer network is resolved to the
//! concrete addresses it holds (nodes whose inbound rules accept this node on that port, pinned
//! external hosts). What a connect cannot prove is listed as "not probed" with the reason, never
//! counted as reached: UDP, `any`, zones and other networks, host names. A port range is tried at
//! its first port. Attempts are deduplicated by (address, port), and a rule's port range is tried
//! at [`PEERS_PER_FLOW`] peers at most, so a script's attempts are bounded by the node's rules, not
//! by the size of the site. Bash here, PowerShell in [`super::probe_ps`]; both print the same
//! lines.

use super::{AddressIndex, Export, text};
use crate::catalog::PortItem;
use crate::engine::{self, NodePlan};
use crate::net::Peers;
use crate::ports::{PortRange, Protocol};
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

/// The most peer addresses one flow (a rule's port range) is tried at: a role group of a
/// thousand nodes would otherwise make every script of the site try a thousand connects. Each
/// node starts at another place of the group (its index in the topology times this), so the
/// nodes of a role listed together try every peer between them.
pub const PEERS_PER_FLOW: usize = 16;

/// How long one attempt may take by default, in seconds.
pub const DEFAULT_SECONDS: u32 = 3;

/// One TCP connect the script tries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub address: IpAddr,
    pub port: u16,
    /// The node or external host the address belongs to.
    pub peer: String,
    /// Services and provenance, comment-safe; for a range, which port of it is tried.
    pub what: String,
}

/// Why a flow is listed without being tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Why {
    /// A UDP "connect" sends nothing: no answer proves nothing.
    Udp,
    /// Every address: no one address to try.
    Any,
    /// A zone or another network: no one address to try.
    Network,
    /// A host name, resolved by the firewall, not a peer of the site.
    HostName,
    /// An address no node or external host of the topology holds: nothing says it listens.
    Address,
    /// A node whose inbound rules do not accept this node on the port.
    NotAccepted,
    /// Peers beyond [`PEERS_PER_FLOW`]: another node's script tries them.
    Sampled,
}

impl Why {
    /// The word in `not probed (<word>)`.
    pub fn as_str(self) -> &'static str {
        match self {
            Why::Udp => "udp",
            Why::Any => "any",
            Why::Network => "network",
            Why::HostName => "host name",
            Why::Address => "address",
            Why::NotAccepted => "not accepted",
            Why::Sampled => "sampled",
        }
    }
}

/// A flow the script lists without trying it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unprobed {
    pub why: Why,
    pub protocol: Protocol,
    /// `53`, `10000-20000` or `80,443`.
    pub ports: String,
    /// An address, a network, `any` or host names.
    pub peer: String,
    /// The node, external host or zone it is, if any.
    pub name: String,
    pub what: String,
}

impl Unprobed {
    /// The line the script prints: `not probed (udp) udp/53 to 192.0.2.1 (dns1): DNS [...]`.
    pub fn line(&self) -> String {
        let name = if self.name.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.name)
        };
        text::ascii_fold(&format!(
            "not probed ({}) {}/{} to {}{name}: {}",
            self.why.as_str(),
            self.protocol.as_str(),
            self.ports,
            self.peer,
            self.what
        ))
    }
}

/// Everything one node's probe script does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Probes {
    /// In address, then port order; one per (address, port).
    pub attempts: Vec<Attempt>,
    /// Sorted by reason, then protocol, ports and peer; each once.
    pub unprobed: Vec<Unprobed>,
}

/// The flows of one node's probe script, from its outbound rules.
pub fn probes(x: &Export) -> Probes {
    let own;
    let index = match x.addresses {
        Some(i) => i,
        None => {
            own = AddressIndex::new(x.topology);
            &own
        }
    };
    let mut c = Collector {
        x,
        index,
        attempts: BTreeMap::new(),
        unprobed: BTreeSet::new(),
        texts: HashMap::new(),
    };
    for (i, r) in x.outbound().iter().enumerate() {
        match &r.peers {
            Peers::Any => {
                let what = x.rule_comment(r);
                c.skip(Why::Any, r.protocol, ports_text(r), "any", "", &what);
            }
            Peers::Dns(names) => {
                let what = x.rule_comment(r);
                let peer = text::comment_text(&names.join(" "));
                c.skip(Why::HostName, r.protocol, ports_text(r), &peer, "", &what);
            }
            Peers::V4(v) => {
                let nets: Vec<IpNet> = v.iter().map(|n| IpNet::V4(*n)).collect();
                c.peers(i, r, &nets);
            }
            Peers::V6(v) => {
                let nets: Vec<IpNet> = v.iter().map(|n| IpNet::V6(*n)).collect();
                c.peers(i, r, &nets);
            }
        }
    }
    Probes {
        attempts: c.attempts.into_values().collect(),
        unprobed: c.unprobed.into_iter().collect(),
    }
}

fn ports_text(r: &engine::Rule) -> String {
    text::ports(&r.ports, "-", ",")
}

/// A concrete address a rule reaches: a node's (which must accept this node on the port, checked
/// only when the address is tried) or a pinned external host's.
#[derive(Debug, Clone, Copy)]
struct Candidate<'x> {
    address: IpAddr,
    /// The node; `None` for an external host.
    node: Option<usize>,
    name: &'x str,
    /// The rule names this very address (not a network holding it): a refusal is worth a line.
    named: bool,
}

struct Collector<'a, 'x> {
    x: &'a Export<'x>,
    index: &'a AddressIndex,
    attempts: BTreeMap<(IpAddr, u16), Attempt>,
    unprobed: BTreeSet<Unprobed>,
    /// [`flows_text`] per (outbound rule index, ports): a rule reaches many peers.
    texts: HashMap<(usize, u16, u16), String>,
}

impl Collector<'_, '_> {
    fn skip(
        &mut self,
        why: Why,
        protocol: Protocol,
        ports: String,
        peer: &str,
        name: &str,
        what: &str,
    ) {
        self.unprobed.insert(Unprobed {
            why,
            protocol,
            ports,
            peer: peer.to_string(),
            name: name.to_string(),
            what: what.to_string(),
        });
    }

    /// The services of rule `i`'s flows on some of its ports, made once.
    fn what(&mut self, i: usize, r: &engine::Rule, ports: &PortRange) -> String {
        let x = self.x;
        self.texts
            .entry((i, ports.start, ports.end))
            .or_insert_with(|| flows_text(x, r, ports))
            .clone()
    }

    /// The peer networks of outbound rule `i`, all of one family: the concrete addresses in them,
    /// sampled per port range ([`Collector::sample`]), and the networks without one, with why.
    /// Whether a node accepts this one is asked only of the addresses tried: asking every peer
    /// of every node made a site export grow with the square of its size.
    fn peers(&mut self, i: usize, r: &engine::Rule, nets: &[IpNet]) {
        let x = self.x;
        let me = x.node_plan.node;
        let Some(v4) = nets.first().map(|n| n.addr().is_ipv4()) else {
            return;
        };
        // A family this node has no address of: it cannot start the flow, and reaches the
        // peer over its other family (tried there).
        if !x.node().addresses.iter().any(|a| a.is_ipv4() == v4) {
            return;
        }
        let mut pinned: Vec<(IpAddr, &str)> = x
            .topology
            .external_hosts
            .iter()
            .flat_map(|h| h.addresses.iter().map(move |a| (*a, h.name.as_str())))
            .filter(|(a, _)| a.is_ipv4() == v4)
            .collect();
        pinned.sort_unstable();
        let zone_of = |net: &IpNet| {
            x.topology
                .zones
                .iter()
                .find(|z| z.cidrs.iter().any(|c| net.contains(c)))
                .map(|z| format!("zone {}", z.name))
        };
        let mut candidates: Vec<Candidate> = Vec::new();
        // (why, peer, name): the networks no address of which is tried, for every port range.
        let mut listed: Vec<(Why, String, String)> = Vec::new();
        for net in nets {
            let host = net.prefix_len() == net.max_prefix_len();
            let before = candidates.len();
            let nodes = self.index.within(net);
            candidates.extend(
                nodes
                    .iter()
                    .filter(|(_, n)| *n != me)
                    .map(|&(a, n)| Candidate {
                        address: a,
                        node: Some(n),
                        name: x.topology.nodes[n].name.as_str(),
                        named: host,
                    }),
            );
            let from = pinned.partition_point(|(a, _)| a < &net.network());
            candidates.extend(
                pinned[from..]
                    .iter()
                    .take_while(|(a, _)| net.contains(a))
                    .map(|&(a, name)| Candidate {
                        address: a,
                        node: None,
                        name,
                        named: host,
                    }),
            );
            let held = candidates.len() > before;
            if host && held {
                continue;
            }
            // The node's own address: reached over loopback, nothing to try.
            if host && !nodes.is_empty() {
                continue;
            }
            let zone = zone_of(net);
            if held && zone.is_none() {
                continue;
            }
            let why = if host { Why::Address } else { Why::Network };
            let peer = if host {
                net.addr().to_string()
            } else {
                net.to_string()
            };
            listed.push((why, peer, zone.unwrap_or_default()));
        }
        for range in r.ports.ranges() {
            let what = self.what(i, r, range);
            for (why, peer, name) in &listed {
                let ports = range.format_with("-");
                self.skip(*why, r.protocol, ports, peer, name, &what);
            }
            let first = PortRange::single(range.start).map(|p| self.what(i, r, &p));
            let tried = with_range(first.as_deref().unwrap_or(&what), range);
            self.sample(r, range, &candidates, &what, &tried);
        }
    }

    /// The concrete peers of one rule and port range: at most [`PEERS_PER_FLOW`] of those that
    /// accept this node, a different part of a large group from each node (so a site's scripts
    /// together try every peer), and a line for the ones not looked at.
    fn sample(
        &mut self,
        r: &engine::Rule,
        range: &PortRange,
        candidates: &[Candidate],
        what: &str,
        tried: &str,
    ) {
        let x = self.x;
        let n = candidates.len();
        if n == 0 {
            return;
        }
        let sources: Vec<IpAddr> = x.node().addresses.clone();
        let start = if n > PEERS_PER_FLOW {
            (x.node_plan.node * PEERS_PER_FLOW) % n
        } else {
            0
        };
        // Nodes in a zone's network that do not serve the port are passed over silently; past
        // this many looked at, the rest are left to the line below.
        let most = 4 * PEERS_PER_FLOW;
        let (mut taken, mut seen) = (0, 0);
        while seen < n && seen < most && taken < PEERS_PER_FLOW {
            let c = candidates[(start + seen) % n];
            seen += 1;
            let accepts = c.node.is_none_or(|node| {
                node_plan(x, node).is_some_and(|p| {
                    sources
                        .iter()
                        .any(|s| engine::allows(&p.inbound, r.protocol, range.start, *s))
                })
            });
            if accepts {
                taken += 1;
                self.found(r, range, c.address, c.name, what, tried);
            } else if c.named {
                let (ports, address) = (range.format_with("-"), c.address.to_string());
                self.skip(Why::NotAccepted, r.protocol, ports, &address, c.name, what);
            }
        }
        if seen < n {
            let more = format!("{} more peer addresses", n - seen);
            let ports = range.format_with("-");
            self.skip(Why::Sampled, r.protocol, ports, &more, "", what);
        }
    }

    /// A concrete peer address: tried over TCP (a range at its first port: `tried` says so),
    /// listed over UDP (the whole range: `what`).
    fn found(
        &mut self,
        r: &engine::Rule,
        range: &PortRange,
        a: IpAddr,
        peer: &str,
        what: &str,
        tried: &str,
    ) {
        if r.protocol == Protocol::Udp {
            let ports = range.format_with("-");
            self.skip(Why::Udp, r.protocol, ports, &a.to_string(), peer, what);
            return;
        }
        let what = tried.to_string();
        self.attempts
            .entry((a, range.start))
            .and_modify(|e| {
                if !e.what.contains(&what) {
                    e.what = text::comment_text(&format!("{}, {what}", e.what));
                }
            })
            .or_insert_with(|| Attempt {
                address: a,
                port: range.start,
                peer: peer.to_string(),
                what,
            });
    }
}

/// `services [product/role/flow ...]` of the rule's flows that may carry one of `ports` (a
/// merged rule names every flow; a failure should name the one it is about). A flow's port set
/// by a parameter is per node, so it may be any; with no flow left (not for a derived rule), or
/// all of them, the rule's own comment.
fn flows_text(x: &Export, r: &engine::Rule, ports: &PortRange) -> String {
    let refs: Vec<_> = r
        .provenance
        .iter()
        .filter(|f| {
            let flow = f.flow(x.catalog);
            flow.protocols.contains(&r.protocol)
                && flow.ports.iter().any(|p| match p {
                    PortItem::Port(n) => ports.contains(*n),
                    PortItem::Range(a, b) => *a <= ports.end && ports.start <= *b,
                    PortItem::Param(_) => true,
                })
        })
        .collect();
    if refs.is_empty() || refs.len() == r.provenance.len() {
        return x.rule_comment(r);
    }
    let mut services: Vec<&str> = refs
        .iter()
        .map(|f| f.flow(x.catalog).service.as_str())
        .collect();
    services.sort_unstable();
    services.dedup();
    let labels: Vec<String> = refs.iter().map(|f| f.label(x.catalog)).collect();
    text::comment_text(&format!("{} [{}]", services.join(", "), labels.join(" ")))
}

/// The rule's text, saying which port of a range is tried.
fn with_range(what: &str, range: &PortRange) -> String {
    if range.is_single() {
        what.to_string()
    } else {
        format!("{what} (first port of {})", range.format_with("-"))
    }
}

/// A node's plan by its topology index: the plan keeps topology order, so usually at that index.
fn node_plan<'p>(x: &Export<'p>, n: usize) -> Option<&'p NodePlan> {
    let nodes = &x.plan.nodes;
    match nodes.get(n) {
        Some(p) if p.node == n => Some(p),
        _ => nodes.iter().find(|p| p.node == n),
    }
}

/// The header every probe script starts with, as plain lines for the comment marker: what it
/// tries, what it cannot prove and its exit statuses.
pub fn header(x: &Export, run: &str, probes: &Probes) -> Vec<String> {
    let node = x.node();
    let addrs: Vec<String> = node.addresses.iter().map(|a| a.to_string()).collect();
    let mut h = vec![
        format!("fwtopo probe export for node {}", node.name),
        format!("topology: {}", text::comment_text(&x.topology.name)),
    ];
    let node_line = format!(
        "node: {} ({}) addresses: {}",
        node.name,
        node.os.as_str(),
        if addrs.is_empty() {
            "none".into()
        } else {
            addrs.join(" ")
        }
    );
    h.extend(
        text::wrap(&node_line, 96)
            .into_iter()
            .enumerate()
            .map(|(i, l)| if i == 0 { l } else { format!("    {l}") }),
    );
    h.extend([
        format!(
            "Run on {} after applying the firewalls of {} and of its peers: {run}",
            node.name, node.name
        ),
        format!(
            "Tries {} TCP flows the design lets {} start: a connect to each peer node's or pinned",
            probes.attempts.len(),
            node.name
        ),
        "external host's own address, on each port its outbound rules allow and the peer's inbound"
            .into(),
        format!(
            "rules accept, {DEFAULT_SECONDS} seconds at most each (FWTOPO_PROBE_SECONDS); of a port range, the first port."
        ),
        format!(
            "Cannot prove, so lists as not probed ({}): UDP (a connect sends nothing), any and",
            probes.unprobed.len()
        ),
        "zones and other networks (no one address to try), host names (resolved by the firewall),"
            .into(),
        "addresses no node or pinned host holds (nothing says they listen). Peers of an address family".into(),
        format!("{} has no address of are skipped: it reaches them over the other.", node.name),
        format!(
            "A flow to more than {PEERS_PER_FLOW} peer addresses is tried at {PEERS_PER_FLOW} of them, another part of"
        ),
        "the group on each node (by its place in the topology), the rest listed (sampled).".into(),
        "A reached flow proves the path and a listener; a failure names the flow: check both".into(),
        "firewalls (fwtopo query) and that the service runs.".into(),
        "Prints: ok|FAILED tcp/PORT to ADDRESS (PEER): SERVICES, then flows reached N/N.".into(),
        "Exit status: 0 every flow reached, 1 some failed, 2 cannot probe here.".into(),
    ]);
    h
}

/// One node's probe script in bash: `/dev/tcp` under `timeout`, or `nc -z` where bash has no
/// network redirections.
pub fn render(x: &Export) -> String {
    let p = probes(x);
    let node = &x.node().name;
    let file = super::file_name(node, crate::target::Target::Probe);
    let mut o = vec!["#!/bin/bash".to_string()];
    o.extend(
        header(x, &format!("bash {file}"), &p)
            .into_iter()
            .map(|l| format!("# {l}")),
    );
    o.push(String::new());
    o.extend(
        BASH_PRELUDE
            .iter()
            .map(|l| l.replace("{SECONDS}", &DEFAULT_SECONDS.to_string())),
    );
    for a in &p.attempts {
        o.push(format!(
            "probe {} {} {} {}",
            a.address,
            a.port,
            text::sh_quote(&a.peer),
            text::sh_quote(&a.what)
        ));
    }
    for u in &p.unprobed {
        o.push(format!("note {}", text::sh_quote(&u.line())));
    }
    o.extend(BASH_END.iter().map(|l| l.to_string()));
    let mut s = o.join("\n");
    s.push('\n');
    s
}

/// Fixed text: option and environment checks, how to connect, and the counting.
const BASH_PRELUDE: &[&str] = &[
    "set -u",
    "for arg in \"$@\"; do",
    "  case \"$arg\" in",
    "    -h|--help) sed -n '2,/^$/s/^# \\{0,1\\}//p' \"$0\"; exit 0 ;;",
    "    *) echo \"fwtopo probe: unknown argument '$arg' (see --help)\" >&2; exit 2 ;;",
    "  esac",
    "done",
    "WAIT=\"${FWTOPO_PROBE_SECONDS:-{SECONDS}}\"",
    "case \"$WAIT\" in",
    "  ''|*[!0-9]*|0*|????*) echo 'fwtopo probe: FWTOPO_PROBE_SECONDS must be a whole number of seconds from 1 to 999' >&2; exit 2 ;;",
    "esac",
    "# How to connect: bash's /dev/tcp under timeout; nc -z where bash was built without it.",
    "if command -v timeout >/dev/null 2>&1 && ! LC_ALL=C timeout 1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/9' 2>&1 | grep -q 'No such file'; then",
    "  HOW=devtcp",
    "elif command -v nc >/dev/null 2>&1; then",
    "  HOW=nc",
    "else",
    "  echo 'fwtopo probe: cannot connect from here: bash has no /dev/tcp (or timeout is missing) and nc is not installed' >&2",
    "  exit 2",
    "fi",
    "connect() {",
    "  if [ \"$HOW\" = devtcp ]; then",
    "    timeout \"$WAIT\" bash -c 'exec 3<>\"/dev/tcp/$1/$2\"' fwtopo-probe \"$1\" \"$2\" 2>/dev/null",
    "  else",
    "    nc -z -w \"$WAIT\" \"$1\" \"$2\" >/dev/null 2>&1",
    "  fi",
    "}",
    "TRIED=0",
    "REACHED=0",
    "# probe ADDRESS PORT PEER SERVICES: one TCP flow, counted.",
    "probe() {",
    "  TRIED=$((TRIED + 1))",
    "  if connect \"$1\" \"$2\"; then",
    "    REACHED=$((REACHED + 1))",
    "    printf 'ok     tcp/%s to %s (%s): %s\\n' \"$2\" \"$1\" \"$3\" \"$4\"",
    "  else",
    "    printf 'FAILED tcp/%s to %s (%s): %s\\n' \"$2\" \"$1\" \"$3\" \"$4\"",
    "  fi",
    "}",
    "# note TEXT: a flow listed, not tried.",
    "note() { printf '%s\\n' \"$1\"; }",
    "",
];

const BASH_END: &[&str] = &[
    "echo \"flows reached $REACHED/$TRIED\"",
    "[ \"$REACHED\" -eq \"$TRIED\" ] || exit 1",
    "exit 0",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::export::{Options, render};
    use crate::target::Target;
    use crate::topology::{Topology, from_ron};

    /// An app node reaching two database nodes (one dual-stack) over TCP and UDP, a port range, a
    /// zone holding both databases, another zone, a pinned external host and a host name.
    const SITE: &str = r#"(
        version: 1,
        name: "probe counting",
        zones: [
            (name: "admin", cidrs: ["198.51.100.0/28"]),
            (name: "lab", cidrs: ["198.51.100.64/26"]),
            (name: "dbnet", cidrs: ["192.0.2.16/28"]),
        ],
        nodes: [
            (name: "app", os: "almalinux", addresses: ["192.0.2.10", "2001:db8::10"], roles: [(product: "site", role: "app")]),
            (name: "db1", os: "almalinux", addresses: ["192.0.2.20", "2001:db8::20"], roles: [(product: "site", role: "db")]),
            (name: "db2", os: "almalinux", addresses: ["192.0.2.21"], roles: [(product: "site", role: "db")]),
            (name: "win", os: "windows-server-2022", addresses: ["192.0.2.30"], roles: [(product: "site", role: "app")]),
        ],
        external_hosts: [(name: "licence.example.net", addresses: ["203.0.113.50"])],
        custom: (
            roles: [(id: "app", name: "App"), (id: "db", name: "DB")],
            flows: [
                (id: "sql", service: "SQL", protocols: [tcp], ports: [Port(5432)], from: [Role("app")], to: [Role("db")]),
                (id: "sql-admin", service: "SQL admin", protocols: [tcp, udp], ports: [Port(5432), Range(7000, 7010)], from: [Role("app")], to: [Role("db")]),
                (id: "lab", service: "Lab", protocols: [tcp], ports: [Port(9000)], from: [Role("app")], to: [Zone("lab")]),
                (id: "licence", service: "Licence", protocols: [tcp], ports: [Port(443)], from: [Role("app")], to: [Dns("licence.example.net")]),
                (id: "dbnet", service: "Exporter", protocols: [tcp], ports: [Port(9100)], from: [Role("app")], to: [Zone("dbnet")]),
                (id: "mirror", service: "Mirror", protocols: [tcp], ports: [Port(8080)], from: [Role("app")], to: [Dns("mirror.example.org")]),
            ],
        ),
    )"#;

    fn site() -> (Catalog, Topology) {
        let t = from_ron(SITE).unwrap_or_else(|e| panic!("{e}"));
        let catalog = Catalog::embedded().unwrap_or_else(|e| panic!("{e}"));
        (crate::topology::site_catalog(&catalog, &t), t)
    }

    /// `f` with the export of one node of the site.
    fn with_node<R>(node: &str, options: Options, f: impl FnOnce(&Export) -> R) -> R {
        let (catalog, t) = site();
        let plan = engine::derive(&catalog, &t);
        let np = plan.node(node).unwrap_or_else(|| panic!("no node {node}"));
        f(&Export::new(&catalog, &t, &plan, np, options))
    }

    #[test]
    fn each_concrete_tcp_peer_is_tried_once_a_range_at_its_first_port() {
        let p = with_node("app", Options::default(), probes);
        let tried: Vec<String> = p
            .attempts
            .iter()
            .map(|a| format!("{} {} {}", a.address, a.port, a.peer))
            .collect();
        // Two flows on 5432 to each database: one attempt each. Not the app's own addresses,
        // not win (an app node too), not 9100 into the dbnet zone (no database accepts it).
        assert_eq!(
            tried,
            [
                "192.0.2.20 5432 db1",
                "192.0.2.20 7000 db1",
                "192.0.2.21 5432 db2",
                "192.0.2.21 7000 db2",
                "203.0.113.50 443 licence.example.net",
                "2001:db8::20 5432 db1",
                "2001:db8::20 7000 db1",
            ]
        );
        assert!(
            p.attempts[0]
                .what
                .contains("site/app/sql site/app/sql-admin")
        );
        assert!(!p.attempts[0].what.contains("first port"));
        // A merged rule's attempt names the flows of its port only.
        assert_eq!(
            p.attempts[1].what,
            "SQL admin [site/app/sql-admin] (first port of 7000-7010)"
        );
    }

    #[test]
    fn what_a_connect_cannot_prove_is_listed_with_the_reason() {
        let p = with_node("app", Options::default(), probes);
        let count = |why: Why| p.unprobed.iter().filter(|u| u.why == why).count();
        // UDP to the three database addresses, on 5432 and on the range (listed whole).
        assert_eq!(count(Why::Udp), 6, "{:#?}", p.unprobed);
        assert!(p.unprobed.iter().any(|u| u.line()
            == "not probed (udp) udp/7000-7010 to 192.0.2.20 (db1): SQL admin [site/app/sql-admin]"));
        let lines: Vec<String> = p
            .unprobed
            .iter()
            .filter(|u| u.why != Why::Udp && u.why != Why::Any)
            .map(Unprobed::line)
            .collect();
        assert_eq!(
            lines,
            [
                "not probed (network) tcp/9000 to 198.51.100.64/26 (zone lab): Lab [site/app/lab]",
                "not probed (network) tcp/9100 to 192.0.2.16/28 (zone dbnet): Exporter [site/app/dbnet]",
                "not probed (host name) tcp/8080 to mirror.example.org: Mirror [site/app/mirror]",
            ]
        );
        // DNS and updates to any, per protocol.
        assert_eq!(count(Why::Any), 2);
        assert!(p.unprobed.iter().all(|u| !u.line().contains("192.0.2.10")));
    }

    #[test]
    fn a_flow_to_many_peers_is_tried_at_a_bounded_sample_that_differs_per_node() {
        let (catalog, mut t) = site();
        // 40 more database nodes, and two more app nodes.
        let db = t.nodes[1].clone();
        for k in 0..40u8 {
            let mut n = db.clone();
            n.name = format!("dbx{k}");
            n.addresses = vec![IpAddr::from([198, 51, 100, 100 + k])];
            t.nodes.push(n);
        }
        // Listed together, as nodes of one role usually are: each tries the next part.
        for k in 2..4u8 {
            let mut n = t.nodes[0].clone();
            n.name = format!("app{k}");
            n.addresses = vec![IpAddr::from([192, 0, 2, 10 + k])];
            t.nodes.insert(usize::from(k) - 1, n);
        }
        let plan = engine::derive(&catalog, &t);
        let mut covered = BTreeSet::new();
        let mut samples = Vec::new();
        for name in ["app", "app2", "app3"] {
            let np = plan.node(name).unwrap_or_else(|| panic!("no node {name}"));
            let p = probes(&Export::new(&catalog, &t, &plan, np, Options::default()));
            // 42 IPv4 database addresses (db1, db2 and the 40) per port range: 16 tried.
            let v4_5432: Vec<IpAddr> = p
                .attempts
                .iter()
                .filter(|a| {
                    a.address.is_ipv4() && a.port == 5432 && a.peer != "licence.example.net"
                })
                .map(|a| a.address)
                .collect();
            assert_eq!(v4_5432.len(), PEERS_PER_FLOW, "{name}");
            let sampled: Vec<String> = p
                .unprobed
                .iter()
                .filter(|u| u.why == Why::Sampled)
                .map(Unprobed::line)
                .collect();
            assert!(
                sampled.contains(
                    &"not probed (sampled) tcp/5432 to 26 more peer addresses: SQL, SQL admin [site/app/sql site/app/sql-admin]"
                        .to_string()
                ),
                "{name}: {sampled:#?}"
            );
            covered.extend(v4_5432.iter().copied());
            samples.push(v4_5432);
        }
        assert_ne!(samples[0], samples[1], "each node tries another part");
        // Three nodes of 16 each cover all 42.
        assert_eq!(covered.len(), 42);
    }

    #[test]
    fn the_scripts_try_and_list_exactly_the_counted_flows() {
        let p = with_node("app", Options::default(), probes);
        let sh = with_node("app", Options::default(), |x| render(Target::Probe, x));
        let lines =
            |prefix: &str, text: &str| text.lines().filter(|l| l.starts_with(prefix)).count();
        assert_eq!(lines("probe ", &sh), p.attempts.len());
        assert_eq!(lines("note 'not probed (", &sh), p.unprobed.len());
        assert!(sh.starts_with("#!/bin/bash\n# fwtopo probe export for node app\n"));
        assert!(sh.contains("# Tries 7 TCP flows"), "{sh}");
        assert!(sh.contains("\nprobe 2001:db8::20 7000 'db1' 'SQL admin [site/app/sql-admin] (first port of 7000-7010)'\n"));
        assert!(sh.ends_with("echo \"flows reached $REACHED/$TRIED\"\n[ \"$REACHED\" -eq \"$TRIED\" ] || exit 1\nexit 0\n"));
        // The Windows app node: PowerShell, CRLF when asked, the same flows but IPv6 (it has none).
        let crlf = Options {
            crlf: true,
            ..Options::default()
        };
        let ps = with_node("win", crlf, |x| render(Target::Probe, x));
        let w = with_node("win", crlf, probes);
        assert_eq!(w.attempts.len(), 5, "{:#?}", w.attempts);
        assert_eq!(ps.matches('\n').count(), ps.matches("\r\n").count());
        assert!(ps.starts_with("# fwtopo probe export for node win\r\n"));
        assert_eq!(lines("Test-FwtopoFlow '", &ps), 5);
        assert_eq!(lines("Write-Output 'not probed (", &ps), w.unprobed.len());
        assert!(ps.contains("\r\nTest-FwtopoFlow '192.0.2.21' 5432 'db2' 'SQL, SQL admin [site/app/sql site/app/sql-admin]'\r\n"));
        // Never a firewall, never picked by auto.
        assert!(!Target::ALL.contains(&Target::Probe));
        assert!("probe".parse::<Target>().is_err());
        assert_eq!(Target::export_named("probe"), Ok(Target::Probe));
    }
}
