//! The probe script: run on a node after deploying, it tries every flow the design lets the node
//! start and prints `flows reached N/N` with each failure, so an operator learns at once whether
//! the firewalls on both ends (and the services behind them) do what the design says.
//!
//! What to try comes from the node's derived outbound rules: each peer network is resolved to the
//! concrete addresses it holds (nodes whose inbound rules accept this node on that port, pinned
//! external hosts). What a connect cannot prove is listed as "not probed" with the reason, never
//! counted as reached: UDP, `any`, zones and other networks, host names. A port range is tried at
//! its first port. Attempts are deduplicated by (address, port), so their number is bounded by the
//! peers' addresses times the rule's port ranges. Bash here, PowerShell in [`super::probe_ps`];
//! both print the same lines.

use super::{AddressIndex, Export, text};
use crate::engine::{self, NodePlan};
use crate::net::Peers;
use crate::ports::{PortRange, Protocol};
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

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
    };
    for r in x.outbound() {
        let what = x.rule_comment(r);
        match &r.peers {
            Peers::Any => c.skip(Why::Any, r.protocol, ports_text(r), "any", "", &what),
            Peers::Dns(names) => {
                let peer = text::comment_text(&names.join(" "));
                c.skip(Why::HostName, r.protocol, ports_text(r), &peer, "", &what);
            }
            Peers::V4(v) => v.iter().for_each(|n| c.network(r, IpNet::V4(*n), &what)),
            Peers::V6(v) => v.iter().for_each(|n| c.network(r, IpNet::V6(*n), &what)),
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

struct Collector<'a, 'x> {
    x: &'a Export<'x>,
    index: &'a AddressIndex,
    attempts: BTreeMap<(IpAddr, u16), Attempt>,
    unprobed: BTreeSet<Unprobed>,
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

    /// One peer network of an outbound rule: the nodes and external hosts in it, per port range.
    fn network(&mut self, r: &engine::Rule, net: IpNet, what: &str) {
        let x = self.x;
        let me = x.node_plan.node;
        let host = net.prefix_len() == net.max_prefix_len();
        let sources: Vec<IpAddr> = x
            .node()
            .addresses
            .iter()
            .copied()
            .filter(|a| a.is_ipv4() == net.addr().is_ipv4())
            .collect();
        let nodes = self.index.within(&net);
        let hosts: Vec<(IpAddr, &str)> = x
            .topology
            .external_hosts
            .iter()
            .flat_map(|h| h.addresses.iter().map(move |a| (*a, h.name.as_str())))
            .filter(|(a, _)| net.contains(a))
            .collect();
        let zone = x
            .topology
            .zones
            .iter()
            .find(|z| z.cidrs.iter().any(|c| c.contains(&net) || net.contains(c)))
            .map(|z| format!("zone {}", z.name));
        for range in r.ports.ranges() {
            let port = range.start;
            let what = with_range(what, range);
            let range_text = range.format_with("-");
            let peer = if host {
                net.addr().to_string()
            } else {
                net.to_string()
            };
            // A family this node has no address of: it cannot start the flow, and reaches the
            // peer over its other family (tried there).
            if sources.is_empty() {
                continue;
            }
            let mut found = false;
            let mut refused: Option<&str> = None;
            for &(a, n) in &nodes {
                if n == me {
                    continue;
                }
                let name = x.topology.nodes[n].name.as_str();
                let accepts = node_plan(x, n).is_some_and(|p| {
                    sources
                        .iter()
                        .any(|s| engine::allows(&p.inbound, r.protocol, port, *s))
                });
                if !accepts {
                    refused.get_or_insert(name);
                    continue;
                }
                found = true;
                self.found(r.protocol, &range_text, a, port, name, &what);
            }
            for &(a, name) in &hosts {
                found = true;
                self.found(r.protocol, &range_text, a, port, name, &what);
            }
            if found && (host || zone.is_none()) {
                continue;
            }
            let (why, name) = match (host, &zone, refused) {
                (false, Some(z), _) => (Why::Network, z.clone()),
                (false, None, _) => (Why::Network, String::new()),
                (true, _, Some(n)) => (Why::NotAccepted, n.to_string()),
                // The node's own address: reached over loopback, nothing to try.
                (true, _, None) if nodes.iter().any(|(_, n)| *n == me) => continue,
                (true, z, None) => (Why::Address, z.clone().unwrap_or_default()),
            };
            self.skip(why, r.protocol, range_text.clone(), &peer, &name, &what);
        }
    }

    /// A concrete peer address: tried over TCP, listed over UDP.
    fn found(
        &mut self,
        protocol: Protocol,
        range: &str,
        a: IpAddr,
        port: u16,
        peer: &str,
        what: &str,
    ) {
        match protocol {
            Protocol::Udp => self.skip(
                Why::Udp,
                protocol,
                range.to_string(),
                &a.to_string(),
                peer,
                what,
            ),
            Protocol::Tcp => {
                self.attempts
                    .entry((a, port))
                    .and_modify(|e| {
                        if !e.what.contains(what) {
                            e.what = text::comment_text(&format!("{}, {what}", e.what));
                        }
                    })
                    .or_insert_with(|| Attempt {
                        address: a,
                        port,
                        peer: peer.to_string(),
                        what: what.to_string(),
                    });
            }
        }
    }
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
    "if command -v timeout >/dev/null 2>&1 && ! timeout 1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/9' 2>&1 | grep -q 'No such file'; then",
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
