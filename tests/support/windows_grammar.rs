//! The netsh and PowerShell grammars of the Windows exports, and the checks of what the parsed rules
//! allow against the engine's plan (moved here from tests/export_windows.rs).
//!
//! Shared by tests/export_windows.rs (`#[path = "support/windows_grammar.rs"] mod windows_grammar;`)
//! and the cargo-fuzz targets in fuzz/, so that fuzzed topologies are held to exactly the grammar
//! the snapshot tests use. A failed check panics, naming the line.

use fwtopo::catalog::{Catalog, Tag};
use fwtopo::engine::{Direction, Plan, Rule};
use fwtopo::export::{self, Egress, Export, Options};
use fwtopo::net::Peers;
use fwtopo::ports::Protocol;
use fwtopo::target::Target;
use fwtopo::topology::Topology;
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

#[path = "windows_netsh_grammar.rs"]
mod netsh;
#[path = "windows_ps_grammar.rs"]
mod ps;

use netsh::NETSH_WINRM;
pub use netsh::parse_netsh;
use ps::PS_WINRM;
pub use ps::parse_powershell;

pub const MAX_LINE: usize = 8191;
/// The backup as the .cmd writes it, its folder, and where earlier exports kept it.
pub const BACKUP: &str = r#""%ProgramData%\fwtopo\fwtopo-backup.wfw""#;
pub const BACKUP_DIR: &str = r"%ProgramData%\fwtopo";
pub const OLD_BACKUP: &str = r#""%TEMP%\fwtopo-backup.wfw""#;

pub fn render(
    target: Target,
    catalog: &Catalog,
    t: &Topology,
    plan: &Plan,
    node: &str,
    options: Options,
) -> String {
    let np = plan.node(node).unwrap();
    export::render(target, &Export::new(catalog, t, plan, np, options))
}

pub fn options(egress: Egress) -> Options {
    Options {
        egress,
        crlf: false,
    }
}
// ------------------------------------------------------------------------------------------------
// Values shared by both grammars

/// One allowed (direction, protocol, port range, peer) tuple; the peer is `None` for "any".
pub type Allow = (Direction, Protocol, (u16, u16), Option<IpNet>);

/// A port list: `80`, `8352-8364`, comma-separated, no spaces, 1-65535, ranges forwards.
fn parse_ports(s: &str) -> Result<Vec<(u16, u16)>, String> {
    if s.is_empty() {
        return Err("empty port list".into());
    }
    s.split(',')
        .map(|item| {
            let (a, b) = item.split_once('-').unwrap_or((item, item));
            let p = |x: &str| -> Result<u16, String> {
                if x.is_empty() || !x.bytes().all(|c| c.is_ascii_digit()) {
                    return Err(format!("bad port '{x}'"));
                }
                match x.parse::<u32>() {
                    Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
                    _ => Err(format!("port '{x}' out of range")),
                }
            };
            let (a, b) = (p(a)?, p(b)?);
            if a > b {
                return Err(format!("range '{item}' runs backwards"));
            }
            Ok((a, b))
        })
        .collect()
}

/// One remote address token as Windows Firewall reads it: address, `addr/prefix` or a range
/// `a-b`. Loopback, unspecified and multicast addresses are refused by Windows. Returns the network
/// (ranges are refused: we never emit them).
fn parse_addr(s: &str) -> Result<IpNet, String> {
    if s.contains('-') {
        return Err(format!("address range '{s}' (fwtopo emits CIDRs only)"));
    }
    let net: IpNet = if s.contains('/') {
        let n: IpNet = s.parse().map_err(|_| format!("bad CIDR '{s}'"))?;
        if n.trunc() != n {
            return Err(format!("CIDR '{s}' has host bits"));
        }
        n
    } else {
        IpNet::from(
            s.parse::<IpAddr>()
                .map_err(|_| format!("bad address '{s}'"))?,
        )
    };
    let a = net.addr();
    if a.is_loopback() || a.is_unspecified() || a.is_multicast() {
        return Err(format!("address '{s}' is refused by Windows Firewall"));
    }
    Ok(net)
}

/// A remote address list: `any`, or addresses of ONE family, at most 1000 entries.
fn parse_remote(tokens: &[String]) -> Result<Option<Vec<IpNet>>, String> {
    if tokens.len() == 1 && tokens[0].eq_ignore_ascii_case("any") {
        return Ok(None);
    }
    if tokens.is_empty() || tokens.len() > 1000 {
        return Err(format!("{} remote addresses in one rule", tokens.len()));
    }
    let nets: Vec<IpNet> = tokens
        .iter()
        .map(|t| parse_addr(t))
        .collect::<Result<_, _>>()?;
    let v4 = nets.iter().filter(|n| matches!(n, IpNet::V4(_))).count();
    if v4 != 0 && v4 != nets.len() {
        return Err("IPv4 and IPv6 mixed in one rule".into());
    }
    Ok(Some(nets))
}

/// The kinds of a node's rules, in script order; each kind's rules share `fwtopo-<node>-<kind>`.
pub const KINDS: [&str; 3] = ["mgmt", "in", "out"];

/// The names a node's rules may have: exactly `fwtopo-<node>-mgmt`, `-in` and `-out`.
pub fn rule_names(node: &str) -> Vec<String> {
    KINDS.iter().map(|k| format!("fwtopo-{node}-{k}")).collect()
}

/// A rule name's kind: the name must be one of the node's three exactly (no other node's, no
/// wildcard, never `all`), and its kind must fit the rule's direction.
fn rule_kind(name: &str, node: &str, direction: Direction) -> Result<&'static str, String> {
    let kind = KINDS
        .iter()
        .find(|k| name == format!("fwtopo-{node}-{k}"))
        .ok_or_else(|| format!("rule name '{name}' is not one of {:?}", rule_names(node)))?;
    let want = if *kind == "out" {
        Direction::Outbound
    } else {
        Direction::Inbound
    };
    if direction != want {
        return Err(format!("rule name '{name}' on a {direction:?} rule"));
    }
    Ok(kind)
}

/// What both grammars extract from a script, for the semantic checks.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Added rules, in order: (name, direction, management?, allowed tuples, is ICMP).
    rules: Vec<ParsedRule>,
    /// Index in `rules` at which the default policy was set, and the outbound action.
    policy: Option<(usize, &'static str)>,
    /// Host names resolved at apply time (PowerShell).
    resolved: Vec<String>,
    /// Lines of the WinRM preparation seen.
    winrm_lines: usize,
    /// The command that disables built-in rules, if any.
    pub disables: Option<String>,
    /// Whether the script lists the enabled inbound allow rules it did not make.
    pub lists_others: bool,
    /// The rollback commands the .cmd prints.
    pub rollback: Vec<String>,
}

#[derive(Debug, Clone)]
struct ParsedRule {
    name: String,
    /// `mgmt`, `in` or `out`: the name's kind.
    kind: &'static str,
    description: String,
    direction: Direction,
    /// ICMP rules: the family (4 or 6) and type.
    icmp: Option<(u8, u8)>,
    allows: Vec<Allow>,
    /// Ports of TCP/UDP rules, for the WinRM check; and the remote (None = any; Some(empty) = resolved).
    ports: Vec<(u16, u16)>,
    remote: Option<Vec<IpNet>>,
}

fn expand(
    direction: Direction,
    protocol: Option<Protocol>,
    ports: &[(u16, u16)],
    remote: &Option<Vec<IpNet>>,
) -> Vec<Allow> {
    let Some(protocol) = protocol else {
        return Vec::new();
    };
    let peers: Vec<Option<IpNet>> = match remote {
        None => vec![None],
        Some(v) => v.iter().copied().map(Some).collect(),
    };
    let mut out = Vec::new();
    for &p in ports {
        for &a in &peers {
            out.push((direction, protocol, p, a));
        }
    }
    out
}

/// One rule-adding command of either script (`netsh advfirewall firewall add rule ...` or a
/// `New-NetFirewallRule` line), held to its grammar: the rule's name, direction and what it
/// allows, for the host model of tests/support/windows_host.rs.
pub fn added_rule(command: &str, node: &str) -> Result<(String, Direction, Vec<Allow>), String> {
    let r = match command.strip_prefix("netsh advfirewall firewall add rule ") {
        Some(rest) => netsh::netsh_add(&netsh::cmd_words(rest)?, node)?,
        None => ps::new_rule(command, node)?,
    };
    Ok((r.name, r.direction, r.allows))
}

// ------------------------------------------------------------------------------------------------
// Semantic checks shared by both targets

/// What the engine allows for a node under the options (host-name peers apart).
fn engine_allows(plan: &Plan, node: &str, egress: Egress) -> BTreeSet<Allow> {
    let np = plan.node(node).unwrap();
    allows_of(
        np.inbound
            .iter()
            .chain(np.outbound.iter().filter(|_| egress == Egress::Strict)),
    )
}

/// The (direction, protocol, port range, peer) tuples some derived rules allow on Windows: every
/// derived peer but the addresses Windows refuses as remote ones (0.0.0.0, :: and ::1, in a zone
/// of every address), which no packet comes from.
fn allows_of<'a>(rules: impl Iterator<Item = &'a Rule>) -> BTreeSet<Allow> {
    let mut out = BTreeSet::new();
    for r in rules {
        let peers: Vec<Option<IpNet>> = match &r.peers {
            Peers::Any => vec![None],
            // Windows Firewall cannot name a multicast address: the exports leave those peers
            // out (and say so in the header).
            Peers::V4(v) => {
                let mut v: Vec<_> = v
                    .iter()
                    .filter(|n| !n.network().is_multicast())
                    .copied()
                    .collect();
                fwtopo::net::exclude_v4(&mut v, std::net::Ipv4Addr::UNSPECIFIED);
                v.iter().map(|n| Some(IpNet::V4(*n))).collect()
            }
            Peers::V6(v) => {
                let mut v: Vec<_> = v
                    .iter()
                    .filter(|n| !n.network().is_multicast())
                    .copied()
                    .collect();
                fwtopo::net::exclude_v6(&mut v, std::net::Ipv6Addr::UNSPECIFIED);
                fwtopo::net::exclude_v6(&mut v, std::net::Ipv6Addr::LOCALHOST);
                v.iter().map(|n| Some(IpNet::V6(*n))).collect()
            }
            Peers::Dns(_) => continue,
        };
        for pr in r.ports.ranges() {
            for p in &peers {
                out.insert((r.direction, r.protocol, (pr.start, pr.end), *p));
            }
        }
    }
    out
}

fn check_semantics(
    target: &str,
    parsed: &Parsed,
    topology: &Topology,
    plan: &Plan,
    node: &str,
    egress: Egress,
) {
    let ctx = format!("{target} {node} {egress:?}");
    // Everything the engine derived is allowed, nothing more.
    let got: BTreeSet<Allow> = parsed
        .rules
        .iter()
        .flat_map(|r| r.allows.iter().copied())
        .collect();
    let want = engine_allows(plan, node, egress);
    assert_eq!(
        got, want,
        "{ctx}: emitted rules differ from the derived rules"
    );
    // Management first: every management rule comes before every other rule, and the rules
    // named for management allow exactly what the engine's management rules do.
    let np = plan.node(node).unwrap();
    let has_mgmt = np.inbound.iter().any(|r| r.is_management());
    let is_mgmt = |r: &ParsedRule| r.kind == "mgmt";
    let first_other = parsed.rules.iter().position(|r| !is_mgmt(r));
    let last_mgmt = parsed.rules.iter().rposition(is_mgmt);
    if let (Some(o), Some(m)) = (first_other, last_mgmt) {
        assert!(m < o, "{ctx}: a management rule after another rule");
    }
    assert_eq!(has_mgmt, last_mgmt.is_some(), "{ctx}: management rules");
    let got_mgmt: BTreeSet<Allow> = parsed
        .rules
        .iter()
        .filter(|r| is_mgmt(r))
        .flat_map(|r| r.allows.iter().copied())
        .collect();
    assert_eq!(
        got_mgmt,
        allows_of(np.inbound.iter().filter(|r| r.is_management())),
        "{ctx}: the rules named {node}-mgmt are not the management rules"
    );
    // ICMPv6 neighbour discovery is let in.
    for t in [135, 136] {
        assert!(
            parsed
                .rules
                .iter()
                .any(|r| r.icmp == Some((6, t)) && r.kind == "in"),
            "{ctx}: no ICMPv6 {t}"
        );
    }
    // The default policy comes after every rule, and outbound matches the egress option.
    let (at, out) = parsed
        .policy
        .unwrap_or_else(|| panic!("{ctx}: no default policy"));
    assert_eq!(
        at,
        parsed.rules.len(),
        "{ctx}: default policy before the last rule"
    );
    assert_eq!(
        out,
        if egress == Egress::Strict {
            "block"
        } else {
            "allow"
        },
        "{ctx}: outbound policy"
    );
    if egress == Egress::Open {
        assert!(
            parsed
                .rules
                .iter()
                .all(|r| r.direction == Direction::Inbound),
            "{ctx}: outbound rule under open egress"
        );
    }
    // WinRM over HTTP: the preparation block exactly where a rule carries the tag, and port 5985
    // only ever from the PA management node.
    let winrm = np.inbound.iter().any(|r| r.has_tag(Tag::WinrmBasicHttp));
    let expected_lines = match (winrm, target) {
        (false, _) => 0,
        (true, "netsh") => NETSH_WINRM.len(),
        // Set-Item twice, and New-Item of the listener.
        (true, _) => PS_WINRM.len() + 2,
    };
    assert_eq!(
        parsed.winrm_lines, expected_lines,
        "{ctx}: WinRM preparation lines"
    );
    let mn: BTreeSet<IpNet> = topology
        .nodes
        .iter()
        .filter(|n| {
            n.roles
                .iter()
                .any(|r| r.product == "plesk-automation" && r.role == "mn")
        })
        .flat_map(|n| n.addresses.iter().map(|a| IpNet::from(*a)))
        .collect();
    for r in &parsed.rules {
        if winrm
            && r.direction == Direction::Inbound
            && r.ports.iter().any(|&(a, b)| a <= 5985 && 5985 <= b)
        {
            let remote = r
                .remote
                .as_ref()
                .unwrap_or_else(|| panic!("{ctx}: 5985 open to any in {}", r.name));
            assert!(
                remote.iter().all(|n| mn.contains(n)),
                "{ctx}: 5985 open beyond the management node in {}",
                r.name
            );
        }
    }
    // Host-name peers: PowerShell resolves each when applied; netsh adds nothing for them.
    let dns: BTreeSet<String> = np
        .inbound
        .iter()
        .chain(np.outbound.iter().filter(|_| egress == Egress::Strict))
        .filter_map(|r| match &r.peers {
            Peers::Dns(v) => Some(v.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let resolved: BTreeSet<String> = parsed.resolved.iter().cloned().collect();
    if target == "netsh" {
        assert!(resolved.is_empty());
    } else {
        assert_eq!(resolved, dns, "{ctx}: host names resolved at apply time");
    }
}

/// Parses and checks both targets for one node; returns (netsh, powershell) text.
pub fn check_node(
    catalog: &Catalog,
    topology: &Topology,
    plan: &Plan,
    node: &str,
    egress: Egress,
) -> (String, String) {
    let netsh = render(
        Target::Netsh,
        catalog,
        topology,
        plan,
        node,
        options(egress),
    );
    let ps = render(
        Target::Powershell,
        catalog,
        topology,
        plan,
        node,
        options(egress),
    );
    let pn = parse_netsh(&netsh, node).unwrap_or_else(|e| panic!("{e}"));
    let pp = parse_powershell(&ps, node).unwrap_or_else(|e| panic!("{e}"));
    check_semantics("netsh", &pn, topology, plan, node, egress);
    check_semantics("powershell", &pp, topology, plan, node, egress);
    // The two exports create the same rules under the same names and descriptions, in the same
    // order (netsh lacks host-name rules).
    let netsh_names: Vec<(&str, &str, &[Allow])> = pn
        .rules
        .iter()
        .map(|r| (r.name.as_str(), r.description.as_str(), r.allows.as_slice()))
        .collect();
    let ps_names: Vec<(&str, &str, &[Allow])> = pp
        .rules
        .iter()
        .filter(|r| r.remote.as_ref().is_none_or(|v| !v.is_empty()))
        .map(|r| (r.name.as_str(), r.description.as_str(), r.allows.as_slice()))
        .collect();
    assert_eq!(
        netsh_names, ps_names,
        "{node}: netsh and PowerShell name their rules differently"
    );
    (netsh, ps)
}
